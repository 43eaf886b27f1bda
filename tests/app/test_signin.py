"""Signing in to the portal (AppTest): the password form, wrong and right passwords, the wait
after repeated failures, signing out, the idle time-out, the first administrator's forced
password change, single sign-on through ``at.user``, and the test seam's limits.

(The same in a real browser: tests/e2e/test_signin.py.)"""

from __future__ import annotations

import threading
import time

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from lib.auth import FREE_FAILURES
from lib.ui import signin
from tests.app.conftest import APP, PASSWORD, Portal, no_errors, sign_in, texts

SIGNIN_TITLE = "留言办理台账 · 登录"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "cookie-secret-that-must-never-show",
    "client_id": "liuyan",
    "client_secret": "client-secret-that-must-never-show",
    "server_metadata_url": "https://sso.example.gov.cn/.well-known/openid-configuration",
}


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def events(portal: Portal, action: str) -> list[dict[str, str]]:
    rows = portal.reg.store.read(["history"])["history"].to_dict("records")
    return [r for r in rows if r["action"] == action]


def everything(at: AppTest) -> str:
    """Every text of the run, widgets included."""
    from google.protobuf import text_format

    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


# -- passwords -----------------------------------------------------------------------------


def test_the_sign_in_page_shows_nothing_of_the_register(portal: Portal):
    portal.intake()
    at = portal.signed_out()

    no_errors(at)
    assert titles(at) == [SIGNIN_TITLE]
    assert not at.dataframe and not at.sidebar.button
    assert "张三" not in everything(at) and "GA2026" not in everything(at)


@pytest.mark.sqlite_only  # a Google Sheet is read whole in one call on every page run anyway
def test_the_sign_in_page_reads_the_accounts_only_and_warms_the_rest(portal: Portal, monkeypatch):
    """The first page a person sees does not wait for every case to be read: the register is
    read in the background meanwhile, so the page after signing in finds it ready."""
    portal.intake()
    portal.reg.invalidate()
    reads: list[str] = []
    original = type(portal.reg).load

    def load(self, *args, **kwargs):
        reads.append(threading.current_thread().name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(portal.reg), "load", load)
    at = portal.signed_out()
    no_errors(at)
    assert titles(at) == [SIGNIN_TITLE]
    deadline = time.monotonic() + 30
    while not reads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reads and set(reads) == {"register-warm-up"}, reads
    at = sign_in(at, "clerk1")
    no_errors(at)
    assert titles(at) == ["受理登记"]


def test_a_wrong_password_is_refused_without_saying_whether_the_account_exists(portal: Portal):
    at = sign_in(portal.signed_out(), "clerk1", "wrong-password")
    assert texts(at.error) == ["用户名或密码不正确"]
    assert titles(at) == [SIGNIN_TITLE]
    assert at.text_input(key="signin.password").value == "", "the password is not kept"

    at = sign_in(at, "no_such_account", "wrong-password")
    assert texts(at.error) == ["用户名或密码不正确"]
    assert [(r["user"], r["field"]) for r in events(portal, "signin_failed")] == [
        ("clerk1", "password"),
        ("no_such_account", "password"),
    ]


def test_a_sign_in_error_stays_until_the_next_try(portal: Portal):
    at = sign_in(portal.signed_out(), "clerk1", "wrong-password")
    at.run()  # another run before the user tries again (a run interrupted by it, too)
    assert texts(at.error) == ["用户名或密码不正确"]
    at.radio(key="signin.lang").set_value("en").run()
    assert texts(at.error) == [], "worded in the other language: dropped"
    at = sign_in(at, "clerk1", "wrong-password")
    assert len(at.error) == 1


@pytest.mark.parametrize(
    ("role", "username", "start"),
    [
        ("admin", "admin1", "交办跟踪"),
        ("clerk", "clerk1", "受理登记"),
        ("handler", "ga_handler", "交办跟踪"),
    ],
)
def test_the_right_password_opens_the_role_s_start_page(portal: Portal, role, username, start):
    at = sign_in(portal.signed_out(), username)

    no_errors(at)
    assert titles(at) == [start]
    assert f"`{username}`" in " ".join(texts(at.sidebar.markdown))
    assert [r["user"] for r in events(portal, "signin")] == [username]


def test_after_signing_in_the_address_asked_for_opens(portal: Portal):
    case_id = portal.intake()
    at = portal.signed_out(case=case_id)
    assert titles(at) == [SIGNIN_TITLE]

    at = sign_in(at, "clerk1")

    no_errors(at)
    assert titles(at) == ["案件详情"]
    assert any(case_id in h.value for h in at.header)


def test_repeated_failures_make_the_account_wait(portal: Portal):
    at = portal.signed_out()
    for _ in range(FREE_FAILURES - 1):
        at = sign_in(at, "clerk1", "wrong-password")
        assert texts(at.error) == ["用户名或密码不正确"]
    at = sign_in(at, "clerk1", "wrong-password")
    assert texts(at.error) == ["登录失败次数过多，请 30 秒后再试"]

    at = sign_in(at, "clerk1")  # the right password, too early

    assert titles(at) == [SIGNIN_TITLE]
    [waiting] = texts(at.error)
    assert waiting.startswith("登录失败次数过多，请 ") and waiting.endswith(" 秒后再试")
    assert [r["user"] for r in events(portal, "signin_locked")] == ["clerk1"]


