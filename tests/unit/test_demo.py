"""The demo register (lib/demo.py): realistic, consistent with the rules, deterministic.

The generated rows must be rows the app itself could have written: every value parses with
the schema, every case passes the workflow's date-order rules, the derived fields are exactly
what ``workflow.derive`` computes, and the history tells each case's story step by step.
"""

from __future__ import annotations

import collections
import datetime as dt
import re

import pytest

from lib import demo, workflow
from lib.auth import LOCAL_ADMIN, User, verify_password
from lib.demo_text import COUNTIES, REPLIES, TOPICS, UNITS
from lib.i18n import DomainError
from lib.register import open_register
from lib.schema import default_schema, valid_id_number

TODAY = dt.date(2026, 11, 27)
N = 1500
SCHEMA = default_schema()
CASE_DATES = [f.key for f in SCHEMA["cases"].fields if f.type == "date" and not f.derived]


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict[str, str]]]:
    return demo.generate(N, seed=7, today=TODAY, rules=workflow.Rules())


@pytest.fixture(scope="module")
def typed_cases(rows) -> list[dict]:
    sheet = SCHEMA["cases"]
    return [sheet.parse_row(r, allowed={"region": COUNTIES})[0] for r in rows["cases"]]


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


# --- determinism ----------------------------------------------------------------------------


def test_same_arguments_give_identical_rows():
    a = demo.generate(300, seed=3, today=TODAY)
    b = demo.generate(300, seed=3, today=TODAY)
    assert a == b


def test_another_seed_gives_other_cases():
    a = demo.generate(300, seed=3, today=TODAY)["cases"]
    b = demo.generate(300, seed=4, today=TODAY)["cases"]
    assert [r["title"] for r in a] != [r["title"] for r in b]


def test_zero_cases_still_gives_units_and_users():
    out = demo.generate(0, seed=1, today=TODAY)
    assert out["cases"] == [] and out["history"] == []
    assert len(out["units"]) == len(UNITS) and out["users"]


# --- every row is a row the app could have written -------------------------------------------


@pytest.mark.parametrize(
    "sheet", ["units", "users", "cases", "instructions", "supervisions", "history"]
)
def test_every_row_parses_with_the_schema_and_is_canonical(rows, sheet):
    s = SCHEMA[sheet]
    for row in rows[sheet]:
        _, text, errors = s.parse_row(row, allowed={"region": COUNTIES})
        assert errors == [], (row, [e.message() for e in errors])
        assert set(row) == set(s.keys)
        assert text == row  # already canonical text: nothing for the store to reinterpret


def test_no_recorded_date_is_after_today_or_older_than_a_year(rows):
    first = TODAY - dt.timedelta(days=364)
    for r in rows["cases"]:
        assert first <= _day(r["received_at"]) <= TODAY
        for key in CASE_DATES:
            if r[key]:
                assert _day(r[key]) <= TODAY, (key, r)
        assert _day(r["updated_at"]) <= TODAY
    for sheet in ("instructions", "supervisions"):
        assert all(_day(x["date"]) <= TODAY for x in rows[sheet])
    assert all(_day(h["timestamp"]) <= TODAY for h in rows["history"])


def test_every_case_passes_the_workflow_rules(typed_cases):
    for case in typed_cases:
        errors = workflow.case_errors(case, TODAY)
        assert errors == [], (case["case_id"], [e.message() for e in errors])


def test_derived_fields_are_exactly_what_workflow_derives(typed_cases):
    rules = workflow.Rules()
    for case in typed_cases:
        assert {
            "status": case["status"],
            "accept_due": case["accept_due"],
            "handle_due": case["handle_due"],
        } == workflow.derive(case, rules), case["case_id"]


@pytest.mark.parametrize(
    "rules",
    [
        workflow.Rules(accept_days=10, handle_days=30, max_extension_days=15),
        workflow.Rules(accept_day_kind="working", handle_day_kind="working"),
    ],
    ids=["shorter-calendar", "working-days"],
)
def test_other_deadline_settings_are_followed(rules):
    today = dt.date(2026, 6, 30)  # inside the holiday calendar's years
    sheet = SCHEMA["cases"]
    for row in demo.generate(600, seed=5, today=today, rules=rules)["cases"]:
        case = sheet.parse_row(row, allowed={"region": COUNTIES})[0]
        assert workflow.case_errors(case, today) == []
        derived = workflow.derive(case, rules)
        assert (case["status"], case["accept_due"], case["handle_due"]) == (
            derived["status"],
            derived["accept_due"],
            derived["handle_due"],
        )
        assert (case["extension_days"] or 0) <= rules.max_extension_days


