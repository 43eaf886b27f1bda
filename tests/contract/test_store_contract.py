"""The store contract: what every backend (SQLite, Google Sheets, …) must do, tested once.

These tests speak only the protocol of ``lib/store/base.py`` — ``init``, ``read``, ``get_row``,
``commit`` with :class:`Update` and :class:`NewId` — never a backend's internals, so each new
store runs the same suite by adding one line to ``STORES`` in ``conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import pytest

from lib.schema import Schema, default_schema
from lib.store.base import (
    Changeset,
    ConflictError,
    NewId,
    RowNotFound,
    Snapshot,
    Store,
    Update,
)

# -- helpers -------------------------------------------------------------------------------


@pytest.fixture
def schema() -> Schema:
    return default_schema()


@pytest.fixture
def opened(store_factory, schema) -> Callable[[], Store]:
    """``opened()``: a store object on this test's register, initialised as open_store does."""

    def open_one() -> Store:
        store = store_factory(schema)
        store.init(schema)
        return store

    return open_one


@pytest.fixture
def store(opened) -> Store:
    return opened()


def case_row(case_id: Any, **values: str) -> dict[str, Any]:
    """A plausible cases row of canonical text (stores do not validate; the service does)."""
    return {
        "case_id": case_id,
        "channel": "12345热线",
        "received_at": "2026-03-02",
        "petitioner": "张三",
        "phone": "13800138000",
        "title": "路灯不亮",
        "content": "某某路的路灯坏了一个月。",
        "status": "待交办",
        "version": "1",
        **values,
    }


def history_row(case_id: Any, new: str = "", action: str = "intake") -> dict[str, Any]:
    return {
        "timestamp": "2026-03-20T10:00:00+08:00",
        "user": "clerk1",
        "case_id": case_id,
        "action": action,
        "field": "",
        "old": "",
        "new": new,
    }


def changeset(*, updates: list[Update] | None = None, **appends: list[dict[str, Any]]) -> Changeset:
    cs = Changeset(updates=list(updates or []))
    for sheet, rows in appends.items():
        cs.append(sheet, *rows)
    return cs


def add_case(store: Store, case_id: Any = None, **values: str) -> str:
    """Append one case (with a NewId unless an id is given); return its id."""
    cid = case_id if case_id is not None else NewId("GA2026-")
    allocated = store.commit(changeset(cases=[case_row(cid, **values)]))
    return allocated[cid] if isinstance(cid, NewId) else cid


def rows_of(store: Store, sheet: str) -> list[dict[str, str]]:
    """A sheet's rows as plain dicts, without the ``_row`` position."""
    frame = store.read([sheet])[sheet]
    return frame.drop(columns=["_row"]).to_dict("records")


def everything(store: Store, schema: Schema) -> dict[str, list[dict[str, str]]]:
    """Every sheet, history included — to prove that a failed commit wrote nothing."""
    snap = store.read(schema.names)
    return {name: snap[name].to_dict("records") for name in schema.names}


# -- init ----------------------------------------------------------------------------------


def test_init_creates_every_sheet_with_every_schema_column(store_factory, schema):
    store = store_factory(schema)
    store.init(schema)

    snap = store.read(schema.names)
    for sheet in schema:
        frame = snap[sheet.name]
        missing = [k for k in sheet.keys if k not in frame.columns]
        assert missing == [], f"{sheet.name} lacks columns {missing}"
        assert "_row" in frame.columns
        assert len(frame) == 0


def test_init_is_idempotent_and_keeps_rows(store_factory, schema):
    store = store_factory(schema)
    store.init(schema)
    case_id = add_case(store)
    before = everything(store, schema)

    assert store.init(schema) == [], "a second init reports nothing to change"
    again = store_factory(schema)
    assert again.init(schema) == [], "so does init from another store object"

    assert everything(store, schema) == before
    assert again.get_row("cases", case_id)["title"] == "路灯不亮"


def test_init_adds_a_new_schema_field_as_a_column_and_keeps_existing_rows(
    store_factory, schema, schema_with_field, tmp_path
):
    store = store_factory(schema)
    store.init(schema)
    case_id = add_case(store, title="旧标题")
    old_row = store.get_row("cases", case_id)

    wider = schema_with_field(
        tmp_path, {"key": "hotline_ticket", "header": "工单编号", "label_en": "Ticket"}
    )
    upgraded = store_factory(wider)
    report = upgraded.init(wider)

    assert report, "init says what it changed"
    frame = upgraded.read(["cases"])["cases"]
    assert "hotline_ticket" in frame.columns
    assert len(frame) == 1
    row = upgraded.get_row("cases", case_id)
    assert row["hotline_ticket"] == ""
    assert {k: row[k] for k in old_row} == old_row

    # The new column is a full citizen: it can be written and read back.
    upgraded.commit(
        changeset(updates=[Update("cases", case_id, {"hotline_ticket": "0012345"}, None)])
    )
    assert upgraded.get_row("cases", case_id)["hotline_ticket"] == "0012345"
    assert upgraded.init(wider) == []


