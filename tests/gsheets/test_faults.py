"""Google's bad days: quota refusals, 5xx, timeouts and dropped connections.

Every call is retried with capped, jittered backoff inside a time budget; a write lands exactly
once (after an unclear failure the store looks before it sends again); when the budget is spent
the user reads a clear message in Chinese, and knows whether anything was written.
"""

from __future__ import annotations

import time

import pytest
import requests

from lib.store import retry
from lib.store.base import Changeset, NewId, Update
from lib.store.gsheets import MAX_APPEND_ROWS, BudgetedHTTPClient, GSheetsStore, SheetsError
from lib.store.retry import Budget, Fault, RetryExhausted, RetryPolicy
from tests.gsheets.conftest import case_row, history_row, intake
from tests.gsheets.emulated import FAST
from tests.gsheets.faults import Aim, aimed_session

CASES, HISTORY = "'案件'", "'变更记录'"


def rows(store: GSheetsStore, sheet: str) -> list[dict]:
    return store.read([sheet])[sheet].drop(columns=["_row"]).to_dict("records")


@pytest.fixture
def aimed(make_store, emulator, sheet_id):
    """``aimed(*aims, policy=FAST)``: an initialised store whose requests meet ``aims``."""

    def make(*aims: Aim, policy: RetryPolicy = FAST) -> GSheetsStore:
        make_store()  # init through a clean store first
        return GSheetsStore(sheet_id, session=aimed_session(emulator, *aims), policy=policy)

    return make


# -- riding it out --------------------------------------------------------------------------


def test_a_burst_of_429_on_the_read_is_ridden_out(store, emulator):
    intake(store)
    emulator.reset_counts()
    emulator.inject(429, times=5, endpoint="values.batchGet")

    frame = store.read(["cases"])["cases"]

    assert len(frame) == 1
    assert emulator.counts["values.batchGet"] == 6


def test_429_and_500_on_the_write_still_give_one_case_and_one_history_row(store, emulator):
    # an intake's one write: the id claim, the case and its history in one batch
    emulator.inject(429, times=2, endpoint="spreadsheets.batchUpdate")
    emulator.inject(500, times=2, endpoint="spreadsheets.batchUpdate")

    case_id = intake(store, title="只写一次")

    assert case_id == "GA2026-000001"
    assert [r["title"] for r in rows(store, "cases")] == ["只写一次"]
    assert [r["case_id"] for r in rows(store, "history")] == [case_id]
    assert intake(store) == "GA2026-000002"


def test_a_slow_read_times_out_and_is_retried(make_store, emulator):
    store = make_store(
        policy=RetryPolicy(budget_s=10, base_s=0.001, cap_s=0.01, call_timeout_s=0.1)
    )
    intake(store)
    emulator.inject("slow", times=1, endpoint="values.batchGet", delay=2.0)
    emulator.reset_counts()

    assert len(store.read(["cases"])["cases"]) == 1
    # the slow answer was not waited for (0.1 s call timeout): the read was sent again
    assert emulator.counts["values.batchGet"] == 2


@pytest.mark.parametrize("fault", ["apply_then_drop", "timeout", "drop", 503, 429])
def test_an_intake_lands_exactly_once_whatever_happens_to_its_write(aimed, sheet_id, fault):
    # the claim, the case and its history go in one spreadsheets:batchUpdate
    store = aimed(Aim("POST", f"{sheet_id}:batchUpdate", fault))

    case_id = intake(store, title="一次")

    assert case_id == "GA2026-000001"
    assert [r["case_id"] for r in rows(store, "cases")] == [case_id]
    assert [r["case_id"] for r in rows(store, "history")] == [case_id]
    assert intake(store, title="下一件") == "GA2026-000002", "no number lost or reused"


def test_a_bulk_append_dropped_after_it_landed_is_not_duplicated(aimed):
    store = aimed(Aim("POST", f"{CASES}:append", "apply_then_drop"))
    ids = [NewId("GA2026-") for _ in range(300)]
    cs = Changeset()
    cs.append("cases", *[case_row(nid, title=f"第{i}件") for i, nid in enumerate(ids)])

    allocated = store.commit(cs)

    frame = store.read(["cases"])["cases"]
    assert len(frame) == 300 and frame["case_id"].is_unique
    assert list(frame["case_id"]) == [allocated[n] for n in ids]


