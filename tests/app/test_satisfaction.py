"""满意度分析: the charts per role, their data equal to the metrics, a click on a bar, a cell or a
point lists exactly its cases, the period choice, and the charts' CSV downloads."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pandas as pd
import pytest

from lib import charts, metrics
from lib.ui import satisfaction as sat
from tests.app.conftest import TODAY, Portal, chart_data, no_errors, texts

PAGE = "pages/satisfaction.py"
BUREAU = ("admin", "clerk", "supervisor", "leader")
DAY = dt.date.fromisoformat(TODAY)
START = dt.date(2025, 4, 1)  # 近12个月 as of 2026-03-20
TABS = ["三率趋势", "各单位评价", "按领域", "按类型", "区县×领域"]
RANGE = {"date_from": START, "date_to": DAY, "as_of": DAY}


def open_tab(at, label: str):
    at.session_state[sat.TABS_KEY] = label
    return at.run()


def chart(at) -> tuple[dict, pd.DataFrame]:
    """The page's one drawn chart: its spec and its (first) dataset."""
    el = at.get("vega_lite_chart")
    assert len(el) == 1, len(el)
    return json.loads(el[0].proto.spec), chart_data(el[0])


def cases_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "case_id" in d.value.columns)


def pick(at, key: str, points: list[dict]):
    at.session_state[f"sat.chart.{key}"] = {"selection": {charts.SELECTION: points}}
    return at.run()


@pytest.mark.parametrize("role", BUREAU)
def test_every_bureau_role_on_an_empty_register(portal: Portal, role):
    at = portal.page(role, PAGE)
    no_errors(at)
    assert at.title[0].value == "满意度分析"
    assert [t.label for t in at.tabs] == TABS
    assert [m.value for m in at.metric] == ["0", "0", "0", "0", "0", "—", "—"]
    spec, data = chart(at)
    assert spec["title"] == "三率及参评率趋势"  # a placeholder "（无数据）"
    assert list(data["text"]) == ["（无数据）"]
    assert "没有符合条件的案件。" in texts(at.info)
    for label in TABS[1:]:
        open_tab(at, label)
        no_errors(at)


def test_handlers_do_not_get_the_page(portal: Portal):
    at = portal.app("handler")
    with pytest.raises(ValueError):
        at.switch_page(PAGE)


@pytest.mark.parametrize("role", BUREAU)
def test_every_bureau_role_sees_the_charts_of_a_demo_register(demo_portal: Portal, role):
    at = demo_portal.page(role, PAGE)
    no_errors(at)
    data = demo_portal.reg.load()
    row = metrics.summary(data.cases, None, None, data.rules, **RANGE).iloc[0]
    labels = [m.label for m in at.metric]
    assert labels == ["案件数", "参评数", "满意", "基本满意", "不满意", "群众满意率", "参评率"]
    assert at.metric[0].value == str(int(row["案件数"]))
    assert at.metric[1].value == str(int(row["参评数"]))
    titles = []
    for label in TABS:
        open_tab(at, label)
        no_errors(at)
        spec, _ = chart(at)
        title = spec.get("title")
        titles.append(title if isinstance(title, str) else title.get("text"))
        assert spec["params"][0]["name"] == charts.SELECTION  # clickable
    assert titles == [
        "三率及参评率趋势",
        "各单位群众评价",
        "按领域群众评价",
        "按类型群众评价",
        "留言量：所属区县 × 领域",
    ]


