"""Sign-in for the portal: who is at the keyboard, how they proved it, and for how long.

**Two ways in, chosen by configuration** (``.streamlit/secrets.toml``):

* *Accounts of the register* (the ``users`` sheet): a username and password form. The service
  layer checks the password (salted scrypt, constant-time comparison), counts failures and
  makes an account wait after five in a row (:meth:`lib.register.Register.authenticate`).
  Every attempt, good or bad, lands in ``history``; no message says whether an account exists.
* *Single sign-on* through Streamlit's ``st.login`` (OpenID Connect) when an ``[auth]`` section
  is configured. The identity provider proves who it is; the email it vouches for is matched
  to a ``users`` row, which gives the role and units (:meth:`~lib.register.Register.
  authenticate_sso`). An unknown email is refused politely and logged. With ``[auth]`` the
  password form is hidden unless ``[signin] passwords = true``.

``[signin]`` may also hold ``initial_admin_password`` / ``admin_username`` / ``admin_email``
for the first start of an empty register (:func:`bootstrap`): an administrator account is
created with a one-time password — from there, or generated and printed to the server's console
(stderr, never a log) — that must be changed at the first sign-in.

**How a signed-in session survives a reload.** Streamlit keeps ``st.session_state`` per browser
tab connection; a reload or a new tab is a new session. A token in the address would leak in
every shared link (``?case=…`` links are shared on purpose), and a cookie set by JavaScript is not
HttpOnly; Streamlit offers no way to set an HttpOnly cookie of our own. So, honestly: *with a
password, a reload or a new tab asks to sign in again.* The address is kept — the sign-in form
answers at every page's address, and after signing in that very page opens (with its
``?case=…`` and filters). *With single sign-on*, Streamlit's own signed, HttpOnly identity
cookie (``[auth] cookie_secret``) survives reloads; the account is looked up again by email in
every new session and its role and units re-read on every run.

**Idle time-out.** A session that has not run for ``idle_timeout_minutes`` (setting, default
480 = 8 hours) is signed out (``timeout`` in history) at its next run; a small fragment in the
sidebar checks every minute, so an unattended screen does not keep showing personal data.
Single sign-on sessions are ended with ``st.logout()`` too, or the cookie would sign them
straight back in.

**Role and units are re-read on every run** from the register's snapshot, so an administrator
who disables an account or changes its units takes effect at that user's next click.

**Test seam.** AppTest and the browser tests need to start "as" an account without typing a
password. Env ``LIUYAN_USER=NAME`` does that, and is honoured *only* when env
``LIUYAN_TESTING=1`` is set *and* the app runs under AppTest or a server bound to loopback
(``--server.address 127.0.0.1``); the sidebar then shows a red "test mode" banner. A normal
served app ignores both and logs a warning. ``LIUYAN_IDLE_SECONDS`` (same conditions) shortens
the idle time-out for the browser test of it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lib.auth import MIN_PASSWORD_LENGTH, ROLES, User, flag, user_from_row
from lib.i18n import DomainError, t
from lib.register import Register
from lib.ui import messages_auth  # noqa: F401  (registers the strings)
from lib.ui.state import set_widget

log = logging.getLogger(__name__)

AUTH_KEY = "_auth"  # {"username", "method", "email", "since", "seen"}
NOTICE_KEY = "_auth.notice"  # (kind, message key, params): shown once on the sign-in page
ERROR_KEY = "_auth.error"
SSO_REFUSED_KEY = "_auth.sso_refused"  # (email, message key, params)
LANG_KEY = "lang"  # the session's language (kept across sign-in and sign-out)
USER_FIELD = "signin.username"
PASSWORD_FIELD = "signin.password"
TEST_FLAG_ENV = "LIUYAN_TESTING"
TEST_USER_ENV = "LIUYAN_USER"
IDLE_ENV = "LIUYAN_IDLE_SECONDS"
DEFAULT_IDLE_MINUTES = 480
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_warned: set[str] = set()


@dataclass(frozen=True)
class Identity:
    """Who acts in this run, and how they signed in: ``password``, ``sso`` or ``test``."""

    user: User
    method: str


# --- configuration ------------------------------------------------------------------------


def _secret(name: str) -> Mapping[str, Any]:
    try:
        value = st.secrets.get(name)
    except Exception:  # no secrets file, or an unreadable one: not configured
        return {}
    return value if isinstance(value, Mapping) else {}


def signin_settings() -> Mapping[str, Any]:
    """The ``[signin]`` section of the secrets (empty when absent)."""
    return _secret("signin")


def sso_providers() -> list[str | None]:
    """The ``st.login`` providers of the ``[auth]`` section: ``[None]`` for a single provider,
    the names of ``[auth.NAME]`` sub-sections otherwise; empty when single sign-on is off."""
    auth = _secret("auth")
    if not auth:
        return []
    named = [k for k, v in auth.items() if isinstance(v, Mapping) and "client_id" in v]
    if named:
        return sorted(named)
    return [None] if "client_id" in auth else []


def password_signin_enabled() -> bool:
    """Password sign-in: always without single sign-on, else when ``[signin] passwords``."""
    if not sso_providers():
        return True
    return bool(signin_settings().get("passwords", False))


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


def test_seam_enabled() -> bool:
    """True only with ``LIUYAN_TESTING=1`` under AppTest or on a loopback-only server."""
    if os.environ.get(TEST_FLAG_ENV, "").strip() != "1":
        if os.environ.get(TEST_USER_ENV, "").strip():
            _warn_once("user", f"{TEST_USER_ENV} is ignored: people sign in (see lib/ui/signin)")
        return False
    from streamlit import config  # looked up now: AppTest patches config.get_option

    if config.get_option("global.appTest"):
        return True
    address = str(config.get_option("server.address") or "").strip()
    if address in LOOPBACK:
        return True
    _warn_once("address", f"{TEST_FLAG_ENV} is ignored: the server is not bound to loopback")
    return False


def test_username() -> str:
    """The account the test seam signs in as ('' when the seam is off)."""
    if not test_seam_enabled():
        return ""
    return os.environ.get(TEST_USER_ENV, "").strip()


def idle_limit(reg: Register) -> int:
    """Seconds of idleness after which a session is signed out."""
    if test_seam_enabled():
        raw = os.environ.get(IDLE_ENV, "").strip()
        if raw:
            try:
                return max(int(float(raw)), 1)
            except ValueError:
                pass
    try:
        minutes = int(reg.settings().get("idle_timeout_minutes") or DEFAULT_IDLE_MINUTES)
    except ValueError:
        minutes = DEFAULT_IDLE_MINUTES
    return max(minutes, 1) * 60


def idle_minutes(reg: Register) -> int:
    """The idle time-out in whole minutes (for messages)."""
    return max(round(idle_limit(reg) / 60), 1)


# --- the first administrator --------------------------------------------------------------


def bootstrap(reg: Register) -> None:
    """On a register without accounts, create the first administrator (see the module doc)."""
    if len(reg.users()):
        return
    conf = signin_settings()
    given = str(conf.get("initial_admin_password") or "") or None
    username = str(conf.get("admin_username") or "admin")
    created = reg.ensure_first_admin(
        password=given, username=username, email=str(conf.get("admin_email") or "")
    )
    if created is None:
        return
    reg.invalidate()
    log.warning("created the first administrator account %r (must change its password)", username)
    if given is None:
        # The one place a password is ever shown: the console of whoever started the server.
        bar = "=" * 64
        print(
            f"\n{bar}\n留言办理台账 · 首次启动：已创建系统管理员账号\n"
            f"  用户名 username : {username}\n  一次性密码 one-time password : {created}\n"
            f"首次登录后须立即修改密码 (must be changed at the first sign-in)\n{bar}\n",
            file=sys.stderr,
            flush=True,
        )


# --- who is signed in ---------------------------------------------------------------------


def user_in(reg: Register, username: str) -> User | None:
    """The active account ``username`` from this run's snapshot (role and units as now)."""
    users = reg.users()
    if users.empty or not username:
        return None
    rows = users[users["username"] == username].to_dict("records")
    if not rows:
        return None
    row = rows[0]
    if flag(row.get("active"), default=True) is not True or row.get("role") not in ROLES:
        return None
    return user_from_row(row)


