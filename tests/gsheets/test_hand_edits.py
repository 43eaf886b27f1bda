"""A sheet that people also edit by hand: reordered columns, their own columns, blank rows,
sorting, values typed in the Sheets UI. The store reads it sensibly, writes the right cells,
and reports what it cannot read — by sheet row number, never by crashing or dropping data.
"""

from __future__ import annotations

import datetime as dt

import pytest

from lib import workflow
from lib.health import check_snapshot
from lib.schema import default_schema
from lib.store.base import Changeset, ConflictError, Update
from lib.store.gsheets import GSheetsStore, SheetsError, col_letter
from tests.fakes.sheets_emulator import SheetsEmulator
from tests.gsheets.conftest import intake

CASES = "案件"
SCHEMA = default_schema()
HEADER = SCHEMA["cases"].headers


def grid(emulator: SheetsEmulator, sheet_id: str, title: str = CASES) -> list[list]:
    return emulator.get_grid(sheet_id, title, render="FORMULA")


def cell_of(emulator, sheet_id, case_id: str, header: str, title: str = CASES):
    rows = grid(emulator, sheet_id, title)
    col = rows[0].index(header)
    key = rows[0].index("案件编号")
    found = [r for r in rows[1:] if r[key] == case_id]
    assert len(found) == 1, found
    return found[0][col]


def rewrite_columns(emulator, sheet_id, order: list[str], title: str = CASES) -> None:
    """A person drags columns into ``order`` (by header); the other columns follow."""
    rows = grid(emulator, sheet_id, title)
    head = rows[0]
    cols = [head.index(h) for h in order] + [i for i, h in enumerate(head) if h not in order]
    moved = [[r[c] if c < len(r) else "" for c in cols] for r in rows]
    emulator.set_cells(sheet_id, title, moved, input="RAW")


def update(store: GSheetsStore, case_id: str, version: int, **changes: str) -> None:
    store.commit(
        Changeset(
            updates=[Update("cases", case_id, {**changes, "version": str(version + 1)}, version)]
        )
    )


# -- columns -------------------------------------------------------------------------------


def test_columns_reordered_after_the_read_the_right_cells_change(store, emulator, sheet_id):
    first, second = intake(store, title="第一件"), intake(store, title="第二件")
    store.read()  # the store now "knows" where the columns are

    rewrite_columns(emulator, sheet_id, ["标题", "版本", "联系电话", "案件编号"])
    update(store, second, 1, title="改过的标题", town="浓洄街道")

    assert cell_of(emulator, sheet_id, second, "标题") == "改过的标题"
    assert cell_of(emulator, sheet_id, second, "乡镇街道") == "浓洄街道"
    assert cell_of(emulator, sheet_id, second, "版本") == "2"
    assert cell_of(emulator, sheet_id, first, "标题") == "第一件"
    frame = store.read(["cases"])["cases"]
    assert list(frame["title"]) == ["第一件", "改过的标题"]
    assert store.get_row("cases", second)["phone"] == "13800138000"


def test_people_s_own_columns_are_kept_read_and_never_written(store, emulator, sheet_id):
    case_id = intake(store)
    width = len(grid(emulator, sheet_id)[0])
    emulator.set_cells(
        sheet_id, CASES, [["备注", "回访人"], ["已电话联系", "=1+1"]], start=f"{_col(width)}1"
    )

    update(store, case_id, 1, title="新标题")
    second = intake(store, title="第二件")

    frame = store.read(["cases"])["cases"]
    assert list(frame["备注"]) == ["已电话联系", ""]
    assert list(frame["回访人"]) == ["=1+1", ""], "a formula reads as what was typed"
    assert cell_of(emulator, sheet_id, case_id, "备注") == "已电话联系"
    assert cell_of(emulator, sheet_id, second, "备注") == ""


