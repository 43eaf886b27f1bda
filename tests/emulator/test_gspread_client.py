"""gspread 6.2.1's real HTTP path against the emulator, in process and over loopback HTTP.

Every test here runs twice (see the ``gc`` fixture): once through the in-process ``requests``
adapter and once through the ``ThreadingHTTPServer`` on 127.0.0.1.
"""

from __future__ import annotations

import gspread
import pytest
from gspread.exceptions import APIError, SpreadsheetNotFound
from gspread.utils import ExportFormat, ValueInputOption, ValueRenderOption

from tests.emulator.conftest import CASES, REGISTER_TITLE
from tests.fakes.sheets_emulator import SheetsEmulator

LONG_TEXT = "诉" * 36_000
ODD_VALUES = [
    "0123",
    "=1+1",
    "2026-01-01",
    "12%",
    "TRUE",
    "+86 138-0013-8000",
    "🌵 留言 😀",
    LONG_TEXT,
]


def test_open_by_key_sees_worksheets_like_a_new_google_spreadsheet(
    gc: gspread.Client, register_id: str
) -> None:
    sh = gc.open_by_key(register_id)

    assert sh.title == REGISTER_TITLE
    assert (sh.locale, sh.timezone) == ("en_US", "Etc/GMT")
    assert [ws.title for ws in sh.worksheets()] == [CASES, "历史"]
    first = sh.sheet1
    assert (first.id, first.index, first.row_count, first.col_count) == (0, 0, 1000, 26)


def test_drive_open_by_title_list_and_create(gc: gspread.Client, register_id: str) -> None:
    assert gc.open(REGISTER_TITLE).id == register_id
    assert [f["name"] for f in gc.list_spreadsheet_files()] == [REGISTER_TITLE]
    with pytest.raises(SpreadsheetNotFound):
        gc.open("没有这个表")

    created = gc.create("新台账")

    assert created.sheet1.title == "Sheet1"
    assert (created.sheet1.row_count, created.sheet1.col_count) == (1000, 26)
    assert {f["name"] for f in gc.list_spreadsheet_files()} == {REGISTER_TITLE, "新台账"}
    assert "createdTime" in gc.list_spreadsheet_files(title="新台账")[0]


def test_add_and_delete_worksheet_honours_grid_properties(
    gc: gspread.Client, emulator: SheetsEmulator, register_id: str
) -> None:
    sh = gc.open_by_key(register_id)

    ws = sh.add_worksheet("统计", rows=10, cols=5)

    props = emulator.worksheet_properties(register_id, "统计")
    assert props["gridProperties"] == {"rowCount": 10, "columnCount": 5}
    assert props["index"] == 2 and props["sheetId"] == ws.id
    with pytest.raises(APIError, match="already exists"):
        sh.add_worksheet("统计", rows=1, cols=1)
    sh.del_worksheet(ws)
    assert [w.title for w in sh.worksheets()] == [CASES, "历史"]


def test_raw_update_keeps_every_value_as_typed_text(cases: gspread.Worksheet) -> None:
    response = cases.update([ODD_VALUES], "A1")

    assert response["updatedRange"] == "'案件'!A1:H1"
    assert response["updatedCells"] == len(ODD_VALUES)
    for option in (None, ValueRenderOption.unformatted, ValueRenderOption.formula):
        assert cases.get_all_values(value_render_option=option) == [ODD_VALUES]


def test_user_entered_update_parses_like_sheets_and_renders_per_option(
    cases: gspread.Worksheet,
) -> None:
    typed = ["0123", "=1+1", "2026-01-01", "12%", "TRUE", "'0123", "2026/1/1", "=A1*2"]
    cases.update([typed], "A1", value_input_option=ValueInputOption.user_entered)

    assert cases.get_all_values() == [
        ["123", "2", "2026-01-01", "12%", "TRUE", "0123", "2026/01/01", "246"]
    ]
    assert cases.get_all_values(value_render_option=ValueRenderOption.unformatted) == [
        [123, 2, 46023, 0.12, True, "0123", 46023, 246]
    ]
    assert cases.get_all_values(value_render_option=ValueRenderOption.formula) == [
        [123, "=1+1", 46023, 0.12, True, "0123", 46023, "=A1*2"]
    ]
    as_strings = cases.get(
        "C1",
        value_render_option=ValueRenderOption.unformatted,
        date_time_render_option="FORMATTED_STRING",
    )
    assert as_strings == [["2026-01-01"]]


