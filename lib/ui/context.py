"""Each page run's context: the register, the acting user, the language and one snapshot.

Where things come from (one place each):

* **Register** — env ``REGISTER_URL``, else ``.streamlit/secrets.toml``'s ``register_url``,
  else the embedded file (:func:`lib.store.default_url`). In **demo mode** (``streamlit run
  streamlit_app.py -- --demo`` or env ``LIUYAN_DEMO=1``) the default becomes
  ``data/demo.db`` (:data:`lib.store.DEMO_DB`), filled with invented cases on first start. One
  :class:`~lib.register.Register` per URL per process (``st.cache_resource``); it caches the
  snapshot itself and notices changes made by other processes.
* **Today** — ``reg.today()``. Env ``LIUYAN_TODAY=YYYY-MM-DD`` freezes the register's clock
  (10:00 bureau time on that day) for tests and reproducible demos; nothing else reads it.
* **User** — whoever signed in (:mod:`lib.ui.signin`: the register's accounts, or single
  sign-on); their role and units are re-read from the snapshot on every run. Until someone
  has signed in — or while a one-time password waits to be changed — the run is a
  :class:`Gate`, and the entry script shows its form at every page's address. An empty
  register gets its first administrator here (:func:`lib.ui.signin.bootstrap`). In demo mode
  the sign-in page lists the demo accounts. (``LIUYAN_USER`` is a test seam only; see
  :mod:`lib.ui.signin`.)
* **Language** — ``st.session_state["lang"]`` (``zh`` by default, ``en``).

The entry script builds the context once per run (it needs the role for the navigation) and
hands it to the page, which pops it; a page run without the entry script (AppTest reruns of
``pages/*.py``) builds its own. Either way a run reads one snapshot: ``ctx.data``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lib.auth import LOCAL_ADMIN, User
from lib.i18n import DomainError, t
from lib.register import Register, RegisterData, open_register
from lib.schema import Sheet
from lib.store import DEMO_DB, default_url
from lib.ui import signin

log = logging.getLogger(__name__)

DEMO_ENV = "LIUYAN_DEMO"
USER_ENV = signin.TEST_USER_ENV  # a test seam only (see lib.ui.signin)
TODAY_ENV = "LIUYAN_TODAY"
DEMO_CASES = 3000
DEMO_SEED = 20260320
LANG_KEY = signin.LANG_KEY
CTX_KEY = "_ui_ctx"
FLASH_KEY = "_ui_flash"
FLASH_SHOWN_KEY = "_ui_flash_shown"  # how many of them this run has shown
_TRUE = {"1", "true", "yes", "on"}
_seed_lock = threading.Lock()


@dataclass
class Ctx:
    """What a page needs: the register, who acts, in which language, and one snapshot."""

    reg: Register
    user: User
    lang: str
    data: RegisterData
    today: dt.date
    demo: bool
    url: str
    method: str = ""  # how the user signed in: password, sso or test

    def t(self, key: str, **params: Any) -> str:
        """The message ``key`` in this user's language."""
        return t(key, self.lang, **params)

    @property
    def sheet(self) -> Sheet:
        """The ``cases`` sheet of the schema."""
        return self.reg.schema["cases"]


@dataclass
class Gate:
    """A run that cannot show a page yet: nobody has signed in, or a one-time password must
    be changed first. ``draw()`` shows the form that lets them through."""

    draw: Callable[[], None]
    lang: str


# --- configuration ------------------------------------------------------------------------


def demo_mode() -> bool:
    """True when started with ``-- --demo`` or with env ``LIUYAN_DEMO=1``."""
    return "--demo" in sys.argv[1:] or os.environ.get(DEMO_ENV, "").strip().lower() in _TRUE


def register_url() -> str:
    """The register this app uses (demo mode defaults to ``data/demo.db``)."""
    if demo_mode() and not os.environ.get("REGISTER_URL", "").strip():
        return f"sqlite:///{DEMO_DB}"
    return default_url()


def frozen_today() -> str:
    """``LIUYAN_TODAY`` as ``YYYY-MM-DD`` (empty when the clock runs normally)."""
    raw = os.environ.get(TODAY_ENV, "").strip()
    if not raw:
        return ""
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        log.warning("ignoring %s=%r (expected YYYY-MM-DD)", TODAY_ENV, raw)
        return ""


@functools.cache
def _frozen_clock(today: str):
    """The frozen clock of ``LIUYAN_TODAY`` (one object per day, so registers can compare)."""
    if not today:
        return None
    day = dt.date.fromisoformat(today)

    def clock() -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, 10, 0)

    return clock


@st.cache_resource(show_spinner=False, max_entries=8)
def _open_register(url: str, today: str) -> Register:
    return open_register(url, clock=_frozen_clock(today))


def get_register() -> Register:
    """The register for this process (raises :class:`DomainError` if it cannot be opened).

    A Google Sheet is reached the Streamlit way, through ``st.connection`` (secrets in
    ``[connections.gsheets]``), and re-read when older than the ``stale_seconds`` setting;
    the embedded file through a cached resource that notices every change itself.
    """
    url = register_url()
    if url.startswith("gsheets://"):
        from lib.store.gsheets_connection import gsheets_register

        return gsheets_register(url, clock=_frozen_clock(frozen_today()))
    return _open_register(url, frozen_today())


