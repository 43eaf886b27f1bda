"""Import and export of register sheets as ``.xlsx`` and ``.csv``.

Import reads a bureau's old ledger (台账): Chinese or English headers (found by name, in any
order), CSV in UTF-8 (with or without BOM) or GBK/GB18030 as Chinese Excel writes it, the full
lifecycle of old cases. Each row is checked against the schema and the workflow; rows whose
``channel`` + ``source_id`` already exist are skipped; bad rows are rejected with their row
number as the spreadsheet shows it (header = row 1) and the reason, while the good rows are
imported. :func:`plan_import` checks without writing (for a preview); :func:`run_import`
writes through the service layer.

Export is safe against formula injection: in CSV a cell starting with ``=``, ``+``, ``-``,
``@``, tab or CR (or an apostrophe) gets a leading apostrophe, which our import removes again,
so text round-trips exactly; in XLSX every text is written as a string cell, never a formula.
Excel holds at most 32,767 characters in a cell: longer texts continue in extra columns
``标题（续1）``… which import joins back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from lib import workflow
from lib.auth import User, require
from lib.i18n import DomainError, t
from lib.register import Register
from lib.schema import FieldError, Sheet
from lib.store.base import NewId

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_LIMIT = 32767
_CONT_RE = re.compile(r"^(.*)（续(\d+)）$")
Progress = Callable[[int, int], None]


# --- reading files ------------------------------------------------------------------------


@dataclass
class RawTable:
    """A file's header and rows, as read (strings from CSV; typed cells from XLSX)."""

    name: str
    headers: list[str]
    rows: list[list[Any]]
    # Row number as the spreadsheet shows it (the header is row 1).
    row_numbers: list[int]


def _source_bytes(source: str | Path | bytes | BinaryIO) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    data = source.read()
    return data if isinstance(data, bytes) else data.encode("utf-8")


def read_table(
    source: str | Path | bytes | BinaryIO, name: str | None = None, sheet: Sheet | None = None
) -> RawTable:
    """Read an ``.xlsx`` or ``.csv`` file (path, bytes or file object) into a :class:`RawTable`.

    For a workbook, the worksheet named like the sheet (e.g. 案件 / cases) is used if there
    is one, else the first. Raises :class:`DomainError` with a readable reason.
    """
    name = name or (str(source) if isinstance(source, (str, Path)) else "upload")
    suffix = Path(name).suffix.lower()
    try:
        data = _source_bytes(source)
    except OSError as exc:
        raise DomainError("imp.bad_file", name=name, reason=exc.strerror or str(exc)) from None
    if suffix == ".csv":
        return _read_csv(data, name)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(data, name, sheet)
    raise DomainError("imp.unknown_ext", name=Path(name).name)