def test_a_new_schema_field_goes_after_people_s_columns(
    make_store, emulator, sheet_id, schema_with_field, tmp_path
):
    store = make_store()
    intake(store)
    width = len(grid(emulator, sheet_id)[0])
    emulator.set_cells(sheet_id, CASES, [["备注"], ["保留"]], start=f"{_col(width)}1")
    rewrite_columns(emulator, sheet_id, ["标题", "案件编号"])
    before = grid(emulator, sheet_id)

    wider = schema_with_field(tmp_path, {"key": "ticket", "header": "工单编号", "label_en": "T"})
    upgraded = make_store(schema=wider, init=False)
    report = upgraded.init(wider)

    after = grid(emulator, sheet_id)
    assert report == [f"新增列 cases.ticket（案件!{_col(width + 1)}）"]
    assert after[0] == [*before[0], "工单编号"], "nothing moved, the new column is last"
    assert [r[: len(before[0])] for r in after[1:]] == [
        r + [""] * (len(before[0]) - len(r)) for r in before[1:]
    ]
    assert upgraded.init(wider) == []


def test_a_deleted_column_is_reported_and_init_adds_it_back_at_the_end(store, emulator, sheet_id):
    case_id = intake(store, town="浓洄街道")
    rows = grid(emulator, sheet_id)
    col = rows[0].index("乡镇街道")
    emulator.set_cells(sheet_id, CASES, [[""], [""]], start=f"{_col(col)}1")

    snap = store.read(["cases"])
    assert snap["cases"].loc[0, "town"] == ""
    assert any("乡镇街道" in p["problem"] for p in snap.problems)
    update(store, case_id, 1, title="照常修改")
    assert store.init() == [f"新增列 cases.town（案件!{_col(len(rows[0]))}）"]


def test_duplicate_headers_and_headerless_data_are_kept_and_reported(store, emulator, sheet_id):
    intake(store, title="原标题")
    width = len(grid(emulator, sheet_id)[0])
    emulator.set_cells(
        sheet_id,
        CASES,
        [["标题", ""], ["另一个标题", "无名数据"]],
        start=f"{_col(width)}1",
        input="RAW",
    )

    snap = store.read(["cases"])
    frame = snap["cases"]
    assert frame.loc[0, "title"] == "原标题", "the first 标题 column is the field"
    assert frame.loc[0, f"标题（{_col(width)}列）"] == "另一个标题"
    assert frame.loc[0, f"（{_col(width + 1)}列）"] == "无名数据"
    codes = sorted(p["code"] for p in snap.problems)
    assert codes == ["gs.p.duplicate_header", "gs.p.no_header"]

    # ``check`` (and the data health page) lists them, in either language.
    problems = check(store)
    assert len(problems[problems["row"] == 1]) == 2
    assert problems["problem"].str.contains("标题").any()
    english = check_snapshot(
        store.read(SCHEMA.names), SCHEMA, workflow.Rules(), dt.date(2026, 3, 20), "en"
    )
    headers = english[english["row"] == 1]
    assert set(headers["sheet"]) == {"Cases"}
    assert not headers["problem"].str.contains("重复").any()


def test_a_tab_named_in_english_with_english_headers_is_used(emulator):
    keys = ["case_id", "title", "received_at", "version"]
    sid = emulator.create_spreadsheet(
        "ledger",
        worksheets=[
            {"title": "cases", "values": [keys, ["GA2026-000007", "旧件", "2026-01-05", "1"]]}
        ],
    )
    store = GSheetsStore(sid, session=emulator.session())

    report = store.init()

    titles = [w["properties"]["title"] for w in emulator.metadata(sid)["sheets"]]
    assert "案件" not in titles and titles[0] == "cases"
    assert not any(line.startswith("新建工作表 案件") for line in report)
    assert store.get_row("cases", "GA2026-000007")["title"] == "旧件"
    assert intake(store) == "GA2026-000008"


# -- rows ----------------------------------------------------------------------------------


def test_rows_sorted_and_inserted_before_an_update_the_right_row_changes(store, emulator, sheet_id):
    ids = [intake(store, title=t) for t in ("甲", "乙", "丙")]
    assert store.get_row("cases", ids[1])["version"] == "1"  # a page read the case

    emulator.insert_rows(sheet_id, CASES, 2, [["手工插入"]], input="RAW")
    emulator.insert_rows(sheet_id, CASES, 2, count=2)
    emulator.sort_rows(sheet_id, CASES, HEADER.index("标题"), descending=True)
    update(store, ids[1], 1, title="乙（已改）", reply="已答复")

    assert cell_of(emulator, sheet_id, ids[1], "标题") == "乙（已改）"
    assert cell_of(emulator, sheet_id, ids[1], "答复内容") == "已答复"
    assert cell_of(emulator, sheet_id, ids[0], "标题") == "甲"
    assert cell_of(emulator, sheet_id, ids[2], "标题") == "丙"
    assert cell_of(emulator, sheet_id, ids[0], "答复内容") == ""


