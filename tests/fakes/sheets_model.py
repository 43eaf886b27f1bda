"""State and operations of the Sheets emulator (spreadsheets, worksheets, grids, Drive files).

Nothing here is thread-safe or knows about HTTP: :class:`SheetsService` takes decoded
arguments, mutates state and returns the JSON body Google would return, or raises
:class:`ApiError` carrying Google's error envelope. The emulator facade serialises calls.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import re
import string
import struct
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.sheets_a1 import (
    MAX_COLUMN_INDEX,
    A1Range,
    RangeParseError,
    column_letters,
    format_range,
    parse_range,
)
from tests.fakes.sheets_cells import (
    FORMATTED_VALUE,
    SERIAL_NUMBER,
    Cell,
    CellInputError,
    Scalar,
    raw_cell,
    render_cell,
    user_entered_cell,
)
from tests.fakes.sheets_formula import evaluate_formula

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
#: Sheets' limit on the total number of cells in one spreadsheet.
MAX_CELLS = 10_000_000

STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES = {
    401: "Request is missing required authentication credential. Expected OAuth 2 access "
    "token, login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    408: "The request timed out.",
    429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per "
    "minute per user' of service 'sheets.googleapis.com' for consumer "
    "'project_number:000000000000'.",
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}

#: Every request kind of spreadsheets.batchUpdate that Google knows (to tell "unknown" from
#: "known but not emulated").
_KNOWN_REQUEST_KINDS_TEXT = """
    updateSpreadsheetProperties updateSheetProperties updateDimensionProperties
    updateNamedRange repeatCell addNamedRange deleteNamedRange addSheet deleteSheet autoFill
    cutPaste copyPaste mergeCells unmergeCells updateBorders updateCells addFilterView
    appendCells clearBasicFilter deleteDimension deleteEmbeddedObject deleteFilterView
    duplicateFilterView duplicateSheet findReplace insertDimension insertRange moveDimension
    updateEmbeddedObjectPosition pasteData textToColumns updateFilterView deleteRange
    appendDimension addConditionalFormatRule updateConditionalFormatRule
    deleteConditionalFormatRule sortRange setDataValidation setBasicFilter addProtectedRange
    updateProtectedRange deleteProtectedRange autoResizeDimensions addChart updateChartSpec
    updateBanding addBanding deleteBanding createDeveloperMetadata updateDeveloperMetadata
    deleteDeveloperMetadata randomizeRange addDimensionGroup deleteDimensionGroup
    updateDimensionGroup trimWhitespace deleteDuplicates updateEmbeddedObjectBorder addSlicer
    updateSlicerSpec addDataSource updateDataSource deleteDataSource refreshDataSource
    cancelDataSourceRefresh addTable updateTable deleteTable
"""
KNOWN_REQUEST_KINDS = frozenset(_KNOWN_REQUEST_KINDS_TEXT.split())

#: Formatting-only requests: accepted and ignored, because they change nothing that the
#: values API can observe (number formats excepted, see repeatCell/updateCells handling).
_FORMAT_ONLY_KINDS_TEXT = """
    updateBorders autoResizeDimensions updateDimensionProperties mergeCells unmergeCells
    setDataValidation addConditionalFormatRule updateConditionalFormatRule
    deleteConditionalFormatRule setBasicFilter clearBasicFilter addBanding updateBanding
    deleteBanding addProtectedRange updateProtectedRange deleteProtectedRange addDimensionGroup
    deleteDimensionGroup updateDimensionGroup
"""
FORMAT_ONLY_KINDS = frozenset(_FORMAT_ONLY_KINDS_TEXT.split())


class ApiError(Exception):
    """An error answer; :meth:`body` is Google's JSON envelope."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        status: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        self.code = code
        self.message = message if message is not None else DEFAULT_MESSAGES.get(code, "Error")
        self.status = status if status is not None else STATUS_BY_CODE.get(code, "UNKNOWN")
        self.details = details
        self.errors = errors
        super().__init__(f"{code} {self.status}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON envelope: ``{"error": {"code", "message", "status", ...}}``."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            error["errors"] = self.errors
        if self.status:
            error["status"] = self.status
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str) -> ApiError:
    """A 400 INVALID_ARGUMENT error with ``message``."""
    return ApiError(400, message, "INVALID_ARGUMENT")


def drive_not_found(file_id: str) -> ApiError:
    """Drive's 404 (Drive errors carry an ``errors`` list and, in v3, no status)."""
    message = f"File not found: {file_id}."
    return ApiError(
        404,
        message,
        "",
        errors=[
            {
                "message": message,
                "domain": "global",
                "reason": "notFound",
                "location": "fileId",
                "locationType": "parameter",
            }
        ],
    )


# ---------------------------------------------------------------------------------------------
# Field masks (the ``fields`` query parameter and the ``fields`` of update requests)

FieldTree = dict[str, "FieldTree | None"]


def parse_fields(text: str) -> FieldTree:
    """Parse ``a,b.c,files(id,name)`` into a tree; a leaf (``None``) selects everything."""
    pos = 0

    def read_name() -> str:
        nonlocal pos
        start = pos
        while pos < len(text) and (text[pos].isalnum() or text[pos] in "_*@"):
            pos += 1
        if start == pos:
            raise bad_request(f"Invalid field selection {text}")
        return text[start:pos]

    def merge(into: FieldTree, name: str, sub: FieldTree | None) -> None:
        if name in into and into[name] is None:
            return
        if sub is None:
            into[name] = None
            return
        existing = into.setdefault(name, {})
        assert existing is not None
        for key, value in sub.items():
            merge(existing, key, value)

    def parse_item() -> tuple[str, FieldTree | None]:
        nonlocal pos
        name = read_name()
        if pos < len(text) and text[pos] in "./":
            pos += 1
            child_name, child = parse_item()
            return name, {child_name: child}
        if pos < len(text) and text[pos] == "(":
            pos += 1
            sub = parse_list()
            if pos >= len(text) or text[pos] != ")":
                raise bad_request(f"Invalid field selection {text}")
            pos += 1
            return name, sub
        return name, None

    def parse_list() -> FieldTree:
        nonlocal pos
        tree: FieldTree = {}
        while True:
            while pos < len(text) and text[pos] == " ":
                pos += 1
            name, sub = parse_item()
            merge(tree, name, sub)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return tree

    tree = parse_list()
    if pos != len(text):
        raise bad_request(f"Invalid field selection {text}")
    return tree


def apply_fields(obj: Any, tree: FieldTree | None) -> Any:
    """Keep only the parts of ``obj`` selected by ``tree`` (lists are mapped over)."""
    if tree is None or "*" in tree:
        return obj
    if isinstance(obj, list):
        return [apply_fields(item, tree) for item in obj]
    if isinstance(obj, dict):
        return {k: apply_fields(obj[k], sub) for k, sub in tree.items() if k in obj}
    return obj


def _mask_paths(fields: str) -> list[list[str]]:
    """Paths of an update field mask such as ``gridProperties/rowCount,title``."""
    if not fields:
        raise bad_request("At least one field must be specified in 'fields'.")

    def walk(tree: FieldTree, prefix: list[str]) -> Iterable[list[str]]:
        for name, sub in tree.items():
            if sub is None:
                yield [*prefix, name]
            else:
                yield from walk(sub, [*prefix, name])

    return list(walk(parse_fields(fields), []))


def _apply_mask(target: dict[str, Any], source: Mapping[str, Any], paths: list[list[str]]) -> None:
    for path in paths:
        if path == ["*"]:
            for key, value in source.items():
                target[key] = value
            continue
        src: Any = source
        dst = target
        for key in path[:-1]:
            src = src.get(key, {}) if isinstance(src, Mapping) else {}
            dst = dst.setdefault(key, {})
        leaf = path[-1]
        if isinstance(src, Mapping) and leaf in src:
            dst[leaf] = src[leaf]
        else:
            dst.pop(leaf, None)


# ---------------------------------------------------------------------------------------------
# State


