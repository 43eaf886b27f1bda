"""交办跟踪 Assignment tracking: the bureau's 待交办 queue (assign one or many), every case by
urgency with coloured due dates, the actions of SPEC §3 on the selected case, filters kept in
the address, and export of the filtered rows."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from lib.ui import Ctx, actions, case_link, context, filters, page_setup, run_page, tables
from lib.ui.errors import error_text
from lib.ui.memo import snapshot_memo
from lib.ui.text import md_escape

SELECTED = "tracking._case"
# Rows drawn in a table (the first in its order; counts and exports cover every row): a
# browser table of 100,000 rows is 24 MB sent on every run, and seconds before it responds.
SHOWN = tables.STYLE_LIMIT
SELECTION_SIG = "tracking._sel_sig"


def table_key(base: str, ids: pd.Series) -> str:
    """A table key that changes whenever the rows shown change (a filter, a sort, a write), so
    a selection — remembered by row position — can never point at another case."""
    digest = hashlib.blake2b("\n".join(map(str, ids)).encode(), digest_size=6).hexdigest()
    return f"{base}.{digest}"


def stage_counts(c: Ctx, cases: pd.DataFrame, due: pd.DataFrame) -> None:
    """How many cases wait, are handled, are overdue or due soon (of the filtered rows)."""
    status = (cases["status"] if len(cases) else pd.Series(dtype=object)).value_counts()
    level = due["level"].value_counts() if len(due) else pd.Series(dtype="int64")
    items = [
        (c.t("status.待交办"), int(status.get("待交办", 0))),
        (c.t("ui.stage.waiting"), int(status.get("已交办", 0))),
        (c.t("ui.stage.handling"), int(status.get("办理中", 0))),
        (c.t("ui.stage.overdue"), int(level.get("overdue", 0))),
        (
            c.t("ui.stage.due_soon", days=c.data.rules.due_soon_days),
            int(level.get("soon", 0)),
        ),
    ]
    if c.user.role == "handler":  # a unit never holds unassigned cases
        items = items[1:]
    cols = st.columns(len(items))
    for col, (name, n) in zip(cols, items, strict=True):
        col.metric(name, n)


def queue_tab(c: Ctx, cases: pd.DataFrame) -> None:
    """待交办: tick rows, choose a unit and a responsible leader, assign them all."""
    queue = cases[cases["status"] == "待交办"].sort_values(["received_at", "case_id"])
    if queue.empty:
        st.info(c.t("ui.tracking.queue_empty"))
        return
    st.caption(c.t("ui.tracking.queue_help"))
    if len(queue) > SHOWN:
        st.caption(c.t("ui.tracking.shown", n=SHOWN, total=len(queue)))
    cols = [k for k in tables.QUEUE_COLUMNS if k in queue.columns]
    frame = queue[cols].head(SHOWN).reset_index(drop=True)
    event = st.dataframe(
        frame,
        key=table_key("queue", frame["case_id"]),
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        column_config=tables.column_config(c.sheet, cols, c.lang),
        height=tables.height(len(frame), 360),
    )
    rows = [r for r in event.selection.rows if r < len(frame)]
    chosen = frame.iloc[rows]["case_id"].tolist()
    versions = dict(zip(queue["case_id"], queue["version"], strict=True))
    with st.form("tracking.assign", border=True):
        st.markdown(
            f"**{c.t('ui.tracking.assign_selected')}** · {c.t('ui.tracking.selected', n=len(chosen))}"
        )
        c1, c2, c3 = st.columns([2, 2, 1])
        with c1:
            unit = st.selectbox(
                c.sheet.field("unit").label(c.lang),
                c.data.active_units(),
                index=None,
                placeholder=c.t("ui.choose"),
                key="tracking.assign.unit",
            )
        with c2:
            lead = st.text_input(
                c.sheet.field("lead_official").label(c.lang),
                key="tracking.assign.lead",
                max_chars=100,
            )
        with c3:
            day = st.date_input(
                c.sheet.field("assigned_at").label(c.lang),
                value=c.today,
                max_value=c.today,
                key="tracking.assign.date",
                format="YYYY-MM-DD",
            )
        go = st.form_submit_button(
            c.t("ui.tracking.assign_selected"), type="primary", key="tracking.assign.submit"
        )
    if not go:
        return
    if not chosen:
        st.warning(c.t("ui.tracking.none_selected"))
        return
    done: list[str] = []
    for case_id in chosen:
        try:
            v = versions.get(case_id)
            c.reg.assign(
                c.user,
                case_id,
                unit=unit or "",
                lead_official=lead,
                assigned_at=day,
                version=int(v) if pd.notna(v) else None,
            )
        except Exception as exc:
            reason = error_text(exc, c.lang, [c.sheet])
            if not done:
                st.error(reason, icon=":material/error:")
                return
            # Some were assigned: say which one stopped, and show the queue as it is now.
            msg = c.t("ui.tracking.assign_partial", done=len(done), case_id=case_id, reason=reason)
            context.flash("error", msg)
            st.rerun()
        done.append(case_id)
    context.flash("success", c.t("ui.tracking.assigned_many", n=len(done), unit=unit))
    st.rerun()


def prepared(
    c: Ctx, chosen: filters.Filters
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
    """The filtered cases, their due dates, and the worklist's drawn rows with their levels:
    computed once per snapshot, view and filters (shared by reruns and sessions; read-only)."""

    def compute() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
        cases = filters.apply(c.data.cases, chosen)
        due = tables.due_frame(cases, c.today, c.data.rules, c.lang)
        frame, level = tables.worklist(
            cases,
            sheet=c.sheet,
            today=c.today,
            rules=c.data.rules,
            lang=c.lang,
            sort=chosen.sort,
            limit=SHOWN,
            due=due,
        )
        return cases, due, frame, level

    key = ("tracking", c.today, c.lang, SHOWN, filters.normal_query(chosen))
    return snapshot_memo(c.data, c.user, key, compute)


def worklist_tab(c: Ctx, cases: pd.DataFrame, frame: pd.DataFrame, level: pd.Series) -> None:
    """The filtered cases, most urgent first (the first :data:`SHOWN`); pick one to act on it."""
    if cases.empty:
        st.info(c.t("ui.tracking.empty"))
        return
    st.caption(c.t("ui.due.legend", days=c.data.rules.due_soon_days))
    if len(cases) > len(frame):
        st.caption(c.t("ui.tracking.shown", n=len(frame), total=len(cases)))
    key = table_key("worklist", frame["case_id"])
    event = st.dataframe(
        tables.styled(frame, level, c.sheet),
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config=tables.column_config(c.sheet, list(frame.columns), c.lang),
        height=tables.height(len(frame), 440),
    )
    ss = st.session_state
    rows = [r for r in event.selection.rows if r < len(frame)]
    last_key, last_rows = ss.get(SELECTION_SIG, (None, ()))
    if (key, tuple(rows)) != (last_key, last_rows):
        ss[SELECTION_SIG] = (key, tuple(rows))
        if rows:
            ss[SELECTED] = frame.iloc[rows[0]]["case_id"]
        elif key == last_key or ss.get(SELECTED) not in set(frame["case_id"]):
            # Deselected by the user; or a new table (after a filter or an action) without
            # the case: stop showing it. A new table that still has it keeps it open.
            ss[SELECTED] = None
    case_id = ss.get(SELECTED)
    if not case_id or not (c.data.cases["case_id"] == case_id).any():
        st.caption(c.t("ui.tracking.pick"))
        return
    row = c.data.cases.loc[c.data.cases["case_id"] == case_id].iloc[0]
    with st.container(border=True):
        st.subheader(md_escape(f"{case_id} · {row['title']}"), anchor=False)
        case_link(c, case_id)
        actions.render(c, case_id)


def page(c: Ctx) -> None:
    st.title(c.t("ui.tracking.title"))
    hide = ("unit",) if c.user.role == "handler" and len(c.user.units) <= 1 else ()
    chosen = filters.draw(c.data, c.sheet, c.lang, hide=hide)
    cases, due, frame, level = prepared(c, chosen)
    stage_counts(c, cases, due)
    info, dl = st.columns([3, 2])
    with info:
        st.caption(c.t("ui.rows", n=len(cases)))
    with dl:
        tables.download_buttons(c, cases, "cases", "tracking.export")
    mine = c.user.role == "handler"
    list_label = c.t("ui.tracking.my_cases" if mine else "ui.tracking.cases", n=len(cases))
    if c.user.may("assign"):
        waiting = int((cases["status"] == "待交办").sum()) if len(cases) else 0
        queue_label = c.t("ui.tracking.queue", n=waiting)
        tab_q, tab_l = st.tabs(
            [queue_label, list_label], default=queue_label if waiting else list_label
        )
        with tab_q:
            queue_tab(c, cases)
        with tab_l:
            worklist_tab(c, cases, frame, level)
    else:
        worklist_tab(c, cases, frame, level)


run_page(page_setup("tracking"), page)