# -- read ----------------------------------------------------------------------------------


def test_read_returns_one_snapshot_of_every_sheet_by_field_key(store, schema):
    first = add_case(store, title="第一件")
    second = add_case(store, title="第二件")
    store.commit(changeset(units=[{"name": "广安区", "kind": "区市县", "version": "1"}]))

    snap = store.read()

    assert isinstance(snap, Snapshot)
    assert isinstance(snap.read_at, dt.datetime) and snap.read_at.tzinfo is not None
    assert snap.source
    for name in schema.names:
        if name != "history":
            assert name in snap, f"a default read holds {name}"
    cases = snap["cases"]
    assert list(cases["case_id"]) == [first, second], "rows come back in the order appended"
    assert list(cases["title"]) == ["第一件", "第二件"]
    assert cases["_row"].is_monotonic_increasing and cases["_row"].is_unique
    assert snap["units"].loc[0, "name"] == "广安区"


def test_read_of_named_sheets_includes_history(store):
    case_id = add_case(store)
    store.commit(changeset(history=[history_row(case_id, "路灯不亮")]))

    snap = store.read(["history", "cases"])

    assert list(snap["history"]["case_id"]) == [case_id]
    assert list(snap["cases"]["case_id"]) == [case_id]


def test_every_cell_reads_back_as_text_and_unset_cells_as_empty_text(store, schema):
    case_id = add_case(store)

    frame = store.read(["cases"])["cases"]
    row = frame.drop(columns=["_row"]).iloc[0].to_dict()
    assert all(isinstance(v, str) for v in row.values()), row
    assert row["unit"] == "" and row["accepted_at"] == ""
    assert store.get_row("cases", case_id)["reply"] == ""


# -- byte-exact values ---------------------------------------------------------------------

LONG_CONTENT = ("留言内容𠮷 abc 123\n" * 3000)[:36000]

ODD_VALUES = {
    "phone with a leading zero": ("phone", "013800138000"),
    "phone with +86 and dashes": ("phone", "+86 138-0013-8000"),
    "formula-looking title": ("title", '=HYPERLINK("http://x","y")'),
    "title starting with +": ("title", "+1 同意楼上的意见"),
    "title starting with -": ("title", "-5℃ 仍未供暖"),
    "title starting with @": ("title", "@市长 请关注"),
    "title starting with a tab": ("title", "\t前面有制表符"),
    "CR, LF and CRLF inside text": ("content", "第一行\r\n第二行\n第三行\r末行"),
    "emoji and astral characters": ("title", "谢谢😀 𠮷野家"),
    "36,000-character content": ("content", LONG_CONTENT),
    "digits with a leading zero": ("title", "0123"),
    "the word TRUE": ("title", "TRUE"),
    "a date-looking text": ("title", "2026-01-01"),
    "a percent-looking text": ("title", "12%"),
    "leading and trailing spaces": ("town", "  浓洄街道  "),
}


@pytest.mark.parametrize(("field", "value"), ODD_VALUES.values(), ids=ODD_VALUES.keys())
def test_appended_values_read_back_byte_exact(store, field, value):
    case_id = add_case(store, **{field: value})

    assert store.get_row("cases", case_id)[field] == value
    frame = store.read(["cases"])["cases"]
    assert frame.loc[0, field] == value
    assert len(frame.loc[0, field]) == len(value)


def test_updated_values_read_back_byte_exact(store):
    ids = [add_case(store) for _ in ODD_VALUES]
    updates = [
        Update("cases", case_id, {field: value, "version": "2"}, expected_version=1)
        for case_id, (field, value) in zip(ids, ODD_VALUES.values(), strict=True)
    ]
    store.commit(changeset(updates=updates))

    for case_id, (field, value) in zip(ids, ODD_VALUES.values(), strict=True):
        assert store.get_row("cases", case_id)[field] == value


# -- ids -----------------------------------------------------------------------------------


def test_new_ids_are_allocated_in_sequence(store):
    ids = [add_case(store) for _ in range(3)]

    assert ids == ["GA2026-000001", "GA2026-000002", "GA2026-000003"]
    assert [r["case_id"] for r in rows_of(store, "cases")] == ids


