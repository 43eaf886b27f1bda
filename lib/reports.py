"""Writing a report table (the §8 league table, or any frame) to csv, Markdown or xlsx.

* csv — UTF-8 with a BOM (so Excel opens Chinese text correctly), a header row, rates as
  fractions at full precision, an empty cell for a missing value. Safe against formula
  injection: a text cell starting with ``= + - @``, a tab or a carriage return gets a leading
  apostrophe, which spreadsheet programs show as text.
* md — a Markdown table; rates as percentages with one decimal (``87.5%``), "—" for missing.
* xlsx — openpyxl: rates as numbers with a ``0.0%`` format, counts as numbers, text always as
  string cells (never formulas; risky text also flagged "quote prefix" so editing the cell in
  Excel keeps it text), header row bold and frozen, an autofilter, column widths to fit.

Which columns are rates: the float columns named in :data:`lib.metrics.RATE_COLUMNS`, unless
the caller says otherwise.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from lib.i18n import register_messages, t
from lib.metrics import RATE_COLUMNS

FORMATS = ("csv", "md", "xlsx")
# A text cell starting with one of these could be run as a formula by a spreadsheet.
RISKY_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = str.maketrans({c: None for c in [*range(0, 9), 11, 12, *range(14, 32)]})

register_messages(
    {
        "err.report_format": (
            "不支持的报表格式“{fmt}”（可选：csv、md、xlsx）",
            "Unsupported report format “{fmt}” (use csv, md or xlsx)",
        ),
        "report.sheet": ("报表", "Report"),
    }
)


def format_rate(x: Any, lang: str = "zh") -> str:
    """A rate 0–1 as a percentage with one decimal, rounded half up ("87.5%"); "—" if missing.

    Rounding is on the value's shortest decimal form, so 0.0625 shows as 6.3%, as a person
    rounding by hand would write it.
    """
    if not _is_number(x):
        return t("no_value", lang)
    pct = (Decimal(repr(float(x))) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{pct}%"


def format_for_path(path: str | Path) -> str:
    """The report format a file name implies (``.csv``, ``.md``/``.markdown``, ``.xlsx``)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return "md" if suffix == "markdown" else suffix


def write_report(
    table: pd.DataFrame,
    fmt: str,
    out: str | Path | BinaryIO | None = None,
    *,
    rate_columns: Iterable[str] | None = None,
    sheet_name: str | None = None,
    lang: str = "zh",
) -> bytes:
    """Write ``table`` as csv, md or xlsx; return the bytes, and write them to ``out`` if given.

    ``out`` may be a path or a binary file object. ``rate_columns`` overrides which columns
    hold rates (default: the float columns named in :data:`lib.metrics.RATE_COLUMNS`).
    ``sheet_name`` names the xlsx worksheet (default 报表 / Report); ``lang`` picks the "—".
    Raises ValueError for an unknown format.
    """
    kind = str(fmt).lower().lstrip(".")
    kind = "md" if kind == "markdown" else kind
    if kind not in FORMATS:
        raise ValueError(t("err.report_format", "en", fmt=fmt))
    rates = _rate_columns(table, rate_columns)
    if kind == "csv":
        data = _csv(table)
    elif kind == "md":
        data = _markdown(table, rates, lang)
    else:
        data = _xlsx(table, rates, sheet_name or t("report.sheet", lang))
    if out is not None:
        if hasattr(out, "write"):
            out.write(data)  # type: ignore[union-attr]
        else:
            Path(out).write_bytes(data)  # type: ignore[arg-type]
    return data


# --- helpers --------------------------------------------------------------------------------


def _is_number(x: Any) -> bool:
    if x is None or x is pd.NA or isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, int | np.integer):
        return True
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _rate_columns(table: pd.DataFrame, chosen: Iterable[str] | None) -> set[str]:
    if chosen is not None:
        return {c for c in chosen if c in table.columns}
    return {
        c
        for c in table.columns
        if c in RATE_COLUMNS and pd.api.types.is_float_dtype(table[c].dtype)
    }


def _safe_text(value: str) -> str:
    """Neutralise a text cell a spreadsheet could read as a formula."""
    return "'" + value if value.startswith(RISKY_PREFIXES) else value


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and math.isnan(v)


