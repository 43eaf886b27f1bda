"""The shell: who is signed in, navigation by role, language, register info, demo mode.

(Signing in itself — passwords, lockout, single sign-on, time-out — is in test_signin.py.)"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lib.i18n import t
from lib.ui import context, nav
from tests.app.conftest import (
    ACCOUNTS,
    APP,
    MAY_USE,
    PAGES,
    ROLES,
    Portal,
    no_errors,
    sign_in,
    texts,
)


def test_without_anyone_signed_in_the_app_asks_to_sign_in(portal: Portal):
    at = portal.signed_out()
    assert not at.exception
    assert [title.value for title in at.title] == ["留言办理台账 · 登录"]
    assert [w.key for w in at.text_input] == ["signin.username", "signin.password"]
    assert not at.sidebar.button  # no page, no sign-out


def test_an_unknown_test_user_is_named_in_the_notice(portal: Portal, monkeypatch):
    monkeypatch.setenv("LIUYAN_USER", "nobody")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("nobody" in m for m in texts(at.error))
    assert at.title[0].value == "留言办理台账 · 登录"  # no page ran


def test_a_register_that_cannot_be_opened_is_an_error_not_a_traceback(portal, monkeypatch):
    monkeypatch.setenv("REGISTER_URL", "ftp://example/register")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("ftp://example/register" in e for e in texts(at.error))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_on_its_page_and_sees_who_it_is(portal: Portal, role: str, app_store):
    at = portal.app(role)
    no_errors(at)
    expected = {
        "admin": "交办跟踪",
        "clerk": "受理登记",
        "handler": "交办跟踪",
        "supervisor": "交办跟踪",  # 督办看板 until pages/board.py exists
        "leader": "交办跟踪",
    }
    if nav.BY_KEY["board"].exists() and role in ("supervisor", "leader"):
        expected[role] = t("ui.nav.board")
    assert at.title[0].value == expected[role]
    sidebar = " ".join(texts(at.sidebar.markdown))
    assert ACCOUNTS[role][1] in sidebar  # display name
    assert t("role." + ACCOUNTS[role][2]) in sidebar
    captions = " ".join(texts(at.sidebar.caption))
    if app_store == "gsheets":
        assert "Google 表格" in captions and "gsheets://" in captions
    else:
        assert "内置数据文件" in captions and "register.db" in captions
    assert "数据读取于" in captions


@pytest.mark.parametrize("role", ROLES)
def test_navigation_offers_exactly_the_pages_a_role_may_use(portal: Portal, role: str):
    for key, path in PAGES.items():
        at = portal.app(role)  # afresh: after a page ran, AppTest lists every file of pages/
        if role in MAY_USE[key]:
            at.switch_page(path).run()
            no_errors(at)
        else:
            with pytest.raises(ValueError):
                at.switch_page(path)


def test_a_page_opened_without_the_navigation_still_refuses_a_role(portal: Portal, monkeypatch):
    monkeypatch.setenv("LIUYAN_USER", ACCOUNTS["handler"][0])
    at = AppTest.from_file(str(nav.ROOT / "pages" / "intake.py"), default_timeout=60).run()
    assert not at.exception
    assert any("承办人" in e and "不能使用此页面" in e for e in texts(at.error))
    assert not at.text_input  # no form


def test_pages_not_written_yet_are_left_out():
    specs = nav.pages_for("admin")
    assert all(p.exists() for p in specs)
    assert [p.key for p in specs][:3] == ["intake", "tracking", "case"]
    assert "handler" not in nav.BY_KEY["intake"].roles


def test_language_switch_to_english(portal: Portal, app_store):
    at = portal.app("clerk")
    at.sidebar.radio(key="ui.lang").set_value("en").run()
    no_errors(at)
    assert at.title[0].value == "Intake"
    assert "Title *" in [w.label for w in at.text_input]
    where = "Google Sheet" if app_store == "gsheets" else "Embedded file"
    assert any(where in c for c in texts(at.sidebar.caption))
    # and it stays English on the next page
    at.switch_page("pages/tracking.py").run()
    assert at.title[0].value == "Assignment tracking"


def test_refresh_button_reads_the_register_again(portal: Portal):
    at = portal.app("admin")
    portal.intake()  # written by "someone else" after the page was drawn
    at.sidebar.button(key="ui.refresh").click().run()
    no_errors(at)
    assert "待交办（1）" in [tab.label for tab in at.tabs]


def test_case_in_the_root_address_opens_the_detail_page(portal: Portal):
    case_id = portal.intake()
    at = portal.app("clerk", case=case_id)
    no_errors(at)
    assert at.title[0].value == "案件详情"
    assert any(case_id in h.value for h in at.header)


def test_demo_mode_seeds_an_empty_register_and_lists_one_account_per_role(app_env, monkeypatch):
    monkeypatch.setenv("LIUYAN_DEMO", "1")
    monkeypatch.setattr(context, "DEMO_CASES", 120)
    at = AppTest.from_file(APP, default_timeout=120).run()
    no_errors(at)
    reg = context.get_register()
    assert len(reg.load().cases) == 120
    demo = [b.key for b in at.button if b.key.startswith("signin.demo.")]
    assert demo == [f"signin.demo.{u}" for u in ("admin", "clerk", "handler_gaq")] + [
        "signin.demo.supervisor",
        "signin.demo.leader",
    ]
    assert any("“demo”" in c for c in texts(at.caption))
    at.button(key="signin.demo.handler_gaq").click().run()
    no_errors(at)
    assert any("演示数据" in w for w in texts(at.sidebar.warning))
    assert at.title[0].value == "交办跟踪"
    assert "handler_gaq" in " ".join(texts(at.sidebar.markdown))
    # signing out and in as another demo account switches the role (same address, same page)
    at.sidebar.button(key="ui.signout").click().run()
    sign_in(at, "clerk", "demo")
    no_errors(at)
    assert "`clerk`" in " ".join(texts(at.sidebar.markdown))
    assert at.title[0].value == "交办跟踪"
    assert any(tab.label.startswith("待交办") for tab in at.tabs)  # the clerk's queue


def test_demo_user_switch_is_absent_outside_demo_mode(portal: Portal):
    at = portal.app("clerk")
    assert not [s for s in at.sidebar.selectbox if s.key.startswith("ui.user")]
    assert not at.sidebar.warning


def _flash_script() -> None:
    """Run 1 saves (flash + rerun); run 2 shows the message and is cut short by a rerun; the
    runs after go to their end."""
    import types

    import streamlit as st

    from lib.ui import context, shell

    ss = st.session_state
    ss["runs"] = ss.get("runs", 0) + 1
    context.show_flash()

    def body(_ctx) -> None:
        if ss["runs"] == 1:
            context.flash("success", "已保存 GA2026-000123")
            st.rerun()
        if ss["runs"] == 2:
            st.rerun()  # as a click arriving while this run is drawn
        st.write(f"run {ss['runs']}")

    shell.run_page(types.SimpleNamespace(lang="zh"), body)


@pytest.mark.sqlite_only  # no register here
def test_a_message_shown_by_a_run_cut_short_is_shown_again():
    at = AppTest.from_function(_flash_script).run()

    assert not at.exception
    assert at.session_state["runs"] == 3
    assert [s.value for s in at.success] == ["已保存 GA2026-000123"]  # run 3, to its end
    at.run()
    assert not at.success  # shown once by a run that got to its end: gone
    assert [m.value for m in at.markdown] == ["run 4"]
