"""Bulletins (周调度、月通报、季考核): the documents equal the CLI ``report``, open cleanly, and
carry no personal data. Built on a small demo register (800 invented cases, frozen clock)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import numpy as np
import openpyxl
import pandas as pd
import pytest

from lib import bulletin, charts, metrics
from lib.auth import LOCAL_ADMIN, User
from lib.bulletin import Period, QuarterWeights
from lib.cli import main
from lib.demo import seed_demo
from lib.i18n import DomainError
from lib.register import open_register
from lib.reports import format_rate

TODAY = dt.date(2026, 11, 5)
AS_OF = dt.date(2026, 11, 5)
QUARTER_DAY = dt.date(2026, 8, 15)  # 2026-Q3
MONTH_DAY = dt.date(2026, 9, 10)  # 2026-09


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reg_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("bulletin") / "register.db"
    url = f"sqlite:///{path}"
    reg = open_register(url, clock=lambda: dt.datetime(2026, 11, 5, 10, 0))
    seed_demo(reg, LOCAL_ADMIN, cases=800, seed=11, today=TODAY)
    reg.store.close()
    return url


@pytest.fixture(scope="module")
def reg(reg_url: str):
    r = open_register(reg_url, clock=lambda: dt.datetime(2026, 11, 5, 10, 0))
    yield r
    r.store.close()


@pytest.fixture(scope="module")
def data(reg):
    return reg.data(LOCAL_ADMIN)


@pytest.fixture(scope="module")
def quarter(data) -> bulletin.Bulletin:
    return bulletin.build_bulletin(data, "quarter", QUARTER_DAY, as_of=AS_OF, issued=TODAY)


@pytest.fixture(scope="module")
def month(data) -> bulletin.Bulletin:
    return bulletin.build_bulletin(
        data, "month", MONTH_DAY, as_of=AS_OF, issued=TODAY, with_charts=False
    )


@pytest.fixture(scope="module")
def quarter_docx(quarter) -> bytes:
    """The quarterly bulletin as Word, charts included (rendered once: a few seconds)."""
    return bulletin.to_docx(quarter)


@pytest.fixture(scope="module")
def quarter_xlsx(quarter) -> bytes:
    return bulletin.to_xlsx(quarter)


def cli(*args: str) -> tuple[int, bytes, str]:
    """Run ``python -m lib ARGS`` in this process: exit code, stdout bytes, stderr."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    out.flush()
    return code, out.buffer.getvalue(), err.getvalue()


def cli_report(url: str, period: Period, as_of: dt.date) -> pd.DataFrame:
    """What ``python -m lib report`` prints for the period, as a frame."""
    code, out, err = cli(
        "report",
        "--register",
        url,
        "--from",
        period.start.isoformat(),
        "--to",
        period.end.isoformat(),
        "--as-of",
        as_of.isoformat(),
    )
    assert code == 0, err
    return pd.read_csv(io.BytesIO(out), encoding="utf-8-sig", dtype={"承办单位": str})


def doc_text(document: docx.document.Document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def table_rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def expected_cells(frame: pd.DataFrame) -> list[list[str]]:
    """A report frame's rows as the documents print them."""
    rows = []
    for _, r in frame.iterrows():
        cells = []
        for c in frame.columns:
            v = r[c]
            if c in metrics.RATE_COLUMNS:
                cells.append(format_rate(v))
            elif v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                cells.append("—")
            else:
                cells.append(str(int(v)) if isinstance(v, (int, float, np.integer)) else str(v))
        rows.append(cells)
    return rows


# --- periods ---------------------------------------------------------------------------------


def test_periods_are_calendar_weeks_months_and_quarters():
    week = Period.containing("week", "2026-01-01")  # a Thursday; ISO week 1 of 2026
    assert (week.start, week.end) == (dt.date(2025, 12, 29), dt.date(2026, 1, 4))
    assert week.code == "2026-W01" and week.label() == "2026年第1周"
    assert Period.containing("month", "2024-02-10").end == dt.date(2024, 2, 29)
    q = Period.containing("quarter", "2026-08-15")
    assert (q.start, q.end, q.code) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30), "2026-Q3")
    assert q.label() == "2026年第三季度"
    assert [m.code for m in q.months()] == ["2026-07", "2026-08", "2026-09"]
    assert q.previous().code == "2026-Q2"
    assert Period.containing("month", "2026-03-05").previous().code == "2026-02"
    assert week.previous().code == "2025-W52"
    assert q.range_text() == "2026年7月1日至9月30日"
    assert week.range_text() == "2025年12月29日至2026年1月4日"