def test_one_new_id_used_in_several_rows_gets_the_same_id(store):
    nid = NewId("GA2026-")
    instruction = NewId("PS", 6)
    cs = changeset(
        cases=[case_row(nid)],
        history=[history_row(nid, "路灯不亮"), history_row(nid, "批示", action="instruct")],
        instructions=[
            {"instruction_id": instruction, "case_id": nid, "leader": "周局长", "text": "请办理"}
        ],
    )

    allocated = store.commit(cs)

    assert allocated == {nid: "GA2026-000001", instruction: "PS000001"}
    assert [r["case_id"] for r in rows_of(store, "history")] == ["GA2026-000001"] * 2
    assert rows_of(store, "instructions")[0]["case_id"] == "GA2026-000001"
    assert rows_of(store, "instructions")[0]["instruction_id"] == "PS000001"


def test_distinct_new_ids_in_one_commit_get_distinct_ids(store):
    a, b = NewId("GA2026-"), NewId("GA2026-")

    allocated = store.commit(changeset(cases=[case_row(a), case_row(b)]))

    assert allocated == {a: "GA2026-000001", b: "GA2026-000002"}


def test_each_prefix_has_its_own_sequence(store):
    assert add_case(store, NewId("GA2026-")) == "GA2026-000001"
    assert add_case(store, NewId("GA2025-")) == "GA2025-000001"
    assert add_case(store, NewId("GA2026-")) == "GA2026-000002"


def test_new_ids_continue_after_rows_imported_with_explicit_ids(store):
    # An old ledger is imported first, ids and all, out of order.
    for case_id in ("GA2026-000007", "GA2026-000003", "GA2025-000099"):
        add_case(store, case_id)

    assert add_case(store) == "GA2026-000008"

    # More old rows arrive later; one of them takes the next number in line.
    add_case(store, "GA2026-000009")
    assert add_case(store) == "GA2026-000010"
    ids = [r["case_id"] for r in rows_of(store, "cases")]
    assert len(ids) == len(set(ids))


def test_ids_are_never_reused_across_store_objects(opened):
    first, second = opened(), opened()

    assert add_case(first) == "GA2026-000001"
    assert add_case(second) == "GA2026-000002"
    assert add_case(first) == "GA2026-000003"


# -- updates and conflicts -----------------------------------------------------------------


def test_update_with_the_right_expected_version_lands(store):
    case_id = add_case(store)
    before = store.get_row("cases", case_id)

    store.commit(
        changeset(
            updates=[Update("cases", case_id, {"title": "路灯已修好", "version": "2"}, 1)],
            history=[history_row(case_id, "路灯已修好", action="edit")],
        )
    )

    after = store.get_row("cases", case_id)
    assert after["title"] == "路灯已修好"
    assert after["version"] == "2"
    assert {k: v for k, v in after.items() if k not in ("title", "version")} == {
        k: v for k, v in before.items() if k not in ("title", "version")
    }
    assert rows_of(store, "history")[0]["new"] == "路灯已修好"


def test_update_without_an_expected_version_is_not_checked(store):
    case_id = add_case(store, version="7")

    store.commit(changeset(updates=[Update("cases", case_id, {"town": "浓洄街道"})]))

    assert store.get_row("cases", case_id)["town"] == "浓洄街道"


def test_stale_expected_version_raises_conflict_and_writes_nothing(store, schema):
    case_id = add_case(store)
    store.commit(changeset(updates=[Update("cases", case_id, {"version": "2"}, 1)]))
    before = everything(store, schema)

    nid = NewId("GA2026-")
    stale = changeset(
        updates=[Update("cases", case_id, {"title": "过时的修改", "version": "2"}, 1)],
        cases=[case_row(nid)],
        history=[history_row(case_id, "过时的修改", action="edit"), history_row(nid)],
    )
    with pytest.raises(ConflictError) as caught:
        store.commit(stale)

    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert everything(store, schema) == before


def test_a_conflict_in_a_later_update_undoes_the_earlier_ones(store, schema):
    fresh, stale = add_case(store), add_case(store, version="3")
    before = everything(store, schema)

    cs = changeset(
        updates=[
            Update("cases", fresh, {"title": "应当撤销", "version": "2"}, 1),
            Update("cases", stale, {"title": "过时", "version": "3"}, 2),
        ]
    )
    with pytest.raises(ConflictError):
        store.commit(cs)

    assert everything(store, schema) == before


