"""报表通报: the bulletin preview, its downloads and the quarterly assessment, per role."""

from __future__ import annotations

import datetime as dt
import io

import docx
import openpyxl
import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from lib import bulletin
from lib.i18n import MESSAGES, register_messages
from lib.ui import nav
from tests.app.conftest import Portal, chart_data, no_errors, texts, user

PAGE = "pages/reports.py"
BUREAU_ROLES = ("admin", "clerk", "supervisor", "leader")
# The row lib/ui/nav.py's PAGES table needs for this page (added here until it is there).
SPEC = nav.PageSpec(
    "reports",
    PAGE,
    "ui.nav.reports",
    ":material/summarize:",
    "ui.nav.oversight",
    nav.BUREAU,
)


@pytest.fixture(autouse=True)
def _reports_in_navigation(monkeypatch):
    if "reports" not in nav.BY_KEY:
        monkeypatch.setattr(nav, "PAGES", (*nav.PAGES, SPEC))
        monkeypatch.setitem(nav.BY_KEY, "reports", SPEC)
    if "ui.nav.reports" not in MESSAGES:
        register_messages({"ui.nav.reports": ("报表通报", "Reports")})


@pytest.fixture
def downloads(monkeypatch) -> dict[str, object]:
    """The files behind the page's download buttons, by file name (built when called)."""
    made: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        made[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return made


def expected(portal: Portal, role: str, kind: str, day: str) -> bulletin.Bulletin:
    """The bulletin the page should show (as of the app's frozen today)."""
    data = portal.reg.data(user(role))
    return bulletin.build_bulletin(data, kind, day, as_of="2026-03-20", with_charts=False)


def choose_kind(at, kind: str):
    at.button_group(key="rep.kind").set_value(kind)
    return at.run()


@pytest.mark.parametrize("role", BUREAU_ROLES)
def test_bureau_roles_see_last_months_bulletin(demo_portal: Portal, role, downloads):
    at = demo_portal.page(role, PAGE)
    no_errors(at)
    assert at.title[0].value == "报表通报"
    assert at.subheader[0].value == "关于2026年2月网民留言办理情况的通报"
    assert [m.label for m in at.metric] == [
        "案件数",
        "办结数",
        "及时受理率",
        "按期办结率",
        "群众满意率",
        "参评率",
    ]
    b = expected(demo_portal, role, "month", "2026-02-01")
    assert at.metric[0].value == str(int(b.totals["案件数"]))
    assert [t.label for t in at.tabs][:2] == ["排名表", "红黑榜"]
    labels = [d.label for d in at.get("download_button")]
    assert labels == ["下载 Word 通报", "下载 Excel 明细", "下载 Markdown"]
    assert {
        "关于2026年2月网民留言办理情况的通报.docx",
        "关于2026年2月网民留言办理情况的通报.xlsx",
        "关于2026年2月网民留言办理情况的通报.md",
    } <= set(downloads)


def test_handlers_do_not_get_the_page(demo_portal: Portal):
    at = demo_portal.app("handler")
    no_errors(at)
    assert "reports" not in [p.key for p in nav.pages_for("handler")]


def test_league_table_on_the_page_is_the_report(demo_portal: Portal):
    at = demo_portal.page("clerk", PAGE)
    no_errors(at)
    b = expected(demo_portal, "clerk", "month", "2026-02-01")
    shown = at.dataframe[0].value
    want = bulletin.display_frame(b.report, b)
    assert shown.columns.tolist() == want.columns.tolist()
    assert shown.astype(str).values.tolist() == want.astype(str).values.tolist()
    summary = " ".join(texts(at.markdown))
    assert f"共登记网民留言{int(b.totals['案件数'])}件" in summary


def test_downloads_are_the_ready_to_send_documents(demo_portal: Portal, downloads):
    at = demo_portal.page("leader", PAGE)
    no_errors(at)
    stem = "关于2026年2月网民留言办理情况的通报"
    word = docx.Document(io.BytesIO(downloads[f"{stem}.docx"]()))
    assert stem in "\n".join(p.text for p in word.paragraphs)
    assert len(word.inline_shapes) >= 1
    wb = openpyxl.load_workbook(io.BytesIO(downloads[f"{stem}.xlsx"]()))
    assert wb.sheetnames[:3] == ["说明", "总体情况", "排名表"]
    md = downloads[f"{stem}.md"]()
    assert md.decode().startswith(f"# {stem}")


def test_the_charts_are_built_when_their_tab_is_opened(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    no_errors(at)
    assert at.session_state["rep.tabs"] == "排名表"
    assert not at.get("vega_lite_chart")  # the first tab is open: no chart was built
    at.session_state["rep.tabs"] = "图表"  # what a click on the tab does
    at.run()
    no_errors(at)
    data = demo_portal.reg.data(user("supervisor"))
    b = bulletin.with_charts(data, expected(demo_portal, "supervisor", "month", "2026-02-01"))
    want = [i for i in b.charts if i.key != "trend"]
    assert len(want) >= 3
    shown = at.get("vega_lite_chart")
    assert len(shown) == len(want)
    # Each chart's data is the bulletin's for that chart (the same figures as the metrics).
    for element, item in zip(shown, want, strict=True):
        source = item.chart.data  # the chart's own (perhaps reshaped) frame of item.data
        assert isinstance(source, pd.DataFrame), item.key
        drawn = chart_data(element)[list(source.columns)].reset_index(drop=True)
        assert drawn.astype(str).values.tolist() == source.astype(str).values.tolist(), item.key


def test_another_period_and_date(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    at.date_input(key="rep.day").set_value(dt.date(2026, 3, 5)).run()
    no_errors(at)
    assert at.subheader[0].value == "关于2026年3月网民留言办理情况的通报"
    at = choose_kind(at, "week")
    no_errors(at)
    assert at.subheader[0].value == "关于2026年第11周网民留言办理情况的调度通报"


def test_quarter_shows_the_assessment_with_its_trend(demo_portal: Portal):
    at = choose_kind(demo_portal.page("leader", PAGE), "quarter")
    no_errors(at)
    assert at.subheader[0].value == "关于2025年第四季度网民留言办理情况的考核通报"
    assert [t.label for t in at.tabs][-1] == "季度考核"
    b = expected(demo_portal, "leader", "quarter", "2025-10-01")
    table = at.dataframe[-1].value
    assert table["承办单位"].tolist() == b.assessment.table["承办单位"].tolist()
    assert {"10月得分", "11月得分", "12月得分", "考核得分", "走势"} <= set(table.columns)
    assert any("考核方法" in c for c in texts(at.caption))
    assert at.get("vega_lite_chart")  # the charts and the trend
    assert not at.get("expander") or all("考核权重" not in e.label for e in at.expander)


def test_an_administrator_sets_the_quarterly_weights(demo_portal: Portal):
    at = choose_kind(demo_portal.page("admin", PAGE), "quarter")
    at.text_input(key="rep.weights.months").input("1,1,2")
    at.text_input(key="rep.weights.rates").input("及时受理率:3,按期办结率:3,群众满意率:4")
    at.button(key="rep.weights.submit").click().run()
    no_errors(at)
    settings = demo_portal.reg.settings()
    assert settings["quarter_month_weights"] == "1,1,2"
    assert settings["quarter_rate_weights"] == "及时受理率:3,按期办结率:3,群众满意率:4,参评率:0"
    at = choose_kind(at, "quarter")
    assert any("1:1:2" in c for c in texts(at.caption))


def test_bad_weights_are_refused_and_nothing_is_stored(demo_portal: Portal):
    at = choose_kind(demo_portal.page("admin", PAGE), "quarter")
    at.text_input(key="rep.weights.months").input("1,2")
    at.button(key="rep.weights.submit").click().run()
    assert any("季度考核权重" in e for e in texts(at.error))
    assert demo_portal.reg.settings()["quarter_month_weights"] == ""


def test_an_empty_register_says_there_is_nothing_to_report(portal: Portal):
    at = portal.page("clerk", PAGE)
    no_errors(at)
    assert any("未登记网民留言" in i for i in texts(at.info))
    assert len(at.get("download_button")) == 3


def test_english(demo_portal: Portal):
    at = demo_portal.app("leader", run=False)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page(PAGE)
    at.run()
    no_errors(at)
    assert at.title[0].value == "Reports and bulletins"
    assert at.subheader[0].value == "Bulletin on the handling of online messages, February 2026"
