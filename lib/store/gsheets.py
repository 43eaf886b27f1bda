"""The register in one shared Google Sheet (``gsheets://SPREADSHEET_KEY``), on gspread 6 directly.

Each sheet of the schema is a worksheet titled by its Chinese title (``案件``; an existing tab
named ``cases`` or ``Cases`` is used too). Row 1 is the header; columns are found **by header
text** (Chinese header, English key or English label), so people may reorder columns, add their
own (kept untouched and read as extra columns), insert blank rows and sort. The store follows
the protocol of :mod:`lib.store.base`; what is special about Sheets is below.

Reading
    The whole register is **one** ``values:batchGet`` call (every requested sheet at once). Cells
    are read with ``valueRenderOption=FORMULA`` and ``dateTimeRenderOption=SERIAL_NUMBER``:

    * text the app wrote (always RAW) comes back byte-exact under any option — ``0123``,
      ``=1+1``, ``2026-01-01``, ``12%``, ``TRUE`` stay text;
    * FORMULA never evaluates anything: a formula a person typed reads as its own text
      (``=TODAY()`` is not silently turned into a date that changes every day, and a phone typed
      as ``+86 138…`` — which Sheets turns into a broken formula — reads as what was typed rather
      than ``#ERROR!``);
    * values a person typed come back typed, not formatted: numbers unformatted (a phone typed
      as a number reads ``13800138000``, never ``1.38E+10`` or ``13,800,138,000``), booleans as
      JSON booleans (``TRUE``/``FALSE``), and dates as serial numbers. FORMATTED_VALUE would give
      whatever display format and locale the cell has (``3/2/2026``, ``2026年3月2日``), which is
      ambiguous; a serial is not. The store then turns each typed value into canonical text
      using the column's schema type: a serial in a ``date`` column becomes ``YYYY-MM-DD`` (a ``datetime`` one
      ISO 8601 in the spreadsheet's time zone), ``TRUE``/``FALSE`` for booleans, digits for
      whole numbers. Dates typed as text (``2026/3/2``) stay text; the schema reads them.

    Nothing is dropped: a column with no header or a duplicated header is kept as an extra
    column, and :attr:`Snapshot.problems` lists it (with numbers that lost digits because
    Sheets stored them as floating point — an ID number typed as a number) by sheet row number.
    Values the schema cannot read are reported by ``check`` from the ``_row`` sheet row numbers.

Writing
    Always ``valueInputOption=RAW``. A commit is ordered so that a failure leaves the register
    consistent:

    1. **one fresh read** (a ``values:batchGet`` of the headers, key and version columns, and
       the tail of ``_ids``): every update's row is found again **by key** (never by a cached
       row number — people sort and insert rows), versions are checked, columns and duplicate
       keys and cells over Google's 50,000-character limit are checked. Any problem →
       :class:`ConflictError` / :class:`RowNotFound` / :class:`StoreError` and **nothing is
       written**. A version cell a person left empty counts as 0 (a row added by hand);
    2. new ids are claimed (below); a failure here leaves at most an unused number. When the
       commit is nothing but appends of moderate size (an intake: the case and its history
       rows), the rows go in the **same** atomic call as the claim, and the commit is done:
       an intake is two calls, one read and one write;
    3. all updates in **one** ``values:batchUpdate`` of only the changed cells plus ``version``
       (atomic across rows and sheets);
    4. appends, one ``values:append`` (``INSERT_ROWS``) per sheet (parts of ≤ 2 MB for bulk
       imports), keyed sheets first and ``history`` last. Should Google's table detection
       start the rows right of column A (a sheet whose first columns are empty at the bottom),
       the store moves them back under their headers.

    Sheets has no transactions: if step 4 finally fails after step 3 landed, the error says
    exactly what was written and what was not (:data:`gs.partial`). Inside one process, commits
    on the same spreadsheet are serialised by a lock, so the version check and the write cannot
    interleave between two sessions of the app (no lost updates between colleagues using the
    portal). Between *processes* (the portal and a CLI job) the check and the write are one
    round trip apart; that window is not closed (Sheets has no conditional write).

Ids
    :class:`NewId` numbers come from a hidden ``_ids`` worksheet, an append-only log of claims
    ``(sheet:prefix, first, count, token, time, marker)``, made safe by a compare-and-swap that
    Sheets offers in a roundabout way: a ``spreadsheets:batchUpdate`` is atomic, refuses to
    delete a named range that does not exist and refuses to add one whose id exists. Claim k
    of the chain owns the named range ``liuyan_ids_<k>``; claim k+1 is one batch of
    ``deleteNamedRange liuyan_ids_<k>``, ``addNamedRange liuyan_ids_<k+1>`` and ``appendCells``
    of its log row (and, for an intake, of the case and history rows). A writer reads the log's
    tail and the key column in the commit's fresh read, proposes ``first = max(highest id in the
    sheet, highest claim) + 1`` and sends the batch: if another claim came in between, the
    marker it expects is gone, Google refuses the whole batch (nothing is written), and the
    writer reads the claims it missed and tries again above them. The first claim ever adds
    ``liuyan_ids_base`` instead of deleting (so only one writer can start the chain). So
    concurrent intakes — threads or processes — never get the same id; gaps are possible after
    a failed write. A person deleting the marker stops new ids with a clear error until the
    next ``init`` (every process start) puts it back. (Claims written before markers existed
    are read as before; writers of an older version of this store must not share a sheet with
    this one.)

Faults
    Every call goes through :mod:`lib.store.retry` (capped exponential backoff with jitter, a
    30 s budget per operation, Retry-After honoured). A timeout, dropped connection or 5xx on a
    write may hide a write that landed: before retrying an append the store looks for the exact
    rows it sent (unique keys; timestamped rows for ``history``; its token for an id claim);
    before retrying an update it finds the rows again by key — they may have moved while it
    waited — and a row already at the new version means the write landed. So a write lands
    once or not at all, and when the budget runs out the user gets a :class:`SheetsError` in
    Chinese that says what happened (and whether the write may have landed).

Connecting
    :meth:`GSheetsStore.from_url` takes credentials from Streamlit secrets
    ``[connections.gsheets]`` (the service-account layout of st-gsheets-connection, optionally
    with ``spreadsheet``), or from ``GOOGLE_APPLICATION_CREDENTIALS``. With
    ``SHEETS_EMULATOR_HOST=host:port`` every call goes to that plain-HTTP emulator with no
    credentials. In the app, use :mod:`lib.store.gsheets_connection`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import threading
import tomllib
import uuid
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gspread
import pandas as pd
import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from requests.adapters import HTTPAdapter

from lib.i18n import DomainError, register_messages, t
from lib.schema import Schema, Sheet, default_schema
from lib.store import retry
from lib.store.base import (
    Changeset,
    ConflictError,
    NewId,
    RowNotFound,
    Snapshot,
    StoreError,
    Update,
    id_number,
    new_ids_in,
    resolve_new_ids,
)
from lib.store.retry import Budget, Fault, RetryExhausted, RetryPolicy

ROOT = Path(__file__).resolve().parent.parent.parent
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
EMULATOR_ENV = "SHEETS_EMULATOR_HOST"
CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
SECRETS_SECTION = "gsheets"
GOOGLE_HOSTS = (
    "https://sheets.googleapis.com/",
    "https://www.googleapis.com/",
    "https://oauth2.googleapis.com/",
)
#: How cells are read (see the module docstring).
READ_PARAMS = {
    "valueRenderOption": "FORMULA",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}
IDS_SHEET = "_ids"
IDS_HEADER = ["序列", "起始号", "个数", "标记", "时间", "编号锁"]
#: Named ranges that make claiming ids a compare-and-swap (see "Ids" in the module docstring):
#: ``liuyan_ids_<k>`` for the k-th claim of the chain (one alive at a time), and the base
#: marker made once, by the first claim, and never deleted.
MARKER_PREFIX = "liuyan_ids_"
MARKER_BASE = MARKER_PREFIX + "base"
#: After losing the compare-and-swap to another writer: a jittered pause, doubling from this
#: up to the cap, then try again (within the operation's time budget).
CLAIM_PAUSE_S = 0.02
CLAIM_PAUSE_CAP_S = 1.0
NEW_SHEET_ROWS = 1000
#: Appends are split so one request stays well under Google's payload limits.
MAX_APPEND_BYTES = 2_000_000
MAX_APPEND_ROWS = 5000
#: Google refuses a cell longer than this (SPEC allows content up to exactly this).
MAX_CELL_CHARS = 50_000
#: Serial numbers read as dates in date columns (the 5-digit range ``parse_date`` accepts).
SERIAL_MIN, SERIAL_MAX = 10_000, 100_000
SERIAL_EPOCH = dt.datetime(1899, 12, 30)
#: Sheets keeps numbers as doubles: from here on typed digits (ID numbers) may have been lost.
EXACT_LIMIT = 10**15
META_FIELDS = (
    "properties(title,timeZone,locale),"
    "sheets.properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount)),"
    "namedRanges(namedRangeId,name)"
)

register_messages(
    {
        "gs.no_credentials": (
            "未找到 Google 服务账号凭据：请在 .streamlit/secrets.toml 的 [connections.gsheets] "
            "中填入服务账号密钥（type、project_id、private_key_id、private_key、client_email、"
            "client_id、token_uri 等），或设置环境变量 GOOGLE_APPLICATION_CREDENTIALS 指向服务账号 "
            "JSON 文件",
            "No Google service-account credentials: put the service-account key (type, "
            "project_id, private_key_id, private_key, client_email, client_id, token_uri, …) in "
            "[connections.gsheets] of .streamlit/secrets.toml, or set "
            "GOOGLE_APPLICATION_CREDENTIALS to the path of the service-account JSON file",
        ),
        "gs.bad_credentials": (
            "Google 服务账号凭据无法使用（{reason}）：请检查 [connections.gsheets] 或 "
            "GOOGLE_APPLICATION_CREDENTIALS 指向的 JSON 文件",
            "The Google service-account credentials cannot be used ({reason}): check "
            "[connections.gsheets] or the JSON file GOOGLE_APPLICATION_CREDENTIALS points to",
        ),
        "gs.no_key": (
            "台账地址缺少表格 ID：请使用 gsheets://表格ID（表格网址中 /d/ 与 /edit 之间的部分），"
            "或在 [connections.gsheets] 中设置 spreadsheet",
            "The register URL has no spreadsheet id: use gsheets://SPREADSHEET_ID (the part of "
            "the sheet's address between /d/ and /edit), or set spreadsheet in "
            "[connections.gsheets]",
        ),
        "gs.not_shared": (
            "服务账号 {email} 无权打开 Google 表格 {key}：请打开该表格，点“共享”，把 {email} "
            "添加为“编辑者”后重试",
            "The service account {email} may not open the Google Sheet {key}: open the sheet, "
            "click Share and add {email} as an Editor, then try again",
        ),
        "gs.not_found": (
            "找不到 Google 表格 {key}：请检查台账地址 gsheets://表格ID（表格网址中 /d/ 与 /edit "
            "之间的部分），并确认表格没有被删除",
            "Google Sheet {key} was not found: check the register URL gsheets://SPREADSHEET_ID "
            "(the part of the address between /d/ and /edit) and that the sheet still exists",
        ),
        "gs.not_a_sheet": (
            "{key} 不是 Google 表格（可能是上传到云端硬盘的 Excel 文件）：请在 Google 表格中用"
            "“文件 → 另存为 Google 表格”，再使用新表格的 ID",
            "{key} is not a Google Sheet (perhaps an Excel file uploaded to Drive): use File → "
            "Save as Google Sheets and then the new sheet's id",
        ),
        "gs.auth_failed": (
            "Google 拒绝了服务账号 {email} 的登录（{reason}）：请检查密钥是否已删除或停用",
            "Google refused the service account {email} ({reason}): check that its key has not "
            "been deleted or disabled",
        ),
        "gs.api_disabled": (
            "服务账号所属的 Google Cloud 项目未启用 Google Sheets API：请在该项目中启用后重试"
            "（{reason}）",
            "The Google Sheets API is not enabled in the service account's Cloud project: "
            "enable it and try again ({reason})",
        ),
        "gs.api_error": (
            "Google 表格拒绝了请求（{code}）：{reason}",
            "Google Sheets refused the request ({code}): {reason}",
        ),
        "gs.quota": (
            "Google 表格的访问次数已达上限（每人每分钟 60 次读、60 次写），等待 {seconds} 秒后仍未"
            "恢复：请一分钟后再试，您填写的内容仍保留在页面上",
            "Google Sheets' quota is used up (60 reads and 60 writes a minute per user) and did "
            "not recover within {seconds} s: try again in a minute; what you entered is kept",
        ),
        "gs.unreachable": (
            "暂时无法{what}（Google 表格，已尝试 {attempts} 次、{seconds} 秒）：{reason}。"
            "请稍后再试，您填写的内容仍保留在页面上",
            "Could not {what} (Google Sheets, {attempts} attempts in {seconds} s): {reason}. "
            "Try again later; what you entered is kept",
        ),
        "gs.unsure": (
            "与 Google 表格的连接中断，无法确认“{what}”是否已写入：请刷新后查看，确认没有写入再重试",
            "The connection to Google Sheets broke and it is unknown whether “{what}” was "
            "written: refresh and look before trying again",
        ),
        "gs.partial": (
            "{done}已写入 Google 表格，但{missing}未能写入：{reason}",
            "{done} reached the Google Sheet but {missing} did not: {reason}",
        ),
        "gs.no_sheet": (
            "Google 表格中没有“{sheet}”工作表：请先运行 init（python -m lib init）",
            "The Google Sheet has no “{sheet}” tab: run init first (python -m lib init)",
        ),
        "gs.missing_columns": (
            "“{sheet}”表缺少这些列：{columns}（请先运行 init）",
            "“{sheet}” lacks these columns: {columns} (run init first)",
        ),
        "gs.duplicate_key": (
            "“{sheet}”表中“{key}”出现在多行（第 {rows} 行），无法确定要修改哪一行：请先在表格中"
            "处理重复行",
            "“{key}” appears in several rows of “{sheet}” (rows {rows}); it is unclear which "
            "to change: resolve the duplicates in the sheet first",
        ),
        "gs.key_taken": (
            "“{sheet}”表中已有“{key}”，不能重复添加",
            "“{sheet}” already has “{key}”",
        ),
        "gs.too_long": (
            "“{sheet}”表“{label}”有 {length} 个字符，超过 Google 表格单元格上限 50000 个字符，"
            "未写入任何内容",
            "“{label}” in “{sheet}” has {length} characters, more than a Google Sheets cell "
            "holds (50000); nothing was written",
        ),
        "gs.unstable": (
            "“{sheet}”表的列正在被他人调整，请稍后再试",
            "Someone is rearranging the columns of “{sheet}”; try again shortly",
        ),
        "gs.what.read": ("读取台账", "read the register"),
        "gs.what.write": ("保存修改", "save the change"),
        "gs.what.init": ("初始化台账", "initialise the register"),
        "gs.what.append": ("写入“{sheet}”", "write to “{sheet}”"),
        "gs.what.update": ("修改“{sheet}”", "change “{sheet}”"),
        "gs.what.ids": ("分配编号", "allocate ids"),
        "gs.marker_lost": (
            "编号分配标记（命名区域 {marker}）已被删除，无法安全分配新编号，未写入任何内容："
            "请管理员运行 python -m lib init（或重启门户）修复后重试",
            "The id allocation marker (named range {marker}) was deleted, so new ids cannot be "
            "allocated safely; nothing was written: an administrator should run python -m lib "
            "init (or restart the portal) and then try again",
        ),
        "gs.claim_busy": (
            "同时登记的人太多，{tries} 次都没能分配到编号，未写入任何内容：请稍后再试",
            "Too many people registering at once: no id could be allocated in {tries} tries; "
            "nothing was written: try again shortly",
        ),
        "gs.p.missing_sheet": (
            "缺少工作表“{sheet}”（运行 init 可补上）",
            "The tab “{sheet}” is missing (init adds it)",
        ),
        "gs.p.missing_columns": (
            "缺少列：{columns}（运行 init 可补上）",
            "Missing columns: {columns} (init adds them)",
        ),
        "gs.p.duplicate_header": (
            "列标题“{value}”在 {column} 列重复（第一次出现在 {first} 列）：{column} 列作为自定义列保留，"
            "不参与统计",
            "The header “{value}” in column {column} repeats column {first}: column {column} is "
            "kept as a custom column and not used",
        ),
        "gs.p.no_header": (
            "{column} 列有数据但没有列标题：作为自定义列保留",
            "Column {column} has data but no header: kept as a custom column",
        ),
        "gs.p.precision": (
            "“{label}”的值 {value} 是表格中的数字，超出 15 位精度，末尾数字可能已丢失：请把该列设为"
            "纯文本后重新填写",
            "“{label}”: {value} is a number in the sheet with more than 15 digits, so trailing "
            "digits may be lost: format the column as plain text and type it again",
        ),
    }
)


class SheetsError(StoreError, DomainError):
    """A Google Sheets failure, told in the user's language (``message(lang)``).

    It is a :class:`StoreError` (the store could not do its job) and a
    :class:`~lib.i18n.DomainError` (pages show ``message(lang)`` instead of a generic error).
    ``str()`` is the Chinese message.
    """

    def __init__(self, key: str, /, **params: object) -> None:
        DomainError.__init__(self, key, **params)


# -- small helpers ---------------------------------------------------------------------------


def col_letter(col: int) -> str:
    """Column letters of a 0-based index (0 -> A, 26 -> AA)."""
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def quote_title(title: str) -> str:
    """A worksheet title quoted for A1 notation."""
    return "'" + title.replace("'", "''") + "'"


_RANGE_RE = re.compile(r"!\$?([A-Za-z]+)\$?(\d+)(?::\$?([A-Za-z]+)\$?(\d+))?$")


def parse_range(a1: str) -> tuple[int, int, int]:
    """``'案件'!B12:AQ13`` -> (first row 12, first column index 1, last row 13)."""
    m = _RANGE_RE.search(a1)
    if not m:
        raise ValueError(f"unexpected range {a1!r}")
    r0 = int(m.group(2))
    return r0, _col_index(m.group(1)), int(m.group(4) or r0)


_KEY_RE = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


def spreadsheet_key(text: str) -> str:
    """The spreadsheet id in ``text`` (an id, or a docs.google.com address)."""
    text = (text or "").strip()
    m = _KEY_RE.search(text)
    if m:
        return m.group(1)
    return text.split("/")[0].split("?")[0].split("#")[0].strip()


def _norm(title: str) -> str:
    return re.sub(r"\s+", "", title).casefold()


def _has_content(row: Sequence[Any]) -> bool:
    return any(v not in ("", None) for v in row)


def _text(value: Any) -> str:
    """What the app writes: text as is, None as empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _number_text(v: int | float) -> str:
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 2**63:
            return str(int(v))
        return repr(v)
    return str(v)


