"""End to end in Chromium: register a case, find it with the filters, open it by its address."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import TIMEOUT, Served, choose, wait_idle

pytestmark = pytest.mark.e2e
expect.set_options(timeout=TIMEOUT)


def test_register_find_and_open_a_case(page: Page, served_app: Served, shots: Path):
    page.set_default_timeout(TIMEOUT)
    # 1. the clerk registers a message
    page.goto(served_app.url + "/intake")  # the server's first request: a page address
    expect(page.get_by_role("heading", name="受理登记")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_role("dialog")).to_have_count(0)  # no "Page not found"
    expect(page.get_by_role("link", name="受理登记")).to_be_visible()  # navigation by role
    page.get_by_label("留言人 *").fill("陈晓红")
    page.get_by_label("联系电话").fill("13512345678")
    choose(page, "所属区县", "岳池县")
    page.get_by_label("标题 *").fill("九龙街道菜市场周边占道经营严重")
    page.get_by_label("标题 *").blur()
    page.wait_for_timeout(300)
    wait_idle(page)
    page.get_by_label("内容 *").fill(
        "九龙街道农贸市场周边每天早上占道经营，车辆无法通行，希望相关部门整治。"
    )
    page.get_by_label("内容 *").blur()
    wait_idle(page)
    expect(page.get_by_text("暂未发现相似的既往案件。")).to_be_visible()
    page.screenshot(path=str(shots / "1-intake.png"), full_page=True)
    page.get_by_role("button", name="保存登记").click()
    saved = page.get_by_text(re.compile(r"已登记，案件编号 GA2026-\d{6}"))
    expect(saved).to_be_visible()
    case_id = re.search(r"GA2026-\d{6}", saved.inner_text()).group(0)
    row = served_app.reg.store.get_row("cases", case_id)
    assert row["title"] == "九龙街道菜市场周边占道经营严重" and row["region"] == "岳池县"

    # 2. it is found with the filters, and the filters go into the address
    page.goto(served_app.url + "/tracking?region=岳池县")
    expect(page.get_by_role("tab", name="待交办（1）")).to_be_visible()
    box = page.get_by_label("关键词（标题和内容）")
    box.fill("占道经营")
    box.press("Enter")
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"q=%E5%8D%A0%E9%81%93"))
    query = parse_qs(urlparse(page.url).query)
    assert query["q"] == ["占道经营"] and query["region"] == ["岳池县"]
    cell = page.locator("[data-testid^='glide-cell-']", has_text=case_id)
    expect(cell.first).to_be_attached()  # the grid draws on a canvas; cells are in the DOM
    page.screenshot(path=str(shots / "2-tracking.png"), full_page=True)

    # a shared link opens the same view
    shared = page.url
    page.goto(shared)
    expect(page.get_by_label("关键词（标题和内容）")).to_have_value("占道经营")
    expect(page.locator("[data-testid^='glide-cell-']", has_text=case_id).first).to_be_attached()

    # 3. its detail page, by its address
    page.goto(served_app.url + f"/case_detail?case={case_id}")
    expect(page.get_by_role("heading", name=re.compile(case_id))).to_be_visible()
    expect(page.get_by_text("九龙街道菜市场周边占道经营严重").first).to_be_visible()
    expect(page.get_by_text("办理记录")).to_be_visible()
    expect(page.get_by_role("button", name="提交 · 交办")).to_be_visible()
    wait_idle(page)
    page.screenshot(path=str(shots / "3-case.png"), full_page=True)

    # and from the root address too
    page.goto(served_app.url + f"/?case={case_id}")
    expect(page.get_by_role("heading", name=re.compile(case_id))).to_be_visible()
    assert urlparse(page.url).path.endswith("/case_detail")


def test_tick_a_row_in_the_queue_and_assign_it(page: Page, served_app: Served, shots: Path):
    page.set_default_timeout(TIMEOUT)
    page.goto(served_app.url + "/tracking?q=电梯")
    expect(page.get_by_role("tab", name="待交办（1）")).to_be_visible()
    table = page.get_by_test_id("stDataFrame").first
    expect(
        table.locator("[data-testid^='glide-cell-']", has_text="GA2026-000001").first
    ).to_be_attached()
    wait_idle(page)
    box = table.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's tick box
    expect(page.get_by_text("已选 1 件")).to_be_visible()
    wait_idle(page)
    form = page.get_by_test_id("stForm")
    choose(page, form.get_by_label("承办单位"), "广安区")
    form.get_by_label("包案领导").fill("区委副书记 周明")
    form.get_by_role("button", name="交办所选案件").click()
    expect(page.get_by_text("已交办 1 件至 广安区")).to_be_visible()
    row = served_app.reg.store.get_row("cases", "GA2026-000001")
    assert (row["status"], row["unit"], row["lead_official"]) == (
        "已交办",
        "广安区",
        "区委副书记 周明",
    )
    wait_idle(page)
    page.screenshot(path=str(shots / "4-assigned.png"), full_page=True)