def _date_text(v: Any) -> str:
    ts = pd.Timestamp(v)
    if ts.tzinfo is None and ts == ts.normalize():
        return ts.date().isoformat()
    return ts.isoformat()


def _csv(table: pd.DataFrame) -> bytes:
    frame = table.copy()
    frame.columns = [_safe_text(str(c)) for c in frame.columns]
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            frame[c] = col.map(lambda v: "" if _is_missing(v) else _date_text(v)).astype(object)
        elif not (
            pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)
        ):
            frame[c] = col.map(
                lambda v: _safe_text(v) if isinstance(v, str) else ("" if _is_missing(v) else v)
            ).astype(object)
    # Floats are written in their shortest round-trip form: full precision.
    return frame.to_csv(index=False, na_rep="", lineterminator="\r\n").encode("utf-8-sig")


def _md_cell(v: Any, is_rate: bool, lang: str) -> str:
    if is_rate:
        return format_rate(v, lang)
    if _is_missing(v):
        return t("no_value", lang)
    if isinstance(v, pd.Timestamp | dt.date | np.datetime64):
        text = _date_text(v)
    elif isinstance(v, float | np.floating):
        text = format(float(v), ".10g")
    else:
        text = str(v)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def _markdown(table: pd.DataFrame, rates: set[str], lang: str) -> bytes:
    cols = list(table.columns)
    numeric = [c in rates or pd.api.types.is_numeric_dtype(table[c].dtype) for c in cols]
    header = [_md_cell(str(c), False, lang) for c in cols]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if num else "---" for num in numeric) + "|",
    ]
    for row in table.itertuples(index=False, name=None):
        cells = [_md_cell(v, c in rates, lang) for c, v in zip(cols, row, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _display_width(text: str) -> int:
    # CJK and other wide characters take two columns in Excel's default fonts.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _sheet_title(name: str) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'") or "Sheet1"
    return clean[:31]


def _xlsx(table: pd.DataFrame, rates: set[str], sheet_name: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(sheet_name)
    cols = list(table.columns)
    widths = [_display_width(str(c)) for c in cols]
    bold = Font(bold=True)
    for j, c in enumerate(cols, start=1):
        _text_cell(ws.cell(row=1, column=j), str(c)).font = bold
    is_date = [pd.api.types.is_datetime64_any_dtype(table[c].dtype) for c in cols]
    for i, row in enumerate(table.itertuples(index=False, name=None), start=2):
        for j, (c, v) in enumerate(zip(cols, row, strict=True), start=1):
            cell = ws.cell(row=i, column=j)
            if _is_missing(v):
                continue
            if c in rates:
                if _is_number(v):
                    cell.value = float(v)
                    cell.number_format = "0.0%"
                    widths[j - 1] = max(widths[j - 1], 7)
                continue
            if is_date[j - 1] or isinstance(v, pd.Timestamp | dt.date):
                ts = pd.Timestamp(v)
                if ts.tzinfo is not None:
                    ts = ts.tz_localize(None)
                cell.value = ts.to_pydatetime()
                cell.number_format = "yyyy-mm-dd" if ts == ts.normalize() else "yyyy-mm-dd hh:mm"
                widths[j - 1] = max(widths[j - 1], 10 if ts == ts.normalize() else 16)
                continue
            if isinstance(v, bool | np.bool_):
                cell.value = bool(v)
            elif isinstance(v, int | np.integer):
                cell.value = int(v)
            elif isinstance(v, float | np.floating):
                cell.value = float(v) if math.isfinite(v) else None
            else:
                _text_cell(cell, str(v))
            widths[j - 1] = max(widths[j - 1], _display_width(str(v)))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 6), 60)
    ws.freeze_panes = "A2"
    if cols:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(len(table) + 1, 1)}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _text_cell(cell: Any, text: str) -> Any:
    """Put ``text`` in ``cell`` as a string cell, never a formula."""
    text = text.translate(_ILLEGAL_XML)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(RISKY_PREFIXES):
        cell.quotePrefix = True
    return cell


__all__ = ["FORMATS", "RISKY_PREFIXES", "format_for_path", "format_rate", "write_report"]