def test_update_of_an_unknown_key_raises_row_not_found_and_writes_nothing(store, schema):
    add_case(store)
    before = everything(store, schema)

    cs = changeset(
        updates=[Update("cases", "GA2026-999999", {"title": "无此案件"}, 1)],
        cases=[case_row(NewId("GA2026-"))],
        history=[history_row("GA2026-999999", "无此案件")],
    )
    with pytest.raises(RowNotFound):
        store.commit(cs)

    assert everything(store, schema) == before


def test_an_empty_changeset_writes_nothing(store, schema):
    add_case(store)
    before = everything(store, schema)

    assert store.commit(Changeset()) == {}
    assert everything(store, schema) == before


# -- fresh reads ---------------------------------------------------------------------------


def test_get_row_reads_afresh_what_another_store_object_wrote(opened):
    reader, writer = opened(), opened()
    case_id = add_case(writer)
    assert reader.get_row("cases", case_id)["version"] == "1"
    reader.read()

    writer.commit(changeset(updates=[Update("cases", case_id, {"version": "2"}, 1)]))

    assert reader.get_row("cases", case_id)["version"] == "2"
    assert reader.read(["cases"])["cases"].loc[0, "version"] == "2"


def test_get_row_of_an_unknown_key_is_none(store):
    add_case(store)

    assert store.get_row("cases", "GA2026-999999") is None
    assert store.get_row("units", "不存在的单位") is None


# -- concurrency ---------------------------------------------------------------------------

THREADS, COMMITS = 4, 100


@pytest.mark.parametrize("objects", [1, 2], ids=["one shared store object", "two store objects"])
def test_concurrent_commits_get_unique_ids_and_lose_nothing(opened, objects):
    stores = [opened() for _ in range(objects)]
    start = threading.Barrier(THREADS)

    def work(t: int) -> None:
        store = stores[t % len(stores)]
        start.wait()
        for i in range(COMMITS):
            nid = NewId("GA2026-")
            title = f"线程{t}-第{i}件"
            store.commit(
                changeset(cases=[case_row(nid, title=title)], history=[history_row(nid, title)])
            )

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(work, t) for t in range(THREADS)]:
            future.result()

    cases = pd.DataFrame(rows_of(stores[0], "cases"))
    history = pd.DataFrame(rows_of(stores[-1], "history"))
    total = THREADS * COMMITS
    assert len(cases) == total
    assert cases["case_id"].is_unique
    assert cases["case_id"].str.fullmatch(r"GA2026-\d{6}").all()
    assert set(cases["title"]) == {
        f"线程{t}-第{i}件" for t in range(THREADS) for i in range(COMMITS)
    }
    assert len(history) == total
    # Each history row carries the id its own case got.
    title_of = dict(zip(cases["case_id"], cases["title"], strict=True))
    assert all(
        title_of[cid] == new for cid, new in zip(history["case_id"], history["new"], strict=True)
    )


def edit_from_what_was_read(
    store: Store, case_id: str, name: str, field: str, both_read: threading.Barrier
) -> str:
    """One actor: read the row's version, wait for the other actor to read too, then write.

    Returns "won" when the commit landed, "lost" on a conflict.
    """
    version = int(store.get_row("cases", case_id)["version"])
    both_read.wait()
    changes = {field: f"{name}填写", "title": f"{name}的标题", "version": str(version + 1)}
    cs = changeset(
        updates=[Update("cases", case_id, changes, expected_version=version)],
        history=[history_row(case_id, name, action="edit")],
    )
    try:
        store.commit(cs)
    except ConflictError:
        return "lost"
    return "won"


def test_two_actors_updating_one_row_from_the_same_version_exactly_one_wins(opened):
    first, second = opened(), opened()
    for _round in range(5):
        case_id = add_case(first)
        both_read = threading.Barrier(2)

        with ThreadPoolExecutor(2) as pool:
            a = pool.submit(edit_from_what_was_read, first, case_id, "甲", "town", both_read)
            b = pool.submit(
                edit_from_what_was_read, second, case_id, "乙", "addressed_to", both_read
            )
            results = {"甲": a.result(), "乙": b.result()}

        assert sorted(results.values()) == ["lost", "won"]
        winner = next(n for n, r in results.items() if r == "won")
        loser_field = "addressed_to" if winner == "甲" else "town"
        winner_field = "town" if winner == "甲" else "addressed_to"
        row = second.get_row("cases", case_id)
        assert row["title"] == f"{winner}的标题"
        assert row[winner_field] == f"{winner}填写"
        assert row[loser_field] == "", "nothing of the loser's change is in the row"
        assert row["version"] == "2"
        edits = [h for h in rows_of(first, "history") if h["case_id"] == case_id]
        assert [h["new"] for h in edits] == [winner]
