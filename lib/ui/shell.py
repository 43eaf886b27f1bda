"""What every page does first: context, access check, sidebar, queued messages; and links.

A page starts with ``ctx = page_setup("tracking")``. The sidebar shows who is signed in with a
sign-out button, the language switch (中文 / English), which register is in use and when it was
read, with a refresh button; in demo mode a banner says the data is invented. A page run before
anyone signed in shows the sign-in form instead (:mod:`lib.ui.signin`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

from lib.i18n import t
from lib.reuse import shared_work
from lib.ui import context, nav, signin
from lib.ui.context import LANG_KEY, Ctx, Gate
from lib.ui.errors import show_error
from lib.ui.state import set_widget

LANG_WIDGET = "ui.lang"
LANGS = {"zh": "中文", "en": "English"}


def page_setup(page_key: str) -> Ctx:
    """Build the run's context for the page ``page_key``; stop the run if it cannot be used."""
    ctx = context.take_ctx()
    if ctx is None:
        st.stop()
    if isinstance(ctx, Gate):  # not signed in (a page address opened directly)
        ctx.draw()
        st.stop()
    if not nav.may_open(ctx.user.role, page_key):
        draw_sidebar(ctx)
        st.error(t("ui.no_access", ctx.lang, role=t("role." + ctx.user.role, ctx.lang)))
        st.stop()
    draw_sidebar(ctx)
    if ctx.demo:
        st.caption(f":orange-badge[:material/science: {ctx.t('ui.demo.badge')}]")
    context.show_flash()
    return ctx


def run_page(ctx: Ctx, body: Callable[[Ctx], None]) -> None:
    """Run a page's body; an unexpected error is logged and shown in words, not a traceback.

    The cohorts and per-case measures a page asks for more than once in its run (the board's
    lists, its league table and digest; a bulletin's tables) are computed once
    (:func:`lib.reuse.shared_work`). The queued messages shown at the top are dropped when
    the run gets to its end; a run cut short by a rerun shows them again in the next one.
    """
    try:
        with shared_work():
            body(ctx)
    except RerunException:  # cut short (a click, or the page's own rerun): show them again
        raise
    except StopException:  # the page stopped itself, its messages shown
        context.flash_shown()
        raise
    except Exception as exc:
        show_error(exc, ctx.lang)
    context.flash_shown()


# --- the sidebar --------------------------------------------------------------------------


def _switch_language() -> None:
    """Change the language, carrying over the widgets that have one key per language.

    A select box keeps showing its old option label when only the labels change (Streamlit's
    frontend reuses the element), so widgets whose option labels are translated are keyed
    ``…@zh`` / ``…@en``; their values move to the new language's key here.
    """
    ss = st.session_state
    old, new = ss.get(LANG_KEY, "zh"), ss.get(LANG_WIDGET, "zh")
    for key in [k for k in ss if isinstance(k, str) and k.endswith("@" + old)]:
        ss[key[: -len(old)] + new] = ss[key]
    ss[LANG_KEY] = new


def lang_key(key: str, lang: str) -> str:
    """The key of a widget whose option labels are in the user's language."""
    return f"{key}@{lang}"


def _refresh(reg) -> None:
    reg.invalidate()


def draw_sidebar(ctx: Ctx) -> None:
    """Who (with sign-out), language, register and its read time, refresh; the demo banner."""
    with st.sidebar:
        if ctx.demo:
            st.warning(ctx.t("ui.demo.banner"), icon=":material/science:")
        if ctx.method == "test":
            # Loud but not an error box (tests assert that pages show none).
            st.caption(
                f":red-background[:material/bug_report: {ctx.t('ui.signin.test_mode', username=ctx.user.username)}]"
            )
        st.caption(ctx.t("ui.signed_in"))
        st.markdown(f"**{ctx.user.label(ctx.lang)}** · `{ctx.user.username}`")
        if ctx.user.units:
            st.caption("、".join(sorted(ctx.user.units)))
        if ctx.method != "test":
            st.button(
                ctx.t("ui.signout"),
                key="ui.signout",
                icon=":material/logout:",
                on_click=signin.sign_out,
                args=(ctx.reg, ctx.user, ctx.method),
            )
            signin.idle_watch(ctx.reg, signin.Identity(ctx.user, ctx.method))
        set_widget(LANG_WIDGET, ctx.lang)
        st.radio(
            t("ui.language", ctx.lang),
            list(LANGS),
            key=LANG_WIDGET,
            format_func=LANGS.get,
            horizontal=True,
            on_change=_switch_language,
        )
        st.divider()
        kind = getattr(ctx.reg.store, "kind", "")
        kind_label = ctx.t(
            {"sqlite": "ui.register.sqlite", "gsheets": "ui.register.gsheets"}.get(
                kind, "ui.register.other"
            )
        )
        colon = ": " if ctx.lang == "en" else "："
        st.caption(f"{ctx.t('ui.register')}{colon}{kind_label}")
        st.caption(f"`{_short_source(ctx)}`")
        read_at = ctx.data.read_at.astimezone(ctx.reg.now().tzinfo)
        st.caption(ctx.t("ui.read_at", time=read_at.strftime("%Y-%m-%d %H:%M:%S")))
        st.button(
            ctx.t("ui.refresh"),
            key="ui.refresh",
            icon=":material/refresh:",
            on_click=_refresh,
            args=(ctx.reg,),
        )


def _short_source(ctx: Ctx) -> str:
    """The register's file name or sheet key (never credentials)."""
    url = ctx.url
    if url.startswith("sqlite:///"):
        return url.rsplit("/", 1)[-1]
    if url.startswith("gsheets://"):
        key = url[len("gsheets://") :]
        return f"gsheets://{key[:6]}…" if len(key) > 8 else url
    return url.split("://", 1)[0] + "://…"


# --- links --------------------------------------------------------------------------------


def case_href(case_id: str) -> str:
    """The relative address of a case's detail page."""
    return f"./{nav.BY_KEY['case'].url_path}?{urllib.parse.urlencode({'case': case_id})}"


def case_link(ctx: Ctx, case_id: str, label: str | None = None, *, key: str | None = None) -> None:
    """A link to the case's detail page (``?case=<id>``)."""
    text = label or ctx.t("ui.open_case", case_id=case_id)
    try:
        st.page_link(
            nav.page_path("case"),
            label=text,
            icon=":material/open_in_new:",
            query_params={"case": case_id},
        )
    except StreamlitAPIException:
        # The page runs outside st.navigation (a test running the page file directly).
        st.markdown(f"[{text}]({case_href(case_id)})")