def decode_text(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 (BOM or not), else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _read_csv(data: bytes, name: str) -> RawTable:
    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        raise DomainError(
            "imp.bad_file", name=name, reason=f"编码无法识别（{exc.reason}）"
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;") if text else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        all_rows = list(reader)
    except csv.Error as exc:
        raise DomainError("imp.bad_file", name=name, reason=str(exc)) from None
    if not all_rows:
        return RawTable(name, [], [], [])
    headers = [h.strip() for h in all_rows[0]]
    rows = [[unneutralize(c) for c in r] for r in all_rows[1:]]
    return RawTable(name, headers, rows, list(range(2, len(rows) + 2)))


def _read_xlsx(data: bytes, name: str, sheet: Sheet | None) -> RawTable:
    import zipfile

    import openpyxl

    data, sentinel = _protect_escapes(data)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DomainError(
            "imp.bad_file", name=name, reason=f"不是有效的 .xlsx 文件（{exc}）"
        ) from None
    try:
        ws = wb.worksheets[0]
        if sheet is not None:
            for w in wb.worksheets:
                if w.title in (sheet.title, sheet.name, sheet.title_en):
                    ws = w
                    break
        it = ws.iter_rows(values_only=True)
        first = next(it, None)
        if first is None:
            return RawTable(name, [], [], [])
        headers = ["" if h is None else str(h).strip() for h in first]
        rows: list[list[Any]] = []
        numbers: list[int] = []
        for i, r in enumerate(it, start=2):
            rows.append([_unescape_ooxml(v, sentinel) if isinstance(v, str) else v for v in r])
            numbers.append(i)
    finally:
        wb.close()
    return RawTable(name, headers, rows, numbers)


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_SENTINEL = "\ue000"


def _protect_escapes(data: bytes) -> tuple[bytes, str | None]:
    """Keep OOXML ``_xHHHH_`` escapes readable after openpyxl.

    Writers escape a control character such as CR as ``_x000D_`` and a literal ``_x`` text
    as ``_x005F_x…``; openpyxl undoes only the latter, which makes the two indistinguishable.
    Replacing the escaped underscore by a private-use sentinel first lets us undo both
    exactly afterwards.
    """
    import zipfile

    try:
        zin = zipfile.ZipFile(io.BytesIO(data))
        names = [n for n in zin.namelist() if n.startswith("xl/") and n.endswith(".xml")]
        if not any(b"_x" in zin.read(n) for n in names):
            return data, None
        if any(_SENTINEL.encode() in zin.read(n) for n in names):
            return data, None
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                body = zin.read(item.filename)
                if item.filename in names:
                    body = body.replace(b"_x005F_", _SENTINEL.encode()).replace(
                        b"_x005f_", _SENTINEL.encode()
                    )
                zout.writestr(item, body)
        return out.getvalue(), _SENTINEL
    except (zipfile.BadZipFile, KeyError, OSError):
        return data, None


def _unescape_ooxml(text: str, sentinel: str | None) -> str:
    if sentinel is None:
        return text
    if "_x" in text:
        text = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text.replace(sentinel, "_")


def unneutralize(cell: str) -> str:
    """Undo :func:`neutralize`: drop one leading apostrophe that guards a trigger character."""
    if len(cell) >= 2 and cell[0] == "'" and (cell[1] in FORMULA_TRIGGERS or cell[1] == "'"):
        return cell[1:]
    return cell


def neutralize(cell: str) -> str:
    """Guard a CSV cell against formula injection with a leading apostrophe."""
    if cell and (cell[0] in FORMULA_TRIGGERS or cell[0] == "'"):
        return "'" + cell
    return cell


# --- planning an import -------------------------------------------------------------------


@dataclass
class RowIssue:
    """A rejected or skipped row: its number as the spreadsheet shows it, and why."""

    row: int
    reasons: list[str]
    fields: list[str] = field(default_factory=list)

    def text(self, lang: str = "zh") -> str:
        """``第 3 行：…``."""
        sep = "; " if lang == "en" else "；"
        return t("imp.row", lang, row=self.row, reason=sep.join(self.reasons))


@dataclass
class ImportPlan:
    """What an import would do: rows to write, rows skipped as duplicates, rows rejected."""

    sheet: str
    name: str
    total: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    skipped: list[RowIssue] = field(default_factory=list)
    rejected: list[RowIssue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def preview(self, sheet: Sheet, lang: str = "zh") -> pd.DataFrame:
        """A table for people: each row with its number, outcome and reason."""
        recs = [
            {
                "行号": n,
                "结果": "导入",
                "原因": "",
                **{
                    sheet.field(k).label(lang): v
                    for k, v in r.items()
                    if k in sheet.by_key and not isinstance(v, NewId)
                },
            }
            for n, r in zip(self.row_numbers, self.rows, strict=True)
        ]
        recs += [{"行号": i.row, "结果": "跳过", "原因": i.text(lang)} for i in self.skipped]
        recs += [{"行号": i.row, "结果": "拒绝", "原因": i.text(lang)} for i in self.rejected]
        out = pd.DataFrame(recs)
        if lang == "en" and not out.empty:
            out = out.rename(columns={"行号": "Row", "结果": "Outcome", "原因": "Reason"})
            out = out.replace({"导入": "import", "跳过": "skip", "拒绝": "reject"})
        return out.sort_values(out.columns[0]).reset_index(drop=True) if not out.empty else out


@dataclass
class ImportResult:
    """What an import did."""

    plan: ImportPlan
    imported: list[str]

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.plan.rejected

    def summary(self, lang: str = "zh") -> str:
        """One line: total, imported, skipped, rejected."""
        p = self.plan
        return t(
            "imp.summary",
            lang,
            total=p.total,
            imported=len(self.imported),
            skipped=len(p.skipped),
            rejected=len(p.rejected),
        )


def _join_continuations(table: RawTable, sheet: Sheet) -> tuple[dict[int, str], list[str]]:
    """Map column positions to field keys; fold ``X（续n）`` columns into their field."""
    mapping = sheet.map_headers(table.headers)
    ignored = [h for i, h in enumerate(table.headers) if i not in mapping and h]
    conts: dict[str, list[tuple[int, int]]] = {}
    for i, h in enumerate(table.headers):
        m = _CONT_RE.match(h or "")
        if m and i not in mapping:
            key = sheet.resolve_header(m.group(1))
            if key:
                conts.setdefault(key, []).append((int(m.group(2)), i))
                if h in ignored:
                    ignored.remove(h)
    if conts:
        for key, parts in conts.items():
            parts.sort()
            for row in table.rows:
                extra = "".join(
                    "" if p >= len(row) or row[p] is None else str(row[p]) for _, p in parts
                )
                if extra:
                    base = next((i for i, k in mapping.items() if k == key), None)
                    if base is not None and base < len(row):
                        row[base] = ("" if row[base] is None else str(row[base])) + extra
    return mapping, ignored


def plan_import(
    reg: Register,
    user: User,
    source: str | Path | bytes | BinaryIO,
    *,
    name: str | None = None,
    sheet_name: str = "cases",
    progress: Progress | None = None,
) -> ImportPlan:
    """Read and check a file without writing anything."""
    require(user, "import")
    sheet = reg.schema[sheet_name]
    table = read_table(source, name, sheet)
    mapping, ignored = _join_continuations(table, sheet)
    if not mapping:
        raise DomainError("imp.no_header", expected="、".join(sheet.headers[:6]))
    present = set(mapping.values())
    # A required field with a default (e.g. 渠道) may be left out of the file.
    missing = [
        f.label()
        for f in sheet.fields
        if f.required and not f.derived and f.default is None and f.key not in present
    ]
    if missing:
        raise DomainError("imp.missing_columns", columns="、".join(missing))
    plan = ImportPlan(sheet_name, table.name, total=0, ignored_columns=ignored)
    if sheet_name == "cases":
        _plan_cases(reg, user, table, mapping, plan, progress)
    else:
        _plan_simple(reg, table, mapping, sheet, plan)
    return plan


def _is_blank(values: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and v.strip() == "") for v in values)


def _plan_simple(
    reg: Register, table: RawTable, mapping: Mapping[int, str], sheet: Sheet, plan: ImportPlan
) -> None:
    existing = reg.store.read([sheet.name])[sheet.name]
    taken = set(existing[sheet.key]) if sheet.key and sheet.key in existing else set()
    seen: dict[str, int] = {}
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        raw = {k: row[i] for i, k in mapping.items() if i < len(row)}
        if _is_blank(raw.values()):
            continue
        plan.total += 1
        _, text, errors = sheet.parse_row(raw, skip_derived=True)
        for f in sheet.fields:
            if f.secret:
                text.pop(f.key, None)
        key = text.get(sheet.key, "") if sheet.key else ""
        if errors:
            plan.rejected.append(RowIssue(number, [e.message() for e in errors]))
            continue
        if key in taken:
            plan.skipped.append(RowIssue(number, [t("imp.duplicate_key", key=key)]))
            continue
        if key in seen:
            plan.skipped.append(RowIssue(number, [t("imp.duplicate_in_file", row=seen[key])]))
            continue
        seen[key] = number
        if "version" in sheet.by_key:
            text["version"] = "1"
        plan.rows.append(text)
        plan.row_numbers.append(number)


def _plan_cases(
    reg: Register,
    user: User,
    table: RawTable,
    mapping: Mapping[int, str],
    plan: ImportPlan,
    progress: Progress | None,
) -> None:
    sheet = reg.schema["cases"]
    data = reg.load()
    rules = data.rules
    today = reg.today()
    allowed = {"region": data.regions()}
    units = set(data.units["name"])
    cases = data.cases
    known_sources = (
        set(zip(cases["channel"], cases["source_id"], strict=True)) if len(cases) else set()
    )
    known_ids = set(cases["case_id"])
    file_ids = {
        str(row[i]).strip()
        for row in table.rows
        for i, k in mapping.items()
        if k == "case_id" and i < len(row) and row[i] not in (None, "")
    }
    seen_sources: dict[tuple[str, str], int] = {}
    seen_ids: dict[str, int] = {}
    prefix = data.settings.get("case_id_prefix") or "GA"
    now_iso = reg.now().isoformat(timespec="seconds")
    total_rows = len(table.rows)
    for n_done, (number, row) in enumerate(zip(table.row_numbers, table.rows, strict=True), 1):
        if progress and n_done % 1000 == 0:
            progress(n_done, total_rows)
        raw = {k: row[i] for i, k in mapping.items() if i < len(row)}
        if _is_blank(raw.values()):
            continue
        plan.total += 1
        for k in ("status", "accept_due", "handle_due", "version", "updated_at", "updated_by"):
            raw.pop(k, None)  # derived: recomputed, never trusted from a file
        typed, text, errors = sheet.parse_row(raw, allowed=allowed)
        if text.get("unit") and text["unit"] not in units:
            errors.append(
                FieldError("unit", text["unit"], "err.ref", {"label": sheet.field("unit").label()})
            )
        ref = text.get("repeat_of")
        if ref and ref not in known_ids and ref not in file_ids:
            errors.append(
                FieldError("repeat_of", ref, "err.ref", {"label": sheet.field("repeat_of").label()})
            )
        cid = text.get("case_id", "")
        if cid and cid in known_ids:
            errors.append(FieldError("case_id", cid, "imp.duplicate_key", {"key": cid}))
        if not errors:
            errors += workflow.case_errors(typed, today, sheet)
        if errors:
            plan.rejected.append(
                RowIssue(number, [e.message() for e in errors], [e.field for e in errors])
            )
            continue
        src = (text["channel"], text.get("source_id", ""))
        if src[1]:
            if src in known_sources:
                plan.skipped.append(
                    RowIssue(number, [t("imp.duplicate_source", channel=src[0], source_id=src[1])])
                )
                continue
            if src in seen_sources:
                plan.skipped.append(
                    RowIssue(number, [t("imp.duplicate_in_file", row=seen_sources[src])])
                )
                continue
            seen_sources[src] = number
        if cid:
            if cid in seen_ids:
                plan.rejected.append(
                    RowIssue(number, [t("imp.duplicate_in_file", row=seen_ids[cid])], ["case_id"])
                )
                continue
            seen_ids[cid] = number
        try:
            derived = workflow.derive(typed, rules)
        except DomainError as exc:
            plan.rejected.append(RowIssue(number, [exc.message()]))
            continue
        for k, v in derived.items():
            text[k] = v.isoformat() if isinstance(v, dt.date) else (v or "")
        if not cid:
            # One placeholder per row (NewId compares by identity): the store numbers them.
            text["case_id"] = NewId(f"{prefix}{typed['received_at'].year}-")
        text.update(version="1", updated_at=now_iso, updated_by=user.username)
        plan.rows.append(text)
        plan.row_numbers.append(number)
    if progress:
        progress(total_rows, total_rows)


def run_import(
    reg: Register,
    user: User,
    source: str | Path | bytes | BinaryIO | ImportPlan,
    *,
    name: str | None = None,
    sheet_name: str = "cases",
    progress: Progress | None = None,
) -> ImportResult:
    """Import a file (or an already checked :class:`ImportPlan`): the good rows are written."""
    plan = (
        source
        if isinstance(source, ImportPlan)
        else plan_import(reg, user, source, name=name, sheet_name=sheet_name)
    )
    ids = reg.bulk_append(
        user,
        plan.sheet,
        plan.rows,
        action="import",
        note=Path(plan.name).name,
        chunk=2000,
        progress=progress,
    )
    return ImportResult(plan, [str(i) for i in ids])


# --- export -------------------------------------------------------------------------------


def text_frame(frame: pd.DataFrame, sheet: Sheet) -> pd.DataFrame:
    """Canonical text of the schema's columns (typed values turned back into text)."""
    out = pd.DataFrame(index=frame.index)
    for f in sheet.fields:
        if f.secret:
            continue
        if f.key not in frame.columns:
            out[f.key] = ""
            continue
        col = frame[f.key]
        if pd.api.types.is_datetime64_any_dtype(col):
            fmt = "%Y-%m-%d" if f.type == "date" else "%Y-%m-%dT%H:%M:%S%z"
            out[f.key] = col.dt.strftime(fmt).fillna("")
        elif f.type == "bool" and not pd.api.types.is_string_dtype(col):
            out[f.key] = col.map(
                lambda v: "" if v is None or v is pd.NA else ("TRUE" if v else "FALSE")
            )
        else:
            out[f.key] = col.astype(object).where(col.notna(), "").map(str)
    return out


def split_long_text(frame: pd.DataFrame, sheet: Sheet, lang: str) -> tuple[pd.DataFrame, list[str]]:
    """Headers for people, and continuation columns for texts too long for one Excel cell."""
    headers = [sheet.field(k).label(lang) for k in frame.columns]
    out = frame.copy()
    out.columns = headers
    for key, header in zip(list(frame.columns), list(headers), strict=True):
        lengths = frame[key].str.len()
        if lengths.max() > XLSX_CELL_LIMIT if len(frame) else False:
            parts = int((lengths.max() - 1) // XLSX_CELL_LIMIT)
            full = frame[key]
            out[header] = full.str.slice(0, XLSX_CELL_LIMIT)
            for p in range(1, parts + 1):
                out[f"{header}（续{p}）"] = full.str.slice(
                    p * XLSX_CELL_LIMIT, (p + 1) * XLSX_CELL_LIMIT
                )
    return out, list(out.columns)


def write_csv(frame: pd.DataFrame, sheet: Sheet, *, lang: str = "zh") -> bytes:
    """CSV for Excel/WPS: UTF-8 with BOM, a header row, formula triggers neutralised."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([sheet.field(k).label(lang) for k in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        w.writerow([neutralize(v) for v in row])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def write_xlsx(frame: pd.DataFrame, sheet: Sheet, *, lang: str = "zh") -> bytes:
    """XLSX: text as string cells (never formulas), dates as dates, header frozen."""
    import xlsxwriter

    out, headers = split_long_text(frame, sheet, lang)
    types = {sheet.field(k).label(lang): sheet.field(k).type for k in frame.columns}
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    ws = wb.add_worksheet(sheet.label(lang)[:31])
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_name": "等线"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd", "font_name": "等线"})
    text_fmt = wb.add_format({"font_name": "等线"})
    for c, h in enumerate(headers):
        ws.write_string(0, c, h, head)
        width = 12
        kind = types.get(h, "text")
        if kind in ("longtext",):
            width = 40
        elif kind == "text":
            width = 16
        ws.set_column(c, c, width)
    for r, row in enumerate(out.itertuples(index=False, name=None), start=1):
        for c, v in enumerate(row):
            if v == "" or v is None:
                continue
            kind = types.get(headers[c], "text")
            if kind == "date":
                try:
                    ws.write_datetime(r, c, dt.datetime.fromisoformat(v), date_fmt)
                    continue
                except ValueError:
                    pass
            elif kind == "int" and re.fullmatch(r"-?\d{1,15}", v):
                ws.write_number(r, c, int(v))
                continue
            ws.write_string(r, c, v, text_fmt)
    ws.freeze_panes(1, 0)
    if len(out):
        ws.autofilter(0, 0, len(out), max(len(headers) - 1, 0))
    wb.close()
    return buf.getvalue()


def export_frame(frame: pd.DataFrame, sheet: Sheet, fmt: str, *, lang: str = "zh") -> bytes:
    """Write a frame of canonical text (columns = field keys) as ``csv`` or ``xlsx`` bytes."""
    if fmt == "csv":
        return write_csv(frame, sheet, lang=lang)
    if fmt == "xlsx":
        return write_xlsx(frame, sheet, lang=lang)
    raise ValueError(f"unknown export format {fmt!r}")


def export_table(
    reg: Register,
    user: User,
    sheet_name: str,
    fmt: str,
    *,
    lang: str = "zh",
    case_ids: Sequence[str] | None = None,
) -> bytes:
    """Export a sheet as the user may see it (their rows, PII masked), and log the export."""
    frame = reg.export_rows(user, sheet_name, case_ids=case_ids)
    return export_frame(frame, reg.schema[sheet_name], fmt, lang=lang)


def template(sheet: Sheet, fmt: str = "xlsx", *, lang: str = "zh") -> bytes:
    """An empty file with the canonical headers of the fields people fill in."""
    keys = [f.key for f in sheet.fields if not f.derived or f.key == "case_id"]
    return export_frame(pd.DataFrame(columns=keys), sheet, fmt, lang=lang)


def fmt_of(path: str | Path) -> str:
    """``csv`` or ``xlsx`` from a file name."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("csv", "xlsx"):
        raise DomainError("imp.unknown_ext", name=Path(path).name)
    return suffix
