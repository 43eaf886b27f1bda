"""审计日志 Audit log (administrators and supervisors): the register's ``history`` — sign-ins,
failed sign-ins, sign-outs, exports and every change, with who and when — filtered by user,
case, action and date, newest first, and exported as Excel or CSV (the export is logged too).
Personal data in old/new values is masked as the reader would see it on the case; password
hashes never reach history at all (``***``)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import importer
from lib.i18n import MESSAGES
from lib.ui import Ctx, page_setup, run_page, tables
from lib.ui.shell import lang_key

SHOWN = 2000  # rows drawn in the table (the export has them all)


def action_label(c: Ctx, action: str) -> str:
    """An action's name for people (the key itself when it has none)."""
    key = "action." + action
    return c.t(key) if key in MESSAGES else action


def filters(c: Ctx, users: list[str], actions: list[str]) -> dict:
    """The filter widgets (``users``, ``actions``: their choices); returns the keyword
    arguments of ``Register.audit_page``."""
    actions = sorted(actions, key=lambda a: (action_label(c, a), a))
    top = st.columns([2, 2, 3])
    with top[0]:
        who = st.multiselect(
            c.t("ui.audit.user"), users, key="audit.user", placeholder=c.t("ui.all")
        )
    with top[1]:
        case = st.text_input(c.t("ui.audit.case"), key="audit.case", max_chars=40)
    with top[2]:
        what = st.multiselect(
            c.t("ui.audit.action"),
            actions,
            key=lang_key("audit.action", c.lang),
            placeholder=c.t("ui.all"),
            format_func=lambda a: action_label(c, a),
        )
    left, right, _ = st.columns([1, 1, 2])
    with left:
        start = st.date_input(
            c.t("ui.audit.from"), value=None, key="audit.from", format="YYYY-MM-DD"
        )
    with right:
        end = st.date_input(c.t("ui.audit.to"), value=None, key="audit.to", format="YYYY-MM-DD")
    return {
        "username": who or None,
        "case_id": case or None,
        "action": what or None,
        "date_from": one_date(start),
        "date_to": one_date(end),
    }


def one_date(value: object) -> dt.date | None:
    """A date input's value as one date (some clients send a one-item list)."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return value if isinstance(value, dt.date) else None


def export_buttons(c: Ctx, chosen: dict) -> None:
    sheet = c.reg.schema["history"]
    cols = st.columns(2)
    for col, fmt, label in (
        (cols[0], "xlsx", "ui.download_xlsx"),
        (cols[1], "csv", "ui.download_csv"),
    ):
        with col:
            st.download_button(
                c.t(label),
                data=lambda fmt=fmt: importer.export_frame(
                    c.reg.export_audit(c.user, **chosen), sheet, fmt, lang=c.lang
                ),
                file_name=f"audit-{c.today.isoformat()}.{fmt}",
                mime=tables.MIME[fmt],
                key=f"audit.export.{fmt}",
                on_click="ignore",
                icon=":material/download:",
                width="stretch",
            )


def page(c: Ctx) -> None:
    st.title(c.t("ui.audit.title"), anchor=False)
    st.caption(c.t("ui.audit.caption"))
    chosen = filters(c, *c.reg.audit_choices(c.user))
    found = c.reg.audit_page(c.user, limit=SHOWN, **chosen)  # the rows shown, and the count
    info, dl = st.columns([3, 2])
    with info:
        shown = c.t("ui.audit.rows", n=found.total)
        if found.total > SHOWN:
            shown += c.t("ui.audit.shown", n=SHOWN)
        st.caption(shown)
    with dl:
        export_buttons(c, chosen)
    if found.rows.empty:
        st.info(c.t("ui.audit.empty"))
        return
    view = found.rows.copy()
    view["timestamp"] = view["timestamp"].str.replace("T", " ").str.slice(0, 19)
    view["action"] = view["action"].map(lambda a: action_label(c, a))
    sheet = c.reg.schema["history"]
    st.dataframe(
        view,
        key="audit.table",
        hide_index=True,
        column_config={k: sheet.field(k).label(c.lang) for k in view.columns},
        height=tables.height(len(view), 600),
    )


run_page(page_setup("audit"), page)
