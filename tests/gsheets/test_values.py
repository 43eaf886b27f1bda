"""Every tricky value survives a round trip through gspread's real HTTP code, as text.

Sheets is unsafe by default: typed input (USER_ENTERED) turns ``0123`` into 123, ``=…`` into a
formula and ``2026-01-01`` into a date. The store writes RAW only, so what the app saved is
what the sheet holds and what the app reads back — in process and over loopback HTTP.
"""

from __future__ import annotations

import pytest

from lib.store import open_store
from lib.store.base import Changeset, Update
from lib.store.gsheets import GSheetsStore, SheetsError
from tests.gsheets.conftest import intake

LONG = ("留言内容𠮷 abc 123\n" * 3000)[:36000]

TRICKY = {
    "phone with a leading zero": ("phone", "013800138000"),
    "phone with +86 and dashes": ("phone", "+86 138-0013-8000"),
    "HYPERLINK formula text": ("title", '=HYPERLINK("http://example.com","点我")'),
    "formula text that would compute": ("title", "=1+1"),
    "title starting with +": ("title", "+1 同意楼上的意见"),
    "title starting with -": ("title", "-5℃ 仍未供暖"),
    "title starting with @": ("title", "@市长 请关注"),
    "a quote that USER_ENTERED would eat": ("title", "'0123"),
    "emoji": ("title", "谢谢😀👍🏽 𠮷野家"),
    "36,000 characters": ("content", LONG),
    "the full 50,000 characters": ("content", "长" * 50_000),
    "digits with a leading zero": ("title", "0123"),
    "TRUE as text": ("title", "TRUE"),
    "a date as text": ("title", "2026-01-01"),
    "a percent as text": ("title", "12%"),
    "a number in exponent form": ("title", "1E5"),
    "CR LF inside": ("content", "第一行\r\n第二行\n末行"),
    "leading and trailing spaces": ("town", "  浓洄街道  "),
}


@pytest.fixture(params=["in_process", "loopback"])
def any_store(request, make_store, served, sheet_id) -> GSheetsStore:
    """A store in process, then one opened by URL over loopback HTTP (SHEETS_EMULATOR_HOST)."""
    if request.param == "in_process":
        return make_store()
    store = open_store(f"gsheets://{sheet_id}")
    assert isinstance(store, GSheetsStore)
    return store


@pytest.mark.parametrize(("field", "value"), TRICKY.values(), ids=TRICKY.keys())
def test_tricky_values_round_trip_as_text(any_store, emulator, sheet_id, field, value):
    case_id = intake(any_store, **{field: value})

    assert any_store.get_row("cases", case_id)[field] == value
    assert any_store.read(["cases"])["cases"].loc[0, field] == value
    # In the sheet itself it is a plain text cell: no formula, no number, no date.
    header = emulator.get_grid(sheet_id, "案件")[0]
    col = header.index(any_store.schema["cases"].field(field).header)
    cell = emulator.get_grid(sheet_id, "案件", render="CELLS")[1][col]
    assert cell.formula is None and cell.value == value and cell.fmt is None


@pytest.mark.parametrize(("field", "value"), TRICKY.values(), ids=TRICKY.keys())
def test_tricky_values_survive_an_update(store, field, value):
    case_id = intake(store)

    store.commit(Changeset(updates=[Update("cases", case_id, {field: value, "version": "2"}, 1)]))

    assert store.get_row("cases", case_id)[field] == value


def test_every_write_is_raw(store, emulator):
    emulator.reset_counts()
    case_id = intake(store, title="=1+1")
    store.commit(Changeset(updates=[Update("cases", case_id, {"town": "0123", "version": "2"}, 1)]))

    writes = [e for e in emulator.request_log if e.method != "GET"]
    # values.* writes: valueInputOption RAW; spreadsheets:batchUpdate (the intake's rows):
    # appendCells with stringValue only, which Sheets never parses either
    options = set()
    kinds = set()
    for e in writes:
        if ":batchUpdate" in e.url and "/values" not in e.url:
            for req in e.body["requests"]:
                for cells in req.get("appendCells", {}).get("rows", []):
                    for cell in cells["values"]:
                        kinds |= set(cell.get("userEnteredValue", {}))
            continue
        options.add(
            e.url.split("valueInputOption=")[1].split("&")[0]
            if "valueInputOption=" in e.url
            else (e.body or {}).get("valueInputOption")
        )
    assert writes and options == {"RAW"} and kinds == {"stringValue"}
    assert store.get_row("cases", case_id)["title"] == "=1+1"


def test_more_than_50000_characters_is_refused_clearly_and_nothing_is_written(store, emulator):
    with pytest.raises(SheetsError) as caught:
        intake(store, content="长" * 50_001)

    assert "50000" in caught.value.message("zh")
    assert len(store.read(["cases", "history"])["cases"]) == 0
    assert len(store.read(["history"])["history"]) == 0


def test_unset_cells_read_as_empty_text(store):
    case_id = intake(store)

    row = store.get_row("cases", case_id)
    assert row["unit"] == "" and row["reply"] == ""
    frame = store.read(["cases"])["cases"]
    assert all(isinstance(v, str) for v in frame.drop(columns=["_row"]).iloc[0])
