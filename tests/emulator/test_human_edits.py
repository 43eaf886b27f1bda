"""A person editing the sheet in the browser while the app reads and writes through gspread."""

from __future__ import annotations

import gspread
import pytest
from gspread.utils import ValueRenderOption

from tests.emulator.conftest import CASES
from tests.fakes.sheets_cells import Cell, NumberFormat, cell_date
from tests.fakes.sheets_emulator import SheetsEmulator

HEADER = ["编号", "来电日期", "电话", "状态"]


@pytest.fixture
def filled(emulator: SheetsEmulator, register_id: str) -> str:
    """Three cases typed in by a person (USER_ENTERED, like the browser)."""
    emulator.set_cells(
        register_id,
        CASES,
        [
            HEADER,
            ["A-003", "2026/1/3", "'13800138000", "待办"],
            ["A-001", "2026-01-01", "'13900139000", "已办结"],
            ["A-002", "1/2/2026", "'0755-1234", "办理中"],
        ],
    )
    return register_id


def test_typed_values_are_parsed_like_the_browser_does(
    gc: gspread.Client, emulator: SheetsEmulator, filled: str
) -> None:
    ws = gc.open_by_key(filled).worksheet(CASES)

    assert ws.row_values(2) == ["A-003", "2026/01/03", "13800138000", "待办"]
    assert ws.row_values(4, value_render_option=ValueRenderOption.unformatted) == [
        "A-002",
        46024,
        "0755-1234",
        "办理中",
    ]
    stored = emulator.get_cell(filled, CASES, "B3")
    assert stored == Cell(value=46023, fmt=NumberFormat("DATE", "yyyy-mm-dd"))
    assert cell_date(stored).isoformat() == "2026-01-01"  # type: ignore[union-attr]


def test_sort_and_insert_move_rows_under_the_apps_feet(
    gc: gspread.Client, emulator: SheetsEmulator, filled: str
) -> None:
    ws = gc.open_by_key(filled).worksheet(CASES)
    assert ws.acell("A2").value == "A-003"

    emulator.sort_rows(filled, CASES, "A")
    emulator.insert_rows(filled, CASES, 3, [["A-001b", "", "", "补录"]])

    assert ws.col_values(1) == ["编号", "A-001", "A-001b", "A-002", "A-003"]
    assert ws.spreadsheet.worksheet(CASES).row_count == 1001
    ws.append_row(["A-004", "2026-01-04", "", "待办"], table_range="A1")
    assert emulator.get_grid(filled, CASES)[-1] == ["A-004", "2026-01-04", "", "待办"]


def test_descending_sort_puts_blanks_last(emulator: SheetsEmulator, filled: str) -> None:
    emulator.set_cells(filled, CASES, [["A-000", "", "", ""]], start="A5")

    emulator.sort_rows(filled, CASES, 1, descending=True)

    assert [row[0] for row in emulator.get_grid(filled, CASES)] == [
        "编号",
        "A-003",
        "A-002",
        "A-001",
        "A-000",
    ]


def test_delete_rows_and_raw_grid_inspection(emulator: SheetsEmulator, filled: str) -> None:
    emulator.delete_rows(filled, CASES, 2)

    cells = emulator.get_grid(filled, CASES, render="CELLS")
    assert [c.value for c in cells[1] if c] == ["A-001", 46023, "13900139000", "已办结"]
    assert emulator.get_grid(filled, CASES, render="UNFORMATTED_VALUE")[2][1] == 46024
    assert emulator.worksheet_properties(filled, CASES)["gridProperties"]["rowCount"] == 999


def test_set_cells_can_refuse_to_grow_the_grid(emulator: SheetsEmulator) -> None:
    sid = emulator.create_spreadsheet("小", worksheets=[{"title": "表", "rows": 2, "cols": 2}])

    with pytest.raises(ValueError, match="exceeds the grid"):
        emulator.set_cells(sid, "表", [["a"]] * 3, grow=False)
    emulator.set_cells(sid, "表", [["a"]] * 3, input="RAW")

    assert emulator.worksheet_properties(sid, "表")["gridProperties"]["rowCount"] == 3
