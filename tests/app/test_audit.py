"""审计日志 Audit page: who sees it, its filters (user, case, action, date), its export (which
is logged too), and personal data masked as the reader would see it on the case."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from lib.i18n import DomainError
from lib.store.base import Changeset
from lib.ui import nav
from tests.app.conftest import Portal, no_errors, texts, user

PAGE = "pages/audit.py"
SHOWN = 2000  # the rows the page draws (pages/audit.py)
NOW = dt.datetime(2026, 3, 20, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def logged(portal: Portal) -> tuple[Portal, str]:
    """A register with a case, its assignment, sign-ins and a failed one, and a history row
    that holds a phone number."""
    case_id = portal.intake()
    portal.reg.assign(user("clerk"), case_id, unit="广安区", assigned_at="2026-03-16")
    portal.intake(region="岳池县")
    portal.reg.authenticate("clerk1", "Passw0rd-2026", now=NOW)
    with pytest.raises(DomainError):
        portal.reg.authenticate("boss1", "wrong", now=NOW)
    cs = Changeset()
    cs.append(
        "history",
        {
            "timestamp": "2026-03-20T10:30:00+08:00",
            "user": "clerk1",
            "case_id": case_id,
            "action": "edit",
            "field": "phone",
            "old": "13800138000",
            "new": "13912345678",
        },
    )
    portal.reg.store.commit(cs)
    return portal, case_id


def table(at) -> pd.DataFrame:
    return at.dataframe[0].value


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_administrators_and_supervisors_read_the_log(logged, role):
    portal, _ = logged
    at = portal.page(role, PAGE)

    no_errors(at)
    assert at.title[0].value == "审计日志"
    rows = table(at)
    assert len(rows) == len(portal.reg.store.read(["history"])["history"])
    assert list(rows["timestamp"]) == sorted(rows["timestamp"], reverse=True)
    assert {"登录", "登录失败", "登记", "交办"} <= set(rows["action"])


@pytest.mark.parametrize("role", ["clerk", "handler", "leader"])
def test_other_roles_do_not_get_the_page(logged, role):
    portal, _ = logged
    assert not nav.may_open(role, "audit")
    at = portal.app(role)
    with pytest.raises(ValueError):
        at.switch_page(PAGE)
    at = portal.page(role, "tracking")
    at.switch_page(PAGE).run()  # (AppTest lists every file once a page ran) the page refuses
    assert any("不能使用此页面" in e for e in texts(at.error))
    assert not at.dataframe


def test_filters_by_user_case_action_and_date(logged):
    portal, case_id = logged
    at = portal.page("admin", PAGE)

    at.multiselect(key="audit.user").select("boss1").run()
    assert set(table(at)["user"]) == {"boss1"}
    assert set(table(at)["action"]) == {"登录失败"}

    at.multiselect(key="audit.user").unselect("boss1")
    at.text_input(key="audit.case").input(case_id[-6:]).run()
    assert set(table(at)["case_id"]) == {case_id}

    at.text_input(key="audit.case").input("")
    at.multiselect(key="audit.action@zh").select("signin").select("signin_failed").run()
    assert set(table(at)["action"]) == {"登录", "登录失败"}

    at.multiselect(key="audit.action@zh").unselect("signin").unselect("signin_failed")
    at.date_input(key="audit.from").set_value(dt.date(2026, 3, 21)).run()
    assert not at.dataframe
    assert texts(at.info) == ["没有符合条件的记录。"]
    at.date_input(key="audit.from").set_value(dt.date(2026, 3, 20))
    at.date_input(key="audit.to").set_value(dt.date(2026, 3, 20)).run()
    assert set(table(at)["timestamp"].str.slice(0, 10)) == {"2026-03-20"}


def test_the_export_holds_the_filtered_rows_and_is_logged(logged, downloads):
    portal, case_id = logged
    at = portal.page("admin", PAGE)
    at.text_input(key="audit.case").input(case_id).run()
    shown = table(at)

    exported = pd.read_csv(
        io.BytesIO(
            downloads[next(n for n in downloads if n.startswith("audit-") and n.endswith(".csv"))]()
        )
    )

    assert list(exported.columns) == ["时间", "操作人", "案件编号", "操作", "字段", "原值", "新值"]
    assert len(exported) == len(shown)
    assert set(exported["案件编号"]) == {case_id}
    xlsx = downloads[next(n for n in downloads if n.startswith("audit-") and n.endswith(".xlsx"))]()
    assert xlsx[:2] == b"PK"
    logged_exports = [
        r
        for r in portal.reg.store.read(["history"])["history"].to_dict("records")
        if r["action"] == "export"
    ]
    assert [(r["user"], r["field"]) for r in logged_exports] == [("admin1", "history")] * 2


def test_personal_data_in_the_log_is_masked_for_supervisors(logged, downloads):
    portal, _ = logged
    for role, old, new in (
        ("admin", "13800138000", "13912345678"),
        ("supervisor", "138****8000", "139****5678"),
    ):
        at = portal.page(role, PAGE)
        at.multiselect(key="audit.action@zh").select("edit").run()
        rows = table(at)
        assert (rows.loc[0, "old"], rows.loc[0, "new"]) == (old, new)
        csv = downloads[
            next(n for n in downloads if n.startswith("audit-") and n.endswith(".csv"))
        ]().decode("utf-8-sig")
        assert old in csv and new in csv
        if role == "supervisor":
            assert "13912345678" not in csv and "13800138000" not in csv


def test_password_hashes_never_reach_the_log(portal: Portal):
    admin = user("admin")
    one_time = portal.reg.reset_password(admin, "clerk1")
    portal.reg.change_password(portal.reg.authenticate("clerk1", one_time), "a-new-password-1")
    at = portal.page("admin", PAGE)
    frame = table(at)
    assert "scrypt$" not in frame.to_csv()
    assert {"***"} == set(frame.loc[frame["field"].str.endswith("password_hash"), "new"])


def test_a_long_log_shows_its_newest_rows_and_counts_them_all(logged):
    portal, _ = logged
    before = portal.count("history")
    cs = Changeset()
    cs.append(
        "history",
        *[
            {
                "timestamp": f"2026-03-{1 + i % 19:02d}T08:{i % 60:02d}:00+08:00",
                "user": "clerk1",
                "case_id": "",
                "action": "signin",
            }
            for i in range(SHOWN + 5)
        ],
    )
    portal.reg.store.commit(cs)
    at = portal.page("admin", PAGE)

    no_errors(at)
    rows = table(at)
    total = before + SHOWN + 5
    assert texts(at.caption)[1] == f"共 {total} 条记录（显示最新 {SHOWN} 条）"
    assert len(rows) == SHOWN
    assert rows.loc[0, "action"] == "登录失败"  # the newest: 2026-03-20 11:00 (after 登录)
    assert list(rows["timestamp"]) == sorted(rows["timestamp"], reverse=True)
    at.multiselect(key="audit.action@zh").select("signin_failed").run()
    assert texts(at.caption)[1] == "共 1 条记录"
    assert len(table(at)) == 1


@pytest.mark.sqlite_only  # what the embedded store does for the page
def test_the_page_never_reads_the_whole_history_sheet(logged, monkeypatch):
    from lib.store.sqlite import SQLiteStore

    portal, case_id = logged
    read = SQLiteStore.read
    sheets: list[str] = []

    def spy(self, names=None):
        sheets.extend(names or [])
        return read(self, names)

    monkeypatch.setattr(SQLiteStore, "read", spy)
    at = portal.page("supervisor", PAGE)
    at.text_input(key="audit.case").input(case_id[-4:].lower()).run()

    no_errors(at)
    assert set(table(at)["case_id"]) == {case_id}
    assert "history" not in sheets