def test_years_beyond_the_holiday_calendar_still_work():
    # The 退回 window counts working days; past the holiday calendar's last year it falls
    # back to weekdays instead of failing the whole seed.
    today = dt.date(workflow.calendar_years()[1] + 2, 3, 1)
    sheet = SCHEMA["cases"]
    cases = demo.generate(400, seed=3, today=today)["cases"]
    assert any(c["returned_at"] for c in cases)
    for row in cases:
        case = sheet.parse_row(row, allowed={"region": COUNTIES})[0]
        assert workflow.case_errors(case, today) == []


# --- a realistic mix ---------------------------------------------------------------------------


def _share(cases, pred) -> float:
    return sum(1 for c in cases if pred(c)) / len(cases)


def test_the_mix_has_every_kind_of_case(rows, typed_cases):
    cases = typed_cases
    status = collections.Counter(c["status"] for c in cases)
    assert set(status) == set(workflow.STATUSES)
    # 待交办: about 5%, and recent
    pending = [c for c in cases if c["status"] == "待交办"]
    assert 0.03 <= len(pending) / N <= 0.08
    assert sorted((TODAY - c["received_at"]).days for c in pending)[len(pending) // 2] <= 30
    # open and overdue, both kinds
    late_accept = [c for c in cases if c["status"] == "已交办" and c["accept_due"] < TODAY]
    late_handle = [c for c in cases if c["status"] == "办理中" and c["handle_due"] < TODAY]
    assert late_accept and late_handle
    # accepted mostly on time, some late
    accepted = [c for c in cases if c["accepted_at"]]
    late = _share(accepted, lambda c: c["accepted_at"] > c["accept_due"])
    assert 0.03 <= late <= 0.25
    # 不予受理 with a reason, 延期 once with date and reason
    rejected = [c for c in cases if c["rejected_at"]]
    assert 0.015 <= len(rejected) / N <= 0.05 and all(c["reject_reason"] for c in rejected)
    extended = [c for c in cases if c["extension_days"]]
    assert 0.05 <= len(extended) / N <= 0.12
    assert all(c["extended_at"] and c["extension_reason"] for c in extended)
    assert all(1 <= c["extension_days"] <= 30 for c in extended)
    # 退回 and reassigned
    returned = [c for c in cases if c["returned_at"]]
    assert returned and all(c["return_reason"] for c in returned)
    assert any(c["assigned_at"] and c["assigned_at"] >= c["returned_at"] for c in returned)
    # 三见面
    for key in ("meet_accept", "meet_handle", "meet_reply"):
        assert 0.05 <= _share(cases, lambda c, k=key: c[k] is not None) <= 0.4
    # confidential reports against officials
    conf = [c for c in cases if c["confidential"]]
    assert 0.015 <= len(conf) / N <= 0.05 and all(c["type"] == "投诉" for c in conf)
    assert 0.85 <= _share([c for c in cases if not c["repeat_of"]], lambda c: c["is_first"]) < 1


def test_evaluations_are_mostly_satisfied_with_a_spread_between_units(typed_cases):
    rated = [c for c in typed_cases if c["evaluation"]]
    share = collections.Counter(c["evaluation"] for c in rated)
    assert 0.65 <= share["满意"] / len(rated) <= 0.85
    assert 0.10 <= share["基本满意"] / len(rated) <= 0.22
    assert 0.05 <= share["不满意"] / len(rated) <= 0.15
    for c in rated:
        assert 1 <= (c["evaluated_at"] - c["concluded_at"]).days <= 10
    by_unit = collections.defaultdict(list)
    for c in rated:
        by_unit[c["unit"]].append(c["evaluation"] != "不满意")
    rates = [sum(v) / len(v) for v in by_unit.values() if len(v) >= 30]
    assert max(rates) - min(rates) >= 0.08  # the league table has a spread


def test_repeats_point_to_an_earlier_case_of_the_same_petitioner(typed_cases):
    by_id = {c["case_id"]: c for c in typed_cases}
    repeats = [c for c in typed_cases if c["repeat_of"]]
    assert 0.04 <= len(repeats) / N <= 0.09
    for c in repeats:
        o = by_id[c["repeat_of"]]
        assert o["received_at"] < c["received_at"]
        assert (o["petitioner"], o["phone"], o["region"]) == (
            c["petitioner"],
            c["phone"],
            c["region"],
        )
        assert o["title"] in c["title"] or c["title"] in o["title"]
        assert not c["is_first"]


def test_instructions_make_about_five_percent_of_cases_instructed(rows, typed_cases):
    ids = {c["case_id"]: c for c in typed_cases}
    instructed = {i["case_id"] for i in rows["instructions"]}
    assert instructed <= set(ids)
    assert 0.03 <= len(instructed) / N <= 0.09
    for i in rows["instructions"]:
        assert re.fullmatch(r"\S+ \S{2,4}", i["leader"]), i["leader"]
        assert _day(i["date"]) >= ids[i["case_id"]]["received_at"]


def test_supervision_on_overdue_cases_and_escalations_with_reasons(rows, typed_cases):
    ids = {c["case_id"]: c for c in typed_cases}
    kinds = collections.Counter(s["kind"] for s in rows["supervisions"])
    assert {"电话督办", "函督", "实地督办", "挂牌督办", "约谈", "提请纪委监委问责"} <= set(kinds)
    for s in rows["supervisions"]:
        case = ids[s["case_id"]]
        assert case["assigned_at"] and _day(s["date"]) >= case["assigned_at"]
        assert s["by"] and s["note"]
    escalations = [s for s in rows["supervisions"] if s["kind"] == "提请纪委监委问责"]
    for s in escalations:
        case = ids[s["case_id"]]
        assert "问责" in s["note"] and _day(s["date"]) > case["handle_due"]


def test_ids_are_unique_and_numbered_per_year_in_order_of_receipt(rows):
    cases = rows["cases"]
    ids = [c["case_id"] for c in cases]
    assert len(set(ids)) == len(ids)
    per_year = collections.defaultdict(list)
    for c in cases:
        m = re.fullmatch(r"GA(\d{4})-(\d{6})", c["case_id"])
        assert m and m.group(1) == c["received_at"][:4]
        per_year[m.group(1)].append(int(m.group(2)))
    for seqs in per_year.values():
        assert seqs == list(range(1, len(seqs) + 1))
    assert [c["received_at"] for c in cases] == sorted(c["received_at"] for c in cases)
    for sheet, key in (("instructions", "instruction_id"), ("supervisions", "supervision_id")):
        keys = [r[key] for r in rows[sheet]]
        assert len(set(keys)) == len(keys) and all(keys)
    sources = [(c["channel"], c["source_id"]) for c in cases if c["source_id"]]
    assert len(set(sources)) == len(sources)
    board = [c for c in cases if c["channel"] == "人民网领导留言板"]
    assert _share(board, lambda c: c["source_id"].isdigit()) == 1.0
    assert 0.55 <= len(board) / N <= 0.85


# --- people, places, text ------------------------------------------------------------------------


def test_units_and_demo_accounts(rows):
    units = {u["name"]: u for u in rows["units"]}
    for name in ("广安区", "前锋区", "岳池县", "武胜县", "邻水县", "华蓥市"):
        assert units[name]["kind"] == "区市县"
    assert units["广安经开区"]["kind"] == "园区"
    for name in ("市住房和城乡建设局", "市卫生健康委", "国网广安供电公司", "市自然资源和规划局"):
        assert units[name]["kind"] == "市直部门"
    assert all(u["contact"] and u["phone"].startswith("0826-") for u in units.values())
    users = {u["username"]: u for u in rows["users"]}
    assert {u["role"] for u in users.values()} == {
        "admin",
        "clerk",
        "handler",
        "supervisor",
        "leader",
    }
    for name, role in (
        ("admin", "admin"),
        ("clerk", "clerk"),
        ("supervisor", "supervisor"),
        ("leader", "leader"),
    ):
        assert users[name]["role"] == role and users[name]["active"] == "TRUE"
    assert users["handler_gaq"]["units"] == "广安区"
    assert users["handler_zjj"]["units"] == "市住房和城乡建设局"
    assert all(u["units"] in units for u in users.values() if u["role"] == "handler")
    hashes = {u["password_hash"] for u in users.values()}
    assert len(hashes) == 1 and verify_password("demo", hashes.pop())
    used = {c["unit"] for c in rows["cases"] if c["unit"]}
    assert used <= set(units)
    assert {c["region"] for c in rows["cases"]} <= set(COUNTIES)


def test_personal_data_looks_real(rows):
    cases = rows["cases"]
    ids = [c["id_number"] for c in cases if c["id_number"]]
    assert ids and all(valid_id_number(x) for x in ids)
    phones = [c["phone"] for c in cases if c["phone"]]
    assert any(p.startswith("0826-") for p in phones)
    assert any(p.startswith("+86") for p in phones)
    assert _share(cases, lambda c: re.fullmatch(r"1[3-9]\d{9}", c["phone"]) is not None) > 0.6
    names = [c["petitioner"] for c in cases]
    assert any(re.fullmatch(r"网友[0-9a-f]{6}", x) for x in names)
    assert _share(cases, lambda c: re.fullmatch(r"[\u4e00-\u9fff]{2,3}", c["petitioner"])) > 0.4


def test_texts_are_plausible_and_some_are_long(rows):
    for c in rows["cases"]:
        assert "{" not in c["title"] + c["content"] + c["reply"], c
        assert c["town"] and c["title"] and len(c["content"]) >= 20
        if c["reply"]:
            assert c["concluded_at"]
    assert any(len(c["content"]) > 2000 for c in rows["cases"])
    domains = collections.Counter(c["domain"] for c in rows["cases"])
    assert domains.most_common(1)[0][0] == "城建" and len(domains) >= 12


def test_every_message_variant_has_a_matching_reply():
    for topic in TOPICS:
        for variant in topic.variants:
            assert variant.titles[0] in REPLIES


# --- history ------------------------------------------------------------------------------------

# The status each lifecycle step leaves a case in (SPEC §3).
_STEP_STATUS = {
    "intake": "待交办",
    "assign": "已交办",
    "object": "待交办",
    "accept": "办理中",
    "reject": "不予受理",
    "reply": "已办结",
    "evaluate": "已评价",
}


def test_history_tells_each_case_step_by_step(rows):
    by_case = collections.defaultdict(list)
    for h in rows["history"]:
        by_case[h["case_id"]].append(h)
    cases = {c["case_id"]: c for c in rows["cases"]}
    assert set(by_case) == set(cases)
    demo_users = {u["username"] for u in rows["users"]}
    for cid, hist in by_case.items():
        c = cases[cid]
        assert hist[0]["action"] == "intake" and hist[0]["new"] == c["title"]
        assert _day(hist[0]["timestamp"]) == _day(c["received_at"])
        assert [h["timestamp"] for h in hist] == sorted(h["timestamp"] for h in hist)
        assert hist[-1]["timestamp"] == c["updated_at"] and hist[-1]["user"] == c["updated_by"]
        assert {h["user"] for h in hist} <= demo_users
        for h in hist:
            if h["field"].endswith("_at") and h["new"]:
                assert h["new"] == h["timestamp"][:10], h  # a step is recorded on its day
        steps = [_STEP_STATUS[h["action"]] for h in hist if h["action"] in _STEP_STATUS]
        assert steps[-1] == c["status"]
        if c["evaluation"]:
            assert any(h["action"] == "evaluate" and h["new"] == c["evaluation"] for h in hist)
    actions = collections.Counter(h["action"] for h in rows["history"])
    for a in ("intake", "assign", "accept", "reject", "object", "extend", "meet", "reply"):
        assert actions[a], a
    assert actions["evaluate"] and actions["instruct"] and actions["supervise"]
    assert actions["escalate"]


# --- seeding a register ---------------------------------------------------------------------------


@pytest.fixture
def reg(tmp_path):
    clock = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    return open_register(f"sqlite:///{tmp_path / 'demo.db'}", clock=lambda: clock)


def test_seed_demo_writes_every_sheet_and_text_survives_the_store(reg):
    seen = []
    counts = demo.seed_demo(
        reg, LOCAL_ADMIN, cases=300, seed=2, progress=lambda d, t: seen.append((d, t))
    )
    expected = demo.generate(300, seed=2, today=TODAY)
    assert counts["cases"] == 300 and counts["units"] == len(UNITS)
    assert counts["history"] == len(expected["history"])
    data = reg.load(force=True)
    assert len(data.cases) == 300 and len(data.units) == len(UNITS)
    stored = dict(zip(data.cases["case_id"], data.cases["phone"], strict=True))
    for row in expected["cases"]:
        assert stored[row["case_id"]] == row["phone"]  # leading zeros, +86, dashes kept
    assert any(p.startswith("0826-") for p in stored.values())
    assert (data.cases["status"] == [r["status"] for r in expected["cases"]]).all()
    # progress: non-decreasing, ending at the total
    assert seen[-1][0] == seen[-1][1] == sum(counts.values())
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # the accounts work, and a case's timeline reads back in order
    user = reg.find_user("handler_gaq")
    assert user.units == frozenset({"广安区"})
    stored_hash = reg.store.get_row("users", "handler_gaq")["password_hash"]
    assert verify_password("demo", stored_hash)
    cid = expected["cases"][0]["case_id"]
    hist = reg.history(LOCAL_ADMIN, cid)
    assert hist["action"].iloc[0] == "intake"


def test_a_new_intake_continues_after_the_demo_ids(reg):
    demo.seed_demo(reg, LOCAL_ADMIN, cases=200, seed=2)
    last = max(i for i in reg.load().cases["case_id"] if i.startswith("GA2026-"))
    clerk = User("clerk", "陈静", "clerk")
    new_id = reg.intake(
        clerk,
        {
            "channel": "来访",
            "received_at": TODAY,
            "petitioner": "张三",
            "phone": "0826-2345678",
            "region": "岳池县",
            "domain": "城建",
            "type": "投诉",
            "title": "测试",
            "content": "测试内容",
        },
    )
    assert new_id == f"GA2026-{int(last[-6:]) + 1:06d}"


def test_seeding_a_register_with_cases_is_refused(reg):
    demo.seed_demo(reg, LOCAL_ADMIN, cases=50, seed=1)
    with pytest.raises(DomainError) as err:
        demo.seed_demo(reg, LOCAL_ADMIN, cases=50, seed=1)
    assert err.value.key == "err.seed_not_empty"
    assert "50" in str(err.value) and "空台账" in err.value.message("zh")
    assert len(reg.load(force=True).cases) == 50  # nothing was added


def test_an_interrupted_seed_is_not_repeated_over_its_history(reg):
    # History goes in before the cases; if a seed died in between, a second one must not
    # pile a second history on top.
    rows = demo.generate(5, seed=1, today=TODAY)
    reg.bulk_append(LOCAL_ADMIN, "history", rows["history"], action="seed", history=False)
    with pytest.raises(DomainError) as err:
        demo.seed_demo(reg, LOCAL_ADMIN, cases=5, seed=1)
    assert err.value.key == "err.seed_partial"


def test_only_an_administrator_may_seed(reg):
    with pytest.raises(DomainError) as err:
        demo.seed_demo(reg, User("clerk", "陈静", "clerk"), cases=10)
    assert err.value.key == "err.forbidden"
    assert len(reg.load(force=True).cases) == 0


def test_existing_units_and_users_are_kept(reg):
    reg.save_unit(LOCAL_ADMIN, {"name": "广安区", "kind": "区市县", "contact": "本地联系人"})
    reg.upsert_row(
        LOCAL_ADMIN,
        "users",
        {"username": "admin", "display_name": "本地管理员", "role": "admin"},
        action="manage_users",
    )
    counts = demo.seed_demo(reg, LOCAL_ADMIN, cases=30, seed=1)
    assert counts["units"] == len(UNITS) - 1
    data = reg.load(force=True)
    assert data.units.set_index("name").loc["广安区", "contact"] == "本地联系人"
    assert data.users.set_index("username").loc["admin", "display_name"] == "本地管理员"
