"""案件详情: fields with PII by role, deadlines, 三见面, one timeline, next actions, ?case=."""

from __future__ import annotations

import pytest

from tests.app.conftest import ROLES, Portal, no_errors, texts, user


def detail(portal: Portal, role: str, case_id: str | None = None):
    query = {"case": case_id} if case_id else {}
    return portal.page(role, "case", **query)


def everything(at) -> str:
    """All text on the page (markdown, captions, headers)."""
    parts = texts(at.markdown) + texts(at.caption) + texts(at.header) + texts(at.subheader)
    return "\n".join(parts)


def a_case_with_a_history(portal: Portal) -> str:
    cid = portal.intake(received_at="2026-02-20")
    portal.reg.assign(
        user("clerk"), cid, unit="广安区", lead_official="区长 王强", assigned_at="2026-03-05"
    )
    portal.reg.accept(user("handler"), cid, accepted_at="2026-03-06", met=True)
    portal.reg.instruct(
        user("leader"), cid, leader="市长", text="请广安区加快办理。", date="2026-03-07"
    )
    portal.reg.supervise(
        user("supervisor"), cid, kind="电话督办", note="已电话督促", date="2026-03-10"
    )
    return cid


@pytest.mark.parametrize("role", ROLES)
def test_without_a_case_id_the_page_asks_for_one(portal: Portal, role):
    at = detail(portal, role)
    no_errors(at)
    assert at.title[0].value == "案件详情"
    assert at.text_input(key="case.pick").value == ""


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_a_case_it_may_see_on_a_demo_register(demo_portal: Portal, role):
    cases = demo_portal.reg.load().cases
    mine = cases[(cases["unit"] == "广安区") & (cases["status"] == "办理中")]
    cid = mine["case_id"].iloc[0]
    at = detail(demo_portal, role, cid)
    no_errors(at)
    page = everything(at)
    assert any(cid in h for h in texts(at.header))
    for section in ("办理时限", "三见面", "留言信息", "交办与办理", "办理记录", "可执行的操作"):
        assert section in page
    assert len(at.dataframe[0].value) >= 3  # intake, assign, accept at least


def test_every_field_is_shown_with_pii_by_role(portal: Portal):
    cid = a_case_with_a_history(portal)
    clerk = everything(detail(portal, "clerk", cid))
    for label in (
        "来源编号",
        "渠道",
        "留言人",
        "联系电话",
        "身份证号",
        "所属区县",
        "承办单位",
        "包案领导",
        "受理时限",
        "办理时限",
        "满意度",
        "退回理由",
    ):
        assert label in clerk
    assert "13800138000" in clerk and "张三" in clerk
    assert "11010519491231002X" in clerk
    leader = everything(detail(portal, "leader", cid))
    assert "13800138000" not in leader and "138\\*\\*\\*\\*8000" in leader
    assert "张三" not in leader
    handler = everything(detail(portal, "handler", cid))
    assert "13800138000" in handler  # the handler of the case sees who wrote


def test_a_confidential_case_hides_the_petitioner_from_the_unit(portal: Portal):
    cid = portal.intake(confidential=True)
    portal.reg.assign(user("clerk"), cid, unit="广安区", assigned_at="2026-03-05")
    handler = everything(detail(portal, "handler", cid))
    assert "13800138000" not in handler and "张三" not in handler
    assert "身份保密" in handler


def test_another_units_handler_is_refused(portal: Portal):
    cid = a_case_with_a_history(portal)
    at = detail(portal, "other_handler", cid)
    assert not at.exception
    assert any("不属于您的单位" in e for e in texts(at.error))
    assert not at.dataframe


def test_an_unknown_case_is_an_error_message(portal: Portal):
    at = detail(portal, "clerk", "GA2026-999999")
    assert not at.exception
    assert any("找不到案件 GA2026-999999" in e for e in texts(at.error))


def test_deadlines_show_days_left_overdue_and_done(portal: Portal):
    cid = a_case_with_a_history(portal)
    page = everything(detail(portal, "clerk", cid))
    assert "2026-03-20 · 2026-03-06 完成（按期）" in page  # accepted on time
    assert "2026-05-05 · 剩 46 天" in page  # handling clock running
    late = portal.intake(received_at="2026-02-20", title="逾期未受理")
    portal.reg.assign(user("clerk"), late, unit="广安区", assigned_at="2026-03-01")
    page = everything(detail(portal, "clerk", late))
    assert "2026-03-16 · 🔴 逾期 4 天" in page


def test_the_three_meetings_checklist(portal: Portal):
    cid = a_case_with_a_history(portal)
    page = everything(detail(portal, "clerk", cid))
    assert "已见面 2026-03-06" in page
    assert page.count("未见面") == 2


def test_one_timeline_of_history_instructions_and_supervisions(portal: Portal):
    cid = a_case_with_a_history(portal)
    at = detail(portal, "supervisor", cid)
    tl = at.dataframe[0].value
    kinds = list(tl["kind"])
    assert kinds[0] == "办理 · 登记"
    assert "办理 · 交办" in kinds and "办理 · 受理" in kinds
    assert "批示" in kinds and "督办 · 电话督办" in kinds
    assert kinds.index("办理 · 受理") < kinds.index("批示") < kinds.index("督办 · 电话督办")
    assign = tl[tl["kind"] == "办理 · 交办"].iloc[0]
    assert "待交办 → 已交办" in assign["what"] and "广安区" in assign["what"]
    assert tl[tl["kind"] == "批示"].iloc[0]["who"] == "市长"


def test_next_actions_follow_role_and_status(portal: Portal):
    cid = portal.intake()
    portal.reg.assign(user("clerk"), cid, unit="广安区", assigned_at="2026-03-16")
    handler = detail(portal, "handler", cid)
    assert handler.radio(key=f"act.{cid}.choice@zh").options[:3] == ["受理", "不予受理", "退回"]
    leader = detail(portal, "leader", cid)
    assert leader.radio(key=f"act.{cid}.choice@zh").options == ["批示"]
    clerk = detail(portal, "clerk", cid)
    assert "改派" in clerk.radio(key=f"act.{cid}.choice@zh").options
    assert "受理" not in clerk.radio(key=f"act.{cid}.choice@zh").options


def test_acting_on_the_detail_page(portal: Portal):
    cid = portal.intake()
    portal.reg.assign(user("clerk"), cid, unit="广安区", assigned_at="2026-03-16")
    at = detail(portal, "handler", cid)
    at.button(key=f"act.{cid}.accept.submit").click().run()
    no_errors(at)
    assert portal.case(cid)["status"] == "办理中"
    assert any("受理已完成" in s for s in texts(at.success))
    assert ":blue-badge[办理中]" in everything(at)


def test_typing_a_case_id_opens_it_and_updates_the_address(portal: Portal):
    cid = portal.intake()
    at = detail(portal, "clerk")
    at.text_input(key="case.pick").input(cid).run()
    no_errors(at)
    assert any(cid in h for h in texts(at.header))
    assert at.query_params.get("case") in (cid, [cid])


def test_english_labels(portal: Portal):
    cid = a_case_with_a_history(portal)
    at = portal.app("clerk")
    at.session_state["lang"] = "en"
    at.switch_page("pages/case_detail.py")
    at.query_params["case"] = cid
    at.run()
    no_errors(at)
    page = everything(at)
    for label in ("Deadlines", "Petitioner", "Handling unit", "Timeline", "In progress"):
        assert label in page
    assert "left" in page
