"""People's text made plain (alerts/text.py): a table of what goes in and what is kept; then, on both backends,
a duty officer's note, department and person stored through ``alerts.api.act`` without the characters that
spoof text (U+202E showed the audit history reversed), line breaks kept."""
import time
import unicodedata

import pytest

from alerts import store
from alerts.api import act
from alerts.lifecycle import InvalidTransition
from alerts.text import plain_text
from tests.helpers import raise_incident_alert

CASES = [  # (typed, newlines, kept)
    ("现场已排水", True, "现场已排水"),
    ("已处置\u202e员人场现", True, "已处置员人场现"),  # RIGHT-TO-LEFT OVERRIDE
    ("\u202a左\u202b右\u202c\u202d中\u202e", False, "左右中"),  # embeddings, overrides, pop
    ("\u2066a\u2067b\u2068c\u2069", False, "abc"),  # isolates
    ("\u200ex\u200fy\u061cz", False, "xyz"),  # LRM, RLM, ARABIC LETTER MARK
    ("李\u200b\u200c\u200d工\u2060\ufeff", False, "李工"),  # zero-width space / non-joiner / joiner, word joiner, BOM
    ("a\x00b\x1b[31mc\x7fd", True, "ab[31mcd"),  # NUL, ESC, DEL
    ("\x80x\x9by\x9f", True, "xy"),  # C1 controls
    ("第一行\r\n第二行\r第三行\n第四行", True, "第一行\n第二行\n第三行\n第四行"),
    ("第一行\r\n第二行\n第三行", False, "第一行 第二行 第三行"),
    ("a\u2028b\u2029c\x85d", True, "a\nb\nc\nd"),  # LINE / PARAGRAPH SEPARATOR, NEL
    ("a\x0bb\x0cc", True, "a\nb\nc"),  # vertical tab, form feed: line breaks too
    ("列1\t列2", True, "列1 列2"),
    ("Cafe\u0301", False, "Café"),  # decomposed → NFC
    ("\ufb01", False, "\ufb01"),  # NFC, not NFKC: the ligature stays
    ("soft\u00adhyphen", False, "softhyphen"),
    ("tag\U000e0041\U000e007f", False, "tag"),  # tag characters
    ("lone\ud800surrogate", False, "lonesurrogate"),  # UTF-8 cannot carry it
    ("  两端空格  ", False, "  两端空格  "),  # the caller strips
    ("", True, ""),
    ("emoji 🚒 and 𠀋", False, "emoji 🚒 and 𠀋"),  # astral characters kept
]


@pytest.mark.parametrize("typed, newlines, kept", CASES)
def test_plain_text_keeps_what_reads_as_typed_and_drops_what_spoofs_it(typed, newlines, kept):
    assert plain_text(typed, newlines=newlines) == kept


@pytest.mark.parametrize("newlines", [True, False])
def test_no_control_or_format_character_survives_in_any_plane(newlines):
    every = "".join(chr(c) for c in range(0x110000))
    left = {unicodedata.category(c) for c in plain_text(every, newlines=newlines) if c != "\n"}
    assert not left & {"Cc", "Cf", "Cs"}
    assert ("\n" in plain_text(every, newlines=newlines)) is newlines


def test_the_result_is_stable():
    for typed, newlines, _ in CASES:
        once = plain_text(typed, newlines=newlines)
        assert plain_text(once, newlines=newlines) == once


@pytest.fixture
def alert_id(warehouse):
    return raise_incident_alert(warehouse)


def test_a_note_with_spoofing_characters_is_stored_clean_with_its_line_breaks(warehouse, alert_id):
    now = time.time()
    act(warehouse, alert_id, "acknowledge", "duty", now=now)
    act(warehouse, alert_id, "assign", "duty", department="天河区\u202e局理管急应\x00", person="李\u200d工\x1b",
        now=now + 1)
    act(warehouse, alert_id, "note", "duty", note="现场\u202e水排已\u202c\r\n道路\u200b恢复\x00通行\x1b[0m\u2066",
        now=now + 2)
    log = store.actions(warehouse, alert_id).set_index("action")
    assert (log.loc["assign", "department"], log.loc["assign", "person"]) == ("天河区局理管急应", "李工")
    assert log.loc["note", "note"] == "现场水排已\n道路恢复通行[0m"
    snapshot = store.current(warehouse, alert_id=alert_id).to_dict("records")[0]
    assert (snapshot["department"], snapshot["person"]) == ("天河区局理管急应", "李工")


def test_a_note_of_nothing_but_invisible_characters_is_refused(warehouse, alert_id):
    with pytest.raises(InvalidTransition, match="the note is empty"):
        act(warehouse, alert_id, "note", "duty", note="\u200b\u202e\x00\r\n\u2060")
    assert store.actions(warehouse, alert_id)["action"].tolist() == ["open"]
