"""Concurrent intakes never share an id — between threads, store objects and processes.

Inside one process the store serialises commits per spreadsheet. Across processes nothing is
shared but the sheet, so ids come from claims appended to the hidden ``_ids`` worksheet:
Google serialises appends, and the earliest claim of a number wins.
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

from lib.store.gsheets import GSheetsStore, emulator_session
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
    # Just before our claim reaches Google, another process takes GA2026-000001.
    aim = Aim("POST", "'_ids':append", None, before=lambda: intake(other, title="别人的"))
    mine = GSheetsStore(
        sheet_id, session=aimed_session(emulator, aim), policy=FAST, process_lock=False
    )

    assert intake(mine, title="我的") == "GA2026-000002"

    cases, history = frames(setup)
    assert_consistent(cases, history, 2)
    claims = emulator.get_grid(sheet_id, "_ids")[1:]
    assert [(c[0], c[1]) for c in claims] == [
        ("cases:GA2026-", "1"),  # the other process
        ("cases:GA2026-", "1"),  # ours, proposed before we saw theirs: loses
        ("cases:GA2026-", "2"),  # ours again
    ]


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