def cell_text(value: Any, ftype: str | None = None, tz: dt.tzinfo | None = None) -> str:
    """Canonical text of one cell as the API returned it (FORMULA / SERIAL_NUMBER).

    Strings are returned unchanged. Typed values (what a person typed) become canonical text
    by the column's schema type: serials in date columns become ``YYYY-MM-DD``, in datetime
    columns ISO 8601 in ``tz``; booleans ``TRUE``/``FALSE``; numbers their digits.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if ftype in ("date", "datetime") and SERIAL_MIN <= value < SERIAL_MAX:
            moment = SERIAL_EPOCH + dt.timedelta(seconds=round(float(value) * 86400))
            if ftype == "date":
                return moment.date().isoformat()
            if tz is not None:
                moment = moment.replace(tzinfo=tz)
            return moment.isoformat(timespec="seconds")
        return _number_text(value)
    return str(value)


def _version_value(text: str | None) -> int | None:
    """A row's version: digits -> int, empty (a row added by hand) -> 0, else None."""
    s = (text or "").strip()
    if s == "":
        return 0
    return int(s) if s.isdigit() else None


# -- headers ---------------------------------------------------------------------------------


@dataclass
class Header:
    """Where the columns of one worksheet are, read from its row 1."""

    cells: list[str]
    col_of: dict[str, int] = field(default_factory=dict)  # field key -> column index
    extra_at: dict[int, str] = field(default_factory=dict)  # column index -> extra column name
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def width(self) -> int:
        """Columns up to the last header cell."""
        return len(self.cells)