def test_the_rates_chart_is_metrics_rates_by_period(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    _, long = chart(at)
    data = demo_portal.reg.load()
    want = metrics.rates_by_period(data.cases, data.rules, freq="M", **RANGE)
    assert len(want) == 12 and want[metrics.PERIOD].iloc[0] == "2025-04"
    got = long.pivot(index=metrics.PERIOD, columns="指标", values="值")
    for name in (*metrics.THREE_RATES, "参评率"):
        exp = want.set_index(metrics.PERIOD)[name].dropna()
        assert got[name].dropna().to_dict() == pytest.approx(exp.to_dict(), rel=1e-12)


def test_the_unit_chart_is_the_league_table(demo_portal: Portal):
    at = open_tab(demo_portal.page("leader", PAGE), "各单位评价")
    _, long = chart(at)
    data = demo_portal.reg.load()
    league = metrics.league_table(
        data.cases, data.instructions, data.supervisions, data.rules, **RANGE
    ).set_index(metrics.UNIT)
    counts = long.pivot_table(index=metrics.UNIT, columns="评价", values="件数", aggfunc="sum")
    for unit, row in counts.iterrows():
        for ev in charts.EVALUATIONS:
            assert int(row[ev]) == int(league.loc[unit, ev]), (unit, ev)
    evaluated = league[(league["参评数"] > 0) & (league.index != metrics.UNASSIGNED)]
    assert set(counts.index) == set(evaluated.index)


@pytest.mark.parametrize(("tab", "by"), [("按领域", "domain"), ("按类型", "type")])
def test_the_field_charts_are_the_field_evaluations(demo_portal: Portal, tab, by):
    at = open_tab(demo_portal.page("clerk", PAGE), tab)
    _, long = chart(at)
    data = demo_portal.reg.load()
    want = charts.field_evaluation_data(data.cases, data.rules, by, **RANGE)
    key = charts.FIELD_COLUMNS[by]
    got = long.pivot_table(index=key, columns="评价", values="件数", aggfunc="sum")
    for _, row in want.iterrows():
        for ev in charts.EVALUATIONS:
            assert int(got.loc[row[key], ev]) == int(row[ev])
    assert int(got.to_numpy().sum()) == int(want["参评数"].sum())


def test_the_heatmap_is_the_volume(demo_portal: Portal):
    at = open_tab(demo_portal.page("admin", PAGE), "区县×领域")
    _, grid = chart(at)
    data = demo_portal.reg.load()
    want = charts.volume_data(data.cases, **RANGE)
    pd.testing.assert_frame_equal(
        grid[list(want.columns)].reset_index(drop=True), want, check_dtype=False
    )


def test_a_click_on_a_bar_lists_its_cases(demo_portal: Portal):
    at = open_tab(demo_portal.page("supervisor", PAGE), "各单位评价")
    before = cases_table(at)
    data = demo_portal.reg.load()
    league = metrics.league_table(
        data.cases, data.instructions, data.supervisions, data.rules, **RANGE
    ).set_index(metrics.UNIT)
    assert len(before) == int(league["参评数"].sum())
    pick(at, "units", [{"承办单位": "广安区", "评价": "不满意"}])
    no_errors(at)
    shown = cases_table(at)
    assert len(shown) == int(league.loc["广安区", "不满意"]) > 0
    assert set(shown["unit"]) == {"广安区"} and set(shown["evaluation"]) == {"不满意"}
    assert "已筛选：广安区 · 不满意" in texts(at.caption)
    assert at.subheader[-1].value == f"相关案件（{len(shown)}）"
    # shift-click: two segments
    pick(
        at,
        "units",
        [{"承办单位": "广安区", "评价": "不满意"}, {"承办单位": "岳池县", "评价": "满意"}],
    )
    two = cases_table(at)
    assert len(two) == int(league.loc["广安区", "不满意"]) + int(league.loc["岳池县", "满意"])


def test_a_click_on_a_cell_of_the_heatmap(demo_portal: Portal):
    at = open_tab(demo_portal.page("supervisor", PAGE), "区县×领域")
    data = demo_portal.reg.load()
    volume = charts.volume_data(data.cases, **RANGE)
    cell = volume.sort_values("案件数", ascending=False).iloc[0]
    pick(at, "volume", [{"所属区县": cell["所属区县"], "领域": cell["领域"]}])
    no_errors(at)
    shown = cases_table(at)
    assert len(shown) == int(cell["案件数"])
    assert set(shown["region"]) == {cell["所属区县"]} and set(shown["domain"]) == {cell["领域"]}


def test_a_click_on_a_month_of_the_rates(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    data = demo_portal.reg.load()
    rates = charts.rates_data(data.cases, data.rules, **RANGE)
    month = rates.set_index(metrics.PERIOD).loc["2026-02"]
    pick(at, "rates", [{"期间": "2026-02"}])
    no_errors(at)
    shown = cases_table(at)
    assert len(shown) == int(month["案件数"])
    assert shown["received_at"].dt.strftime("%Y-%m").eq("2026-02").all()


def test_the_period_presets_and_a_custom_range(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    at.button_group(key=sat.PRESET_KEY).set_value("month").run()
    no_errors(at)
    assert "统计 2026-03-01 至 2026-03-20 登记的留言，评价截至 2026-03-20" in texts(at.caption)
    at.button_group(key=sat.PRESET_KEY).set_value("custom").run()
    at.date_input(key=sat.FROM_KEY).set_value(dt.date(2026, 3, 10))
    at.date_input(key=sat.TO_KEY).set_value(dt.date(2026, 3, 1)).run()
    assert not at.exception
    assert "起始日期不能晚于截止日期。" in texts(at.error)
    at.date_input(key=sat.TO_KEY).set_value(dt.date(2026, 3, 15)).run()
    no_errors(at)
    data = demo_portal.reg.load()
    row = metrics.summary(
        data.cases, None, None, data.rules, date_from="2026-03-10", date_to="2026-03-15", as_of=DAY
    ).iloc[0]
    assert at.metric[0].value == str(int(row["案件数"]))


def test_trend_by_quarter(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    at.button_group(key=sat.FREQ_KEY).set_value("Q").run()
    no_errors(at)
    _, long = chart(at)
    assert sorted(set(long["期间"])) == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]


def test_each_chart_downloads_its_data(demo_portal: Portal, downloads):
    at = open_tab(demo_portal.page("supervisor", PAGE), "各单位评价")
    no_errors(at)
    name = next(n for n in downloads if n.startswith("units-"))
    frame = pd.read_csv(io.BytesIO(downloads[name]()), encoding="utf-8-sig")
    data = demo_portal.reg.load()
    want = charts.unit_evaluation_data(
        data.cases, data.instructions, data.supervisions, data.rules, **RANGE
    )
    assert list(frame.columns) == list(want.columns)
    assert frame["满意"].tolist() == want["满意"].tolist()
    assert frame["群众满意率"].tolist() == pytest.approx(want["群众满意率"].tolist(), rel=1e-12)
    # and the listed cases export as the user may see them
    assert any(n.startswith("cases-units-") and n.endswith(".xlsx") for n in downloads)


def test_the_page_in_english(demo_portal: Portal):
    at = demo_portal.app("leader")
    at.session_state["lang"] = "en"
    at.switch_page(PAGE).run()
    no_errors(at)
    assert at.title[0].value == "Satisfaction analysis"
    open_tab(at, "By unit")
    no_errors(at)
    spec, _ = chart(at)
    assert spec["title"] == "Evaluations by handling unit"
    pick(at, "units", [{"承办单位": "广安区", "评价": "Unsatisfied"}])
    no_errors(at)
    assert set(cases_table(at)["evaluation"]) == {"不满意"}


def test_picked_cases_with_no_selection_is_the_population():
    frame = pd.DataFrame(
        {
            "case_id": ["a", "b"],
            "received_at": pd.to_datetime(["2026-01-02", "2026-02-03"]),
            "unit_asof": ["甲", "乙"],
            "evaluation_asof": ["满意", ""],
        }
    )
    view = sat.ChartView("units", pd.DataFrame(), None, "evaluated", {"承办单位": "unit_asof"})
    assert list(sat.picked_cases(frame, view, [], "zh", "M")["case_id"]) == ["a"]
    assert sat.period_label(frame["received_at"], "Q").tolist() == ["2026-Q1", "2026-Q1"]
    for freq in ("W", "M", "Q"):
        want = [metrics.period_labels(d, d, freq)[0] for d in frame["received_at"]]
        assert sat.period_label(frame["received_at"], freq).tolist() == want


def test_a_long_list_shows_its_latest_cases_and_exports_them_all(
    demo_portal: Portal, downloads, monkeypatch
):
    monkeypatch.setattr(sat, "MAX_SHOWN", 25)
    at = open_tab(demo_portal.page("supervisor", PAGE), "各单位评价")
    no_errors(at)
    data = demo_portal.reg.load()
    frame = sat.cohort_frame(data, START, DAY, DAY)
    evaluated = frame[frame["evaluation_asof"] != ""]
    total = len(evaluated)
    shown = cases_table(at)
    assert total > 25 and len(shown) == 25
    assert at.subheader[-1].value == f"相关案件（{total}）"
    assert (
        f"共 {total} 件，表中显示最新登记的 25 件；导出的 Excel / CSV 包含全部 {total} 件。"
        in texts(at.caption)
    )
    latest = evaluated.sort_values(["received_at", "case_id"], ascending=False).head(25)
    assert shown["case_id"].tolist() == latest["case_id"].tolist()
    name = next(n for n in downloads if n.startswith("cases-units-") and n.endswith(".csv"))
    exported = pd.read_csv(io.BytesIO(downloads[name]()), encoding="utf-8-sig", dtype=str)
    assert len(exported) == total
    # a short list: every row, no such caption
    pick(at, "units", [{"承办单位": "广安区", "评价": "不满意"}])
    assert len(cases_table(at)) < 25
    assert not [c for c in texts(at.caption) if "表中显示最新登记的" in c]


def test_first_rows_are_the_head_of_the_whole_order():
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "case_id": [f"GA2026-{i:05d}" for i in rng.permutation(n)],
            "received_at": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
        }
    )
    frame.loc[rng.choice(n, 20, replace=False), "received_at"] = pd.NaT
    frame.loc[[5, 6, 7], "case_id"] = frame.loc[8, "case_id"]  # duplicate ids (a data error)
    frame.loc[[5, 6, 7], "received_at"] = frame.loc[8, "received_at"]
    frame = frame.set_index(pd.Index(rng.permutation(n) * 3))
    whole = frame.sort_values(["received_at", "case_id"], ascending=False)
    for k in (1, 10, 100, 379, 380, 381, 400, 1000):
        assert sat.first_rows(frame, k).index.tolist() == whole.head(k).index.tolist(), k
