"""The brief as a file (cockpit/brief_export.py) — a well-formed, self-contained HTML document carrying the
brief's numbers, with hostile text escaped — and the /brief page's layout and callbacks called directly on
both warehouse backends (the browser tests, which need sign-in, live elsewhere)."""
import datetime as dt
import sys
import time
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from cockpit import brief_export, brief_view
from cockpit.app import create_app
from tests.helpers import simulated_events, store_directly
from warehouse.brief_queries import BriefData, Numbers, Window, load_brief

TZ = "Asia/Shanghai"
HOSTILE = "<img src=x onerror=\"document.body.dataset.pwned=1\">'; DROP TABLE hotline_events; --"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}


class Document(HTMLParser):
    """Checks nesting while parsing; keeps the tags, attributes and text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.attrs, self.text, self.style = [], [], [], [], ""
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            self.style += data
        else:
            self.text.append(data)


def numbers(start, end, **values) -> Numbers:
    return Numbers(Window(start, end), **values)


def hostile_brief() -> tuple[brief_view.Brief, brief_view.Period]:
    period = brief_view.Period("day", dt.date(2026, 3, 10))
    start, end = period.bounds(TZ)
    data = BriefData(
        now=end,
        current=numbers(start, end, received=12345, completed=6789, due=400, due_on_time=372, rated=90, satisfied=81,
                        overdue_open=17, incidents={"I": 1, "IV": 2}),
        previous=numbers(start - 86400, start, received=10500, incidents={"IV": 1}),
        last_week=numbers(start - 7 * 86400, start - 6 * 86400, received=11000),
        activity=pd.DataFrame([("440106", 12345, 6789, None, None)],
                              columns=["district_code", "received", "completed", "newest_event", "newest_ingest"]),
        states=pd.DataFrame([("440106", 0, 0, 17, 400, 372, 90, 81)],
                            columns=["district_code", "orders", "open_orders", "overdue_open", "due", "due_on_time",
                                     "rated", "satisfied"]),
        categories=pd.DataFrame([(HOSTILE, 12345)], columns=["category", "received"]),
        cells=pd.DataFrame([(0x88411d4d29fffff, 77, "440106", HOSTILE)],
                           columns=["cell", "received", "district_code", "category"]),
        major=pd.DataFrame([("EM-1", start + 3600, 0, "I", "on_scene", "440106", "fire", 3, HOSTILE)],
                           columns=["incident_id", "reported_s", "closed_s", "grade", "status", "district_code", "type",
                                    "casualties", "description"]),
    )
    return brief_view.build(data, period, {"440106": "天河区<b>"}, "广州市</title><script>", TZ), period


def test_the_export_is_a_well_formed_document():
    brief, _ = hostile_brief()
    doc = Document(brief_export.to_html(brief, "2026-03-11 08:00"))
    assert doc.stack == []  # every element closed, in order
    assert doc.tags[:4] == ["html", "head", "meta", "title"]
    assert {"main", "table", "section", "footer"} <= set(doc.tags)


def test_the_export_is_self_contained_and_has_no_scripts():
    brief, _ = hostile_brief()
    text = brief_export.to_html(brief, "2026-03-11 08:00")
    doc = Document(text)
    assert not {"script", "img", "link", "iframe", "object", "b"} & set(doc.tags)
    assert not [a for a in doc.attrs if a.startswith("on") or a in ("src", "href")]
    assert "url(" not in doc.style and "@import" not in doc.style
    assert "http" not in text.lower()


def test_hostile_text_is_escaped_and_shown_as_text():
    brief, _ = hostile_brief()
    text = brief_export.to_html(brief, "2026-03-11 08:00")
    assert HOSTILE not in text and "<b>" not in text and "</title><script>" not in text
    shown = "".join(Document(text).text)
    assert HOSTILE in shown  # the category, the cell's category and the incident's description, as text
    assert shown.count(HOSTILE) >= 3
    assert "天河区<b>" in shown and "广州市</title><script>城市运行简报" in shown


def test_the_export_carries_the_briefs_numbers_and_summary():
    brief, _ = hostile_brief()
    shown = "".join(Document(brief_export.to_html(brief, "2026-03-11 08:00")).text)
    for kpi in brief.kpis:
        assert kpi["value"] in shown, kpi["id"]
        for d in kpi["deltas"]:
            assert brief_export.delta_text(d) in shown
    assert "12,345" in shown and "93.0" in shown and "90.0" in shown  # received, on-time, satisfaction
    assert "较前一日 ↑17.6%" in shown and "较上周同日 ↑12.2%" in shown
    for sentence in brief.summary:
        assert sentence in shown
    assert "红黑榜" in shown and "Ⅰ级 特别重大" in shown and "3 人" in shown and "88411d4d29fffff" in shown
    assert "导出于 2026-03-11 08:00" in shown
    assert "本项目定义" in shown  # the KPI definitions say they are the project's


def test_the_file_name_names_the_period():
    assert brief_export.filename(brief_view.Period("day", dt.date(2026, 3, 10))) == "brief-2026-03-10.html"
    assert brief_export.filename(brief_view.Period("week", dt.date(2026, 3, 9))) == "brief-2026-W11.html"


# --- the page, called directly ------------------------------------------------------------------------------------

@pytest.fixture
def page(warehouse, settings_for):
    create_app(settings_for(), warehouse)
    return sys.modules["pages.brief"]


def find(component, predicate) -> list:
    """Every component in a Dash tree (or list of trees) for which ``predicate`` holds."""
    if isinstance(component, (list, tuple)):
        return [found for c in component for found in find(c, predicate)]
    if component is None or isinstance(component, (str, int, float)):
        return []
    return ([component] if predicate(component) else []) + find(getattr(component, "children", None), predicate)


def texts(component) -> str:
    """All text in a Dash tree."""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return "".join(texts(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else texts(children)


def yesterday() -> str:
    return (dt.datetime.now(ZoneInfo(TZ)).date() - dt.timedelta(days=1)).isoformat()


def test_the_layout_shows_a_bad_periods_message_as_text(page):
    layout = page.layout(day=HOSTILE)
    message = find(layout, lambda c: getattr(c, "id", None) == "brief-message")
    assert len(message) == 1 and HOSTILE[:20] in message[0].children
    store = find(layout, lambda c: getattr(c, "id", None) == "brief-period")[0]
    assert store.data == {"kind": "day", "key": dt.datetime.now(ZoneInfo(TZ)).date().isoformat()}


def test_the_layout_of_a_good_period_has_no_message_and_keeps_it(page):
    layout = page.layout(week="2026-W10")
    assert find(layout, lambda c: getattr(c, "id", None) == "brief-message") == []
    assert find(layout, lambda c: getattr(c, "id", None) == "brief-period")[0].data == {"kind": "week",
                                                                                       "key": "2026-W10"}
    assert find(layout, lambda c: getattr(c, "id", None) == "brief-kind")[0].value == "week"


def test_the_picker_rewrites_the_url(page):
    assert page.choose("week", "2026-03-11") == "?week=2026-W11"
    assert page.choose("day", "2026-03-11") == "?day=2026-03-11"


def test_the_page_and_the_export_show_the_warehouses_numbers(page, warehouse):
    store_directly(warehouse, simulated_events(hours=30, orders_per_day=2000, seed=11))
    stored = {"kind": "day", "key": yesterday()}
    content = page.render(stored, None)
    period = brief_view.Period("day", dt.date.fromisoformat(stored["key"]))
    expected = load_brief(warehouse, *period.bounds(TZ), TZ, time.time()).current
    assert expected.received > 0
    shown = {c.id: texts(c) for c in find(content, lambda c: str(getattr(c, "id", "")).startswith("brief-kpi-"))}
    assert f"{expected.received:,}" in shown["brief-kpi-received"]
    assert f"{expected.completed:,}" in shown["brief-kpi-completed"]
    assert brief_view.format_value(expected.on_time_rate, True) in shown["brief-kpi-on_time"]
    assert "综合研判" in texts(content) and f"受理 12345 热线工单 {expected.received:,} 件" in texts(content)
    download = page.export(1, stored)
    assert download["filename"] == f"brief-{stored['key']}.html" and download["base64"] is False
    assert f"{expected.received:,}" in "".join(Document(download["content"]).text)


def test_tampered_store_data_gives_todays_brief(page):
    content = page.render({"kind": "day", "key": "'; DROP TABLE hotline_events; --"}, None)
    assert "今日截至" in texts(content)