def test_update_cell_sends_user_entered(cases: gspread.Worksheet) -> None:
    cases.update_cell(1, 1, "0042")
    cases.update_cell(1, 2, "0042")  # the same text, then written RAW below
    cases.update([["0042"]], "B1")

    assert cases.get_all_values() == [["42", "0042"]]


def test_append_rows_lands_after_the_table_and_grows_the_grid(
    gc: gspread.Client, emulator: SheetsEmulator, register_id: str
) -> None:
    ws = gc.open_by_key(register_id).add_worksheet("小表", rows=2, cols=3)
    ws.update([["编号", "姓名", "电话"]], "A1")

    first = ws.append_rows([["A-001", "张三", "13800138000"], ["A-002", "李四", ""]])
    second = ws.append_row(["A-003", "王五", "0123"])

    assert first["tableRange"] == "'小表'!A1:C1"
    assert first["updates"]["updatedRange"] == "'小表'!A2:C3"
    assert second["updates"]["updatedRange"] == "'小表'!A4:C4"
    assert ws.get_all_values()[-1] == ["A-003", "王五", "0123"]
    assert emulator.worksheet_properties(register_id, "小表")["gridProperties"] == {
        "rowCount": 4,
        "columnCount": 3,
    }


def test_append_with_insert_rows_pushes_content_below_down(cases: gspread.Worksheet) -> None:
    cases.update([["编号"], ["A-001"], [""], ["合计"]], "A1")

    cases.append_row(["A-002"], insert_data_option="INSERT_ROWS", table_range="A1")

    assert cases.col_values(1) == ["编号", "A-001", "A-002", "", "合计"]
    assert cases.spreadsheet.worksheet(CASES).row_count == 1001


def test_append_after_a_gap_shifts_right_like_google(cases: gspread.Worksheet) -> None:
    # Google's table detection takes the block around the last filled cell: here C1 alone.
    cases.append_row(["A-001", "", "来电"])
    shifted = cases.append_row(["A-002", "", "来信"])

    assert shifted["tableRange"] == "'案件'!C1"
    assert shifted["updates"]["updatedRange"] == "'案件'!C2:E2"
    assert cases.get_all_values() == [  # gspread pads rows to a rectangle
        ["A-001", "", "来电", "", ""],
        ["", "", "A-002", "", "来信"],
    ]


def test_append_with_table_range_a1_stays_aligned(cases: gspread.Worksheet) -> None:
    cases.update([["编号", "备注", "渠道"]], "A1")
    for n in range(3):
        response = cases.append_row([f"A-00{n}", "", "来电"], table_range="A1")
        assert response["updates"]["updatedRange"] == f"'案件'!A{n + 2}:C{n + 2}"

    assert [row[0] for row in cases.get_all_values()] == ["编号", "A-000", "A-001", "A-002"]


def test_batch_update_and_batch_get(cases: gspread.Worksheet) -> None:
    response = cases.batch_update(
        [
            {"range": "A1:B1", "values": [["编号", "状态"]]},
            {"range": "A4:B4", "values": [["A-004", "已办结"]]},
        ]
    )

    assert response["totalUpdatedCells"] == 4
    assert response["totalUpdatedSheets"] == 1
    assert [r["updatedRange"] for r in response["responses"]] == ["'案件'!A1:B1", "'案件'!A4:B4"]
    first, second, empty = cases.batch_get(["A1:B1", "A:A", "D1:D9"])
    assert first == [["编号", "状态"]]
    assert second.range == "'案件'!A1:A1000"
    assert second == [["编号"], [], [], ["A-004"]]
    assert empty == [] and empty.range == "'案件'!D1:D9"


