"""Text from outside (models, listeners, files), made safe where it is shown.

What a model or a listener wrote is stored as written. These functions apply
where text leaves the program: a terminal (CLI, TUI), a CSV cell, a JSON line,
an error message. They never raise and never lose more than they must: an
unsafe character becomes a visible U+FFFD, not nothing, so a reader can see
that something was there.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"

# C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the
# bidirectional overrides and isolates that reorder what a terminal shows ("Trojan source").
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
UNSAFE_ONE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
# What JSON leaves raw with ensure_ascii=False but a terminal may act on.
_JSON_RAW = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# A cell starting with one of these is a formula to a spreadsheet (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control character and escape sequence introducer made visible.

    Tabs and newlines are kept unless ``one_line``, which also replaces them.
    """
    return (UNSAFE_ONE_LINE if one_line else _UNSAFE).sub(REPLACEMENT, text)


def excerpt(value: object, limit: int = 60) -> str:
    """A short, printable quote of a (possibly huge or hostile) value for an error message."""
    text = value if isinstance(value, str) else repr(value)
    clipped = printable(text[:limit], one_line=True)
    if len(text) > limit:
        return f"{clipped!r}… ({len(text):,} characters)"
    return repr(clipped) if isinstance(value, str) else clipped


def csv_cell(value: Any) -> Any:
    """A value safe for a CSV cell: text is printable and never starts a formula.

    Numbers stay numbers (a negative amount too); a float is written with 12
    significant digits, so a time is ``1369.2``, not ``1369.1999999999998``. Text that a
    spreadsheet would evaluate gets a leading apostrophe, the usual neutraliser.
    """
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    return printable(value)


def json_line(obj: Any) -> str:
    """One JSON line (UTF-8 kept) in which no character can steer a terminal.

    ``json`` already escapes C0 controls; this also escapes DEL, C1 controls,
    line separators and bidi controls, so the line parses to the same value.
    """
    text = json.dumps(obj, ensure_ascii=False)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
