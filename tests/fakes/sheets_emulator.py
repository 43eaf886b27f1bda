"""A stateful emulator of the Google Sheets v4 API (and the part of Drive v3 gspread uses).

Tests run gspread's real HTTP code against it, in process or over loopback HTTP::

    emulator = SheetsEmulator()
    sid = emulator.create_spreadsheet("留言台账", worksheets=["案件"])
    gc = emulator.client()                     # gspread.Client on an in-process adapter
    ws = gc.open_by_key(sid).worksheet("案件")
    ws.append_rows([["A-001", "0123"]])
    emulator.counts["values.append"]           # 1

    server = emulator.serve()                  # ThreadingHTTPServer on 127.0.0.1:<free port>
    os.environ["SHEETS_EMULATOR_HOST"] = server.address
    ...
    server.shutdown()

Run it for a served app with ``python -m tests.fakes.sheets_emulator --port 8765``; it prints
``host:port`` and serves until killed. The loopback server also answers a small control API
under ``/__emulator/`` (see :class:`RemoteEmulator`) and a fake OAuth token endpoint at
``/token``, so ``service_account`` credentials with ``token_uri`` pointed at it work.

Behaviour copied from Google (checked against gspread's recorded cassettes): RAW versus
USER_ENTERED parsing, FORMATTED/UNFORMATTED/FORMULA rendering, trimming of trailing empty
cells and rows, grid limits (``Range (...) exceeds grid limits``), append's table detection,
error envelopes. Known gaps are listed in ``tests/fakes/cassettes/README.md``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import signal
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from tests.fakes.sheets_a1 import RangeParseError, column_index, parse_a1
from tests.fakes.sheets_cells import FORMATTED_VALUE, SERIAL_NUMBER, Cell, render_cell
from tests.fakes.sheets_model import (
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    ApiError,
    Box,
    SheetsService,
    Spreadsheet,
    Worksheet,
)
from tests.fakes.sheets_transport import (
    CONTROL_PREFIX,
    EmulatorAdapter,
    EmulatorServer,
    Outcome,
    Reply,
    loopback_session,
    mount_google,
)

if TYPE_CHECKING:
    import gspread

__all__ = [
    "FAULTS",
    "EmulatorServer",
    "LoggedRequest",
    "RemoteEmulator",
    "SheetsEmulator",
    "loopback_session",
]

#: Fault names accepted by :meth:`SheetsEmulator.inject` (any 4xx/5xx code works too).
FAULTS = ("429", "500", "503", "slow", "drop", "apply_then_drop")

_ID = r"(?P<id>[^/:?]+)"
_FILE = r"(?P<id>[^/?]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), endpoint)
    for method, pattern, endpoint in [
        ("POST", r"/v4/spreadsheets", "spreadsheets.create"),
        ("GET", rf"/v4/spreadsheets/{_ID}", "spreadsheets.get"),
        ("POST", rf"/v4/spreadsheets/{_ID}:batchUpdate", "spreadsheets.batchUpdate"),
        ("GET", rf"/v4/spreadsheets/{_ID}/values:batchGet", "values.batchGet"),
        ("POST", rf"/v4/spreadsheets/{_ID}/values:batchUpdate", "values.batchUpdate"),
        ("POST", rf"/v4/spreadsheets/{_ID}/values:batchClear", "values.batchClear"),
        ("POST", rf"/v4/spreadsheets/{_ID}/values/(?P<range>.+):append", "values.append"),
        ("POST", rf"/v4/spreadsheets/{_ID}/values/(?P<range>.+):clear", "values.clear"),
        ("GET", rf"/v4/spreadsheets/{_ID}/values/(?P<range>.+)", "values.get"),
        ("PUT", rf"/v4/spreadsheets/{_ID}/values/(?P<range>.+)", "values.update"),
        ("POST", rf"/v4/spreadsheets/{_ID}/sheets/(?P<sheet>\d+):copyTo", "sheets.copyTo"),
        ("GET", r"/drive/v3/files", "drive.files.list"),
        ("POST", r"/drive/v3/files", "drive.files.create"),
        ("GET", rf"/drive/v3/files/{_FILE}", "drive.files.get"),
        ("PATCH", rf"/drive/v3/files/{_FILE}", "drive.files.update"),
        ("DELETE", rf"/drive/v3/files/{_FILE}", "drive.files.delete"),
        ("POST", rf"/drive/v3/files/{_FILE}/copy", "drive.files.copy"),
        ("GET", rf"/drive/v3/files/{_FILE}/comments", "drive.comments.list"),
        ("GET", rf"/drive/v3/files/{_FILE}/export", "drive.files.export"),
        ("GET", rf"/drive/v3/files/{_FILE}/permissions", "drive.permissions.list"),
        ("POST", rf"/drive/v3/files/{_FILE}/permissions", "drive.permissions.create"),
        (
            "DELETE",
            rf"/drive/v3/files/{_FILE}/permissions/(?P<perm>[^/?]+)",
            "drive.permissions.delete",
        ),
        ("POST", r"(?:/oauth2/v4)?/token", "oauth2.token"),
    ]
]


@dataclass
class LoggedRequest:
    """One request as the emulator saw it."""

    method: str
    url: str
    endpoint: str
    body: Any
    status: int | None = None
    fault: str | None = None
    at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy."""
        return asdict(self)


