"""End to end in Chromium: one case through its whole life, and a screenshot of every page.

The app is served as in production (no test seam: the seam fixes one account per server, and
this test needs three), over a demo register (400 invented cases as of 2026-03-20) plus the
test accounts, all with the password :data:`~tests.e2e.conftest.PASSWORD`. A password session
does not survive a new address (see :mod:`lib.ui.signin`), so every ``goto`` signs in again —
and checks on the way that the address asked for is the page that opens.

1. The clerk registers a message on 受理登记, finds it in the 待交办 queue of 交办跟踪, ticks it
   and assigns it to 广安区.
2. The 广安区 handler sees it among the unit's cases, then on its detail page accepts it (met
   the petitioner at the same time), extends it by 15 days, records the 办理见面 and replies
   (met again).
3. The clerk records the petitioner's evaluation (满意); the detail page shows 已评价, all three
   meetings and a timeline with every step.
4. Signed out, the sign-in page; then, as the administrator, every page of the navigation —
   each saved as a full-page screenshot ``pages-NN-<key>.png`` in the ``shots`` folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from lib.ui import nav
from tests.e2e.conftest import (
    PASSWORD,
    TIMEOUT,
    TODAY,
    Served,
    _register,
    _serve,
    choose,
    wait_idle,
)

pytestmark = pytest.mark.e2e
SIGNIN = "留言办理台账 · 登录"
TITLE = "协兴路口井盖缺失夜间多人摔伤"
KEYWORD = "协兴路口井盖"
CONTENT = "枣山街道协兴路口的井盖缺失半个多月，夜里已有三位老人摔伤，恳请尽快修复并排查周边井盖。"
REPLY = "经查，该井盖属区住建局管护，已于3月18日更换并加装防坠网，周边井盖已全部排查。"
CASE_ID = re.compile(r"GA\d{4}-\d{6}")
# Each page's heading, by its key in lib.ui.nav.PAGES (what the admin's screenshot must show).
HEADINGS = {
    "intake": "受理登记",
    "tracking": "交办跟踪",
    "case": "案件详情",
    "reports": "报表通报",
    "board": "督办看板",
    "satisfaction": "满意度分析",
    "admin": "系统管理",
    "audit": "审计日志",
    "account": "我的账号",
}
expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def lifecycle_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app as in production (everyone signs in) over a demo register with the accounts."""
    folder = tmp_path_factory.mktemp("e2e-lifecycle")
    reg = _register(folder, passwords=True, demo_cases=400)
    with _serve(folder, reg, {}) as served:
        yield served


# --- helpers ------------------------------------------------------------------------------


