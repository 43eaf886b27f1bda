"""End to end in Chromium: the supervision board as a supervisor (record a supervision, the wall
display) and the satisfaction charts (a click on a bar lists its cases), with screenshots.

The app is served on its own register here: a demo register (400 invented cases as of
2026-03-20) with the test accounts, signed in as the supervisor through the sign-in test seam
(``LIUYAN_TESTING=1`` + ``LIUYAN_USER`` on a loopback-only server).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lib import metrics
from lib.register import Register
from tests.conftest import VALID_CASE
from tests.e2e.conftest import (
    ADMIN,
    TIMEOUT,
    TODAY,
    Served,
    _register,
    _serve,
    choose,
    wait_idle,
)

pytestmark = pytest.mark.e2e
SUPERVISOR = "sup1"
expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def board_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app on a demo register, signed in as the supervisor, on a free loopback port."""
    folder = tmp_path_factory.mktemp("e2e-oversight")
    reg = _register(folder, demo_cases=400, demo_seed=7)
    reg.set_setting(ADMIN, "refresh_seconds", "5")  # the board re-reads every 5 s
    with _serve(folder, reg, {"LIUYAN_TESTING": "1", "LIUYAN_USER": SUPERVISOR}) as served:
        yield served


def most_overdue(reg: Register) -> tuple[str, int]:
    """The case the board should list first as overdue, and its days overdue."""
    data = reg.load()
    m = metrics.case_measures(data.cases, data.rules, TODAY)
    over = data.cases.join(m[["overdue", "days_overdue"]])
    over = over[over["overdue"]].sort_values(
        ["days_overdue", "received_at", "case_id"], ascending=[False, True, True]
    )
    first = over.iloc[0]
    return str(first["case_id"]), int(first["days_overdue"])


def test_board_as_supervisor_records_a_supervision(page: Page, board_app: Served, shots: Path):
    page.set_default_timeout(TIMEOUT)
    page.set_viewport_size({"width": 1400, "height": 1600})
    case_id, days = most_overdue(board_app.reg)
    page.goto(board_app.url + "/board")
    expect(page.get_by_role("heading", name="督办看板")).to_be_visible()
    wait_idle(page)
    for label in ("及时受理率", "按期办结率", "群众满意率", "参评率", "逾期案件"):
        expect(page.get_by_test_id("stMetricLabel").filter(has_text=label).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"数据读取于 .*每 5 秒自动刷新"))).to_be_visible()
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.locator("[data-testid^='glide-cell-']", has_text=case_id).first).to_be_attached()
    expect(grid.locator("[data-testid^='glide-cell-']", has_text=str(days)).first).to_be_attached()
    page.screenshot(path=str(shots / "oversight-1-board.png"), full_page=True)

    # record a supervision on the most overdue case, from the board
    choose(page, page.get_by_role("combobox", name="案件编号"), re.compile(re.escape(case_id)))
    wait_idle(page)
    form = page.get_by_test_id("stForm")
    form.get_by_label("督办内容").fill("电话督办：请于一周内答复群众。")
    form.get_by_label("督办内容").blur()
    before = len(board_app.reg.store.read(["supervisions"])["supervisions"])
    form.get_by_role("button", name="提交 · 督办").click()
    expect(page.get_by_text(f"{case_id}：督办已完成")).to_be_visible()
    rows = board_app.reg.store.read(["supervisions"])["supervisions"]
    assert len(rows) == before + 1
    last = rows.iloc[-1]
    assert (last["case_id"], last["kind"], last["note"]) == (
        case_id,
        "电话督办",
        "电话督办：请于一周内答复群众。",
    )
    history = board_app.reg.store.rows_where("history", "case_id", case_id)
    assert any(h["action"] == "supervise" and h["user"] == SUPERVISOR for h in history)
    wait_idle(page)
    page.get_by_text("每日信访（纯文本，可复制）").click()
    expect(page.get_by_text(re.compile(r"【每日信访】2026年3月20日"))).to_be_visible()
    page.screenshot(path=str(shots / "oversight-2-supervised.png"), full_page=True)

    # the wall display: no sidebar, big tiles, no forms
    page.goto(board_app.url + "/board?wall=1")
    expect(page.get_by_role("heading", name="督办看板")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.get_by_role("button", name="退出大屏模式")).to_be_visible()
    expect(page.get_by_test_id("stForm")).to_have_count(0)
    value = page.get_by_test_id("stMetricValue").first
    size = value.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 40, size
    page.screenshot(path=str(shots / "oversight-3-wall.png"), full_page=True)

    # live: a case that falls overdue elsewhere shows up without a click or a reload
    tile = page.get_by_test_id("stMetric").filter(has_text="逾期案件")
    count = int(tile.get_by_test_id("stMetricValue").inner_text())
    new = board_app.reg.intake(ADMIN, {**VALID_CASE, "received_at": "2026-01-05"})
    board_app.reg.assign(
        ADMIN, new, unit="广安区", lead_official="副区长 陈明", assigned_at="2026-01-06"
    )
    expect(tile.get_by_test_id("stMetricValue")).to_have_text(str(count + 1), timeout=20_000)
    expect(page.locator("[data-testid^='glide-cell-']", has_text=new).first).to_be_attached()


def test_satisfaction_charts_and_a_click_on_a_bar(page: Page, board_app: Served, shots: Path):
    page.set_default_timeout(TIMEOUT)
    page.set_viewport_size({"width": 1400, "height": 1800})
    page.goto(board_app.url + "/satisfaction")
    expect(page.get_by_role("heading", name="满意度分析")).to_be_visible()
    wait_idle(page)
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    expect(chart.get_by_text("三率及参评率趋势")).to_be_attached()
    page.screenshot(path=str(shots / "oversight-4-satisfaction.png"), full_page=True)

    page.get_by_role("tab", name="各单位评价").click()
    wait_idle(page)
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart.get_by_text("各单位群众评价")).to_be_attached()
    bar = chart.locator("g.mark-rect path").first
    expect(bar).to_be_attached()
    bar.click()
    expect(page.get_by_text(re.compile(r"^已筛选："))).to_be_visible()
    wait_idle(page)
    page.screenshot(path=str(shots / "oversight-5-units-picked.png"), full_page=True)