def map_header(sheet: Sheet | None, cells: Sequence[Any]) -> Header:
    """Find each field's column by header text; other headed columns become extra columns."""
    texts = [cell_text(c) for c in cells]
    hdr = Header(texts)
    used = {"_row", *(sheet.keys if sheet else [])}
    for c, h in enumerate(texts):
        if h.strip() == "":
            continue
        key = sheet.resolve_header(h) if sheet is not None else None
        if key is not None and key not in hdr.col_of:
            hdr.col_of[key] = c
            continue
        name = h
        if key is not None:
            hdr.problems.append(
                {
                    "row": 1,
                    "field": h,
                    "value": h,
                    "code": "gs.p.duplicate_header",
                    "params": {
                        "value": h,
                        "column": col_letter(c),
                        "first": col_letter(hdr.col_of[key]),
                    },
                }
            )
        if key is not None or name in used:
            name = f"{h}（{col_letter(c)}列）"
        used.add(name)
        hdr.extra_at[c] = name
    return hdr


@dataclass
class Located:
    """A fresh look at one worksheet: header, and (when read) its key and version columns."""

    header: Header
    keys: list[str] | None = None  # by row index (0 = row 1, the header)
    versions: list[str] | None = None

    def rows_of(self, key: str) -> list[int]:
        """Sheet row numbers whose key cell equals ``key``."""
        if self.keys is None:
            return []
        return [i + 1 for i, v in enumerate(self.keys) if i > 0 and v == key]

    def version_at(self, row: int) -> str:
        """The version cell of sheet row ``row``."""
        if self.versions is None or row - 1 >= len(self.versions):
            return ""
        return self.versions[row - 1]


# -- transport -------------------------------------------------------------------------------


class BudgetedHTTPClient(HTTPClient):
    """gspread's HTTP client, with the per-call timeout of the running retry budget.

    gspread keeps one timeout on the client; the store shares one client between threads, so
    the timeout comes from :func:`lib.store.retry.current_timeout` (thread-local) instead.
    """

    def request(  # type: ignore[override]
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
        headers: Any = None,
    ) -> requests.Response:
        response = self.session.request(
            method=method,
            url=endpoint,
            json=json,
            params=params,
            data=data,
            files=files,
            headers=headers,
            timeout=retry.current_timeout() or self.timeout,
        )
        if response.ok:
            return response
        raise APIError(response)