@dataclass
class _Fault:
    kind: str  # "http", "slow", "drop" or "apply_then_drop"
    name: str
    remaining: int
    patterns: tuple[str, ...] | None
    status: int = 0
    delay: float = 0.0
    message: str | None = None

    def matches(self, endpoint: str) -> bool:
        if self.patterns is None:
            return endpoint not in {"oauth2.token", "unknown"}
        return any(fnmatch.fnmatchcase(endpoint, p) for p in self.patterns)


@dataclass
class _Anchor:
    row: int
    col: int


def _anchor(label: str) -> _Anchor:
    try:
        rng = parse_a1(None, label)
    except RangeParseError:
        raise ValueError(f"not a cell label: {label!r}") from None
    if rng.start_row is None or rng.start_col is None:
        raise ValueError(f"not a cell label: {label!r}")
    return _Anchor(rng.start_row, rng.start_col)


class SheetsEmulator:
    """In-memory Google Sheets + Drive, reachable through gspread's real HTTP path.

    Thread-safe: one lock guards all state; injected delays sleep outside it.

    :param seed: seed for generated spreadsheet and sheet ids (``None`` = random).
    :param require_auth: answer 401 to requests without an ``Authorization`` header.
    :param clock: time source for Drive's ``createdTime`` / ``modifiedTime``.
    """

    def __init__(
        self,
        *,
        seed: int | None = 0,
        require_auth: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._service = SheetsService(seed=seed, clock=clock)
        self._counts: Counter[str] = Counter()
        self._log: list[LoggedRequest] = []
        self._faults: list[_Fault] = []
        self._servers: list[EmulatorServer] = []
        self._tokens = 0
        self.require_auth = require_auth
        #: Tracebacks of emulator bugs (answered as HTTP 500); tests can assert it stays empty.
        self.internal_errors: list[str] = []

    # ------------------------------------------------------------------------------------------
    # State set-up (what exists before the app runs)

    def create_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        *,
        spreadsheet_id: str | None = None,
        worksheets: Sequence[str | Mapping[str, Any]] | None = None,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        shared: bool = True,
    ) -> str:
        """Create a spreadsheet and return its id.

        ``worksheets`` are titles or dicts with ``title``, ``rows`` (1000), ``cols`` (26),
        ``sheet_id``, ``hidden``, and optional initial ``values`` (with ``input``, default
        ``"RAW"``). The first sheet gets ``sheetId`` 0 like a new Google spreadsheet.
        ``shared=False`` models a spreadsheet the service account cannot open (403).
        """
        specs = [
            {"title": w} if isinstance(w, str) else dict(w) for w in (worksheets or ["Sheet1"])
        ]
        with self._lock:
            props = []
            for i, spec in enumerate(specs):
                sheet_props: dict[str, Any] = {
                    "title": spec["title"],
                    "gridProperties": {
                        "rowCount": int(spec.get("rows", DEFAULT_ROWS)),
                        "columnCount": int(spec.get("cols", DEFAULT_COLUMNS)),
                    },
                }
                sheet_id = spec.get("sheet_id", 0 if i == 0 else None)
                if sheet_id is not None:
                    sheet_props["sheetId"] = sheet_id
                if spec.get("hidden"):
                    sheet_props["hidden"] = True
                props.append(sheet_props)
            ss = self._call(
                self._service.create_spreadsheet,
                title,
                spreadsheet_id=spreadsheet_id,
                sheets=props,
                locale=locale,
                time_zone=time_zone,
                shared=shared,
            )
            for spec in specs:
                if spec.get("values"):
                    self.set_cells(
                        ss.spreadsheet_id,
                        spec["title"],
                        spec["values"],
                        input=spec.get("input", "RAW"),
                    )
            return ss.spreadsheet_id

    def copy_spreadsheet(self, spreadsheet_id: str, title: str | None = None) -> str:
        """Copy a whole spreadsheet (as Drive's files.copy does); return the new id.

        Lets a test suite build a register once and give each test its own copy.
        """
        with self._lock:
            copied = self._call(
                self._service.drive_copy, spreadsheet_id, {"name": title} if title else {}
            )
            return copied["id"]

    def add_worksheet(
        self,
        spreadsheet_id: str,
        title: str,
        *,
        rows: int = DEFAULT_ROWS,
        cols: int = DEFAULT_COLUMNS,
        sheet_id: int | None = None,
        index: int | None = None,
        hidden: bool = False,
    ) -> int:
        """Add a worksheet (as a human would) and return its ``sheetId``."""
        props: dict[str, Any] = {
            "title": title,
            "gridProperties": {"rowCount": rows, "columnCount": cols},
        }
        if sheet_id is not None:
            props["sheetId"] = sheet_id
        if index is not None:
            props["index"] = index
        if hidden:
            props["hidden"] = True
        with self._lock:
            ss = self._spreadsheet(spreadsheet_id)
            ws = self._call(self._service.add_sheet, ss, props, "addSheet")
            self._service.touch(ss)
            return ws.sheet_id

    def load(self, spec: Mapping[str, Any]) -> list[str]:
        """Create spreadsheets from a JSON-like spec; return their ids.

        ``{"spreadsheets": [{"id": ..., "title": ..., "shared": true, "locale": ...,
        "time_zone": ..., "worksheets": [{"title": ..., "rows": ..., "cols": ...,
        "values": [[...]], "input": "RAW"}]}]}``
        """
        ids = []
        for item in spec.get("spreadsheets", []):
            ids.append(
                self.create_spreadsheet(
                    item.get("title", "Untitled spreadsheet"),
                    spreadsheet_id=item.get("id"),
                    worksheets=item.get("worksheets"),
                    locale=item.get("locale", "en_US"),
                    time_zone=item.get("time_zone", "Etc/GMT"),
                    shared=item.get("shared", True),
                )
            )
        return ids

    def set_shared(self, spreadsheet_id: str, shared: bool) -> None:
        """Share (or un-share) a spreadsheet with the emulated service account."""
        with self._lock:
            self._spreadsheet(spreadsheet_id).shared = shared

    def delete_spreadsheet(self, spreadsheet_id: str) -> None:
        """Remove a spreadsheet (later requests get 404)."""
        with self._lock:
            self._service.spreadsheets.pop(spreadsheet_id)

    def reset(self) -> None:
        """Forget all spreadsheets, counters, the log and pending faults."""
        with self._lock:
            self._service.spreadsheets.clear()
            self._counts.clear()
            self._log.clear()
            self._faults.clear()
            self.internal_errors.clear()

    def spreadsheet_ids(self) -> list[str]:
        """Ids of all spreadsheets (shared or not)."""
        with self._lock:
            return list(self._service.spreadsheets)

    def metadata(self, spreadsheet_id: str) -> dict[str, Any]:
        """What ``spreadsheets.get`` would return (ignores sharing)."""
        with self._lock:
            return self._spreadsheet(spreadsheet_id).metadata()

    def worksheet_properties(self, spreadsheet_id: str, sheet: str | int) -> dict[str, Any]:
        """A copy of one worksheet's properties (title, index, gridProperties...)."""
        with self._lock:
            ws = self._sheet(spreadsheet_id, sheet)
            return json.loads(json.dumps(ws.properties))

    # ------------------------------------------------------------------------------------------
    # A human editing the sheet directly

    def set_cells(
        self,
        spreadsheet_id: str,
        sheet: str | int,
        rows: Sequence[Sequence[Any]],
        *,
        start: str = "A1",
        input: str = "USER_ENTERED",
        grow: bool = True,
    ) -> None:
        """Type ``rows`` into the sheet from ``start`` (``""`` clears a cell, ``None`` skips).

        ``input`` is ``"USER_ENTERED"`` (typed in the UI) or ``"RAW"``. With ``grow`` the
        grid is enlarged as needed, as a person would add rows first.
        """
        anchor = _anchor(start)
        with self._lock:
            ss = self._spreadsheet(spreadsheet_id)
            ws = self._sheet(spreadsheet_id, sheet)
            cells = self._call(
                self._service.parse_values, {"values": [list(r) for r in rows]}, input
            )
            height = len(cells)
            width = max((len(r) for r in cells), default=0)
            need_rows, need_cols = anchor.row + height, anchor.col + width
            if need_rows > ws.row_count or need_cols > ws.column_count:
                if not grow:
                    raise ValueError(
                        f"{start} + {height}x{width} exceeds the grid "
                        f"({ws.row_count}x{ws.column_count})"
                    )
                grid = ws.properties["gridProperties"]
                grid["rowCount"] = max(ws.row_count, need_rows)
                grid["columnCount"] = max(ws.column_count, need_cols)
            self._service.apply_cells(ws, anchor.row, anchor.col, cells)
            self._service.touch(ss)

    def insert_rows(
        self,
        spreadsheet_id: str,
        sheet: str | int,
        index: int,
        rows: Sequence[Sequence[Any]] = (),
        *,
        count: int | None = None,
        input: str = "USER_ENTERED",
    ) -> None:
        """Insert rows before 1-based row ``index`` (grid grows), optionally typing ``rows``."""
        n = count if count is not None else len(rows)
        with self._lock:
            ss = self._spreadsheet(spreadsheet_id)
            ws = self._sheet(spreadsheet_id, sheet)
            if not 1 <= index <= ws.row_count + 1:
                raise ValueError(f"row {index} is outside 1..{ws.row_count + 1}")
            ws.insert_rows(index - 1, n)
            ss.shift_named_ranges(ws.sheet_id, "ROWS", index - 1, n)
            self._service.touch(ss)
            if rows:
                self.set_cells(spreadsheet_id, sheet, rows, start=f"A{index}", input=input)

    def delete_rows(
        self, spreadsheet_id: str, sheet: str | int, index: int, count: int = 1
    ) -> None:
        """Delete ``count`` rows starting at 1-based row ``index`` (grid shrinks)."""
        with self._lock:
            ss = self._spreadsheet(spreadsheet_id)
            ws = self._sheet(spreadsheet_id, sheet)
            if index < 1 or index - 1 + count > ws.row_count or count >= ws.row_count:
                raise ValueError(f"cannot delete rows {index}..{index + count - 1}")
            ws.delete_rows(index - 1, index - 1 + count)
            ss.shift_named_ranges(ws.sheet_id, "ROWS", index - 1, -count)
            self._service.touch(ss)

    def sort_rows(
        self,
        spreadsheet_id: str,
        sheet: str | int,
        column: str | int,
        *,
        descending: bool = False,
        header_rows: int = 1,
    ) -> None:
        """Sort the data rows by one column (letter or 0-based index), like Data > Sort range.

        Blank cells go last; numbers sort before text, text before booleans.
        """
        col = column_index(column) if isinstance(column, str) else column
        with self._lock:
            ss = self._spreadsheet(spreadsheet_id)
            ws = self._sheet(spreadsheet_id, sheet)
            used_rows, used_cols = ws.used_extent()
            if used_rows <= header_rows:
                return
            box = Box(ws, header_rows, 0, used_rows - 1, max(used_cols, col + 1) - 1)
            order = "DESCENDING" if descending else "ASCENDING"
            self._service.sort_box(ss, box, [(col, order)])
            self._service.touch(ss)

    def get_grid(
        self,
        spreadsheet_id: str,
        sheet: str | int,
        *,
        render: str = FORMATTED_VALUE,
        datetime_render: str = SERIAL_NUMBER,
    ) -> list[list[Any]]:
        """The used area of the sheet as a rectangle (from A1, padded).

        ``render`` is a ``valueRenderOption`` (empty cells are ``""``) or ``"CELLS"`` for
        the stored :class:`Cell` objects (empty cells are ``None``).
        """
        with self._lock:
            ss = self._spreadsheet(spreadsheet_id)
            ws = self._sheet(spreadsheet_id, sheet)
            nrows, ncols = ws.used_extent()
            if render == "CELLS":
                return [[ws.get(r, c) for c in range(ncols)] for r in range(nrows)]

            def show(cell: Cell | None) -> Any:
                if cell is None:
                    return ""
                return render_cell(
                    cell,
                    render,
                    datetime_render,
                    lambda formula: self._service.evaluate(ss, ws, formula),
                )

            return [[show(ws.get(r, c)) for c in range(ncols)] for r in range(nrows)]

    def get_cell(self, spreadsheet_id: str, sheet: str | int, label: str) -> Cell | None:
        """The stored cell at ``label`` (e.g. ``"B2"``), or ``None`` when empty."""
        anchor = _anchor(label)
        with self._lock:
            return self._sheet(spreadsheet_id, sheet).get(anchor.row, anchor.col)

    # ------------------------------------------------------------------------------------------
    # Instrumentation and faults

    @property
    def counts(self) -> dict[str, int]:
        """Requests received per endpoint, e.g. ``{"values.batchGet": 3, ...}``."""
        with self._lock:
            return dict(self._counts)

    @property
    def request_log(self) -> list[LoggedRequest]:
        """Every request received since the last :meth:`reset_counts`, oldest first."""
        with self._lock:
            return list(self._log)

    def reset_counts(self) -> None:
        """Zero the counters and clear the request log."""
        with self._lock:
            self._counts.clear()
            self._log.clear()

    def inject(
        self,
        fault: str | int,
        times: int = 1,
        endpoint: str | Iterable[str] | None = None,
        *,
        delay: float = 1.0,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` matching requests fail.

        ``fault``: an HTTP status (``429``, ``500``, ``503``, ``403``...; answered with
        Google's envelope, state untouched), ``"slow"`` (the request is applied, the answer
        comes ``delay`` seconds late; in process a client read timeout below ``delay`` raises
        ``ReadTimeout``), ``"drop"`` (connection closed without an answer, nothing applied) or
        ``"apply_then_drop"`` (the write is applied, then the connection drops).
        ``endpoint``: endpoint names or glob patterns (``"values.*"``); by default every
        Sheets/Drive endpoint (not the token endpoint). Faults queue up in order.
        """
        patterns = None
        if endpoint is not None:
            patterns = (endpoint,) if isinstance(endpoint, str) else tuple(endpoint)
        name = str(fault)
        if name in {"slow", "drop", "apply_then_drop"}:
            item = _Fault(name, name, times, patterns, delay=delay)
        elif name.isdigit() and 400 <= int(name) <= 599:
            item = _Fault("http", name, times, patterns, status=int(name), message=message)
        else:
            raise ValueError(f"unknown fault {fault!r}; use one of {FAULTS} or an HTTP status")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(item)

    def clear_faults(self) -> None:
        """Drop all pending faults."""
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> list[tuple[str, int]]:
        """(fault, remaining) for faults not used up yet."""
        with self._lock:
            return [(f.name, f.remaining) for f in self._faults]

    # ------------------------------------------------------------------------------------------
    # Transports

    def adapter(self) -> EmulatorAdapter:
        """A ``requests`` adapter answering from this emulator in process."""
        return EmulatorAdapter(self)

    def session(self) -> requests.Session:
        """A ``requests.Session`` whose Google traffic is answered in process."""
        session = requests.Session()
        session.trust_env = False
        return mount_google(session, self.adapter())

    def client(self, http_client: Any = None) -> gspread.Client:
        """A ready ``gspread.Client`` (``auth=None``) on :meth:`session`."""
        import gspread
        from gspread.http_client import HTTPClient

        return gspread.Client(
            auth=None,  # type: ignore[arg-type]
            session=self.session(),
            http_client=http_client or HTTPClient,
        )

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Start a loopback HTTP server in a daemon thread (``port=0`` picks a free port).

        The same API is served at ``/v4/spreadsheets/...``, ``/drive/v3/...`` and
        ``/token``; stop it with ``server.shutdown()`` (or :meth:`shutdown`).
        """
        server = EmulatorServer(self, host, port)
        with self._lock:
            self._servers.append(server)
        return server

    def shutdown(self) -> None:
        """Stop every server started by :meth:`serve`."""
        with self._lock:
            servers, self._servers = self._servers, []
        for server in servers:
            server.shutdown()

    # ------------------------------------------------------------------------------------------
    # Request processing (called by the transports)

    def process(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Handle one API request and say how to answer it (see ``sheets_transport``)."""
        method = method.upper()
        parts = urlsplit(url)
        endpoint, args = _route(method, parts.path)
        entry = LoggedRequest(method, url, endpoint, _loggable(body), at=time.time())
        with self._lock:
            self._counts[endpoint] += 1
            self._log.append(entry)
            fault = next((f for f in self._faults if f.matches(endpoint)), None)
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                entry.fault = fault.name
        if fault is not None and fault.kind == "http":
            reply = _fault_reply(fault, method)
            entry.status = reply.status
            return Outcome(endpoint, reply)
        if fault is not None and fault.kind == "drop":
            return Outcome(endpoint, None, drop=True)
        query = parse_qs(parts.query, keep_blank_values=True)
        reply = self._execute(endpoint, args, query, CaseInsensitiveDict(headers), body)
        entry.status = reply.status
        if fault is not None and fault.kind == "slow":
            return Outcome(endpoint, reply, delay=fault.delay)
        if fault is not None and fault.kind == "apply_then_drop":
            return Outcome(endpoint, reply, drop=True)
        return Outcome(endpoint, reply)

    def _execute(
        self,
        endpoint: str,
        args: dict[str, str],
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Reply:
        params = {k: v[-1] for k, v in query.items()}
        with self._lock:
            try:
                needs_auth = self.require_auth and endpoint != "oauth2.token"
                if needs_auth and not headers.get("Authorization"):
                    raise ApiError(401)
                return self._dispatch(endpoint, args, query, params, body)
            except ApiError as exc:
                return Reply(exc.code, exc.body())
            except Exception as exc:  # an emulator bug: answer 500, keep the traceback
                self.internal_errors.append(traceback.format_exc())
                return Reply(500, ApiError(500, f"Sheets emulator bug: {exc!r}").body())

    def _dispatch(
        self,
        endpoint: str,
        args: dict[str, str],
        query: dict[str, list[str]],
        params: dict[str, str],
        body: bytes,
    ) -> Reply:
        svc = self._service
        sid = unquote(args.get("id", ""))
        rng = unquote(args.get("range", ""))
        if endpoint == "oauth2.token":
            self._tokens += 1
            token = {"access_token": f"emulator-token-{self._tokens}", "expires_in": 3600}
            return Reply(200, {**token, "token_type": "Bearer"})
        handlers: dict[str, Callable[[], Any]] = {
            "spreadsheets.get": lambda: svc.spreadsheets_get(sid, params),
            "spreadsheets.create": lambda: svc.spreadsheets_create(_json(body)),
            "spreadsheets.batchUpdate": lambda: svc.batch_update(sid, _json(body)),
            "values.get": lambda: svc.values_get(sid, rng, params),
            "values.batchGet": lambda: svc.values_batch_get(sid, query.get("ranges", []), params),
            "values.update": lambda: svc.values_update(sid, rng, params, _json(body)),
            "values.batchUpdate": lambda: svc.values_batch_update(sid, _json(body)),
            "values.append": lambda: svc.values_append(sid, rng, params, _json(body)),
            "values.clear": lambda: svc.values_clear(sid, rng),
            "values.batchClear": lambda: svc.values_batch_clear(sid, _json(body)),
            "sheets.copyTo": lambda: svc.copy_sheet_to(sid, int(args["sheet"]), _json(body)),
            "drive.files.list": lambda: svc.drive_list(params),
            "drive.files.create": lambda: svc.drive_create(_json(body)),
            "drive.files.get": lambda: svc.drive_get(sid, params),
            "drive.files.update": lambda: svc.drive_update(sid, _json(body), params),
            "drive.files.copy": lambda: svc.drive_copy(sid, _json(body)),
            "drive.comments.list": lambda: (svc.get_drive_file(sid), {"comments": []})[1],
            "drive.permissions.list": lambda: {
                "permissions": list(svc.get_drive_file(sid).permissions)
            },
            "drive.permissions.create": lambda: _add_permission(
                svc.get_drive_file(sid), _json(body)
            ),
        }
        if endpoint == "drive.files.export":
            content, mime = svc.drive_export(sid, params)
            return Reply(200, raw=content, headers={"Content-Type": mime})
        if endpoint == "drive.files.delete":
            svc.drive_delete(sid)
            return Reply(204)
        if endpoint == "drive.permissions.delete":
            ss = svc.get_drive_file(sid)
            ss.permissions = [p for p in ss.permissions if p["id"] != unquote(args["perm"])]
            return Reply(204)
        handler = handlers.get(endpoint)
        if handler is None:
            raise ApiError(404, f"The Sheets emulator has no route for this request ({endpoint}).")
        return Reply(200, handler())

    # ------------------------------------------------------------------------------------------
    # Control API of the loopback server

    def control(self, method: str, path: str, body: bytes) -> Reply:
        """Answer ``/__emulator/<op>`` requests (used by :class:`RemoteEmulator`)."""
        parts = urlsplit(path)
        op = parts.path[len(CONTROL_PREFIX) :].strip("/")
        kwargs: dict[str, Any] = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if body:
            kwargs.update(_json(body) or {})
        ops: dict[str, Callable[..., Any]] = {
            "counts": lambda: {"counts": self.counts},
            "log": lambda: {"log": [e.as_dict() for e in self.request_log]},
            "reset_counts": self.reset_counts,
            "reset": self.reset,
            "inject": self.inject,
            "clear_faults": self.clear_faults,
            "load": lambda **kw: {"spreadsheet_ids": self.load(kw)},
            "create_spreadsheet": lambda **kw: {"spreadsheet_id": self.create_spreadsheet(**kw)},
            "set_cells": self.set_cells,
            "insert_rows": self.insert_rows,
            "delete_rows": self.delete_rows,
            "sort_rows": self.sort_rows,
            "set_shared": self.set_shared,
            "grid": lambda **kw: {"values": self.get_grid(**kw)},
            "metadata": lambda **kw: self.metadata(**kw),
            "errors": lambda: {"internal_errors": list(self.internal_errors)},
        }
        if op not in ops:
            return Reply(404, {"error": f"unknown control operation {op!r}"})
        try:
            result = ops[op](**kwargs)
        except (ApiError, KeyError, TypeError, ValueError) as exc:
            return Reply(400, {"error": f"{type(exc).__name__}: {exc}"})
        return Reply(200, result if isinstance(result, dict) else {})

    # ------------------------------------------------------------------------------------------
    # Helpers

    def _spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        try:
            return self._service.spreadsheets[spreadsheet_id]
        except KeyError:
            raise KeyError(f"no spreadsheet {spreadsheet_id!r}") from None

    def _sheet(self, spreadsheet_id: str, sheet: str | int) -> Worksheet:
        ss = self._spreadsheet(spreadsheet_id)
        try:
            return self._service.find_sheet(ss, sheet)
        except KeyError:
            raise KeyError(f"no worksheet {sheet!r} in {spreadsheet_id!r}") from None

    @staticmethod
    def _call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ApiError as exc:
            raise ValueError(exc.message) from exc


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    for route_method, pattern, endpoint in _ROUTES:
        if route_method == method:
            m = pattern.fullmatch(path)
            if m:
                return endpoint, {k: v for k, v in m.groupdict().items() if v is not None}
    return "unknown", {}


def _json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"Invalid JSON payload received. {exc}", "INVALID_ARGUMENT") from None


def _loggable(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body.decode("utf-8", "replace")


def _add_permission(ss: Spreadsheet, body: Any) -> dict[str, Any]:
    body = body or {}
    permission = {
        "kind": "drive#permission",
        "id": f"perm{len(ss.permissions) + 1}",
        "type": body.get("type", "user"),
        "role": body.get("role", "reader"),
    }
    if body.get("emailAddress"):
        permission["emailAddress"] = body["emailAddress"]
    ss.permissions.append(permission)
    return permission


def _fault_reply(fault: _Fault, method: str) -> Reply:
    if fault.status == 429:
        kind = "Read" if method == "GET" else "Write"
        message = fault.message or (
            f"Quota exceeded for quota metric '{kind} requests' and limit '{kind} requests per "
            "minute per user' of service 'sheets.googleapis.com' for consumer "
            "'project_number:000000000000'."
        )
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "quota_metric": f"sheets.googleapis.com/{kind.lower()}_requests",
                    "quota_limit": f"{kind}RequestsPerMinutePerUser",
                    "service": "sheets.googleapis.com",
                    "consumer": "projects/000000000000",
                },
            }
        ]
        return Reply(429, ApiError(429, message, details=details).body())
    return Reply(fault.status, ApiError(fault.status, fault.message).body())


class RemoteEmulator:
    """Drive a served emulator (``python -m tests.fakes.sheets_emulator``) from a test.

    Mirrors the set-up, human-edit, instrumentation and fault methods of
    :class:`SheetsEmulator` over the loopback control API.
    """

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        self.base = f"http://{address}{CONTROL_PREFIX}"
        self.timeout = timeout
        self._http = requests.Session()
        self._http.trust_env = False

    def _call(self, op: str, method: str = "POST", **kwargs: Any) -> dict[str, Any]:
        if method == "GET":
            r = self._http.get(self.base + op, params=kwargs, timeout=self.timeout)
        else:
            r = self._http.post(self.base + op, json=kwargs, timeout=self.timeout)
        if r.status_code != 200:
            raise RuntimeError(f"emulator control {op} failed: {r.status_code} {r.text}")
        return r.json()

    @property
    def counts(self) -> dict[str, int]:
        """Requests per endpoint."""
        return self._call("counts", "GET")["counts"]

    @property
    def request_log(self) -> list[dict[str, Any]]:
        """The request log as dicts."""
        return self._call("log", "GET")["log"]

    def reset_counts(self) -> None:
        """Zero the counters and clear the log."""
        self._call("reset_counts")

    def reset(self) -> None:
        """Forget everything."""
        self._call("reset")

    def inject(self, fault: str | int, times: int = 1, endpoint: Any = None, **kw: Any) -> None:
        """See :meth:`SheetsEmulator.inject`."""
        self._call("inject", fault=fault, times=times, endpoint=endpoint, **kw)

    def clear_faults(self) -> None:
        """Drop pending faults."""
        self._call("clear_faults")

    def load(self, spec: Mapping[str, Any]) -> list[str]:
        """See :meth:`SheetsEmulator.load`."""
        return self._call("load", **spec)["spreadsheet_ids"]

    def create_spreadsheet(self, title: str = "Untitled spreadsheet", **kw: Any) -> str:
        """See :meth:`SheetsEmulator.create_spreadsheet`."""
        return self._call("create_spreadsheet", title=title, **kw)["spreadsheet_id"]

    def set_cells(self, spreadsheet_id: str, sheet: str | int, rows: Any, **kw: Any) -> None:
        """See :meth:`SheetsEmulator.set_cells`."""
        self._call("set_cells", spreadsheet_id=spreadsheet_id, sheet=sheet, rows=rows, **kw)

    def insert_rows(self, spreadsheet_id: str, sheet: str | int, index: int, **kw: Any) -> None:
        """See :meth:`SheetsEmulator.insert_rows`."""
        self._call("insert_rows", spreadsheet_id=spreadsheet_id, sheet=sheet, index=index, **kw)

    def delete_rows(
        self, spreadsheet_id: str, sheet: str | int, index: int, count: int = 1
    ) -> None:
        """See :meth:`SheetsEmulator.delete_rows`."""
        self._call(
            "delete_rows", spreadsheet_id=spreadsheet_id, sheet=sheet, index=index, count=count
        )

    def sort_rows(
        self, spreadsheet_id: str, sheet: str | int, column: str | int, **kw: Any
    ) -> None:
        """See :meth:`SheetsEmulator.sort_rows`."""
        self._call("sort_rows", spreadsheet_id=spreadsheet_id, sheet=sheet, column=column, **kw)

    def set_shared(self, spreadsheet_id: str, shared: bool) -> None:
        """See :meth:`SheetsEmulator.set_shared`."""
        self._call("set_shared", spreadsheet_id=spreadsheet_id, shared=shared)

    def get_grid(self, spreadsheet_id: str, sheet: str, render: str = FORMATTED_VALUE) -> Any:
        """See :meth:`SheetsEmulator.get_grid` (cell objects are not available remotely)."""
        return self._call("grid", "GET", spreadsheet_id=spreadsheet_id, sheet=sheet, render=render)[
            "values"
        ]


def main(argv: Sequence[str] | None = None) -> int:
    """Serve an emulator on loopback until SIGTERM / Ctrl-C; print ``host:port`` first."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.sheets_emulator",
        description="Serve the Google Sheets API emulator over loopback HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--spreadsheet",
        action="append",
        default=[],
        metavar="ID[=TITLE]",
        help="create a spreadsheet with this id (repeatable)",
    )
    parser.add_argument(
        "--worksheet",
        action="append",
        default=[],
        metavar="TITLE",
        help="worksheets of each --spreadsheet (default: Sheet1)",
    )
    parser.add_argument("--seed-file", type=Path, help="JSON spec for SheetsEmulator.load()")
    parser.add_argument("--require-auth", action="store_true")
    args = parser.parse_args(argv)

    emulator = SheetsEmulator(require_auth=args.require_auth, seed=None)
    for item in args.spreadsheet:
        sid, _, title = item.partition("=")
        emulator.create_spreadsheet(
            title or sid, spreadsheet_id=sid, worksheets=args.worksheet or None
        )
    if args.seed_file:
        emulator.load(json.loads(args.seed_file.read_text(encoding="utf-8")))
    server = emulator.serve(args.host, args.port)
    print(server.address, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