def test_clear_and_batch_clear(cases: gspread.Worksheet) -> None:
    cases.update([["a", "b", "c"], ["d", "e", "f"]], "A1")

    cleared = cases.batch_clear(["A1", "C2"])
    assert cleared["clearedRanges"] == ["'案件'!A1", "'案件'!C2"]
    assert cases.get_all_values() == [["", "b", "c"], ["d", "e", ""]]
    assert cases.clear()["clearedRange"] == "'案件'!A1:Z1000"
    assert cases.get_all_values() == [[]]  # gspread's shape for "no values"


def test_values_get_trims_trailing_empties_and_omits_values_when_empty(
    cases: gspread.Worksheet,
) -> None:
    cases.update([["a", "", "c", ""], ["", "b", "", ""], ["", "", "", ""], ["d", "", "", ""]])
    sh = cases.spreadsheet

    body = sh.values_get(f"'{CASES}'!A1:D6")
    empty = sh.values_get(f"'{CASES}'!F1:G3")

    assert body == {
        "range": "'案件'!A1:D6",
        "majorDimension": "ROWS",
        "values": [["a", "", "c"], ["", "b"], [], ["d"]],
    }
    assert empty == {"range": "'案件'!F1:G3", "majorDimension": "ROWS"}
    by_column = sh.values_get(f"'{CASES}'!A1:D4", params={"majorDimension": "COLUMNS"})
    assert by_column["values"] == [["a", "", "", "d"], ["", "b"], ["c"]]


def test_grid_limits_are_enforced_except_by_append(gc: gspread.Client, register_id: str) -> None:
    ws = gc.open_by_key(register_id).add_worksheet("小表", rows=5, cols=3)

    with pytest.raises(APIError) as read_error:
        ws.get("A1:ZZ5")
    with pytest.raises(APIError) as write_error:
        ws.update([["x"], ["y"]], "A5")
    with pytest.raises(APIError, match=r"Requested writing within range \['小表'!A1:B1\]"):
        ws.update([["x", "y"], ["z", "w"]], "A1:B1")

    assert read_error.value.code == 400
    assert read_error.value.error == {
        "code": 400,
        "message": "Range ('小表'!A1:ZZ5) exceeds grid limits. Max rows: 5, max columns: 3",
        "status": "INVALID_ARGUMENT",
    }
    assert "exceeds grid limits. Max rows: 5, max columns: 3" in str(write_error.value)
    ws.append_rows([[str(i)] for i in range(7)])
    assert gc.open_by_key(register_id).worksheet("小表").row_count == 7


def test_unknown_spreadsheet_is_404(gc: gspread.Client, emulator: SheetsEmulator) -> None:
    with pytest.raises(SpreadsheetNotFound) as not_found:
        gc.open_by_key("1NoSuchSpreadsheet")
    assert not_found.value.__cause__.error == {  # type: ignore[union-attr]
        "code": 404,
        "message": "Requested entity was not found.",
        "status": "NOT_FOUND",
    }

    sid = emulator.create_spreadsheet("将被删除")
    ws = gc.open_by_key(sid).sheet1
    emulator.delete_spreadsheet(sid)
    with pytest.raises(APIError) as gone:
        ws.get_all_values()
    assert (gone.value.code, gone.value.error["status"]) == (404, "NOT_FOUND")


def test_spreadsheet_not_shared_with_the_service_account_is_403(
    gc: gspread.Client, emulator: SheetsEmulator
) -> None:
    sid = emulator.create_spreadsheet("别人的表", shared=False)

    with pytest.raises(PermissionError) as denied:
        gc.open_by_key(sid)

    cause = denied.value.__cause__
    assert isinstance(cause, APIError)
    assert cause.error == {
        "code": 403,
        "message": "The caller does not have permission",
        "status": "PERMISSION_DENIED",
    }
    assert gc.list_spreadsheet_files() == []


