"""Forms generated from the schema: one widget per field, chosen by the field's type.

The intake form is every ``cases`` field that is neither derived nor part of the workflow, in
the schema's order — a field added to ``sheets_schema/cases.yaml`` appears in it with no code
change. Widget state lives under ``<prefix><field key>`` (``intake.title``), so typed values
survive a failed save and tests can address each field by key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from lib.register import RegisterData
from lib.schema import Field, Sheet
from lib.ui.state import set_widget

WIDE_TEXT = 150  # text fields at least this long get a full row


def form_fields(sheet: Sheet) -> list[Field]:
    """The fields people type in: neither derived nor set by the workflow."""
    return [f for f in sheet.fields if not f.derived and not f.workflow]


def enum_options(f: Field, data: RegisterData) -> list[str] | None:
    """The choices of an enum field: its own list, or values drawn from another sheet."""
    if f.enum:
        return list(f.enum)
    src = f.enum_from
    if not src:
        return None
    frame = getattr(data, str(src.get("sheet", "")), None)
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return []
    mask = pd.Series(True, index=frame.index)
    for col, want in (src.get("where") or {}).items():
        if col in frame:
            mask &= frame[col] == want
    if "active" in frame:
        mask &= frame["active"].fillna(True).astype(bool)
    col = str(src.get("field", ""))
    return [str(v) for v in frame.loc[mask, col].tolist() if v] if col in frame else []


def default_value(f: Field, today: dt.date) -> Any:
    """The widget's starting value for ``f``."""
    if f.type == "date":
        return today if f.required else None
    if f.type == "bool":
        return bool(f.default) if f.default is not None else False
    if f.type == "int":
        return int(f.default) if f.default is not None else None
    if f.type == "enum":
        return str(f.default) if f.default is not None else None
    return f.default_text


def init_state(
    fields: Iterable[Field], prefix: str, today: dt.date, *, reset: bool = False
) -> None:
    """Give each field's widget its default (all of them when ``reset``)."""
    ss = st.session_state
    for f in fields:
        key = prefix + f.key
        if reset or key not in ss:
            ss[key] = default_value(f, today)


def label(f: Field, lang: str) -> str:
    """The field's label, with ``*`` when required."""
    return f.label(lang) + (" *" if f.required else "")


def draw_field(
    f: Field,
    *,
    prefix: str,
    lang: str,
    data: RegisterData,
    today: dt.date,
    error: str | None = None,
) -> None:
    """One widget for ``f`` (its state at ``prefix + f.key``) and its error under it."""
    key = prefix + f.key
    name = label(f, lang)
    help_ = f.help
    if f.required and f.type in ("date", "enum") and st.session_state.get(key) is None:
        # A required date or choice never shows empty when it has a default (today; the
        # schema's default): its state can be dropped between runs (a run interrupted by
        # the next one), and an emptied one is best refilled than refused.
        start = default_value(f, today)
        if start is not None:
            st.session_state[key] = start
    if f.type == "longtext":
        st.text_area(name, key=key, max_chars=f.max_length, height=180, help=help_)
    elif f.type == "enum":
        opts = enum_options(f, data) or []
        if st.session_state.get(key) not in (None, *opts):
            set_widget(key, None)  # only when it must change (see lib.ui.state)
        st.selectbox(name, opts, key=key, help=help_, index=None, placeholder="—")
    elif f.type == "date":
        st.date_input(name, key=key, max_value=today, format="YYYY-MM-DD", help=help_, value=None)
    elif f.type == "bool":
        st.checkbox(name, key=key, help=help_)
    elif f.type == "int":
        st.number_input(
            name, key=key, min_value=f.min, max_value=f.max, step=1, help=help_, value=None
        )
    else:
        st.text_input(name, key=key, max_chars=f.max_length, help=help_)
    if error:
        st.caption(f":red[:material/error: {error}]")


def is_wide(f: Field) -> bool:
    """Fields that get a full row (long texts, titles)."""
    return f.type == "longtext" or (f.type == "text" and (f.max_length or 0) >= WIDE_TEXT)


def draw_fields(
    fields: Sequence[Field],
    *,
    prefix: str,
    lang: str,
    data: RegisterData,
    today: dt.date,
    errors: Mapping[str, str] | None = None,
    columns: int = 3,
) -> None:
    """All ``fields`` in schema order: short ones in a grid, wide ones on their own row."""
    errors = errors or {}
    grid: list[Field] = []

    def flush() -> None:
        if not grid:
            return
        cols = st.columns(columns)
        for i, g in enumerate(grid):
            with cols[i % columns]:
                draw_field(
                    g, prefix=prefix, lang=lang, data=data, today=today, error=errors.get(g.key)
                )
        grid.clear()

    for f in fields:
        if is_wide(f):
            flush()
            draw_field(f, prefix=prefix, lang=lang, data=data, today=today, error=errors.get(f.key))
        else:
            grid.append(f)
    flush()


def values(fields: Iterable[Field], prefix: str) -> dict[str, Any]:
    """The typed values of the fields, by key (as the service layer takes them)."""
    ss = st.session_state
    return {f.key: ss.get(prefix + f.key) for f in fields}
