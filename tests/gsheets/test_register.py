"""The service layer on a shared Google Sheet works exactly as on the embedded store."""

from __future__ import annotations

import pytest

from lib.health import check_register
from lib.register import Register
from lib.store.base import ConflictError
from lib.store.gsheets import GSheetsStore, col_letter
from tests.conftest import UNITS, VALID_CASE


@pytest.fixture
def reg(store: GSheetsStore, clock, admin) -> Register:
    reg = Register(store, clock=clock)
    reg.max_age_s = 30
    for unit in UNITS:
        reg.save_unit(admin, unit)
    return reg


def test_a_case_goes_through_its_whole_life_on_the_sheet(reg, clerk, handler, supervisor, leader):
    case_id = reg.intake(clerk, {**VALID_CASE, "phone": "013800138000", "title": "=电梯停运"})
    reg.instruct(leader, case_id, leader="周局长", text="请尽快办理", date="2026-03-03")
    reg.assign(clerk, case_id, unit="广安区", lead_official="王区长", assigned_at="2026-03-04")
    reg.accept(handler, case_id, accepted_at="2026-03-05", met=True)
    reg.supervise(supervisor, case_id, kind="电话督办", note="催办", date="2026-03-06")
    reg.reply(handler, case_id, reply="已修复电梯", concluded_at="2026-03-10")
    reg.evaluate(clerk, case_id, evaluation="满意", evaluated_at="2026-03-12")

    case = reg.get_case(clerk, case_id)
    assert case["status"] == "已评价" and case["version"] == "5"  # four changes after intake
    assert case["phone"] == "013800138000" and case["title"] == "=电梯停运"
    data = reg.load(force=True)
    assert bool(data.cases.set_index("case_id").loc[case_id, "instructed"])
    assert len(data.instructions) == 1 and len(data.supervisions) == 1
    actions = list(reg.history(clerk, case_id)["action"])
    assert actions[0] == "intake" and "evaluate" in actions
    assert check_register(reg).empty


def test_a_colleague_s_change_is_a_conflict_and_nothing_of_ours_is_written(
    reg, store, emulator, sheet_id, clock, clerk
):
    case_id = reg.intake(clerk, dict(VALID_CASE))
    colleague = Register(GSheetsStore(sheet_id, session=emulator.session()), clock=clock)

    colleague.assign(clerk, case_id, unit="广安区", version=1)
    history_before = reg.history(clerk, case_id)
    with pytest.raises(ConflictError) as caught:
        reg.assign(clerk, case_id, unit="岳池县", version=1)

    assert caught.value.key == "err.conflict" and caught.value.actual == 2
    assert "GA2026-000001" in caught.value.message("zh")
    case = reg.get_case(clerk, case_id)
    assert case["unit"] == "广安区"
    assert reg.history(clerk, case_id).equals(history_before)


def test_check_on_the_sheet_names_sheet_rows(reg, emulator, sheet_id, clerk):
    reg.intake(clerk, dict(VALID_CASE))
    emulator.insert_rows(sheet_id, "案件", 2, count=3)  # the case is now on row 5
    col = reg.schema["cases"].keys.index("received_at")
    emulator.set_cells(sheet_id, "案件", [["下周一"]], start=f"{col_letter(col)}5")

    problems = check_register(reg)

    assert list(problems["row"].unique()) == [5]
    assert "登记日期" in set(problems["field"])