def test_a_version_changed_by_someone_else_is_a_conflict_even_after_a_sort(
    store, emulator, sheet_id
):
    ids = [intake(store, title=t) for t in ("甲", "乙")]
    other = GSheetsStore(sheet_id, session=emulator.session())
    update(other, ids[0], 1, title="别人改的")
    emulator.sort_rows(sheet_id, CASES, HEADER.index("标题"))

    with pytest.raises(ConflictError) as caught:
        update(store, ids[0], 1, title="我改的")

    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert cell_of(emulator, sheet_id, ids[0], "标题") == "别人改的"


def test_blank_rows_are_skipped_and_rows_keep_their_sheet_numbers(store, emulator, sheet_id):
    ids = [intake(store, title=t) for t in ("甲", "乙")]
    emulator.insert_rows(sheet_id, CASES, 3, count=2)  # two empty rows between 甲 and 乙

    frame = store.read(["cases"])["cases"]
    assert list(frame["_row"]) == [2, 5]
    new = intake(store, title="丙")
    frame = store.read(["cases"])["cases"]
    assert list(frame["case_id"]) == [*ids, new]
    assert list(frame["_row"]) == [2, 5, 6]


def test_duplicate_ids_refuse_an_update_and_are_reported(store, emulator, sheet_id):
    case_id = intake(store)
    row = grid(emulator, sheet_id)[1]
    emulator.set_cells(sheet_id, CASES, [row], start="A3", input="RAW")  # a copied row

    with pytest.raises(SheetsError) as caught:
        update(store, case_id, 1, title="改哪一行？")

    assert caught.value.key == "gs.duplicate_key"
    assert "第 2、3 行" in caught.value.message("zh")
    problems = check(store)
    assert set(problems.loc[problems["problem"].str.contains("重复"), "row"]) == {2, 3}


def test_a_renamed_tab_reads_as_missing_not_a_crash(store, emulator, sheet_id):
    gc = emulator.client()
    gc.open_by_key(sheet_id).worksheet("承办单位").update_title("单位名单")

    snap = store.read()

    assert len(snap["units"]) == 0
    assert any(p["code"] == "gs.p.missing_sheet" for p in snap.problems)
    assert store.init()[0].startswith("新建工作表 承办单位"), "init makes a new one, keeps theirs"


def test_an_append_lands_under_the_headers_even_when_column_a_is_empty(emulator):
    # A person inserted an empty column A: Google's append "table" then starts at column B.
    sid = emulator.create_spreadsheet("t", worksheets=[{"title": CASES, "cols": 50}])
    store = GSheetsStore(sid, session=emulator.session())
    store.init()
    first = intake(store, title="第一件")
    sheet_id = emulator.metadata(sid)["sheets"][0]["properties"]["sheetId"]
    emulator.client().open_by_key(sid).batch_update(
        {
            "requests": [
                {
                    "insertDimension": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": 0,
                            "endIndex": 1,
                        }
                    }
                }
            ]
        }
    )

    second = intake(store, title="第二件")

    rows = grid(emulator, sid)
    assert rows[0][0] == "" and rows[2][0] == ""
    assert cell_of(emulator, sid, second, "标题") == "第二件"
    assert cell_of(emulator, sid, first, "标题") == "第一件"
    assert list(store.read(["cases"])["cases"]["title"]) == ["第一件", "第二件"]


# -- values typed by hand ------------------------------------------------------------------


def typed_row(**values) -> list:
    row = [""] * len(HEADER)
    for key, value in values.items():
        row[SCHEMA["cases"].keys.index(key)] = value
    return row