@dataclass
class Worksheet:
    """One tab: its ``properties`` (as the API shows them) and a ragged grid of cells."""

    properties: dict[str, Any]
    rows: list[list[Cell | None]] = field(default_factory=list)

    @property
    def sheet_id(self) -> int:
        """The numeric ``sheetId``."""
        return int(self.properties["sheetId"])

    @property
    def title(self) -> str:
        """The tab title."""
        return str(self.properties["title"])

    @property
    def row_count(self) -> int:
        """``gridProperties.rowCount``."""
        return int(self.properties["gridProperties"]["rowCount"])

    @property
    def column_count(self) -> int:
        """``gridProperties.columnCount``."""
        return int(self.properties["gridProperties"]["columnCount"])

    def set_grid_size(self, rows: int, cols: int) -> None:
        """Resize the grid, dropping cells that fall outside (as Sheets does)."""
        grid = self.properties["gridProperties"]
        grid["rowCount"], grid["columnCount"] = rows, cols
        del self.rows[rows:]
        for row in self.rows:
            del row[cols:]

    def get(self, r: int, c: int) -> Cell | None:
        """The cell at 0-based (r, c), or ``None`` when empty."""
        if r < len(self.rows):
            row = self.rows[r]
            if c < len(row):
                return row[c]
        return None

    def put(self, r: int, c: int, cell: Cell | None) -> None:
        """Store (or clear, with ``None``) one cell."""
        if cell is None and self.get(r, c) is None:
            return
        while len(self.rows) <= r:
            self.rows.append([])
        row = self.rows[r]
        if len(row) <= c:
            row.extend([None] * (c + 1 - len(row)))
        row[c] = cell

    def used_extent(self) -> tuple[int, int]:
        """(rows, cols) of the smallest box from A1 holding every non-empty cell."""
        nrows = ncols = 0
        for r, row in enumerate(self.rows):
            for c in range(len(row) - 1, -1, -1):
                if row[c] is not None:
                    nrows = r + 1
                    ncols = max(ncols, c + 1)
                    break
        return nrows, ncols

    def insert_rows(self, at: int, count: int) -> None:
        """Insert ``count`` empty rows before 0-based row ``at``; the grid grows."""
        if at < len(self.rows):
            self.rows[at:at] = [[] for _ in range(count)]
        self.properties["gridProperties"]["rowCount"] += count

    def delete_rows(self, start: int, end: int) -> None:
        """Delete rows ``start..end-1``; the grid shrinks."""
        del self.rows[start:end]
        self.properties["gridProperties"]["rowCount"] -= end - start

    def insert_columns(self, at: int, count: int) -> None:
        """Insert ``count`` empty columns before 0-based column ``at``."""
        for row in self.rows:
            if at < len(row):
                row[at:at] = [None] * count
        self.properties["gridProperties"]["columnCount"] += count

    def delete_columns(self, start: int, end: int) -> None:
        """Delete columns ``start..end-1``."""
        for row in self.rows:
            del row[start:end]
        self.properties["gridProperties"]["columnCount"] -= end - start

    def copy(self) -> Worksheet:
        """A copy sharing the (immutable) cells."""
        props = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.properties.items()}
        return Worksheet(props, [list(row) for row in self.rows])


#: The keys of a GridRange in the order Google prints them.
GRID_RANGE_KEYS = ("sheetId", "startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")
_DIMENSION_KEYS = {
    "ROWS": ("startRowIndex", "endRowIndex"),
    "COLUMNS": ("startColumnIndex", "endColumnIndex"),
}


@dataclass
class NamedRange:
    """A spreadsheet-level named range (``Spreadsheet.namedRanges`` in the API).

    ``range`` is a GridRange that always holds ``sheetId``; missing indexes are unbounded.
    A named range whose cells were all deleted (or whose sheet was) turns into ``#REF!`` in
    Sheets: it is no longer listed by the API but still holds its name and id
    (``valid=False``).
    """

    named_range_id: str
    name: str
    range: dict[str, int]
    valid: bool = True

    def body(self) -> dict[str, Any]:
        """The NamedRange resource (``sheetId`` 0 is omitted, like every zero Google omits)."""
        rng = {k: self.range[k] for k in GRID_RANGE_KEYS if k in self.range}
        if rng.get("sheetId") == 0:
            del rng["sheetId"]
        return {"namedRangeId": self.named_range_id, "name": self.name, "range": rng}

    def copy(self) -> NamedRange:
        """An independent copy."""
        return NamedRange(self.named_range_id, self.name, dict(self.range), self.valid)

    def shift(self, sheet_id: int, dimension: str, at: int, count: int) -> None:
        """Follow an insertion (``count`` > 0 before index ``at``) or a deletion of
        ``at .. at-count-1`` (``count`` < 0) of rows or columns, as Sheets moves named ranges.
        """
        if int(self.range.get("sheetId", 0)) != sheet_id or not self.valid:
            return
        start_key, end_key = _DIMENSION_KEYS[dimension]
        start = self.range.get(start_key)
        end = self.range.get(end_key)
        if count > 0:
            if start is not None and start >= at:
                self.range[start_key] = start + count
            if end is not None and end > at:
                self.range[end_key] = end + count
            return
        gone = -count
        stop = at + gone

        def moved(index: int) -> int:
            if index >= stop:
                return index - gone
            return min(index, at)

        if start is not None:
            self.range[start_key] = moved(start)
        if end is not None:
            self.range[end_key] = moved(end)
            if self.range.get(start_key, 0) >= self.range[end_key]:
                self.valid = False


@dataclass
class Spreadsheet:
    """A spreadsheet (and the Drive file that holds it)."""

    spreadsheet_id: str
    properties: dict[str, Any]
    sheets: list[Worksheet]
    created: str
    modified: str
    shared: bool = True
    parents: list[str] = field(default_factory=list)
    permissions: list[dict[str, Any]] = field(default_factory=list)
    named_ranges: list[NamedRange] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The spreadsheet title (= the Drive file name)."""
        return str(self.properties["title"])

    def reindex(self) -> None:
        """Renumber ``index`` after sheets were added, removed or moved."""
        for i, ws in enumerate(self.sheets):
            ws.properties["index"] = i

    def total_cells(self) -> int:
        """Cells in all grids (the 10 million limit counts these)."""
        return sum(ws.row_count * ws.column_count for ws in self.sheets)

    def snapshot(self) -> Snapshot:
        """Copy enough state to roll back a failed batch."""
        return (
            dict(self.properties),
            [ws.copy() for ws in self.sheets],
            self.modified,
            [nr.copy() for nr in self.named_ranges],
        )

    def restore(self, snap: Snapshot) -> None:
        """Undo to a :meth:`snapshot`."""
        self.properties, self.sheets, self.modified, self.named_ranges = snap

    def listed_named_ranges(self) -> list[NamedRange]:
        """The named ranges the API lists (not those turned into ``#REF!``)."""
        sheet_ids = {ws.sheet_id for ws in self.sheets}
        return [
            nr
            for nr in self.named_ranges
            if nr.valid and int(nr.range.get("sheetId", 0)) in sheet_ids
        ]

    def shift_named_ranges(self, sheet_id: int, dimension: str, at: int, count: int) -> None:
        """See :meth:`NamedRange.shift`."""
        for nr in self.named_ranges:
            nr.shift(sheet_id, dimension, at, count)

    def metadata(self) -> dict[str, Any]:
        """The ``spreadsheets.get`` body (without grid data)."""
        body: dict[str, Any] = {
            "spreadsheetId": self.spreadsheet_id,
            "properties": dict(self.properties),
            "sheets": [{"properties": _deep_copy(ws.properties)} for ws in self.sheets],
        }
        named = self.listed_named_ranges()
        if named:
            body["namedRanges"] = [nr.body() for nr in named]
        body["spreadsheetUrl"] = (
            f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"
        )
        return body

    def drive_file(self) -> dict[str, Any]:
        """The full Drive v3 file resource."""
        return {
            "kind": "drive#file",
            "id": self.spreadsheet_id,
            "name": self.title,
            "mimeType": SPREADSHEET_MIME,
            "parents": list(self.parents) or ["root"],
            "trashed": False,
            "createdTime": self.created,
            "modifiedTime": self.modified,
            "webViewLink": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit",
        }


def _float32(value: float) -> float | int:
    """The value as Google prints a stored float (single precision, 8 digits)."""
    value = float(f"{struct.unpack('f', struct.pack('f', value))[0]:.8g}")
    return int(value) if value.is_integer() else value


def clean_sheet_properties(props: dict[str, Any]) -> dict[str, Any]:
    """Drop default values the way Google's JSON does and quantise colours to 8 bits.

    ``frozenRowCount: 0``, ``hideGridlines: false``, ``hidden: false`` and zero colour
    channels are omitted in Google's answers; ``sheetId: 0`` and ``index: 0`` are kept.
    """
    grid = props.get("gridProperties")
    if isinstance(grid, dict):
        for key in [k for k, v in grid.items() if k not in {"rowCount", "columnCount"}]:
            if grid[key] in (0, False, None):
                del grid[key]
    for key in ("hidden", "rightToLeft"):
        if props.get(key) is False:
            del props[key]

    def colours(obj: Any) -> None:
        if not isinstance(obj, dict):
            return
        for key, value in list(obj.items()):
            if key in {"red", "green", "blue"} and isinstance(value, int | float):
                # Google keeps 8 bits per channel (0.5 comes back as 127/255).
                channel = math.floor(float(value) * 255 + 1e-6) / 255
                if channel == 0:
                    del obj[key]
                else:
                    obj[key] = _float32(channel)
            elif value is None:
                del obj[key]
            else:
                colours(value)
                if value == {}:
                    del obj[key]

    for key in ("tabColor", "tabColorStyle"):
        if key in props:
            if isinstance(props[key], dict):
                colours(props[key])
            if not props[key]:
                del props[key]
    return props


#: What :meth:`Spreadsheet.snapshot` keeps: properties, worksheets, modifiedTime, named ranges.
Snapshot = tuple[dict[str, Any], list[Worksheet], str, list[NamedRange]]


def _deep_copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _deep_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_deep_copy(v) for v in obj]
    return obj


@dataclass(frozen=True)
class Box:
    """A resolved, grid-checked range on one worksheet (0-based, inclusive)."""

    ws: Worksheet
    r0: int
    c0: int
    r1: int
    c1: int

    @property
    def label(self) -> str:
        """``Sheet1!A1:B2`` as Google prints it."""
        return format_range(self.ws.title, self.r0, self.c0, self.r1, self.c1)


# ---------------------------------------------------------------------------------------------
# The service


def _bool_param(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"true", "1"}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(ts * 1000) % 1000:03d}Z"
    )


