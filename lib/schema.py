"""The register's sheets and fields, read from ``sheets_schema/*.yaml``.

The schema is data: labels, types, enums, required/PII flags and limits live in YAML. This
module loads it once, turns raw cell values (strings from a sheet, CSV or form; numbers and
dates from Excel) into typed values and canonical text, and says precisely what is wrong with a
bad value (which column, what value, why).

Storage is text: every store keeps the canonical text form of each value (``YYYY-MM-DD`` for
dates, ``TRUE``/``FALSE`` for booleans, digits for integers, text byte-exact). That keeps the
SQLite store and a Google Sheet interchangeable and makes a new YAML field just one more column.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lib.i18n import t

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "sheets_schema"
TYPES = ("text", "longtext", "enum", "date", "datetime", "int", "bool")
# Whole numbers from here on are unreadable: a float (what pandas reads counts through) no
# longer holds each of them exactly.
INT_LIMIT = 2**53
TRUE_WORDS = {"true", "1", "yes", "y", "是", "√", "✓", "t", "1.0"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "×", "f", "0.0"}
EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_DATE_TIME_RE = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2})[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*$"
)
_COMPACT_DATE_RE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")
_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK = "10X98765432"


@dataclass(frozen=True)
class FieldError:
    """One problem with one value: which field, what value, why (a message key + params)."""

    field: str
    value: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "zh") -> str:
        """The reason in ``lang``, naming the column by its header (zh) or label (en)."""
        params = dict(self.params)
        if lang == "en":
            for k in ("label", "other_label"):
                if k in params:
                    params[k] = LABELS_EN.get(str(params[k]), params[k])
        return t(self.code, lang, value=self.value, **params)


# Chinese header -> English label of every field of every schema loaded, so that errors built
# with the Chinese header can name the column in English too.
LABELS_EN: dict[str, str] = {}


@dataclass(frozen=True)
class Field:
    """One column of a sheet, as the YAML describes it."""

    key: str
    header: str
    label_en: str
    type: str = "text"
    required: bool = False
    pii: bool = False
    secret: bool = False
    derived: bool = False
    workflow: bool = False
    enum: tuple[str, ...] | None = None
    enum_from: Mapping[str, Any] | None = None
    ref: Mapping[str, Any] | None = None
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    default: Any = None
    pattern: str | None = None
    pattern_hint: str | None = None
    check: str | None = None
    help: str | None = None

    def label(self, lang: str = "zh") -> str:
        """The column's name for people: the Chinese header, or the English label."""
        return self.label_en if lang == "en" else self.header

    @property
    def default_text(self) -> str:
        """The default value in canonical text ('' when there is none)."""
        if self.default is None:
            return ""
        if self.type == "bool":
            return "TRUE" if self.default else "FALSE"
        return str(self.default)

    def parse(
        self, raw: Any, *, allowed: Iterable[str] | None = None
    ) -> tuple[Any, str, FieldError | None]:
        """Parse one raw value into ``(typed value, canonical text, error)``.

        ``raw`` may be a string (sheet, CSV, form), a number, date or bool (Excel, a typed
        Google Sheet), or empty. ``allowed`` overrides the enum values (for enums drawn from
        another sheet, such as regions from ``units``). Empty values give ``(None, '', None)``
        unless the field is required.
        """
        text = _raw_text(raw, self.type)
        label = self.label("zh")
        if text == "":
            if self.required:
                return None, "", FieldError(self.key, "", "err.required", {"label": label})
            return None, "", None
        try:
            value, canon = _PARSERS[self.type](self, raw, text)
        except ValueError as exc:
            code = str(exc) if str(exc).startswith("err.") else f"err.{self.type}"
            return None, text, FieldError(self.key, text, code, {"label": label})
        err = self._check_limits(value, canon, allowed)
        return (None, canon, err) if err else (value, canon, None)

    def _check_limits(
        self, value: Any, canon: str, allowed: Iterable[str] | None
    ) -> FieldError | None:
        label = self.label("zh")
        choices = tuple(allowed) if allowed is not None else self.enum
        if self.type == "enum" and choices is not None and canon not in choices:
            return FieldError(
                self.key, canon, "err.enum", {"label": label, "allowed": "、".join(choices)}
            )
        if self.max_length is not None and len(canon) > self.max_length:
            return FieldError(
                self.key,
                canon[:40] + ("…" if len(canon) > 40 else ""),
                "err.max_length",
                {"label": label, "max_length": self.max_length, "length": len(canon)},
            )
        if self.type == "int":
            if self.min is not None and value < self.min:
                return FieldError(self.key, canon, "err.min", {"label": label, "min": self.min})
            if self.max is not None and value > self.max:
                return FieldError(self.key, canon, "err.max", {"label": label, "max": self.max})
        if self.pattern and not re.match(self.pattern, canon):
            hint = self.pattern_hint or self.pattern
            return FieldError(self.key, canon, "err.pattern", {"label": label, "hint": hint})
        if self.check == "gb11643" and not valid_id_number(canon):
            return FieldError(self.key, canon, "err.gb11643", {"label": label})
        return None


