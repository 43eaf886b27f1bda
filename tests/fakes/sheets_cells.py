"""Cell values for the Sheets emulator: input parsing (RAW / USER_ENTERED) and rendering.

A :class:`Cell` keeps what Sheets keeps: an effective value (text, number or boolean), an
optional formula, and an optional number format that USER_ENTERED parsing picked (date,
percent, currency, grouped number...). Rendering follows ``valueRenderOption`` and
``dateTimeRenderOption`` for an ``en_US`` spreadsheet.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

#: Sheets refuses a cell with more characters than this.
MAX_CELL_CHARS = 50_000

#: Day zero of the serial-number calendar (Lotus 1-2-3 / Sheets).
EPOCH = datetime(1899, 12, 30)

FORMATTED_VALUE = "FORMATTED_VALUE"
UNFORMATTED_VALUE = "UNFORMATTED_VALUE"
FORMULA = "FORMULA"
SERIAL_NUMBER = "SERIAL_NUMBER"
FORMATTED_STRING = "FORMATTED_STRING"

Scalar = str | int | float | bool


@dataclass(frozen=True)
class NumberFormat:
    """A number format as in ``CellFormat.numberFormat`` (type + pattern)."""

    type: str
    pattern: str

    @property
    def is_temporal(self) -> bool:
        """Dates, times and date-times follow ``dateTimeRenderOption``."""
        return self.type in {"DATE", "TIME", "DATE_TIME"}


@dataclass(frozen=True)
class Cell:
    """One non-empty cell: a literal ``value`` or a ``formula`` (then ``value`` is unused)."""

    value: Scalar | None = None
    formula: str | None = None
    fmt: NumberFormat | None = None

    @property
    def kind(self) -> str:
        """``formula``, ``bool``, ``number`` or ``text``."""
        if self.formula is not None:
            return "formula"
        if isinstance(self.value, bool):
            return "bool"
        if isinstance(self.value, int | float):
            return "number"
        return "text"


class CellInputError(ValueError):
    """A value in a request that Sheets would refuse (message is Google's wording)."""


# ---------------------------------------------------------------------------------------------
# Input


def _check_length(text: str) -> None:
    if len(text) > MAX_CELL_CHARS:
        raise CellInputError(
            f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters "
            "in a single cell."
        )


def _scalar_from_json(value: object, where: str) -> Scalar:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise CellInputError(f"Invalid {where}: non-finite number")
        return value
    kind = type(value).__name__
    raise CellInputError(f"Invalid {where}: {kind}_value {value!r}")


def raw_cell(value: object, where: str = "values") -> Cell | None:
    """Build the cell RAW input stores: text stays text, JSON numbers/bools stay typed.

    Returns ``None`` for ``""`` (the cell is cleared).
    """
    scalar = _scalar_from_json(value, where)
    if isinstance(scalar, str):
        _check_length(scalar)
        if scalar == "":
            return None
    return Cell(value=scalar)


_NUMBER_RE = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")
_PERCENT_RE = re.compile(r"^([+-]?\d*(?:\.\d*)?)\s*%$")
_CURRENCY_RE = re.compile(r"^(-?)\$\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")
_ISO_DATE_RE = re.compile(
    r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_US_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?$")


def to_serial(moment: datetime) -> float:
    """Return the serial number (days since 1899-12-30, fraction = time of day)."""
    delta = moment - EPOCH
    return delta.days + delta.seconds / 86400


def from_serial(serial: float) -> datetime:
    """Inverse of :func:`to_serial`, rounded to the second."""
    days = math.floor(serial)
    seconds = round((serial - days) * 86400)
    return EPOCH + timedelta(days=days, seconds=seconds)


def _int_or_float(x: float) -> int | float:
    if x == int(x) and abs(x) < 2**53:
        return int(x)
    return x


def _parse_number(text: str) -> Cell | None:
    m = _NUMBER_RE.match(text)
    if not m or not (m.group(2) or m.group(3)):
        return None
    sign, whole, decimals, exponent = m.groups()
    number_text = f"{sign}{whole.replace(',', '') or '0'}.{decimals or '0'}"
    if exponent is not None:
        value = float(f"{number_text}e{exponent}")
        return Cell(value=_int_or_float(value), fmt=NumberFormat("SCIENTIFIC", "0.00E+00"))
    value = float(number_text)
    fmt = None
    if "," in whole:
        places = len(decimals or "")
        pattern = "#,##0" + ("." + "0" * places if places else "")
        fmt = NumberFormat("NUMBER", pattern)
    return Cell(value=_int_or_float(value), fmt=fmt)


def _parse_date(text: str) -> Cell | None:
    m = _ISO_DATE_RE.match(text)
    if m:
        year, sep, month, day, hh, mi, ss = m.groups()
        date_pattern = "yyyy-mm-dd" if sep == "-" else "yyyy/mm/dd"
    else:
        m = _US_DATE_RE.match(text)
        if not m:
            return None
        month, day, year, hh, mi, ss = m.groups()
        if len(year) == 2:
            year = str(2000 + int(year) if int(year) < 30 else 1900 + int(year))
        date_pattern = "M/d/yyyy"
    try:
        moment = datetime(int(year), int(month), int(day))
        if hh is not None:
            moment = moment.replace(hour=int(hh), minute=int(mi), second=int(ss or 0))
    except ValueError:
        return None
    if hh is None:
        return Cell(value=_int_or_float(to_serial(moment)), fmt=NumberFormat("DATE", date_pattern))
    return Cell(
        value=_int_or_float(to_serial(moment)),
        fmt=NumberFormat("DATE_TIME", date_pattern + " H:mm:ss"),
    )


def _parse_time(text: str) -> Cell | None:
    m = _TIME_RE.match(text)
    if not m:
        return None
    hh, mi, ss, ampm = m.groups()
    hour, minute, second = int(hh), int(mi), int(ss or 0)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    serial = (hour * 3600 + minute * 60 + second) / 86400
    return Cell(value=serial, fmt=NumberFormat("TIME", "h:mm:ss am/pm"))


def user_entered_cell(value: object, where: str = "values") -> Cell | None:
    """Parse a value the way typing it into Sheets (en_US) would; ``None`` clears the cell."""
    scalar = _scalar_from_json(value, where)
    if not isinstance(scalar, str):
        return Cell(value=scalar)
    text = scalar
    _check_length(text)
    if text == "":
        return None
    if text.startswith("'"):
        return Cell(value=text[1:]) if len(text) > 1 else None
    if text.startswith("="):
        return Cell(formula=text)
    if text.startswith("+"):
        # Sheets treats a leading "+" as the start of a formula ("+5" -> =+5 -> 5).
        return Cell(formula="=" + text)
    stripped = text.strip()
    if stripped.upper() in {"TRUE", "FALSE"}:
        return Cell(value=stripped.upper() == "TRUE")
    for parser in (_parse_number, _parse_percent, _parse_currency, _parse_date, _parse_time):
        cell = parser(stripped)
        if cell is not None:
            return cell
    return Cell(value=text)


def _parse_percent(text: str) -> Cell | None:
    m = _PERCENT_RE.match(text)
    if not m or not re.search(r"\d", m.group(1)):
        return None
    number = m.group(1)
    places = len(number.split(".")[1]) if "." in number else 0
    pattern = "0.00%" if places else "0%"
    return Cell(
        value=_int_or_float(round(float(number) / 100, 15)), fmt=NumberFormat("PERCENT", pattern)
    )


def _parse_currency(text: str) -> Cell | None:
    m = _CURRENCY_RE.match(text)
    if not m:
        return None
    sign, whole, decimals = m.groups()
    value = float(sign + whole.replace(",", "") + ("." + decimals if decimals else ""))
    return Cell(value=_int_or_float(value), fmt=NumberFormat("CURRENCY", '"$"#,##0.00'))


# ---------------------------------------------------------------------------------------------
# Output


def general_number(value: float | int) -> str:
    """Format a number in Sheets' automatic format (``2``, ``1.5``, ``0.0009765625``)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e15 or magnitude < 1e-10:
        mantissa, exponent = f"{value:.5E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{int(exponent):+03d}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


_DATE_TOKEN_RE = re.compile(r"yyyy|yy|mm|m|dd|d|hh|h|ss|s|am/pm", re.IGNORECASE)


def format_temporal(serial: float, pattern: str) -> str:
    """Render a serial number with a small subset of Sheets date/time patterns."""
    moment = from_serial(serial)
    tokens = _DATE_TOKEN_RE.findall(pattern)
    has_ampm = any(t.lower() == "am/pm" for t in tokens)
    out: list[str] = []
    pos = 0
    last_was_hour = False
    for m in _DATE_TOKEN_RE.finditer(pattern):
        out.append(pattern[pos : m.start()])
        pos = m.end()
        token = m.group(0)
        low = token.lower()
        following = pattern[m.end() :].lower().lstrip(":")
        minute_context = last_was_hour or following.startswith("s")
        if low == "yyyy":
            out.append(f"{moment.year:04d}")
        elif low == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif low in {"mm", "m"} and minute_context:
            out.append(f"{moment.minute:02d}" if low == "mm" else str(moment.minute))
        elif low == "mm":
            out.append(f"{moment.month:02d}")
        elif low == "m":
            out.append(str(moment.month))
        elif low == "dd":
            out.append(f"{moment.day:02d}")
        elif low == "d":
            out.append(str(moment.day))
        elif low in {"hh", "h"}:
            hour = (moment.hour % 12 or 12) if has_ampm else moment.hour
            out.append(f"{hour:02d}" if low == "hh" else str(hour))
        elif low in {"ss", "s"}:
            out.append(f"{moment.second:02d}" if low == "ss" else str(moment.second))
        elif low == "am/pm":
            out.append("AM" if moment.hour < 12 else "PM")
        last_was_hour = low in {"hh", "h"}
    out.append(pattern[pos:])
    return "".join(out)


def format_number(value: float | int, fmt: NumberFormat | None) -> str:
    """Render a number with its number format, as FORMATTED_VALUE does."""
    if fmt is None:
        return general_number(value)
    if fmt.is_temporal:
        return format_temporal(float(value), fmt.pattern)
    places = len(fmt.pattern.split(".")[1].rstrip("%")) if "." in fmt.pattern else 0
    if fmt.type == "PERCENT":
        return f"{value * 100:.{places}f}%"
    if fmt.type == "CURRENCY":
        text = f"${abs(value):,.2f}"
        return "-" + text if value < 0 else text
    if fmt.type == "SCIENTIFIC":
        mantissa, exponent = f"{value:.2E}".split("E")
        return f"{mantissa}E{int(exponent):+03d}"
    if fmt.type == "NUMBER" and "," in fmt.pattern:
        return f"{value:,.{places}f}"
    return general_number(value)


def render_scalar(
    value: Scalar | None,
    fmt: NumberFormat | None,
    value_render: str,
    datetime_render: str,
) -> Scalar:
    """Render an effective value for the API (``values.get`` and friends)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        if value_render == FORMATTED_VALUE:
            return "TRUE" if value else "FALSE"
        return value
    if isinstance(value, int | float):
        if value_render == FORMATTED_VALUE:
            return format_number(value, fmt)
        if fmt is not None and fmt.is_temporal and datetime_render == FORMATTED_STRING:
            return format_temporal(float(value), fmt.pattern)
        return _int_or_float(value)
    return value


def render_cell(
    cell: Cell,
    value_render: str,
    datetime_render: str,
    evaluate: Callable[[str], Scalar | None],
) -> Scalar:
    """Render one cell; ``evaluate`` computes a formula's result when needed."""
    if cell.formula is not None:
        if value_render == FORMULA:
            return cell.formula
        result = evaluate(cell.formula)
        return render_scalar(result, None, value_render, datetime_render)
    return render_scalar(cell.value, cell.fmt, value_render, datetime_render)


def cell_date(cell: Cell) -> date | None:
    """The calendar date of a date/date-time cell (handy for assertions), else ``None``."""
    if cell.fmt is None or cell.fmt.type not in {"DATE", "DATE_TIME"}:
        return None
    if not isinstance(cell.value, int | float) or isinstance(cell.value, bool):
        return None
    return from_serial(float(cell.value)).date()