def _clear_session(lang: str | None = None) -> None:
    """Forget everything of the session but its language: nothing of one person's work
    (filters, a selected case, typed text) carries over to whoever signs in next."""
    ss = st.session_state
    keep = lang or ss.get(LANG_KEY)
    for key in list(ss.keys()):
        del ss[key]
    if keep:
        ss[LANG_KEY] = keep


def _start(user: User, method: str, email: str = "") -> None:
    _clear_session()
    now = time.time()
    st.session_state[AUTH_KEY] = {
        "username": user.username,
        "method": method,
        "email": email,
        "since": now,
        "seen": now,
    }


def _expired(session: Mapping[str, Any], limit: int) -> bool:
    return time.time() - float(session.get("seen") or 0) > limit


def _timed_out(reg: Register, username: str, method: str, lang: str) -> None:
    try:
        reg.sign_out(User(username, username, ""), reason="timeout")
    except Exception:  # a sign-out must never fail for a bookkeeping error
        log.exception("cannot record the idle time-out of %s", username)
    _clear_session(lang)
    st.session_state[NOTICE_KEY] = (
        "warning",
        "ui.signin.timed_out",
        {"minutes": idle_minutes(reg)},
    )
    if method == "sso":
        st.logout()


def resolve(reg: Register, lang: str) -> Identity | None:
    """This run's signed-in identity, or None (then the sign-in page is shown)."""
    ss = st.session_state
    name = test_username()
    if name:
        user = user_in(reg, name)
        if user is None:
            ss[NOTICE_KEY] = ("error", "err.unknown_user", {"username": name})
            return None
        return Identity(user, "test")
    session = ss.get(AUTH_KEY)
    if sso_providers() and st.user.get("is_logged_in"):
        return _sso_identity(reg, lang, session)
    if not isinstance(session, Mapping):
        return None
    if session.get("method") == "sso":  # Streamlit's identity is gone (signed out elsewhere)
        _clear_session(lang)
        return None
    if _expired(session, idle_limit(reg)):
        _timed_out(reg, str(session.get("username")), "password", lang)
        return None
    user = user_in(reg, str(session.get("username") or ""))
    if user is None:  # disabled or removed meanwhile
        _clear_session(lang)
        return None
    session["seen"] = time.time()
    return Identity(user, "password")


