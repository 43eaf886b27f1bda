"""Concurrent intakes never share an id — between threads, store objects and processes.

Inside one process the store serialises commits per spreadsheet. Across processes nothing is
shared but the sheet, so ids come from claims appended to the hidden ``_ids`` worksheet in one
atomic batch with a compare-and-swap on a named range (``liuyan_ids_<k>``): a writer that saw an
old end of the log is refused whole, reads what it missed and claims again above it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from lib.store.gsheets import GSheetsStore, SheetsError, emulator_session
from tests.gsheets.conftest import intake
from tests.gsheets.emulated import FAST
from tests.gsheets.faults import Aim, aimed_session

ROOT = Path(__file__).resolve().parents[2]


def frames(store: GSheetsStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    snap = store.read(["cases", "history"])
    return snap["cases"], snap["history"]


def assert_consistent(cases: pd.DataFrame, history: pd.DataFrame, expected: int) -> None:
    assert len(cases) == expected and cases["case_id"].is_unique
    assert cases["case_id"].str.fullmatch(r"GA2026-\d{6}").all()
    assert len(history) == expected
    title_of = dict(zip(cases["case_id"], cases["title"], strict=True))
    assert all(title_of[c] == n for c, n in zip(history["case_id"], history["new"], strict=True))


def test_stores_acting_as_separate_processes_over_loopback_get_unique_ids(
    make_store, served, sheet_id
):
    make_store()  # initialise
    threads, each = 6, 8

    def work(t: int) -> None:
        # Its own HTTP connection and no shared lock: as another process would be.
        store = GSheetsStore(
            sheet_id, session=emulator_session(served.address), policy=FAST, process_lock=False
        )
        for i in range(each):
            intake(store, title=f"进程{t}-第{i}件")

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(work, t) for t in range(threads)]:
            future.result()

    cases, history = frames(make_store())
    assert_consistent(cases, history, threads * each)


def test_a_claim_that_slips_in_between_is_seen_and_the_next_number_taken(
    make_store, emulator, sheet_id
):
    setup = make_store()
    other = GSheetsStore(sheet_id, session=emulator.session(), policy=FAST, process_lock=False)
    # Just before our intake's write reaches Google, another process takes GA2026-000001.
    aim = Aim("POST", f"{sheet_id}:batchUpdate", None, before=lambda: intake(other, title="别人的"))
    mine = GSheetsStore(
        sheet_id, session=aimed_session(emulator, aim), policy=FAST, process_lock=False
    )

    assert intake(mine, title="我的") == "GA2026-000002"

    cases, history = frames(setup)
    assert_consistent(cases, history, 2)
    assert list(cases["title"]) == ["别人的", "我的"]
    claims = emulator.get_grid(sheet_id, "_ids")[1:]
    # ours, proposed as 1 before we saw theirs, was refused whole (nothing of it written)
    assert [(c[0], c[1], c[5]) for c in claims] == [
        ("cases:GA2026-", "1", "liuyan_ids_1"),  # the other process, first of the chain
        ("cases:GA2026-", "2", "liuyan_ids_2"),  # ours, on the second try
    ]
    named = emulator.metadata(sheet_id).get("namedRanges", [])
    assert sorted(n["namedRangeId"] for n in named) == ["liuyan_ids_2", "liuyan_ids_base"]


@pytest.mark.slow
def test_three_processes_doing_intakes_at_once_get_unique_ids(make_store, served, sheet_id):
    make_store()
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from lib.store import open_store
        from tests.gsheets.conftest import intake
        store = open_store("gsheets://{sheet_id}")
        for i in range(12):
            intake(store, title=f"{{sys.argv[1]}}-{{i}}")
        """
    )
    env = {**os.environ, "SHEETS_EMULATOR_HOST": served.address}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, name], env=env, cwd=ROOT)
        for name in ("甲", "乙", "丙")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]

    cases, history = frames(make_store())
    assert_consistent(cases, history, 36)


def test_threads_sharing_one_store_get_consecutive_ids(store):
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda i: intake(store, title=f"第{i}件"), range(20)))

    assert sorted(ids) == [f"GA2026-{n:06d}" for n in range(1, 21)]


def named_ranges(emulator, sheet_id: str) -> list[str]:
    return sorted(n["namedRangeId"] for n in emulator.metadata(sheet_id).get("namedRanges", []))


def test_a_deleted_marker_stops_new_ids_clearly_until_init_puts_it_back(
    make_store, emulator, sheet_id
):
    store = make_store()
    assert intake(store) == "GA2026-000001"
    # a person tidies 数据 > 命名区域 and deletes the marker
    person = emulator.client().open_by_key(sheet_id)
    person.batch_update({"requests": [{"deleteNamedRange": {"namedRangeId": "liuyan_ids_1"}}]})

    with pytest.raises(SheetsError) as caught:
        intake(store, title="不会写入")
    assert caught.value.key == "gs.marker_lost"
    assert "python -m lib init" in caught.value.message("zh")
    cases, history = frames(store)
    assert len(cases) == 1 and len(history) == 1, "nothing of the refused intake is written"

    report = make_store(init=False).init()  # what every process start (and the CLI's init) does

    assert any("liuyan_ids_1" in line for line in report)
    assert named_ranges(emulator, sheet_id) == ["liuyan_ids_1", "liuyan_ids_base"]
    assert intake(store, title="修复后") == "GA2026-000002"
    assert_consistent(*frames(store), 2)


def test_a_claim_log_from_before_markers_is_continued(make_store, emulator, sheet_id):
    make_store()
    # claims written by the store's earlier version (no marker column), up to number 7
    emulator.set_cells(
        sheet_id,
        "_ids",
        [
            ["cases:GA2026-", "1", "5", "t1", "2026-03-01T02:00:00+00:00"],
            ["cases:GA2026-", "6", "2", "t2", "2026-03-02T02:00:00+00:00"],
        ],
        start="A2",
        input="RAW",
    )
    store = make_store()

    assert intake(store) == "GA2026-000008"
    assert named_ranges(emulator, sheet_id) == ["liuyan_ids_1", "liuyan_ids_base"]
    assert intake(store) == "GA2026-000009"
    assert named_ranges(emulator, sheet_id) == ["liuyan_ids_2", "liuyan_ids_base"]


def test_rows_deleted_from_the_claim_log_are_read_again_whole(make_store, emulator, sheet_id):
    make_store()
    mine = GSheetsStore(sheet_id, session=emulator.session(), policy=FAST, process_lock=False)
    other = GSheetsStore(sheet_id, session=emulator.session(), policy=FAST, process_lock=False)
    assert [intake(mine), intake(mine)] == ["GA2026-000001", "GA2026-000002"]
    assert intake(other) == "GA2026-000003"
    assert intake(mine) == "GA2026-000004"  # this process has now read the log to row 4
    emulator.delete_rows(sheet_id, "_ids", 2, count=2)  # a person tidies the hidden log
    # the next claim lands on a row this process already read (another claim was there)
    assert intake(other) == "GA2026-000005"

    assert intake(mine) == "GA2026-000006"
    assert_consistent(*frames(mine), 6)
