"""交办跟踪: worklists by role, filters from the address, assigning, the case actions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lib.ui import tables
from tests.app.conftest import ROLES, Portal, no_errors, texts, user


def select(at, table: str, rows: list[int]):
    """Simulate ticking rows of a table (``queue`` or ``worklist``)."""
    key = next(d.key for d in at.dataframe if d.key and d.key.startswith(table + "."))
    at.session_state[key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def address(at, key: str) -> list[str]:
    """A query parameter of the page's address, as a list."""
    v = at.query_params.get(key, [])
    return [v] if isinstance(v, str) else list(v)


def worklist(at) -> pd.DataFrame:
    """The case-tracking table (the last table on the page)."""
    return at.dataframe[-1].value


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_tracking_page_on_an_empty_register(portal: Portal, role):
    at = portal.page(role, "tracking")
    no_errors(at)
    assert at.title[0].value == "交办跟踪"
    labels = [m.label for m in at.metric]
    if role == "handler":
        assert labels == ["待受理", "办理中", "已逾期", "3 天内到期"]
    else:
        assert labels == ["待交办", "待受理", "办理中", "已逾期", "3 天内到期"]
    if role in ("admin", "clerk"):
        assert [t.label for t in at.tabs] == ["待交办（0）", "案件跟踪（0）"]
    else:
        assert not at.tabs
    assert any("没有" in i for i in texts(at.info))


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_its_cases_on_a_demo_register(demo_portal: Portal, role):
    at = demo_portal.page(role, "tracking")
    no_errors(at)
    table = worklist(at)
    cases = demo_portal.reg.load().cases
    if role == "handler":
        assert set(table["unit"]) == {"广安区"}
        assert len(table) == int((cases["unit"] == "广安区").sum())
        assert not at.tabs  # no queue for handlers
        assert not [m for m in at.multiselect if m.key == "f.unit"]
    else:
        # the most urgent first, as many as a table draws; the caption tells how many in all
        assert len(cases) > tables.STYLE_LIMIT
        assert len(table) == tables.STYLE_LIMIT
        total = f"共 {len(cases)} 件"
        assert any(total in text for text in texts(at.caption)), texts(at.caption)
    assert {"case_id", "due_state", "next_due", "status", "title"} <= set(table.columns)
    # most urgent first: overdue cases lead the list
    assert table["due_state"].iloc[0].startswith("🔴")
    if role in ("admin", "clerk"):
        queue = at.dataframe[0].value
        assert set(queue["case_id"]) == set(cases.loc[cases["status"] == "待交办", "case_id"])


def test_pii_is_masked_for_roles_that_may_not_see_it(demo_portal: Portal):
    clerk = worklist(demo_portal.page("clerk", "tracking"))
    leader = worklist(demo_portal.page("leader", "tracking"))
    assert not clerk["petitioner"].str.contains("*", regex=False).all()
    assert leader["petitioner"].fillna("").map(lambda v: v == "" or "*" in v).all()


def test_filters_come_from_the_address(demo_portal: Portal):
    at = demo_portal.page("admin", "tracking", status=["办理中"], region=["岳池县"])
    no_errors(at)
    assert at.multiselect(key="f.status").value == ["办理中"]
    assert at.multiselect(key="f.region").value == ["岳池县"]
    table = worklist(at)
    assert len(table) > 0
    assert set(table["status"]) == {"办理中"} and set(table["region"]) == {"岳池县"}
    assert at.expander[0].proto.expanded