@pytest.mark.parametrize("fault", ["apply_then_drop", "timeout", "drop", 500, 429])
def test_an_update_lands_exactly_once(aimed, fault):
    store = aimed(Aim("POST", "values:batchUpdate", fault))
    case_id = intake(store)

    store.commit(
        Changeset(
            updates=[Update("cases", case_id, {"title": "改了一次", "version": "2"}, 1)],
            appends={"history": [history_row(case_id, "改了一次", action="edit")]},
        )
    )

    assert store.get_row("cases", case_id)["version"] == "2"
    assert store.get_row("cases", case_id)["title"] == "改了一次"
    assert [r["action"] for r in rows(store, "history")] == ["intake", "edit"]


def test_rows_sorted_while_an_update_waits_for_its_retry_are_found_again(
    make_store, emulator, sheet_id
):
    setup = make_store()
    ids = [intake(setup, title=t) for t in ("甲", "乙", "丙")]
    title_col = setup.schema["cases"].headers.index("标题")

    def person_sorts() -> None:
        emulator.sort_rows(sheet_id, "案件", title_col, descending=True)

    aim = Aim("POST", "values:batchUpdate", 429, then=person_sorts)
    store = GSheetsStore(sheet_id, session=aimed_session(emulator, aim), policy=FAST)
    store.commit(
        Changeset(updates=[Update("cases", ids[0], {"title": "甲（改）", "version": "2"}, 1)])
    )

    by_id = {r["case_id"]: r["title"] for r in rows(setup, "cases")}
    assert by_id == {ids[0]: "甲（改）", ids[1]: "乙", ids[2]: "丙"}


# -- giving up clearly ----------------------------------------------------------------------

TIGHT = RetryPolicy(budget_s=0.4, base_s=0.01, cap_s=0.05)


def test_quota_exhausted_gives_a_clear_chinese_error_and_writes_nothing(make_store, emulator):
    store = make_store(policy=TIGHT)
    emulator.inject(429, times=10_000, endpoint="values.*")

    started = time.monotonic()
    with pytest.raises(SheetsError) as caught:
        intake(store)

    assert time.monotonic() - started < 2
    assert caught.value.key == "gs.quota"
    assert "每分钟" in caught.value.message("zh") and "内容仍保留" in caught.value.message("zh")
    assert "minute" in caught.value.message("en")
    emulator.clear_faults()
    assert rows(store, "cases") == [] and rows(store, "history") == []


def test_google_down_gives_a_clear_error_naming_the_operation(make_store, emulator):
    store = make_store(policy=TIGHT)
    emulator.inject(503, times=10_000, endpoint="values.batchGet")

    with pytest.raises(SheetsError) as caught:
        store.read()

    assert caught.value.key == "gs.unreachable"
    assert "读取台账" in caught.value.message("zh")


def test_a_write_that_cannot_be_confirmed_says_so(aimed, emulator, sheet_id):
    def google_goes_down() -> None:
        emulator.inject(503, times=10_000, endpoint="values.batchGet")

    store = aimed(
        Aim("POST", f"{sheet_id}:batchUpdate", "apply_then_drop", then=google_goes_down),
        policy=TIGHT,
    )

    with pytest.raises(SheetsError) as caught:
        intake(store)

    assert caught.value.key == "gs.unsure"
    assert "无法确认" in caught.value.message("zh") and "刷新" in caught.value.message("zh")


def test_a_failure_after_the_update_landed_says_what_was_written(aimed):
    store = aimed(Aim("POST", f"{HISTORY}:append", 503, times=10_000), policy=TIGHT)
    case_id = intake_without_history(store)

    with pytest.raises(SheetsError) as caught:
        store.commit(
            Changeset(
                updates=[Update("cases", case_id, {"title": "已改", "version": "2"}, 1)],
                appends={"history": [history_row(case_id, "已改", action="edit")]},
            )
        )

    assert caught.value.key == "gs.partial"
    message = caught.value.message("zh")
    assert "“案件”的修改已写入" in message and "“变更记录”的 1 行未能写入" in message
    assert store.get_row("cases", case_id)["version"] == "2"


