"""A1 notation for the Sheets emulator: parse request ranges, format response ranges.

Google accepts ranges such as ``'Sheet 1'!A1:B2``, ``Sheet1!A:C``, ``A1:1``, ``2:5``,
``A5:B`` or a bare sheet title; it answers with a normalised, grid-clipped form such as
``Sheet1!A1:B1000`` where the title is only quoted when it has to be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The widest column Sheets knows (ZZZ); longer letter runs are not cell references.
MAX_COLUMN_INDEX = 18278

_CELL_RE = re.compile(r"^\$?([A-Za-z]{1,3})?\$?([0-9]+)?$")
_PLAIN_TITLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELLISH_TITLE_RE = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)$")


class RangeParseError(ValueError):
    """The text is neither a sheet title nor valid A1 notation."""


def column_letters(col: int) -> str:
    """Return the letters of a 0-based column index (0 -> ``A``, 26 -> ``AA``)."""
    if col < 0:
        raise ValueError(f"negative column index {col}")
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Return the 0-based index of column letters (``A`` -> 0, ``aa`` -> 26)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n - 1


def cell_label(row: int, col: int) -> str:
    """Return the A1 label of a 0-based cell position."""
    return f"{column_letters(col)}{row + 1}"


def quote_title(title: str) -> str:
    """Quote a sheet title the way Google does in response ranges.

    Plain identifiers (``Sheet1``) stay bare; titles with spaces, non-ASCII characters, or
    that look like a cell reference (``D3``) are wrapped in single quotes, with inner quotes
    doubled.
    """
    if _PLAIN_TITLE_RE.match(title) and not _CELLISH_TITLE_RE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, r0: int, c0: int, r1: int, c1: int) -> str:
    """Format a closed 0-based box as ``Title!A1:B2`` (or ``Title!A1`` for one cell)."""
    start = cell_label(r0, c0)
    if (r0, c0) == (r1, c1):
        return f"{quote_title(title)}!{start}"
    return f"{quote_title(title)}!{start}:{cell_label(r1, c1)}"


@dataclass(frozen=True)
class A1Range:
    """A parsed range. Indexes are 0-based and inclusive; ``None`` means unbounded.

    ``sheet`` is the title as written (quotes removed) or ``None`` for "the first sheet".
    ``a1`` is the part after ``!`` as written (empty for a whole-sheet range).
    """

    sheet: str | None
    a1: str
    start_row: int | None = None
    start_col: int | None = None
    end_row: int | None = None
    end_col: int | None = None

    @property
    def whole_sheet(self) -> bool:
        """True for a bare sheet title such as ``'Sheet1'``."""
        return self.a1 == ""

    @property
    def single_cell(self) -> bool:
        """True for one cell such as ``A1`` (used as an anchor by values.update)."""
        return (
            not self.whole_sheet
            and ":" not in self.a1
            and self.start_row is not None
            and self.start_col is not None
        )


def split_sheet(text: str) -> tuple[str | None, str, bool]:
    """Split ``'Sheet'!A1`` into (title, a1, quoted). A bare word gives (None, word, False)."""
    if text.startswith("'"):
        i = 1
        title_chars: list[str] = []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title_chars.append("'")
                    i += 2
                    continue
                break
            title_chars.append(ch)
            i += 1
        else:
            raise RangeParseError(text)
        rest = text[i + 1 :]
        if rest == "":
            return "".join(title_chars), "", True
        if not rest.startswith("!"):
            raise RangeParseError(text)
        return "".join(title_chars), rest[1:], True
    if "!" in text:
        title, _, a1 = text.rpartition("!")
        return title, a1, False
    return None, text, False


def _parse_endpoint(part: str) -> tuple[int | None, int | None]:
    """Parse ``A1``, ``A`` or ``1`` into (row, col), either of which may be ``None``."""
    m = _CELL_RE.match(part)
    if not m or not (m.group(1) or m.group(2)):
        raise RangeParseError(part)
    col = column_index(m.group(1)) if m.group(1) else None
    row = int(m.group(2)) - 1 if m.group(2) else None
    if row is not None and row < 0:
        raise RangeParseError(part)
    return row, col


def parse_a1(sheet: str | None, a1: str) -> A1Range:
    """Parse the part after ``!``; raise :class:`RangeParseError` if it is not A1 notation."""
    if a1 == "":
        return A1Range(sheet=sheet, a1="")
    parts = a1.split(":")
    if len(parts) == 1:
        row, col = _parse_endpoint(parts[0])
        if row is None or col is None:
            raise RangeParseError(a1)
        return A1Range(sheet, a1, row, col, row, col)
    if len(parts) != 2:
        raise RangeParseError(a1)
    (r0, c0), (r1, c1) = _parse_endpoint(parts[0]), _parse_endpoint(parts[1])
    # "A:B" and "1:2" need both ends of the same kind; "A1:B" / "A1:1" are open-ended.
    if r0 is None and c0 is not None and (c1 is None or r1 is not None):
        raise RangeParseError(a1)
    if c0 is None and r0 is not None and (r1 is None or c1 is not None):
        raise RangeParseError(a1)
    start_row = 0 if r0 is None else r0
    start_col = 0 if c0 is None else c0
    if r1 is not None and r1 < start_row:
        start_row, r1 = r1, start_row
    if c1 is not None and c1 < start_col:
        start_col, c1 = c1, start_col
    return A1Range(sheet, a1, start_row, start_col, r1, c1)


def parse_range(text: str, sheet_titles: list[str]) -> A1Range:
    """Parse a request range, recognising bare sheet titles first, as Google does."""
    title, a1, quoted = split_sheet(text)
    if title is None:
        if a1 in sheet_titles:
            return A1Range(sheet=a1, a1="")
        return parse_a1(None, a1)
    if not quoted and title == "":
        raise RangeParseError(text)
    return parse_a1(title, a1)
