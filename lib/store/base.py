"""The one small protocol every store (SQLite, Google Sheets, …) implements.

A store keeps sheets of text cells, found by header/column key. It can:

* ``init(schema)`` — create missing sheets and columns (idempotent, never drops anything);
* ``read(sheets)`` — return the register as one :class:`Snapshot` of raw text frames;
* ``get_row(sheet, key)`` — read one row afresh by its key (before an update);
* ``commit(changeset)`` — apply updates (each checked against an expected version) and appends
  as one unit: all of it lands, or none of it and an error says why.

Ids that must be unique under concurrency (case ids) are allocated *inside* the commit: put a
:class:`NewId` in a row and the store replaces it with the next free id for its prefix.

A store may also answer some reads itself, where reading the whole sheet would be slow; the
register uses them when present and reads the sheet otherwise. For the audit log:
``history_page(users=, actions=, case_part=, day_from=, day_to=, limit=) -> (count, frame)``
(the matching history rows, newest first) and ``history_choices() -> (users, actions)``; see
:class:`lib.store.sqlite.SQLiteStore`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from lib.i18n import DomainError
from lib.schema import Schema


class ConflictError(DomainError):
    """The row changed since the caller read it: nothing was written."""

    def __init__(self, sheet: str, key: str, expected: int | None, actual: int | None) -> None:
        super().__init__("err.conflict", case_id=key, expected=expected, actual=actual)
        self.sheet, self.row_key, self.expected, self.actual = sheet, key, expected, actual


class RowNotFound(DomainError):
    """No row has this key."""

    def __init__(self, sheet: str, key: str) -> None:
        if sheet == "cases":
            super().__init__("err.not_found", case_id=key)
        else:
            super().__init__("err.row_not_found", sheet=sheet, key=key)
        self.sheet, self.row_key = sheet, key


class StoreError(Exception):
    """A store could not do its job (I/O, API, corrupt file). Message is for people."""


@dataclass(frozen=True, eq=False)
class NewId:
    """A placeholder for an id the store allocates at commit: ``prefix`` + zero-padded number.

    The same object may appear in several rows (a case and its history rows); all get the
    same id. Ids are never reused, even if a row is later removed by hand.
    """

    prefix: str
    width: int = 6

    def format(self, n: int) -> str:
        """The id for sequence number ``n``."""
        return f"{self.prefix}{n:0{self.width}d}"


@dataclass
class Update:
    """Change some cells of the row whose key column equals ``key``.

    ``expected_version`` (when not None) must equal the row's ``version`` or the whole
    commit fails with :class:`ConflictError`. ``changes`` maps field key -> canonical text.
    """

    sheet: str
    key: str
    changes: Mapping[str, str]
    expected_version: int | None = None


@dataclass
class Changeset:
    """Everything one service action writes."""

    updates: list[Update] = field(default_factory=list)
    appends: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def append(self, sheet: str, *rows: dict[str, Any]) -> None:
        """Queue rows to append to ``sheet``."""
        self.appends.setdefault(sheet, []).extend(rows)

    def is_empty(self) -> bool:
        """True when there is nothing to write."""
        return not self.updates and not any(self.appends.values())


@dataclass
class Snapshot:
    """The register as read at one moment: one raw text frame per sheet.

    Cells are ``str`` (``''`` when empty, never None). Columns are field keys (for columns
    the schema knows) or the sheet's own header text (for columns people added); ``_row`` is the row's position in its sheet (the sheet row
    number for Google Sheets, the rowid for SQLite), for error messages.
    """

    frames: dict[str, pd.DataFrame]
    read_at: dt.datetime
    source: str
    problems: list[dict[str, Any]] = field(default_factory=list)

    def __getitem__(self, sheet: str) -> pd.DataFrame:
        return self.frames[sheet]

    def __contains__(self, sheet: str) -> bool:
        return sheet in self.frames


class Store(Protocol):
    """What the service layer needs from a backend."""

    url: str
    kind: str  # "sqlite", "gsheets", …

    def init(self, schema: Schema) -> list[str]:
        """Create missing sheets and columns; return a human-readable list of what changed."""
        ...

    def read(self, sheets: Sequence[str] | None = None) -> Snapshot:
        """Read the given sheets (default: all but ``history``) as one snapshot."""
        ...

    def get_row(self, sheet: str, key: str) -> dict[str, str] | None:
        """Read one row afresh by its key column, or None."""
        ...

    def commit(self, changes: Changeset) -> dict[NewId, str]:
        """Apply ``changes`` atomically; return the ids allocated for each :class:`NewId`."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def resolve_new_ids(rows: list[dict[str, Any]], allocated: dict[NewId, str]) -> None:
    """Replace :class:`NewId` placeholders in ``rows`` (in place) with allocated ids."""
    for row in rows:
        for k, v in row.items():
            if isinstance(v, NewId):
                row[k] = allocated[v]


def new_ids_in(changes: Changeset) -> list[NewId]:
    """The distinct :class:`NewId` placeholders of a changeset, in first-seen order."""
    seen: dict[int, NewId] = {}
    for rows in changes.appends.values():
        for row in rows:
            for v in row.values():
                if isinstance(v, NewId):
                    seen.setdefault(id(v), v)
    return list(seen.values())


def id_number(value: str, prefix: str) -> int | None:
    """The sequence number of an id with ``prefix`` (``GA2026-000123`` -> 123), else None."""
    if not value.startswith(prefix):
        return None
    tail = value[len(prefix) :]
    return int(tail) if tail.isdigit() else None