def test_previous_as_of_moves_back_one_period_and_clamps_month_ends():
    month = Period.containing("month", "2026-03-31")
    assert month.shift_back(dt.date(2026, 3, 31)) == dt.date(2026, 2, 28)
    assert month.shift_back(dt.date(2026, 4, 3)) == dt.date(2026, 3, 3)
    assert Period.containing("quarter", "2026-12-31").shift_back(dt.date(2026, 12, 31)) == (
        dt.date(2026, 9, 30)
    )
    assert Period.containing("week", "2026-03-04").shift_back(dt.date(2026, 3, 9)) == (
        dt.date(2026, 3, 2)
    )


def test_an_unknown_period_is_refused_in_words():
    with pytest.raises(DomainError) as e:
        Period.containing("year", "2026-01-01")
    assert "week" in e.value.message("en")


def test_long_titles_break_after_the_period():
    title = "关于2026年第三季度网民留言办理情况的考核通报"
    assert bulletin.title_lines(title, "2026年第三季度") == [
        "关于2026年第三季度",
        "网民留言办理情况的考核通报",
    ]
    short = "关于2026年10月网民留言办理情况的通报"
    assert bulletin.title_lines(short, "2026年10月") == [short]


# --- every figure equals the CLI report ------------------------------------------------------


@pytest.mark.parametrize("kind", ["week", "month", "quarter"])
def test_league_table_equals_cli_report(reg_url, data, kind):
    day = {"week": dt.date(2026, 9, 16), "month": MONTH_DAY, "quarter": QUARTER_DAY}[kind]
    b = bulletin.build_bulletin(data, kind, day, as_of=AS_OF, with_charts=False)
    report = cli_report(reg_url, b.period, AS_OF)
    ours = b.report.reset_index(drop=True)
    assert list(ours.columns) == list(report.columns) == list(metrics.REPORT_COLUMNS)
    assert len(ours) == len(report) > 0
    assert ours["承办单位"].tolist() == report["承办单位"].tolist()
    for c in metrics.REPORT_COLUMNS[1:]:
        mine = ours[c].astype("float64").to_numpy()
        theirs = report[c].astype("float64").to_numpy()
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12, equal_nan=True, err_msg=c)


def test_summary_figures_are_the_sums_of_the_report(reg_url, month):
    report = cli_report(reg_url, month.period, AS_OF)
    tot = month.totals
    for c in ("案件数", "及时受理数", "受理超期数", "按期办结数", "办结超期数", "参评数", "满意数"):
        assert tot[c] == report[c].sum(), c
    assert tot["及时受理率"] == pytest.approx(
        report["及时受理数"].sum() / (report["及时受理数"].sum() + report["受理超期数"].sum())
    )
    assert tot["群众满意率"] == pytest.approx(report["满意数"].sum() / report["参评数"].sum())
    assert tot["未交办数"] == int(report.loc[report["承办单位"] == "未交办", "案件数"].sum())


def test_previous_period_figures_equal_the_report_at_the_shifted_date(reg_url, month):
    assert month.previous.code == "2026-08"
    assert month.previous_as_of == dt.date(2026, 10, 5)
    report = cli_report(reg_url, month.previous, month.previous_as_of)
    prev = month.previous_totals
    assert prev["案件数"] == report["案件数"].sum()
    assert prev["按期办结率"] == pytest.approx(
        report["按期办结数"].sum() / (report["按期办结数"].sum() + report["办结超期数"].sum())
    )