def test_keyword_date_and_flag_filters(demo_portal: Portal):
    cases = demo_portal.reg.load().cases
    word = cases["title"].iloc[0][:4]
    at = demo_portal.page("clerk", "tracking", q=word)
    table = worklist(at)
    hits = cases["title"].str.contains(word, regex=False) | cases["content"].str.contains(
        word, regex=False
    )
    assert len(table) == int(hits.sum()) > 0
    at = demo_portal.page("clerk", "tracking", instructed="yes", **{"from": "2026-01-01"})
    table = worklist(at)
    expect = cases[cases["instructed"] & (cases["received_at"] >= pd.Timestamp("2026-01-01"))]
    assert set(table["case_id"]) == set(expect["case_id"])
    assert table["instructed"].all()
    at = demo_portal.page("clerk", "tracking", repeat="yes")
    assert set(worklist(at)["case_id"]) == set(cases.loc[cases["repeat_of"] != "", "case_id"])


def test_changing_and_clearing_a_filter(demo_portal: Portal):
    at = demo_portal.page("admin", "tracking")
    total = len(worklist(at))
    at.multiselect(key="f.status").select("待交办").run()
    assert set(worklist(at)["status"]) == {"待交办"}
    assert address(at, "status") == ["待交办"]  # the address follows
    at.multiselect(key="f.unit").select("__none__").run()
    assert (worklist(at)["unit"] == "未交办").all()
    at.text_input(key="f.q").input("路灯").run()
    assert address(at, "q") == ["路灯"]
    at.button(key="f.clear").click().run()
    no_errors(at)
    assert len(worklist(at)) == total
    assert at.multiselect(key="f.status").value == []
    assert "status" not in at.query_params and "q" not in at.query_params


def test_sort_orders(demo_portal: Portal):
    at = demo_portal.page("admin", "tracking", sort="newest")
    dates = worklist(at)["received_at"]
    assert dates.is_monotonic_decreasing


def test_assign_several_cases_from_the_queue(portal: Portal):
    ids = [portal.intake(title=f"第{i}件") for i in range(3)]
    at = portal.page("clerk", "tracking")
    assert list(at.dataframe[0].value["case_id"]) == ids
    select(at, "queue", [0, 2])
    assert "已选 2 件" in " ".join(texts(at.markdown))
    box = at.selectbox(key="tracking.assign.unit")
    assert (box.value, box.placeholder) == (None, "请选择"), "no English placeholder"
    box.set_value("广安区")
    at.text_input(key="tracking.assign.lead").input("区委副书记 周明")
    at.date_input(key="tracking.assign.date").set_value(dt.date(2026, 3, 19))
    at.button(key="tracking.assign.submit").click().run()
    no_errors(at)
    assert any("已交办 2 件至 广安区" in s for s in texts(at.success))
    for cid in (ids[0], ids[2]):
        row = portal.case(cid)
        assert (row["status"], row["unit"], row["assigned_at"]) == (
            "已交办",
            "广安区",
            "2026-03-19",
        )
        assert row["lead_official"] == "区委副书记 周明"
        assert row["accept_due"] == "2026-04-03"
    assert portal.case(ids[1])["status"] == "待交办"
    assert list(at.dataframe[0].value["case_id"]) == [ids[1]]


def test_assigning_without_a_unit_is_refused_with_a_message(portal: Portal):
    cid = portal.intake()
    at = portal.page("clerk", "tracking")
    select(at, "queue", [0])
    at.button(key="tracking.assign.submit").click().run()
    assert not at.exception
    assert any("承办单位" in e for e in texts(at.error))
    assert portal.case(cid)["status"] == "待交办"


def act(at, case_id: str, action: str, submit: bool = True, **fields):
    """Choose an action on the selected case, fill its form, submit it."""
    at.radio(key=f"act.{case_id}.choice@zh").set_value(action).run()
    for name, value in fields.items():
        key = f"act.{case_id}.{action}.{name}"
        if isinstance(value, bool):
            at.checkbox(key=key).set_value(value)
        elif isinstance(value, dt.date):
            at.date_input(key=key).set_value(value)
        elif isinstance(value, int):
            at.number_input(key=key).set_value(value)
        elif name in ("reason", "reply", "text", "note"):
            at.text_area(key=key).input(value)
        elif name in ("unit", "value", "stage", "kind"):
            at.selectbox(key=key).set_value(value)
        else:
            at.text_input(key=key).input(value)
    if submit:
        at.button(key=f"act.{case_id}.{action}.submit").click().run()
    return at


