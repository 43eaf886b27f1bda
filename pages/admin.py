"""系统管理 Administration (administrators only): handling units, accounts, settings, data
health (``check``) with links to the cases concerned, a full backup to one Excel file, and —
in demo mode — re-creating the demo register. See :mod:`lib.ui.admin`.
"""

from __future__ import annotations

import streamlit as st

from lib.ui import Ctx, admin, page_setup, run_page

TABS = ("units", "users", "settings", "health", "backup", "demo")


def page(c: Ctx) -> None:
    st.title(c.t("ui.nav.admin"), anchor=False)
    names = [k for k in TABS if k != "demo" or c.demo]
    tabs = st.tabs([c.t(f"adm.tab.{k}") for k in names], key="adm.tabs", on_change="rerun")
    draw = {
        "units": admin.units_tab,
        "users": admin.users_tab,
        "settings": admin.settings_tab,
        "health": admin.health_tab,
        "backup": admin.backup_tab,
        "demo": admin.demo_tab,
    }
    for name, tab in zip(names, tabs, strict=True):
        if tab.open is False:  # only the open tab is drawn
            continue
        with tab:
            draw[name](c)


run_page(page_setup("admin"), page)