def _sso_identity(reg: Register, lang: str, session: Any) -> Identity | None:
    ss = st.session_state
    email = str(st.user.get("email") or "").strip()
    if isinstance(session, Mapping) and session.get("method") == "sso":
        if session.get("email") == email:
            if _expired(session, idle_limit(reg)):
                _timed_out(reg, str(session.get("username")), "sso", lang)
                return None
            user = user_in(reg, str(session.get("username") or ""))
            if user is not None:
                session["seen"] = time.time()
                return Identity(user, "sso")
        _clear_session(lang)
    refused = ss.get(SSO_REFUSED_KEY)
    if refused and refused[0] == email:
        return None  # refused once in this session: not logged again on every run
    verified = st.user.get("email_verified")
    try:
        user = reg.authenticate_sso(
            email, verified=verified if isinstance(verified, bool) else None
        )
    except DomainError as exc:
        ss[SSO_REFUSED_KEY] = (email, exc.key, dict(exc.params))
        return None
    _start(user, "sso", email)
    return Identity(user, "sso")


def sign_out(reg: Register, user: User, method: str) -> None:
    """End the session (a button's callback): logged, everything of the session forgotten."""
    lang = st.session_state.get(LANG_KEY)
    try:
        reg.sign_out(user)
    except Exception:
        log.exception("cannot record the sign-out of %s", user.username)
    _clear_session(lang)
    st.session_state[NOTICE_KEY] = ("info", "ui.signin.signed_out", {})
    if method == "sso":
        st.logout()


# --- the sign-in page ---------------------------------------------------------------------


def _lang() -> str:
    lang = st.session_state.get(LANG_KEY, "zh")
    return lang if lang in ("zh", "en") else "zh"


def _set_lang() -> None:
    st.session_state[LANG_KEY] = st.session_state.get("signin.lang", "zh")
    st.session_state.pop(ERROR_KEY, None)  # it was worded in the other language


def _submit_password(reg: Register) -> None:
    ss = st.session_state
    lang = _lang()
    name = str(ss.get(USER_FIELD) or "").strip()
    password = str(ss.get(PASSWORD_FIELD) or "")
    ss[PASSWORD_FIELD] = ""  # never kept in the session
    ss.pop(ERROR_KEY, None)
    if not name or not password:
        ss[ERROR_KEY] = t("ui.signin.empty_fields", lang)
        return
    _try_sign_in(reg, name, password, lang)