def open_case(portal: Portal, role: str, case_id: str):
    """The tracking page as ``role`` with ``case_id`` selected."""
    at = portal.page(role, "tracking")
    table = worklist(at)
    row = int(table.index[table["case_id"] == case_id][0])
    return select(at, "worklist", [row])


def test_assign_accept_extend_reply_evaluate_through_the_ui(portal: Portal):
    cid = portal.intake()
    # the clerk assigns
    at = open_case(portal, "clerk", cid)
    act(at, cid, "assign", unit="广安区", lead="区长 王强", date=dt.date(2026, 3, 5))
    no_errors(at)
    assert any(f"{cid}：交办已完成" in s for s in texts(at.success))
    row = portal.case(cid)
    assert (row["status"], row["assigned_at"], row["accept_due"]) == (
        "已交办",
        "2026-03-05",
        "2026-03-20",
    )
    # the handler of 广安区 accepts (and met the petitioner)
    at = open_case(portal, "handler", cid)
    # (退回 is gone: its 5 working days ended on 2026-03-12)
    assert at.radio(key=f"act.{cid}.choice@zh").options[:3] == ["受理", "不予受理", "三见面"]
    act(at, cid, "accept", date=dt.date(2026, 3, 10), met=True)
    no_errors(at)
    row = portal.case(cid)
    assert (row["status"], row["accepted_at"], row["meet_accept"]) == (
        "办理中",
        "2026-03-10",
        "2026-03-10",
    )
    assert row["handle_due"] == "2026-05-09"
    # extends once
    at = open_case(portal, "handler", cid)
    act(at, cid, "extend", days=20, reason="涉及多个部门，需协调。", date=dt.date(2026, 3, 12))
    no_errors(at)
    row = portal.case(cid)
    assert (row["extension_days"], row["handle_due"]) == ("20", "2026-05-29")
    assert "延期" not in at.radio(key=f"act.{cid}.choice@zh").options  # only once
    # replies
    act(at, cid, "reply", reply="经核查，电梯已于3月17日修复。", date=dt.date(2026, 3, 18))
    no_errors(at)
    row = portal.case(cid)
    assert (row["status"], row["concluded_at"]) == ("已办结", "2026-03-18")
    # the supervisor records the petitioner's rating
    at = open_case(portal, "supervisor", cid)
    act(at, cid, "evaluate", value="满意", date=dt.date(2026, 3, 20))
    no_errors(at)
    row = portal.case(cid)
    assert (row["status"], row["evaluation"], row["evaluated_at"]) == (
        "已评价",
        "满意",
        "2026-03-20",
    )
    steps = [h["action"] for h in portal.history(cid)]
    for step in ("intake", "assign", "accept", "extend", "reply", "evaluate"):
        assert step in steps
    assert steps.index("assign") < steps.index("accept") < steps.index("extend")
    assert steps.index("extend") < steps.index("reply") < steps.index("evaluate")


def test_an_action_out_of_order_is_refused_and_nothing_is_written(portal: Portal):
    cid = portal.intake()
    portal.reg.assign(user("clerk"), cid, unit="广安区", assigned_at="2026-03-05")
    at = open_case(portal, "handler", cid)
    before = portal.count("history")
    act(at, cid, "accept", date=dt.date(2026, 3, 1))  # before the assignment
    assert not at.exception
    assert any("受理日期" in e and "交办日期" in e for e in texts(at.error))
    assert portal.case(cid)["status"] == "已交办"
    assert portal.count("history") == before
    assert at.date_input(key=f"act.{cid}.accept.date").value == dt.date(2026, 3, 1)