def test_case_list_adds_up_to_every_count_of_the_league_table(month):
    cases, league = month.cases, month.league.set_index("承办单位")
    assert len(cases) == month.totals["案件数"]
    sums = cases.groupby("承办单位")[list(bulletin.CASE_COUNT_COLUMNS)].sum()
    for unit, row in sums.iterrows():
        for c in bulletin.CASE_COUNT_COLUMNS:
            assert row[c] == league.loc[unit, c], (unit, c)
    repeats = cases.loc[cases["重复件计入单位"] != "", "重复件计入单位"].value_counts()
    for unit, n in league["重复件数"].items():
        assert repeats.get(unit, 0) == n, unit


def test_overdue_units_and_cases_come_from_the_same_cohort(quarter):
    units = quarter.overdue_units.set_index("承办单位")
    league = quarter.league.set_index("承办单位")
    assert len(units) > 0, "the demo quarter should have overdue cases"
    for unit, row in units.iterrows():
        assert row["逾期总数"] == league.loc[unit, "逾期总数"] > 0
    listed = quarter.overdue_cases
    assert len(listed) == quarter.totals["逾期总数"]
    assert (listed["逾期天数"] > 0).all()
    assert listed["逾期天数"].is_monotonic_decreasing
    longest = listed.groupby("承办单位")["逾期天数"].max()
    assert (units["最长逾期天数"] == longest.reindex(units.index)).all()


def test_escalations_are_the_cohorts_referrals(data, quarter):
    sup = data.supervisions
    ids = set(quarter.cases["案件编号"])
    expected = sup[
        (sup["kind"] == "提请纪委监委问责")
        & sup["case_id"].isin(ids)
        & (pd.to_datetime(sup["date"]) <= pd.Timestamp(AS_OF))
    ]["case_id"]
    assert sorted(quarter.escalations["案件编号"]) == sorted(set(expected))
    assert list(quarter.escalations.columns) == ["案件编号", "标题", "承办单位", "提请日期"]


def test_red_and_black_lists_are_the_top_and_bottom_of_the_ranking(quarter):
    ranked = quarter.league[quarter.league["排名"].notna()]
    assert len(quarter.red) >= 1 and len(quarter.black) >= 1
    assert quarter.red["排名"].min() == 1
    assert quarter.black["排名"].iloc[0] == ranked["排名"].max()
    assert not set(quarter.red["承办单位"]) & set(quarter.black["承办单位"])


def test_honour_lists_keep_ties_together_and_skip_an_all_equal_field():
    def league(scores):
        t = pd.DataFrame({"承办单位": [f"单位{i}" for i in range(len(scores))], "综合得分": scores})
        t["排名"] = t["综合得分"].rank(method="min", ascending=False).astype("Int64")
        return t.sort_values("排名", kind="stable").reset_index(drop=True)

    red, black = bulletin._honour_lists(league([0.9, 0.8, 0.8, 0.8, 0.7, 0.6, 0.5, 0.4]))
    assert red["综合得分"].tolist() == [0.9, 0.8, 0.8, 0.8]
    assert black["综合得分"].tolist() == [0.4, 0.5, 0.6]
    red, black = bulletin._honour_lists(league([1.0, 1.0, 1.0, 1.0]))
    assert len(red) == 4 and black.empty
    red, black = bulletin._honour_lists(league([1.0]))
    assert red.empty and black.empty


# --- the Word document -----------------------------------------------------------------------


def test_docx_opens_and_carries_title_summary_and_league_table(quarter, quarter_docx):
    document = docx.Document(io.BytesIO(quarter_docx))
    text = doc_text(document)
    assert quarter.title == "关于2026年第三季度网民留言办理情况的考核通报"
    assert quarter.title in text.replace("\n", "")
    tot = quarter.totals
    assert f"共登记网民留言{int(tot['案件数'])}件" in text
    assert f"已办结{int(tot['办结数'])}件" in text
    for c in ("及时受理率", "按期办结率", "群众满意率", "参评率"):
        assert f"{c}{format_rate(tot[c])}" in text, c
    assert "与上季度相比" in text and "2026年8月5日" in text  # previous as of
    # The attachment's table is the report, row for row.
    league = next(t for t in document.tables if len(t.columns) == len(metrics.REPORT_COLUMNS))
    rows = table_rows(league)
    assert rows[0] == list(metrics.REPORT_COLUMNS)
    assert rows[1:] == expected_cells(quarter.report)
    assert quarter.issuer == "市信访局" and "市信访局" in text and "2026年11月5日" in text


