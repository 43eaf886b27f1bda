"""督办看板: tiles, lists and league table per role; the figures equal the CLI's; actions from
the board land in the register with history; unit filter, digest, refresh, wall display."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import io
import os
from types import SimpleNamespace

import pandas as pd
import pytest

from lib import metrics
from lib.bulletin import Period
from lib.cli import main as cli
from lib.digest import daily_digest
from lib.i18n import t
from lib.register import ESCALATION_KIND
from lib.reports import format_rate
from lib.ui import board, memo
from tests.app.conftest import TODAY, Portal, no_errors, texts, user

PAGE = "pages/board.py"
BUREAU = ("admin", "clerk", "supervisor", "leader")
DAY = dt.date.fromisoformat(TODAY)
TILES = [
    "及时受理率",
    "按期办结率",
    "群众满意率",
    "参评率",
    "在办案件",
    "逾期案件",
    "3天内到期",
    "不满意待回访",
    "在办批示件",
    "重复留言",
]
TABS = ["逾期案件", "临期案件", "不满意待回访", "重复留言", "批示件", "单位排名"]


def open_tab(at, name: str):
    """Open the board's tab ``name`` (what a click on it does: a rerun with it open); only
    the open tab's list is drawn. On the wall display (no tabs) nothing changes."""
    if not at.tabs:
        return at
    lang = at.session_state.get("lang", "zh")
    label = t(f"ov.tab.{name}", lang)
    if at.session_state[board.TABS_KEY] != label:
        at.session_state[board.TABS_KEY] = label
        at.run()
    return at


def listed(at, name: str) -> pd.DataFrame | None:
    """The board list ``name`` (overdue, due_soon, …) as shown — its tab opened first — or
    None when not drawn (an empty list)."""
    for d in open_tab(at, name).dataframe:
        if d.key and d.key.startswith(f"board.list.{name}."):
            return d.value
    return None


def league_shown(at) -> pd.DataFrame:
    """The league table as shown (the table with a 排名 column; its tab opened first)."""
    tables = open_tab(at, "league").dataframe
    return next(d.value for d in tables if {"排名", "Rank"} & set(d.value.columns))


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def expected_overdue(portal: Portal) -> pd.DataFrame:
    data = portal.reg.load()
    m = metrics.case_measures(data.cases, data.rules, DAY)
    over = data.cases.join(m[["overdue", "days_overdue"]])
    over = over[over["overdue"]]
    return over.sort_values(
        ["days_overdue", "received_at", "case_id"], ascending=[False, True, True]
    )


def assign(portal: Portal, case_id: str, day: str, unit: str = "广安区") -> None:
    portal.reg.assign(
        user("clerk"), case_id, unit=unit, lead_official="副区长 陈明", assigned_at=day
    )


def action_keys(at, case_id: str) -> str:
    """The key prefix of the board's action form for ``case_id``."""
    radio = next(r for r in at.radio if r.key and f".{case_id}.choice@" in r.key)
    return radio.key.split(".choice@")[0]


# --- every role, empty and demo registers --------------------------------------------------


@pytest.mark.parametrize("role", BUREAU)
def test_every_bureau_role_sees_an_empty_board(portal: Portal, role):
    at = portal.page(role, PAGE)
    no_errors(at)
    assert at.title[0].value == "督办看板"
    assert [m.label for m in at.metric] == TILES
    assert [metric(at, r) for r in TILES[:4]] == ["—"] * 4
    assert [metric(at, r) for r in TILES[4:]] == ["0"] * 6
    assert [t.label for t in at.tabs] == TABS
    assert "没有逾期案件。" in texts(at.info)
    assert "本期还没有留言。" in texts(open_tab(at, "league").info)
    assert at.selectbox(key=board.UNIT_KEY).value == ""
    assert "台账中暂无案件。" in open_digest(at).code[0].value


def test_handlers_do_not_get_the_board(portal: Portal):
    at = portal.app("handler")
    no_errors(at)
    with pytest.raises(ValueError):
        at.switch_page(PAGE)


@pytest.mark.parametrize("role", BUREAU)
def test_every_bureau_role_sees_the_overdue_cases_of_a_demo_register(demo_portal: Portal, role):
    at = demo_portal.page(role, PAGE)
    no_errors(at)
    expected = expected_overdue(demo_portal)
    shown = listed(at, "overdue")
    assert shown is not None
    assert list(shown["case_id"]) == list(expected["case_id"])
    assert list(shown["days_overdue"]) == list(expected["days_overdue"])
    assert metric(at, "逾期案件") == str(len(expected))
    assert "petitioner" not in shown.columns and "phone" not in shown.columns
    for name in ("unsatisfied", "repeats", "instructed"):
        frame = listed(at, name)
        assert frame is not None and len(frame) > 0, name