def test_values_typed_in_the_sheets_ui_are_read_sensibly(store, emulator, sheet_id):
    intake(store)  # row 2 written by the app
    emulator.set_cells(
        sheet_id,
        CASES,
        [
            typed_row(
                case_id="GA2026-000100",
                channel="来信",
                received_at="2026-03-02",  # Sheets makes it a date (a serial number)
                accepted_at="3/5/2026",  # en_US typing: also a date
                concluded_at="'2026/3/9",  # typed as text
                petitioner="李四",
                phone="13800138000",  # turned into a number
                is_first="TRUE",
                confidential="false",
                extension_days="5",
                title="=1+1",  # a formula
                content="手工录入",
                version="1",
                updated_at="2026-03-02 10:30",
            )
        ],
        start="A3",
    )
    assert isinstance(emulator.get_cell(sheet_id, CASES, "G3").value, int)  # really a number

    row = store.get_row("cases", "GA2026-000100")

    assert row["received_at"] == "2026-03-02"
    assert row["accepted_at"] == "2026-03-05"
    assert row["concluded_at"] == "2026/3/9"
    assert row["phone"] == "13800138000"
    assert (row["is_first"], row["confidential"]) == ("TRUE", "FALSE")
    assert (row["extension_days"], row["version"]) == ("5", "1")
    assert row["title"] == "=1+1", "never evaluated"
    assert row["updated_at"] == "2026-03-02T10:30:00+00:00"
    frame = store.read(["cases"])["cases"]
    assert frame.set_index("case_id").loc["GA2026-000100", "received_at"] == "2026-03-02"
    typed = SCHEMA["cases"].typed_frame(frame).set_index("case_id")
    assert typed.loc["GA2026-000100", "concluded_at"] == dt.datetime(2026, 3, 9)
    assert bool(typed.loc["GA2026-000100", "is_first"]) is True
    # And the app can work on the hand-made row.
    update(store, "GA2026-000100", 1, reply="已答复")
    assert store.get_row("cases", "GA2026-000100")["version"] == "2"


def test_a_hand_made_row_without_a_version_can_be_updated(store, emulator, sheet_id):
    intake(store)
    emulator.set_cells(
        sheet_id, CASES, [typed_row(case_id="GA2026-000050", title="手工")], start="A3"
    )

    update(store, "GA2026-000050", 0, title="补全")

    assert store.get_row("cases", "GA2026-000050")["version"] == "1"


def test_an_id_number_typed_as_a_number_is_reported_with_its_row(store, emulator, sheet_id):
    intake(store)
    emulator.set_cells(
        sheet_id,
        CASES,
        [typed_row(case_id="GA2026-000009", id_number="110105194912310021")],
        start="A4",
    )

    snap = store.read(["cases"])

    lost = [p for p in snap.problems if p["code"] == "gs.p.precision"]
    assert [(p["row"], p["field"]) for p in lost] == [(4, "身份证号")]
    assert "15" in lost[0]["problem"]


def test_check_reports_unreadable_cells_with_the_sheet_row_number(store, emulator, sheet_id):
    intake(store)
    emulator.insert_rows(sheet_id, CASES, 3, count=1)
    emulator.set_cells(
        sheet_id,
        CASES,
        [
            typed_row(
                case_id="GA2026-000077",
                channel="微博",
                received_at="上个月",
                petitioner="王五",
                title="手工",
                content="手工",
                version="1",
                is_first="也许",
            )
        ],
        start="A4",
    )

    problems = check(store)

    bad = problems[problems["key"] == "GA2026-000077"]
    assert set(bad["row"]) == {4}
    assert {"渠道", "登记日期", "初信初访"} <= set(bad["field"])


def check(store: GSheetsStore):
    snap = store.read(SCHEMA.names)
    rules = workflow.Rules.from_settings({})
    return check_snapshot(snap, SCHEMA, rules, dt.date(2026, 3, 20))


def _col(index: int) -> str:
    return col_letter(index)


def test_a_row_moved_since_the_last_read_is_still_found_by_get_row(store, emulator, sheet_id):
    ids = [intake(store, title=t) for t in ("甲", "乙", "丙")]
    store.read()
    emulator.sort_rows(sheet_id, CASES, HEADER.index("标题"), descending=True)
    emulator.insert_rows(sheet_id, CASES, 2, count=1)

    assert store.get_row("cases", ids[0])["title"] == "甲"
    assert store.get_row("cases", ids[2])["title"] == "丙"


def test_a_tab_renamed_to_its_english_name_after_opening_is_found_again(store, emulator, sheet_id):
    case_id = intake(store)
    emulator.client().open_by_key(sheet_id).worksheet("案件").update_title("Cases")

    update(store, case_id, 1, title="改名之后")

    assert store.get_row("cases", case_id)["title"] == "改名之后"
    assert list(store.read(["cases"])["cases"]["title"]) == ["改名之后"]
