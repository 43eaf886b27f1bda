"""Tables for people: column_config from the schema, due-date state and colour, export.

Frames keep the schema's field keys as column names (stable for code and tests); the
``column_config`` built here gives each column its label in the user's language and the right
column type (dates as dates, flags as checkboxes). Due dates get a state text with a coloured
marker (🔴 overdue, 🟠 due soon) on every table, and a cell background colour where the table
is small enough for pandas' Styler to stay quick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from lib import workflow
from lib.i18n import t
from lib.schema import Sheet

# Styler renders every cell in Python (≈0.5 ms a row, on every run); above this many rows
# only the coloured markers in the state column carry the colour. The worklist draws this many
# (the most urgent first): more than anyone reads down, and 0.1 s a run rather than 0.2.
STYLE_LIMIT = 200
OVERDUE_CSS = "background-color: #fde2e1; color: #a8071a"
SOON_CSS = "background-color: #fff1cc; color: #874d00"
# UI-only columns: key -> (message key, kind)
UI_COLUMNS: dict[str, tuple[str, str]] = {
    "next_due": ("ui.col.next_due", "date"),
    "due_state": ("ui.col.due_state", "text"),
    "instructed": ("ui.col.instructed", "bool"),
    "repeats": ("ui.col.repeats", "int"),
    "score": ("ui.col.score", "score"),
    "reasons": ("ui.col.reasons", "text"),
}
WORKLIST_COLUMNS = (
    "case_id",
    "due_state",
    "next_due",
    "status",
    "received_at",
    "unit",
    "lead_official",
    "region",
    "domain",
    "type",
    "channel",
    "title",
    "petitioner",
    "instructed",
    "repeat_of",
    "repeats",
)
QUEUE_COLUMNS = (
    "case_id",
    "received_at",
    "channel",
    "region",
    "domain",
    "type",
    "title",
    "petitioner",
    "addressed_to",
    "instructed",
    "repeat_of",
)


def height(rows: int, most: int) -> int:
    """A table height that fits ``rows`` rows, up to ``most`` pixels (then it scrolls)."""
    return min(most, 38 + 35 * max(rows, 1))


def label(sheet: Sheet, key: str, lang: str) -> str:
    """A column's label: the schema's header/English label, or the UI column's name."""
    if key in sheet.by_key:
        return sheet.field(key).label(lang)
    if key in UI_COLUMNS:
        return t(UI_COLUMNS[key][0], lang)
    return key


def column_config(sheet: Sheet, keys: Sequence[str], lang: str) -> dict[str, Any]:
    """``st.dataframe`` column_config for ``keys``: labels per language, types from the schema."""
    cc = st.column_config
    out: dict[str, Any] = {}
    for key in keys:
        name = label(sheet, key, lang)
        if key in sheet.by_key:
            f = sheet.field(key)
            kind, help_ = f.type, f.help
        elif key in UI_COLUMNS:
            kind, help_ = UI_COLUMNS[key][1], None
        else:
            kind, help_ = "text", None
        if kind == "date":
            out[key] = cc.DateColumn(name, format="YYYY-MM-DD", help=help_)
        elif kind == "datetime":
            out[key] = cc.DatetimeColumn(name, format="YYYY-MM-DD HH:mm", help=help_)
        elif kind == "int":
            out[key] = cc.NumberColumn(name, format="%d", help=help_)
        elif kind == "score":
            out[key] = cc.ProgressColumn(name, min_value=0, max_value=100, format="%.0f")
        elif kind == "bool":
            out[key] = cc.CheckboxColumn(name, help=help_)
        elif kind == "longtext":
            out[key] = cc.TextColumn(name, help=help_, width="large")
        else:
            out[key] = cc.TextColumn(name, help=help_)
    return out


# --- deadlines ----------------------------------------------------------------------------


def _template(key: str, lang: str) -> tuple[str, str]:
    """A message with one ``{days}`` split around it, for vectorised formatting."""
    text = t(key, lang, days="\x00")
    pre, _, post = text.partition("\x00")
    return pre, post


def due_frame(
    cases: pd.DataFrame, today: dt.date, rules: workflow.Rules, lang: str = "zh"
) -> pd.DataFrame:
    """For each case, the clock running now: ``next_due``, ``days_left``, ``level``, ``due_state``.

    The unit's clock is the acceptance deadline while a case waits to be accepted (已交办) and
    the handling deadline while it is handled (办理中); other stages have no running clock.
    ``level`` is ``overdue`` (past due), ``soon`` (due within ``rules.due_soon_days``,
    the due day included) or ``ok``; empty without a clock.
    """
    idx = cases.index
    if cases.empty:
        return pd.DataFrame(
            {
                "next_due": pd.Series([], dtype="datetime64[ns]"),
                "days_left": pd.Series([], dtype="Int64"),
                "level": pd.Series([], dtype=object),
                "due_state": pd.Series([], dtype=object),
            },
            index=idx,
        )
    status = cases["status"].to_numpy()
    accept_due = pd.to_datetime(cases["accept_due"]).to_numpy()
    handle_due = pd.to_datetime(cases["handle_due"]).to_numpy()
    nat = np.datetime64("NaT", "ns")
    nxt = np.where(
        status == "已交办", accept_due, np.where(status == "办理中", handle_due, nat)
    ).astype("datetime64[ns]")
    next_due = pd.Series(nxt, index=idx)
    days = (next_due - pd.Timestamp(today)).dt.days
    has = days.notna()
    d = days.fillna(0).astype("int64")
    overdue = has & (d < 0)
    soon = has & (d >= 0) & (d <= rules.due_soon_days)
    level = np.select([overdue, soon, has], ["overdue", "soon", "ok"], default="")
    # Words only for the cases with a running clock (a small part of a large register).
    o_pre, o_post = _template("ui.due.overdue", lang)
    l_pre, l_post = _template("ui.due.left", lang)
    due_today = t("ui.due.today", lang)
    words = np.full(len(idx), "", dtype=object)
    running = np.flatnonzero(has.to_numpy())
    marker = {"overdue": "🔴 ", "soon": "🟠 ", "ok": ""}
    words[running] = [
        marker[lv]
        + (f"{o_pre}{-v}{o_post}" if v < 0 else due_today if v == 0 else f"{l_pre}{v}{l_post}")
        for v, lv in zip(d.to_numpy()[running].tolist(), level[running].tolist(), strict=True)
    ]
    return pd.DataFrame(
        {
            "next_due": next_due,
            "days_left": days.astype("Int64"),
            "level": pd.Series(level, index=idx, dtype=object),
            "due_state": pd.Series(words, index=idx, dtype="str"),
        },
        index=idx,
    )