def intake_without_history(store: GSheetsStore) -> str:
    nid = NewId("GA2026-")
    return store.commit(Changeset(appends={"cases": [case_row(nid)]}))[nid]


def test_the_store_does_not_use_gspread_s_endless_backoff(store):
    assert type(store._http) is BudgetedHTTPClient


# -- the retry policy itself ----------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def policy(clock: FakeClock, **kw) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, clock=clock.clock, rng=lambda: 1.0, **kw)


def test_backoff_doubles_up_to_the_cap_and_stops_at_the_budget():
    clock = FakeClock()
    calls = []

    def always_busy():
        calls.append(clock.now)
        raise requests.exceptions.ConnectionError("down")

    budget = Budget(policy(clock, budget_s=30, base_s=0.5, cap_s=8))
    with pytest.raises(RetryExhausted) as caught:
        retry.run(always_busy, budget, "读")

    assert clock.slept[:6] == [0.5, 1, 2, 4, 8, 8]
    assert sum(clock.slept) < 30 and caught.value.attempts == len(calls)
    assert not caught.value.quota


def test_jitter_spreads_the_waits():
    waits = {Budget(RetryPolicy(rng=lambda r=r: r)).backoff(3) for r in (0.0, 0.25, 0.9)}
    assert waits == {0.0, 0.5, 1.8}


def test_retry_after_is_honoured_within_the_cap():
    clock = FakeClock()
    budget = Budget(policy(clock, budget_s=30, base_s=0.1, cap_s=8))
    assert budget.backoff(1, retry_after=5) == 5
    assert budget.backoff(1, retry_after=60) == 8


def test_an_error_that_is_not_worth_retrying_is_raised_at_once():
    clock = FakeClock()

    class NotFound(Exception):
        pass

    def missing():
        raise NotFound

    with pytest.raises(NotFound):
        retry.run(missing, Budget(policy(clock)), "读")
    assert clock.slept == []


def test_faults_are_classified_by_whether_google_may_have_applied_them():
    assert retry.classify(requests.exceptions.ConnectTimeout()) is Fault.NOT_APPLIED
    assert retry.classify(requests.exceptions.ReadTimeout()) is Fault.MAYBE_APPLIED
    assert retry.classify(requests.exceptions.ConnectionError()) is Fault.MAYBE_APPLIED
    assert retry.classify(ValueError()) is None


def test_the_call_timeout_never_outlasts_the_budget():
    clock = FakeClock()
    budget = Budget(policy(clock, budget_s=3, call_timeout_s=20, connect_timeout_s=5))
    seen = []
    retry.run(lambda: seen.append(retry.current_timeout()), budget, "读")
    assert seen == [(3, 3)]
    assert retry.current_timeout() is None


@pytest.mark.parametrize("write", ["intake", "bulk"])
def test_columns_moved_while_an_append_waits_for_its_retry_are_respected(
    make_store, emulator, sheet_id, write
):
    from tests.gsheets.test_hand_edits import cell_of, rewrite_columns

    make_store()

    def person_moves_columns() -> None:
        rewrite_columns(emulator, sheet_id, ["联系电话", "标题", "案件编号"])

    # an intake's rows go with its id claim in one batch; a bulk import appends them
    target = f"{sheet_id}:batchUpdate" if write == "intake" else f"{CASES}:append"
    aim = Aim("POST", target, 429, then=person_moves_columns)
    store = GSheetsStore(sheet_id, session=aimed_session(emulator, aim), policy=FAST)

    if write == "intake":
        case_id = intake(store, title="标题在这", phone="013800138000")
    else:
        nid = NewId("GA2026-")
        rows = [case_row(NewId("GA2026-")) for _ in range(MAX_APPEND_ROWS)]
        rows.append(case_row(nid, title="标题在这", phone="013800138000"))
        case_id = store.commit(Changeset(appends={"cases": rows}))[nid]
    assert aim.hits == 1

    assert cell_of(emulator, sheet_id, case_id, "标题") == "标题在这"
    assert cell_of(emulator, sheet_id, case_id, "联系电话") == "013800138000"