def _raw_text(raw: Any, ftype: str) -> str:
    """The stripped-for-emptiness text of a raw value; text fields keep their bytes."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw != raw:  # NaN
        return ""
    if raw is pd.NaT:
        return ""
    if isinstance(raw, str):
        # Text is kept byte-exact; only an all-blank cell counts as empty.
        if raw.strip() == "":
            return ""
        return raw if ftype in ("text", "longtext") else raw.strip()
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw)


def _parse_text(f: Field, raw: Any, text: str) -> tuple[str, str]:
    return text, text


def _parse_enum(f: Field, raw: Any, text: str) -> tuple[str, str]:
    return text, text


def parse_date(raw: Any) -> dt.date:
    """Read a date written as ``YYYY-MM-DD`` (or / . 年月日), a datetime, or an Excel serial.

    Raises ValueError when it is not a real calendar date.
    """
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, pd.Timestamp):
        return raw.date()
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _serial_date(float(raw))
    text = str(raw).strip()
    m = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if not m:
        m2 = _DATE_TIME_RE.match(text)
        if m2:
            return parse_date(m2.group(1))
        # A serial number typed into a sheet (e.g. 46000 or 46000.0).
        if re.fullmatch(r"\d{5}(\.\d+)?", text):
            return _serial_date(float(text))
        raise ValueError("err.date")
    y, mo, d = (int(g) for g in m.groups())
    return dt.date(y, mo, d)  # raises ValueError for 2026-02-30


def _serial_date(serial: float) -> dt.date:
    if not 1 <= serial < 2958466:
        raise ValueError("err.date")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _parse_date(f: Field, raw: Any, text: str) -> tuple[dt.date, str]:
    d = parse_date(raw if not isinstance(raw, str) else text)
    return d, d.isoformat()


def _parse_datetime(f: Field, raw: Any, text: str) -> tuple[dt.datetime, str]:
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        try:
            value = dt.datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            d = parse_date(text)
            value = dt.datetime(d.year, d.month, d.day)
    return value, value.isoformat(timespec="seconds")


def _parse_int(f: Field, raw: Any, text: str) -> tuple[int, str]:
    if isinstance(raw, bool):
        raise ValueError("err.int")
    s = text.strip()
    if isinstance(raw, float):  # a number cell of a spreadsheet
        if not raw.is_integer():
            raise ValueError("err.int")
        value = int(raw)
    elif re.fullmatch(r"[+-]?\d+", s):
        value = int(s)
    elif re.fullmatch(r"[+-]?\d+\.0+", s):
        value = int(float(s))
    else:
        raise ValueError("err.int")
    if abs(value) >= INT_LIMIT:
        raise ValueError("err.int_too_big")
    return value, str(value)


def _parse_bool(f: Field, raw: Any, text: str) -> tuple[bool, str]:
    if isinstance(raw, bool):
        return raw, "TRUE" if raw else "FALSE"
    s = text.strip().lower()
    if s in TRUE_WORDS:
        return True, "TRUE"
    if s in FALSE_WORDS:
        return False, "FALSE"
    raise ValueError("err.bool")


_PARSERS = {
    "text": _parse_text,
    "longtext": _parse_text,
    "enum": _parse_enum,
    "date": _parse_date,
    "datetime": _parse_datetime,
    "int": _parse_int,
    "bool": _parse_bool,
}


def valid_id_number(s: str) -> bool:
    """True when ``s`` is an 18-character resident ID with a correct GB 11643 check digit."""
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] in "xX"):
        return False
    total = sum(int(c) * w for c, w in zip(s[:17], _GB11643_WEIGHTS, strict=True))
    return _GB11643_CHECK[total % 11] == s[17].upper()


@dataclass(frozen=True)
class Sheet:
    """One sheet of the register: its name, key column and fields in canonical order."""

    name: str
    title: str
    title_en: str
    fields: tuple[Field, ...]
    key: str | None = None
    append_only: bool = False
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @functools.cached_property
    def by_key(self) -> dict[str, Field]:
        """Fields by key."""
        return {f.key: f for f in self.fields}

    @property
    def keys(self) -> list[str]:
        """Field keys in canonical order."""
        return [f.key for f in self.fields]

    @property
    def headers(self) -> list[str]:
        """Canonical (Chinese) headers in canonical order."""
        return [f.header for f in self.fields]

    def field(self, key: str) -> Field:
        """The field ``key`` (KeyError if unknown)."""
        return self.by_key[key]

    def label(self, lang: str = "zh") -> str:
        """The sheet's name for people."""
        return self.title_en if lang == "en" else self.title

    @functools.cached_property
    def _header_index(self) -> dict[str, str]:
        idx: dict[str, str] = {}
        for f in self.fields:
            for name in (f.header, f.key, f.label_en):
                idx[_norm_header(name)] = f.key
        return idx

    def resolve_header(self, header: Any) -> str | None:
        """The field key a header names: its Chinese header, English key or English label."""
        if header is None:
            return None
        return self._header_index.get(_norm_header(str(header)))

    def map_headers(self, headers: Iterable[Any]) -> dict[int, str]:
        """Column position -> field key, for the headers that name a field (first one wins)."""
        out: dict[int, str] = {}
        seen: set[str] = set()
        for i, h in enumerate(headers):
            key = self.resolve_header(h)
            if key and key not in seen:
                out[i] = key
                seen.add(key)
        return out

    def empty_row(self) -> dict[str, str]:
        """A row of canonical text with every field at its default."""
        return {f.key: f.default_text for f in self.fields}

    def parse_row(
        self,
        raw: Mapping[str, Any],
        *,
        allowed: Mapping[str, Iterable[str]] | None = None,
        skip_derived: bool = False,
    ) -> tuple[dict[str, Any], dict[str, str], list[FieldError]]:
        """Parse a row of raw values keyed by field key.

        Returns ``(typed, canonical text, errors)``; a field missing from ``raw`` takes its
        default. ``allowed`` gives enum values drawn from other sheets, by field key.
        """
        typed: dict[str, Any] = {}
        text: dict[str, str] = {}
        errors: list[FieldError] = []
        allowed = allowed or {}
        for f in self.fields:
            if skip_derived and f.derived:
                continue
            value = raw.get(f.key)
            if _raw_text(value, f.type) == "" and f.default is not None:
                value = f.default_text
            v, c, err = f.parse(value, allowed=allowed.get(f.key))
            typed[f.key] = v
            text[f.key] = c
            if err:
                errors.append(err)
        return typed, text, errors

    def typed_frame(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Convert a frame of canonical text into typed columns, vectorised.

        Dates become ``datetime64`` (NaT when empty or unreadable), ints nullable ``Int64``,
        bools nullable ``boolean``; text stays text ('' for empty). Extra columns (people's
        own) are kept as they are. Values that cannot be read become missing here; ``check``
        reports them.
        """
        out = raw.copy(deep=False)  # copy-on-write: replacing columns leaves ``raw`` alone
        for f in self.fields:
            if f.key not in out.columns:
                out[f.key] = f.default_text
            col = out[f.key]
            if col.dtype != object:
                # Stores hand out text, never None; other frames (tests, pages) may hold NaN.
                col = col.astype(object)
                col = col.where(col.notna(), "")
            if f.type in _TYPED_COLUMN:
                out[f.key] = _per_value(col, _TYPED_COLUMN[f.type])
            else:
                out[f.key] = col
        return out

    def bad_cells(self, raw: pd.DataFrame, allowed: Mapping[str, Iterable[str]] | None = None):
        """Yield ``(row position, FieldError)`` for every unreadable or invalid cell.

        Vectorised screening first (only suspicious cells are parsed one by one), so it
        stays fast on large registers.
        """
        allowed = allowed or {}
        for f in self.fields:
            if f.key not in raw.columns:
                continue
            col = raw[f.key].astype("string").fillna("")
            suspicious = _suspicious_mask(f, col, allowed.get(f.key))
            for pos in suspicious.to_numpy().nonzero()[0]:
                _, _, err = f.parse(col.iat[pos], allowed=allowed.get(f.key))
                if err:
                    yield int(pos), err


_BOOL_MAP = {**{w: True for w in TRUE_WORDS}, **{w: False for w in FALSE_WORDS}}
_BOOL_MAP.update({"TRUE": True, "FALSE": False, "True": True, "False": False})


def _suspicious_mask(f: Field, col: pd.Series, allowed: Iterable[str] | None) -> pd.Series:
    empty = col.str.strip() == ""
    if f.type == "date":
        ok = (
            col.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
            & pd.to_datetime(col, format="%Y-%m-%d", errors="coerce").notna()
        )
        mask = ~ok & ~empty
    elif f.type == "int":
        ok = col.str.fullmatch(r"[+-]?\d{1,15}")  # longer: checked against INT_LIMIT
        mask = ~ok & ~empty
        if f.min is not None or f.max is not None:
            num = pd.to_numeric(col.where(ok, None), errors="coerce")
            if f.min is not None:
                mask |= num < f.min
            if f.max is not None:
                mask |= num > f.max
    elif f.type == "bool":
        mask = ~col.str.strip().str.lower().isin(_BOOL_MAP) & ~empty
    elif f.type == "enum":
        choices = list(allowed) if allowed is not None else list(f.enum or [])
        mask = ~col.isin(choices) & ~empty if choices or allowed is not None else empty & False
    elif f.type == "datetime":
        mask = pd.to_datetime(col.where(~empty, None), errors="coerce", utc=True).isna() & ~empty
    else:
        mask = empty & False
        if f.max_length is not None:
            mask |= col.str.len() > f.max_length
        if f.pattern or f.check:
            mask |= ~empty
    if f.required:
        mask |= empty
    return mask.fillna(True)


def _datetime_column(col: pd.Series) -> pd.Series:
    # Each cell alone: ISO 8601 (what the register writes) at once, anything else (typed by
    # hand into a sheet) parsed on its own; pandas would otherwise take the format of the
    # column's first value and lose every cell written another way. One unit whatever the
    # text holds (pandas would infer seconds from one value, and microseconds from none).
    text = col.where(col != "", None)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.as_unit("us")
    odd = (parsed.isna() & text.notna()).to_numpy()
    if odd.any():
        fixed = {v: _one_datetime(v) for v in col[odd].unique()}
        parsed[odd] = pd.to_datetime([fixed[v] for v in col[odd]], utc=True).as_unit("us")
    return parsed


def _one_datetime(value: Any) -> pd.Timestamp:
    try:
        stamp = pd.to_datetime(value, errors="coerce", utc=True)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    return stamp if isinstance(stamp, pd.Timestamp) else pd.NaT


def _int_column(col: pd.Series) -> pd.Series:
    # Through float64 for every cell, and only the whole numbers a float holds exactly
    # (below 2**53): a cell converts as it would alone, never fails the whole column.
    num = pd.to_numeric(col, errors="coerce").astype("float64")
    num = num.where((num == num.round()) & (num.abs() < INT_LIMIT))
    return num.astype("Int64")


def _bool_column(col: pd.Series) -> pd.Series:
    flags = col.map(_BOOL_MAP)
    odd = flags.isna() & (col != "")
    if odd.any():
        flags[odd] = col[odd].map(lambda v: _BOOL_MAP.get(str(v).strip().lower()))
    return flags.astype("boolean")


def _per_value(col: pd.Series, convert: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``convert(col)`` for a ``convert`` that takes each value on its own, computed once per
    distinct value and spread back when values repeat (dates, flags and counts do: 100,000
    cases hold a few hundred distinct dates). Only for columns of text: other objects (1,
    1.0 and True hash alike) take ``convert(col)``. The distinct values keep the order of
    their first appearance, so what ``convert`` infers from the first (a datetime format)
    is the same.
    """
    if len(col) < 64 or pd.api.types.infer_dtype(col, skipna=False) != "string":
        return convert(col)
    codes, uniques = pd.factorize(col.to_numpy())
    if len(uniques) * 2 > len(col):
        return convert(col)
    small = convert(pd.Series(uniques, dtype=object))
    return pd.Series(small.array.take(codes), index=col.index, name=col.name)


def _date_column(col: pd.Series) -> pd.Series:
    """Canonical dates fast; anything else (hand-typed forms) parsed value by value."""
    parsed = pd.to_datetime(col, format="%Y-%m-%d", errors="coerce")
    odd = parsed.isna() & (col != "")
    if odd.any():
        fixed = {}
        for v in col[odd].unique():
            try:
                fixed[v] = pd.Timestamp(parse_date(v))
            except (ValueError, OverflowError):
                fixed[v] = pd.NaT
        parsed = parsed.where(~odd, col.map(fixed))
    return pd.to_datetime(parsed).astype("datetime64[ns]")


# How typed_frame converts the text of each type (other types stay text). Each converts a
# cell as it would alone, whatever its neighbours hold: a row patched into the register's
# snapshot is typed exactly as a whole read would type it, in any row order.
_TYPED_COLUMN: dict[str, Callable[[pd.Series], pd.Series]] = {
    "date": _date_column,
    "datetime": _datetime_column,
    "int": _int_column,
    "bool": _bool_column,
}


def _norm_header(h: str) -> str:
    return re.sub(r"[\s_*＊]+", "", h).lower()


@dataclass(frozen=True)
class Schema:
    """All sheets of the register, in the order they are created."""

    sheets: Mapping[str, Sheet]

    def __getitem__(self, name: str) -> Sheet:
        return self.sheets[name]

    def __iter__(self):
        return iter(self.sheets.values())

    @property
    def names(self) -> list[str]:
        """Sheet names in order."""
        return list(self.sheets)


SHEET_ORDER = ("cases", "units", "instructions", "supervisions", "history", "users", "settings")


def load_schema(directory: Path | str = SCHEMA_DIR) -> Schema:
    """Read every ``*.yaml`` in ``directory`` into a :class:`Schema` (validated)."""
    directory = Path(directory)
    sheets: dict[str, Sheet] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        sheet = _sheet_from_doc(doc, path)
        sheets[sheet.name] = sheet
    for sheet in sheets.values():
        for f in sheet.fields:
            LABELS_EN.setdefault(f.header, f.label_en)
    ordered = {n: sheets[n] for n in SHEET_ORDER if n in sheets}
    ordered.update({n: s for n, s in sheets.items() if n not in ordered})
    return Schema(ordered)


def _sheet_from_doc(doc: Mapping[str, Any], path: Path) -> Sheet:
    try:
        name = doc["sheet"]
        fields = []
        for fd in doc["fields"]:
            fd = dict(fd)
            if fd.get("type", "text") not in TYPES:
                raise ValueError(f"unknown type {fd.get('type')!r} for {fd.get('key')!r}")
            if "enum" in fd and fd["enum"] is not None:
                fd["enum"] = tuple(str(v) for v in fd["enum"])
            fields.append(Field(**fd))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path.name}: bad schema: {exc}") from exc
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{path.name}: duplicate field keys")
    key = doc.get("key")
    if key is not None and key not in keys:
        raise ValueError(f"{path.name}: key {key!r} is not a field")
    return Sheet(
        name=name,
        title=doc.get("title", name),
        title_en=doc.get("title_en", name),
        fields=tuple(fields),
        key=key,
        append_only=bool(doc.get("append_only", False)),
        defaults=doc.get("defaults") or {},
    )


@functools.cache
def default_schema() -> Schema:
    """The project's schema, loaded once per process."""
    return load_schema(SCHEMA_DIR)
