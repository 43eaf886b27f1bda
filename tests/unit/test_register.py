"""The service layer end to end, on a real register in a temporary SQLite file.

Today is Friday 2026-03-20 (the register's frozen clock). Every action is taken as a user of
some role; what the SPEC §1 table does not allow is refused with nothing written, and every
change leaves history rows saying who changed which field from what to what.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from lib.auth import User
from lib.i18n import DomainError
from lib.register import Register, ValidationError
from lib.store.base import ConflictError, NewId
from lib.store.sqlite import SQLiteStore

D = dt.date.fromisoformat

# -- helpers -------------------------------------------------------------------------------


@pytest.fixture
def reg(tmp_register: Register) -> Register:
    return tmp_register


@pytest.fixture
def case_in(reg, intake_case, clerk, handler, supervisor) -> Callable[..., str]:
    """``case_in(status, **intake_overrides) -> case_id``: a 广安区 case brought to ``status``.

    Assigned Mon 03-16, accepted 03-17, replied 03-18, rated 03-19 (or rejected 03-17).
    """

    def make(status: str, **overrides: Any) -> str:
        cid = intake_case(**overrides)
        if status == "待交办":
            return cid
        reg.assign(clerk, cid, unit="广安区", lead_official="王副区长", assigned_at="2026-03-16")
        if status == "已交办":
            return cid
        if status == "不予受理":
            reg.reject(handler, cid, reason="不属于信访事项", rejected_at="2026-03-17")
            return cid
        reg.accept(handler, cid, accepted_at="2026-03-17")
        if status == "办理中":
            return cid
        reg.reply(handler, cid, reply="已维修电梯并答复。", concluded_at="2026-03-18")
        if status == "已办结":
            return cid
        reg.evaluate(supervisor, cid, evaluation="满意", evaluated_at="2026-03-19")
        assert status == "已评价"
        return cid

    return make


def row(reg: Register, case_id: str) -> dict[str, str]:
    """The case as stored (canonical text), read afresh."""
    return reg.store.get_row("cases", case_id)


def changes(reg: Register, case_id: str, action: str) -> set[tuple[str, str, str, str]]:
    """History of one action on a case: ``{(user, field, old, new)}``."""
    hist = reg.store.read(["history"])["history"]
    mine = hist[(hist["case_id"] == case_id) & (hist["action"] == action)]
    return {(r.user, r.field, r.old, r.new) for r in mine.itertuples()}


def refused(error: DomainError) -> str:
    return error.key


# -- intake --------------------------------------------------------------------------------


def test_intake_returns_the_new_id_and_writes_one_history_row(reg, clerk, admin, valid_case):
    case_id = reg.intake(clerk, valid_case)

    assert case_id == "GA2026-000001"
    stored = row(reg, case_id)
    assert stored["status"] == "待交办"
    assert stored["version"] == "1"
    assert stored["phone"] == "13800138000"
    assert stored["updated_by"] == "clerk1"
    assert stored["is_first"] == "TRUE" and stored["confidential"] == "FALSE"
    history = reg.history(admin, case_id)
    assert len(history) == 1
    assert (history.loc[0, "action"], history.loc[0, "user"]) == ("intake", "clerk1")
    assert reg.intake(clerk, valid_case) == "GA2026-000002"


def test_intake_uses_the_year_received_in_the_id(reg, clerk, valid_case):
    assert reg.intake(clerk, {**valid_case, "received_at": "2025-12-30"}) == "GA2025-000001"


def test_intake_keeps_odd_values_exactly(reg, clerk, valid_case):
    case_id = reg.intake(
        clerk,
        {**valid_case, "phone": "+86 138-0013-8000", "title": '=HYPERLINK("http://x","y")'},
    )

    assert row(reg, case_id)["phone"] == "+86 138-0013-8000"
    assert row(reg, case_id)["title"] == '=HYPERLINK("http://x","y")'


def test_invalid_intake_lists_every_bad_field_and_writes_nothing(
    reg, clerk, dump_store, valid_case
):
    before = dump_store(reg.store)
    bad = {
        **valid_case,
        "received_at": "2026-02-30",
        "petitioner": "",
        "channel": "微博",
        "phone": "电话138",
        "id_number": "110105194912310021",
        "region": "成都市",
        "title": "长" * 201,
    }

    with pytest.raises(ValidationError) as caught:
        reg.intake(clerk, bad)

    fields = {e.field for e in caught.value.errors}
    assert fields == {
        "received_at",
        "petitioner",
        "channel",
        "phone",
        "id_number",
        "region",
        "title",
    }
    message = caught.value.message()
    for header in ("登记日期", "留言人", "渠道", "联系电话", "身份证号", "所属区县", "标题"):
        assert header in message
    assert dump_store(reg.store) == before


def test_intake_refuses_a_message_received_in_the_future(reg, clerk, dump_store, valid_case):
    before = dump_store(reg.store)

    with pytest.raises(ValidationError) as caught:
        reg.intake(clerk, {**valid_case, "received_at": "2026-03-21"})

    assert [(e.field, e.code) for e in caught.value.errors] == [("received_at", "err.future")]
    assert dump_store(reg.store) == before


def test_intake_ignores_workflow_and_derived_values_typed_in(reg, clerk, valid_case):
    case_id = reg.intake(
        clerk,
        {**valid_case, "case_id": "X-1", "status": "已办结", "unit": "广安区", "version": "9"},
    )

    stored = row(reg, case_id)
    assert case_id.startswith("GA2026-")
    assert (stored["status"], stored["unit"], stored["version"]) == ("待交办", "", "1")


def test_intake_with_a_leader_s_instruction_flags_the_case(reg, clerk, admin, valid_case):
    case_id = reg.intake(
        clerk, valid_case, instruction={"leader": "市委书记", "text": "请市住建局牵头办理"}
    )
    plain = reg.intake(clerk, valid_case)

    data = reg.load()
    instructed = dict(zip(data.cases["case_id"], data.cases["instructed"], strict=True))
    assert instructed == {case_id: True, plain: False}
    assert list(data.instructions["case_id"]) == [case_id]
    assert {r for r in reg.history(admin, case_id)["action"]} == {"intake", "instruct"}


# -- the workflow, step by step ------------------------------------------------------------


def test_a_case_s_whole_life(reg, intake_case, clerk, handler, supervisor):
    case_id = intake_case()

    reg.assign(clerk, case_id, unit="广安区", lead_official="王副区长", assigned_at="2026-03-16")
    stored = row(reg, case_id)
    assert (stored["status"], stored["version"]) == ("已交办", "2")
    # 03-16 + 15 = 03-31; not accepted yet: 03-31 + 60 = 05-30.
    assert (stored["accept_due"], stored["handle_due"]) == ("2026-03-31", "2026-05-30")
    assert changes(reg, case_id, "assign") == {
        ("clerk1", "unit", "", "广安区"),
        ("clerk1", "lead_official", "", "王副区长"),
        ("clerk1", "assigned_at", "", "2026-03-16"),
        ("clerk1", "status", "待交办", "已交办"),
        ("clerk1", "accept_due", "", "2026-03-31"),
        ("clerk1", "handle_due", "", "2026-05-30"),
    }

    reg.accept(handler, case_id, accepted_at=D("2026-03-17"), met=True)
    stored = row(reg, case_id)
    # 03-17 + 14 = 03-31, + 30 = 04-30 (44 days), + 16 = 05-16 (60 days).
    assert (stored["status"], stored["handle_due"], stored["version"]) == (
        "办理中",
        "2026-05-16",
        "3",
    )
    assert changes(reg, case_id, "accept") == {
        ("ga_handler", "accepted_at", "", "2026-03-17"),
        ("ga_handler", "meet_accept", "", "2026-03-17"),
        ("ga_handler", "status", "已交办", "办理中"),
        ("ga_handler", "handle_due", "2026-05-30", "2026-05-16"),
    }

    reg.extend(handler, case_id, days=15, reason="涉及多部门，需协调", extended_at="2026-03-18")
    stored = row(reg, case_id)
    assert (stored["extension_days"], stored["handle_due"]) == ("15", "2026-05-31")
    assert changes(reg, case_id, "extend") == {
        ("ga_handler", "extension_days", "0", "15"),
        ("ga_handler", "extended_at", "", "2026-03-18"),
        ("ga_handler", "extension_reason", "", "涉及多部门，需协调"),
        ("ga_handler", "handle_due", "2026-05-16", "2026-05-31"),
    }

    reg.meet(handler, case_id, stage="handle", met_at="2026-03-18")
    assert changes(reg, case_id, "meet") == {("ga_handler", "meet_handle", "", "2026-03-18")}

    reg.reply(handler, case_id, reply="电梯已修复，已当面答复。", concluded_at="2026-03-19")
    assert row(reg, case_id)["status"] == "已办结"
    assert changes(reg, case_id, "reply") == {
        ("ga_handler", "concluded_at", "", "2026-03-19"),
        ("ga_handler", "reply", "", "电梯已修复，已当面答复。"),
        ("ga_handler", "status", "办理中", "已办结"),
    }

    reg.evaluate(supervisor, case_id, evaluation="基本满意")
    stored = row(reg, case_id)
    assert (stored["status"], stored["evaluated_at"], stored["version"]) == (
        "已评价",
        "2026-03-20",
        "7",
    )
    assert stored["updated_by"] == "sup1"
    assert changes(reg, case_id, "evaluate") == {
        ("sup1", "evaluation", "", "基本满意"),
        ("sup1", "evaluated_at", "", "2026-03-20"),
        ("sup1", "status", "已办结", "已评价"),
    }


def test_a_date_left_out_means_today(reg, case_in, handler):
    case_id = case_in("已交办")

    reg.accept(handler, case_id)

    assert row(reg, case_id)["accepted_at"] == "2026-03-20"


def test_a_rating_must_be_one_of_the_three(reg, case_in, clerk, dump_store):
    case_id = case_in("已办结")
    before = dump_store(reg.store)

    with pytest.raises(ValidationError) as caught:
        reg.evaluate(clerk, case_id, evaluation="很满意")

    assert "满意度" in caught.value.message()
    assert dump_store(reg.store) == before


def test_today_follows_the_time_zone_setting(reg, admin):
    # The clock says 10:00 on 03-20 in Beijing: still 22:00 on 03-19 in New York.
    reg.set_setting(admin, "timezone", "America/New_York")

    assert reg.today() == D("2026-03-19")
    reg.load()
    assert reg.today() == D("2026-03-19")


# -- reject and object ---------------------------------------------------------------------


def test_rejection_needs_a_reason_and_writes_nothing_without_one(reg, case_in, handler, dump_store):
    case_id = case_in("已交办")
    before = dump_store(reg.store)

    with pytest.raises(DomainError) as caught:
        reg.reject(handler, case_id, reason="  ")

    assert caught.value.key == "err.reason_required"
    assert dump_store(reg.store) == before


def test_a_rejected_case_is_closed(reg, case_in, handler, supervisor):
    case_id = case_in("已交办")

    reg.reject(
        handler, case_id, reason="不属于信访事项，已告知走诉讼渠道", rejected_at="2026-03-18"
    )

    stored = row(reg, case_id)
    assert (stored["status"], stored["reject_reason"]) == (
        "不予受理",
        "不属于信访事项，已告知走诉讼渠道",
    )
    for act in (
        lambda: reg.accept(handler, case_id),
        lambda: reg.reply(handler, case_id, reply="答复"),
        lambda: reg.extend(handler, case_id, days=5, reason="复杂"),
        lambda: reg.evaluate(supervisor, case_id, evaluation="满意"),
        lambda: reg.reject(handler, case_id, reason="再次"),
    ):
        with pytest.raises(DomainError) as caught:
            act()
        assert caught.value.key == "err.state"


def test_a_unit_may_return_a_case_within_five_working_days(reg, case_in, handler, clerk, admin):
    # Assigned Mon 03-16: working days 17, 18, 19, 20, 23 — the window ends Mon 03-23.
    case_id = case_in("已交办")

    reg.object(handler, case_id, reason="属市住建局职责，非我区事权")

    stored = row(reg, case_id)
    assert stored["status"] == "待交办"
    assert (stored["unit"], stored["assigned_at"], stored["accept_due"]) == ("", "", "")
    assert (stored["returned_at"], stored["return_reason"]) == (
        "2026-03-20",
        "属市住建局职责，非我区事权",
    )
    assert ("ga_handler", "unit", "广安区", "") in changes(reg, case_id, "object")
    assert ("ga_handler", "assigned_at", "2026-03-16", "") in changes(reg, case_id, "object")
    # The case left the unit: its handler no longer sees it; the bureau assigns it again.
    with pytest.raises(DomainError):
        reg.get_case(handler, case_id)
    reg.assign(clerk, case_id, unit="市住房和城乡建设局")
    assert row(reg, case_id)["status"] == "已交办"


def test_returning_a_case_after_the_window_is_refused(reg, intake_case, clerk, handler, dump_store):
    # Assigned Thu 03-12: working days 13, 16, 17, 18, 19 — the window closed on 03-19.
    case_id = intake_case()
    reg.assign(clerk, case_id, unit="广安区", assigned_at="2026-03-12")
    before = dump_store(reg.store)

    with pytest.raises(DomainError) as caught:
        reg.object(handler, case_id, reason="不属我区")

    assert caught.value.key == "err.object_window"
    assert "2026-03-19" in str(caught.value)
    assert dump_store(reg.store) == before


def test_returning_needs_a_reason(reg, case_in, handler):
    with pytest.raises(DomainError) as caught:
        reg.object(handler, case_in("已交办"), reason="")

    assert caught.value.key == "err.reason_required"


def test_only_an_assigned_case_not_yet_accepted_can_be_returned(reg, case_in, handler):
    with pytest.raises(DomainError) as caught:
        reg.object(handler, case_in("办理中"), reason="不属我区")

    assert caught.value.key == "err.state"


# -- reassignment --------------------------------------------------------------------------


def test_reassignment_clears_the_old_unit_s_work_and_restarts_the_clocks(
    reg, case_in, clerk, handler, other_handler
):
    case_id = case_in("办理中")
    reg.extend(handler, case_id, days=10, reason="需现场勘查")
    reg.meet(handler, case_id, stage="handle")

    reg.reassign(clerk, case_id, unit="岳池县", reason="事发地在岳池县", assigned_at="2026-03-19")

    stored = row(reg, case_id)
    assert (stored["status"], stored["unit"], stored["assigned_at"]) == (
        "已交办",
        "岳池县",
        "2026-03-19",
    )
    for key in ("accepted_at", "extended_at", "extension_reason", "meet_handle", "lead_official"):
        assert stored[key] == "", key
    assert stored["extension_days"] == "0"
    # 03-19 + 15 = 04-03; not accepted: 04-03 + 60 = 06-02.
    assert (stored["accept_due"], stored["handle_due"]) == ("2026-04-03", "2026-06-02")
    history = changes(reg, case_id, "reassign")
    assert ("clerk1", "unit", "广安区", "岳池县") in history
    assert ("clerk1", "accepted_at", "2026-03-17", "") in history
    assert ("clerk1", "extension_days", "10", "0") in history
    assert ("clerk1", "meet_handle", "2026-03-20", "") in history
    assert ("clerk1", "reason", "", "事发地在岳池县") in history
    # The case moved with its visibility.
    with pytest.raises(DomainError):
        reg.get_case(handler, case_id)
    assert reg.get_case(other_handler, case_id)["unit"] == "岳池县"
    # The new unit starts afresh: it may accept, and later extend once.
    reg.accept(other_handler, case_id)
    reg.extend(other_handler, case_id, days=5, reason="需协调")


def test_a_rejected_case_can_be_reassigned(reg, case_in, clerk):
    case_id = case_in("不予受理")

    reg.reassign(clerk, case_id, unit="市住房和城乡建设局", reason="改由住建局办理")

    stored = row(reg, case_id)
    assert (stored["status"], stored["rejected_at"], stored["reject_reason"]) == ("已交办", "", "")


def test_reassignment_needs_a_reason(reg, case_in, clerk):
    with pytest.raises(DomainError) as caught:
        reg.reassign(clerk, case_in("已交办"), unit="岳池县", reason="")

    assert caught.value.key == "err.reason_required"


# -- extension -----------------------------------------------------------------------------


def test_only_one_extension(reg, case_in, handler, dump_store):
    case_id = case_in("办理中")
    reg.extend(handler, case_id, days=30, reason="案情复杂")
    before = dump_store(reg.store)

    with pytest.raises(DomainError) as caught:
        reg.extend(handler, case_id, days=5, reason="还需时间")

    assert caught.value.key == "err.extension_once"
    assert dump_store(reg.store) == before


@pytest.mark.parametrize("days", [0, 31, -5, "十天"])
def test_an_extension_is_1_to_30_days(reg, case_in, handler, dump_store, days):
    case_id = case_in("办理中")
    before = dump_store(reg.store)

    with pytest.raises(DomainError) as caught:
        reg.extend(handler, case_id, days=days, reason="案情复杂")

    assert caught.value.key == "err.extension_range"
    assert "30" in str(caught.value)
    assert dump_store(reg.store) == before


def test_an_extension_needs_a_reason(reg, case_in, handler):
    with pytest.raises(DomainError) as caught:
        reg.extend(handler, case_in("办理中"), days=5, reason="")

    assert caught.value.key == "err.reason_required"


# -- dates: never in the future, always in order -------------------------------------------

FUTURE = "2026-03-21"


@pytest.mark.parametrize(
    ("status", "act"),
    [
        ("待交办", lambda reg, u, c: reg.assign(u["clerk"], c, unit="广安区", assigned_at=FUTURE)),
        ("已交办", lambda reg, u, c: reg.accept(u["handler"], c, accepted_at=FUTURE)),
        (
            "已交办",
            lambda reg, u, c: reg.reject(u["handler"], c, reason="不受理", rejected_at=FUTURE),
        ),
        ("办理中", lambda reg, u, c: reg.reply(u["handler"], c, reply="答复", concluded_at=FUTURE)),
        ("办理中", lambda reg, u, c: reg.meet(u["handler"], c, stage="handle", met_at=FUTURE)),
        (
            "办理中",
            lambda reg, u, c: reg.extend(
                u["handler"], c, days=5, reason="复杂", extended_at=FUTURE
            ),
        ),
        (
            "已办结",
            lambda reg, u, c: reg.evaluate(u["clerk"], c, evaluation="满意", evaluated_at=FUTURE),
        ),
        (
            "已交办",
            lambda reg, u, c: reg.instruct(u["leader"], c, leader="市长", text="阅", date=FUTURE),
        ),
        (
            "已交办",
            lambda reg, u, c: reg.supervise(u["supervisor"], c, kind="电话督办", date=FUTURE),
        ),
    ],
    ids=[
        "assign",
        "accept",
        "reject",
        "reply",
        "meet",
        "extend",
        "evaluate",
        "instruct",
        "supervise",
    ],
)
def test_no_date_may_be_in_the_future(reg, case_in, users, dump_store, status, act):
    case_id = case_in(status)
    before = dump_store(reg.store)

    with pytest.raises(ValidationError) as caught:
        act(reg, users, case_id)

    assert [e.code for e in caught.value.errors] == ["err.future"]
    assert FUTURE in caught.value.message()
    assert dump_store(reg.store) == before


def test_reply_before_acceptance_is_refused(reg, case_in, handler, dump_store):
    case_id = case_in("已交办")
    before = dump_store(reg.store)

    with pytest.raises(DomainError) as caught:
        reg.reply(handler, case_id, reply="已答复")

    assert caught.value.key == "err.state"
    assert "已交办" in str(caught.value)
    assert dump_store(reg.store) == before


def test_evaluation_before_the_reply_is_refused(reg, case_in, clerk, dump_store):
    case_id = case_in("办理中")
    before = dump_store(reg.store)

    with pytest.raises(DomainError) as caught:
        reg.evaluate(clerk, case_id, evaluation="满意")

    assert caught.value.key == "err.state"
    assert dump_store(reg.store) == before


@pytest.mark.parametrize(
    ("status", "act", "field"),
    [
        (
            "待交办",
            lambda reg, u, c: reg.assign(u["clerk"], c, unit="广安区", assigned_at="2026-03-01"),
            "assigned_at",
        ),
        (
            "已交办",
            lambda reg, u, c: reg.accept(u["handler"], c, accepted_at="2026-03-15"),
            "accepted_at",
        ),
        (
            "已交办",
            lambda reg, u, c: reg.reject(u["handler"], c, reason="x", rejected_at="2026-03-15"),
            "rejected_at",
        ),
        (
            "办理中",
            lambda reg, u, c: reg.reply(u["handler"], c, reply="答复", concluded_at="2026-03-16"),
            "concluded_at",
        ),
        (
            "已办结",
            lambda reg, u, c: reg.evaluate(
                u["clerk"], c, evaluation="满意", evaluated_at="2026-03-17"
            ),
            "evaluated_at",
        ),
    ],
    ids=[
        "assigned before received",
        "accepted before assigned",
        "rejected before assigned",
        "replied before accepted",
        "evaluated before replied",
    ],
)
def test_a_step_dated_before_the_previous_one_is_refused(
    reg, case_in, users, dump_store, status, act, field
):
    # Received 03-02, assigned 03-16, accepted 03-17, replied 03-18.
    case_id = case_in(status)
    before = dump_store(reg.store)

    with pytest.raises(ValidationError) as caught:
        act(reg, users, case_id)

    assert (field, "err.order") in {(e.field, e.code) for e in caught.value.errors}
    assert dump_store(reg.store) == before


def test_an_unreadable_date_is_a_validation_error(reg, case_in, handler):
    with pytest.raises(ValidationError) as caught:
        reg.accept(handler, case_in("已交办"), accepted_at="2026-02-30")

    assert "受理日期" in caught.value.message()


# -- units ---------------------------------------------------------------------------------


def test_assigning_to_an_unknown_unit_is_refused(reg, case_in, clerk, dump_store):
    case_id = case_in("待交办")
    before = dump_store(reg.store)

    with pytest.raises(ValidationError) as caught:
        reg.assign(clerk, case_id, unit="市外事办")

    assert [e.field for e in caught.value.errors] == ["unit"]
    assert dump_store(reg.store) == before


def test_assigning_to_an_inactive_unit_is_refused(reg, case_in, clerk, admin, dump_store):
    reg.save_unit(admin, {"name": "市住房和城乡建设局", "active": False})
    case_id = case_in("待交办")
    before = dump_store(reg.store)

    with pytest.raises(DomainError) as caught:
        reg.assign(clerk, case_id, unit="市住房和城乡建设局")

    assert caught.value.key == "err.unit_inactive"
    assert dump_store(reg.store) == before


# -- conflicts -----------------------------------------------------------------------------


def test_a_stale_version_is_a_conflict_and_nothing_is_written(reg, case_in, handler, dump_store):
    case_id = case_in("已交办")
    seen = int(reg.get_case(handler, case_id)["version"])
    # Meanwhile a colleague of the unit accepts the case from the same screen.
    reg.accept(handler, case_id, accepted_at="2026-03-18", version=seen)
    before = dump_store(reg.store)

    with pytest.raises(ConflictError) as caught:
        reg.extend(handler, case_id, days=5, reason="复杂", version=seen)

    assert (caught.value.expected, caught.value.actual) == (seen, seen + 1)
    assert "刷新" in str(caught.value)
    assert dump_store(reg.store) == before


def test_an_action_that_changes_nothing_writes_nothing(reg, case_in, clerk, dump_store):
    # Saving a form unchanged must not bump the version (and so spoil a colleague's edit).
    case_id = case_in("已交办")
    version = row(reg, case_id)["version"]
    before = dump_store(reg.store)

    reg.mark_repeat(clerk, case_id, repeat_of="")

    assert row(reg, case_id)["version"] == version
    assert dump_store(reg.store) == before


def test_the_right_version_lands(reg, case_in, handler):
    case_id = case_in("已交办")
    version = int(row(reg, case_id)["version"])

    reg.accept(handler, case_id, version=version)

    assert row(reg, case_id)["version"] == str(version + 1)


# -- instructions, supervision, escalation, repeats ----------------------------------------


def test_instructions_are_appended_and_flag_the_case(reg, case_in, leader, admin):
    case_id = case_in("办理中")
    version = row(reg, case_id)["version"]

    first = reg.instruct(
        leader, case_id, leader="市委书记", text="请尽快解决，及时反馈。", date="2026-03-19"
    )
    second = reg.instruct(leader, case_id, leader="市长", text="同意书记意见。")

    assert (first, second) == ("PS000001", "PS000002")
    data = reg.load()
    assert list(data.instructions["text"]) == ["请尽快解决，及时反馈。", "同意书记意见。"]
    assert list(data.instructions["recorded_by"]) == ["boss1", "boss1"]
    assert data.cases.set_index("case_id").loc[case_id, "instructed"]
    assert row(reg, case_id)["version"] == version, "the case row itself is untouched"
    instructs = reg.history(admin, case_id)
    assert list(instructs.loc[instructs["action"] == "instruct", "user"]) == ["boss1", "boss1"]


def test_supervision_is_appended_with_its_history(reg, case_in, supervisor, admin):
    case_id = case_in("已交办")

    sid = reg.supervise(supervisor, case_id, kind="函督", note="请于3月底前办结", due="2026-03-31")

    assert sid == "DB000001"
    sup = reg.load().supervisions
    assert sup.loc[0, ["case_id", "kind", "by", "note"]].tolist() == [
        case_id,
        "函督",
        "孙督办",
        "请于3月底前办结",
    ]
    assert sup.loc[0, "due"].date() == D("2026-03-31")
    assert changes(reg, case_id, "supervise") == {("sup1", "kind", "", "函督")}


def test_supervision_of_an_unknown_kind_is_refused(reg, case_in, supervisor, dump_store):
    case_id = case_in("已交办")
    before = dump_store(reg.store)

    with pytest.raises(ValidationError):
        reg.supervise(supervisor, case_id, kind="喊话督办")

    assert dump_store(reg.store) == before


def test_escalation_records_the_reason(reg, case_in, supervisor):
    case_id = case_in("已交办")

    reg.escalate(supervisor, case_id, reason="逾期未受理且多次督办无果")

    sup = reg.load().supervisions
    assert sup.loc[0, ["kind", "note"]].tolist() == ["提请纪委监委问责", "逾期未受理且多次督办无果"]
    assert changes(reg, case_id, "escalate") == {("sup1", "kind", "", "提请纪委监委问责")}
    with pytest.raises(DomainError) as caught:
        reg.escalate(supervisor, case_id, reason="")
    assert caught.value.key == "err.reason_required"


def test_repeat_messages_are_linked_and_counted(reg, case_in, intake_case, clerk):
    original = case_in("办理中")
    again = intake_case(title="电梯还是没修好")
    third = intake_case(repeat_of=original)

    reg.mark_repeat(clerk, again, repeat_of=original)

    assert row(reg, again)["repeat_of"] == original
    assert changes(reg, again, "mark_repeat") == {("clerk1", "repeat_of", "", original)}
    cases = reg.load().cases.set_index("case_id")
    assert cases.loc[original, "repeats"] == 2
    assert cases.loc[third, "repeats"] == 0


def test_a_repeat_must_point_at_a_real_other_case(reg, case_in, clerk, valid_case):
    case_id = case_in("待交办")

    with pytest.raises(DomainError) as caught:
        reg.mark_repeat(clerk, case_id, repeat_of="GA2026-999999")
    assert caught.value.key == "err.not_found"
    with pytest.raises(ValidationError):
        reg.mark_repeat(clerk, case_id, repeat_of=case_id)
    with pytest.raises(ValidationError):
        reg.intake(clerk, {**valid_case, "repeat_of": "GA2026-999999"})


# -- who may do what (SPEC §1) -------------------------------------------------------------

ROLES = ("admin", "clerk", "handler", "other_handler", "supervisor", "leader")

# action: (the state the case must be in, the call (register, user, case id, other case id))
ACTIONS: dict[str, tuple[str, Callable[[Register, User, str, str], Any]]] = {
    "intake": ("待交办", lambda reg, u, c, o: reg.intake(u, reg.store.get_row("cases", o))),
    "assign": ("待交办", lambda reg, u, c, o: reg.assign(u, c, unit="广安区")),
    "reassign": (
        "已交办",
        lambda reg, u, c, o: reg.reassign(u, c, unit="岳池县", reason="属地调整"),
    ),
    "accept": ("已交办", lambda reg, u, c, o: reg.accept(u, c)),
    "reject": ("已交办", lambda reg, u, c, o: reg.reject(u, c, reason="不属于信访事项")),
    "object": ("已交办", lambda reg, u, c, o: reg.object(u, c, reason="非本单位职责")),
    "extend": ("办理中", lambda reg, u, c, o: reg.extend(u, c, days=10, reason="案情复杂")),
    "meet": ("办理中", lambda reg, u, c, o: reg.meet(u, c, stage="handle")),
    "reply": ("办理中", lambda reg, u, c, o: reg.reply(u, c, reply="已答复")),
    "evaluate": ("已办结", lambda reg, u, c, o: reg.evaluate(u, c, evaluation="满意")),
    "instruct": ("已交办", lambda reg, u, c, o: reg.instruct(u, c, leader="市长", text="请办理")),
    "supervise": ("已交办", lambda reg, u, c, o: reg.supervise(u, c, kind="电话督办")),
    "escalate": ("已交办", lambda reg, u, c, o: reg.escalate(u, c, reason="久拖不办")),
    "mark_repeat": ("已交办", lambda reg, u, c, o: reg.mark_repeat(u, c, repeat_of=o)),
    "assign_many": ("待交办", lambda reg, u, c, o: reg.assign_many(u, [c], unit="广安区")),
    "bulk_append": (
        "待交办",
        lambda reg, u, c, o: reg.bulk_append(u, "cases", [imported(reg, o)], action="import"),
    ),
    "save_unit": (
        "待交办",
        lambda reg, u, c, o: reg.save_unit(u, {"name": "前锋区", "kind": "区市县"}),
    ),
    "save_user": (
        "待交办",
        lambda reg, u, c, o: reg.save_user(u, "clerk2", role="clerk", display_name="新受理员"),
    ),
    "set_setting": ("待交办", lambda reg, u, c, o: reg.set_setting(u, "accept_days", "10")),
    "reset_password": ("待交办", lambda reg, u, c, o: reg.reset_password(u, "clerk2")),
}


def imported(reg: Register, case_id: str) -> dict[str, Any]:
    """A row of an old ledger being imported: a copy of a case under a new id."""
    return {**reg.store.get_row("cases", case_id), "case_id": NewId("GA2026-")}


# SPEC §1, read row by row: who may do each action ("handler" = the handler of the case's unit).
ALLOWED = {
    "intake": {"admin", "clerk"},
    "assign": {"admin", "clerk"},
    "reassign": {"admin", "clerk"},
    "mark_repeat": {"admin", "clerk"},
    "accept": {"admin", "handler"},
    "reject": {"admin", "handler"},
    "object": {"admin", "handler"},
    "extend": {"admin", "handler"},
    "meet": {"admin", "handler"},
    "reply": {"admin", "handler"},
    "evaluate": {"admin", "clerk", "supervisor"},
    "instruct": {"admin", "clerk", "leader"},
    "supervise": {"admin", "clerk", "supervisor"},
    "escalate": {"admin", "supervisor"},
    "assign_many": {"admin", "clerk"},
    "bulk_append": {"admin", "clerk"},  # import
    "save_unit": {"admin"},
    "save_user": {"admin"},
    "set_setting": {"admin"},
    "reset_password": {"admin"},
}


@pytest.fixture(scope="module")
def matrix_template(tmp_path_factory, register_at, valid_case) -> tuple[Path, dict[str, str]]:
    """One register holding a 广安区 case in each state, built once and copied per test."""
    path = tmp_path_factory.mktemp("matrix") / "template.db"
    reg = register_at(path)
    clerk = User("clerk1", "李受理", "clerk")
    handler = User("ga_handler", "赵承办", "handler", frozenset({"广安区"}))
    reg.save_user(
        User("fixture", "测试准备", "admin"), "clerk2", role="clerk", password="初始密码123"
    )
    ids = {"original": reg.intake(clerk, valid_case), "待交办": reg.intake(clerk, valid_case)}
    case_id = reg.intake(clerk, valid_case)
    reg.assign(clerk, case_id, unit="广安区", assigned_at="2026-03-16")
    ids["已交办"] = case_id
    case_id = reg.intake(clerk, valid_case)
    reg.assign(clerk, case_id, unit="广安区", assigned_at="2026-03-16")
    reg.accept(handler, case_id, accepted_at="2026-03-17")
    ids["办理中"] = case_id
    case_id = reg.intake(clerk, valid_case)
    reg.assign(clerk, case_id, unit="广安区", assigned_at="2026-03-16")
    reg.accept(handler, case_id, accepted_at="2026-03-17")
    reg.reply(handler, case_id, reply="已答复", concluded_at="2026-03-18")
    ids["已办结"] = case_id
    reg.store.close()
    return path, ids


@pytest.fixture
def matrix_register(matrix_template, tmp_path, clock) -> tuple[Register, dict[str, str]]:
    template, ids = matrix_template
    copy = tmp_path / "register.db"
    with closing(sqlite3.connect(template)) as src, closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
    reg = Register(SQLiteStore(copy), clock=clock)
    yield reg, ids
    reg.store.close()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_role_action_matrix(matrix_register, users, dump_store, action, role):
    reg, ids = matrix_register
    status, act = ACTIONS[action]
    before = dump_store(reg.store)

    if role in ALLOWED[action]:
        act(reg, users[role], ids[status], ids["original"])
        assert dump_store(reg.store) != before
    else:
        with pytest.raises(DomainError) as caught:
            act(reg, users[role], ids[status], ids["original"])
        assert caught.value.key in ("err.forbidden", "err.not_your_unit"), caught.value
        assert dump_store(reg.store) == before


def test_the_matrix_covers_every_service_action():
    reads = {"load", "meta", "invalidate", "data", "rules", "settings", "get_case", "history"}
    reads |= {"find_user", "users", "warm_up"}  # the accounts; the snapshot in the background
    reads |= {"export_rows"}  # a read that is logged; see the export tests below
    # The audit log (admin, supervisor; a logged read for export): tests/unit/test_signin.py.
    reads |= {"audit_log", "audit_page", "audit_choices", "export_audit", "log_export"}
    plumbing = {"now", "today", "upsert_row"}  # upsert_row is what save_unit/save_user use
    # One's own session and password, and the first start (tests/unit/test_signin.py).
    plumbing |= {"authenticate", "authenticate_sso", "sign_out", "change_password"}
    plumbing |= {"ensure_first_admin"}
    public = {
        name
        for name in vars(Register)
        if not name.startswith("_") and callable(getattr(Register, name))
    }

    assert public - reads - plumbing == set(ACTIONS), "every write is in the role matrix"


# -- reading: each sees what they may, PII masked by role ----------------------------------
#
# These tests only read (an export adds a history row), so they share one register.


@pytest.fixture(scope="module")
def bureau(tmp_path_factory, register_at, valid_case) -> tuple[Register, dict[str, str]]:
    """Cases in both counties and one not yet assigned; one 广安区 case confidential."""
    reg = register_at(tmp_path_factory.mktemp("bureau") / "register.db")
    clerk = User("clerk1", "李受理", "clerk")
    instruction = {"leader": "市长", "text": "请办理"}
    ga = reg.intake(clerk, valid_case, instruction=instruction)
    reg.assign(clerk, ga, unit="广安区")
    secret = reg.intake(
        clerk, {**valid_case, "confidential": True, "petitioner": "李四", "phone": "13900139000"}
    )
    reg.assign(clerk, secret, unit="广安区")
    yc = reg.intake(clerk, {**valid_case, "region": "岳池县"}, instruction=instruction)
    reg.assign(clerk, yc, unit="岳池县")
    waiting = reg.intake(clerk, valid_case)
    yield reg, {"ga": ga, "secret": secret, "yc": yc, "waiting": waiting}
    reg.store.close()


def test_a_handler_sees_only_the_cases_of_their_unit(bureau, handler, other_handler):
    reg, spread = bureau
    mine = reg.data(handler)

    assert set(mine.cases["case_id"]) == {spread["ga"], spread["secret"]}
    assert set(mine.instructions["case_id"]) == {spread["ga"]}
    assert set(reg.data(other_handler).cases["case_id"]) == {spread["yc"]}


@pytest.mark.parametrize("role", ["admin", "clerk", "supervisor", "leader"])
def test_the_bureau_sees_every_case(bureau, users, role):
    reg, spread = bureau
    assert set(reg.data(users[role]).cases["case_id"]) == set(spread.values())


def shown(reg, user, case_id) -> dict[str, Any]:
    cases = reg.data(user).cases
    return cases.set_index("case_id").loc[case_id, ["petitioner", "phone", "id_number"]].to_dict()


FULL = {"petitioner": "张三", "phone": "13800138000", "id_number": "11010519491231002X"}
MASKED = {"petitioner": "张*", "phone": "138****8000", "id_number": "110105********002X"}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", FULL),
        ("clerk", FULL),
        ("handler", FULL),
        ("supervisor", MASKED),
        ("leader", MASKED),
    ],
)
def test_personal_data_is_masked_by_role(bureau, users, role, expected):
    reg, spread = bureau
    assert shown(reg, users[role], spread["ga"]) == expected
    assert {k: reg.get_case(users[role], spread["ga"])[k] for k in expected} == expected


def test_a_confidential_case_hides_the_petitioner_from_the_handling_unit(
    bureau, handler, clerk, valid_case
):
    reg, spread = bureau
    assert shown(reg, handler, spread["secret"])["phone"] == "139****9000"
    assert shown(reg, handler, spread["secret"])["petitioner"] == "李*"
    assert reg.get_case(handler, spread["secret"])["phone"] == "139****9000"
    assert reg.get_case(clerk, spread["secret"])["phone"] == "13900139000"
    # The handler still sees the matter itself.
    assert reg.get_case(handler, spread["secret"])["title"] == valid_case["title"]


def test_a_handler_may_not_open_another_unit_s_case(bureau, handler):
    reg, spread = bureau
    for case_id in (spread["yc"], spread["waiting"]):
        with pytest.raises(DomainError) as caught:
            reg.get_case(handler, case_id)
        assert caught.value.key == "err.not_your_unit"
        with pytest.raises(DomainError):
            reg.history(handler, case_id)


def test_a_handler_s_history_holds_only_their_cases(bureau, handler):
    reg, spread = bureau
    assert set(reg.history(handler)["case_id"]) == {spread["ga"], spread["secret"]}


def test_an_export_holds_what_the_user_may_see_and_is_logged(bureau, handler, admin):
    reg, spread = bureau
    exported = reg.export_rows(handler, "cases").set_index("case_id")

    assert set(exported.index) == {spread["ga"], spread["secret"]}
    assert exported.loc[spread["ga"], "phone"] == "13800138000"
    assert exported.loc[spread["secret"], "phone"] == "139****9000"
    assert set(reg.export_rows(handler, "instructions")["case_id"]) == {spread["ga"]}
    logged = reg.history(admin)
    mine = logged[(logged["action"] == "export") & (logged["user"] == "ga_handler")]
    assert list(mine["field"]) == ["cases", "instructions"]


def test_a_supervisor_s_export_is_masked(bureau, supervisor):
    reg, spread = bureau
    exported = reg.export_rows(supervisor, "cases")

    assert set(exported["case_id"]) == set(spread.values())
    assert "13800138000" not in set(exported["phone"])


def test_only_an_administrator_exports_accounts_and_never_their_hashes(
    reg, clerk, admin, dump_store
):
    before = dump_store(reg.store)
    with pytest.raises(DomainError) as caught:
        reg.export_rows(clerk, "users")
    assert caught.value.key == "err.forbidden"
    assert dump_store(reg.store) == before

    reg.save_user(admin, "yc_handler", role="handler", units=["岳池县"], password="初始密码123")
    accounts = reg.export_rows(admin, "users")
    assert list(accounts["username"]) == ["yc_handler"]
    assert "password_hash" not in accounts.columns


def test_an_unknown_case_is_not_found(reg, clerk):
    with pytest.raises(DomainError) as caught:
        reg.get_case(clerk, "GA2026-999999")

    assert caught.value.key == "err.not_found"


def test_password_hashes_never_leave_the_register(reg, admin):
    reg.save_user(admin, "ga_handler", role="handler", units=["广安区"], password="初始密码123")

    assert "password_hash" not in reg.load().users.columns
    assert "password_hash" not in reg.save_user(admin, "ga_handler", display_name="赵承办")
    assert reg.find_user("ga_handler").units == frozenset({"广安区"})
