"""The satisfaction charts (lib/charts.py): their data equal the SPEC §5 figures, the charts
carry Chinese (or English) titles and tooltips, and render to PNG without a browser."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from lib import charts, metrics
from lib.auth import LOCAL_ADMIN
from lib.demo import seed_demo
from lib.register import open_register

TODAY = dt.date(2026, 11, 5)
RANGE = {"date_from": "2026-07-01", "date_to": "2026-09-30", "as_of": "2026-11-05"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('charts') / 'register.db'}"
    reg = open_register(url, clock=lambda: dt.datetime(2026, 11, 5, 10, 0))
    seed_demo(reg, LOCAL_ADMIN, cases=600, seed=5, today=TODAY)
    yield reg.data(LOCAL_ADMIN)
    reg.store.close()


@pytest.fixture(scope="module")
def league(data):
    return metrics.league_table(
        data.cases, data.instructions, data.supervisions, data.rules, **RANGE
    )


def spec(chart) -> dict:
    return json.loads(chart.to_json())


def all_text(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


# --- data ------------------------------------------------------------------------------------


def test_cohort_is_the_league_tables(data, league):
    sub = charts.cohort(data.cases, **RANGE)
    assert len(sub) == league["案件数"].sum()
    early = charts.cohort(
        data.cases, date_from="2026-07-01", date_to="2026-09-30", as_of="2026-07-10"
    )
    assert pd.to_datetime(early["received_at"]).max() <= pd.Timestamp("2026-07-10")


def test_rates_data_are_the_metrics_rates_by_period(data):
    frame = charts.rates_data(data.cases, data.rules, **RANGE)
    expected = metrics.rates_by_period(data.cases, data.rules, **RANGE)
    assert list(frame.columns) == [
        "期间",
        "案件数",
        "及时受理率",
        "按期办结率",
        "群众满意率",
        "参评率",
    ]
    assert frame["期间"].tolist() == ["2026-07", "2026-08", "2026-09"]
    pd.testing.assert_frame_equal(frame, expected[list(frame.columns)])
    weekly = charts.rates_data(data.cases, data.rules, freq="W", **RANGE)
    assert weekly["期间"].iloc[0] == "2026-W27" and weekly["案件数"].sum() == frame["案件数"].sum()


def test_unit_evaluations_equal_the_league_table(data, league):
    frame = charts.unit_evaluation_data(
        data.cases, data.instructions, data.supervisions, data.rules, **RANGE
    )
    assert list(frame.columns) == ["承办单位", "满意", "基本满意", "不满意", "参评数", "群众满意率"]
    by_unit = league.set_index("承办单位")
    assert len(frame) > 5
    for _, row in frame.iterrows():
        for c in ("满意", "基本满意", "不满意", "参评数", "群众满意率"):
            assert row[c] == by_unit.loc[row["承办单位"], c], c
    assert frame["群众满意率"].is_monotonic_decreasing
    assert "未交办" not in set(frame["承办单位"])


@pytest.mark.parametrize(("by", "column"), [("domain", "领域"), ("type", "类型")])
def test_evaluations_by_field_add_up_to_the_totals(data, league, by, column):
    frame = charts.field_evaluation_data(data.cases, data.rules, by, **RANGE)
    assert frame.columns[0] == column
    assert frame["参评数"].sum() == league["参评数"].sum()
    assert frame["满意"].sum() + frame["基本满意"].sum() == league["满意数"].sum()
    assert frame["不满意"].sum() == league["不满意"].sum()
    # one value checked case by case
    sub = charts.cohort(data.cases, **RANGE)
    m = metrics.case_measures(sub, data.rules, RANGE["as_of"])
    first = frame.iloc[0]
    mask = (sub[by] == first[column]) & m["evaluated"]
    assert first["参评数"] == int(mask.sum())
    assert first["不满意"] == int((mask & m["unsatisfied"]).sum())
    order = charts._enum_order(by)
    assert [order.index(v) for v in frame[column]] == sorted(order.index(v) for v in frame[column])
    with pytest.raises(ValueError):
        charts.field_evaluation_data(data.cases, data.rules, "region", **RANGE)


def test_volume_is_a_full_grid_of_region_and_domain(data, league):
    frame = charts.volume_data(data.cases, **RANGE)
    assert list(frame.columns) == ["所属区县", "领域", "案件数"]
    regions, domains = frame["所属区县"].unique(), frame["领域"].unique()
    assert len(frame) == len(regions) * len(domains)
    assert frame["案件数"].sum() == league["案件数"].sum()
    totals = frame.groupby("所属区县", sort=False)["案件数"].sum()
    assert totals.is_monotonic_decreasing  # busiest county first
    sub = charts.cohort(data.cases, **RANGE)
    r, d = frame.iloc[0]["所属区县"], frame.iloc[0]["领域"]
    assert frame.iloc[0]["案件数"] == int(((sub["region"] == r) & (sub["domain"] == d)).sum())


def test_an_empty_range_gives_empty_frames_and_placeholder_charts(data):
    empty = {"date_from": "2019-01-01", "date_to": "2019-01-31", "as_of": "2026-11-05"}
    frames = {
        "units": charts.unit_evaluation_data(
            data.cases, data.instructions, data.supervisions, data.rules, **empty
        ),
        "domain": charts.field_evaluation_data(data.cases, data.rules, "domain", **empty),
        "volume": charts.volume_data(data.cases, **empty),
    }
    assert all(f.empty for f in frames.values())
    rates = charts.rates_data(data.cases, data.rules, **empty)
    assert rates["案件数"].tolist() == [0] and rates["及时受理率"].isna().all()
    for chart in (
        charts.rates_chart(rates),
        charts.unit_evaluation_chart(frames["units"]),
        charts.field_evaluation_chart(frames["domain"]),
        charts.volume_chart(frames["volume"]),
        charts.score_trend_chart(pd.DataFrame(columns=["承办单位", "期间", "得分"])),
    ):
        assert "（无数据）" in all_text(spec(chart))


# --- charts ----------------------------------------------------------------------------------


def test_rates_chart_has_chinese_titles_and_percent_tooltips(data):
    chart = charts.rates_chart(charts.rates_data(data.cases, data.rules, **RANGE))
    s = spec(chart)
    text = all_text(s)
    assert "三率及参评率趋势" in text
    assert s["mark"]["type"] == "line"
    assert s["encoding"]["y"]["axis"]["format"] == ".0%"
    assert {t["title"] for t in s["encoding"]["tooltip"]} == {"期间", "指标", "比率"}
    assert any(t.get("format") == ".1%" for t in s["encoding"]["tooltip"])
    values = next(iter(s["datasets"].values()))
    assert {v["指标"] for v in values} == {"及时受理率", "按期办结率", "群众满意率", "参评率"}


def test_stacked_bars_keep_the_evaluation_order_and_colours(data):
    frame = charts.unit_evaluation_data(
        data.cases, data.instructions, data.supervisions, data.rules, **RANGE
    )
    s = spec(charts.unit_evaluation_chart(frame))
    assert "各单位群众评价" in all_text(s)
    color = s["encoding"]["color"]
    assert color["scale"]["domain"] == ["满意", "基本满意", "不满意"]
    assert color["scale"]["range"] == list(charts.EVALUATION_COLORS)
    assert s["encoding"]["y"]["sort"] == frame["承办单位"].tolist()
    en = spec(charts.unit_evaluation_chart(frame, "en"))
    assert en["encoding"]["color"]["scale"]["domain"] == [
        "Satisfied",
        "Basically satisfied",
        "Unsatisfied",
    ]
    assert "Evaluations by handling unit" in all_text(en)


def test_field_and_volume_charts_name_their_fields(data):
    domain = charts.field_evaluation_data(data.cases, data.rules, "domain", **RANGE)
    assert "按领域群众评价" in all_text(spec(charts.field_evaluation_chart(domain)))
    assert "Evaluations by Domain" in all_text(spec(charts.field_evaluation_chart(domain, "en")))
    volume = spec(charts.volume_chart(charts.volume_data(data.cases, **RANGE)))
    assert "留言量：所属区县 × 领域" in all_text(volume)
    assert [layer["mark"]["type"] for layer in volume["layer"]] == ["rect", "text"]


def test_score_trend_lines_and_small_multiples():
    trend = pd.DataFrame(
        {
            "承办单位": ["广安区"] * 3 + ["岳池县"] * 3,
            "期间": ["2026-07", "2026-08", "2026-09"] * 2,
            "得分": [0.8, 0.9, np.nan, 1.0, 0.95, 0.97],
        }
    )
    lines = spec(charts.score_trend_chart(trend))
    assert lines["mark"]["type"] == "line" and "各单位得分走势" in all_text(lines)
    facets = spec(charts.score_trend_chart(trend, small_multiples=True))
    assert facets["facet"]["field"] == "承办单位" and facets["columns"] == 4


# --- rendering -------------------------------------------------------------------------------


def test_chart_png_renders_without_a_browser(data):
    chart = charts.field_evaluation_chart(
        charts.field_evaluation_data(data.cases, data.rules, "type", **RANGE)
    )
    png = charts.chart_png(chart.properties(width=400), scale=2)
    assert charts.is_png(png)
    width, height = charts.png_size(png)
    assert width >= 800 and height >= 150 and len(png) > 10_000
    small = charts.chart_png(chart.properties(width=400), scale=1)
    assert charts.png_size(small)[0] < width


def test_png_helpers_reject_other_bytes():
    assert not charts.is_png(b"GIF89a....")
    with pytest.raises(ValueError):
        charts.png_size(b"not a png at all")


def test_cjk_fonts_are_found_when_installed():
    dirs = charts.cjk_font_dirs()
    if not dirs:
        pytest.skip("no CJK font installed (Debian: apt-get install -y fonts-noto-cjk)")
    assert all(isinstance(d, str) and d.startswith("/") for d in dirs)