def urgency_order(due: pd.DataFrame, cases: pd.DataFrame) -> pd.Index:
    """Index of ``cases`` ordered most urgent first: running clocks by days left, then the rest
    newest first."""
    key = due["days_left"].astype("Float64").fillna(np.inf)
    received = pd.to_datetime(cases["received_at"])
    frame = pd.DataFrame({"k": key, "r": received, "id": cases["case_id"]})
    return frame.sort_values(["k", "r", "id"], ascending=[True, False, False]).index


def worklist(
    cases: pd.DataFrame,
    *,
    sheet: Sheet,
    today: dt.date,
    rules: workflow.Rules,
    lang: str,
    columns: Sequence[str] = WORKLIST_COLUMNS,
    sort: str = "urgency",
    limit: int | None = None,
    due: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """The display frame of ``cases`` (chosen columns, due state, sorted) and its due levels:
    the first ``limit`` rows in that order (all without one). ``due`` is ``due_frame`` of
    ``cases`` when the caller has it already."""
    if due is None:
        due = due_frame(cases, today, rules, lang)
    frame = cases.copy(deep=False)  # copy-on-write: the snapshot's frame is left alone
    frame["next_due"] = due["next_due"]
    frame["due_state"] = due["due_state"]
    if sort == "newest":
        order = frame.sort_values(["received_at", "case_id"], ascending=False).index
    elif sort == "oldest":
        order = frame.sort_values(["received_at", "case_id"], ascending=True).index
    elif sort == "id":
        order = frame.sort_values("case_id").index
    else:
        order = urgency_order(due, cases)
    if limit is not None:
        order = order[:limit]
    keep = [c for c in columns if c in frame.columns]
    out = frame.loc[order, keep]
    if lang == "en" and "status" in out:
        out["status"] = out["status"].map(lambda s: t("status." + s, "en") if s else s)
    if "unit" in out:
        out["unit"] = out["unit"].where(out["unit"] != "", t("ui.unassigned", lang))
    return out.reset_index(drop=True), due.loc[order, "level"].reset_index(drop=True)


def styled(frame: pd.DataFrame, level: pd.Series, sheet: Sheet) -> Any:
    """The frame with overdue/due-soon cells coloured (a Styler), or the frame when too big."""
    if len(frame) > STYLE_LIMIT or frame.empty:
        return frame
    cols = [c for c in ("next_due", "due_state") if c in frame.columns]
    lv = level.to_numpy()

    def css(_: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for c in cols:
            out.loc[lv == "overdue", c] = OVERDUE_CSS
            out.loc[lv == "soon", c] = SOON_CSS
        return out

    dates = [
        c
        for c in frame.columns
        if pd.api.types.is_datetime64_any_dtype(frame[c])
        and (c in UI_COLUMNS or (c in sheet.by_key and sheet.field(c).type == "date"))
    ]
    fmt = {c: (lambda v: v.strftime("%Y-%m-%d") if pd.notna(v) else "") for c in dates}
    return frame.style.apply(css, axis=None).format(fmt, na_rep="")


# --- export -------------------------------------------------------------------------------


def export_bytes(ctx: Any, cases: pd.DataFrame, fmt: str) -> bytes:
    """The rows the user sees (PII masked as on screen) as ``.xlsx``/``.csv`` bytes.

    Uses the lead's writer (:mod:`lib.importer`), formula-injection safe; through the
    service layer's ``export_rows`` (which also logs the export) when it exists.
    """
    from lib import importer

    sheet = ctx.sheet
    if hasattr(ctx.reg, "export_rows"):
        ids = [str(i) for i in cases["case_id"]]
        return importer.export_table(ctx.reg, ctx.user, "cases", fmt, lang=ctx.lang, case_ids=ids)
    return importer.export_frame(importer.text_frame(cases, sheet), sheet, fmt, lang=ctx.lang)


MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def logged(ctx: Any, what: str, data: bytes, *, rows: int | None = None) -> bytes:
    """``data``, after recording in history that this user downloaded ``what`` (audit)."""
    ctx.reg.log_export(ctx.user, what, rows=rows)
    return data


def download_buttons(ctx: Any, cases: pd.DataFrame, stem: str, key: str) -> None:
    """Two download buttons (Excel, CSV) that build the file only when clicked."""
    left, right = st.columns(2)
    for col, fmt, label_key in (
        (left, "xlsx", "ui.download_xlsx"),
        (right, "csv", "ui.download_csv"),
    ):
        with col:
            st.download_button(
                ctx.t(label_key),
                data=lambda fmt=fmt: export_bytes(ctx, cases, fmt),
                file_name=f"{stem}-{ctx.today.isoformat()}.{fmt}",
                mime=MIME[fmt],
                key=f"{key}.{fmt}",
                on_click="ignore",
                icon=":material/download:",
                width="stretch",
            )