class EmulatorHostAdapter(HTTPAdapter):
    """Sends Google API traffic to ``http://host:port`` (``SHEETS_EMULATOR_HOST``)."""

    def __init__(self, address: str) -> None:
        super().__init__()
        address = address.strip().rstrip("/")
        if "://" in address:
            address = address.split("://", 1)[1]
        self.base = f"http://{address}"

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Rewrite the URL to the emulator and send it (no proxies for loopback)."""
        parts = urlsplit(request.url or "")
        rewritten = request.copy()
        rewritten.url = self.base + parts.path + (f"?{parts.query}" if parts.query else "")
        kwargs["proxies"] = {}
        return super().send(rewritten, **kwargs)


def emulator_session(address: str) -> requests.Session:
    """A ``requests`` session whose Sheets/Drive/OAuth calls go to the emulator at ``address``."""
    session = requests.Session()
    session.trust_env = False
    adapter = EmulatorHostAdapter(address)
    for prefix in GOOGLE_HOSTS:
        session.mount(prefix, adapter)
    return session


def secrets_section(name: str = SECRETS_SECTION) -> dict[str, Any] | None:
    """``[connections.<name>]`` from Streamlit secrets (in a running app) or secrets.toml files."""
    try:
        from streamlit import runtime

        if runtime.exists():
            import streamlit as st

            section = st.secrets.get("connections", {}).get(name)
            if section:
                return _plain(section)
    except Exception:  # no streamlit, or no secrets file: fall back to the files
        pass
    for path in (ROOT / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        section = (data.get("connections") or {}).get(name)
        if section:
            return dict(section)
    return None


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    return obj


_PROCESS_LOCKS: dict[str, threading.RLock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(key: str) -> threading.RLock:
    """One lock per spreadsheet per process: commits of all sessions queue on it."""
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(key, threading.RLock())


# -- the store -------------------------------------------------------------------------------


class GSheetsStore:
    """A register kept in one Google Sheet (see the module docstring)."""

    kind = "gsheets"

    def __init__(
        self,
        key: str,
        *,
        session: requests.Session | None = None,
        credentials: Any = None,
        schema: Schema | None = None,
        policy: RetryPolicy | None = None,
        service_account: str | None = None,
        process_lock: bool = True,
    ) -> None:
        """Open the spreadsheet ``key`` (no API call yet).

        Give ``session`` (an emulator or a ready authorised session) or ``credentials``
        (google-auth credentials). ``policy`` sets the retry budget; ``process_lock=False``
        makes this object behave like another process (tests of cross-process safety).
        """
        if not key:
            raise SheetsError("gs.no_key")
        if session is None and credentials is None:
            raise SheetsError("gs.no_credentials")
        self.key = key
        self.url = f"gsheets://{key}"
        self.schema = schema or default_schema()
        self.policy = policy or RetryPolicy()
        self.service_account = service_account
        self._own_session = session is None
        self._client = gspread.Client(
            auth=credentials,  # type: ignore[arg-type]
            session=session,
            http_client=BudgetedHTTPClient,  # type: ignore[arg-type]
        )
        self._http: HTTPClient = self._client.http_client
        self._commit_lock = _process_lock(key) if process_lock else threading.RLock()
        self._lock = threading.RLock()  # guards the caches below
        self._doc_title = ""
        self._tz: dt.tzinfo | None = None
        self._titles: dict[str, str] = {}  # schema sheet / "_ids" -> worksheet title
        self._props: dict[str, dict[str, Any]] = {}  # worksheet title -> properties
        self._headers: dict[str, Header] = {}
        self._row_hint: dict[str, dict[str, int]] = {}
        self._tail: dict[str, int] = {}  # last row known to hold data, per sheet
        self._ids_known = 1  # rows 1.._ids_known of _ids are in the cache below
        self._claims_max: dict[str, int] = {}
        self._claim_tokens: dict[int, str] = {}  # row -> token, for every _ids row read
        self._markers: dict[int, str] = {}  # row -> the chain marker that claim made
        self._named: set[str] | None = None  # named-range ids, as of the last metadata read

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        schema: Schema | None = None,
        credentials_info: Mapping[str, Any] | None = None,
        policy: RetryPolicy | None = None,
    ) -> GSheetsStore:
        """The store for ``gsheets://KEY`` (SPEC §8).

        ``SHEETS_EMULATOR_HOST`` set: talk to that emulator, no credentials. Otherwise the
        service account comes from ``credentials_info`` (a ``[connections.gsheets]``-shaped
        mapping), Streamlit secrets ``[connections.gsheets]``, or the JSON file named by
        ``GOOGLE_APPLICATION_CREDENTIALS``. ``gsheets://`` with no key uses the secrets'
        ``spreadsheet`` (an id or the sheet's address).
        """
        rest = url[len("gsheets://") :] if url.startswith("gsheets://") else url
        key = spreadsheet_key(rest)
        info = dict(credentials_info) if credentials_info is not None else None
        emulator = os.environ.get(EMULATOR_ENV, "").strip()
        if emulator:
            if not key:
                key = spreadsheet_key(str((info or secrets_section() or {}).get("spreadsheet", "")))
            return cls(key, session=emulator_session(emulator), schema=schema, policy=policy)
        if info is None:
            info = secrets_section()
        if not key and info:
            key = spreadsheet_key(str(info.get("spreadsheet", "")))
        if not key:
            raise SheetsError("gs.no_key")
        credentials, email = _service_account(info)
        return cls(
            key, credentials=credentials, schema=schema, policy=policy, service_account=email
        )

    def close(self) -> None:
        """Forget cached positions (and close the HTTP session this store opened)."""
        with self._lock:
            self._headers.clear()
            self._row_hint.clear()
        if self._own_session:
            with contextlib.suppress(Exception):
                self._http.session.close()

    # -- protocol: init ----------------------------------------------------------------------

    def init(self, schema: Schema | None = None) -> list[str]:
        """Create missing worksheets and headers; append new schema columns at the end.

        Never reorders, renames or deletes a column, row or worksheet people made.
        """
        schema = schema or self.schema
        self.schema = schema
        with self._translate("gs.what.init"), self._commit_lock:
            budget = self.policy.budget()
            self._load_meta(budget, reset=True)
            with self._lock:
                self._headers.clear()
            report: list[str] = []
            created = self._create_missing(budget, report)
            names = [s.name for s in schema] + [IDS_SHEET]
            ranges = [f"{quote_title(self._titles[n])}!1:1" for n in names]
            resp = self._batch_get(budget, ranges, "gs.what.init")
            grow: list[dict[str, Any]] = []
            writes: list[dict[str, Any]] = []
            for name, vr in zip(names, resp, strict=True):
                title = self._titles[name]
                cells = [cell_text(c) for c in (vr.get("values") or [[]])[0]]
                if name == IDS_SHEET:
                    if not _has_content(cells):
                        writes.append({"range": f"{quote_title(title)}!A1", "values": [IDS_HEADER]})
                    elif cells == IDS_HEADER[: len(cells)] and len(cells) < len(IDS_HEADER):
                        rest = IDS_HEADER[len(cells) :]
                        where = f"{quote_title(title)}!{col_letter(len(cells))}1"
                        writes.append({"range": where, "values": [rest]})
                    continue
                sheet = schema[name]
                if not _has_content(cells):
                    new = list(sheet.headers)
                    start = 0
                    if name not in created:
                        report.append(f"写入表头 {title}（{name}，{len(new)} 列）")
                else:
                    hdr = map_header(sheet, cells)
                    missing = [f for f in sheet.fields if f.key not in hdr.col_of]
                    new = [f.header for f in missing]
                    start = len(cells)
                    report += [
                        f"新增列 {name}.{f.key}（{title}!{col_letter(start + i)}）"
                        for i, f in enumerate(missing)
                    ]
                after = cells + [""] * (start - len(cells)) + new if new else cells
                with self._lock:
                    self._headers[name] = map_header(sheet, after)
                if not new:
                    continue
                props = self._props[title]
                have = int(props.get("gridProperties", {}).get("columnCount", 26))
                if start + len(new) > have:
                    grow.append(
                        {
                            "appendDimension": {
                                "sheetId": props.get("sheetId", 0),
                                "dimension": "COLUMNS",
                                "length": start + len(new) - have,
                            }
                        }
                    )
                writes.append(
                    {"range": f"{quote_title(title)}!{col_letter(start)}1", "values": [new]}
                )
            if grow:
                grow_body = {"requests": grow}
                self._write(
                    budget, "gs.what.init", lambda: self._http.batch_update(self.key, grow_body)
                )
            if writes:
                body = {"valueInputOption": "RAW", "data": writes}
                self._write(
                    budget, "gs.what.init", lambda: self._http.values_batch_update(self.key, body)
                )
            self._repair_markers(budget, report)
            return report

    def _repair_markers(self, budget: Budget, report: list[str]) -> None:
        """Put the claim chain's marker back if a person deleted the named range (claims stop
        with ``gs.marker_lost`` until then). Healthy — the base marker and one chain marker,
        or neither — costs nothing: the named ranges came with the metadata."""
        named = self._named or set()
        chain = {n for n in named if n.startswith(MARKER_PREFIX) and n != MARKER_BASE}
        if MARKER_BASE not in named or chain:
            return
        self._read_ids_tail(budget)
        _k, current = self._chain()
        ids_sheet_id = int(self._props[self._titles[IDS_SHEET]].get("sheetId", 0))
        if current:
            fix = _add_named_range(current, ids_sheet_id)
            report.append(f"恢复编号分配标记 {current}")
        else:  # the log was cleared by hand: start a new chain
            fix = {"deleteNamedRange": {"namedRangeId": MARKER_BASE}}
            report.append(f"清除失效的编号分配标记 {MARKER_BASE}")
        body = {"requests": [fix]}
        self._write(budget, "gs.what.init", lambda: self._http.batch_update(self.key, body))
        self._load_meta(budget, reset=True)

    def _create_missing(self, budget: Budget, report: list[str]) -> set[str]:
        requests_: list[dict[str, Any]] = []
        created: set[str] = set()
        for sheet in self.schema:
            if sheet.name not in self._titles:
                width = max(26, len(sheet.keys))
                requests_.append(_add_sheet(sheet.title, width))
                created.add(sheet.name)
                report.append(f"新建工作表 {sheet.title}（{sheet.name}，{len(sheet.keys)} 列）")
        if IDS_SHEET not in self._titles:
            requests_.append(_add_sheet(IDS_SHEET, len(IDS_HEADER) + 1, hidden=True))
            report.append(f"新建隐藏工作表 {IDS_SHEET}（编号分配记录，请勿手工修改）")
        if not requests_:
            return created

        def landed(fault: Fault) -> bool:
            self._load_meta(budget, reset=True)
            return all(s.name in self._titles for s in self.schema) and IDS_SHEET in self._titles

        self._write(
            budget,
            "gs.what.init",
            lambda: self._http.batch_update(self.key, {"requests": requests_}),
            on_retry=landed,
        )
        self._load_meta(budget, reset=True)
        return created

    # -- protocol: read ----------------------------------------------------------------------

    def read(self, sheets: Sequence[str] | None = None) -> Snapshot:
        """The requested sheets (default: all but history) in one ``values:batchGet``."""
        names = (
            list(sheets)
            if sheets is not None
            else [s.name for s in self.schema if s.name != "history"]
        )
        with self._translate("gs.what.read"):
            budget = self.policy.budget()
            self._load_meta(budget)
            for attempt in range(2):
                present = [n for n in names if n in self._titles]
                ranges = [quote_title(self._titles[n]) for n in present]
                try:
                    resp = self._batch_get(budget, ranges, "gs.what.read") if ranges else []
                    break
                except APIError as exc:
                    # A tab renamed or deleted by hand: look at the tabs again, once.
                    if attempt or retry.status_of(exc) != 400:
                        raise
                    self._load_meta(budget, reset=True)
        frames: dict[str, pd.DataFrame] = {}
        problems: list[dict[str, Any]] = []
        for name, vr in zip(present, resp, strict=True):
            frames[name], found = self._frame(name, vr.get("values") or [])
            problems += found
        for name in names:
            if name not in frames:
                frames[name] = self._empty_frame(name)
                if name in self.schema.sheets:
                    label = self.schema[name].title
                    problems.append(
                        self._problem(name, 1, "", "", "gs.p.missing_sheet", {"sheet": label})
                    )
        return Snapshot(
            frames,
            dt.datetime.now(dt.UTC),
            f"Google 表格《{self._doc_title or self.key}》",
            problems,
        )

    def _empty_frame(self, name: str) -> pd.DataFrame:
        keys = self.schema[name].keys if name in self.schema.sheets else []
        return pd.DataFrame(columns=["_row", *keys])

    def _frame(
        self, name: str, values: list[list[Any]]
    ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """One worksheet's values as a frame of canonical text (+ what could not be placed)."""
        sheet = self.schema.sheets.get(name)
        hdr = map_header(sheet, values[0] if values else [])
        with self._lock:
            self._headers[name] = hdr
        problems = [
            self._problem(name, p["row"], p["field"], p["value"], p["code"], p["params"])
            for p in hdr.problems
        ]
        data = values[1:]
        numbers = [i + 2 for i, row in enumerate(data) if _has_content(row)]
        width = max((len(data[n - 2]) for n in numbers), default=0)
        # Transpose once (trailing cells the API trimmed come back as empty text).
        rows = [data[n - 2] + [""] * (width - len(data[n - 2])) for n in numbers]
        by_col = [list(col) for col in zip(*rows, strict=True)] if rows else []
        columns: dict[str, list[Any]] = {"_row": numbers}
        keys = sheet.keys if sheet is not None else []
        missing = [k for k in keys if k not in hdr.col_of]
        if sheet is not None and missing and values:
            names_ = "、".join(sheet.field(k).header for k in missing)
            problems.append(
                self._problem(name, 1, "", "", "gs.p.missing_columns", {"columns": names_})
            )
        for k in keys:
            c = hdr.col_of.get(k)
            f = sheet.field(k) if sheet is not None else None
            if c is None:
                columns[k] = [""] * len(rows)
            else:
                columns[k] = self._column(name, by_col, numbers, c, f.type if f else None, problems)
        for c in sorted(hdr.extra_at):
            columns[hdr.extra_at[c]] = self._column(name, by_col, numbers, c, None, problems)
        placed = set(hdr.col_of.values()) | set(hdr.extra_at)
        for c in range(width):
            if c in placed:
                continue
            col = self._column(name, by_col, numbers, c, None, problems)
            if any(v != "" for v in col):
                label = f"（{col_letter(c)}列）"
                columns[label] = col
                problems.append(
                    self._problem(name, 1, label, "", "gs.p.no_header", {"column": col_letter(c)})
                )
        # dtype=object: pandas 3 would otherwise infer its string dtype, slower to build here
        # and converted back to object by every typed frame.
        frame = pd.DataFrame(columns, dtype=object)
        frame["_row"] = pd.Series(numbers, dtype="int64")
        if sheet is not None and sheet.key and sheet.key in hdr.col_of:
            with self._lock:
                self._row_hint[name] = dict(zip(columns[sheet.key], numbers, strict=True))
        with self._lock:
            self._tail[name] = len(values)
        return frame, problems

    def _column(
        self,
        name: str,
        by_col: list[list[Any]],
        numbers: list[int],
        c: int,
        ftype: str | None,
        problems: list[dict[str, Any]],
    ) -> list[str]:
        if c >= len(by_col):
            return [""] * len(numbers)
        vals = by_col[c]
        if set(map(type, vals)) <= {str}:
            return vals
        out = []
        for v, n in zip(vals, numbers, strict=True):
            text = cell_text(v, ftype, self._tz)
            if (
                isinstance(v, int | float)
                and not isinstance(v, bool)
                and abs(v) >= EXACT_LIMIT
                and ftype not in ("date", "datetime")
            ):
                label = self._label(name, c)
                problems.append(
                    self._problem(
                        name, n, label, text, "gs.p.precision", {"label": label, "value": text}
                    )
                )
            out.append(text)
        return out

    def _label(self, name: str, c: int) -> str:
        hdr = self._headers.get(name)
        if hdr is not None and c < len(hdr.cells) and hdr.cells[c].strip():
            return hdr.cells[c]
        return f"{col_letter(c)}列"

    def _problem(
        self, name: str, row: int, column: str, value: str, code: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """A problem in the shape of ``check`` (sheet, row, key, field, value, problem)."""
        sheet = self.schema.sheets.get(name)
        return {
            "sheet": sheet.label("zh") if sheet is not None else name,
            "sheet_name": name,
            "row": row,
            "key": "",
            "field": column,
            "value": value,
            "problem": t(code, "zh", **params),
            "code": code,
            "params": params,
        }

    # -- protocol: fresh rows ----------------------------------------------------------------

    def get_row(self, sheet: str, key: str) -> dict[str, str] | None:
        """One row by its key, read now (usually one call: the last read told where it was)."""
        key_field = self.schema[sheet].key
        if key_field is None:
            raise ValueError(f"sheet {sheet} has no key column")
        with self._translate("gs.what.read"):
            budget = self.policy.budget()
            return self._tab_retry(budget, lambda: self._get_row(sheet, key, key_field, budget))

    def _get_row(
        self, sheet: str, key: str, key_field: str, budget: Budget
    ) -> dict[str, str] | None:
        if sheet not in self._titles:
            return None
        q = quote_title(self._titles[sheet])
        for _attempt in range(4):
            hdr = self._guess_header(sheet)
            kc = hdr.col_of.get(key_field) if hdr else None
            hint = self._row_hint.get(sheet, {}).get(key)
            ranges = [f"{q}!1:1"]
            if kc is not None:
                ranges.append(f"{q}!{col_letter(kc)}:{col_letter(kc)}")
                if hint:
                    ranges.append(f"{q}!{hint}:{hint}")
            resp = self._batch_get(budget, ranges, "gs.what.read")
            fresh = self._fresh_header(sheet, resp[0])
            if kc is None or fresh.col_of.get(key_field) != kc:
                if key_field not in fresh.col_of:
                    raise self._missing(sheet, [key_field])
                continue  # columns moved: ask again at the new place
            keys = _column_values(resp[1])
            found = [i + 1 for i, v in enumerate(keys) if i > 0 and v == key]
            if not found:
                return None
            row_no = found[0]
            if hint == row_no:
                values = (resp[2].get("values") or [[]])[0]
            else:
                again = self._batch_get(budget, [f"{q}!{row_no}:{row_no}", f"{q}!1:1"], "")
                values = (again[0].get("values") or [[]])[0]
                check = self._fresh_header(sheet, again[1])
                if check.col_of != fresh.col_of or _cell(values, kc) != key:
                    continue  # the sheet moved under us: look again
            with self._lock:
                self._row_hint.setdefault(sheet, {})[key] = row_no
            return self._row_dict(sheet, fresh, values)
        raise SheetsError("gs.unstable", sheet=self.schema[sheet].label())

    def rows_where(self, sheet: str, column: str, value: str) -> list[dict[str, str]]:
        """Rows whose ``column`` equals ``value`` (one case's history), with ``_row``."""
        with self._translate("gs.what.read"):
            budget = self.policy.budget()
            return self._tab_retry(budget, lambda: self._rows_where(sheet, column, value, budget))

    def _rows_where(
        self, sheet: str, column: str, value: str, budget: Budget
    ) -> list[dict[str, str]]:
        if sheet not in self._titles:
            return []
        q = quote_title(self._titles[sheet])
        for _attempt in range(4):
            hdr = self._guess_header(sheet)
            c = hdr.col_of.get(column) if hdr else None
            ranges = [f"{q}!1:1"] + (
                [f"{q}!{col_letter(c)}:{col_letter(c)}"] if c is not None else []
            )
            resp = self._batch_get(budget, ranges, "gs.what.read")
            fresh = self._fresh_header(sheet, resp[0])
            if c is None or fresh.col_of.get(column) != c:
                if column not in fresh.col_of:
                    return []
                continue
            matches = [i + 1 for i, v in enumerate(_column_values(resp[1])) if i > 0 and v == value]
            if not matches:
                return []
            if len(matches) > 200 or len(_runs(matches)) > 50:
                full = self._batch_get(budget, [q], "gs.what.read")[0]
                frame, _ = self._frame(sheet, full.get("values") or [])
                frame = frame[frame[column] == value]
                return frame.to_dict("records")
            runs = _runs(matches)
            again = self._batch_get(
                budget, [f"{q}!1:1"] + [f"{q}!{a}:{b}" for a, b in runs], "gs.what.read"
            )
            check = self._fresh_header(sheet, again[0])
            if check.col_of != fresh.col_of:
                continue
            out = []
            for (a, _b), vr in zip(runs, again[1:], strict=True):
                for i, row in enumerate(vr.get("values") or []):
                    d = self._row_dict(sheet, check, row)
                    if d.get(column) == value:
                        out.append({"_row": a + i, **d})
            return out
        raise SheetsError("gs.unstable", sheet=self.schema[sheet].label())

    def _row_dict(self, sheet: str, hdr: Header, values: Sequence[Any]) -> dict[str, str]:
        sh = self.schema[sheet]
        return {
            f.key: cell_text(_cell(values, hdr.col_of.get(f.key)), f.type, self._tz)
            for f in sh.fields
        }

    # -- protocol: commit --------------------------------------------------------------------

    def commit(self, changes: Changeset) -> dict[NewId, str]:
        """Apply ``changes``: checks first, then ids, updates, appends (module docstring)."""
        if changes.is_empty():
            return {}
        with self._translate("gs.what.write"), self._commit_lock:
            budget = self.policy.budget()
            located = self._tab_retry(budget, lambda: self._prepare(changes, budget))
            if new_ids_in(changes):
                # The rows ride with the claim when that is all there is to write (an intake):
                # one atomic call instead of a claim and then an append per sheet.
                with_rows = self._fits_one_batch(changes)
                allocated = self._claim(changes, located, budget, with_rows=with_rows)
                for rows in changes.appends.values():
                    resolve_new_ids(rows, allocated)
                if with_rows:
                    return allocated
            else:
                allocated = {}
            done: list[str] = []
            steps: list[tuple[str, Callable[[], None]]] = []
            if changes.updates:
                label = "、".join(
                    dict.fromkeys(self._sheet_label(u.sheet) for u in changes.updates)
                )
                steps.append(
                    (
                        f"“{label}”的修改",
                        lambda: self._write_updates(changes.updates, located, budget),
                    )
                )
            for sheet in self._append_order(changes):
                rows = changes.appends[sheet]
                steps.append(
                    (
                        f"“{self._sheet_label(sheet)}”的 {len(rows)} 行",
                        lambda s=sheet, r=rows: self._append_rows(s, r, located[s], budget),
                    )
                )
            for i, (label, step) in enumerate(steps):
                try:
                    step()
                except Exception as exc:
                    if not done:
                        raise
                    reason = self._as_sheets_error(exc, "gs.what.write")
                    missing = "、".join(lbl for lbl, _ in steps[i:])
                    raise SheetsError(
                        "gs.partial",
                        done="、".join(done),
                        missing=missing,
                        reason=reason.message("zh") if reason else str(exc),
                    ) from exc
                done.append(label)
            return allocated

    def _fits_one_batch(self, changes: Changeset) -> bool:
        """No updates, and the appends small enough for one request."""
        if changes.updates:
            return False
        size = 0
        for rows in changes.appends.values():
            if len(rows) > MAX_APPEND_ROWS:
                return False
            size += sum(len(_text(v).encode("utf-8")) + 48 for r in rows for v in r.values())
        return size <= MAX_APPEND_BYTES

    def _append_order(self, changes: Changeset) -> list[str]:
        sheets = [s for s, rows in changes.appends.items() if rows]
        return sorted(sheets, key=lambda s: (s == "history", s != "cases"))

    def _sheet_label(self, sheet: str) -> str:
        return self.schema[sheet].label() if sheet in self.schema.sheets else sheet

    def _prepare(self, changes: Changeset, budget: Budget) -> dict[str, Located]:
        """The fresh read before writing, and every check that can refuse the commit."""
        self._check_lengths(changes)
        upd_sheets = list(dict.fromkeys(u.sheet for u in changes.updates))
        app_sheets = [s for s, rows in changes.appends.items() if rows]
        every = list(dict.fromkeys(upd_sheets + app_sheets))
        for s in every:
            if s not in self._titles:
                raise SheetsError("gs.no_sheet", sheet=self._sheet_label(s))
        if new_ids_in(changes) and IDS_SHEET not in self._titles:
            raise SheetsError("gs.no_sheet", sheet=IDS_SHEET)
        keyed = [s for s in app_sheets if s in self.schema.sheets and self.schema[s].key]
        versioned = [s for s in upd_sheets if "version" in self.schema[s].by_key]
        located = self._locate(
            budget,
            every,
            keycols=list(dict.fromkeys(upd_sheets + keyed)),
            vercols=versioned,
            ids_tail=bool(new_ids_in(changes)),
        )
        for s in app_sheets:
            hdr = located[s].header
            rows = changes.appends[s]
            unknown = sorted({k for r in rows for k in r} - set(hdr.col_of))
            if unknown:
                raise self._missing(s, unknown)
            key_field = self.schema[s].key if s in self.schema.sheets else None
            if key_field:
                existing = set(located[s].keys or [])
                seen: set[str] = set()
                for r in rows:
                    k = r.get(key_field)
                    if isinstance(k, NewId) or k in (None, ""):
                        continue
                    if k in existing or k in seen:
                        raise SheetsError("gs.key_taken", sheet=self._sheet_label(s), key=k)
                    seen.add(k)
        if changes.updates:
            self._update_cells(changes.updates, located)  # raises before anything is written
        return located

    def _check_lengths(self, changes: Changeset) -> None:
        cells = [(u.sheet, k, v) for u in changes.updates for k, v in u.changes.items()]
        cells += [
            (s, k, v) for s, rows in changes.appends.items() for r in rows for k, v in r.items()
        ]
        for sheet, key, value in cells:
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                sh = self.schema.sheets.get(sheet)
                label = sh.by_key[key].header if sh and key in sh.by_key else key
                raise SheetsError(
                    "gs.too_long", sheet=self._sheet_label(sheet), label=label, length=len(value)
                )

    def _locate(
        self,
        budget: Budget,
        sheets: Sequence[str],
        *,
        keycols: Sequence[str] = (),
        vercols: Sequence[str] = (),
        ids_tail: bool = False,
    ) -> dict[str, Located]:
        """One ``batchGet`` of headers (+ key and version columns, + the ``_ids`` tail)."""
        for _attempt in range(4):
            ranges: list[str] = []
            slots: list[tuple[str, str, int | None]] = []
            for s in sheets:
                ranges.append(f"{quote_title(self._titles[s])}!1:1")
                slots.append(("header", s, None))
            for kind, group in (("key", keycols), ("version", vercols)):
                for s in group:
                    fkey = self.schema[s].key if kind == "key" else "version"
                    hdr = self._guess_header(s)
                    c = hdr.col_of.get(fkey) if hdr and fkey else None
                    if c is not None:
                        letter = col_letter(c)
                        ranges.append(f"{quote_title(self._titles[s])}!{letter}:{letter}")
                    slots.append((kind, s, c))
            if ids_tail:
                ranges.append(self._ids_tail_range())
            resp = self._batch_get(budget, ranges, "gs.what.write")
            out: dict[str, Located] = {}
            stable = True
            i = 0
            for kind, s, c in slots:
                value_range = resp[i] if kind == "header" or c is not None else None
                if value_range is not None:
                    i += 1
                if kind == "header":
                    out[s] = Located(self._fresh_header(s, value_range or {}))
                    continue
                fkey = self.schema[s].key if kind == "key" else "version"
                want = out[s].header.col_of.get(fkey) if fkey else None
                if want is None:
                    if kind == "key":
                        raise self._missing(s, [fkey or "key"])
                    continue  # no version column: versions read as empty
                if c != want or value_range is None:
                    stable = False  # the column moved: ask again where it is now
                    continue
                values = _column_values(value_range)
                if kind == "key":
                    out[s].keys = values
                else:
                    out[s].versions = values
            if not stable:
                continue
            if ids_tail:
                self._absorb_claims(resp[i].get("values") or [], self._ids_known)
            return out
        raise SheetsError("gs.unstable", sheet="、".join(self._sheet_label(s) for s in sheets))

    def _guess_header(self, sheet: str) -> Header | None:
        """Where the columns were last seen; before any read, where init puts them."""
        hdr = self._headers.get(sheet)
        if hdr is None and sheet in self.schema.sheets:
            hdr = map_header(self.schema[sheet], self.schema[sheet].headers)
        return hdr

    def _fresh_header(self, sheet: str, value_range: Mapping[str, Any]) -> Header:
        cells = (value_range.get("values") or [[]])[0]
        hdr = map_header(self.schema.sheets.get(sheet), cells)
        with self._lock:
            self._headers[sheet] = hdr
        return hdr

    def _missing(self, sheet: str, keys: Sequence[str]) -> SheetsError:
        sh = self.schema.sheets.get(sheet)
        names = [sh.by_key[k].header if sh and k in sh.by_key else k for k in keys]
        return SheetsError(
            "gs.missing_columns", sheet=self._sheet_label(sheet), columns="、".join(names)
        )

    # -- updates -----------------------------------------------------------------------------

    def _update_cells(
        self, updates: Sequence[Update], located: Mapping[str, Located]
    ) -> list[dict[str, Any]]:
        """The ``values:batchUpdate`` data for ``updates``, after checking rows and versions.

        Each row is the one whose key cell holds the key *now* (in ``located``); a row changed
        twice in one changeset is checked against the version the first change gives it.
        """
        cells: dict[tuple[str, int, int], str] = {}
        versions: dict[tuple[str, str], int | None] = {}
        for upd in updates:
            loc = located[upd.sheet]
            hdr = loc.header
            unknown = [k for k in upd.changes if k not in hdr.col_of]
            if unknown:
                raise self._missing(upd.sheet, unknown)
            rows = loc.rows_of(upd.key)
            if not rows:
                raise RowNotFound(upd.sheet, upd.key)
            if len(rows) > 1:
                raise SheetsError(
                    "gs.duplicate_key",
                    sheet=self._sheet_label(upd.sheet),
                    key=upd.key,
                    rows="、".join(map(str, rows)),
                )
            row = rows[0]
            ident = (upd.sheet, upd.key)
            actual = versions[ident] if ident in versions else _version_value(loc.version_at(row))
            if upd.expected_version is not None and actual != upd.expected_version:
                raise ConflictError(upd.sheet, upd.key, upd.expected_version, actual)
            for k, v in upd.changes.items():
                cells[(upd.sheet, row, hdr.col_of[k])] = _text(v)
            new_version = upd.changes.get("version")
            if new_version is not None:
                versions[ident] = _version_value(_text(new_version))
        return [
            {"range": f"{quote_title(self._titles[s])}!{col_letter(c)}{r}", "values": [[v]]}
            for (s, r, c), v in cells.items()
        ]

    def _write_updates(
        self, updates: Sequence[Update], located: Mapping[str, Located], budget: Budget
    ) -> None:
        state = {"data": self._update_cells(updates, located)}
        sheets = list(dict.fromkeys(u.sheet for u in updates))
        versioned = [s for s in sheets if "version" in self.schema[s].by_key]

        def again(fault: Fault) -> bool:
            # Rows may have moved while we waited: find them again by key; a write that
            # already landed shows its new version.
            fresh = self._locate(budget, sheets, keycols=sheets, vercols=versioned)
            if fault is Fault.MAYBE_APPLIED and self._versions_landed(updates, fresh):
                return True
            state["data"] = self._update_cells(updates, fresh)  # re-checks the versions
            return False

        self._write(
            budget,
            "gs.what.update",
            lambda: self._http.values_batch_update(
                self.key, {"valueInputOption": "RAW", "data": state["data"]}
            ),
            on_retry=again,
            sheet=self._sheet_label(sheets[0]),
        )

    def _versions_landed(self, updates: Sequence[Update], located: Mapping[str, Located]) -> bool:
        """True when every updated row already shows the version this write gives it.

        (Updates that do not change ``version`` cannot tell; they are simply written again,
        which is harmless for the same cells and values.)
        """
        final: dict[tuple[str, str], str] = {}
        for upd in updates:
            if upd.changes.get("version") is not None:
                final[(upd.sheet, upd.key)] = _text(upd.changes["version"])
        if not final:
            return False
        for (sheet, key), version in final.items():
            rows = located[sheet].rows_of(key)
            if len(rows) != 1 or located[sheet].version_at(rows[0]) != version:
                return False
        return True

    # -- appends -----------------------------------------------------------------------------

    def _append_rows(
        self, sheet: str, rows: Sequence[Mapping[str, Any]], loc: Located, budget: Budget
    ) -> None:
        header = loc.header
        for part in _chunks(rows):
            # a retry may have found the columns moved: the next parts follow the new layout
            header = self._append_chunk(sheet, part, header, budget)

    def _append_chunk(
        self, sheet: str, rows: Sequence[Mapping[str, Any]], header: Header, budget: Budget
    ) -> Header:
        """Append rows once: after an unclear failure, look for them before sending again.
        Returns the header the rows were laid out by (fresher after a retry)."""
        title = self._titles[sheet]
        q = quote_title(title)
        state: dict[str, Any] = {"chunk": self._matrix(sheet, rows, header), "header": header}

        def landed(fault: Fault) -> bool:
            if fault is Fault.MAYBE_APPLIED:
                found = self._find_block(sheet, state["chunk"], budget)
                if found is not None:
                    state["at"] = found
                    return True
            # Not there. People may have moved columns while we waited: lay the rows out again.
            fresh = self._locate(budget, [sheet])[sheet].header
            state["chunk"] = self._matrix(sheet, rows, fresh)
            state["header"] = fresh
            return False

        params = {
            "valueInputOption": "RAW",
            "insertDataOption": "INSERT_ROWS",
            "includeValuesInResponse": "false",
        }
        resp = self._write(
            budget,
            "gs.what.append",
            lambda: self._http.values_append(
                self.key, q, params, {"majorDimension": "ROWS", "values": state["chunk"]}
            ),
            on_retry=landed,
            sheet=self._sheet_label(sheet),
        )
        chunk = state["chunk"]
        if resp is not None:
            r0, c0, _ = parse_range(resp["updates"]["updatedRange"])
        else:
            r0, c0 = state["at"]
        with self._lock:
            self._tail[sheet] = max(self._tail.get(sheet, 0), r0 + len(chunk) - 1)
        if c0:
            # Google's table detection started the rows right of column A (a sheet whose
            # first columns are empty at the bottom): put them where the header says.
            fixed = [row + [""] * c0 for row in chunk]
            body = {"valueInputOption": "RAW", "data": [{"range": f"{q}!A{r0}", "values": fixed}]}
            self._write(
                budget,
                "gs.what.append",
                lambda: self._http.values_batch_update(self.key, body),
                sheet=self._sheet_label(sheet),
            )
        return state["header"]

    def _matrix(
        self, sheet: str, rows: Sequence[Mapping[str, Any]], header: Header
    ) -> list[list[str]]:
        """``rows`` laid out in the sheet's column order (trailing empty cells left off)."""
        unknown = sorted({k for r in rows for k in r} - set(header.col_of))
        if unknown:
            raise self._missing(sheet, unknown)
        width = max(header.col_of.values(), default=-1) + 1
        matrix = []
        for r in rows:
            line = [""] * width
            for k, v in r.items():
                line[header.col_of[k]] = _text(v)
            while line and line[-1] == "":
                line.pop()
            matrix.append(line or [""])
        return matrix

    def _find_block(
        self, sheet: str, chunk: list[list[str]], budget: Budget
    ) -> tuple[int, int] | None:
        """Where ``chunk`` sits in the sheet (first row, column shift), if it does.

        Keyed rows are unique by their key; a ``history`` block carries a timestamp, user and
        values, so finding the same block elsewhere is not a real risk. The last hit wins.
        """
        q = quote_title(self._titles[sheet])
        values = self._batch_get(budget, [q], "gs.what.read")[0].get("values") or []
        rows = [[cell_text(v) for v in r] for r in values]
        while rows and not rows[-1]:
            rows.pop()
        first = chunk[0]
        hits = []
        for i in range(1, len(rows) - len(chunk) + 1):
            shift = _shift(rows[i], first)
            if shift is None:
                continue
            if all(_shift(rows[i + j], chunk[j]) == shift for j in range(1, len(chunk))):
                hits.append((i + 1, shift))
        return hits[-1] if hits else None

    # -- ids ---------------------------------------------------------------------------------

    def _id_groups(
        self, changes: Changeset, located: Mapping[str, Located], budget: Budget
    ) -> tuple[dict[str, list[NewId]], dict[str, int]]:
        """The new ids by sequence (``cases:GA2026-``) and each sequence's highest id already
        in its sheet (ids typed by hand count too)."""
        owners: dict[int, str] = {}
        for sheet, rows in changes.appends.items():
            key_field = self.schema[sheet].key if sheet in self.schema.sheets else None
            for row in rows:
                v = row.get(key_field) if key_field else None
                if isinstance(v, NewId):
                    owners[id(v)] = sheet
        groups: dict[str, list[NewId]] = {}
        prefix_of: dict[str, tuple[str, str]] = {}
        for nid in new_ids_in(changes):
            sheet = owners.get(id(nid), "cases")
            seq = f"{sheet}:{nid.prefix}"
            groups.setdefault(seq, []).append(nid)
            prefix_of[seq] = (sheet, nid.prefix)
        floor: dict[str, int] = {}
        for seq, (sheet, prefix) in prefix_of.items():
            keys = located[sheet].keys if sheet in located else None
            if keys is None:
                keys = self._key_column(sheet, budget)
            numbers = [id_number(v, prefix) for v in keys[1:]]
            floor[seq] = max((n for n in numbers if n is not None), default=0)
        return groups, floor

    def _key_column(self, sheet: str, budget: Budget) -> list[str]:
        loc = self._locate(budget, [sheet], keycols=[sheet])[sheet]
        return loc.keys or [""]

    def _ids_tail_range(self) -> str:
        return f"{quote_title(self._titles[IDS_SHEET])}!A{self._ids_known}:F"

    def _read_ids_tail(self, budget: Budget) -> None:
        values = self._batch_get(budget, [self._ids_tail_range()], "gs.what.ids")[0]
        self._absorb_claims(values.get("values") or [], self._ids_known)

    def _chain(self) -> tuple[int, str | None]:
        """The claim chain as last read: (k, marker of claim k), or (0, None) before any."""
        if not self._markers:
            return 0, None
        marker = self._markers[max(self._markers)]
        tail = marker[len(MARKER_PREFIX) :]
        return (int(tail) if tail.isdigit() else 0), marker

    def _claim(
        self,
        changes: Changeset,
        located: Mapping[str, Located],
        budget: Budget,
        *,
        with_rows: bool,
    ) -> dict[NewId, str]:
        """Claim numbers for every :class:`NewId`, in one ``spreadsheets:batchUpdate`` that
        is a compare-and-swap on the claim chain's marker; ``with_rows``: the appends of
        ``changes`` ride in the same atomic batch (then nothing else is left to write)."""
        groups, floor = self._id_groups(changes, located, budget)
        ids_sheet_id = int(self._props[self._titles[IDS_SHEET]].get("sheetId", 0))
        order = self._append_order(changes) if with_rows else []
        headers = {sheet: located[sheet].header for sheet in order}
        state: dict[str, Any] = {}

        def refresh() -> None:
            """Read the claims made since, and where the columns are now (people may have
            moved them while we waited)."""
            if order:
                fresh = self._locate(budget, order, ids_tail=True)
                headers.update({sheet: fresh[sheet].header for sheet in order})
            else:
                self._read_ids_tail(budget)

        def build() -> None:
            token = uuid.uuid4().hex
            k, current = self._chain()
            marker = f"{MARKER_PREFIX}{k + 1}"
            claims = [
                (seq, max(floor[seq], self._claims_max.get(seq, 0)) + 1, len(ids))
                for seq, ids in groups.items()
            ]
            allocated = {
                nid: nid.format(first + j)
                for (_seq, first, _n), ids in zip(claims, groups.values(), strict=True)
                for j, nid in enumerate(ids)
            }
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            claim_rows = [[q, str(f), str(n), token, now, marker] for q, f, n in claims]
            reqs: list[dict[str, Any]] = [
                {"deleteNamedRange": {"namedRangeId": current}}
                if current
                else _add_named_range(MARKER_BASE, ids_sheet_id),
                _add_named_range(marker, ids_sheet_id),
                _append_cells(ids_sheet_id, claim_rows),
            ]
            for sheet in order:
                rows = [
                    {k: allocated[v] if isinstance(v, NewId) else v for k, v in r.items()}
                    for r in changes.appends[sheet]
                ]
                matrix = self._matrix(sheet, rows, headers[sheet])
                sheet_id = int(self._props[self._titles[sheet]].get("sheetId", 0))
                reqs.append(_append_cells(sheet_id, matrix))
            state.update(token=token, claims=claims, allocated=allocated, body=reqs)

        def landed(fault: Fault) -> bool:
            refresh()
            if any(tok == state["token"] for tok in self._claim_tokens.values()):
                return True  # an earlier attempt landed after all
            build()  # others may have claimed meanwhile: propose again
            return False

        tries = 0
        while True:
            build()
            try:
                self._write(
                    budget,
                    "gs.what.ids",
                    lambda: self._http.batch_update(self.key, {"requests": state["body"]}),
                    on_retry=landed,
                )
            except APIError as exc:
                reason = _short_reason(exc).lower().replace(" ", "")
                if retry.status_of(exc) != 400 or "namedrange" not in reason:
                    raise
                # Someone else's claim came first (our marker is gone, or theirs exists):
                # read what they claimed and try again above it.
                before = self._chain()
                refresh()
                if self._chain() == before:
                    # Nothing new at the end of the log as this process knows it: maybe rows
                    # of the log moved (a person deleted some). Read it whole, once.
                    self._forget_claims()
                    self._read_ids_tail(budget)
                if self._chain() == before:
                    raise SheetsError("gs.marker_lost", marker=before[1] or MARKER_BASE) from exc
                tries += 1
                pause = min(CLAIM_PAUSE_CAP_S, CLAIM_PAUSE_S * 2**tries) * budget.policy.rng()
                if budget.remaining() <= pause:
                    raise SheetsError("gs.claim_busy", tries=tries) from exc
                budget.policy.sleep(pause)  # contenders spread out instead of colliding again
                continue
            for seq, first, count in state["claims"]:
                self._claims_max[seq] = max(self._claims_max.get(seq, 0), first + count - 1)
            return state["allocated"]

    def _forget_claims(self) -> None:
        """Drop what this process knows of the claim log (the next read reads it whole)."""
        self._ids_known = 1
        self._claim_tokens.clear()
        self._markers.clear()

    def _absorb_claims(self, values: Sequence[Sequence[Any]], start_row: int) -> None:
        """Add ``_ids`` rows read from ``start_row`` on to the cache (contiguous prefix only)."""
        tokens = self._claim_tokens
        end = start_row + len(values) - 1
        for i, row in enumerate(values):
            r = start_row + i
            if r <= 1 or r in tokens:
                continue
            cells = [cell_text(v) for v in row]
            cells += [""] * (len(IDS_HEADER) - len(cells))
            seq, first, count, token = cells[:4]
            tokens[r] = token
            if cells[5].startswith(MARKER_PREFIX):
                self._markers[r] = cells[5]
            if seq and first.isdigit() and count.isdigit() and int(count) > 0:
                f, n = int(first), int(count)
                self._claims_max[seq] = max(self._claims_max.get(seq, 0), f + n - 1)
        if start_row <= self._ids_known + 1:
            self._ids_known = max(self._ids_known, end)

    # -- calls -------------------------------------------------------------------------------

    def _tab_retry(self, budget: Budget, read: Callable[[], Any]) -> Any:
        """Run ``read`` (no writes in it); if a tab was renamed or removed by hand since the
        titles were cached (400 "Unable to parse range"), look at the tabs again, once."""
        self._load_meta(budget)
        try:
            return read()
        except APIError as exc:
            if retry.status_of(exc) != 400 or "parse range" not in _short_reason(exc):
                raise
        self._load_meta(budget, reset=True)
        return read()

    def _load_meta(self, budget: Budget, *, reset: bool = False) -> None:
        """Worksheet titles and sizes (one ``spreadsheets.get``, cached until ``reset``)."""
        with self._lock:
            if self._titles and not reset:
                return
        meta = retry.run(
            lambda: self._http.fetch_sheet_metadata(self.key, params={"fields": META_FIELDS}),
            budget,
            "gs.what.read",
        )
        props = meta.get("properties", {}) if meta else {}
        sheets = [s.get("properties", {}) for s in (meta or {}).get("sheets", [])]
        by_norm = {_norm(p.get("title", "")): p.get("title", "") for p in sheets}
        titles: dict[str, str] = {}
        for sheet in self.schema:
            for candidate in (sheet.title, sheet.name, sheet.title_en):
                found = by_norm.get(_norm(candidate))
                if found and found not in titles.values():
                    titles[sheet.name] = found
                    break
        if _norm(IDS_SHEET) in by_norm:
            titles[IDS_SHEET] = by_norm[_norm(IDS_SHEET)]
        tz = None
        with contextlib.suppress(Exception):
            tz = zoneinfo.ZoneInfo(props.get("timeZone") or "")
        named = {
            str(n.get("namedRangeId") or "") for n in (meta or {}).get("namedRanges", []) or []
        }
        with self._lock:
            self._doc_title = props.get("title", "")
            self._tz = tz
            self._titles = titles
            self._props = {p.get("title", ""): p for p in sheets}
            self._named = named

    def _batch_get(self, budget: Budget, ranges: Sequence[str], what: str) -> list[dict[str, Any]]:
        if not ranges:
            return []
        resp = retry.run(
            lambda: self._http.values_batch_get(self.key, list(ranges), params=dict(READ_PARAMS)),
            budget,
            what or "gs.what.read",
        )
        got = (resp or {}).get("valueRanges") or []
        return list(got) + [{}] * (len(ranges) - len(got))

    def _write(
        self,
        budget: Budget,
        what: str,
        call: Callable[[], Any],
        *,
        on_retry: Callable[[Fault], bool] | None = None,
        **params: Any,
    ) -> Any:
        return retry.run(call, budget, t(what, "zh", **params), on_retry=on_retry, write=True)

    @contextlib.contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """Turn API and network failures into a :class:`SheetsError` people can act on."""
        try:
            yield
        except (DomainError, StoreError):
            raise
        except Exception as exc:
            err = self._as_sheets_error(exc, what)
            if err is None:
                raise
            raise err from exc

    def _as_sheets_error(self, exc: BaseException, what: str) -> SheetsError | None:
        if isinstance(exc, SheetsError):
            return exc
        if isinstance(exc, DomainError):
            return None
        email = self.service_account or "服务账号"
        if isinstance(exc, RetryExhausted):
            seconds = f"{exc.elapsed:.0f}"
            if exc.unsure:
                return SheetsError("gs.unsure", what=exc.what)
            if exc.quota:
                return SheetsError("gs.quota", seconds=seconds)
            return SheetsError(
                "gs.unreachable",
                what=t(what),
                attempts=exc.attempts,
                seconds=seconds,
                reason=_short_reason(exc.last),
            )
        status = retry.status_of(exc)
        if status is not None:
            reason = _short_reason(exc)
            if status == 404:
                return SheetsError("gs.not_found", key=self.key)
            if status == 403:
                if (
                    "has not been used" in reason
                    or "SERVICE_DISABLED" in reason
                    or ("disabled" in reason.lower() and "api" in reason.lower())
                ):
                    return SheetsError("gs.api_disabled", reason=reason)
                return SheetsError("gs.not_shared", email=email, key=self.key)
            if status == 401:
                return SheetsError("gs.auth_failed", email=email, reason=reason)
            if status == 400 and "not supported for this document" in reason:
                return SheetsError("gs.not_a_sheet", key=self.key)
            return SheetsError("gs.api_error", code=status, reason=reason)
        try:
            from google.auth.exceptions import RefreshError
        except ImportError:  # pragma: no cover
            RefreshError = ()  # type: ignore[assignment]
        if isinstance(exc, RefreshError):
            return SheetsError("gs.auth_failed", email=email, reason=_short_reason(exc))
        if isinstance(exc, requests.exceptions.RequestException):
            return SheetsError(
                "gs.unreachable", what=t(what), attempts=1, seconds="0", reason=_short_reason(exc)
            )
        return None


# -- module helpers --------------------------------------------------------------------------


def _add_sheet(title: str, columns: int, *, hidden: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {
        "title": title,
        "gridProperties": {
            "rowCount": NEW_SHEET_ROWS,
            "columnCount": columns,
            "frozenRowCount": 1,
        },
    }
    if hidden:
        props["hidden"] = True
    return {"addSheet": {"properties": props}}


def _add_named_range(name: str, sheet_id: int) -> dict[str, Any]:
    """An ``addNamedRange`` request with a chosen id (Google refuses an id that exists)."""
    return {
        "addNamedRange": {
            "namedRange": {
                "namedRangeId": name,
                "name": name,
                "range": {
                    "sheetId": sheet_id,
                    "startRowIndex": 0,
                    "endRowIndex": 1,
                    "startColumnIndex": 0,
                    "endColumnIndex": 1,
                },
            }
        }
    }


def _append_cells(sheet_id: int, rows: Sequence[Sequence[str]]) -> dict[str, Any]:
    """An ``appendCells`` request: rows after the sheet's last row with data, from column A.
    Text goes in as ``stringValue``, which Sheets never parses (like ``RAW``)."""
    return {
        "appendCells": {
            "sheetId": sheet_id,
            "rows": [
                {"values": [{"userEnteredValue": {"stringValue": v}} if v else {} for v in row]}
                for row in rows
            ],
            "fields": "userEnteredValue",
        }
    }


def _cell(values: Sequence[Any], c: int | None) -> Any:
    if c is None or c >= len(values):
        return ""
    return values[c]


def _column_values(value_range: Mapping[str, Any]) -> list[str]:
    """A one-column range (ROWS major) as text by row index (index 0 = the first row)."""
    return [cell_text(r[0]) if r else "" for r in (value_range.get("values") or [])]


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _shift(have: Sequence[str], want: Sequence[str]) -> int | None:
    """How far right ``want`` sits in ``have`` (only empty cells before it), or None."""
    lead = 0
    while lead < len(want) and want[lead] == "":
        lead += 1
    body = list(want[lead:])
    if not body:
        return 0 if not any(have) else None
    for start in range(len(have) - len(body) + 1):
        if list(have[start:]) == body and not any(have[:start]):
            return start - lead if start >= lead else None
    return None


def _chunks(rows: Sequence[Mapping[str, Any]]) -> Iterator[list[Mapping[str, Any]]]:
    """Rows in parts small enough for one request each."""
    chunk: list[Mapping[str, Any]] = []
    size = 0
    for row in rows:
        n = sum(len(_text(v).encode("utf-8")) + 4 for v in row.values()) + 4
        if chunk and (size + n > MAX_APPEND_BYTES or len(chunk) >= MAX_APPEND_ROWS):
            yield chunk
            chunk, size = [], 0
        chunk.append(row)
        size += n
    if chunk:
        yield chunk


def _short_reason(exc: BaseException) -> str:
    if isinstance(exc, APIError):
        err = exc.error if isinstance(getattr(exc, "error", None), dict) else {}
        message = str(err.get("message") or "")
        status = str(err.get("status") or "")
        reasons = " ".join(
            str(d.get("reason")) for d in err.get("details", []) if isinstance(d, dict)
        )
        return " ".join(x for x in (message, status, reasons) if x)[:300] or repr(exc)[:300]
    if isinstance(exc, requests.exceptions.Timeout):
        return "请求超时"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "网络连接中断"
    return str(exc)[:300] or type(exc).__name__


def _service_account(info: Mapping[str, Any] | None) -> tuple[Any, str | None]:
    """Service-account credentials from secrets, else ``GOOGLE_APPLICATION_CREDENTIALS``."""
    from google.oauth2 import service_account

    fields = dict(info or {})
    fields.pop("spreadsheet", None)
    fields.pop("worksheet", None)
    try:
        if fields.get("private_key") and fields.get("client_email"):
            if fields.get("type", "service_account") != "service_account":
                raise ValueError("type 必须是 service_account")
            fields.setdefault("type", "service_account")
            fields.setdefault("token_uri", "https://oauth2.googleapis.com/token")
            key = str(fields["private_key"])
            if "\\n" in key and "\n" not in key:
                fields["private_key"] = key.replace("\\n", "\n")
            creds = service_account.Credentials.from_service_account_info(fields, scopes=SCOPES)
            return creds, str(fields["client_email"])
        path = os.environ.get(CREDENTIALS_ENV, "").strip()
        if path:
            raw = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
            creds = service_account.Credentials.from_service_account_info(raw, scopes=SCOPES)
            return creds, raw.get("client_email")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SheetsError("gs.bad_credentials", reason=str(exc)[:200]) from exc
    raise SheetsError("gs.no_credentials")