def sign_in(page: Page, username: str) -> None:
    """Fill in the sign-in form shown at the current address and submit it."""
    expect(page.get_by_role("heading", name=SIGNIN)).to_be_visible()
    wait_idle(page)
    page.get_by_role("textbox", name="用户名").fill(username)
    page.get_by_role("textbox", name="密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()


def open_as(page: Page, url: str, username: str, heading: str | re.Pattern) -> None:
    """Open ``url`` (a new session), sign in as ``username``, wait for the page's heading."""
    page.goto(url)
    sign_in(page, username)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    wait_idle(page)


def pick_action(page: Page, action: str) -> Locator:
    """Choose an action in the case page's 办理操作 radio; return its form."""
    radio = page.get_by_test_id("stRadio").filter(has_text="办理操作")
    radio.get_by_text(action, exact=True).click()
    wait_idle(page)
    form = page.get_by_test_id("stForm")
    expect(form.get_by_role("button", name=f"提交 · {action}")).to_be_visible()
    return form


def submit(page: Page, form: Locator, case_id: str, action: str) -> None:
    """Submit an action's form; the page confirms it."""
    form.get_by_role("button", name=f"提交 · {action}").click()
    expect(page.get_by_text(f"{case_id}：{action}已完成")).to_be_visible()
    wait_idle(page)


def status_badge(page: Page, status: str) -> None:
    """The case page's status badge (the first line under its heading) reads ``status``."""
    badges = page.get_by_test_id("stMarkdownContainer").filter(
        has=page.locator("span", has_text=re.compile(f"^{status}$"))
    )
    expect(badges.first).to_be_visible()


def grid_cell(page: Page, text: str | re.Pattern, grid: int = 0) -> Locator:
    """A cell of a table (``st.dataframe`` draws on a canvas; its cells are in the DOM)."""
    table = page.get_by_test_id("stDataFrame").nth(grid)
    return table.locator("[data-testid^='glide-cell-']", has_text=text).first


def full_shot(page: Page, path: Path) -> None:
    """A screenshot of the whole page, sidebar included.

    Streamlit scrolls its main area and its sidebar inside their own boxes, so a "full page"
    screenshot is only as tall as the window: make the window as tall as the taller of the
    two contents first, then put it back.
    """
    size = page.viewport_size or {"width": 1400, "height": 1000}
    tall = page.evaluate(
        """() => Math.max(document.documentElement.scrollHeight,
              ...[...document.querySelectorAll(
                  '[data-testid=stMain], [data-testid=stSidebarContent], ' +
                  '[data-testid=stAppViewContainer]')].map(e => e.scrollHeight))"""
    )
    height = int(min(max(size["height"], tall + 40), 12000))
    if height != size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(400)  # layout and the tables' canvases follow the new size
        wait_idle(page)
    page.screenshot(path=str(path), full_page=True)
    if height != size["height"]:
        page.set_viewport_size(size)


# --- the test -----------------------------------------------------------------------------


def test_a_case_from_intake_to_evaluation_and_every_page(
    page: Page, lifecycle_app: Served, shots: Path
):
    page.set_default_timeout(TIMEOUT)
    url = lifecycle_app.url
    store = lifecycle_app.reg.store

    # 1. the clerk registers the message ...
    open_as(page, url + "/intake", "clerk1", "受理登记")
    page.get_by_label("留言人 *").fill("刘建国")
    page.get_by_label("联系电话").fill("13908260417")
    choose(page, page.get_by_label("所属区县"), "广安区")
    page.get_by_label("标题 *").fill(TITLE)
    page.get_by_label("标题 *").blur()
    page.wait_for_timeout(300)
    wait_idle(page)
    page.get_by_label("内容 *").fill(CONTENT)
    page.get_by_label("内容 *").blur()
    wait_idle(page)
    page.get_by_role("button", name="保存登记").click()
    saved = page.get_by_text(re.compile(r"已登记，案件编号 GA\d{4}-\d{6}"))
    expect(saved).to_be_visible()
    case_id = CASE_ID.search(saved.inner_text()).group(0)
    assert store.get_row("cases", case_id)["status"] == "待交办"
    wait_idle(page)
    full_shot(page, shots / "lifecycle-1-registered.png")

    # ... finds it in the 待交办 queue (the address keeps the filter through the sign-in) ...
    open_as(page, url + f"/tracking?q={KEYWORD}", "clerk1", "交办跟踪")
    expect(page.get_by_role("tab", name="待交办（1）")).to_be_visible()
    expect(grid_cell(page, case_id)).to_be_attached()
    expect(grid_cell(page, TITLE)).to_be_attached()
    table = page.get_by_test_id("stDataFrame").first
    box = table.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's tick box
    expect(page.get_by_text("已选 1 件")).to_be_visible()
    wait_idle(page)
    # ... and assigns it to 广安区
    form = page.get_by_test_id("stForm")
    choose(page, form.get_by_label("承办单位"), "广安区")
    form.get_by_label("包案领导").fill("区委副书记 周明")
    form.get_by_label("包案领导").blur()
    form.get_by_role("button", name="交办所选案件").click()
    expect(page.get_by_text("已交办 1 件至 广安区")).to_be_visible()
    expect(page.get_by_role("tab", name="待交办（0）")).to_be_visible()
    row = store.get_row("cases", case_id)
    assert (row["status"], row["unit"], row["lead_official"]) == (
        "已交办",
        "广安区",
        "区委副书记 周明",
    )
    wait_idle(page)
    full_shot(page, shots / "lifecycle-2-assigned.png")

    # 2. the 广安区 handler finds it among the unit's cases ...
    open_as(page, url + f"/tracking?q={KEYWORD}", "ga_handler", "交办跟踪")
    expect(page.get_by_test_id("stSidebar").get_by_text("赵承办（承办人）")).to_be_visible()
    expect(page.get_by_text("共 1 件", exact=True)).to_be_visible()
    expect(page.get_by_role("tab", name=re.compile("待交办"))).to_have_count(0)  # clerks' work
    expect(grid_cell(page, case_id)).to_be_attached()

    # ... and on its detail page accepts it, meeting the petitioner ...
    detail = url + f"/case_detail?case={case_id}"
    open_as(page, detail, "ga_handler", re.compile(re.escape(case_id)))
    status_badge(page, "已交办")
    expect(page.get_by_text("受理时限").first).to_be_visible()
    form = pick_action(page, "受理")
    form.get_by_text("同时与群众见面").click()
    submit(page, form, case_id, "受理")
    status_badge(page, "办理中")

    # ... extends it once by 15 days ...
    form = pick_action(page, "延期")
    expect(form.get_by_label("延期天数")).to_have_value("15")
    form.get_by_label("延期理由").fill("涉及管网产权移交，需协调区住建局与燃气公司共同处置。")
    form.get_by_label("延期理由").blur()
    submit(page, form, case_id, "延期")
    expect(page.get_by_text("办理时限 (+15)")).to_be_visible()
    expect(page.get_by_role("radio", name="延期")).to_have_count(0)  # once only

    # ... records the meeting while handling ...
    form = pick_action(page, "三见面")
    choose(page, form.get_by_label("见面环节"), "办理见面")
    submit(page, form, case_id, "三见面")

    # ... and replies, meeting the petitioner again
    form = pick_action(page, "答复办结")
    form.get_by_label("答复内容").fill(REPLY)
    form.get_by_label("答复内容").blur()
    form.get_by_text("同时与群众见面").click()
    submit(page, form, case_id, "答复办结")
    status_badge(page, "已办结")
    expect(page.get_by_text("您对此案件当前没有可执行的操作。")).to_be_visible()  # not evaluate
    row = store.get_row("cases", case_id)
    assert (row["status"], row["extension_days"], row["concluded_at"]) == ("已办结", "15", TODAY)
    assert (row["meet_accept"], row["meet_handle"], row["meet_reply"]) == (TODAY, TODAY, TODAY)
    full_shot(page, shots / "lifecycle-3-replied.png")

    # 3. the clerk records the petitioner's evaluation
    open_as(page, detail, "clerk1", re.compile(re.escape(case_id)))
    status_badge(page, "已办结")
    form = pick_action(page, "回访评价")
    choose(page, form.get_by_label("满意度"), "满意")
    submit(page, form, case_id, "回访评价")

    # the detail page: 已评价, the three meetings, and a timeline with every step
    status_badge(page, "已评价")
    expect(page.get_by_text(f"已见面 {TODAY}")).to_have_count(3)
    expect(page.get_by_text("未见面")).to_have_count(0)
    expect(page.get_by_text(REPLY, exact=True)).to_be_visible()  # not the timeline cell
    expect(page.get_by_role("heading", name="办理记录")).to_be_visible()
    timeline = page.get_by_test_id("stDataFrame").last
    for step in ("登记", "交办", "受理", "延期", "三见面", "答复办结", "回访评价"):
        cell = timeline.locator("[data-testid^='glide-cell-']", has_text=f"办理 · {step}")
        expect(cell.first).to_be_attached()
    for who in ("李受理", "赵承办"):
        expect(
            timeline.locator("[data-testid^='glide-cell-']", has_text=who).first
        ).to_be_attached()
    row = store.get_row("cases", case_id)
    assert (row["status"], row["evaluation"], row["evaluated_at"]) == ("已评价", "满意", TODAY)
    actions = [h["action"] for h in store.rows_where("history", "case_id", case_id)]
    for action in ("intake", "assign", "accept", "extend", "meet", "reply", "evaluate"):
        assert action in actions, actions
    full_shot(page, shots / "lifecycle-4-evaluated.png")

    # 4. signed out: the sign-in page
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name=SIGNIN)).to_be_visible()
    expect(page.get_by_text("您已退出登录。")).to_be_visible()
    wait_idle(page)
    full_shot(page, shots / "pages-00-signin.png")

    # every page of the administrator's navigation, through the sidebar (one session)
    sign_in(page, "admin1")
    expect(page.get_by_role("heading", name=HEADINGS["case"])).to_be_visible()
    wait_idle(page)
    specs = nav.pages_for("admin")
    assert [p.key for p in specs] == list(HEADINGS)
    sidebar = page.get_by_test_id("stSidebarNav")
    for number, spec in enumerate(specs, 1):
        sidebar.get_by_role("link", name=HEADINGS[spec.key], exact=True).click()
        expect(page.get_by_role("heading", name=HEADINGS[spec.key]).first).to_be_visible()
        wait_idle(page)
        if spec.key == "case":  # open our case on it
            box = page.get_by_role("textbox", name="案件编号")
            box.fill(case_id)
            box.press("Enter")
            expect(page.get_by_role("heading", name=re.compile(re.escape(case_id)))).to_be_visible()
            wait_idle(page)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        full_shot(page, shots / f"pages-{number:02d}-{spec.key}.png")
