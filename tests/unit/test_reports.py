"""Writing report tables: csv (Excel-safe), Markdown, xlsx."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lib import metrics
from lib.reports import format_for_path, format_rate, write_report
from lib.workflow import Rules
from tests.unit.test_metrics import case, frame


@pytest.fixture(scope="module")
def league() -> pd.DataFrame:
    """A real league table: three units (one with rates undefined) and 未交办."""
    rows = [
        case("a1", unit="广安区", accepted_at="2026-03-02", concluded_at="2026-03-20"),
        case(
            "a2",
            unit="广安区",
            accepted_at="2026-03-02",
            concluded_at="2026-03-20",
            evaluation="满意",
            evaluated_at="2026-03-22",
        ),
        case("a3", unit="广安区", accepted_at="2026-03-20"),  # late acceptance
        case("b1", unit="市住房和城乡建设局", received="2026-03-30"),  # nothing decidable
        case("c1", unit='=HYPERLINK("http://x")', rejected_at="2026-03-05"),
        case("w1", unit=""),
    ]
    return metrics.league_table(
        frame(*rows), None, None, Rules(), date_from="2026-03-01", date_to="2026-03-31"
    )


def test_format_rate():
    assert format_rate(0.875) == "87.5%"
    assert format_rate(2 / 3) == "66.7%"
    assert format_rate(0.0625) == "6.3%"  # half up, as a person rounds
    assert format_rate(1) == "100.0%"
    assert format_rate(0.0) == "0.0%"
    for missing in (float("nan"), None, pd.NA, np.nan):
        assert format_rate(missing) == "—"
    assert format_rate(np.float64(0.5), "en") == "50.0%"


def test_csv_round_trips_with_full_precision(league):
    data = write_report(league, "csv")
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese right
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back.columns) == list(league.columns)
    expected = league.copy()
    expected["排名"] = expected["排名"].astype("float64")
    # the formula-looking unit name is written neutralised
    expected["承办单位"] = expected["承办单位"].replace(
        {'=HYPERLINK("http://x")': '\'=HYPERLINK("http://x")'}
    )
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    ga = back[back["承办单位"] == "广安区"].iloc[0]
    assert ga["及时受理率"] == 2 / 3  # full precision, as a fraction


def test_csv_writes_an_empty_cell_for_undefined_rates(league):
    text = write_report(league, "csv").decode("utf-8-sig")
    lines = text.splitlines()
    header = lines[0].split(",")
    assert header[:4] == ["承办单位", "案件数", "及时受理数", "受理超期数"]
    fresh = next(line for line in lines if line.startswith("市住房和城乡建设局"))
    cells = fresh.split(",")
    assert cells[header.index("及时受理率")] == ""
    assert cells[header.index("排名")] == ""
    assert "nan" not in text.lower() and "<NA>" not in text


def test_csv_neutralises_formula_injection():
    t = pd.DataFrame(
        {
            "承办单位": ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx", "ok", "a=b"],
            "案件数": [1, 2, -3, 4, 5, 6, 7, 8],
        }
    )
    back = pd.read_csv(io.BytesIO(write_report(t, "csv")), encoding="utf-8-sig")
    assert back["承办单位"].tolist()[:4] == ["'=1+1", "'+SUM(A1)", "'-2", "'@cmd"]
    assert back["承办单位"].tolist()[6:] == ["ok", "a=b"]
    raw = write_report(t, "csv").decode("utf-8-sig")
    assert "'\tx" in raw and "'\rx" in raw
    assert back["案件数"].tolist()[2] == -3  # numbers are numbers, untouched


def test_markdown_shows_percentages_and_dashes(league):
    md = write_report(league, "md").decode("utf-8")
    lines = md.splitlines()
    assert lines[0].startswith("| 承办单位 | 案件数 |")
    assert set(lines[1]) <= set("|-: ")
    ga = next(line for line in lines if line.startswith("| 广安区 "))
    assert "| 66.7% |" in ga and "| 100.0% |" in ga
    fresh = next(line for line in lines if line.startswith("| 市住房和城乡建设局 "))
    assert "| — |" in fresh
    assert lines[-1].startswith("| 未交办 ")
    assert len(lines) == 2 + len(league)
    assert all(line.count("|") == len(league.columns) + 1 for line in lines)


def test_markdown_escapes_pipes_and_newlines():
    t = pd.DataFrame({"承办单位": ["a|b", "c\nd"], "案件数": [1, 2]})
    md = write_report(t, "md").decode("utf-8")
    assert "a\\|b" in md and "c<br>d" in md


def test_xlsx_has_numbers_for_rates_no_formulas_and_a_frozen_header(league, tmp_path):
    out = tmp_path / "report.xlsx"
    data = write_report(league, "xlsx", out)
    assert out.read_bytes() == data
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header == list(league.columns)
    assert ws.freeze_panes == "A2"
    col = header.index("及时受理率") + 1
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    ga = ws.cell(row=rows["广安区"], column=col)
    assert ga.data_type == "n" and ga.value == pytest.approx(2 / 3)
    assert ga.number_format == "0.0%"
    assert ws.cell(row=rows["市住房和城乡建设局"], column=col).value is None
    assert ws.cell(row=rows["广安区"], column=2).value == 3  # counts are numbers
    assert isinstance(ws.cell(row=rows["广安区"], column=header.index("排名") + 1).value, int)
    assert "未交办" in rows  # Chinese intact
    # the formula-looking name is a string cell holding the exact text
    evil = ws.cell(row=rows['=HYPERLINK("http://x")'], column=1)
    assert evil.data_type == "s" and evil.quotePrefix
    for line in ws.iter_rows():
        for cell in line:
            assert cell.data_type != "f", cell.coordinate
    assert ws.column_dimensions["A"].width >= 18  # fits 市住房和城乡建设局


def test_xlsx_keeps_text_that_looks_like_a_formula_as_text():
    t = pd.DataFrame({"标题": ["=1+1", "@SUM(A1)", "正常"], "案件数": [1, 2, 3]})
    ws = openpyxl.load_workbook(io.BytesIO(write_report(t, "xlsx"))).active
    assert [ws.cell(row=r, column=1).value for r in (2, 3, 4)] == ["=1+1", "@SUM(A1)", "正常"]
    assert all(ws.cell(row=r, column=1).data_type == "s" for r in (2, 3, 4))


def test_period_tables_write_too():
    t = metrics.league_table(
        frame(case("a"), case("b", received="2026-04-02")),
        None,
        None,
        Rules(),
        date_from="2026-03-01",
        date_to="2026-04-30",
        freq="M",
    )
    back = pd.read_csv(
        io.BytesIO(write_report(t, "csv")), encoding="utf-8-sig", dtype={"期间": str}
    )
    assert back["期间"].tolist() == ["2026-03", "2026-04"]
    assert "| 2026-04 |" in write_report(t, "md").decode()


def test_write_to_a_file_object_and_unknown_format(league):
    buf = io.BytesIO()
    data = write_report(league, "CSV", buf)
    assert buf.getvalue() == data
    with pytest.raises(ValueError):
        write_report(league, "pdf")
    assert format_for_path("out/report.XLSX") == "xlsx"
    assert format_for_path("r.markdown") == "md"


def test_empty_table_writes_a_header_only():
    empty = metrics.league_table(
        frame(case("a")), None, None, Rules(), date_from="2027-01-01", date_to="2027-01-31"
    )
    assert write_report(empty, "csv").decode("utf-8-sig").strip() == ",".join(empty.columns)
    assert len(write_report(empty, "md").decode().splitlines()) == 2
    ws = openpyxl.load_workbook(io.BytesIO(write_report(empty, "xlsx"))).active
    assert ws.max_row == 1
