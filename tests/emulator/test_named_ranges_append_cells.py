"""Named ranges and ``appendCells`` inside one atomic ``spreadsheets.batchUpdate``.

The Google Sheets store swaps a named range (``deleteNamedRange`` of the id it read, then
``addNamedRange`` of a new id under the same name) as a compare-and-swap, together with
``appendCells`` to several sheets, in one batch. These tests pin down what the emulator does
for that, through gspread's real HTTP path (every test runs in process and over loopback, see
the ``gc`` fixture). Shapes and wording follow Google's recorded answers where there are any
(``CellTest.test_define_named_range`` / ``test_delete_named_range`` in gspread's cassettes).
"""

from __future__ import annotations

import re
from typing import Any

import gspread
import pytest
from gspread.exceptions import APIError

from tests.emulator.conftest import CASES
from tests.fakes.sheets_emulator import SheetsEmulator

HISTORY = "历史"
LOCK = "register_lock"
#: How the store recognises a lost compare-and-swap: a 400 whose message names the range.
CAS_LOST = re.compile(r"named\s*range", re.IGNORECASE)


def text(value: str) -> dict[str, Any]:
    """A CellData holding ``value`` as literal text."""
    return {"userEnteredValue": {"stringValue": value}}


def append(
    sheet_id: int, *rows: list[dict[str, Any]], fields: str = "userEnteredValue"
) -> dict[str, Any]:
    """An appendCells request (writing values only, unless ``fields`` says otherwise)."""
    return {
        "appendCells": {
            "sheetId": sheet_id,
            "rows": [{"values": list(row)} for row in rows],
            "fields": fields,
        }
    }


def add_range(range_id: str | None, name: str = LOCK, sheet_id: int = 0) -> dict[str, Any]:
    """An addNamedRange request on ``A1`` of ``sheet_id``."""
    named: dict[str, Any] = {
        "name": name,
        "range": {
            "sheetId": sheet_id,
            "startRowIndex": 0,
            "endRowIndex": 1,
            "startColumnIndex": 0,
            "endColumnIndex": 1,
        },
    }
    if range_id is not None:
        named["namedRangeId"] = range_id
    return {"addNamedRange": {"namedRange": named}}


def delete_range(range_id: str) -> dict[str, Any]:
    """A deleteNamedRange request."""
    return {"deleteNamedRange": {"namedRangeId": range_id}}


def values(sh: gspread.Spreadsheet, rng: str, render: str = "FORMATTED_VALUE") -> list[Any]:
    """``values.get`` as Google answers it (trimmed; ``[]`` when empty)."""
    return sh.values_get(rng, params={"valueRenderOption": render}).get("values", [])


def batch_error(sh: gspread.Spreadsheet, *requests: dict[str, Any]) -> dict[str, Any]:
    """Send a batch that must fail; return the error envelope's ``error`` object."""
    with pytest.raises(APIError) as caught:
        sh.batch_update({"requests": list(requests)})
    assert caught.value.response.status_code == 400
    return dict(caught.value.error)


@pytest.fixture
def sh(gc: gspread.Client, register_id: str) -> gspread.Spreadsheet:
    """The register (tabs 案件, sheetId 0, and 历史) opened through gspread."""
    return gc.open_by_key(register_id)


def test_cas_swap_succeeds_then_the_same_stale_swap_fails_without_a_trace(
    sh: gspread.Spreadsheet,
) -> None:
    history_id = sh.worksheet(HISTORY).id
    sh.batch_update({"requests": [add_range("v1")]})
    swap = [
        delete_range("v1"),
        add_range("v2"),
        append(0, [text("A-001"), text("新案件")]),
        append(history_id, [text("A-001"), text("created")]),
    ]

    reply = sh.batch_update({"requests": swap})

    assert reply["replies"] == [
        {},
        {
            "addNamedRange": {
                "namedRange": {
                    "namedRangeId": "v2",
                    "name": LOCK,
                    # sheetId 0 is left out, as Google leaves out every zero.
                    "range": {
                        "startRowIndex": 0,
                        "endRowIndex": 1,
                        "startColumnIndex": 0,
                        "endColumnIndex": 1,
                    },
                }
            }
        },
        {},
        {},
    ]
    assert values(sh, CASES) == [["A-001", "新案件"]]
    assert values(sh, HISTORY) == [["A-001", "created"]]
    before = sh.list_named_ranges()

    error = batch_error(sh, *swap)

    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == "Invalid requests[0].deleteNamedRange: No NamedRange with id: v1"
    assert CAS_LOST.search(error["message"])
    assert sh.list_named_ranges() == before == [reply["replies"][1]["addNamedRange"]["namedRange"]]
    assert values(sh, CASES) == [["A-001", "新案件"]]
    assert values(sh, HISTORY) == [["A-001", "created"]]


