"""Import of old ledgers (台账) and export, through real .csv and .xlsx files.

A bureau moves its Excel ledger in: good rows land, bad rows are named with the row number the
spreadsheet shows and the reason, duplicates are skipped, and nothing it typed is changed on
the way in or out — not a leading zero, not a formula-looking title, not an emoji.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from lib import importer
from lib.i18n import DomainError

HEADERS = [
    "渠道",
    "来源编号",
    "登记日期",
    "留言人",
    "联系电话",
    "所属区县",
    "领域",
    "类型",
    "标题",
    "内容",
    "承办单位",
    "交办日期",
    "受理日期",
    "办结日期",
    "答复内容",
    "满意度",
    "评价日期",
]


def row(source_id: str, **kw: str) -> list[str]:
    """One ledger row: a concluded, evaluated case unless overridden."""
    base = {
        "渠道": "人民网领导留言板",
        "来源编号": source_id,
        "登记日期": "2026-01-05",
        "留言人": "张三",
        "联系电话": "13800138000",
        "所属区县": "广安区",
        "领域": "城建",
        "类型": "投诉",
        "标题": f"路灯损坏 {source_id}",
        "内容": "小区路灯坏了一个月。",
        "承办单位": "广安区",
        "交办日期": "2026-01-06",
        "受理日期": "2026-01-08",
        "办结日期": "2026-02-01",
        "答复内容": "已修复",
        "满意度": "满意",
        "评价日期": "2026-02-03",
    }
    base.update(kw)
    return [base[h] for h in HEADERS]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", headers=HEADERS) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows([headers, *rows])
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], headers=HEADERS) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


MIXED = [
    row("1001"),  # row 2: good, full lifecycle
    row(
        "1002",
        承办单位="",
        交办日期="",
        受理日期="",
        办结日期="",
        答复内容="",
        满意度="",
        评价日期="",
    ),
    row("1003", 留言人=""),  # row 4: missing required
    row("1004", 领域="星际"),  # row 5: unknown enum
    row("1005", 承办单位="火星局"),  # row 6: unknown unit
    row("1006", 登记日期="2026-02-30"),  # row 7: impossible date
    row("1007", 受理日期="2026-01-04"),  # row 8: accepted before assigned
    row("1008", 办结日期="", 答复内容=""),  # row 9: evaluation without reply
    row("1009", 交办日期="2026-04-01", 受理日期="", 办结日期="", 满意度="", 评价日期=""),  # future
]


def test_good_rows_import_and_each_bad_row_is_named(tmp_register, admin):
    data = csv_bytes(MIXED)
    result = importer.run_import(tmp_register, admin, data, name="台账.csv")

    assert len(result.imported) == 2
    rejected = {i.row: i.text() for i in result.plan.rejected}
    assert sorted(rejected) == [4, 5, 6, 7, 8, 9, 10]
    assert "留言人" in rejected[4] and "必填" in rejected[4]
    assert "星际" in rejected[5] and "领域" in rejected[5]
    assert "火星局" in rejected[6]
    assert "2026-02-30" in rejected[7]
    assert "受理日期" in rejected[8] and "交办日期" in rejected[8]
    assert "办结日期" in rejected[9]
    assert "2026-04-01" in rejected[10]
    cases = tmp_register.load().cases
    assert sorted(cases["source_id"]) == ["1001", "1002"]
    first = cases[cases["source_id"] == "1001"].iloc[0]
    assert first["status"] == "已评价"
    assert str(first["accept_due"].date()) == "2026-01-21"
    assert cases[cases["source_id"] == "1002"].iloc[0]["status"] == "待交办"
    assert not result.ok


def test_importing_the_same_file_again_adds_nothing(tmp_register, admin):
    data = csv_bytes(MIXED)
    importer.run_import(tmp_register, admin, data, name="a.csv")
    again = importer.run_import(tmp_register, admin, data, name="a.csv")
    assert again.imported == []
    assert len(again.plan.skipped) == 2
    assert "1001" in again.plan.skipped[0].text()
    assert len(tmp_register.load().cases) == 2


def test_duplicate_source_within_one_file_is_skipped(tmp_register, admin):
    result = importer.run_import(tmp_register, admin, csv_bytes([row("7"), row("7")]), name="a.csv")
    assert len(result.imported) == 1
    assert result.plan.skipped[0].row == 3
    assert "第 2 行" in result.plan.skipped[0].text()


def test_import_writes_one_history_row_per_case(tmp_register, admin):
    importer.run_import(tmp_register, admin, csv_bytes([row("1"), row("2")]), name="旧台账.csv")
    hist = tmp_register.history(admin)
    imports = hist[hist["action"] == "import"]
    assert len(imports) == 2
    assert set(imports["new"]) == {"旧台账.csv"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_as_chinese_excel_writes_them(tmp_register, admin, encoding):
    result = importer.run_import(
        tmp_register, admin, csv_bytes([row("1", 标题="小区电梯停运")], encoding), name="x.csv"
    )
    assert len(result.imported) == 1
    assert tmp_register.load().cases["title"].iloc[0] == "小区电梯停运"


def test_english_headers_are_accepted(tmp_register, admin):
    keys = [tmp_register.schema["cases"].resolve_header(h) for h in HEADERS]
    result = importer.run_import(
        tmp_register, admin, csv_bytes([row("1")], headers=keys), name="e.csv"
    )
    assert len(result.imported) == 1


def test_xlsx_with_typed_cells_is_read_sensibly(tmp_register, admin):
    import datetime as dt

    r = row("1")
    r[HEADERS.index("登记日期")] = dt.datetime(2026, 1, 5)
    r[HEADERS.index("交办日期")] = dt.date(2026, 1, 6)
    r[HEADERS.index("联系电话")] = 13800138000  # a phone Excel turned into a number
    r[HEADERS.index("来源编号")] = 1001
    result = importer.run_import(tmp_register, admin, xlsx_bytes([r]), name="x.xlsx")
    assert len(result.imported) == 1, [i.text() for i in result.plan.rejected]
    case = tmp_register.load().cases.iloc[0]
    assert case["phone"] == "13800138000"
    assert case["source_id"] == "1001"
    assert str(case["received_at"].date()) == "2026-01-05"


def test_missing_required_column_is_refused_before_anything(tmp_register, admin):
    headers = [h for h in HEADERS if h != "标题"]
    rows = [[v for h, v in zip(HEADERS, row("1"), strict=True) if h != "标题"]]
    with pytest.raises(DomainError, match="标题"):
        importer.plan_import(tmp_register, admin, csv_bytes(rows, headers=headers), name="x.csv")
    assert tmp_register.load().cases.empty


def test_not_a_spreadsheet_gives_a_clear_error(tmp_register, admin):
    with pytest.raises(DomainError, match=r"不是有效的 \.xlsx"):
        importer.plan_import(tmp_register, admin, b"hello", name="x.xlsx")
    with pytest.raises(DomainError, match=r"\.xlsx 和 \.csv"):
        importer.plan_import(tmp_register, admin, b"hello", name="x.pdf")


def test_roles_that_may_not_import_are_refused(tmp_register, handler, leader):
    for user in (handler, leader):
        with pytest.raises(DomainError):
            importer.run_import(tmp_register, user, csv_bytes([row("1")]), name="x.csv")
    assert tmp_register.load().cases.empty


def test_progress_is_reported_on_large_files(tmp_register, admin):
    rows = [
        row(
            str(i),
            承办单位="",
            交办日期="",
            受理日期="",
            办结日期="",
            答复内容="",
            满意度="",
            评价日期="",
        )
        for i in range(2500)
    ]
    seen: list[tuple[int, int]] = []
    plan = importer.plan_import(
        tmp_register,
        admin,
        csv_bytes(rows),
        name="big.csv",
        progress=lambda d, t: seen.append((d, t)),
    )
    writes: list[tuple[int, int]] = []
    result = importer.run_import(
        tmp_register, admin, plan, progress=lambda d, t: writes.append((d, t))
    )
    assert len(result.imported) == 2500
    assert seen[-1] == (2500, 2500) and len(seen) >= 3
    assert writes[-1] == (2500, 2500) and len(writes) >= 2


TRICKY = {
    "联系电话": ["013800138000", "+86 138-0013-8000", "0826-2345678"],
    "标题": [
        '=HYPERLINK("http://evil.example","点我")',
        "+1 路灯不亮",
        "-3 度也不供暖",
        "@所有人 看看",
        "'引号开头",
        "\t制表符开头",
        "表情 😀 与生僻字 𠮷",
    ],
}


def tricky_rows() -> list[list[str]]:
    out = []
    n = 0
    for col, values in TRICKY.items():
        for v in values:
            n += 1
            out.append(row(f"T{n}", **{col: v}))
    out.append(row("LONG", 内容="长" * 35999 + "尾"))
    out.append(row("CRLF", 内容="第一行\r\n第二行\n第三行"))
    return out


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_text_round_trips_byte_exact_through_import_store_and_export(
    tmp_register, admin, fmt, tmp_path
):
    src = tricky_rows()
    importer.run_import(tmp_register, admin, csv_bytes(src), name="in.csv")
    stored = tmp_register.export_rows(admin, "cases")
    by_source = stored.set_index("source_id")
    for r in src:
        sid = r[HEADERS.index("来源编号")]
        assert by_source.loc[sid, "phone"] == r[HEADERS.index("联系电话")]
        assert by_source.loc[sid, "title"] == r[HEADERS.index("标题")]
        assert by_source.loc[sid, "content"] == r[HEADERS.index("内容")]

    exported = importer.export_table(tmp_register, admin, "cases", fmt)
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(exported)

    # The exported file imports into a fresh register unchanged.
    from lib.register import Register
    from lib.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "second.db")
    store.init()
    second = Register(store, clock=tmp_register.clock)
    second.save_unit(admin, {"name": "广安区", "kind": "区市县"})
    back = importer.run_import(second, admin, path)
    assert back.ok, [i.text() for i in back.plan.rejected]
    again = second.export_rows(admin, "cases").set_index("case_id")
    first = stored.set_index("case_id")
    for col in ("phone", "title", "content", "source_id", "received_at", "status", "handle_due"):
        assert (again.loc[first.index, col] == first[col]).all(), col


def test_csv_export_neutralises_formulas(tmp_register, admin):
    importer.run_import(tmp_register, admin, csv_bytes(tricky_rows()), name="in.csv")
    text = importer.export_table(tmp_register, admin, "cases", "csv").decode("utf-8-sig")
    cells = [c for r in csv.reader(io.StringIO(text)) for c in r]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert '\'=HYPERLINK("http://evil.example","点我")' in cells
    assert text.encode("utf-8")  # Chinese intact
    assert "表情 😀 与生僻字 𠮷" in cells


def test_xlsx_export_has_no_formula_cells_and_keeps_long_text(tmp_register, admin, tmp_path):
    importer.run_import(tmp_register, admin, csv_bytes(tricky_rows()), name="in.csv")
    path = tmp_path / "out.xlsx"
    path.write_bytes(importer.export_table(tmp_register, admin, "cases", "xlsx"))
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    cells = [c for r in ws.iter_rows() for c in r]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert all(len(str(c.value)) <= importer.XLSX_CELL_LIMIT for c in cells if c.value)
    headers = [c.value for c in ws[1]]
    assert "内容（续1）" in headers
    assert ws.freeze_panes == "A2"


def test_export_masks_pii_for_roles_that_may_not_see_it(tmp_register, admin, supervisor, handler):
    importer.run_import(tmp_register, admin, csv_bytes([row("1")]), name="in.csv")
    for user, masked in ((supervisor, True), (handler, False), (admin, False)):
        text = importer.export_table(tmp_register, user, "cases", "csv").decode("utf-8-sig")
        assert ("138****8000" in text) is masked
        assert ("13800138000" in text) is not masked


def test_export_of_a_handler_holds_only_their_units_cases(tmp_register, admin, other_handler):
    importer.run_import(tmp_register, admin, csv_bytes([row("1")]), name="in.csv")
    text = importer.export_table(tmp_register, other_handler, "cases", "csv").decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1  # header only


def test_export_is_logged(tmp_register, admin):
    importer.export_table(tmp_register, admin, "cases", "csv")
    hist = tmp_register.history(admin)
    assert (hist["action"] == "export").sum() == 1


def test_template_has_the_canonical_headers(tmp_register):
    sheet = tmp_register.schema["cases"]
    wb = openpyxl.load_workbook(io.BytesIO(importer.template(sheet)))
    headers = [c.value for c in wb.active[1]]
    assert "标题" in headers and "登记日期" in headers and "状态" not in headers


def test_units_table_imports_and_skips_existing(tmp_register, admin):
    data = csv_bytes(
        [["邻水县", "区市县"], ["广安区", "区市县"], ["", "区市县"]],
        headers=["单位名称", "单位类别"],
    )
    result = importer.run_import(tmp_register, admin, data, name="u.csv", sheet_name="units")
    assert result.imported == ["邻水县"]
    assert [i.row for i in result.plan.skipped] == [3]
    assert [i.row for i in result.plan.rejected] == [4]


def test_a_field_added_to_the_yaml_flows_through_import_and_export(
    tmp_path, admin, clock, schema_with_field
):
    from lib.register import Register
    from lib.store.sqlite import SQLiteStore

    schema = schema_with_field(
        tmp_path,
        {"key": "hotline_no", "header": "热线工单号", "label_en": "Hotline ticket", "type": "text"},
    )
    store = SQLiteStore(tmp_path / "r.db", schema)
    store.init()
    reg = Register(store, schema=schema, clock=clock)
    reg.save_unit(admin, {"name": "广安区", "kind": "区市县"})
    data = csv_bytes([[*row("1"), "GD-0001"]], headers=[*HEADERS, "热线工单号"])
    result = importer.run_import(reg, admin, data, name="x.csv")
    assert result.ok
    assert reg.load().cases["hotline_no"].tolist() == ["GD-0001"]
    text = importer.export_table(reg, admin, "cases", "csv").decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert header[-1] == "热线工单号"
    assert "GD-0001" in text