def test_a_reason_is_required_to_reject(portal: Portal):
    cid = portal.intake()
    portal.reg.assign(user("clerk"), cid, unit="广安区", assigned_at="2026-03-05")
    at = open_case(portal, "handler", cid)
    act(at, cid, "reject")
    assert any("请填写理由" in e for e in texts(at.error))
    act(at, cid, "reject", reason="不属于本单位职责范围。")
    no_errors(at)
    assert portal.case(cid)["status"] == "不予受理"


def test_a_change_by_someone_else_is_a_conflict_and_the_input_is_kept(portal: Portal):
    cid = portal.intake()
    portal.reg.assign(user("clerk"), cid, unit="广安区", assigned_at="2026-03-05")
    portal.reg.accept(user("handler"), cid, accepted_at="2026-03-06")
    at = open_case(portal, "handler", cid)
    act(at, cid, "extend", submit=False, days=10, reason="需要现场勘查。")
    # meanwhile a colleague records a meeting on the same case
    portal.reg.meet(user("handler"), cid, stage="handle", met_at="2026-03-15")
    at.button(key=f"act.{cid}.extend.submit").click().run()
    assert not at.exception
    assert any("已被他人修改" in e for e in texts(at.error))
    assert portal.case(cid)["extension_days"] == "0"
    assert at.text_area(key=f"act.{cid}.extend.reason").value == "需要现场勘查。"
    # having seen the case as it is now, the same submit goes through
    at.button(key=f"act.{cid}.extend.submit").click().run()
    no_errors(at)
    assert portal.case(cid)["extension_days"] == "10"


def test_handlers_cannot_act_on_other_units_cases(portal: Portal):
    cid = portal.intake(region="岳池县")
    portal.reg.assign(user("clerk"), cid, unit="岳池县", assigned_at="2026-03-05")
    at = portal.page("handler", "tracking")
    assert cid not in set(worklist(at)["case_id"]) if len(at.dataframe) else True
    at = portal.page("other_handler", "tracking")
    assert cid in set(worklist(at)["case_id"])


def test_leaders_may_only_record_instructions(portal: Portal):
    cid = portal.intake()
    at = open_case(portal, "leader", cid)
    assert at.radio(key=f"act.{cid}.choice@zh").options == ["批示"]
    act(at, cid, "instruct", leader="市委书记", text="请市信访局跟踪督办。")
    no_errors(at)
    assert list(portal.reg.load().instructions["case_id"]) == [cid]


def test_due_state_colours_overdue_and_due_soon(portal: Portal):
    today = dt.date(2026, 3, 20)
    cases = pd.DataFrame(
        {
            "case_id": ["a", "b", "c", "d", "e"],
            "status": ["已交办", "办理中", "已交办", "待交办", "已办结"],
            "accept_due": pd.to_datetime(["2026-03-18", None, "2026-03-23", None, None]),
            "handle_due": pd.to_datetime(
                ["2026-05-01", "2026-03-20", "2026-05-01", None, "2026-03-01"]
            ),
            "received_at": pd.to_datetime(["2026-03-01"] * 5),
        }
    )
    due = tables.due_frame(cases, today, portal.reg.rules())
    assert list(due["level"]) == ["overdue", "soon", "soon", "", ""]
    assert list(due["due_state"]) == ["🔴 逾期 2 天", "🟠 今天到期", "🟠 剩 3 天", "", ""]
    order = tables.urgency_order(due, cases)
    assert list(cases.loc[order, "case_id"][:3]) == ["a", "b", "c"]


def test_small_worklists_are_coloured_with_a_styler(portal: Portal):
    cid = portal.intake(received_at="2026-02-20")
    portal.reg.assign(user("clerk"), cid, unit="广安区", assigned_at="2026-03-04")
    at = portal.page("admin", "tracking")
    table = worklist(at)
    assert table.loc[0, "due_state"] == "🔴 逾期 1 天"
    cases = portal.reg.load().cases
    frame, level = tables.worklist(
        cases,
        sheet=portal.reg.schema["cases"],
        today=dt.date(2026, 3, 20),
        rules=portal.reg.rules(),
        lang="zh",
    )
    styled = tables.styled(frame, level, portal.reg.schema["cases"])
    html = styled.to_html()
    assert tables.OVERDUE_CSS.split(";")[0] in html