def test_adding_an_existing_id_or_name_fails_the_whole_batch(sh: gspread.Spreadsheet) -> None:
    sh.batch_update({"requests": [add_range("v1")]})

    same_id = batch_error(sh, append(0, [text("x")]), add_range("v1", name="other"))
    same_name = batch_error(sh, append(0, [text("x")]), add_range("v9", name=LOCK.upper()))

    assert same_id["message"] == (
        "Invalid requests[1].addNamedRange: Cannot add named range with id v1, "
        "a named range with that id already exists."
    )
    # Names are unique regardless of case; the wording is Google's.
    assert same_name["message"] == (
        "Invalid requests[1].addNamedRange: Cannot add named range with name "
        "REGISTER_LOCK, a named range with that name already exists."
    )
    assert CAS_LOST.search(same_id["message"]) and CAS_LOST.search(same_name["message"])
    assert values(sh, CASES) == []
    assert [r["namedRangeId"] for r in sh.list_named_ranges()] == ["v1"]


def test_a_failing_request_late_in_the_batch_undoes_the_earlier_ones(
    sh: gspread.Spreadsheet, emulator: SheetsEmulator, register_id: str
) -> None:
    metadata = emulator.metadata(register_id)
    grid_before = emulator.worksheet_properties(register_id, CASES)["gridProperties"]

    error = batch_error(
        sh,
        append(0, [text("A-001")]),
        add_range("v1"),
        delete_range("missing"),
        append(0, [text("A-002")]),
    )

    assert error["message"].startswith("Invalid requests[2].deleteNamedRange:")
    assert values(sh, CASES) == []
    assert sh.list_named_ranges() == []
    assert emulator.metadata(register_id) == metadata
    assert emulator.worksheet_properties(register_id, CASES)["gridProperties"] == grid_before


def test_append_cells_keeps_text_exactly_and_types_other_values(
    sh: gspread.Spreadsheet, emulator: SheetsEmulator, register_id: str
) -> None:
    typed = ["=1+1", "0123", "2026-01-01", "TRUE", "12%", "'quoted", "+86 138", "🌵 留言 😀"]
    row = [
        *(text(v) for v in typed),
        {},
        {"userEnteredValue": {"numberValue": 42.5}},
        {"userEnteredValue": {"boolValue": True}},
        {"userEnteredValue": {"formulaValue": "=J1*2"}},
    ]

    sh.batch_update({"requests": [append(0, row)]})

    assert values(sh, CASES) == [[*typed, "", "42.5", "TRUE", "85"]]
    assert values(sh, CASES, "UNFORMATTED_VALUE") == [[*typed, "", 42.5, True, 85]]
    assert values(sh, CASES, "FORMULA") == [[*typed, "", 42.5, True, "=J1*2"]]
    batch = sh.values_batch_get([f"{CASES}!A1:D1"], params={"valueRenderOption": "FORMULA"})
    assert batch["valueRanges"][0]["values"] == [typed[:4]]
    first = emulator.get_cell(register_id, CASES, "A1")
    assert first is not None and (first.kind, first.value) == ("text", "=1+1")
    assert emulator.get_cell(register_id, CASES, "I1") is None


def test_append_cells_lands_after_the_last_row_with_data_from_column_a(
    sh: gspread.Spreadsheet, emulator: SheetsEmulator, register_id: str
) -> None:
    history_id = sh.worksheet(HISTORY).id
    emulator.set_cells(register_id, CASES, [["head"]])
    emulator.set_cells(register_id, CASES, [["far"]], start="D5")  # rows 2-4 stay blank
    emulator.set_cells(register_id, HISTORY, [["", "", "x"]], start="A7")

    sh.batch_update(
        {
            "requests": [
                append(0, [text("a")], [text("b"), {}, text("c")]),
                append(history_id, [text("h")]),
            ]
        }
    )

    assert values(sh, f"{CASES}!A5:D7") == [["", "", "", "far"], ["a"], ["b", "", "c"]]
    assert values(sh, f"{HISTORY}!A7:C8") == [["", "", "x"], ["h"]]
    assert values(sh, f"{CASES}!A2:D4") == []


