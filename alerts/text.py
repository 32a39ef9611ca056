"""Text that people type, made plain before it is stored: what a duty officer writes on an alert (a note, a
department, a person) and, in ``cockpit.users``, display names.

Stored text is shown back on screens, in the audit history and in CAP documents, so it must read as it was typed.
Control characters (NUL, ESC, …) and Unicode format characters — the bidi controls that display text reversed
(U+202E), the zero-width ones that make two equal-looking strings differ (U+200B–U+200D, U+2060, U+FEFF) — are
dropped; lone surrogates (which UTF-8 cannot carry) too. The rest is normalised to NFC, so equal-looking text is
equal. Here, in ``alerts/``, because it is the lowest stage where people's text enters; ``cockpit`` imports it.
"""
from __future__ import annotations

import re
import unicodedata

# Cc: C0 and C1 controls, DEL. Cf: format characters — every bidi control (U+202A–U+202E, U+2066–U+2069,
# U+200E/U+200F, U+061C), the zero-width ones, U+2060, U+FEFF, U+00AD, tag characters. Cs: lone surrogates.
DROPPED = frozenset({"Cc", "Cf", "Cs"})
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")


def plain_text(text: str, *, newlines: bool) -> str:
    """``text`` without control or format characters, in NFC. Line breaks (CR LF, CR, LF, NEL, U+2028, U+2029)
    become ``\\n`` with ``newlines``, else a space; a tab becomes a space. Leading and trailing spaces are kept
    (the caller decides whether to strip)."""
    text = _LINE_BREAK.sub("\n" if newlines else " ", text)
    kept = "".join(" " if c == "\t" else c for c in text
                   if c in "\n\t" or unicodedata.category(c) not in DROPPED)
    return unicodedata.normalize("NFC", kept)