def _try_sign_in(reg: Register, name: str, password: str, lang: str) -> None:
    st.session_state.pop(ERROR_KEY, None)
    try:
        user = reg.authenticate(name, password)
    except DomainError as exc:
        st.session_state[ERROR_KEY] = exc.message(lang)
        return
    except Exception:  # the store failed: say so in words, keep the details in the log
        log.exception("sign-in could not be checked")
        st.session_state[ERROR_KEY] = t("ui.unexpected", lang)
        return
    _start(user, "password")


def _sign_in_demo(reg: Register, name: str) -> None:
    from lib.demo import DEMO_PASSWORD

    _try_sign_in(reg, name, DEMO_PASSWORD, _lang())


def _sso_logout() -> None:
    st.session_state.pop(SSO_REFUSED_KEY, None)
    st.logout()


def _sso_login(provider: str | None) -> None:
    if provider is None:
        st.login()
    else:
        st.login(provider)


def demo_accounts(reg: Register) -> list[User]:
    """One active account per role (the first in the sheet), in the order of :data:`ROLES`."""
    users = reg.users()
    out: list[User] = []
    if users.empty:
        return out
    for role in ROLES:
        names = [str(n) for n in users.loc[users["role"] == role, "username"]]
        user = next((u for u in (user_in(reg, n) for n in names) if u is not None), None)
        if user is not None:
            out.append(user)
    return out


def draw_signin(reg: Register, demo: bool) -> None:
    """The sign-in page (shown at every address until someone signs in)."""
    ss = st.session_state
    lang = _lang()
    st.title(f"{t('ui.app_title', lang)} · {t('ui.signin.title', lang)}", anchor=False)
    set_widget("signin.lang", lang)
    st.radio(
        t("ui.language", lang),
        ["zh", "en"],
        key="signin.lang",
        format_func={"zh": "中文", "en": "English"}.get,
        horizontal=True,
        on_change=_set_lang,
    )
    notice = ss.pop(NOTICE_KEY, None)
    if notice:
        kind, key, params = notice
        getattr(st, kind if kind in ("info", "warning", "error", "success") else "info")(
            t(key, lang, **params)
        )
    st.caption(t("ui.signin.intro", lang))
    providers = sso_providers()
    if providers:
        refused = ss.get(SSO_REFUSED_KEY)
        if refused:
            st.error(t(refused[1], lang, **refused[2]), icon=":material/block:")
            st.button(t("ui.signin.sso_other", lang), key="signin.sso_other", on_click=_sso_logout)
        else:
            for p in providers:
                label = (
                    t("ui.signin.sso", lang)
                    if p is None
                    else t("ui.signin.sso_named", lang, provider=p)
                )
                st.button(
                    label,
                    key=f"signin.sso.{p or 'default'}",
                    type="primary",
                    icon=":material/login:",
                    on_click=_sso_login,
                    args=(p,),
                )
    if password_signin_enabled():
        if providers:
            st.caption(t("ui.signin.or", lang))
        with st.form("signin.form", border=True):
            st.text_input(
                t("ui.signin.username", lang),
                key=USER_FIELD,
                max_chars=64,
                autocomplete="username",
            )
            st.text_input(
                t("ui.signin.password", lang),
                key=PASSWORD_FIELD,
                type="password",
                max_chars=256,
                autocomplete="current-password",
            )
            st.form_submit_button(
                t("ui.signin.submit", lang),
                type="primary",
                key="signin.submit",
                on_click=_submit_password,
                args=(reg,),
            )
        # kept until the next try (not popped here: a run interrupted by the next one would
        # take the message with it, and the page would show neither it nor the next)
        error = ss.get(ERROR_KEY)
        if error:
            st.error(error, icon=":material/error:")
        if demo:
            _demo_list(reg, lang)
    elif providers:
        st.caption(t("ui.signin.no_method", lang))
    st.caption(t("ui.signin.reload_note", lang))


