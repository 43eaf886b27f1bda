"""我的账号 My account: who I am (role, units, how I signed in, my last sign-in), what my role
may do, changing my password, signing out. Every role has it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.auth import PERMISSIONS
from lib.ui import Ctx, page_setup, run_page, signin
from lib.ui.text import md_escape

# What a role may do, in the words of the action table (no reads, no plumbing).
SHOWN_ACTIONS = (
    "intake",
    "assign",
    "reassign",
    "accept",
    "reject",
    "object",
    "extend",
    "meet",
    "reply",
    "evaluate",
    "instruct",
    "supervise",
    "escalate",
    "import",
    "export",
    "audit",
    "manage_users",
    "manage_units",
    "settings",
)


def page(c: Ctx) -> None:
    st.title(c.t("ui.account.title"), anchor=False)
    user = c.user
    users = c.reg.load().users
    rows = users[users["username"] == user.username].to_dict("records") if len(users) else []
    row = rows[0] if rows else {}
    last = row.get("last_sign_in")
    last_text = last.strftime("%Y-%m-%d %H:%M") if pd.notna(last) and last is not None else ""
    items = [
        (c.t("ui.account.username"), user.username),
        (c.t("ui.account.name"), user.display_name),
        (c.t("ui.account.role"), c.t("role." + user.role)),
        (c.t("ui.account.units"), "、".join(sorted(user.units)) or c.t("ui.none")),
        (c.t("ui.account.email"), str(row.get("email") or "") or c.t("ui.none")),
        (c.t("ui.account.last_sign_in"), last_text or c.t("ui.none")),
        (c.t("ui.account.method"), c.t("ui.account.method." + (c.method or "password"))),
    ]
    cols = st.columns(4)
    for i, (name, value) in enumerate(items):
        with cols[i % 4]:
            st.caption(name)
            st.markdown(md_escape(value))
    may = [c.t("action." + a) for a in SHOWN_ACTIONS if user.role in PERMISSIONS.get(a, ())]
    if user.role == "admin":
        may = [c.t("action." + a) for a in SHOWN_ACTIONS]
    colon, sep = (": ", ", ") if c.lang == "en" else ("：", "、")
    st.caption(f"{c.t('ui.account.may')}{colon}{sep.join(may)}")
    st.caption(c.t("ui.account.idle", minutes=signin.idle_minutes(c.reg)))
    st.subheader(c.t("ui.account.change_title"), anchor=False)
    if c.method == "sso":
        st.info(c.t("ui.account.sso_password"))
    else:
        signin.password_form(c.reg, user, "account.password", ask_current=True)
    st.button(
        c.t("ui.signout"),
        key="account.signout",
        icon=":material/logout:",
        on_click=signin.sign_out,
        args=(c.reg, user, c.method),
        disabled=c.method == "test",
    )


run_page(page_setup("account"), page)