def test_structural_batch_updates(gc: gspread.Client, register_id: str) -> None:
    sh = gc.open_by_key(register_id)
    ws = sh.worksheet(CASES)
    ws.update([["编号"], ["A-001"], ["A-002"], ["A-003"]], "A1")

    ws.insert_row(["A-000"], index=2)
    ws.delete_rows(4)
    ws.resize(rows=20, cols=4)
    ws.update_title("案件表")
    sh.batch_update(
        {"requests": [{"appendDimension": {"sheetId": ws.id, "dimension": "ROWS", "length": 5}}]}
    )
    sh.update_title("新标题")
    sh.update_timezone("Asia/Shanghai")

    fresh = gc.open_by_key(register_id)
    table = fresh.worksheet("案件表")
    assert table.col_values(1) == ["编号", "A-000", "A-001", "A-003"]
    assert (table.row_count, table.col_count) == (25, 4)
    assert (fresh.title, fresh.timezone) == ("新标题", "Asia/Shanghai")


def test_batch_update_is_atomic_and_rejects_unknown_requests(
    gc: gspread.Client, emulator: SheetsEmulator, register_id: str
) -> None:
    sh = gc.open_by_key(register_id)

    with pytest.raises(APIError) as unknown:
        sh.batch_update({"requests": [{"addSheet": {}}, {"frobnicate": {}}]})
    with pytest.raises(APIError, match="No grid with id: 999"):
        sh.batch_update({"requests": [{"addSheet": {}}, {"deleteSheet": {"sheetId": 999}}]})

    error = unknown.value.error
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert error["message"] == (
        "Invalid JSON payload received. Unknown name \"frobnicate\" at 'requests[1]': "
        "Cannot find field."
    )
    assert [ws["properties"]["title"] for ws in emulator.metadata(register_id)["sheets"]] == [
        CASES,
        "历史",
    ]


def test_metadata_fields_mask(gc: gspread.Client, register_id: str) -> None:
    sh = gc.open_by_key(register_id)

    body = sh.fetch_sheet_metadata(params={"fields": "sheets(properties(sheetId,title))"})

    assert body == {
        "sheets": [
            {"properties": {"sheetId": 0, "title": CASES}},
            {"properties": {"sheetId": sh.worksheet("历史").id, "title": "历史"}},
        ]
    }


def test_sheets_api_create_and_values_in_response(gc: gspread.Client) -> None:
    created = gc.http_client.request(
        "post",
        "https://sheets.googleapis.com/v4/spreadsheets",
        json={
            "properties": {"title": "直接创建", "timeZone": "Asia/Shanghai"},
            "sheets": [{"properties": {"title": "案件", "gridProperties": {"rowCount": 50}}}],
        },
    ).json()
    ws = gc.open_by_key(created["spreadsheetId"]).worksheet("案件")

    response = ws.update(
        [["A-001", "A-002"], ["0123", "=1+1"]],
        "A1",
        major_dimension="COLUMNS",
        value_input_option=ValueInputOption.user_entered,
        include_values_in_response=True,
        response_value_render_option=ValueRenderOption.formula,
    )

    assert created["properties"]["timeZone"] == "Asia/Shanghai"
    assert created["sheets"][0]["properties"]["gridProperties"] == {
        "rowCount": 50,
        "columnCount": 26,
    }
    assert response["updatedData"] == {
        "range": "'案件'!A1:B2",
        "majorDimension": "ROWS",
        "values": [["A-001", 123], ["A-002", "=1+1"]],
    }


def test_drive_copy_and_csv_export(gc: gspread.Client, register_id: str) -> None:
    gc.open_by_key(register_id).sheet1.update([["编号", "内容"], ["A-001", "含,逗号"]], "A1")

    copy = gc.copy(register_id, title="台账副本")

    assert copy.sheet1.get_all_values() == [["编号", "内容"], ["A-001", "含,逗号"]]
    assert gc.export(register_id, ExportFormat.CSV) == '编号,内容\r\nA-001,"含,逗号"'.encode()