def test_append_cells_grows_rows_but_not_columns(
    sh: gspread.Spreadsheet, emulator: SheetsEmulator, register_id: str
) -> None:
    small_id = emulator.add_worksheet(register_id, "小表", rows=2, cols=2)
    emulator.set_cells(register_id, "小表", [["1", "2"], ["3", "4"]], input="RAW")

    sh.batch_update({"requests": [append(small_id, [text("5")], [text("7"), text("8")])]})

    grid = emulator.worksheet_properties(register_id, "小表")["gridProperties"]
    assert grid == {"rowCount": 4, "columnCount": 2}
    assert values(sh, "小表") == [["1", "2"], ["3", "4"], ["5"], ["7", "8"]]

    error = batch_error(sh, append(small_id, [text("a"), text("b"), text("c")]))

    # Google's wording (0-based columns), recorded by googlesheets4 and OpenRefine users.
    assert error["message"] == (
        "Invalid requests[0].appendCells: Attempting to write column: 2, "
        "beyond the last requested column of: 1"
    )
    assert emulator.worksheet_properties(register_id, "小表")["gridProperties"] == grid


def test_named_ranges_are_listed_masked_copied_and_managed_by_gspread(
    gc: gspread.Client, sh: gspread.Spreadsheet, emulator: SheetsEmulator, register_id: str
) -> None:
    history = sh.worksheet(HISTORY)
    assert sh.list_named_ranges() == []
    assert sh.fetch_sheet_metadata(params={"fields": "namedRanges"}) == {}

    reply = history.define_named_range("A1:B2", "历史_头")
    generated = reply["replies"][0]["addNamedRange"]["namedRange"]["namedRangeId"]
    sh.batch_update({"requests": [add_range("v1")]})

    assert generated.isdigit()
    assert sh.list_named_ranges() == [
        {
            "namedRangeId": generated,
            "name": "历史_头",
            "range": {
                "sheetId": history.id,
                "startRowIndex": 0,
                "endRowIndex": 2,
                "startColumnIndex": 0,
                "endColumnIndex": 2,
            },
        },
        {
            "namedRangeId": "v1",
            "name": LOCK,
            "range": {
                "startRowIndex": 0,
                "endRowIndex": 1,
                "startColumnIndex": 0,
                "endColumnIndex": 1,
            },
        },
    ]
    masked = sh.fetch_sheet_metadata(params={"fields": "namedRanges(name)"})
    assert masked == {"namedRanges": [{"name": "历史_头"}, {"name": LOCK}]}
    full = sh.fetch_sheet_metadata()
    assert list(full) == ["spreadsheetId", "properties", "sheets", "namedRanges", "spreadsheetUrl"]
    copy_id = emulator.copy_spreadsheet(register_id)
    assert gc.open_by_key(copy_id).list_named_ranges() == sh.list_named_ranges()

    history.delete_named_range(generated)

    assert [r["namedRangeId"] for r in sh.list_named_ranges()] == ["v1"]
    assert len(gc.open_by_key(copy_id).list_named_ranges()) == 2


@pytest.mark.parametrize(
    "name",
    [
        "A1",
        "xfd1048576",
        "R1C1",
        "rc",
        "R",
        "C5",
        "true",
        "FALSE",
        "2026_lock",
        "has space",
        "lock-1",
        "",
        "x" * 251,
    ],
)
def test_invalid_named_range_names_are_refused(sh: gspread.Spreadsheet, name: str) -> None:
    error = batch_error(sh, add_range(None, name=name))

    assert error["message"].startswith("Invalid requests[0].addNamedRange:")
    assert "is not a valid name for a named range" in error["message"]


def test_valid_names_include_letters_of_any_script_and_underscores(
    sh: gspread.Spreadsheet,
) -> None:
    names = ["_x", "案件_锁", "A1B", "lock_v2", "TRUE_1", "x" * 250]

    sh.batch_update({"requests": [add_range(None, name=name) for name in names]})

    assert [r["name"] for r in sh.list_named_ranges()] == names


