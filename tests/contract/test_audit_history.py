"""The audit log (``Register.audit_page``, ``audit_log``, ``audit_choices``) gives the same rows
on every store: the SQLite store filters, orders, counts and limits history itself (its
optional ``history_page`` and ``history_choices``), the Google Sheet is read whole and
filtered by the register. Both are checked against :func:`expected`, the rule written out
plainly: newest first (timestamp, then sheet row, both descending); users and actions one of
those given; the case id contains the text given (trimmed, in any case); the timestamp's
day (its first ten characters) within the dates, both inclusive."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lib.auth import PERMISSIONS, User
from lib.i18n import DomainError
from lib.register import Register
from lib.store.base import Changeset
from tests.conftest import VALID_CASE, Clock

ADMIN = User("admin1", "王管理", "admin")
SUPERVISOR = User("sup1", "孙督办", "supervisor")


def row(
    ts: str, user: str, case_id: str, action: str, field: str = "", old: str = "", new: str = ""
):
    return {
        "timestamp": ts,
        "user": user,
        "case_id": case_id,
        "action": action,
        "field": field,
        "old": old,
        "new": new,
    }


# Appended in this order: ties in time (ordered by row), days out of order, a short and an
# empty timestamp and one without a time, case ids in both cases and with LIKE's wildcards,
# an accented one, and a phone number changed by hand (personal data: masked for supervisors).
HISTORY = [
    row("2026-03-19T09:00:00+08:00", "clerk1", "GA2026-000001", "intake", new="路灯不亮"),
    row("2026-03-20T10:00:00+08:00", "clerk1", "GA2026-000001", "assign", "unit", "", "广安区"),
    row("2026-03-20T10:00:00+08:00", "clerk1", "", "signin"),
    row("2026-03-20T10:00:00+08:00", "boss1", "", "signin_failed"),
    row("2026-03-18T23:59:59+08:00", "clerk2", "ga2026-000002", "intake"),
    row(
        "2026-03-21T00:00:00+08:00",
        "clerk2",
        "GA2026-000002",
        "edit",
        "phone",
        "13800138000",
        "13912345678",
    ),
    row("2026-03", "import", "A_1", "import"),
    row("2026-03-19", "import", "GA2026-000003", "import"),
    row("", "", "AB1", "seed"),
    row("2026-03-20T08:00:00+08:00", "clerk1", "50%OFF", "edit", "title", "旧", "新"),
    row("2026-03-22T12:00:00+08:00", "ga_handler", "ÉTÉ-7", "accept"),
    row("2026-03-20T10:00:00+08:00", "clerk2", "GA2026-000001", "export", "history", "", "9 rows"),
]

FILTERS: list[dict[str, Any]] = [
    {},
    {"username": "clerk1"},
    {"username": ["clerk2", "boss1"]},
    {"username": "nobody"},
    {"username": []},
    {"action": "edit"},
    {"action": ["signin", "signin_failed", "intake"]},
    {"case_id": "ga2026"},
    {"case_id": "  GA2026-000001 "},
    {"case_id": "a_1"},  # '_' is a letter here, not LIKE's any-one-character
    {"case_id": "%"},
    {"case_id": "été"},  # letters with case beyond ASCII: the register's own comparison
    {"case_id": "   "},
    {"date_from": "2026-03-20"},
    {"date_to": dt.date(2026, 3, 20)},
    {"date_from": dt.date(2026, 3, 19), "date_to": "2026-03-20"},
    {"date_from": "2026-03-01", "date_to": "2026-03-01"},
    {"date_to": "2026-03-19"},
    {"username": ["clerk1", "clerk2"], "action": ["intake", "assign", "export"]},
    {"username": "clerk2", "case_id": "ga", "date_from": "2026-03-19"},
    {"action": "edit", "case_id": "0", "date_to": "2026-03-21"},
]
LIMITS = [None, 0, 1, 2, 5, 100]


@pytest.fixture
def reg(store_factory) -> Register:
    store = store_factory()
    store.init()
    reg = Register(store, clock=Clock())
    reg.max_age_s = 30
    cs = Changeset()
    cs.append("history", *[dict(r) for r in HISTORY])
    store.commit(cs)
    return reg


def expected(reg: Register, **f: Any) -> list[dict[str, str]]:
    """The audit log's rows, by the rule in this module's docstring (not masked)."""
    raw = reg.store.read(["history"])["history"]
    rows = [(int(r.pop("_row")), r) for r in raw.to_dict("records")]
    names = [f["username"]] if isinstance(f.get("username"), str) else f.get("username")
    acts = [f["action"]] if isinstance(f.get("action"), str) else f.get("action")
    part = (f.get("case_id") or "").strip().upper()
    lo, hi = (str(f[k]) if f.get(k) else None for k in ("date_from", "date_to"))
    keep = [
        (n, r)
        for n, r in rows
        if (not names or r["user"] in names)
        and (not acts or r["action"] in acts)
        and (not part or part in r["case_id"].upper())
        and (lo is None or r["timestamp"][:10] >= lo)
        and (hi is None or r["timestamp"][:10] <= hi)
    ]
    keep.sort(key=lambda nr: (nr[1]["timestamp"], nr[0]), reverse=True)
    return [r for _, r in keep]


def records(frame) -> list[dict[str, str]]:
    return frame.to_dict("records")


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_the_audit_page_holds_the_newest_matching_rows_and_counts_them(reg, filters):
    want = expected(reg, **filters)

    for limit in LIMITS:
        page = reg.audit_page(ADMIN, limit=limit, **filters)
        assert page.total == len(want), limit
        assert records(page.rows) == want[:limit], limit
        assert list(page.rows.columns) == reg.schema["history"].keys
    assert records(reg.audit_log(ADMIN, **filters)) == want


def test_the_order_is_newest_first_then_the_later_row_first(reg):
    rows = records(reg.audit_log(ADMIN))

    assert [(r["timestamp"][:19], r["action"]) for r in rows[:6]] == [
        ("2026-03-22T12:00:00", "accept"),
        ("2026-03-21T00:00:00", "edit"),
        ("2026-03-20T10:00:00", "export"),
        ("2026-03-20T10:00:00", "signin_failed"),
        ("2026-03-20T10:00:00", "signin"),
        ("2026-03-20T10:00:00", "assign"),
    ]
    assert [r["timestamp"] for r in rows[-2:]] == ["2026-03", ""]


def test_personal_data_is_masked_for_supervisors_only_in_the_rows_returned(reg):
    for limit in (None, 3):
        full = records(reg.audit_page(ADMIN, limit=limit, action="edit").rows)
        masked = records(reg.audit_page(SUPERVISOR, limit=limit, action="edit").rows)
        phone = next(r for r in full if r["field"] == "phone")
        seen = next(r for r in masked if r["field"] == "phone")
        assert (phone["old"], phone["new"]) == ("13800138000", "13912345678")
        assert (seen["old"], seen["new"]) == ("138****8000", "139****5678")
        title = next(r for r in masked if r["field"] == "title")
        assert (title["old"], title["new"]) == ("旧", "新")  # not personal data


def test_the_choices_are_every_user_and_action_once(reg):
    users, actions = reg.audit_choices(ADMIN)

    assert users == sorted({r["user"] for r in HISTORY} - {""})
    assert actions == sorted({r["action"] for r in HISTORY} - {""})
    assert reg.audit_choices(SUPERVISOR) == (users, actions)


@pytest.mark.parametrize("role", ["clerk", "handler", "leader"])
def test_other_roles_are_refused_and_nothing_is_read(reg, role):
    user = User("x", "某人", role, frozenset({"广安区"}))
    for call in (
        lambda: reg.audit_page(user, limit=10),
        lambda: reg.audit_choices(user),
        lambda: reg.audit_log(user),
    ):
        with pytest.raises(DomainError) as caught:
            call()
        assert caught.value.key == "err.forbidden"


def test_the_export_has_every_matching_row_and_is_logged(reg):
    want = expected(reg, case_id="ga2026")

    exported = reg.export_audit(ADMIN, case_id="ga2026")

    assert records(exported) == want
    last = records(reg.audit_log(ADMIN, action="export"))[0]
    assert (last["user"], last["field"], last["new"]) == ("admin1", "history", f"{len(want)} rows")


def test_sqlite_answers_from_the_table_and_the_sheet_is_read_whole(reg, monkeypatch):
    """Which way each store goes: SQLite never hands the whole history to the register."""
    sqlite = reg.store.kind == "sqlite"
    assert hasattr(reg.store, "history_page") == sqlite
    assert hasattr(reg.store, "history_choices") == sqlite
    reads: list[list[str]] = []
    read = reg.store.read

    def spy(sheets=None):
        reads.append(list(sheets or []))
        return read(sheets)

    monkeypatch.setattr(reg.store, "read", spy)
    reg.audit_choices(SUPERVISOR)
    reg.audit_page(SUPERVISOR, limit=2, username="clerk1", case_id="ga", date_to="2026-03-20")
    whole = [s for s in reads if "history" in s]
    assert (whole == []) if sqlite else (len(whole) == 2)
    # letters with case beyond ASCII: the register compares them itself (whole sheet)
    reg.audit_page(ADMIN, limit=2, case_id="été")
    assert len([s for s in reads if "history" in s]) == len(whole) + 1


def test_who_does_not_see_every_case_audits_only_the_history_of_their_cases(
    store_factory, monkeypatch
):
    """No such role audits today (administrators and supervisors see every case); should
    one be allowed to, the register keeps to the cases it sees (the whole-sheet way)."""
    store = store_factory()
    store.init()
    reg = Register(store, clock=Clock())
    reg.max_age_s = 30
    admin = User("admin1", "王管理", "admin")
    clerk = User("clerk1", "李受理", "clerk")
    for unit in ({"name": "广安区", "kind": "区市县"}, {"name": "岳池县", "kind": "区市县"}):
        reg.save_unit(admin, unit)
    mine = reg.intake(clerk, dict(VALID_CASE))
    reg.assign(clerk, mine, unit="广安区")
    other = reg.intake(clerk, {**VALID_CASE, "region": "岳池县"})
    reg.assign(clerk, other, unit="岳池县")
    monkeypatch.setitem(PERMISSIONS, "audit", PERMISSIONS["audit"] | {"handler"})
    handler = User("ga_handler", "赵承办", "handler", frozenset({"广安区"}))

    page = reg.audit_page(handler, limit=1)
    every = reg.audit_log(handler)

    assert set(every["case_id"]) == {mine}
    assert page.total == len(every) == len(reg.history(admin, mine))
    assert records(page.rows) == records(every.head(1))
    assert {mine, other} <= set(reg.audit_log(admin)["case_id"])
    users, actions = reg.audit_choices(handler)
    assert users == ["clerk1"] and actions == ["assign", "intake"]
