"""Signing in, passwords, the first administrator, single sign-on and the audit log — the
service layer's side (SPEC §1; lib/auth.py rules, lib/register.py actions).

Time comes in as ``now=``; nothing sleeps."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest

from lib import cli
from lib.auth import (
    FREE_FAILURES,
    LOCAL_ADMIN,
    account_active,
    lockout_seconds,
    password_problem,
    verify_password,
)
from lib.i18n import DomainError
from lib.store.base import Changeset, Update

T0 = dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC)
PW = "Passw0rd-2026"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def reg(tmp_register, admin):
    tmp_register.save_user(admin, "clerk1", role="clerk", display_name="李受理", password=PW)
    tmp_register.save_user(
        admin,
        "ga_handler",
        role="handler",
        display_name="赵承办",
        units=["广安区"],
        password=PW,
        email="Zhao.CB@ga.example.gov.cn",
    )
    return tmp_register


def history(reg, action: str | None = None) -> list[dict[str, str]]:
    rows = reg.store.read(["history"])["history"].to_dict("records")
    return [r for r in rows if action is None or r["action"] == action]


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


# -- passwords and sign-in -----------------------------------------------------------------


def test_the_right_password_signs_in_and_is_logged(reg):
    user = reg.authenticate("clerk1", PW, now=T0)

    assert (user.username, user.role, user.must_change_password) == ("clerk1", "clerk", False)
    row = reg.store.get_row("users", "clerk1")
    assert row["last_sign_in"].startswith("2026-03-20T17:00:00")  # bureau time
    [signed] = history(reg, "signin")
    assert (signed["user"], signed["field"]) == ("clerk1", "password")


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(reg, monkeypatch):
    burned = []
    import lib.register

    monkeypatch.setattr(lib.register, "burn_verify", lambda pw: burned.append(pw))
    wrong = refusal(lambda: reg.authenticate("clerk1", "nope", now=T0))
    unknown = refusal(lambda: reg.authenticate("nobody", "nope", now=T0))

    assert wrong.key == unknown.key == "err.signin_failed"
    assert wrong.message("zh") == unknown.message("zh") == "用户名或密码不正确"
    assert burned == ["nope"], "an unknown account still costs one scrypt"
    failed = history(reg, "signin_failed")
    assert [(r["user"], r["new"]) for r in failed] == [
        ("clerk1", "wrong_password; 1"),
        ("nobody", "unknown; 1"),
    ]


def test_five_failures_make_the_account_wait_and_the_wait_grows(reg):
    for i in range(FREE_FAILURES - 1):
        assert refusal(lambda i=i: reg.authenticate("clerk1", "x", now=at(i))).key == (
            "err.signin_failed"
        )
    fifth = refusal(lambda: reg.authenticate("clerk1", "x", now=at(4)))
    assert (fifth.key, fifth.params) == ("err.signin_wait", {"seconds": 30})
    # while it waits even the right password is refused, and the attempt is logged
    early = refusal(lambda: reg.authenticate("clerk1", PW, now=at(14)))
    assert (early.key, early.params) == ("err.signin_wait", {"seconds": 20})
    assert history(reg, "signin_locked")[-1]["user"] == "clerk1"
    # after the wait, one more failure waits twice as long
    sixth = refusal(lambda: reg.authenticate("clerk1", "x", now=at(40)))
    assert sixth.params == {"seconds": 60}
    assert refusal(lambda: reg.authenticate("clerk1", PW, now=at(99))).params == {"seconds": 1}
    # the right password after the wait signs in and clears the count
    assert reg.authenticate("clerk1", PW, now=at(101)).username == "clerk1"
    row = reg.store.get_row("users", "clerk1")
    assert (row["failed_count"], row["locked_until"]) == ("0", "")
    assert refusal(lambda: reg.authenticate("clerk1", "x", now=at(102))).key == (
        "err.signin_failed"
    )


def test_waits_double_up_to_half_an_hour():
    assert [lockout_seconds(n) for n in range(1, 9)] == [0, 0, 0, 0, 30, 60, 120, 240]
    assert lockout_seconds(50) == 30 * 60


def test_an_unknown_name_waits_exactly_like_a_real_account(reg):
    def answers(name: str) -> list[tuple[str, dict]]:
        out = []
        for i in range(8):
            err = refusal(lambda i=i: reg.authenticate(name, "x", now=at(i * 10)))
            out.append((err.key, err.params))
        return out

    assert answers("clerk1") == answers("no_such_user")


def test_a_disabled_account_says_so_only_to_the_right_password(reg, admin):
    reg.save_user(admin, "clerk1", active=False)

    assert refusal(lambda: reg.authenticate("clerk1", "x", now=T0)).key == "err.signin_failed"
    assert refusal(lambda: reg.authenticate("clerk1", PW, now=T0)).key == "err.signin_disabled"
    assert history(reg, "signin_failed")[-1]["new"] == "disabled"
    assert not history(reg, "signin")


@pytest.mark.parametrize("cell", ["停用", "FALSE", "0", "否", "maybe"])
def test_an_account_whose_active_cell_is_not_yes_cannot_be_used(reg, cell):
    version = int(reg.store.get_row("users", "clerk1")["version"])
    reg.store.commit(Changeset(updates=[Update("users", "clerk1", {"active": cell}, version)]))

    assert not account_active(reg.store.get_row("users", "clerk1"))
    assert refusal(lambda: reg.authenticate("clerk1", PW, now=T0)).key == "err.signin_disabled"
    assert refusal(lambda: reg.find_user("clerk1")).key == "err.unknown_user"


def test_the_cli_never_acts_as_a_disabled_user(reg, admin, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'register.db'}"
    assert cli.main(["--register", url, "--as", "clerk1", "digest"]) == cli.EXIT_OK
    reg.save_user(admin, "clerk1", active=False)
    capsys.readouterr()

    assert cli.main(["--register", url, "--as", "clerk1", "digest"]) == cli.EXIT_REFUSED
    assert "clerk1" in capsys.readouterr().err
    assert cli.main(["--register", url, "--as", "nobody", "export", "x.csv"]) == 2


# -- the first administrator ---------------------------------------------------------------


def test_an_empty_register_gets_one_administrator_who_must_change_the_password(tmp_register):
    one_time = tmp_register.ensure_first_admin()

    assert one_time and len(one_time) >= 12
    assert tmp_register.ensure_first_admin() is None, "only on an empty register"
    row = tmp_register.store.get_row("users", "admin")
    assert (row["role"], row["must_change_password"], row["active"]) == ("admin", "TRUE", "TRUE")
    assert verify_password(one_time, row["password_hash"])
    user = tmp_register.authenticate("admin", one_time)
    assert user.must_change_password
    created = history(tmp_register, "manage_users")
    assert {r["user"] for r in created} == {LOCAL_ADMIN.username}


def test_the_first_password_may_come_from_the_configuration(tmp_register):
    assert tmp_register.ensure_first_admin(password="from-secrets-1", email="it@x.cn") == (
        "from-secrets-1"
    )
    assert tmp_register.store.get_row("users", "admin")["email"] == "it@x.cn"


def test_the_forced_change_needs_no_current_password_and_ends_the_one_time_one(tmp_register):
    one_time = tmp_register.ensure_first_admin()
    user = tmp_register.authenticate("admin", one_time)

    tmp_register.change_password(user, "a-new-secret-9")

    assert not tmp_register.authenticate("admin", "a-new-secret-9").must_change_password
    assert refusal(lambda: tmp_register.authenticate("admin", one_time)).key == (
        "err.signin_failed"
    )
    [changed] = history(tmp_register, "change_password")
    assert (changed["old"], changed["new"]) == ("***", "***")


# -- changing and resetting passwords ------------------------------------------------------


def test_changing_a_password_needs_the_current_one(reg):
    user = reg.find_user("clerk1")

    assert refusal(lambda: reg.change_password(user, "another-pass-1")).key == (
        "err.password_wrong"
    )
    assert refusal(lambda: reg.change_password(user, "another-pass-1", current="x")).key == (
        "err.password_wrong"
    )
    reg.change_password(user, "another-pass-1", current=PW)
    assert reg.authenticate("clerk1", "another-pass-1").username == "clerk1"


def test_a_wrong_current_password_counts_as_a_failed_sign_in(reg):
    user = reg.find_user("clerk1")
    for _ in range(FREE_FAILURES - 1):
        reg_err = refusal(lambda: reg.change_password(user, "another-pass-1", current="x", now=T0))
        assert reg_err.key == "err.password_wrong"
    err = refusal(lambda: reg.change_password(user, "another-pass-1", current="x", now=T0))
    assert err.key == "err.signin_wait"
    assert len(history(reg, "change_password_failed")) == FREE_FAILURES


@pytest.mark.parametrize(
    ("username", "new", "problem"),
    [
        ("clerk1", "short1", "err.password_short"),
        ("ga_handler", "GA_Handler", "err.password_is_username"),
        ("clerk1", PW, "err.password_same"),
    ],
)
def test_a_new_password_must_be_a_real_change(reg, username, new, problem, dump_store):
    user = reg.find_user(username)
    before = dump_store(reg.store)

    err = refusal(lambda: reg.change_password(user, new, current=PW))

    assert err.key == problem
    assert dump_store(reg.store) == before
    assert password_problem("long-enough-1", "clerk1") is None


def test_a_reset_gives_a_one_time_password_and_lifts_the_wait(reg, admin):
    for i in range(FREE_FAILURES):
        refusal(lambda i=i: reg.authenticate("clerk1", "x", now=at(i)))

    one_time = reg.reset_password(admin, "clerk1")

    user = reg.authenticate("clerk1", one_time, now=at(6))
    assert user.must_change_password
    [reset] = [r for r in history(reg, "reset_password") if r["field"].endswith("password_hash")]
    assert (reset["user"], reset["old"], reset["new"]) == ("admin1", "***", "***")
    assert refusal(lambda: reg.reset_password(admin, "nobody")).key == "err.unknown_user"


def test_a_password_set_by_an_administrator_lifts_the_wait_too(reg, admin):
    for i in range(FREE_FAILURES):
        refusal(lambda i=i: reg.authenticate("clerk1", "x", now=at(i)))
    reg.save_user(admin, "clerk1", password="set-by-admin-1", must_change_password=True)
    assert reg.authenticate("clerk1", "set-by-admin-1", now=at(6)).must_change_password


# -- single sign-on ------------------------------------------------------------------------


def test_a_known_email_signs_in_with_its_role_and_units(reg):
    user = reg.authenticate_sso("zhao.cb@GA.example.gov.cn", verified=True, now=T0)

    assert (user.username, user.role, user.units) == ("ga_handler", "handler", {"广安区"})
    assert history(reg, "signin")[-1]["field"] == "sso"


@pytest.mark.parametrize(
    ("email", "verified", "key"),
    [
        ("stranger@example.com", None, "err.sso_unknown"),
        ("", None, "err.sso_unknown"),
        ("zhao.cb@ga.example.gov.cn", False, "err.sso_unverified"),
    ],
)
def test_an_unknown_or_unverified_email_is_refused_politely(reg, email, verified, key):
    err = refusal(lambda: reg.authenticate_sso(email, verified=verified, now=T0))

    assert err.key == key
    assert history(reg, "signin_failed")[-1]["field"] == "sso"
    assert not history(reg, "signin")


def test_single_sign_on_refuses_a_disabled_or_ambiguous_account(reg, admin):
    reg.save_user(admin, "ga_handler", active=False)
    assert refusal(lambda: reg.authenticate_sso("zhao.cb@ga.example.gov.cn")).key == (
        "err.sso_unknown"
    )
    reg.save_user(admin, "ga_handler", active=True)
    reg.save_user(admin, "clerk1", email="zhao.cb@ga.example.gov.cn")
    assert refusal(lambda: reg.authenticate_sso("zhao.cb@ga.example.gov.cn")).key == (
        "err.sso_unknown"
    )
    assert history(reg, "signin_failed")[-1]["new"] == "ambiguous"


def test_signing_out_and_timing_out_are_logged(reg):
    user = reg.find_user("clerk1")
    reg.sign_out(user, now=T0)
    reg.sign_out(user, reason="timeout", now=at(1))

    assert [r["action"] for r in history(reg)][-2:] == ["signout", "timeout"]


# -- the audit log -------------------------------------------------------------------------


@pytest.fixture
def audited(reg, clerk, valid_case):
    case_id = reg.intake(clerk, dict(valid_case))
    reg.assign(clerk, case_id, unit="广安区", assigned_at="2026-03-16")
    reg.authenticate("clerk1", PW, now=T0)
    refusal(lambda: reg.authenticate("clerk1", "x", now=at(1)))
    # a hand-made history row that holds personal data (e.g. a corrected phone number)
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
            "new": "13900139000",
        },
    )
    reg.store.commit(cs)
    return reg, case_id


@pytest.mark.parametrize("role", ["admin", "clerk", "handler", "supervisor", "leader"])
def test_only_administrators_and_supervisors_read_the_audit_log(audited, users, role, dump_store):
    reg, _ = audited
    before = dump_store(reg.store)
    if role in ("admin", "supervisor"):
        assert len(reg.audit_log(users[role])) == len(before["history"])
        reg.export_audit(users[role])
        assert history(reg, "export")[-1]["field"] == "history"
    else:
        for call in (reg.audit_log, reg.export_audit):
            assert refusal(lambda call=call: call(users[role])).key == "err.forbidden"
        assert dump_store(reg.store) == before


def test_the_audit_log_filters_by_user_case_action_and_date(audited, admin):
    reg, case_id = audited
    every = reg.audit_log(admin)

    assert list(every["timestamp"]) == sorted(every["timestamp"], reverse=True)
    mine = reg.audit_log(admin, username="clerk1")
    assert set(mine["user"]) == {"clerk1"}
    by_case = reg.audit_log(admin, case_id=case_id[-6:])
    assert set(by_case["case_id"]) == {case_id} and len(by_case) >= 3
    signins = reg.audit_log(admin, action=["signin", "signin_failed"])
    assert list(signins["action"]) == ["signin_failed", "signin"]
    day = reg.audit_log(admin, date_from="2026-03-20", date_to=dt.date(2026, 3, 20))
    assert len(day) == len(every)
    assert reg.audit_log(admin, date_from="2026-03-21").empty
    assert reg.audit_log(admin, username="nobody", action="export").empty


def test_personal_data_in_the_audit_log_is_masked_for_supervisors(audited, admin, supervisor):
    reg, _ = audited
    edit = reg.audit_log(supervisor, action="edit").iloc[0]
    assert (edit["old"], edit["new"]) == ("138****8000", "139****9000")
    full = reg.audit_log(admin, action="edit").iloc[0]
    assert (full["old"], full["new"]) == ("13800138000", "13900139000")


def test_other_exports_are_logged_by_whoever_exports(reg, handler, leader):
    reg.log_export(handler, "bulletin", note="2026年3月通报.docx")
    reg.log_export(leader, "digest", rows=12)

    rows = history(reg, "export")
    assert [(r["user"], r["field"], r["new"]) for r in rows] == [
        ("ga_handler", "bulletin", "2026年3月通报.docx"),
        ("boss1", "digest", "12 rows"),
    ]


# -- secrets -------------------------------------------------------------------------------


def test_password_hashes_never_leave_the_users_sheet(reg, admin, supervisor, caplog):
    caplog.set_level(logging.DEBUG)
    one_time = reg.reset_password(admin, "clerk1")
    user = reg.authenticate("clerk1", one_time)
    reg.change_password(user, "secret-number-2")
    refusal(lambda: reg.authenticate("clerk1", "typo-secret", now=T0))
    hashes = [r["password_hash"] for r in reg.store.read(["users"])["users"].to_dict("records")]
    assert all(h.startswith("scrypt$") for h in hashes)

    places = [
        reg.store.read(["history"])["history"].to_csv(),
        reg.audit_log(admin).to_csv(),
        reg.export_rows(admin, "users").to_csv(),
        reg.export_rows(admin, "history").to_csv(),
        reg.data(admin).users.to_csv(),
        reg.data(supervisor).users.to_csv(),
        caplog.text,
    ]
    for text in places:
        assert "scrypt$" not in text
        for secret in (one_time, "secret-number-2", "typo-secret", *hashes):
            assert secret not in text


def test_the_cli_resets_a_password_and_lists_accounts_without_hashes(reg, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'register.db'}"

    assert cli.main(["--register", url, "user", "reset", "clerk1"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    one_time = out.split("一次性密码：")[1].strip()
    assert reg.authenticate("clerk1", one_time).must_change_password
    assert cli.main(["--register", url, "user", "list"]) == cli.EXIT_OK
    listing = capsys.readouterr().out
    assert "clerk1" in listing and "scrypt$" not in listing and one_time not in listing
    assert cli.main(["--register", url, "--as", "clerk1", "user", "reset", "ga_handler"]) == 2
    assert cli.main(["--register", url, "user", "disable", "nobody"]) == 2
    assert cli.main(["--register", url, "user", "disable", "clerk1"]) == cli.EXIT_OK
    assert cli.main(["--register", url, "--as", "clerk1", "digest"]) == cli.EXIT_REFUSED
    assert cli.main(["--register", url, "user", "enable", "clerk1"]) == cli.EXIT_OK
    assert cli.main(["--register", url, "--as", "clerk1", "digest"]) == cli.EXIT_OK


def test_history_is_plain_text_for_every_sign_in_event(reg):
    reg.authenticate("clerk1", PW, now=T0)
    refusal(lambda: reg.authenticate("\x00evil\nname=1+1", "x", now=T0))
    frame = pd.DataFrame(history(reg))
    assert "\x00" not in frame.to_csv() and "\n" not in "".join(frame["user"])