def current_lang() -> str:
    """The session's language, ``zh`` or ``en``."""
    lang = st.session_state.get(LANG_KEY, "zh")
    return lang if lang in ("zh", "en") else "zh"


# --- demo data ----------------------------------------------------------------------------


def _seed_demo_if_empty(reg: Register, lang: str) -> None:
    """Fill an empty demo register with invented data (once; other sessions wait)."""
    if len(reg.load().cases):
        return
    try:
        from lib.demo import seed_demo
    except ImportError:
        st.sidebar.info(t("ui.demo.no_seeder", lang))
        return
    with _seed_lock:
        if len(reg.load(force=True).cases):
            return
        text = t("ui.demo.seeding", lang, cases=DEMO_CASES)
        bar = st.progress(0.0, text=text)

        def progress(done: int, total: int) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=text)

        with st.spinner(text):
            seed_demo(reg, LOCAL_ADMIN, cases=DEMO_CASES, seed=DEMO_SEED, progress=progress)
        bar.empty()
        reg.invalidate()


# --- building the context -----------------------------------------------------------------


def build_ctx() -> Ctx | Gate | None:
    """Open the register, find who is signed in, read one snapshot.

    Returns the :class:`Ctx`; a :class:`Gate` when someone has to sign in (or change a
    one-time password) first; None when the register cannot be used (the reason is on
    screen)."""
    lang = current_lang()
    demo = demo_mode()
    url = register_url()
    try:
        reg = get_register()
        if demo:
            _seed_demo_if_empty(reg, lang)
        signin.bootstrap(reg)
        who = signin.resolve(reg, lang)
        if who is None:
            # The sign-in page needs only the accounts; the cases are read meanwhile.
            reg.warm_up()
            return Gate(lambda: signin.draw_signin(reg, demo), lang)
        if who.user.must_change_password and who.method == "password":
            reg.warm_up()
            return Gate(lambda: signin.draw_forced_change(reg, who), lang)
        user = who.user
        data = reg.data(user)
    except DomainError as exc:
        st.error(t("ui.open_failed", lang, reason=exc.message(lang)))
        return None
    except Exception:  # a broken store must not show a traceback to the user
        log.exception("cannot open the register %s", url)
        st.error(t("ui.open_failed", lang, reason=t("ui.unexpected", lang)))
        return None
    return Ctx(
        reg=reg,
        user=user,
        lang=lang,
        data=data,
        today=reg.today(),
        demo=demo,
        url=url,
        method=who.method,
    )


def begin_run() -> Ctx | Gate | None:
    """For the entry script: build this run's context and hand it to the page."""
    ctx = build_ctx()
    if isinstance(ctx, Ctx):
        st.session_state[CTX_KEY] = ctx
    return ctx


def take_ctx() -> Ctx | Gate | None:
    """For a page: the context the entry script built this run, else a fresh one.

    Streamlit decides per process whether ``pages/`` is an old-style (v1) pages folder, and
    keeps thinking so until some run calls ``st.navigation``. If the first request after the
    server starts is a page address (``/tracking?status=…``, a bookmark), Streamlit runs
    ``pages/tracking.py`` alone — no entry script, no navigation by role. A page that finds
    itself run that way switches the old mode off and reruns, so the entry script runs.
    """
    ctx = st.session_state.pop(CTX_KEY, None)
    if isinstance(ctx, Ctx):
        return ctx
    if _leave_v1_pages_mode():
        st.rerun()
    return build_ctx()


def _leave_v1_pages_mode() -> bool:
    """Turn off Streamlit's v1 ``pages/`` mode if this run is in it; True when it was.

    Not under AppTest: it re-detects the folder before every run (so the switch would not
    last) and a rerun would drop the button click being tested; pages build their own
    context there instead.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without it: nothing to undo
        return False
    from streamlit import config  # looked up now: AppTest patches config.get_option

    if config.get_option("global.appTest"):
        return False
    if getattr(PagesManager, "uses_pages_directory", None) is True:
        PagesManager.uses_pages_directory = False
        return True
    return False


def refresh_ctx(ctx: Ctx) -> Ctx:
    """A new snapshot after this run wrote something (same user and language)."""
    return Ctx(
        reg=ctx.reg,
        user=ctx.user,
        lang=ctx.lang,
        data=ctx.reg.data(ctx.user),
        today=ctx.reg.today(),
        demo=ctx.demo,
        url=ctx.url,
        method=ctx.method,
    )


# --- flash messages (shown once, on the next run) -----------------------------------------


def flash(kind: str, text: str) -> None:
    """Queue a message (``success``, ``info``, ``warning``) for the next run of any page."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, text))


def show_flash() -> None:
    """Show the queued messages; they are dropped once this run gets to its end
    (:func:`flash_shown`), so a run cut short by the next one shows them again."""
    queued = st.session_state.get(FLASH_KEY, [])
    for kind, text in queued:
        getattr(st, kind if kind in ("success", "info", "warning", "error") else "info")(text)
    st.session_state[FLASH_SHOWN_KEY] = len(queued)


def flash_shown() -> None:
    """Drop the messages this run showed (those queued since stay for the next run)."""
    shown = st.session_state.pop(FLASH_SHOWN_KEY, 0)
    if shown:
        st.session_state[FLASH_KEY] = st.session_state.get(FLASH_KEY, [])[shown:]
