"""API calls per operation: Google allows 60 reads and 60 writes a minute per user.

A page run reads the whole register in one ``values:batchGet``; an update is one read (to find
the row again by key and check its version) and one ``values:batchUpdate``; an intake is one
read and one write whatever the size of the sheet.
"""

from __future__ import annotations

from lib.register import Register
from lib.store.base import Changeset, NewId, Update
from tests.gsheets.conftest import case_row, history_row, intake


def calls(emulator) -> dict[str, int]:
    return {k: v for k, v in emulator.counts.items() if v}


def test_a_page_read_of_every_sheet_is_one_batch_get(store, emulator):
    for _ in range(3):
        intake(store)
    emulator.reset_counts()

    snap = store.read()

    assert calls(emulator) == {"values.batchGet": 1}
    assert set(snap.frames) == {
        "cases",
        "units",
        "instructions",
        "supervisions",
        "users",
        "settings",
    }


def test_an_update_is_one_read_and_one_batch_update(store, emulator):
    case_id = intake(store)
    emulator.reset_counts()

    store.commit(Changeset(updates=[Update("cases", case_id, {"title": "新", "version": "2"}, 1)]))

    assert calls(emulator) == {"values.batchGet": 1, "values.batchUpdate": 1}
    body = emulator.request_log[-1].body
    assert {d["range"] for d in body["data"]} == {"'案件'!M2", "'案件'!AM2"}, "title, version"


def test_an_update_with_its_history_row_adds_one_append(store, emulator):
    case_id = intake(store)
    emulator.reset_counts()

    store.commit(
        Changeset(
            updates=[Update("cases", case_id, {"title": "新", "version": "2"}, 1)],
            appends={"history": [history_row(case_id, "新", action="edit")]},
        )
    )

    assert calls(emulator) == {"values.batchGet": 1, "values.batchUpdate": 1, "values.append": 1}


def test_an_intake_is_one_read_and_one_write_however_big_the_sheet(store, emulator):
    intake(store)
    emulator.reset_counts()
    intake(store)
    small = calls(emulator)

    cs = Changeset()
    cs.append("cases", *[case_row(NewId("GA2026-")) for _ in range(1500)])
    store.commit(cs)
    emulator.reset_counts()
    intake(store)

    # the fresh read (headers, key column, claim log), then the claim, the case and its
    # history in one atomic batch
    assert small == calls(emulator) == {"values.batchGet": 1, "spreadsheets.batchUpdate": 1}


def test_get_row_after_a_page_read_is_one_call(store, emulator):
    ids = [intake(store) for _ in range(5)]
    store.read()
    emulator.reset_counts()

    assert store.get_row("cases", ids[3])["case_id"] == ids[3]
    assert calls(emulator) == {"values.batchGet": 1}


def test_get_row_without_a_hint_is_two_calls(make_store, emulator):
    ids = [intake(make_store()) for _ in range(3)]
    fresh = make_store()
    emulator.reset_counts()

    assert fresh.get_row("cases", ids[1])["case_id"] == ids[1]
    assert calls(emulator) == {"values.batchGet": 2}


def test_opening_an_initialised_register_is_two_calls(make_store, emulator):
    make_store()
    emulator.reset_counts()

    make_store()  # init again, as open_store does in every new process

    assert calls(emulator) == {"spreadsheets.get": 1, "values.batchGet": 1}


def test_a_service_action_through_the_register(store, emulator, clock, admin, clerk):
    reg = Register(store, clock=clock)
    reg.max_age_s = 30
    reg.save_unit(admin, {"name": "广安区", "kind": "区市县"})
    case_id = reg.intake(clerk, _valid_case())
    reg.load()
    emulator.reset_counts()

    reg.assign(clerk, case_id, unit="广安区", lead_official="周局长", version=1)

    # The case as the page read it (0 calls), then the commit: find the row again and check
    # its version (1), write the changed cells (1), history (1).
    assert calls(emulator) == {"values.batchGet": 1, "values.batchUpdate": 1, "values.append": 1}
    assert store.get_row("cases", case_id)["unit"] == "广安区"


def test_a_service_action_without_a_snapshot_reads_the_case_afresh(
    store, emulator, clock, admin, clerk
):
    reg = Register(store, clock=clock)
    reg.max_age_s = 30
    reg.save_unit(admin, {"name": "广安区", "kind": "区市县"})
    case_id = reg.intake(clerk, _valid_case())
    reg.invalidate()  # no snapshot (or one older than stale_seconds)
    emulator.reset_counts()

    reg.assign(clerk, case_id, unit="广安区")

    # Units and settings (1), the case afresh (2: no read told where it is yet), then the
    # commit's read, write and history.
    assert calls(emulator) == {"values.batchGet": 4, "values.batchUpdate": 1, "values.append": 1}


def test_a_case_changed_by_a_colleague_since_the_page_read_is_a_conflict(
    store, make_store, emulator, clock, admin, clerk
):
    import pytest

    from lib.store.base import ConflictError

    reg = Register(store, clock=clock)
    reg.max_age_s = 30
    reg.save_unit(admin, {"name": "广安区", "kind": "区市县"})
    reg.save_unit(admin, {"name": "前锋区", "kind": "区市县"})
    case_id = reg.intake(clerk, _valid_case())
    reg.load()
    colleague = Register(make_store(), clock=clock)
    colleague.assign(clerk, case_id, unit="前锋区")

    with pytest.raises(ConflictError):
        reg.assign(clerk, case_id, unit="广安区")  # validated on our (older) snapshot

    row = store.get_row("cases", case_id)
    assert (row["unit"], row["version"]) == ("前锋区", "2"), "the colleague's change stands"
    assert reg.load().cases.set_index("case_id").at[case_id, "unit"] == "前锋区", "re-read"


def test_the_register_re_reads_only_when_stale(store, emulator, clock, admin, clerk):
    reg = Register(store, clock=clock)
    reg.max_age_s = 30
    reg.save_unit(admin, {"name": "广安区", "kind": "区市县"})
    reg.load()
    emulator.reset_counts()

    for _ in range(5):
        reg.load()
    assert calls(emulator) == {}

    case_id = reg.intake(clerk, _valid_case())
    emulator.reset_counts()
    data = reg.load()
    assert calls(emulator) == {}, "the app's own write is patched into the snapshot"
    assert case_id in set(data.cases["case_id"])

    reg.max_age_s = 0  # others' edits show once the snapshot is older than stale_seconds
    reg.load()
    assert calls(emulator) == {"values.batchGet": 1}


def _valid_case() -> dict[str, str]:
    from tests.conftest import VALID_CASE

    return dict(VALID_CASE)