def test_export_of_the_filtered_rows(demo_portal: Portal):
    from lib.ui.context import Ctx

    reg = demo_portal.reg
    u = user("leader")
    data = reg.data(u)
    ctx = Ctx(reg=reg, user=u, lang="zh", data=data, today=dt.date(2026, 3, 20), demo=False, url="")
    some = data.cases.head(5)
    csv = tables.export_bytes(ctx, some, "csv").decode("utf-8-sig")
    lines = csv.strip().splitlines()
    assert lines[0].startswith("案件编号,")
    assert len(lines) == 6
    assert "*" in csv  # the leader's export is masked like the screen
    xlsx = tables.export_bytes(ctx, some, "xlsx")
    assert xlsx[:2] == b"PK"


def test_switching_language_keeps_the_filters_and_the_chosen_action(portal: Portal):
    cid = portal.intake()
    portal.reg.assign(user("clerk"), cid, unit="广安区", assigned_at="2026-03-16")
    at = open_case(portal, "handler", cid)
    at.selectbox(key="f.sort@zh").set_value("newest").run()
    at.selectbox(key="f.instructed@zh").set_value("no").run()
    at.radio(key=f"act.{cid}.choice@zh").set_value("reject").run()
    at.sidebar.radio(key="ui.lang").set_value("en").run()
    no_errors(at)
    assert at.selectbox(key="f.sort@en").value == "newest"
    assert at.selectbox(key="f.instructed@en").value == "no"
    assert at.radio(key=f"act.{cid}.choice@en").value == "reject"
    assert address(at, "sort") == ["newest"]  # the address does not depend on the language


def test_a_big_worklist_draws_the_most_urgent_rows_and_counts_them_all(
    demo_portal: Portal, monkeypatch
):
    monkeypatch.setattr(tables, "STYLE_LIMIT", 7)  # the page draws this many rows at most
    cases = demo_portal.reg.load().cases
    at = demo_portal.page("admin", "tracking")
    no_errors(at)
    table = worklist(at)
    assert len(table) == 7
    # The drawn rows are the first of the full list, in its (urgency) order.
    full, _ = tables.worklist(
        cases,
        sheet=demo_portal.reg.schema["cases"],
        today=demo_portal.reg.today(),
        rules=demo_portal.reg.rules(),
        lang="zh",
    )
    assert list(table["case_id"]) == list(full["case_id"].head(7))
    said = " ".join(texts(at.caption))
    assert f"表中列出排在最前的 7 件（共 {len(cases)} 件）" in said
    assert f"共 {len(cases)} 件" in said  # the count (and the export) cover every row
    waiting = int((cases["status"] == "待交办").sum())
    assert waiting > 7
    assert len(at.dataframe[0].value) == 7, "the 待交办 queue too"
    assert f"表中列出排在最前的 7 件（共 {waiting} 件）" in said


@pytest.mark.sqlite_only  # the sheet variant re-reads on every run (stale_seconds 0)
def test_reruns_reuse_the_worklist_until_the_register_changes(portal: Portal, monkeypatch):
    portal.intake(title="第一件")
    real, calls = tables.due_frame, []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tables, "due_frame", counted)
    at = portal.page("clerk", "tracking")
    first = len(calls)
    assert first >= 1
    at.run()
    assert len(calls) == first, "the same snapshot, view and filters: computed once"
    new = portal.intake(title="第二件")
    at.run()
    no_errors(at)
    assert len(calls) > first, "a changed register is computed again"
    assert new in set(worklist(at)["case_id"])
