"""Text with control characters where people read it (the pages, the CSV they open): shown, not lost.

Operate keeps a NUL (`"a\\u0000b"`) in a title or an attribute as it was sent (its .NET JSON reads the
escape, SQL Server's nvarchar stores the character), and so does the emulator: the API and snapshots
give the text back exactly. HTML cannot carry it: a browser drops a NUL from a page's text and
turns it into U+FFFD in an attribute, so the page would show `ab` where the API says `a\\u0000b`. Every
`{{ value }}` on the emulator's pages therefore shows a C0 control character (but tab, line feed and
carriage return) and DEL as its Unicode control picture: `a␀b`. A CSV a person opens in a spreadsheet
does the same (a NUL ends a cell in some spreadsheets, and Python 3.10's csv reader refuses the line).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

# U+0000-U+001F -> U+2400-U+241F, U+007F -> U+2421 (Unicode's Control Pictures block)
CONTROL_PICTURES = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {0x7F: 0x2421}


def visible_controls(value: Any) -> Any:
    """Jinja's `finalize`: each rendered value with its control characters as pictures; markup stays markup."""
    if isinstance(value, Markup):
        return Markup(str.translate(value, CONTROL_PICTURES))
    if isinstance(value, str):
        return value.translate(CONTROL_PICTURES)
    return value