class SheetsService:
    """The emulated Sheets v4 + Drive v3 operations over in-memory state."""

    def __init__(self, *, seed: int | None = 0, clock: Callable[[], float] | None = None) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.rng = random.Random(seed)
        self.clock = clock or time.time

    # -- ids and lookups -----------------------------------------------------------------------
    def new_spreadsheet_id(self) -> str:
        """A 44-character id in Google's alphabet, starting with ``1``."""
        alphabet = string.ascii_letters + string.digits + "-_"
        while True:
            sid = "1" + "".join(self.rng.choice(alphabet) for _ in range(43))
            if sid not in self.spreadsheets:
                return sid

    def new_sheet_id(self, ss: Spreadsheet) -> int:
        """A random positive 31-bit sheet id, unique in ``ss``."""
        taken = {ws.sheet_id for ws in ss.sheets}
        while True:
            candidate = self.rng.randint(1, 2**31 - 1)
            if candidate not in taken:
                return candidate

    def get_spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        """The spreadsheet as the Sheets API sees it (404 unknown, 403 not shared)."""
        ss = self.spreadsheets.get(spreadsheet_id)
        if ss is None:
            raise ApiError(404)
        if not ss.shared:
            raise ApiError(403)
        return ss

    def get_drive_file(self, file_id: str) -> Spreadsheet:
        """The spreadsheet as Drive sees it (a file not shared with us does not exist)."""
        ss = self.spreadsheets.get(file_id)
        if ss is None or not ss.shared:
            raise drive_not_found(file_id)
        return ss

    @staticmethod
    def find_sheet(ss: Spreadsheet, key: str | int) -> Worksheet:
        """A worksheet by title (case-insensitive fallback) or by ``sheetId``."""
        for ws in ss.sheets:
            if (isinstance(key, int) and ws.sheet_id == key) or ws.title == key:
                return ws
        if isinstance(key, str):
            for ws in ss.sheets:
                if ws.title.casefold() == key.casefold():
                    return ws
        raise KeyError(key)

    def touch(self, ss: Spreadsheet) -> None:
        """Bump ``modifiedTime``."""
        ss.modified = _iso(self.clock())

    # -- creation ------------------------------------------------------------------------------
    def create_spreadsheet(
        self,
        title: str,
        *,
        spreadsheet_id: str | None = None,
        sheets: Sequence[Mapping[str, Any]] = (),
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        shared: bool = True,
        parents: Sequence[str] = (),
    ) -> Spreadsheet:
        """Create a spreadsheet; ``sheets`` are SheetProperties-like dicts (default: Sheet1)."""
        sid = spreadsheet_id or self.new_spreadsheet_id()
        if sid in self.spreadsheets:
            raise ApiError(409, f"Spreadsheet {sid} already exists", "ALREADY_EXISTS")
        now = _iso(self.clock())
        ss = Spreadsheet(
            spreadsheet_id=sid,
            properties={
                "title": title,
                "locale": locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": time_zone,
            },
            sheets=[],
            created=now,
            modified=now,
            shared=shared,
            parents=list(parents),
        )
        for i, props in enumerate(sheets or [{"title": "Sheet1", "sheetId": 0}]):
            props = dict(props)
            if i == 0 and "sheetId" not in props and not ss.sheets:
                props["sheetId"] = 0
            self.add_sheet(ss, props, where="sheets")
        self.spreadsheets[sid] = ss
        return ss

    def add_sheet(self, ss: Spreadsheet, props: Mapping[str, Any], where: str) -> Worksheet:
        """Add a worksheet from SheetProperties (``where`` prefixes error messages)."""
        props = _deep_copy(dict(props))
        titles = {ws.title.casefold() for ws in ss.sheets}
        title = props.get("title")
        if title is None:
            n = len(ss.sheets) + 1
            while f"sheet{n}" in titles:
                n += 1
            title = f"Sheet{n}"
        if not isinstance(title, str) or title.strip() == "":
            raise bad_request(f"Invalid {where}: Sheet name cannot be empty.")
        if title.casefold() in titles:
            raise bad_request(
                f'Invalid {where}: A sheet with the name "{title}" already exists. '
                "Please enter another name."
            )
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self.new_sheet_id(ss)
        elif any(ws.sheet_id == int(sheet_id) for ws in ss.sheets):
            raise bad_request(
                f"Invalid {where}: A sheet with the ID {sheet_id} already exists. "
                "Please enter another ID."
            )
        grid = dict(props.get("gridProperties") or {})
        rows = int(grid.get("rowCount", DEFAULT_ROWS))
        cols = int(grid.get("columnCount", DEFAULT_COLUMNS))
        self._check_grid(ss, rows, cols, where, extra=rows * cols)
        grid["rowCount"], grid["columnCount"] = rows, cols
        index = props.get("index")
        index = len(ss.sheets) if index is None else max(0, min(int(index), len(ss.sheets)))
        properties: dict[str, Any] = {
            "sheetId": int(sheet_id),
            "title": title,
            "index": index,
            "sheetType": props.get("sheetType", "GRID"),
            "gridProperties": grid,
        }
        for key, value in props.items():
            if key not in properties and key not in {"gridProperties"}:
                properties[key] = value
        ws = Worksheet(clean_sheet_properties(properties))
        ss.sheets.insert(index, ws)
        ss.reindex()
        return ws

    @staticmethod
    def _check_grid(ss: Spreadsheet, rows: int, cols: int, where: str, extra: int = 0) -> None:
        if rows < 1 or cols < 1:
            raise bad_request(f"Invalid {where}: a sheet must have at least one row and column.")
        if cols > MAX_COLUMN_INDEX:
            raise bad_request(
                f"Invalid {where}: This action would increase the number of columns in the "
                f"sheet above the limit of {MAX_COLUMN_INDEX}."
            )
        if ss.total_cells() + extra > MAX_CELLS:
            raise bad_request(
                f"Invalid {where}: This action would increase the number of cells in the "
                f"workbook above the limit of {MAX_CELLS} cells."
            )

    # -- ranges --------------------------------------------------------------------------------
    def resolve(self, ss: Spreadsheet, text: str) -> tuple[Worksheet, A1Range]:
        """Parse a request range and find its worksheet (400 if either fails)."""
        try:
            rng = parse_range(text, [ws.title for ws in ss.sheets])
        except RangeParseError:
            raise bad_request(f"Unable to parse range: {text}") from None
        if rng.sheet is None:
            return ss.sheets[0], rng
        try:
            return self.find_sheet(ss, rng.sheet), rng
        except KeyError:
            raise bad_request(f"Unable to parse range: {text}") from None

    @staticmethod
    def grid_error(ws: Worksheet, a1: str) -> ApiError:
        """Google's "exceeds grid limits" 400."""
        return bad_request(
            f"Range ({_quoted(ws.title)}!{a1}) exceeds grid "
            f"limits. Max rows: {ws.row_count}, max columns: {ws.column_count}"
        )

    def box(self, ws: Worksheet, rng: A1Range) -> Box:
        """Clip open ends to the grid; a bound outside the grid is a 400."""
        nrows, ncols = ws.row_count, ws.column_count
        if rng.whole_sheet:
            return Box(ws, 0, 0, nrows - 1, ncols - 1)
        assert rng.start_row is not None and rng.start_col is not None
        r1 = nrows - 1 if rng.end_row is None else rng.end_row
        c1 = ncols - 1 if rng.end_col is None else rng.end_col
        if max(rng.start_row, r1) >= nrows or max(rng.start_col, c1) >= ncols:
            raise self.grid_error(ws, rng.a1)
        return Box(ws, rng.start_row, rng.start_col, r1, c1)

    def range_box(self, ss: Spreadsheet, text: str) -> tuple[Box, A1Range]:
        """:meth:`resolve` then :meth:`box`."""
        ws, rng = self.resolve(ss, text)
        return self.box(ws, rng), rng

    # -- reading -------------------------------------------------------------------------------
    def effective(self, ss: Spreadsheet, ws: Worksheet, r: int, c: int, depth: int = 0) -> Any:
        """The effective value of a cell (formulas evaluated), ``None`` when empty."""
        cell = ws.get(r, c)
        if cell is None:
            return None
        if cell.formula is None:
            return cell.value
        if depth > 64:
            return "#REF!"
        return self.evaluate(ss, ws, cell.formula, depth + 1)

    def evaluate(self, ss: Spreadsheet, ws: Worksheet, formula: str, depth: int = 0) -> Any:
        """Evaluate ``formula`` as if it sat on ``ws``."""

        def sheet_of(title: str | None) -> Worksheet:
            if title is None:
                return ws
            try:
                return self.find_sheet(ss, title)
            except KeyError:
                raise _RefError from None

        def resolve(title: str | None, r: int, c: int) -> Any:
            try:
                target = sheet_of(title)
            except _RefError:
                return "#REF!"
            if depth > 64:
                raise RecursionError
            return self.effective(ss, target, r, c, depth)

        def resolve_range(title: str | None, r0: int, c0: int, r1: int, c1: int) -> list[Any]:
            try:
                target = sheet_of(title)
            except _RefError:
                return ["#REF!"]
            r1 = min(r1, len(target.rows) - 1)
            return [
                self.effective(ss, target, r, c, depth)
                for r in range(r0, r1 + 1)
                for c in range(c0, c1 + 1)
            ]

        return evaluate_formula(formula, resolve, resolve_range)

    def render_box(
        self,
        ss: Spreadsheet,
        box: Box,
        major: str,
        value_render: str,
        datetime_render: str,
    ) -> list[list[Scalar]]:
        """Values of ``box`` trimmed like Google: no trailing empty cells or rows."""
        ws = box.ws

        def render(r: int, c: int) -> Scalar:
            cell = ws.get(r, c)
            if cell is None:
                return ""
            return render_cell(
                cell,
                value_render,
                datetime_render,
                lambda formula: self.evaluate(ss, ws, formula),
            )

        # Only rows that exist in storage can hold values; the rest of the box is empty.
        last_row = min(box.r1, len(ws.rows) - 1)
        if major == "COLUMNS":
            lines = [
                [render(r, c) for r in range(box.r0, last_row + 1)]
                for c in range(box.c0, box.c1 + 1)
            ]
        else:
            lines = [
                [render(r, c) for c in range(box.c0, min(box.c1, len(ws.rows[r]) - 1) + 1)]
                for r in range(box.r0, last_row + 1)
            ]
        for line in lines:
            while line and line[-1] == "":
                line.pop()
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def value_range(
        self,
        ss: Spreadsheet,
        box: Box,
        major: str = "ROWS",
        value_render: str = FORMATTED_VALUE,
        datetime_render: str = SERIAL_NUMBER,
    ) -> dict[str, Any]:
        """A ValueRange body; ``values`` is omitted when the range is empty."""
        body: dict[str, Any] = {"range": box.label, "majorDimension": major}
        values = self.render_box(ss, box, major, value_render, datetime_render)
        if values:
            body["values"] = values
        return body

    def values_get(self, spreadsheet_id: str, range_text: str, params: Mapping[str, str]) -> Any:
        """``GET values/{range}``."""
        ss = self.get_spreadsheet(spreadsheet_id)
        major, value_render, dt_render = _render_params(params)
        box, _ = self.range_box(ss, range_text)
        return self.value_range(ss, box, major, value_render, dt_render)

    def values_batch_get(
        self, spreadsheet_id: str, ranges: Sequence[str], params: Mapping[str, str]
    ) -> Any:
        """``GET values:batchGet?ranges=...``."""
        ss = self.get_spreadsheet(spreadsheet_id)
        major, value_render, dt_render = _render_params(params)
        boxes = [self.range_box(ss, text)[0] for text in ranges]
        body: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
        if boxes:
            body["valueRanges"] = [
                self.value_range(ss, box, major, value_render, dt_render) for box in boxes
            ]
        return body

    # -- writing -------------------------------------------------------------------------------
    @staticmethod
    def parse_values(
        body: Mapping[str, Any], input_option: str, where: str = "values"
    ) -> list[list[Cell | _Skip | None]]:
        """Turn a ValueRange body into rows of cells (``SKIP`` for ``null`` = leave alone)."""
        values = body.get("values") or []
        field = "data.values" if where == "values" else where
        for candidate in [values, *(values if isinstance(values, list) else [])]:
            if not isinstance(candidate, list):
                message = (
                    f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.ListValue), "
                    f"{json.dumps(candidate, ensure_ascii=False)}"
                )
                raise ApiError(
                    400,
                    message,
                    "INVALID_ARGUMENT",
                    details=[
                        {
                            "@type": "type.googleapis.com/google.rpc.BadRequest",
                            "fieldViolations": [{"field": field, "description": message}],
                        }
                    ],
                )
        major = body.get("majorDimension") or "ROWS"
        if major not in {"ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED"}:
            raise bad_request(
                "Invalid value at 'data.major_dimension' "
                f'(type.googleapis.com/google.apps.sheets.v4.Dimension), "{major}"'
            )
        make = raw_cell if input_option == "RAW" else user_entered_cell
        cells: list[list[Cell | _Skip | None]] = []
        for i, row in enumerate(values):
            out: list[Cell | _Skip | None] = []
            for j, value in enumerate(row):
                if value is None:
                    out.append(SKIP)
                    continue
                try:
                    out.append(make(value, f"{where}[{i}][{j}]"))
                except CellInputError as exc:
                    raise bad_request(str(exc)) from None
            cells.append(out)
        if major == "COLUMNS":
            width = max((len(col) for col in cells), default=0)
            cells = [[col[r] if r < len(col) else SKIP for col in cells] for r in range(width)]
        return cells

    @staticmethod
    def check_input_option(params: Mapping[str, Any], key: str = "valueInputOption") -> str:
        """``valueInputOption`` must be RAW or USER_ENTERED."""
        option = params.get(key)
        if not option:
            raise bad_request("'valueInputOption' is required but not specified")
        if option not in {"RAW", "USER_ENTERED"}:
            raise bad_request(
                "Invalid value at 'value_input_option' "
                f'(type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "{option}"'
            )
        return str(option)

    def write_box(
        self, ws: Worksheet, rng: A1Range, cells: list[list[Cell | _Skip | None]]
    ) -> tuple[int, int, int, int] | None:
        """Check where ``cells`` would land for values.update; return (r0, c0, r1, c1)."""
        nrows = len(cells)
        ncols = max((len(row) for row in cells), default=0)
        if nrows == 0 or ncols == 0:
            return None
        if rng.single_cell:
            assert rng.start_row is not None and rng.start_col is not None
            r0, c0 = rng.start_row, rng.start_col
            r1, c1 = r0 + nrows - 1, c0 + ncols - 1
            if r1 >= ws.row_count or c1 >= ws.column_count:
                raise self.grid_error(ws, _a1(Box(ws, r0, c0, r1, c1)))
            return r0, c0, r1, c1
        box = self.box(ws, rng)
        r1, c1 = box.r0 + nrows - 1, box.c0 + ncols - 1
        open_rows = rng.whole_sheet or rng.end_row is None
        open_cols = rng.whole_sheet or rng.end_col is None
        if (r1 > box.r1 and open_rows) or (c1 > box.c1 and open_cols):
            raise self.grid_error(ws, _a1(Box(ws, box.r0, box.c0, r1, c1)))
        if r1 > box.r1:
            raise bad_request(
                f"Requested writing within range [{_quoted(ws.title)}!{_a1(box)}], "
                f"but tried writing to row [{r1 + 1}]"
            )
        if c1 > box.c1:
            raise bad_request(
                f"Requested writing within range [{_quoted(ws.title)}!{_a1(box)}], "
                f"but tried writing to column [{column_letters(c1)}]"
            )
        return box.r0, box.c0, r1, c1

    @staticmethod
    def apply_cells(
        ws: Worksheet, r0: int, c0: int, cells: list[list[Cell | _Skip | None]]
    ) -> dict[str, int]:
        """Write cells from (r0, c0); return the update counters Google reports."""
        rows_touched: set[int] = set()
        cols_touched: set[int] = set()
        count = 0
        for i, row in enumerate(cells):
            for j, cell in enumerate(row):
                if isinstance(cell, _Skip):
                    continue
                ws.put(r0 + i, c0 + j, cell)
                rows_touched.add(i)
                cols_touched.add(j)
                count += 1
        return {
            "updatedRows": len(rows_touched),
            "updatedColumns": len(cols_touched),
            "updatedCells": count,
        }

    def update_response(
        self,
        ss: Spreadsheet,
        ws: Worksheet,
        where: tuple[int, int, int, int],
        counters: Mapping[str, int],
        params: Mapping[str, Any],
    ) -> dict[str, Any]:
        """An UpdateValuesResponse (with ``updatedData`` when asked for)."""
        box = Box(ws, *where)
        body: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id, "updatedRange": box.label}
        body.update(counters)
        if _bool_param(_str(params.get("includeValuesInResponse"))):
            value_render = params.get("responseValueRenderOption") or FORMATTED_VALUE
            dt_render = params.get("responseDateTimeRenderOption") or SERIAL_NUMBER
            body["updatedData"] = self.value_range(ss, box, "ROWS", value_render, dt_render)
        return body

    def values_update(
        self, spreadsheet_id: str, range_text: str, params: Mapping[str, str], body: Any
    ) -> Any:
        """``PUT values/{range}``."""
        ss = self.get_spreadsheet(spreadsheet_id)
        option = self.check_input_option(params)
        body = _object(body)
        ws, rng = self.resolve(ss, range_text)
        cells = self.parse_values(body, option)
        where = self.write_box(ws, rng, cells)
        if where is None:
            return {"spreadsheetId": ss.spreadsheet_id, "updatedRange": self.box(ws, rng).label}
        counters = self.apply_cells(ws, where[0], where[1], cells)
        self.touch(ss)
        return self.update_response(ss, ws, where, counters, params)

    def values_batch_update(self, spreadsheet_id: str, body: Any) -> Any:
        """``POST values:batchUpdate`` (all or nothing)."""
        ss = self.get_spreadsheet(spreadsheet_id)
        body = _object(body)
        option = self.check_input_option(body)
        data = body.get("data") or []
        responses: list[dict[str, Any]] = []
        rows: set[tuple[int, int]] = set()
        cols: set[tuple[int, int]] = set()
        sheets: set[int] = set()
        snapshot = ss.snapshot()
        try:
            self._batch_write(ss, body, option, data, responses, rows, cols, sheets)
        except ApiError:
            ss.restore(snapshot)
            raise
        total_cells = sum(r["updatedCells"] for r in responses)
        if responses:
            self.touch(ss)
        result: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
        if responses:
            result.update(
                {
                    "totalUpdatedRows": len(rows),
                    "totalUpdatedColumns": len({c for _, c in cols}),
                    "totalUpdatedCells": total_cells,
                    "totalUpdatedSheets": len(sheets),
                    "responses": responses,
                }
            )
        return result

    def _batch_write(
        self,
        ss: Spreadsheet,
        body: Mapping[str, Any],
        option: str,
        data: Sequence[Any],
        responses: list[dict[str, Any]],
        rows: set[tuple[int, int]],
        cols: set[tuple[int, int]],
        sheets: set[int],
    ) -> None:
        for k, value_range in enumerate(data):
            value_range = _object(value_range)
            if "range" not in value_range:
                raise bad_request(f"Invalid data[{k}]: range is required")
            ws, rng = self.resolve(ss, str(value_range["range"]))
            cells = self.parse_values(value_range, option, f"data[{k}].values")
            where = self.write_box(ws, rng, cells)
            if where is None:
                continue
            counters = self.apply_cells(ws, where[0], where[1], cells)
            for i, row in enumerate(cells):
                for j, cell in enumerate(row):
                    if not isinstance(cell, _Skip):
                        rows.add((ws.sheet_id, where[0] + i))
                        cols.add((ws.sheet_id, where[1] + j))
            sheets.add(ws.sheet_id)
            responses.append(self.update_response(ss, ws, where, counters, body))

    def find_table(self, box: Box) -> tuple[int, int, int, int] | None:
        """Google's append "table detection" (see the module docs of the emulator).

        The table is the 4-connected block of non-empty cells that holds the last non-empty
        cell (row-major) inside ``box``; the block may extend beyond ``box``.
        """
        ws = box.ws
        seed = None
        for r in range(min(box.r1, len(ws.rows) - 1), box.r0 - 1, -1):
            row = ws.rows[r]
            for c in range(min(box.c1, len(row) - 1), box.c0 - 1, -1):
                if row[c] is not None:
                    seed = (r, c)
                    break
            if seed:
                break
        if seed is None:
            return None
        seen = {seed}
        stack = [seed]
        r0 = r1 = seed[0]
        c0 = c1 = seed[1]
        while stack:
            r, c = stack.pop()
            r0, r1, c0, c1 = min(r0, r), max(r1, r), min(c0, c), max(c1, c)
            for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if nr >= 0 and nc >= 0 and (nr, nc) not in seen and ws.get(nr, nc) is not None:
                    seen.add((nr, nc))
                    stack.append((nr, nc))
        return r0, c0, r1, c1

    def values_append(
        self, spreadsheet_id: str, range_text: str, params: Mapping[str, str], body: Any
    ) -> Any:
        """``POST values/{range}:append`` with table detection and grid growth."""
        ss = self.get_spreadsheet(spreadsheet_id)
        option = self.check_input_option(params)
        insert = params.get("insertDataOption") or "OVERWRITE"
        if insert not in {"OVERWRITE", "INSERT_ROWS"}:
            raise bad_request(
                "Invalid value at 'insert_data_option' "
                f'(type.googleapis.com/google.apps.sheets.v4.InsertDataOption), "{insert}"'
            )
        body = _object(body)
        box, _ = self.range_box(ss, range_text)
        ws = box.ws
        cells = self.parse_values(body, option)
        table = self.find_table(box)
        result: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
        if table is None:
            start_row, start_col = box.r0, box.c0
        else:
            result["tableRange"] = Box(ws, *table).label
            start_row, start_col = table[2] + 1, table[1]
        nrows = len(cells)
        ncols = max((len(row) for row in cells), default=0)
        if nrows == 0 or ncols == 0:
            result["updates"] = {"spreadsheetId": ss.spreadsheet_id}
            return result
        need_rows = start_row + nrows if insert == "OVERWRITE" else ws.row_count + nrows
        extra_rows = max(0, need_rows - ws.row_count)
        extra_cols = max(0, start_col + ncols - ws.column_count)
        new_rows, new_cols = ws.row_count + extra_rows, ws.column_count + extra_cols
        grown = new_rows * new_cols - ws.row_count * ws.column_count
        self._check_grid(ss, new_rows, new_cols, "append", extra=grown)
        if insert == "INSERT_ROWS":
            at = min(start_row, ws.row_count)
            ws.insert_rows(at, nrows)
            ss.shift_named_ranges(ws.sheet_id, "ROWS", at, nrows)
        elif extra_rows:
            ws.properties["gridProperties"]["rowCount"] = new_rows
        if extra_cols:
            ws.properties["gridProperties"]["columnCount"] = new_cols
        counters = self.apply_cells(ws, start_row, start_col, cells)
        self.touch(ss)
        where = (start_row, start_col, start_row + nrows - 1, start_col + ncols - 1)
        result["updates"] = self.update_response(ss, ws, where, counters, params)
        return result

    def clear_box(self, box: Box) -> None:
        """Empty every cell of ``box``."""
        ws = box.ws
        for r in range(box.r0, min(box.r1, len(ws.rows) - 1) + 1):
            row = ws.rows[r]
            for c in range(box.c0, min(box.c1, len(row) - 1) + 1):
                row[c] = None

    def values_clear(self, spreadsheet_id: str, range_text: str) -> Any:
        """``POST values/{range}:clear``."""
        ss = self.get_spreadsheet(spreadsheet_id)
        box, _ = self.range_box(ss, range_text)
        self.clear_box(box)
        self.touch(ss)
        return {"spreadsheetId": ss.spreadsheet_id, "clearedRange": box.label}

    def values_batch_clear(self, spreadsheet_id: str, body: Any) -> Any:
        """``POST values:batchClear`` (all or nothing)."""
        ss = self.get_spreadsheet(spreadsheet_id)
        body = _object(body)
        boxes = [self.range_box(ss, str(text))[0] for text in body.get("ranges") or []]
        for box in boxes:
            self.clear_box(box)
        self.touch(ss)
        return {"spreadsheetId": ss.spreadsheet_id, "clearedRanges": [b.label for b in boxes]}

    # -- spreadsheets ---------------------------------------------------------------------------
    def spreadsheets_get(self, spreadsheet_id: str, params: Mapping[str, str]) -> Any:
        """``GET spreadsheets/{id}`` (metadata; ``fields`` honoured loosely)."""
        ss = self.get_spreadsheet(spreadsheet_id)
        body = ss.metadata()
        fields = params.get("fields")
        if fields:
            body = apply_fields(body, parse_fields(fields))
        return body

    def spreadsheets_create(self, body: Any) -> Any:
        """``POST spreadsheets`` (Sheets API create)."""
        body = _object(body)
        props = _object(body.get("properties") or {})
        sheets = [_object(_object(s).get("properties") or {}) for s in body.get("sheets") or []]
        ss = self.create_spreadsheet(
            props.get("title") or "Untitled spreadsheet",
            sheets=sheets,
            locale=props.get("locale") or "en_US",
            time_zone=props.get("timeZone") or "Etc/GMT",
        )
        return ss.metadata()

    def copy_sheet_to(self, spreadsheet_id: str, sheet_id: int, body: Any) -> Any:
        """``POST spreadsheets/{id}/sheets/{sheetId}:copyTo``."""
        ss = self.get_spreadsheet(spreadsheet_id)
        try:
            source = self.find_sheet(ss, sheet_id)
        except KeyError:
            raise ApiError(404) from None
        target_id = str(_object(body).get("destinationSpreadsheetId") or "")
        target = self.get_spreadsheet(target_id)
        title = f"Copy of {source.title}"
        n = 2
        while any(ws.title.casefold() == title.casefold() for ws in target.sheets):
            title = f"Copy {n} of {source.title}"
            n += 1
        props = _deep_copy(source.properties)
        props.update({"title": title, "sheetId": None, "index": None})
        props = {k: v for k, v in props.items() if v is not None}
        ws = self.add_sheet(target, props, "copyTo")
        ws.rows = [list(row) for row in source.rows]
        self.touch(target)
        return _deep_copy(ws.properties)

    def batch_update(self, spreadsheet_id: str, body: Any) -> Any:
        """``POST spreadsheets/{id}:batchUpdate`` (all or nothing)."""
        ss = self.get_spreadsheet(spreadsheet_id)
        body = _object(body)
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise bad_request("Must specify at least one request.")
        snapshot = ss.snapshot()
        try:
            replies = [self._one_request(ss, i, _object(req)) for i, req in enumerate(requests)]
        except ApiError:
            ss.restore(snapshot)
            raise
        self.touch(ss)
        result: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            result["updatedSpreadsheet"] = ss.metadata()
        return result

    def _one_request(self, ss: Spreadsheet, i: int, request: dict[str, Any]) -> dict[str, Any]:
        if len(request) != 1:
            raise bad_request(f"Invalid requests[{i}]: exactly one kind of request must be set.")
        ((kind, payload),) = request.items()
        where = f"requests[{i}].{kind}"
        handler = getattr(self, f"_req_{kind}", None)
        if handler is not None:
            return handler(ss, _object(payload), where)
        if kind in FORMAT_ONLY_KINDS:
            return {}
        if kind not in KNOWN_REQUEST_KINDS:
            message = (
                f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': "
                "Cannot find field."
            )
            raise ApiError(
                400,
                message,
                "INVALID_ARGUMENT",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": f"requests[{i}]", "description": message}],
                    }
                ],
            )
        raise bad_request(f"Invalid {where}: not supported by the Sheets emulator.")

    def _sheet_by_id(self, ss: Spreadsheet, sheet_id: Any, where: str) -> Worksheet:
        try:
            return self.find_sheet(ss, int(sheet_id or 0))
        except (KeyError, TypeError, ValueError):
            raise bad_request(f"Invalid {where}: No grid with id: {sheet_id}") from None

    def _req_addSheet(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        ws = self.add_sheet(ss, _object(payload.get("properties") or {}), where)
        return {"addSheet": {"properties": _deep_copy(ws.properties)}}

    def _req_deleteSheet(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        ws = self._sheet_by_id(ss, payload.get("sheetId"), where)
        if len(ss.sheets) == 1:
            raise bad_request(f"Invalid {where}: You can't remove all the sheets in a document.")
        ss.sheets.remove(ws)
        ss.reindex()
        for nr in ss.named_ranges:
            if int(nr.range.get("sheetId", 0)) == ws.sheet_id:
                nr.valid = False
        return {}

    def _req_duplicateSheet(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        source = self._sheet_by_id(ss, payload.get("sourceSheetId"), where)
        props = _deep_copy(source.properties)
        props["title"] = payload.get("newSheetName") or f"Copy of {source.title}"
        props["sheetId"] = payload.get("newSheetId")
        props["index"] = payload.get("insertSheetIndex")
        props = {k: v for k, v in props.items() if v is not None}
        ws = self.add_sheet(ss, props, where)
        ws.rows = [list(row) for row in source.rows]
        return {"duplicateSheet": {"properties": _deep_copy(ws.properties)}}

    def _req_updateSheetProperties(
        self, ss: Spreadsheet, payload: dict[str, Any], where: str
    ) -> Any:
        props = _object(payload.get("properties") or {})
        ws = self._sheet_by_id(ss, props.get("sheetId"), where)
        paths = _mask_paths(str(payload.get("fields") or ""))
        before = _deep_copy(ws.properties)
        updated = _deep_copy(ws.properties)
        _apply_mask(updated, props, paths)
        updated["sheetId"] = before["sheetId"]
        updated.setdefault("sheetType", before.get("sheetType", "GRID"))
        grid = updated.setdefault("gridProperties", {})
        grid.setdefault("rowCount", DEFAULT_ROWS)
        grid.setdefault("columnCount", DEFAULT_COLUMNS)
        title = updated.get("title")
        if not isinstance(title, str) or not title.strip():
            raise bad_request(f"Invalid {where}: Sheet name cannot be empty.")
        if any(o is not ws and o.title.casefold() == title.casefold() for o in ss.sheets):
            raise bad_request(
                f'Invalid {where}: A sheet with the name "{title}" already exists. '
                "Please enter another name."
            )
        rows, cols = int(grid["rowCount"]), int(grid["columnCount"])
        grown = rows * cols - ws.row_count * ws.column_count
        self._check_grid(ss, rows, cols, where, extra=max(0, grown))
        if updated.get("hidden") and all(
            o.properties.get("hidden") for o in ss.sheets if o is not ws
        ):
            raise bad_request(f"Invalid {where}: You can't hide all the sheets in a document.")
        clean_sheet_properties(updated)
        new_index = updated.get("index", before["index"])
        updated["index"] = before["index"]
        ws.properties = updated
        ws.set_grid_size(rows, cols)
        if new_index != before["index"]:
            self._move_sheet(ss, ws, int(new_index))
        return {}

    @staticmethod
    def _move_sheet(ss: Spreadsheet, ws: Worksheet, index: int) -> None:
        # Google counts the target index "before the move": moving right lands one earlier.
        old = ss.sheets.index(ws)
        ss.sheets.pop(old)
        if index > old:
            index -= 1
        ss.sheets.insert(max(0, min(index, len(ss.sheets))), ws)
        ss.reindex()

    def _req_updateSpreadsheetProperties(
        self, ss: Spreadsheet, payload: dict[str, Any], where: str
    ) -> Any:
        props = _object(payload.get("properties") or {})
        paths = _mask_paths(str(payload.get("fields") or ""))
        updated = dict(ss.properties)
        _apply_mask(updated, props, paths)
        if not str(updated.get("title") or "").strip():
            raise bad_request(f"Invalid {where}: title cannot be empty.")
        ss.properties = updated
        return {}

    def _dimension_range(
        self, ss: Spreadsheet, rng: Mapping[str, Any], where: str
    ) -> tuple[Worksheet, str, int, int, int]:
        ws = self._sheet_by_id(ss, rng.get("sheetId"), where)
        dimension = rng.get("dimension")
        if dimension not in {"ROWS", "COLUMNS"}:
            raise bad_request(f"Invalid {where}: dimension must be ROWS or COLUMNS.")
        count = ws.row_count if dimension == "ROWS" else ws.column_count
        start = int(rng.get("startIndex", 0) or 0)
        end = int(rng.get("endIndex", count) if rng.get("endIndex") is not None else count)
        return ws, dimension, start, end, count

    def _req_insertDimension(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        ws, dimension, start, end, count = self._dimension_range(
            ss, _object(payload.get("range") or {}), where
        )
        if not 0 <= start < end or start > count:
            raise bad_request(
                f"Invalid {where}: range ({start}..{end}) is out of bounds (max {count})."
            )
        if payload.get("inheritFromBefore") and start == 0:
            raise bad_request(f"Invalid {where}: Cannot inherit from before the first row.")
        n = end - start
        if dimension == "ROWS":
            self._check_grid(ss, ws.row_count + n, ws.column_count, where, n * ws.column_count)
            ws.insert_rows(start, n)
        else:
            self._check_grid(ss, ws.row_count, ws.column_count + n, where, n * ws.row_count)
            ws.insert_columns(start, n)
        ss.shift_named_ranges(ws.sheet_id, dimension, start, n)
        return {}

    def _req_appendDimension(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        ws = self._sheet_by_id(ss, payload.get("sheetId"), where)
        length = int(payload.get("length") or 0)
        if length <= 0:
            raise bad_request(f"Invalid {where}: length must be positive.")
        if payload.get("dimension") == "ROWS":
            self._check_grid(ss, ws.row_count + length, ws.column_count, where, length)
            ws.properties["gridProperties"]["rowCount"] += length
        elif payload.get("dimension") == "COLUMNS":
            self._check_grid(ss, ws.row_count, ws.column_count + length, where, length)
            ws.properties["gridProperties"]["columnCount"] += length
        else:
            raise bad_request(f"Invalid {where}: dimension must be ROWS or COLUMNS.")
        return {}

    def _req_deleteDimension(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        ws, dimension, start, end, count = self._dimension_range(
            ss, _object(payload.get("range") or {}), where
        )
        if not 0 <= start < end <= count:
            raise bad_request(
                f"Invalid {where}: range ({start}..{end}) is out of bounds (max {count})."
            )
        if end - start >= count:
            what = "rows" if dimension == "ROWS" else "columns"
            raise bad_request(f"Invalid {where}: You can't delete all the {what} on the sheet.")
        if dimension == "ROWS":
            ws.delete_rows(start, end)
        else:
            ws.delete_columns(start, end)
        ss.shift_named_ranges(ws.sheet_id, dimension, start, start - end)
        return {}

    def grid_range(self, ss: Spreadsheet, rng: Mapping[str, Any], where: str) -> Box:
        """Resolve a GridRange (missing indexes are unbounded)."""
        ws = self._sheet_by_id(ss, rng.get("sheetId"), where)
        r0 = int(rng.get("startRowIndex") or 0)
        c0 = int(rng.get("startColumnIndex") or 0)
        r1 = int(rng["endRowIndex"]) - 1 if rng.get("endRowIndex") is not None else ws.row_count - 1
        c1 = (
            int(rng["endColumnIndex"]) - 1
            if rng.get("endColumnIndex") is not None
            else ws.column_count - 1
        )
        if r1 >= ws.row_count or c1 >= ws.column_count or r0 > r1 or c0 > c1:
            raise bad_request(f"Invalid {where}: range is outside the grid.")
        return Box(ws, r0, c0, r1, c1)

    def _req_sortRange(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        box = self.grid_range(ss, _object(payload.get("range") or {}), where)
        specs = payload.get("sortSpecs") or [{"dimensionIndex": box.c0, "sortOrder": "ASCENDING"}]
        self.sort_box(
            ss, box, [(int(s.get("dimensionIndex", 0)), s.get("sortOrder")) for s in specs]
        )
        return {}

    def sort_box(self, ss: Spreadsheet, box: Box, specs: Sequence[tuple[int, str | None]]) -> None:
        """Sort the rows of ``box`` by absolute column indexes (blanks always last)."""
        ws = box.ws
        width = box.c1 - box.c0 + 1
        block = [[ws.get(r, box.c0 + j) for j in range(width)] for r in range(box.r0, box.r1 + 1)]
        for col, order in reversed(list(specs)):
            j = col - box.c0
            descending = order == "DESCENDING"

            def value_of(line: list[Cell | None], j: int = j) -> Any:
                if not 0 <= j < width or line[j] is None:
                    return None
                return _cell_effective(self, ss, ws, line[j])

            present = [line for line in block if value_of(line) not in (None, "")]
            blank = [line for line in block if value_of(line) in (None, "")]
            present.sort(key=lambda line: _sort_key(value_of(line)), reverse=descending)
            block = present + blank
        for i, line in enumerate(block):
            for j, cell in enumerate(line):
                ws.put(box.r0 + i, box.c0 + j, cell)

    # -- named ranges ----------------------------------------------------------------------------
    def _named_range_grid(self, ss: Spreadsheet, rng: Any, where: str) -> dict[str, int]:
        """Check a named range's GridRange (sheet exists, inside the grid); normalise it."""
        rng = _object(rng)
        self.grid_range(ss, rng, where)
        out = {"sheetId": int(rng.get("sheetId") or 0)}
        for key in GRID_RANGE_KEYS[1:]:
            if rng.get(key) is not None:
                out[key] = int(rng[key])
        return out

    @staticmethod
    def _check_named_range_name(name: Any, where: str) -> str:
        if not isinstance(name, str) or not valid_named_range_name(name):
            raise bad_request(
                f"Invalid {where}: {json.dumps(name, ensure_ascii=False)} is not a valid name "
                "for a named range. Names may contain only letters, numbers and underscores, "
                "must not start with a number, must be 1-250 characters long and must not be "
                "TRUE, FALSE or a cell reference in A1 or R1C1 notation."
            )
        return name

    @staticmethod
    def _name_taken(ss: Spreadsheet, name: str, but: NamedRange | None = None) -> bool:
        # Names are unique regardless of case; #REF! ranges keep theirs (gspread issue #1530).
        return any(
            nr is not but and nr.name.casefold() == name.casefold() for nr in ss.named_ranges
        )

    def new_named_range_id(self, ss: Spreadsheet) -> str:
        """A random id in Google's style (a positive 31-bit number as a string)."""
        taken = {nr.named_range_id for nr in ss.named_ranges}
        while True:
            candidate = str(self.rng.randint(1, 2**31 - 1))
            if candidate not in taken:
                return candidate

    def _req_addNamedRange(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        body = _object(payload.get("namedRange"))
        name = self._check_named_range_name(body.get("name"), where)
        range_id = body.get("namedRangeId")
        if range_id is not None and range_id != "":
            range_id = str(range_id)
            if any(nr.named_range_id == range_id for nr in ss.named_ranges):
                raise bad_request(
                    f"Invalid {where}: Cannot add named range with id {range_id}, "
                    "a named range with that id already exists."
                )
        else:
            range_id = self.new_named_range_id(ss)
        if self._name_taken(ss, name):
            # Google's wording (recorded by API users; some clients show "with name: ").
            raise bad_request(
                f"Invalid {where}: Cannot add named range with name {name}, "
                "a named range with that name already exists."
            )
        grid = self._named_range_grid(ss, body.get("range"), where)
        named = NamedRange(range_id, name, grid)
        ss.named_ranges.append(named)
        return {"addNamedRange": {"namedRange": named.body()}}

    def _named_range_by_id(self, ss: Spreadsheet, range_id: Any, where: str) -> NamedRange:
        for nr in ss.named_ranges:
            if range_id not in (None, "") and nr.named_range_id == str(range_id):
                return nr
        # Google's wording, as recorded for updateNamedRange ("NamedRange" in one word).
        raise bad_request(f"Invalid {where}: No NamedRange with id: {_str(range_id) or ''}")

    def _req_deleteNamedRange(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        ss.named_ranges.remove(self._named_range_by_id(ss, payload.get("namedRangeId"), where))
        return {}

    def _req_updateNamedRange(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        body = _object(payload.get("namedRange"))
        named = self._named_range_by_id(ss, body.get("namedRangeId"), where)
        paths = _mask_paths(str(payload.get("fields") or ""))
        current = named.body()
        current["range"] = dict(named.range)
        updated = _deep_copy(current)
        _apply_mask(updated, body, paths)
        if updated.get("namedRangeId") != named.named_range_id:
            raise bad_request(f"Invalid {where}: the id of a named range cannot be changed.")
        name = self._check_named_range_name(updated.get("name"), where)
        if self._name_taken(ss, name, but=named):
            raise bad_request(
                f"Invalid {where}: Cannot rename named range to {name}, "
                "a named range with that name already exists."
            )
        grid = self._named_range_grid(ss, updated.get("range"), where)
        named.name, named.range, named.valid = name, grid, True
        return {}

    # -- appendCells ---------------------------------------------------------------------------
    def _req_appendCells(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        """Rows after the last row with data of the whole sheet, from column A; the grid gets
        the rows it needs, never columns (Google: "Attempting to write column: ...")."""
        if payload.get("tableId"):
            raise bad_request(f"Invalid {where}: tables are not supported by the Sheets emulator.")
        ws = self._sheet_by_id(ss, payload.get("sheetId"), where)
        paths = _mask_paths(str(payload.get("fields") or ""))
        writes_values = any(path[0] in {"*", "userEnteredValue"} for path in paths)
        writes_number_format = any(
            path[0] == "*"
            or (path[0] == "userEnteredFormat" and (len(path) == 1 or path[1] == "numberFormat"))
            for path in paths
        )
        rows = payload.get("rows") or []
        if not isinstance(rows, list):
            raise bad_request(f"Invalid {where}: rows must be a list of RowData.")
        lines: list[list[Cell | None]] = []
        for i, row in enumerate(rows):
            values = _object(row).get("values") or []
            if not isinstance(values, list):
                raise bad_request(f"Invalid {where}: rows[{i}].values must be a list of CellData.")
            line: list[Cell | None] = []
            for j, data in enumerate(values):
                data = _object(data)
                cell_where = f"{where}.rows[{i}].values[{j}]"
                fmt = _object(data.get("userEnteredFormat"))
                if writes_number_format and fmt.get("numberFormat"):
                    raise bad_request(
                        f"Invalid {cell_where}: number formats through appendCells are not "
                        "supported by the Sheets emulator (use the values API)."
                    )
                line.append(cell_from_data(data, cell_where) if writes_values else None)
            lines.append(line)
        width = max((len(line) for line in lines), default=0)
        if width > ws.column_count:
            raise bad_request(
                f"Invalid {where}: Attempting to write column: {ws.column_count}, "
                f"beyond the last requested column of: {ws.column_count - 1}"
            )
        if not lines:
            return {}
        start = ws.used_extent()[0]
        need = start + len(lines)
        if need > ws.row_count:
            extra = (need - ws.row_count) * ws.column_count
            self._check_grid(ss, need, ws.column_count, where, extra=extra)
            ws.properties["gridProperties"]["rowCount"] = need
        if writes_values:
            for i, line in enumerate(lines):
                for j, cell in enumerate(line):
                    ws.put(start + i, j, cell)
        return {}

    def _req_repeatCell(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        return self._format_only(payload, where)

    def _req_updateCells(self, ss: Spreadsheet, payload: dict[str, Any], where: str) -> Any:
        return self._format_only(payload, where)

    @staticmethod
    def _format_only(payload: Mapping[str, Any], where: str) -> Any:
        fields = str(payload.get("fields") or "")
        if fields.strip() == "*" or "userEnteredValue" in fields or "numberFormat" in fields:
            raise bad_request(
                f"Invalid {where}: values and number formats through {where.split('.')[-1]} "
                "are not supported by the Sheets emulator (use the values API)."
            )
        return {}

    # -- Drive ---------------------------------------------------------------------------------
    def drive_create(self, body: Any) -> Any:
        """``POST drive/v3/files`` (spreadsheets only)."""
        body = _object(body)
        mime = body.get("mimeType") or SPREADSHEET_MIME
        if mime != SPREADSHEET_MIME:
            raise bad_request(f"The Sheets emulator only creates {SPREADSHEET_MIME} files.")
        ss = self.create_spreadsheet(
            body.get("name") or "Untitled spreadsheet", parents=body.get("parents") or ()
        )
        return _drive_short(ss)

    def drive_get(self, file_id: str, params: Mapping[str, str]) -> Any:
        """``GET drive/v3/files/{id}``."""
        ss = self.get_drive_file(file_id)
        return _drive_fields(ss.drive_file(), params.get("fields"), _drive_short(ss))

    def drive_list(self, params: Mapping[str, str]) -> Any:
        """``GET drive/v3/files`` with a small subset of the ``q`` language."""
        conditions = parse_drive_query(params.get("q") or "")
        files = [
            ss
            for ss in self.spreadsheets.values()
            if ss.shared and all(cond(ss.drive_file()) for cond in conditions)
        ]
        page_size = int(params.get("pageSize") or 100)
        offset = int(params.get("pageToken") or 0)
        page = files[offset : offset + page_size]
        result: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False}
        if offset + page_size < len(files):
            result["nextPageToken"] = str(offset + page_size)
        fields = params.get("fields")
        if fields:
            result["files"] = [ss.drive_file() for ss in page]
            return apply_fields(result, parse_fields(fields))
        result["files"] = [_drive_short(ss) for ss in page]
        return result

    def drive_delete(self, file_id: str) -> None:
        """``DELETE drive/v3/files/{id}``."""
        self.get_drive_file(file_id)
        del self.spreadsheets[file_id]

    def drive_update(self, file_id: str, body: Any, params: Mapping[str, str]) -> Any:
        """``PATCH drive/v3/files/{id}`` (rename)."""
        ss = self.get_drive_file(file_id)
        body = _object(body)
        if body.get("name"):
            ss.properties["title"] = str(body["name"])
            self.touch(ss)
        return _drive_fields(ss.drive_file(), params.get("fields"), _drive_short(ss))

    def drive_export(self, file_id: str, params: Mapping[str, str]) -> tuple[bytes, str]:
        """``GET drive/v3/files/{id}/export``: CSV / TSV of the first worksheet."""
        ss = self.get_drive_file(file_id)
        mime = params.get("mimeType") or ""
        delimiters = {"text/csv": ",", "text/tab-separated-values": "\t"}
        if mime not in delimiters:
            raise bad_request(f"The Sheets emulator cannot export to {mime or 'nothing'}.")
        ws = ss.sheets[0]
        nrows, ncols = ws.used_extent()
        box = Box(ws, 0, 0, max(nrows, 1) - 1, max(ncols, 1) - 1)
        rows = self.render_box(ss, box, "ROWS", FORMATTED_VALUE, SERIAL_NUMBER)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiters[mime], lineterminator="\r\n")
        for row in rows:
            writer.writerow([*row, *[""] * (ncols - len(row))])
        return out.getvalue().removesuffix("\r\n").encode("utf-8"), mime

    def drive_copy(self, file_id: str, body: Any) -> Any:
        """``POST drive/v3/files/{id}/copy``."""
        source = self.get_drive_file(file_id)
        body = _object(body)
        copy = self.create_spreadsheet(
            body.get("name") or f"Copy of {source.title}",
            sheets=[{"title": "placeholder", "sheetId": 0}],
            locale=source.properties.get("locale", "en_US"),
            time_zone=source.properties.get("timeZone", "Etc/GMT"),
            parents=body.get("parents") or source.parents,
        )
        copy.sheets = [ws.copy() for ws in source.sheets]
        copy.named_ranges = [nr.copy() for nr in source.named_ranges]
        return _drive_short(copy)


_NAME_RE = re.compile(r"^[^\W\d]\w{0,249}$")
_A1_NAME_RE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")
_R1C1_NAME_RE = re.compile(r"^[Rr][0-9]*([Cc][0-9]*)?$|^[Cc][0-9]*$")


def valid_named_range_name(name: str) -> bool:
    """Sheets' rules for a named range's name (Sheets help "Name a range")."""
    return bool(
        _NAME_RE.match(name)
        and not _A1_NAME_RE.match(name)
        and not _R1C1_NAME_RE.match(name)
        and name.casefold() not in {"true", "false"}
    )


_EXTENDED_VALUE_KINDS = ("numberValue", "stringValue", "boolValue", "formulaValue", "errorValue")


def cell_from_data(data: Mapping[str, Any], where: str) -> Cell | None:
    """The cell a CellData's ``userEnteredValue`` writes (``None``: the cell is blank).

    ``stringValue`` is stored as typed text, never parsed (like a RAW write);
    ``formulaValue`` is stored as a formula (like a USER_ENTERED ``=...``).
    """
    value = data.get("userEnteredValue")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"Invalid {where}: userEnteredValue must be an ExtendedValue object.")
    kinds = list(value)
    for kind in kinds:
        if kind not in _EXTENDED_VALUE_KINDS:
            raise bad_request(
                f'Invalid JSON payload received. Unknown name "{kind}" at '
                f"'{where}.userEnteredValue': Cannot find field."
            )
    if not kinds:
        return None
    if len(kinds) > 1:
        raise bad_request(
            "Invalid JSON payload received. Oneof field 'value' is already set. "
            f"Cannot set '{kinds[1]}'"
        )
    kind = kinds[0]
    raw = value[kind]

    def wrong_type(proto_type: str) -> ApiError:
        return bad_request(
            f"Invalid value at '{where}.userEnteredValue.{kind}' ({proto_type}), "
            f"{json.dumps(raw, ensure_ascii=False)}"
        )

    try:
        if kind == "stringValue":
            if not isinstance(raw, str):
                raise wrong_type("TYPE_STRING")
            return raw_cell(raw, where)
        if kind == "numberValue":
            if isinstance(raw, str):
                try:
                    raw = float(raw)
                except ValueError:
                    raise wrong_type("TYPE_DOUBLE") from None
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise wrong_type("TYPE_DOUBLE")
            return raw_cell(raw, where)
        if kind == "boolValue":
            if not isinstance(raw, bool):
                raise wrong_type("TYPE_BOOL")
            return Cell(value=raw)
        if kind == "formulaValue":
            if not isinstance(raw, str):
                raise wrong_type("TYPE_STRING")
            if not raw.startswith("="):
                raise bad_request(f"Invalid {where}: a formulaValue must start with '='.")
            raw_cell(raw, where)  # the length limit
            return Cell(formula=raw)
    except CellInputError as exc:
        raise bad_request(str(exc)) from None
    raise bad_request(f"Invalid {where}: an errorValue cannot be written.")


class _RefError(Exception):
    pass


class _Skip:
    """Marker for a ``null`` in request values: leave that cell unchanged."""

    def __repr__(self) -> str:
        return "SKIP"


SKIP = _Skip()


def _cell_effective(service: SheetsService, ss: Spreadsheet, ws: Worksheet, cell: Cell) -> Any:
    if cell.formula is None:
        return cell.value
    return service.evaluate(ss, ws, cell.formula)


def _sort_key(value: Any) -> tuple[int, Any]:
    # Sheets sorts numbers (and dates) before text before booleans.
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value).casefold())


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _a1(box: Box) -> str:
    start = f"{column_letters(box.c0)}{box.r0 + 1}"
    if (box.r0, box.c0) == (box.r1, box.c1):
        return start
    return f"{start}:{column_letters(box.c1)}{box.r1 + 1}"


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("Invalid JSON payload received. Expected an object.")
    return value


def _render_params(params: Mapping[str, str]) -> tuple[str, str, str]:
    major = params.get("majorDimension") or "ROWS"
    value_render = params.get("valueRenderOption") or FORMATTED_VALUE
    dt_render = params.get("dateTimeRenderOption") or SERIAL_NUMBER
    if major not in {"ROWS", "COLUMNS"}:
        raise bad_request(
            "Invalid value at 'major_dimension' "
            f'(type.googleapis.com/google.apps.sheets.v4.Dimension), "{major}"'
        )
    if value_render not in {"FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"}:
        raise bad_request(
            "Invalid value at 'value_render_option' "
            f'(type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), "{value_render}"'
        )
    if dt_render not in {"SERIAL_NUMBER", "FORMATTED_STRING"}:
        raise bad_request(
            "Invalid value at 'date_time_render_option' "
            f'(type.googleapis.com/google.apps.sheets.v4.DateTimeRenderOption), "{dt_render}"'
        )
    return major, value_render, dt_render


def _drive_short(ss: Spreadsheet) -> dict[str, Any]:
    return {
        "kind": "drive#file",
        "id": ss.spreadsheet_id,
        "name": ss.title,
        "mimeType": SPREADSHEET_MIME,
    }


def _drive_fields(full: dict[str, Any], fields: str | None, default: dict[str, Any]) -> Any:
    if not fields:
        return default
    return apply_fields(full, parse_fields(fields))


def parse_drive_query(q: str) -> list[Callable[[Mapping[str, Any]], bool]]:
    """Parse the Drive ``q`` subset gspread uses: ``mimeType = "..."``, ``name = "..."``,
    ``name contains "..."``, ``"id" in parents``, ``trashed = false``, joined by ``and``."""
    clause_re = re.compile(
        r"""\s*(?:
            (?P<field>mimeType|name|fullText)\s*(?P<op>=|!=|contains)\s*
                (?P<q1>['"])(?P<value>(?:\\.|(?!(?P=q1)).)*)(?P=q1)
          | (?P<q2>['"])(?P<parent>(?:\\.|(?!(?P=q2)).)*)(?P=q2)\s+in\s+parents
          | trashed\s*=\s*(?P<trashed>true|false)
        )\s*""",
        re.VERBOSE,
    )
    conditions: list[Callable[[Mapping[str, Any]], bool]] = []
    pos = 0
    text = q.strip()
    while pos < len(text):
        m = clause_re.match(text, pos)
        if not m:
            raise ApiError(
                400,
                "Invalid Value",
                "",
                errors=[
                    {
                        "domain": "global",
                        "reason": "invalid",
                        "message": "Invalid Value",
                        "locationType": "parameter",
                        "location": "q",
                    }
                ],
            )
        pos = m.end()
        if m.group("field"):
            key = m.group("field")
            value = re.sub(r"\\(.)", r"\1", m.group("value"))
            op = m.group("op")
            if key == "fullText":
                key = "name"
                op = "contains"
            if op == "=":
                conditions.append(lambda f, k=key, v=value: f.get(k) == v)
            elif op == "!=":
                conditions.append(lambda f, k=key, v=value: f.get(k) != v)
            else:
                conditions.append(lambda f, k=key, v=value: v.lower() in str(f.get(k)).lower())
        elif m.group("parent") is not None:
            parent = m.group("parent")
            conditions.append(lambda f, p=parent: p in f.get("parents", []))
        else:
            trashed = m.group("trashed") == "true"
            conditions.append(lambda f, t=trashed: f.get("trashed") == t)
        and_m = re.compile(r"and\s+", re.IGNORECASE).match(text, pos)
        if and_m:
            pos = and_m.end()
        elif pos < len(text):
            raise bad_request(f"Invalid Drive query: {q}")
    return conditions