def test_only_the_open_tab_is_drawn(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    no_errors(at)
    assert [t.label for t in at.tabs] == TABS
    drawn = [d.key.split(".")[2] for d in at.dataframe if d.key and d.key.startswith("board.list")]
    assert drawn == ["overdue"]  # the first tab; the other lists are not sent
    assert not [d for d in at.dataframe if "排名" in d.value.columns]
    assert len(league_shown(at)) > 1  # a click on 单位排名 draws it
    assert listed(at, "unsatisfied") is not None


def test_an_overdue_case_and_a_case_due_soon_for_the_frozen_date(portal: Portal):
    late = portal.intake(received_at="2026-01-30")
    assign(portal, late, "2026-02-01")  # accept_due 2026-02-16: 32 days late on 2026-03-20
    soon = portal.intake(title="路灯不亮", received_at="2026-03-05")
    assign(portal, soon, "2026-03-06")  # accept_due 2026-03-21: due tomorrow
    fine = portal.intake(title="咨询公积金", received_at="2026-03-18")
    assign(portal, fine, "2026-03-18")
    at = portal.page("supervisor", PAGE)
    no_errors(at)
    over = listed(at, "overdue")
    assert list(over["case_id"]) == [late]
    row = over.iloc[0]
    assert (row["days_overdue"], row["stage"], row["unit"]) == (32, "逾期未受理", "广安区")
    assert row["current_due"] == pd.Timestamp("2026-02-16")
    due = listed(at, "due_soon")
    assert list(due["case_id"]) == [soon] and int(due.iloc[0]["days_left"]) == 1
    assert (metric(at, "逾期案件"), metric(at, "3天内到期"), metric(at, "在办案件")) == (
        "1",
        "1",
        "3",
    )


def test_the_overdue_list_follows_the_date(portal: Portal, monkeypatch):
    case_id = portal.intake()
    assign(portal, case_id, "2026-03-02")  # accept_due 2026-03-17
    assert list(listed(portal.page("clerk", PAGE), "overdue")["days_overdue"]) == [3]
    monkeypatch.setenv("LIUYAN_TODAY", "2026-03-17")  # the due day itself is on time
    at = portal.page("clerk", PAGE)
    no_errors(at)
    assert listed(at, "overdue") is None
    assert list(listed(at, "due_soon")["case_id"]) == [case_id]


# --- the figures equal the CLI's ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["week", "month", "quarter"])
def test_the_league_table_is_the_cli_report_worst_first(
    demo_portal: Portal, app_env, tmp_path, kind
):
    at = demo_portal.page("supervisor", PAGE)
    if kind != "month":
        at.button_group(key=board.KIND_KEY).set_value(kind).run()
    no_errors(at)
    assert at.query_params.get("period") == (None if kind == "month" else kind)
    period = Period.containing(kind, DAY)
    out = tmp_path / "report.csv"
    code = cli(
        [
            "report",
            "--register",
            os.environ["REGISTER_URL"],  # the register the app uses (a file or a sheet)
            "--from",
            period.start.isoformat(),
            "--to",
            period.end.isoformat(),
            "--as-of",
            TODAY,
            "--format",
            "csv",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    report = pd.read_csv(io.BytesIO(out.read_bytes()), encoding="utf-8-sig")
    shown = league_shown(at)
    assert list(shown.columns[: len(metrics.REPORT_COLUMNS)]) == list(metrics.REPORT_COLUMNS)
    assert len(shown) == len(report)
    by_unit = report.set_index("承办单位")
    assert set(shown["承办单位"]) == set(by_unit.index)
    for _, row in shown.iterrows():
        want = by_unit.loc[row["承办单位"]]
        for col in (
            "案件数",
            "及时受理数",
            "受理超期数",
            "按期办结数",
            "办结超期数",
            "参评数",
            "满意数",
        ):
            assert int(row[col]) == int(want[col]), (row["承办单位"], col)
        for col in metrics.RATE_COLUMNS:
            assert row[col] == format_rate(want[col] if pd.notna(want[col]) else None)
    # worst first: ranks descend, 未交办 (no rank) last
    ranks = [int(r) for r in shown["排名"] if pd.notna(r)]
    assert ranks == sorted(ranks, reverse=True)
    if "未交办" in set(shown["承办单位"]):
        assert shown["承办单位"].iloc[-1] == "未交办"


def test_tiles_are_the_metrics_of_the_period(demo_portal: Portal):
    at = demo_portal.page("leader", PAGE)
    at.button_group(key=board.KIND_KEY).set_value("quarter").run()
    no_errors(at)
    data = demo_portal.reg.load()
    row = metrics.summary(
        data.cases,
        None,
        None,
        data.rules,
        date_from="2026-01-01",
        date_to="2026-03-31",
        as_of=DAY,
    ).iloc[0]
    for name in (*metrics.THREE_RATES, "参评率"):
        assert metric(at, name) == format_rate(row[name])
    assert at.caption and any("2026-01-01 至 2026-03-20" in c for c in texts(at.caption))


def test_the_league_table_downloads_at_full_precision(demo_portal: Portal, downloads):
    at = open_tab(demo_portal.page("admin", PAGE), "league")
    no_errors(at)
    name = next(n for n in downloads if n.startswith("league-2026-03"))
    frame = pd.read_csv(io.BytesIO(downloads[name]()), encoding="utf-8-sig")
    data = demo_portal.reg.load()
    period = Period.containing("month", DAY)
    want = board.league(data, period, DAY)
    assert list(frame.columns) == list(metrics.REPORT_COLUMNS)
    got = frame.set_index("承办单位")["及时受理率"].dropna()
    exp = want.set_index("承办单位")["及时受理率"].dropna()
    assert got.sort_index().tolist() == pytest.approx(exp.sort_index().tolist(), rel=1e-12)


# --- actions ----------------------------------------------------------------------------------


def test_a_supervision_recorded_from_the_board_lands_with_history(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    unsatisfied = listed(at, "unsatisfied")
    case_id = str(unsatisfied.iloc[0]["case_id"])
    before = len(unsatisfied)
    at.selectbox(key=board.CASE_KEY).select(case_id).run()
    no_errors(at)
    radio = next(r for r in at.radio if r.key and f".{case_id}.choice@" in r.key)
    assert radio.options == ["督办", "提请问责"]
    k = action_keys(at, case_id) + ".supervise"
    at.selectbox(key=f"{k}.kind").select("函督")
    at.text_area(key=f"{k}.note").input("请于3月27日前重新答复并回访。")
    at.button(key=f"{k}.submit").click().run()
    no_errors(at)
    assert f"{case_id}：督办已完成" in texts(at.success)
    rows = demo_portal.reg.store.rows_where("supervisions", "case_id", case_id)
    last = rows[-1]
    assert (last["kind"], last["note"], last["date"], last["by"]) == (
        "函督",
        "请于3月27日前重新答复并回访。",
        TODAY,
        "孙督办",
    )
    history = [h for h in demo_portal.history(case_id) if h["action"] == "supervise"]
    assert history and history[-1]["user"] == "sup1" and history[-1]["new"] == "函督"
    # followed up: off the 不满意 list; the form starts empty again
    after = listed(at, "unsatisfied")
    assert case_id not in set(after["case_id"]) and len(after) == before - 1
    k2 = action_keys(at, case_id) + ".supervise"
    assert at.text_area(key=f"{k2}.note").value == ""


def test_escalation_needs_a_reason_and_is_recorded(demo_portal: Portal):
    case_id = str(expected_overdue(demo_portal).iloc[0]["case_id"])
    at = demo_portal.page("supervisor", PAGE)
    at.selectbox(key=board.CASE_KEY).select(case_id).run()
    base = action_keys(at, case_id)
    at.radio(key=next(r.key for r in at.radio if r.key.startswith(base))).set_value("escalate")
    at.run()
    k = base + ".escalate"
    count = demo_portal.count("supervisions")
    at.button(key=f"{k}.submit").click().run()
    assert not at.exception
    assert at.error and demo_portal.count("supervisions") == count
    at.text_area(key=f"{k}.reason").input("逾期三百余天，多次督办未果。")
    at.button(key=f"{k}.submit").click().run()
    no_errors(at)
    rows = demo_portal.reg.store.rows_where("supervisions", "case_id", case_id)
    assert rows[-1]["kind"] == ESCALATION_KIND
    assert rows[-1]["note"] == "逾期三百余天，多次督办未果。"


@pytest.mark.parametrize(
    ("role", "offered"),
    [
        ("admin", ["督办", "提请问责", "批示"]),
        ("clerk", ["批示", "督办"]),
        ("supervisor", ["督办", "提请问责"]),
        ("leader", ["批示"]),
    ],
)
def test_each_role_is_offered_only_what_it_may_do(demo_portal: Portal, role, offered):
    case_id = str(expected_overdue(demo_portal).iloc[0]["case_id"])
    at = demo_portal.page(role, PAGE)
    at.selectbox(key=board.CASE_KEY).select(case_id).run()
    no_errors(at)
    radio = next(r for r in at.radio if r.key and f".{case_id}.choice@" in r.key)
    assert sorted(radio.options) == sorted(offered)


def test_clicking_a_row_picks_the_case_for_the_form(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    shown = listed(at, "overdue")
    key = next(d.key for d in at.dataframe if d.key and d.key.startswith("board.list.overdue."))
    at.session_state[key] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    no_errors(at)
    assert at.selectbox(key=board.CASE_KEY).value == shown.iloc[2]["case_id"]


# --- filter, digest, refresh, wall -----------------------------------------------------------


def open_digest(at):
    """Open the digest's expander (what a click on it does: a rerun with it open)."""
    at.session_state[board.DIGEST_KEY] = True
    return at.run()


def test_one_unit_only(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE)
    at.selectbox(key=board.UNIT_KEY).select("邻水县").run()
    no_errors(at)
    assert at.query_params.get("unit") == "邻水县"
    expected = expected_overdue(demo_portal)
    expected = expected[expected["unit"] == "邻水县"]
    shown = listed(at, "overdue")
    assert list(shown["case_id"]) == list(expected["case_id"])
    assert set(shown["unit"]) == {"邻水县"}
    data = demo_portal.reg.load()
    digest = daily_digest(board.digest_data(data, "邻水县"), DAY)
    assert open_digest(at).code[0].value == digest and "广安区" not in digest.split("\n", 3)[-1]
    # the league table still ranks every unit
    assert len(league_shown(at)) > 1


def test_the_address_chooses_unit_and_period(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE, unit="广安区", period="week")
    no_errors(at)
    assert at.selectbox(key=board.UNIT_KEY).value == "广安区"
    assert at.button_group(key=board.KIND_KEY).value == "week"
    assert any("2026-03-16 至 2026-03-20" in c for c in texts(at.caption))


def test_the_digest_is_the_daily_digest(demo_portal: Portal):
    at = demo_portal.page("clerk", PAGE)
    no_errors(at)
    assert not at.code  # written when its expander is opened, not on every run
    at = open_digest(at)
    no_errors(at)
    assert at.code[0].value == daily_digest(demo_portal.reg.load(), DAY)
    assert at.code[0].value.startswith("【每日信访】2026年3月20日（星期五）")


def test_refresh_interval_comes_from_the_settings(portal: Portal):
    at = portal.page("supervisor", PAGE)
    assert any("每 60 秒自动刷新" in c for c in texts(at.caption))
    portal.reg.set_setting(user("admin"), "refresh_seconds", "15")
    at = portal.page("supervisor", PAGE)
    assert any("每 15 秒自动刷新" in c for c in texts(at.caption))
    portal.reg.set_setting(user("admin"), "refresh_seconds", "0")
    at = portal.page("supervisor", PAGE)
    assert any("自动刷新已关闭" in c for c in texts(at.caption))
    assert any("数据读取于" in c for c in texts(at.caption))


def test_refresh_seconds_parsing():
    assert board.refresh_seconds({"refresh_seconds": "60"}) == 60
    assert board.refresh_seconds({"refresh_seconds": "2"}) == board.MIN_REFRESH_S
    assert board.refresh_seconds({"refresh_seconds": "0"}) == 0
    assert board.refresh_seconds({"refresh_seconds": "abc"}) == 60


def test_the_wall_display(demo_portal: Portal):
    at = demo_portal.page("supervisor", PAGE, wall="1")
    no_errors(at)
    assert any("stSidebar" in m.value for m in at.markdown)  # the chrome is hidden by CSS
    assert not at.tabs and not [s for s in at.selectbox if s.key == board.CASE_KEY]
    assert not at.code  # no digest, no forms on the wall
    assert [s.value for s in at.subheader] == ["逾期案件", "单位排名"]
    assert list(league_shown(at).columns) == list(board.WALL_LEAGUE)
    at.button(key="board.wall.exit").click().run()
    no_errors(at)
    assert "wall" not in at.query_params and at.tabs


def test_the_board_in_english(demo_portal: Portal):
    at = demo_portal.app("supervisor")
    at.session_state["lang"] = "en"
    at.switch_page(PAGE).run()
    no_errors(at)
    assert at.title[0].value == "Supervision board"
    assert [m.label for m in at.metric][:4] == [
        "On-time acceptance rate",
        "On-time conclusion rate",
        "Satisfaction rate",
        "Evaluation rate",
    ]
    assert "Handling unit" in league_shown(at).columns
    assert open_digest(at).code[0].value.startswith("[Daily petition digest]")


# --- pure parts ------------------------------------------------------------------------------


def test_worst_first_keeps_unranked_and_unassigned_last():
    table = pd.DataFrame(
        {
            "承办单位": ["A", "B", "C", "D", "未交办"],
            "排名": pd.array([1, 2, 2, pd.NA, pd.NA], dtype="Int64"),
        }
    )
    assert list(board.worst_first(table)["承办单位"]) == ["B", "C", "A", "D", "未交办"]


def test_a_refresh_of_its_own_notices_a_disabled_account(portal: Portal):
    from types import SimpleNamespace

    c = SimpleNamespace(reg=portal.reg, user=user("supervisor"))
    assert board._account_unchanged(c)
    portal.reg.save_user(user("admin"), "sup1", role="leader")
    assert not board._account_unchanged(c)
    portal.reg.save_user(user("admin"), "sup1", role="supervisor", active=False)
    assert not board._account_unchanged(c)


def test_the_wall_display_counts_as_activity(demo_portal: Portal, monkeypatch):
    # An unattended wall display refreshes itself; that must not sign it out as idle.
    import time

    from lib.ui import signin

    keep_alive = signin.keep_alive
    calls = []
    monkeypatch.setattr(signin, "keep_alive", lambda: calls.append(time.time()))
    demo_portal.page("supervisor", PAGE, wall="1")
    assert calls, "the wall display keeps its session alive"

    fake = {signin.AUTH_KEY: {"username": "sup1", "method": "password", "seen": 0.0}}
    monkeypatch.setattr(signin.st, "session_state", fake)
    keep_alive()
    assert time.time() - fake[signin.AUTH_KEY]["seen"] < 5


def test_the_case_chooser_says_why_each_case_is_on_the_board():
    def frame(ids, **cols):
        return pd.DataFrame({"case_id": ids, **cols})

    empty = pd.DataFrame()
    b = board.Board(
        day=DAY,
        unit="",
        period=Period.containing("month", DAY),
        rates={},
        trend=empty,
        open=0,
        overdue=frame(["a", "b", "a", "f"], days_overdue=[5, 3, 5, 40]),
        due_soon=frame(["c", "b"], days_left=[2, 1]),
        unsatisfied=frame(["a"]),
        repeats=frame(["d", "e"]),
        instructed=frame(["c", "d", "f"]),
        league=empty,
    )
    zh = SimpleNamespace(lang="zh", t=lambda k, **p: t(k, "zh", **p))
    assert board._reasons(zh, b) == {
        "a": "逾期5天，不满意",
        "b": "逾期3天，1天内到期",
        "f": "逾期40天，批示件",
        "c": "2天内到期，批示件",
        "d": "批示件，重复留言",
        "e": "重复留言",
    }
    assert list(board._reasons(zh, b)) == ["a", "b", "f", "c", "d", "e"]  # most urgent first
    en = SimpleNamespace(lang="en", t=lambda k, **p: t(k, "en", **p))
    assert board._reasons(en, b)["a"] == "5 d overdue, unsatisfied"
    nothing = dataclasses.replace(
        b, overdue=empty, due_soon=empty, unsatisfied=empty, repeats=empty, instructed=empty
    )
    assert board._reasons(zh, nothing) == {}


def test_figures_are_remembered_for_one_snapshot_and_one_view(portal: Portal):
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    admin, clerk = user("admin"), user("clerk")
    data = portal.reg.load()
    assert memo.snapshot_memo(data, admin, "k", compute) == 1
    view = dataclasses.replace(data, cases=data.cases.copy())  # another view, same snapshot
    assert memo.snapshot_memo(view, admin, "k", compute) == 1
    assert memo.snapshot_memo(data, clerk, "k", compute) == 2  # another user's view
    assert memo.snapshot_memo(data, admin, "other", compute) == 3
    # a change replaces the snapshot: computed afresh
    portal.reg.set_setting(admin, "refresh_seconds", "30")
    changed = portal.reg.load()
    assert changed.snapshot is not data.snapshot
    assert memo.snapshot_memo(changed, admin, "k", compute) == 4
    # forgotten with its snapshot
    gone = dataclasses.replace(data, snapshot=dataclasses.replace(data.snapshot))
    assert memo.snapshot_memo(gone, admin, "k", compute) == 5
    ident = id(gone.snapshot)
    del gone
    gc.collect()
    assert ident not in memo._memo
