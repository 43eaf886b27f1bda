"""Signing in, in a real browser (Chromium) against the served app, as in production (no test
seam): wrong and right passwords, signing out, a reload, the wait after repeated failures, the
idle time-out, and the first administrator's forced password change."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import IDLE_SECONDS, PASSWORD, TIMEOUT, Served, wait_idle

pytestmark = pytest.mark.e2e
expect.set_options(timeout=TIMEOUT)
SIGNIN = "留言办理台账 · 登录"


def sign_in(page: Page, username: str, password: str) -> None:
    expect(page.get_by_role("heading", name=SIGNIN)).to_be_visible()
    wait_idle(page)
    page.get_by_role("textbox", name="用户名").fill(username)
    page.get_by_role("textbox", name="密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def counted(app: Served, username: str, failures: int) -> None:
    """Wait until the register has counted ``failures`` failed sign-ins of ``username``."""
    deadline = time.monotonic() + TIMEOUT / 1000
    while app.reg.store.get_row("users", username)["failed_count"] != str(failures):
        assert time.monotonic() < deadline, f"{username}: {failures} failures never counted"
        time.sleep(0.1)


def test_wrong_password_right_password_sign_out_and_reload(
    page: Page, signin_app: Served, shots: Path
):
    page.set_default_timeout(TIMEOUT)
    case_id = "GA2026-000001"
    page.goto(signin_app.url + f"/case_detail?case={case_id}")
    expect(page.get_by_role("heading", name=SIGNIN)).to_be_visible()
    expect(page.get_by_text("小区电梯长期停运")).to_have_count(0)  # nothing of the register
    page.screenshot(path=str(shots / "signin-1-form.png"), full_page=True)

    sign_in(page, "clerk1", "not-the-password")
    expect(page.get_by_text("用户名或密码不正确")).to_be_visible()
    # the typed password is gone from the box too, not only from the server's session
    expect(page.get_by_role("textbox", name="密码")).to_have_value("")
    expect(page.get_by_role("textbox", name="用户名")).to_have_value("clerk1")
    sign_in(page, "nobody_here", "not-the-password")
    expect(page.get_by_text("用户名或密码不正确")).to_be_visible()
    page.screenshot(path=str(shots / "signin-2-wrong.png"), full_page=True)

    sign_in(page, "clerk1", PASSWORD)
    # the address asked for opens: the case itself
    expect(page.get_by_role("heading", name=re.compile(case_id))).to_be_visible()
    assert urlparse_path(page.url) == "/case_detail"
    expect(page.get_by_test_id("stSidebar").get_by_text("李受理（受理员）")).to_be_visible()
    wait_idle(page)
    page.screenshot(path=str(shots / "signin-3-case.png"), full_page=True)

    # a reload is a new session: sign in again, and the same page comes back
    page.reload()
    expect(page.get_by_role("heading", name=SIGNIN)).to_be_visible()
    sign_in(page, "clerk1", PASSWORD)
    expect(page.get_by_role("heading", name=re.compile(case_id))).to_be_visible()

    wait_idle(page)
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_text("您已退出登录。")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(case_id))).to_have_count(0)
    events = signin_app.reg.store.read(["history"])["history"]
    mine = events[events["user"] == "clerk1"]["action"].tolist()
    assert mine[-4:] == ["signin_failed", "signin", "signin", "signout"]


def urlparse_path(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).path


def test_repeated_failures_make_the_account_wait(page: Page, signin_app: Served, shots: Path):
    page.set_default_timeout(TIMEOUT)
    page.goto(signin_app.url)
    failed = page.get_by_text("用户名或密码不正确")
    for attempt in range(1, 5):
        sign_in(page, "boss1", "wrong-guess")
        # the message of the try before is still there: wait for this try to be counted
        counted(signin_app, "boss1", attempt)
        expect(failed).to_be_visible()
        wait_idle(page)
    sign_in(page, "boss1", "wrong-guess")
    expect(page.get_by_text("登录失败次数过多，请 30 秒后再试")).to_be_visible()
    wait_idle(page)

    sign_in(page, "boss1", PASSWORD)  # the right password, too early

    expect(page.get_by_text(re.compile(r"登录失败次数过多，请 \d+ 秒后再试"))).to_be_visible()
    expect(page.get_by_role("heading", name=SIGNIN)).to_be_visible()
    page.screenshot(path=str(shots / "signin-4-wait.png"), full_page=True)
    row = signin_app.reg.store.get_row("users", "boss1")
    assert row["failed_count"] == "5" and row["locked_until"]
    events = signin_app.reg.store.read(["history"])["history"]
    assert "signin_locked" in set(events.loc[events["user"] == "boss1", "action"])


def test_an_idle_session_is_signed_out_by_itself(page: Page, idle_app: Served, shots: Path):
    page.set_default_timeout(TIMEOUT)
    page.goto(idle_app.url + "/tracking")
    sign_in(page, "sup1", PASSWORD)
    expect(page.get_by_role("heading", name="交办跟踪")).to_be_visible()
    started = time.monotonic()

    # no click: the sidebar's watcher notices the idle time and signs the screen out
    expect(page.get_by_text(re.compile("您已闲置超过 .* 分钟"))).to_be_visible(timeout=40_000)

    assert time.monotonic() - started >= IDLE_SECONDS - 1
    expect(page.get_by_role("heading", name="交办跟踪")).to_have_count(0)
    page.screenshot(path=str(shots / "signin-5-timeout.png"), full_page=True)
    events = idle_app.reg.store.read(["history"])["history"]
    assert events[events["user"] == "sup1"]["action"].tolist()[-2:] == ["signin", "timeout"]


def test_the_first_administrator_changes_the_one_time_password(
    page: Page, first_start_app: Served, shots: Path
):
    page.set_default_timeout(TIMEOUT)
    page.goto(first_start_app.url)
    expect(page.get_by_role("heading", name=SIGNIN)).to_be_visible()
    deadline = time.monotonic() + 30
    while "one-time password : " not in first_start_app.console():
        assert time.monotonic() < deadline, first_start_app.console()
        time.sleep(0.2)
    one_time = first_start_app.console().split("one-time password : ")[1].split()[0]

    sign_in(page, "admin", one_time)
    expect(page.get_by_role("heading", name="请设置新密码")).to_be_visible()
    expect(page.get_by_role("heading", name="交办跟踪")).to_have_count(0)
    page.screenshot(path=str(shots / "signin-6-forced.png"), full_page=True)
    wait_idle(page)
    page.get_by_role("textbox", name="新密码", exact=True).fill("bureau-admin-2026")
    page.get_by_role("textbox", name="再次输入新密码").fill("bureau-admin-2026")
    page.get_by_role("button", name="修改密码").click()

    expect(page.get_by_role("heading", name="交办跟踪")).to_be_visible()
    expect(page.get_by_text("密码已修改。")).to_be_visible()
    row = first_start_app.reg.store.get_row("users", "admin")
    assert row["must_change_password"] == "FALSE"
    assert one_time not in first_start_app.reg.store.read(["history"])["history"].to_csv()