def test_signing_out_forgets_the_session(portal: Portal):
    at = sign_in(portal.signed_out(), "clerk1")
    at.text_input(key="intake.title").input("写了一半的标题").run()

    at.sidebar.button(key="ui.signout").click().run()

    assert titles(at) == [SIGNIN_TITLE]
    assert texts(at.info) == ["您已退出登录。"]
    assert "intake.title" not in at.session_state
    assert [r["user"] for r in events(portal, "signout")] == ["clerk1"]
    at.switch_page("pages/intake.py").run()  # an address of a page: still the sign-in form
    assert titles(at) == [SIGNIN_TITLE]


def test_an_idle_session_is_signed_out(portal: Portal):
    at = sign_in(portal.signed_out(), "clerk1")
    session = dict(at.session_state[signin.AUTH_KEY])
    session["seen"] -= 8 * 3600 + 1  # the default: 480 minutes
    at.session_state[signin.AUTH_KEY] = session

    at.run()

    assert titles(at) == [SIGNIN_TITLE]
    assert texts(at.warning) == ["您已闲置超过 480 分钟，为保护个人信息已自动退出，请重新登录。"]
    assert [r["user"] for r in events(portal, "timeout")] == ["clerk1"]


def test_the_idle_time_out_is_a_setting(portal: Portal):
    portal.reg.set_setting(portal.reg.find_user("admin1"), "idle_timeout_minutes", "15")
    at = sign_in(portal.signed_out(), "clerk1")
    session = dict(at.session_state[signin.AUTH_KEY])
    session["seen"] -= 14 * 60
    at.session_state[signin.AUTH_KEY] = session
    at.run()
    assert titles(at) == ["受理登记"], "14 minutes idle is not yet 15"
    session = dict(at.session_state[signin.AUTH_KEY])
    session["seen"] -= 16 * 60
    at.session_state[signin.AUTH_KEY] = session
    at.run()
    assert titles(at) == [SIGNIN_TITLE]


def test_a_disabled_account_is_signed_out_at_its_next_click(portal: Portal):
    at = sign_in(portal.signed_out(), "clerk1")
    portal.reg.save_user(portal.reg.find_user("admin1"), "clerk1", active=False)

    at.run()

    assert titles(at) == [SIGNIN_TITLE]
    at = sign_in(at, "clerk1")
    assert texts(at.error) == ["此账号已停用，请联系系统管理员"]


def test_a_changed_role_takes_effect_at_the_next_click(portal: Portal):
    at = sign_in(portal.signed_out(), "clerk1")
    assert titles(at) == ["受理登记"]
    portal.reg.save_user(portal.reg.find_user("admin1"), "clerk1", role="leader")

    at.run()

    assert any("不能使用此页面" in e for e in texts(at.error))


# -- the first start -----------------------------------------------------------------------


def test_the_first_administrator_must_change_the_one_time_password(app_env, capfd):
    at = AppTest.from_file(APP, default_timeout=60).run()
    no_errors(at)
    console = capfd.readouterr().err
    assert "一次性密码 one-time password" in console
    one_time = console.split("one-time password : ")[1].split()[0]
    assert one_time not in everything(at)

    at = sign_in(at, "admin", one_time)
    assert titles(at) == ["请设置新密码"]
    assert not at.sidebar.button and not at.dataframe
    # every page's address answers with this form (no page file is reachable)
    pages = at._registered_pages.values()
    assert {"tracking", "case_detail", "intake"} <= {p.get("url_pathname") for p in pages}
    assert not [p for p in pages if str(p.get("script_path", "")).endswith("tracking.py")]

    at.text_input(key="forced.new").input("abc")
    at.text_input(key="forced.confirm").input("abc")
    at.button(key="forced.submit").click().run()
    assert texts(at.error) == ["新密码至少需要 8 个字符"]
    at.text_input(key="forced.new").input("bureau-admin-2026")
    at.text_input(key="forced.confirm").input("bureau-admin-2O26")
    at.button(key="forced.submit").click().run()
    assert texts(at.error) == ["两次输入的新密码不一致"]
    at.text_input(key="forced.new").input("bureau-admin-2026")
    at.text_input(key="forced.confirm").input("bureau-admin-2026")
    at.button(key="forced.submit").click().run()

    no_errors(at)
    assert titles(at) == ["交办跟踪"]
    assert texts(at.success) == ["密码已修改。"]
    at.sidebar.button(key="ui.signout").click().run()
    assert texts(sign_in(at, "admin", one_time).error) == ["用户名或密码不正确"]
    assert titles(sign_in(at, "admin", "bureau-admin-2026")) == ["交办跟踪"]