def test_docx_has_a4_pages_chinese_fonts_and_a_landscape_attachment(quarter_docx):
    document = docx.Document(io.BytesIO(quarter_docx))
    first, last = document.sections[0], document.sections[-1]
    assert (round(first.page_width.cm, 1), round(first.page_height.cm, 1)) == (21.0, 29.7)
    assert (round(last.page_width.cm, 1), round(last.page_height.cm, 1)) == (29.7, 21.0)
    xml = zipfile.ZipFile(io.BytesIO(quarter_docx)).read("word/document.xml").decode()
    assert 'w:eastAsia="仿宋"' in xml and 'w:eastAsia="黑体"' in xml
    styles = zipfile.ZipFile(io.BytesIO(quarter_docx)).read("word/styles.xml").decode()
    assert 'w:eastAsia="zh-CN"' in styles
    for table in document.tables:  # every table fits its page's text width
        width = sum(c.width for c in table.rows[0].cells)
        assert width <= document.sections[-1].page_width - 2 * document.sections[-1].left_margin


def test_charts_added_later_equal_the_charts_functions(data, month):
    """A bulletin built without charts gets them later (the reports page opens its charts
    tab): the same figures as lib.charts computes on its own, outside any shared work."""
    assert month.charts == []
    charted = bulletin.with_charts(data, month)
    assert month.charts == []  # a copy: the cached bulletin is not changed
    kw = {"date_from": month.period.start, "date_to": month.period.end, "as_of": AS_OF}
    cases, rules = data.cases, data.rules
    want = {
        "rates": charts.rates_data(
            cases, rules, date_from=dt.date(2025, 10, 1), date_to=month.period.end, as_of=AS_OF
        ),
        "units": charts.unit_evaluation_data(
            cases, data.instructions, data.supervisions, rules, **kw
        ),
        "domain": charts.field_evaluation_data(cases, rules, "domain", **kw),
        "type": charts.field_evaluation_data(cases, rules, "type", **kw),
        "volume": charts.volume_data(cases, **kw),
    }
    assert [i.key for i in charted.charts] == [k for k in want if len(want[k])]
    for item in charted.charts:
        pd.testing.assert_frame_equal(item.data, want[item.key], check_dtype=False)
    full = bulletin.build_bulletin(data, "month", MONTH_DAY, as_of=AS_OF, issued=TODAY)
    assert [i.key for i in full.charts] == [i.key for i in charted.charts]
    pd.testing.assert_frame_equal(full.league, month.league)


def test_docx_embeds_the_satisfaction_charts_as_real_pngs(quarter, quarter_docx):
    document = docx.Document(io.BytesIO(quarter_docx))
    keys = [c.key for c in quarter.charts]
    assert keys[:2] == ["rates", "units"] and "volume" in keys and "trend" in keys
    images = [
        part for part in document.part.package.parts if part.partname.startswith("/word/media/")
    ]
    assert len(document.inline_shapes) == len(quarter.charts) == len(images)
    for part in images:
        blob = part.blob
        assert charts.is_png(blob)
        w, h = charts.png_size(blob)
        assert w >= 600 and h >= 200 and len(blob) > 20_000
    text = doc_text(document)
    assert "图1　三率及参评率走势" in text and "图2　各单位群众评价" in text


def test_quarterly_docx_shows_the_assessment(quarter, quarter_docx):
    document = docx.Document(io.BytesIO(quarter_docx))
    assert "季度考核情况" in doc_text(document)
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "考核排名")
    header = [c.text for c in table.rows[0].cells]
    assert header[3:6] == ["季度综合得分", "7月得分", "8月得分"]
    assert len(table.rows) == len(quarter.assessment.table) + 1