def test_unknown_sheets_and_ranges_outside_the_grid_are_refused(sh: gspread.Spreadsheet) -> None:
    wide = add_range("w")
    wide["addNamedRange"]["namedRange"]["range"]["endColumnIndex"] = 27

    assert batch_error(sh, append(12345, [text("x")]))["message"] == (
        "Invalid requests[0].appendCells: No grid with id: 12345"
    )
    assert batch_error(sh, add_range("v1", sheet_id=12345))["message"] == (
        "Invalid requests[0].addNamedRange: No grid with id: 12345"
    )
    assert "outside the grid" in batch_error(sh, wide)["message"]
    assert batch_error(sh, {"appendCells": {"sheetId": 0, "rows": []}})["message"] == (
        "At least one field must be specified in 'fields'."
    )
    assert sh.list_named_ranges() == []


def test_append_cells_writes_values_only_when_fields_asks_for_them(
    sh: gspread.Spreadsheet, emulator: SheetsEmulator, register_id: str
) -> None:
    formats_only = append(0, [text("x")], fields="userEnteredFormat.textFormat.bold")

    sh.batch_update({"requests": [formats_only]})
    sh.batch_update({"requests": [append(0, [text("y")], fields="*")]})

    assert values(sh, CASES) == [["y"]]
    wrong = {"userEnteredValue": {"stringValue": "a", "numberValue": 1}}
    assert "Oneof field 'value' is already set" in batch_error(sh, append(0, [wrong]))["message"]
    number_format = {**text("1"), "userEnteredFormat": {"numberFormat": {"type": "NUMBER"}}}
    refused = batch_error(sh, append(0, [number_format], fields="*"))
    assert "not supported by the Sheets emulator" in refused["message"]
    assert values(sh, CASES) == [["y"]]


def test_named_ranges_follow_inserted_and_deleted_rows(
    sh: gspread.Spreadsheet, emulator: SheetsEmulator, register_id: str
) -> None:
    block = add_range("b")
    block["addNamedRange"]["namedRange"]["range"].update(startRowIndex=2, endRowIndex=5)
    sh.batch_update({"requests": [block, add_range("top", name="top")]})

    def rows_of(range_id: str) -> tuple[int, int] | None:
        for named in sh.list_named_ranges():
            if named["namedRangeId"] == range_id:
                return named["range"]["startRowIndex"], named["range"]["endRowIndex"]
        return None

    dimension = {"sheetId": 0, "dimension": "ROWS"}
    sh.batch_update(
        {
            "requests": [
                {"insertDimension": {"range": {**dimension, "startIndex": 3, "endIndex": 5}}}
            ]
        }
    )
    assert (rows_of("b"), rows_of("top")) == ((2, 7), (0, 1))
    emulator.insert_rows(register_id, CASES, 1, count=1)
    assert (rows_of("b"), rows_of("top")) == ((3, 8), (1, 2))
    sh.batch_update(
        {
            "requests": [
                {"deleteDimension": {"range": {**dimension, "startIndex": 0, "endIndex": 4}}}
            ]
        }
    )
    assert (rows_of("b"), rows_of("top")) == ((0, 4), None)

    # A range whose cells are all gone is #REF! in Sheets: not listed, its name still taken.
    error = batch_error(sh, add_range("again", name="TOP"))
    assert "a named range with that name already exists" in error["message"]
    sh.batch_update({"requests": [delete_range("top")]})
    sh.batch_update({"requests": [add_range("again", name="TOP")]})
    assert rows_of("again") == (0, 1)


def test_update_named_range_renames_and_moves_by_field_mask(sh: gspread.Spreadsheet) -> None:
    history_id = sh.worksheet(HISTORY).id
    sh.batch_update({"requests": [add_range("v1"), add_range("v2", name="other")]})
    moved = {"namedRangeId": "v1", "name": "renamed", "range": {"sheetId": history_id}}

    sh.batch_update({"requests": [{"updateNamedRange": {"namedRange": moved, "fields": "*"}}]})

    assert sh.list_named_ranges()[0] == {
        "namedRangeId": "v1",
        "name": "renamed",
        "range": {"sheetId": history_id},
    }
    clash = {"namedRange": {"namedRangeId": "v1", "name": "OTHER"}, "fields": "name"}
    assert "already exists" in batch_error(sh, {"updateNamedRange": clash})["message"]
    missing = {"namedRange": {"namedRangeId": "nope", "name": "x"}, "fields": "name"}
    assert batch_error(sh, {"updateNamedRange": missing})["message"] == (
        "Invalid requests[0].updateNamedRange: No NamedRange with id: nope"
    )
