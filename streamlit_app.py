"""留言办理台账 — the portal's entry: page setup, the acting user, navigation by role.

Run ``streamlit run streamlit_app.py`` (register from ``REGISTER_URL`` or the embedded file),
or ``streamlit run streamlit_app.py -- --demo`` for the invented demo register. Everyone signs
in first (:mod:`lib.ui.signin`); until then every address shows the sign-in form, and keeps
the address so that the page asked for opens afterwards. The pages a role may use come from
one table, :data:`lib.ui.nav.PAGES`; a page whose file does not exist yet is left out.

This file is read two ways. ``streamlit run`` finds the ``st.App`` below and imports the file
as a module to get it: the server, whose start-up reads the register before anyone asks
(:mod:`lib.ui.warmup`). The server then runs the file as a page script (``__main__``) for
every run of every session, as any Streamlit script.
"""

from __future__ import annotations

import streamlit as st

from lib.i18n import t
from lib.ui import (
    context,
    messages,  # noqa: F401  (registers the portal's strings)
    nav,
    warmup,
)
from lib.ui.context import current_lang

if __name__ != "__main__":  # imported by ``streamlit run``: the server, warmed up at start
    app = st.App(__file__, lifespan=warmup.lifespan)
else:  # a run of the page script
    st.set_page_config(
        page_title=t("ui.app_title", current_lang()),
        page_icon=":material/inbox:",
        layout="wide",
    )

    ctx = context.begin_run()
    if ctx is None:  # the register cannot be used: the reason is on screen
        st.stop()
    if isinstance(ctx, context.Gate):  # sign in (or change a one-time password) first
        nav.gate_navigation(ctx.draw, ctx.lang).run()
        st.stop()

    page = nav.navigation(ctx.user.role, ctx.lang)

    # ``/?case=GA2026-000123`` (or any page with ?case=) opens that case's detail page.
    case_id = st.query_params.get("case")
    if (
        case_id
        and page.url_path != nav.BY_KEY["case"].url_path
        and nav.may_open(ctx.user.role, "case")
    ):
        st.switch_page(nav.page_path("case"), query_params={"case": case_id})

    page.run()