# --- the workbook ----------------------------------------------------------------------------


def test_xlsx_reopens_with_the_same_figures_and_no_formula(quarter, quarter_xlsx):
    wb = openpyxl.load_workbook(io.BytesIO(quarter_xlsx))
    assert wb.sheetnames == [
        "说明",
        "总体情况",
        "排名表",
        "案件明细",
        "逾期案件",
        "提请问责",
        "季度考核",
    ]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                assert not (isinstance(cell.value, str) and cell.value.startswith("=")), cell
    ws = wb["排名表"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header == list(metrics.LEAGUE_COLUMNS)
    for i, (_, r) in enumerate(quarter.league.iterrows(), start=2):
        for j, c in enumerate(metrics.LEAGUE_COLUMNS, start=1):
            got = ws.cell(row=i, column=j).value
            want = r[c]
            if want is pd.NA or (isinstance(want, float) and math.isnan(want)):
                assert got is None, (i, c)
            elif c == "承办单位":
                assert got == want
            else:
                assert got == pytest.approx(float(want), abs=1e-12), (i, c)
    rate_col = header.index("及时受理率") + 1
    assert ws.cell(row=2, column=rate_col).number_format == "0.0%"
    assert ws.column_dimensions["A"].width >= 12
    cases = wb["案件明细"]
    assert cases.max_row - 1 == quarter.totals["案件数"]
    assert cases.freeze_panes == "A2"
    date_col = [c.value for c in cases[1]].index("登记日期") + 1
    assert isinstance(cases.cell(row=2, column=date_col).value, dt.datetime)
    assert wb["逾期案件"].max_row - 1 == len(quarter.overdue_cases)


def test_xlsx_totals_sheet_holds_this_and_the_previous_period(quarter, quarter_xlsx):
    ws = openpyxl.load_workbook(io.BytesIO(quarter_xlsx))["总体情况"]
    rows = {r[0].value: (r[1].value, r[2].value) for r in ws.iter_rows(min_row=2)}
    assert rows["案件数"] == (quarter.totals["案件数"], quarter.previous_totals["案件数"])
    assert rows["及时受理率"][0] == pytest.approx(quarter.totals["及时受理率"])


def test_text_that_looks_like_a_formula_stays_text(tmp_register, clerk, intake_case):
    danger = '=HYPERLINK("http://x","点我")'
    intake_case(title=danger)
    intake_case(title="+1-2 电话@骚扰")
    b = bulletin.build_bulletin(
        tmp_register.data(clerk), "month", "2026-03-01", as_of="2026-03-20", with_charts=False
    )
    wb = openpyxl.load_workbook(io.BytesIO(bulletin.to_xlsx(b)))
    ws = wb["案件明细"]
    titles = {c.value: c for c in ws["B"][1:]}
    assert set(titles) == {danger, "+1-2 电话@骚扰"}
    for cell in titles.values():
        assert cell.data_type == "s" and cell.quotePrefix
    md = bulletin.to_markdown(b).decode()
    assert "共登记网民留言2件" in md


# --- empty periods, PII, roles, languages ----------------------------------------------------


def test_a_period_without_cases_gives_a_document_that_says_so(data):
    b = bulletin.build_bulletin(data, "month", "2020-01-15", as_of=AS_OF)
    assert b.is_empty and b.league.empty and not b.charts
    document = docx.Document(io.BytesIO(bulletin.to_docx(b)))
    text = doc_text(document)
    assert "关于2020年1月网民留言办理情况的通报" in text
    assert "2020年1月（2020年1月1日至1月31日）未登记网民留言" in text
    assert not document.tables and not document.inline_shapes
    wb = openpyxl.load_workbook(io.BytesIO(bulletin.to_xlsx(b)))
    assert wb["排名表"].max_row == 1
    assert "未登记网民留言" in bulletin.to_markdown(b).decode()
    future = bulletin.build_bulletin(data, "quarter", "2027-02-01", as_of=AS_OF)
    assert future.is_empty and future.assessment is None


def test_bulletins_carry_no_personal_data(data, quarter, quarter_docx, quarter_xlsx):
    cohort = data.cases[data.cases["case_id"].isin(quarter.cases["案件编号"])]
    secrets = {
        *[p for p in cohort["phone"] if len(p) >= 7],
        *[i for i in cohort["id_number"] if i],
        *[n for n in cohort["petitioner"] if len(n) >= 3 and not n.startswith("网友")],
    }
    assert len(secrets) > 50
    xml = zipfile.ZipFile(io.BytesIO(quarter_docx)).read("word/document.xml").decode()
    shared = zipfile.ZipFile(io.BytesIO(quarter_xlsx)).read("xl/sharedStrings.xml").decode()
    md = bulletin.to_markdown(quarter).decode()
    for s in secrets:
        assert s not in xml and s not in shared and s not in md, s
    assert "留言人" not in shared and "联系电话" not in shared


def test_a_handlers_bulletin_covers_their_units_only(reg):
    handler = User("handler_gaq", "承办人", "handler", frozenset({"广安区"}))
    b = bulletin.build_bulletin(
        reg.data(handler), "quarter", QUARTER_DAY, as_of=AS_OF, with_charts=False
    )
    assert set(b.league["承办单位"]) == {"广安区"}
    assert set(b.cases["承办单位"]) == {"广安区"}


def test_english_bulletin(data):
    b = bulletin.build_bulletin(data, "month", MONTH_DAY, as_of=AS_OF, lang="en", with_charts=False)
    assert b.title == "Bulletin on the handling of online messages, September 2026"
    md = bulletin.to_markdown(b).decode()
    assert "On-time acceptance" in md and "Handling unit" in md
    body = md.split("## Attachment")[0].replace(b.issuer, "")
    for unit in b.league["承办单位"]:
        body = body.replace(unit, "")
    assert not re.search(r"[一-鿿]", body)  # no Chinese left but the units' names
    document = docx.Document(io.BytesIO(bulletin.to_docx(b, images=False)))
    assert b.title in doc_text(document)


def test_render_refuses_an_unknown_format(month):
    with pytest.raises(DomainError):
        bulletin.render(month, "pdf")
    assert bulletin.default_filename(month, "docx") == "关于2026年9月网民留言办理情况的通报.docx"


# --- the quarterly assessment ----------------------------------------------------------------


def test_default_assessment_score_is_the_quarters_report_score(reg_url, data, quarter):
    a = quarter.assessment
    assert a.weights.is_default and a.months == ["2026-07", "2026-08", "2026-09"]
    report = cli_report(reg_url, quarter.period, AS_OF).set_index("承办单位")
    table = a.table.set_index("承办单位")
    for unit, row in table.iterrows():
        assert row["季度综合得分"] == pytest.approx(report.loc[unit, "综合得分"], nan_ok=True)
        assert row["考核得分"] == pytest.approx(report.loc[unit, "综合得分"], nan_ok=True)
        assert row["考核排名"] == report.loc[unit, "排名"]
    # Each month's score is that month's report.
    july = cli_report(reg_url, Period.containing("month", "2026-07-01"), AS_OF)
    july = july.set_index("承办单位")["综合得分"]
    for unit, score in table["2026-07"].items():
        if unit in july.index:
            assert score == pytest.approx(july[unit], nan_ok=True), unit
        else:
            assert math.isnan(score)
    assert set(a.trend.columns) == {"承办单位", "期间", "得分"}
    assert len(a.trend) == 3 * len(table)


def test_month_and_rate_weights_change_the_assessment(data):
    q = Period.containing("quarter", QUARTER_DAY)
    w = QuarterWeights.parse("1,1,2", "及时受理率:1,按期办结率:1,群众满意率:2")
    a = bulletin.quarter_assessment(
        data.cases,
        data.instructions,
        data.supervisions,
        data.rules,
        quarter=q,
        as_of=AS_OF,
        weights=w,
    )
    monthly = metrics.league_table(
        data.cases,
        data.instructions,
        data.supervisions,
        data.rules,
        date_from=q.start,
        date_to=q.end,
        as_of=AS_OF,
        freq="M",
    )
    row = a.table.iloc[0]
    unit = row["承办单位"]
    scores = []
    for m, mw in zip(a.months, (1, 1, 2), strict=True):
        r = monthly[(monthly["期间"] == m) & (monthly["承办单位"] == unit)]
        if r.empty:
            continue
        rates = [r.iloc[0][c] for c in metrics.THREE_RATES]
        pairs = [(x, rw) for x, rw in zip(rates, (1, 1, 2), strict=True) if not math.isnan(x)]
        if pairs:
            s = sum(x * rw for x, rw in pairs) / sum(rw for _, rw in pairs)
            assert row[m] == pytest.approx(s)
            scores.append((s, mw))
    expected = sum(s * mw for s, mw in scores) / sum(mw for _, mw in scores)
    assert row["考核得分"] == pytest.approx(expected)
    assert a.table["考核排名"].iloc[0] == 1
    assert "按各月得分加权（1:1:2）" in w.describe()


@pytest.mark.parametrize(
    ("months", "rates", "expected_months", "expected_rates"),
    [
        ("", "", None, (1.0, 1.0, 1.0, 0.0)),
        ("1，1，2", "", (1.0, 1.0, 2.0), (1.0, 1.0, 1.0, 0.0)),
        ("30%, 30%, 40%", "3,3,4", (30.0, 30.0, 40.0), (3.0, 3.0, 4.0, 0.0)),
        ("", "accept:1, satisfaction:2, evaluation:1", None, (1.0, 0.0, 2.0, 1.0)),
        ("", "及时受理率：3；按期办结率=3；群众满意率:4", None, (3.0, 3.0, 4.0, 0.0)),
    ],
)
def test_weights_are_read_leniently(months, rates, expected_months, expected_rates):
    w = QuarterWeights.parse(months, rates)
    assert w.months == expected_months and w.rates == expected_rates
    again = QuarterWeights.parse(w.month_text(), w.rate_text())
    assert again == w


@pytest.mark.parametrize(
    ("months", "rates"),
    [("1,2", ""), ("1,1,x", ""), ("0,0,0", ""), ("", "速度:1"), ("", "1,2"), ("", "0,0,0,0")],
)
def test_bad_weights_are_refused_with_a_reason(months, rates):
    with pytest.raises(DomainError) as e:
        QuarterWeights.parse(months, rates)
    assert e.value.key == "err.quarter_weights"
    assert "权重" in e.value.message("zh")


def test_weights_are_stored_as_settings(tmp_register, admin, clerk):
    assert QuarterWeights.from_settings(tmp_register.settings()).is_default
    bulletin.save_quarter_weights(tmp_register, admin, QuarterWeights.parse("1,1,2", "3,3,4"))
    stored = QuarterWeights.from_settings(tmp_register.settings())
    assert stored.months == (1.0, 1.0, 2.0) and stored.rates == (3.0, 3.0, 4.0, 0.0)
    assert tmp_register.settings()["quarter_rate_weights"] == (
        "及时受理率:3,按期办结率:3,群众满意率:4,参评率:0"
    )
    with pytest.raises(DomainError):
        bulletin.save_quarter_weights(tmp_register, clerk, QuarterWeights())


def test_trend_compares_the_first_and_last_scored_month():
    assert bulletin._trend(np.array([0.8, np.nan, 0.9])) == "up"
    assert bulletin._trend(np.array([0.9, 0.85, 0.8])) == "down"
    assert bulletin._trend(np.array([0.9, 0.5, 0.902])) == "flat"
    assert bulletin._trend(np.array([np.nan, 0.9, np.nan])) == ""
    assert bulletin.trend_label("up") == "↑ 上升" and bulletin.trend_label("") == "—"


# --- the command line ------------------------------------------------------------------------


def test_cli_bulletin_writes_each_format(reg_url, tmp_path):
    out = tmp_path / "通报.xlsx"
    code, _, err = cli(
        "bulletin", "--register", reg_url, "--period", "month", "--date", "2026-09-10",
        "--as-of", "2026-11-05", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    assert "排名表" in wb.sheetnames
    code, md, err = cli(
        "bulletin", "--register", reg_url, "--period", "week", "--date", "2026-09-16",
        "--as-of", "2026-11-05", "--format", "md",
    )  # fmt: skip
    assert code == 0, err
    assert md.decode().startswith("# 关于2026年第38周网民留言办理情况的调度通报")


def test_cli_bulletin_defaults_to_a_word_file_named_by_its_title(reg_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(
        "bulletin", "--register", reg_url, "--period", "month", "--date", "2020-01-01",
    )  # fmt: skip
    assert code == 0, err
    path = tmp_path / "关于2020年1月网民留言办理情况的通报.docx"
    assert path.is_file()
    assert "未登记网民留言" in doc_text(docx.Document(str(path)))


def test_cli_bulletin_as_a_handler_and_usage_errors(reg_url):
    code, md, err = cli(
        "bulletin", "--register", reg_url, "--as", "handler_gaq", "--period", "quarter",
        "--date", "2026-08-15", "--as-of", "2026-11-05", "--format", "md",
    )  # fmt: skip
    assert code == 0, err
    text = md.decode()
    assert "| 广安区 |" in text and "| 岳池县 |" not in text
    code, _, err = cli("bulletin", "--register", reg_url, "--period", "year", "--date", "2026-1-1")
    assert code == 2
    code, _, err = cli("bulletin", "--register", reg_url, "--period", "month", "--date", "x")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = cli(
        "bulletin", "--register", reg_url, "--as", "nobody", "--period", "month", "--date",
        "2026-09-01", "--format", "md",
    )  # fmt: skip
    assert code == 2


# --- rendering with LibreOffice (look at it: Chinese shows, the table fits A4) ---------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
POPPLER = all(shutil.which(x) for x in ("pdftoppm", "pdftotext", "pdffonts", "pdfinfo"))


@pytest.mark.slow
@pytest.mark.skipif(
    not (SOFFICE and POPPLER),
    reason="needs LibreOffice and poppler (Debian: apt-get install -y libreoffice-writer-nogui "
    "poppler-utils fonts-noto-cjk)",
)
def test_word_document_renders_with_chinese_text_and_fitting_tables(quarter_docx, tmp_path):
    src = tmp_path / "bulletin.docx"
    src.write_bytes(quarter_docx)
    profile = tmp_path / "lo-profile"
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    pdf = tmp_path / "bulletin.pdf"
    assert pdf.is_file()
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "CJK" in fonts or "Hei" in fonts or "Song" in fonts, fonts  # a real CJK font
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "99", str(pdf)], capture_output=True, text=True
    ).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert sizes and all({round(float(w)), round(float(h))} == {595, 842} for w, h in sizes), (
        sizes
    )  # A4, portrait or landscape
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    assert "网民留言办理情况的考核通报" in text and "各单位网民留言办理情况排名表" in text
    assert "广安区" in text and "综合得分" in text
    # The table fits: no word of any page runs into the right margin or off the page.
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True)
    pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', bbox.stdout, re.S)
    assert len(pages) == len(sizes)
    for width, body in pages:
        right = [float(x) for x in re.findall(r'xMax="([\d.]+)"', body)]
        assert right and max(right) <= float(width) - 50, (width, max(right))  # ≥ 1.8 cm margin
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    png = next(tmp_path.glob("p-*1.png")).read_bytes()
    assert charts.is_png(png) and charts.png_size(png)[0] > 400
    keep = os.environ.get("BULLETIN_RENDER_DIR")  # to look at the pages yourself
    if keep:
        shutil.copy(pdf, Path(keep) / "bulletin.pdf")


def test_module_exports_exist():
    for name in bulletin.__all__:
        assert hasattr(bulletin, name), name
    assert sys.modules["lib.bulletin"] is bulletin