def _demo_list(reg: Register, lang: str) -> None:
    from lib.demo import DEMO_PASSWORD

    accounts = demo_accounts(reg)
    if not accounts:
        return
    with st.container(border=True):
        st.subheader(t("ui.signin.demo_title", lang), anchor=False)
        st.caption(t("ui.signin.demo_help", lang, password=DEMO_PASSWORD))
        for user in accounts:
            left, right = st.columns([3, 2], vertical_alignment="center")
            units = f" · {'、'.join(sorted(user.units))}" if user.units else ""
            left.markdown(f"**{user.label(lang)}** · `{user.username}`{units}")
            right.button(
                t("ui.signin.demo_as", lang, role=t("role." + user.role, lang)),
                key=f"signin.demo.{user.username}",
                on_click=_sign_in_demo,
                args=(reg, user.username),
                width="stretch",
            )


# --- passwords ----------------------------------------------------------------------------


def _submit_change(reg: Register, user: User, key: str, ask_current: bool) -> None:
    ss = st.session_state
    lang = _lang()
    current = str(ss.get(f"{key}.current") or "") if ask_current else None
    new = str(ss.get(f"{key}.new") or "")
    again = str(ss.get(f"{key}.confirm") or "")
    for k in ("current", "new", "confirm"):
        if f"{key}.{k}" in ss:
            ss[f"{key}.{k}"] = ""
    if new != again:
        ss[f"{key}.error"] = t("err.password_mismatch", lang)
        return
    try:
        reg.change_password(user, new, current=current)
    except DomainError as exc:
        ss[f"{key}.error"] = exc.message(lang)
        return
    except Exception:
        log.exception("password change failed")
        ss[f"{key}.error"] = t("ui.unexpected", lang)
        return
    from lib.ui import context

    context.flash("success", t("ui.password.changed", lang))


def password_form(reg: Register, user: User, key: str, *, ask_current: bool) -> None:
    """A change-password form (current password asked unless it is the forced change)."""
    lang = _lang()
    with st.form(key, border=True):
        if ask_current:
            st.text_input(
                t("ui.password.current", lang),
                key=f"{key}.current",
                type="password",
                max_chars=256,
                autocomplete="current-password",
            )
        st.text_input(
            t("ui.password.new", lang),
            key=f"{key}.new",
            type="password",
            max_chars=256,
            autocomplete="new-password",
        )
        st.text_input(
            t("ui.password.confirm", lang),
            key=f"{key}.confirm",
            type="password",
            max_chars=256,
            autocomplete="new-password",
        )
        st.form_submit_button(
            t("ui.password.submit", lang),
            type="primary",
            key=f"{key}.submit",
            on_click=_submit_change,
            args=(reg, user, key, ask_current),
        )
    error = st.session_state.pop(f"{key}.error", None)
    if error:
        st.error(error, icon=":material/error:")


def draw_forced_change(reg: Register, identity: Identity) -> None:
    """The page shown at every address until a one-time password is replaced."""
    lang = _lang()
    user = identity.user
    st.title(t("ui.password.forced_title", lang), anchor=False)
    st.info(
        t("ui.password.forced_help", lang, username=user.username, min=MIN_PASSWORD_LENGTH),
        icon=":material/key:",
    )
    password_form(reg, user, "forced", ask_current=False)
    st.button(
        t("ui.signout", lang),
        key="forced.signout",
        icon=":material/logout:",
        on_click=sign_out,
        args=(reg, user, identity.method),
    )


def keep_alive() -> None:
    """Count this run as activity (the wall display's own refreshes keep it signed in).

    A wall display (``board?wall=1``) shows no forms and is meant to run unattended; use a
    read-only account (a leader's) for it.
    """
    session = st.session_state.get(AUTH_KEY)
    if isinstance(session, dict):
        session["seen"] = time.time()


def idle_watch(reg: Register, identity: Identity) -> None:
    """Sign an unattended screen out: every so often, check the idle time without counting it
    as activity; when it has passed, rerun the app (which signs out)."""
    if identity.method == "test":
        return
    limit = idle_limit(reg)
    every = max(2.0, min(60.0, limit / 4))

    @st.fragment(run_every=every)
    def _idle_watch() -> None:
        session = st.session_state.get(AUTH_KEY)
        if isinstance(session, Mapping) and _expired(session, limit):
            st.rerun(scope="app")

    _idle_watch()