def test_the_first_password_may_be_set_in_the_secrets(app_env, capfd):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["signin"] = {"initial_admin_password": "from-the-secrets-1", "admin_username": "it"}
    at.run()
    assert "from-the-secrets-1" not in capfd.readouterr().err
    at = sign_in(at, "it", "from-the-secrets-1")
    assert titles(at) == ["请设置新密码"]


# -- my account ----------------------------------------------------------------------------


def test_users_change_their_own_password(portal: Portal):
    at = sign_in(portal.signed_out(), "ga_handler")
    at.switch_page("pages/account.py").run()
    no_errors(at)
    shown = " ".join(texts(at.markdown))
    assert "ga_handler" in shown and "广安区" in shown and "本系统密码" in shown

    at.text_input(key="account.password.current").input("not-my-password")
    at.text_input(key="account.password.new").input("handler-new-pass-1")
    at.text_input(key="account.password.confirm").input("handler-new-pass-1")
    at.button(key="account.password.submit").click().run()
    assert texts(at.error) == ["当前密码不正确"]

    at.text_input(key="account.password.current").input(PASSWORD)
    at.text_input(key="account.password.new").input("handler-new-pass-1")
    at.text_input(key="account.password.confirm").input("handler-new-pass-1")
    at.button(key="account.password.submit").click().run()
    no_errors(at)
    assert texts(at.success) == ["密码已修改。"]
    assert portal.reg.authenticate("ga_handler", "handler-new-pass-1").username == "ga_handler"
    assert "scrypt$" not in everything(at)


# -- single sign-on (no identity provider here: st.user is set through at.user) ------------


def sso_app(portal: Portal, email: str | None, **signin_conf) -> AppTest:
    at = portal.signed_out(run=False)
    at.secrets["auth"] = AUTH
    if signin_conf:
        at.secrets["signin"] = signin_conf
    at.user = {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email}
    return at.run()


def test_single_sign_on_offers_its_button_and_hides_the_password_form(portal: Portal):
    at = sso_app(portal, None)
    no_errors(at)
    assert [b.key for b in at.button] == ["signin.sso.default"]
    assert not at.text_input
    text = everything(at)
    assert "never-show" not in text
    at = sso_app(portal, None, passwords=True)
    assert [w.key for w in at.text_input] == ["signin.username", "signin.password"]


def test_a_known_email_gets_its_account_s_role_and_units(portal: Portal):
    admin = portal.reg.find_user("admin1")
    portal.reg.save_user(admin, "ga_handler", email="zhao@ga.example.gov.cn")
    case_id = portal.intake(region="岳池县")
    portal.reg.assign(portal.reg.find_user("clerk1"), case_id, unit="岳池县")

    at = sso_app(portal, "Zhao@GA.example.gov.cn")

    no_errors(at)
    assert titles(at) == ["交办跟踪"]
    assert "`ga_handler`" in " ".join(texts(at.sidebar.markdown))
    assert case_id not in everything(at)  # another unit's case
    at.switch_page("pages/account.py").run()
    assert "单点登录" in " ".join(texts(at.markdown))
    assert not [w for w in at.text_input if w.key.startswith("account.password")]
    assert [(r["user"], r["field"]) for r in events(portal, "signin")] == [("ga_handler", "sso")]


def test_an_unknown_email_is_refused_politely(portal: Portal):
    at = sso_app(portal, "stranger@example.com")

    assert not at.exception
    assert titles(at) == [SIGNIN_TITLE]
    [refusal] = texts(at.error)
    assert "stranger@example.com" in refusal and "联系系统管理员" in refusal
    assert [b.key for b in at.button] == ["signin.sso_other"]
    at.run()
    assert len(events(portal, "signin_failed")) == 1, "logged once, not on every run"


def test_an_idle_single_sign_on_session_is_logged_out_of_streamlit_too(portal: Portal):
    admin = portal.reg.find_user("admin1")
    portal.reg.save_user(admin, "clerk1", email="li@example.gov.cn")
    at = sso_app(portal, "li@example.gov.cn")
    session = dict(at.session_state[signin.AUTH_KEY])
    session["seen"] -= 8 * 3600 + 1
    at.session_state[signin.AUTH_KEY] = session

    at.run()

    assert titles(at) == [SIGNIN_TITLE]
    assert at.user == {"is_logged_in": False}
    assert [r["user"] for r in events(portal, "timeout")] == ["clerk1"]


# -- the test seam -------------------------------------------------------------------------


def test_the_test_seam_needs_its_flag(portal: Portal, monkeypatch):
    monkeypatch.delenv("LIUYAN_TESTING")
    monkeypatch.setenv("LIUYAN_USER", "admin1")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert titles(at) == [SIGNIN_TITLE]


@pytest.mark.parametrize(
    ("address", "honoured"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("", False),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_a_served_app_honours_the_test_seam_only_on_loopback(monkeypatch, address, honoured):
    monkeypatch.setenv("LIUYAN_TESTING", "1")
    monkeypatch.setenv("LIUYAN_USER", "admin1")
    options = {"global.appTest": False, "server.address": address}
    monkeypatch.setattr(config, "get_option", lambda name: options[name])

    assert signin.test_seam_enabled() is honoured
    assert signin.test_username() == ("admin1" if honoured else "")
