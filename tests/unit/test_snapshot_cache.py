"""The register's cached snapshot: reused until something changes, patched after its own writes.

A page run reads one snapshot. After the app's own action the snapshot is patched with the rows
just written instead of read again (on a large register a full read takes seconds); the patched
snapshot must be exactly what a fresh read gives. When anyone else wrote in between, the
register reads everything again.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pandas as pd
import pandas.testing as pdt
import pytest

from lib.auth import User
from lib.i18n import DomainError
from lib.register import Register
from lib.store.base import ConflictError
from lib.store.sqlite import SQLiteStore


class CountingStore(SQLiteStore):
    """A SQLite store that counts full reads (a snapshot of every sheet)."""

    reads = 0

    def read(self, sheets=None):
        if sheets is None:
            CountingStore.reads += 1
        return super().read(sheets)


@pytest.fixture
def reg(tmp_path, clock, admin, intake_case):
    store = CountingStore(tmp_path / "counted.db")
    store.init()
    r = Register(store, clock=clock)
    for unit in ({"name": "广安区", "kind": "区市县"}, {"name": "岳池县", "kind": "区市县"}):
        r.save_unit(admin, unit)
    yield r
    store.close()


def fresh(reg: Register):
    """What a new register on the same file reads."""
    return Register(SQLiteStore(reg.store.path), clock=reg.clock).load()


def assert_same(a, b):
    for name in ("cases", "instructions", "supervisions"):
        left = getattr(a, name).drop(columns=["_row"]).reset_index(drop=True)
        right = getattr(b, name).drop(columns=["_row"]).reset_index(drop=True)
        pdt.assert_frame_equal(left, right, check_dtype=True, obj=name)


VALID = {
    "channel": "人民网领导留言板",
    "received_at": "2026-03-02",
    "petitioner": "张三",
    "phone": "013800138000",
    "region": "广安区",
    "domain": "城建",
    "type": "投诉",
    "title": "小区电梯长期停运",
    "content": "电梯停运两个月。",
}


def test_own_actions_patch_the_snapshot_without_reading_it_again(reg, admin, clerk, handler):
    first = reg.intake(clerk, VALID)
    reg.load()
    reads = CountingStore.reads

    second = reg.intake(clerk, {**VALID, "title": "路灯不亮", "repeat_of": first})
    reg.assign(clerk, first, unit="广安区", assigned_at="2026-03-03")
    reg.accept(handler, first, accepted_at="2026-03-05")
    reg.extend(handler, first, days=10, reason="需要协调")
    reg.instruct(clerk, first, leader="市长", text="请抓紧办理")
    reg.supervise(clerk, first, kind="电话督办", note="催办")
    reg.export_rows(admin, "cases")
    data = reg.load()

    assert CountingStore.reads == reads, "no full read after the app's own writes"
    case = data.cases.set_index("case_id").loc[first]
    assert case["status"] == "办理中"
    assert case["extension_days"] == 10
    assert bool(case["instructed"]) and case["repeats"] == 1
    assert second in set(data.cases["case_id"])
    assert_same(data, fresh(reg))


def test_a_write_by_another_process_forces_a_full_read(reg, clerk):
    cid = reg.intake(clerk, VALID)
    reg.load()
    # Someone else (another process) changes the register...
    other = Register(SQLiteStore(reg.store.path), clock=reg.clock)
    other.assign(clerk, cid, unit="岳池县", assigned_at="2026-03-03")
    # ...and then we write too: our patch must not hide their change.
    reg.instruct(clerk, cid, leader="市长", text="阅")
    reads = CountingStore.reads
    data = reg.load()

    assert CountingStore.reads == reads + 1
    assert data.cases.set_index("case_id").loc[cid, "unit"] == "岳池县"
    assert_same(data, fresh(reg))


def test_a_hand_edit_of_the_file_is_noticed(reg, clerk):
    cid = reg.intake(clerk, VALID)
    reg.load()
    con = sqlite3.connect(reg.store.path)
    con.execute("UPDATE cases SET title = '手工修改' WHERE case_id = ?", (cid,))
    con.commit()
    con.close()

    assert reg.load().cases["title"].tolist() == ["手工修改"]


def test_unit_and_setting_changes_are_read_again(reg, admin):
    reg.load()
    reg.save_unit(admin, {"name": "邻水县", "kind": "区市县"})
    reg.set_setting(admin, "accept_days", "10")
    data = reg.load()
    assert "邻水县" in data.regions()
    assert data.rules.accept_days == 10


def test_a_failed_write_leaves_a_correct_snapshot(reg, clerk, handler):
    cid = reg.intake(clerk, VALID)
    reg.assign(clerk, cid, unit="广安区", assigned_at="2026-03-03")
    reg.load()
    with pytest.raises(ConflictError):
        reg.accept(handler, cid, accepted_at="2026-03-05", version=1)  # stale
    data = reg.load()
    assert data.cases.set_index("case_id").loc[cid, "status"] == "已交办"
    assert_same(data, fresh(reg))


def test_patched_types_match_a_fresh_read_on_an_empty_register(reg, clerk):
    reg.load()
    reg.intake(clerk, VALID)
    data = reg.load()
    assert isinstance(data.cases, pd.DataFrame) and len(data.cases) == 1
    assert_same(data, fresh(reg))


# --- the sign-in page's accounts, one read at a time, the warm-up ---------------------------


class SlowStore(CountingStore):
    """Counts full reads and makes each one take a while (two threads overlap)."""

    def read(self, sheets=None):
        if sheets is None:
            time.sleep(0.3)
        return super().read(sheets)


def test_the_accounts_are_read_without_the_cases(reg, admin, clerk):
    reg.save_user(admin, "clerk1", role="clerk", display_name="李受理", units=[])
    reg.intake(clerk, VALID)
    reg.invalidate()
    reads = CountingStore.reads
    users = reg.users()
    assert CountingStore.reads == reads, "the users sheet alone, not a full snapshot"
    assert users["username"].tolist() == ["clerk1"]
    assert not {f.key for f in reg.schema["users"].fields if f.secret} & set(users.columns)
    full = reg.load()
    pdt.assert_frame_equal(users.drop(columns=["_row"]), full.users.drop(columns=["_row"]))
    assert reg.users() is full.users  # a fresh snapshot serves them
    reg.save_user(admin, "clerk2", role="clerk", display_name="赵受理", units=[])
    assert reg.users()["username"].tolist() == ["clerk1", "clerk2"]  # a change is seen


@pytest.fixture
def slow_reg(tmp_path, clock, admin, clerk):
    """A register with one case whose full reads are slow; nothing cached yet."""
    store = SlowStore(tmp_path / "slow.db")
    store.init()
    r = Register(store, clock=clock)
    r.save_unit(admin, {"name": "广安区", "kind": "区市县"})
    r.intake(clerk, VALID)
    r.invalidate()
    yield r
    store.close()


def test_threads_asking_together_share_one_read(slow_reg):
    r = slow_reg
    reads = CountingStore.reads
    got: list = []
    threads = [threading.Thread(target=lambda: got.append(r.load())) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert CountingStore.reads == reads + 1
    assert got[0] is got[1] is got[2]


def test_the_warm_up_reads_once_in_the_background(slow_reg):
    r = slow_reg
    reads = CountingStore.reads
    assert r.warm_up() is True
    assert r.warm_up() is False  # already reading
    data = r.load()  # waits for the warm-up's read instead of starting another
    assert CountingStore.reads == reads + 1
    assert data.cases["title"].tolist() == [VALID["title"]]
    assert r.warm_up() is False  # cached: nothing to do


def test_a_sign_in_patches_the_accounts_instead_of_reading_everything(reg, admin, clerk):
    """Every sign-in writes its account's row: on a large register a full re-read for each
    would cost every session seconds."""
    reg.save_user(admin, "clerk1", role="clerk", display_name="李受理", units=[], password="pw-1")
    reg.intake(clerk, VALID)
    reg.load()
    reads = CountingStore.reads
    with pytest.raises(DomainError):
        reg.authenticate("clerk1", "wrong")
    reg.authenticate("clerk1", "pw-1")
    data = reg.load()
    assert CountingStore.reads == reads, "patched, not read again"
    row = data.users.set_index("username").loc["clerk1"]
    assert row["failed_count"] == 0 and str(row["last_sign_in"]).startswith("2026")
    want = fresh(reg).users.drop(columns=["_row"]).reset_index(drop=True)
    pdt.assert_frame_equal(data.users.drop(columns=["_row"]).reset_index(drop=True), want)
    assert not {f.key for f in reg.schema["users"].fields if f.secret} & set(data.users.columns)
    # A new password changes a column the snapshot does not hold: read again.
    reg.change_password(User("clerk1", "李受理", "clerk"), "pw-2-longer-Secret", current="pw-1")
    reg.load()
    assert CountingStore.reads == reads + 1
