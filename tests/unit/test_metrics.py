"""The SPEC §5 figures: per-case rules, the league table, bureau totals, periods.

Most tests build a small typed cases frame by hand (canonical text through the schema, as
the register stores it) and check numbers computed by hand. Deadlines use the defaults:
acceptance 15 days, handling 60 (+ extension), evaluation 7, calendar days.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lib import metrics
from lib.i18n import DomainError
from lib.metrics import LEAGUE_COLUMNS, REPORT_COLUMNS, UNASSIGNED
from lib.schema import default_schema
from lib.workflow import Rules

RULES = Rules()
CASES = default_schema()["cases"]


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A typed cases frame from rows of canonical text (dates 'YYYY-MM-DD')."""
    text = [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    raw = pd.DataFrame(text, columns=sorted({k for r in rows for k in r} | {"case_id"}))
    out = CASES.typed_frame(raw.fillna(""))
    if out["case_id"].eq("").any():
        out["case_id"] = [f"C{i:04d}" for i in range(len(out))]
    return out


def case(cid: str, unit: str = "甲", received: str = "2026-03-01", **kw: Any) -> dict[str, Any]:
    """A case assigned on its received day unless ``assigned_at`` says otherwise."""
    row: dict[str, Any] = {"case_id": cid, "received_at": received, "title": cid}
    if unit:
        row["unit"] = unit
        row["assigned_at"] = kw.pop("assigned_at", received)
    row.update(kw)
    return row


def measures(rows: list[dict[str, Any]], as_of: str) -> pd.DataFrame:
    return metrics.case_measures(frame(*rows), RULES, as_of)


def table(cases: pd.DataFrame, **kw: Any) -> pd.DataFrame:
    kw.setdefault("date_from", "2026-01-01")
    kw.setdefault("date_to", "2026-12-31")
    instr = kw.pop("instructions", None)
    sup = kw.pop("supervisions", None)
    return metrics.league_table(cases, instr, sup, RULES, **kw)


def row(t: pd.DataFrame, unit: str) -> pd.Series:
    hit = t[t["承办单位"] == unit]
    assert len(hit) == 1, f"{unit} not exactly once in {t['承办单位'].tolist()}"
    return hit.iloc[0]


# --- acceptance ---------------------------------------------------------------------------


def test_acceptance_on_the_due_day_is_on_time_and_a_day_later_is_late():
    # assigned 03-01 -> accept_due 03-16
    m = measures(
        [
            case("due-day", accepted_at="2026-03-16"),
            case("day-after", accepted_at="2026-03-17"),
            case("early", accepted_at="2026-03-02"),
        ],
        as_of="2026-04-01",
    )
    assert m["accept_due"].iloc[0] == pd.Timestamp("2026-03-16")
    assert m["accept_on_time"].tolist() == [True, False, True]
    assert m["accept_late"].tolist() == [False, True, False]


def test_unanswered_case_is_undecidable_until_its_due_day_has_passed():
    rows = [case("waiting")]
    on_due_day = measures(rows, "2026-03-16").iloc[0]
    assert not on_due_day["accept_on_time"] and not on_due_day["accept_late"]
    assert on_due_day["pending_accept"] and not on_due_day["overdue_accept"]
    day_after = measures(rows, "2026-03-17").iloc[0]
    assert day_after["accept_late"] and day_after["overdue_accept"]
    assert day_after["days_overdue"] == 1


def test_rejection_counts_in_acceptance_but_leaves_handling():
    m = measures(
        [
            case("rejected-on-time", rejected_at="2026-03-10"),
            case("rejected-late", rejected_at="2026-03-20"),
        ],
        as_of="2026-12-31",  # long after every handling deadline
    )
    assert m["accept_on_time"].tolist() == [True, False]
    assert m["accept_late"].tolist() == [False, True]
    assert not m["handle_on_time"].any() and not m["handle_late"].any()
    assert not m["overdue"].any() and not m["pending_accept"].any()
    assert m["status_asof"].tolist() == ["不予受理", "不予受理"]

    t = table(frame(*[case(f"r{i}", rejected_at="2026-03-10") for i in range(3)]))
    r = row(t, "甲")
    assert (r["及时受理数"], r["受理超期数"], r["及时受理率"]) == (3, 0, 1.0)
    assert (r["按期办结数"], r["办结超期数"]) == (0, 0)
    assert math.isnan(r["按期办结率"])


# --- handling -------------------------------------------------------------------------------


def test_conclusion_on_the_handling_due_day_is_on_time():
    # accepted 03-05 -> handle_due 05-04 (60 days)
    m = measures(
        [
            case("due-day", accepted_at="2026-03-05", concluded_at="2026-05-04"),
            case("day-after", accepted_at="2026-03-05", concluded_at="2026-05-05"),
        ],
        as_of="2026-06-01",
    )
    assert m["handle_due"].iloc[0] == pd.Timestamp("2026-05-04")
    assert m["handle_on_time"].tolist() == [True, False]
    assert m["handle_late"].tolist() == [False, True]
    assert m["concluded"].all() and not m["overdue"].any()


def test_unaccepted_case_handling_deadline_is_accept_due_plus_60():
    # assigned 03-01 -> accept_due 03-16 -> handle_due 05-15
    rows = [case("never-accepted")]
    before = measures(rows, "2026-05-15").iloc[0]
    assert before["handle_due"] == pd.Timestamp("2026-05-15")
    assert not before["handle_late"] and not before["overdue_handle"]
    assert before["overdue_accept"]  # but long overdue for acceptance
    after = measures(rows, "2026-05-16").iloc[0]
    assert after["handle_late"] and after["overdue_handle"] and after["overdue_accept"]
    # one overdue case, counted once in 逾期总数; days overdue from the acceptance deadline
    assert after["overdue"] and after["days_overdue"] == 61
    t = table(frame(*rows), as_of="2026-05-16")
    r = row(t, "甲")
    assert (r["逾期未受理"], r["逾期未办结"], r["逾期总数"]) == (1, 1, 1)


def test_extension_moves_the_handling_deadline_from_the_day_it_is_granted():
    rows = [
        case(
            "extended",
            accepted_at="2026-03-05",
            extension_days=20,
            extended_at="2026-04-20",
        )
    ]
    # before the extension was granted, the case was due 05-04
    m = measures(rows, "2026-04-19").iloc[0]
    assert m["handle_due"] == pd.Timestamp("2026-05-04")
    # after it, due 05-24: not late on 05-10 although past the original deadline
    m = measures(rows, "2026-05-10").iloc[0]
    assert m["handle_due"] == pd.Timestamp("2026-05-24")
    assert not m["handle_late"] and m["in_progress"] and not m["overdue"]
    m = measures(rows, "2026-05-25").iloc[0]
    assert m["handle_late"] and m["overdue_handle"] and m["days_overdue"] == 1


def test_in_progress_case_is_undecidable_until_due_then_late_and_overdue():
    rows = [case("open", accepted_at="2026-03-05")]
    m = measures(rows, "2026-05-04").iloc[0]
    assert m["in_progress"] and not m["handle_on_time"] and not m["handle_late"]
    assert m["current_due"] == pd.Timestamp("2026-05-04") and m["due_soon"]
    m = measures(rows, "2026-05-05").iloc[0]
    assert m["handle_late"] and m["overdue_handle"] and not m["overdue_accept"]
    assert m["days_overdue"] == 1 and not m["due_soon"]


def test_due_soon_means_within_the_setting_days():
    rows = [case("open", accepted_at="2026-03-05")]  # handle_due 05-04
    assert not measures(rows, "2026-04-30").iloc[0]["due_soon"]  # 4 days left
    assert measures(rows, "2026-05-01").iloc[0]["due_soon"]  # 3 days left


# --- as of: later dates do not exist ----------------------------------------------------------


def test_dates_after_as_of_do_not_exist():
    rows = [
        case(
            "full",
            accepted_at="2026-03-10",
            concluded_at="2026-04-10",
            evaluation="满意",
            evaluated_at="2026-04-20",
        )
    ]
    # the acceptance on 03-10 is not seen on 03-09: still pending, not yet decidable
    m = measures(rows, "2026-03-09").iloc[0]
    assert m["pending_accept"] and not m["accept_on_time"] and not m["accept_late"]
    assert m["status_asof"] == "已交办"
    # the evaluation on 04-20 is not counted on 04-19
    m = measures(rows, "2026-04-19").iloc[0]
    assert m["concluded"] and not m["evaluated"] and not m["satisfied"]
    assert m["evaluation_asof"] == ""
    t = table(frame(*rows), as_of="2026-04-19")
    r = row(t, "甲")
    assert r["参评数"] == 0 and r["满意数"] == 0 and r["满意"] == 0
    assert math.isnan(r["群众满意率"])
    m = measures(rows, "2026-04-20").iloc[0]
    assert m["evaluated"] and m["satisfied"]


def test_case_assigned_after_as_of_is_unassigned_and_received_after_as_of_is_out():
    cases = frame(
        case("later", assigned_at="2026-03-20", received="2026-03-01"),
        case("not-yet-received", received="2026-03-25"),
    )
    t = table(cases, as_of="2026-03-10")
    assert t["承办单位"].tolist() == [UNASSIGNED]
    assert t["案件数"].tolist() == [1]


def test_as_of_defaults_to_date_to():
    cases = frame(case("a"), case("b", received="2026-04-02"))
    t = metrics.league_table(cases, None, None, RULES, date_from="2026-03-01", date_to="2026-03-31")
    explicit = metrics.league_table(
        cases, None, None, RULES, date_from="2026-03-01", date_to="2026-03-31", as_of="2026-03-31"
    )
    pd.testing.assert_frame_equal(t, explicit)
    assert row(t, "甲")["待受理"] == 1  # accepted nothing by 03-31


# --- evaluation -----------------------------------------------------------------------------


def test_satisfaction_and_evaluation_rates():
    concluded = {"accepted_at": "2026-03-02", "concluded_at": "2026-03-10"}  # eval_due 03-17
    cases = frame(
        case("s", **concluded, evaluation="满意", evaluated_at="2026-03-12"),
        case("b", **concluded, evaluation="基本满意", evaluated_at="2026-03-12"),
        case("u", **concluded, evaluation="不满意", evaluated_at="2026-03-12"),
        case("window-over", accepted_at="2026-03-02", concluded_at="2026-03-05"),  # due 03-12
        case("window-open", accepted_at="2026-03-02", concluded_at="2026-03-11"),  # due 03-18
        case("due-today", accepted_at="2026-03-02", concluded_at="2026-03-10"),  # due 03-17
    )
    t = table(cases, as_of="2026-03-17")
    r = row(t, "甲")
    assert (r["参评数"], r["满意数"], r["满意"], r["基本满意"], r["不满意"]) == (3, 2, 1, 1, 1)
    assert r["群众满意率"] == pytest.approx(2 / 3)
    # only the case whose window ended before as_of joins the denominator
    assert r["参评率"] == pytest.approx(3 / 4)
    assert r["办结数"] == 6


def test_evaluation_rate_counts_windows_ended_strictly_before_as_of():
    rows = [case("c", accepted_at="2026-03-02", concluded_at="2026-03-10")]  # eval_due 03-17
    assert not measures(rows, "2026-03-17").iloc[0]["eval_window_over"]
    assert measures(rows, "2026-03-18").iloc[0]["eval_window_over"]
    r = row(table(frame(*rows), as_of="2026-03-18"), "甲")
    assert r["参评率"] == 0.0
    assert math.isnan(row(table(frame(*rows), as_of="2026-03-17"), "甲")["参评率"])


# --- the league table -------------------------------------------------------------------------


def test_columns_are_the_spec_order_then_the_extra_counts():
    t = table(frame(case("a")))
    assert list(t.columns) == list(LEAGUE_COLUMNS)
    assert list(t.columns[: len(REPORT_COLUMNS)]) == [
        "承办单位",
        "案件数",
        "及时受理数",
        "受理超期数",
        "及时受理率",
        "按期办结数",
        "办结超期数",
        "按期办结率",
        "参评数",
        "满意数",
        "群众满意率",
        "参评率",
        "综合得分",
        "排名",
    ]
    assert str(t["排名"].dtype) == "Int64"
    for c in ("及时受理率", "按期办结率", "群众满意率", "参评率", "综合得分"):
        assert t[c].dtype == np.float64


def test_empty_denominators_give_nan_never_zero_or_one():
    cases = frame(
        case("fresh", unit="新单位", received="2026-03-01"),  # nothing decidable yet
        case("late", unit="慢单位", received="2026-03-01"),
    )
    t = table(cases, date_to="2026-03-10", as_of="2026-03-10")
    fresh = row(t, "新单位")
    for c in ("及时受理率", "按期办结率", "群众满意率", "参评率", "综合得分"):
        assert math.isnan(fresh[c]), c
    assert fresh["排名"] is pd.NA
    t = table(cases, date_to="2026-03-31", as_of="2026-03-31")
    late = row(t, "慢单位")
    assert late["及时受理率"] == 0.0  # a real zero: one late acceptance
    assert late["综合得分"] == 0.0 and late["排名"] == 1


def _recipe(unit: str, prefix: str, **counts: int) -> list[dict[str, Any]]:
    """Cases for ``unit`` by outcome (as of 2026-06-30; assigned 01-05, accept_due 01-20).

    R+ / R-: rejected on time / late (acceptance only). H+ / H-: accepted on time, concluded
    on time / late. S+ / S-: like H+ and rated 满意 / 不满意.
    """
    base = {"received": "2026-01-05"}
    recipes = {
        "r_on": {"rejected_at": "2026-01-10"},
        "r_late": {"rejected_at": "2026-01-25"},
        "h_on": {"accepted_at": "2026-01-10", "concluded_at": "2026-03-01"},
        "h_late": {"accepted_at": "2026-01-10", "concluded_at": "2026-03-20"},
        "s_on": {
            "accepted_at": "2026-01-10",
            "concluded_at": "2026-03-01",
            "evaluation": "满意",
            "evaluated_at": "2026-03-03",
        },
        "s_off": {
            "accepted_at": "2026-01-10",
            "concluded_at": "2026-03-01",
            "evaluation": "不满意",
            "evaluated_at": "2026-03-03",
        },
    }
    out = []
    for kind, n in counts.items():
        for i in range(n):
            out.append(case(f"{prefix}-{kind}-{i}", unit=unit, **base, **recipes[kind]))
    return out


def test_ties_share_a_rank_one_two_two_four():
    rows = [
        *_recipe("丁", "d", r_late=1),  # 0.0
        *_recipe("乙", "b", r_on=1, r_late=1),  # 0.5
        *_recipe("甲", "a", r_on=1),  # 1.0
        *_recipe("丙", "c", r_on=2, r_late=2),  # 0.5
        case("w", unit="", received="2026-01-06"),
    ]
    t = table(frame(*rows), as_of="2026-06-30")
    # a tie is ordered by name (code point order: 丙 U+4E19 before 乙 U+4E59)
    assert t["承办单位"].tolist() == ["甲", "丙", "乙", "丁", UNASSIGNED]
    assert t["排名"].tolist()[:4] == [1, 2, 2, 4]
    assert t["综合得分"].tolist()[:4] == [1.0, 0.5, 0.5, 0.0]
    assert t["排名"].iloc[4] is pd.NA


def test_equal_scores_tie_despite_float_rounding():
    # X = mean(1/3, 2/3, 1/2) and Y = mean(2/3, 1/2, 1/3): both 0.5, but summed in a
    # different order they differ in the last bit.
    rows = [
        *_recipe("X", "x", s_on=1, s_off=1, h_late=1, r_late=6),
        *_recipe("Y", "y", s_on=1, s_off=2, h_late=3, r_late=3),
    ]
    t = table(frame(*rows), as_of="2026-06-30")
    x, y = row(t, "X"), row(t, "Y")
    assert (x["及时受理率"], x["按期办结率"], x["群众满意率"]) == pytest.approx(
        (1 / 3, 2 / 3, 1 / 2)
    )
    assert (y["及时受理率"], y["按期办结率"], y["群众满意率"]) == pytest.approx(
        (2 / 3, 1 / 2, 1 / 3)
    )
    assert x["排名"] == y["排名"] == 1


def test_score_is_the_mean_of_the_available_rates():
    rows = _recipe("甲", "a", h_on=1, h_late=1)  # acceptance 1.0, handling 0.5, no rating
    r = row(table(frame(*rows), as_of="2026-06-30"), "甲")
    assert r["综合得分"] == pytest.approx(0.75)
    assert math.isnan(r["群众满意率"])


def test_unassigned_row_comes_last_with_counts_but_no_rates():
    rows = [
        case("w1", unit="", received="2026-03-01"),
        case("w2", unit="", received="2026-03-02"),
        case("z", unit="中", received="2026-03-03", accepted_at="2026-03-04"),
        case("a", unit="东", received="2026-03-03", accepted_at="2026-03-30"),
    ]
    instr = pd.DataFrame({"case_id": ["w1", "w1"], "date": pd.to_datetime(["2026-03-02"] * 2)})
    t = table(frame(*rows), as_of="2026-04-30", instructions=instr)
    assert t["承办单位"].tolist() == ["中", "东", UNASSIGNED]
    last = t.iloc[-1]
    assert last["案件数"] == 2 and last["批示件数"] == 1
    for c in ("及时受理率", "按期办结率", "群众满意率", "参评率", "综合得分"):
        assert math.isnan(last[c])
    assert last["排名"] is pd.NA
    # the unassigned cases do not touch the units' figures
    assert row(t, "中")["案件数"] == 1


def test_no_unassigned_row_when_every_case_is_assigned():
    assert UNASSIGNED not in table(frame(case("a"), case("b", unit="乙")))["承办单位"].tolist()


def test_repeat_message_counts_in_the_original_cases_unit():
    rows = [
        case("orig", unit="原单位", received="2025-12-20"),  # outside the cohort
        case("rep1", unit="", received="2026-03-01", repeat_of="orig"),  # not assigned
        case("rep2", unit="别的单位", received="2026-03-02", repeat_of="orig"),
        case("rep3", unit="别的单位", received="2026-03-03", repeat_of="missing-id"),
    ]
    t = table(frame(*rows), as_of="2026-03-31")
    orig = row(t, "原单位")
    assert orig["重复件数"] == 2 and orig["案件数"] == 0  # a row only for its repeats
    other = row(t, "别的单位")
    # rep2's own figures stay with its unit; the dangling reference counts there too
    assert other["案件数"] == 2 and other["重复件数"] == 1
    assert row(t, UNASSIGNED)["重复件数"] == 0
    assert t["承办单位"].iloc[-1] == UNASSIGNED


def test_repeat_of_an_original_assigned_after_as_of_goes_to_unassigned():
    rows = [
        case("orig", unit="原单位", received="2026-03-01", assigned_at="2026-03-20"),
        case("rep", unit="乙", received="2026-03-05", repeat_of="orig"),
    ]
    t = table(frame(*rows), as_of="2026-03-10")
    assert row(t, UNASSIGNED)["重复件数"] == 1
    assert "原单位" not in t["承办单位"].tolist()


def test_instructions_and_supervisions_count_up_to_as_of():
    rows = [case("a"), case("b"), case("c", unit="乙")]
    instr = pd.DataFrame(
        {
            "case_id": ["a", "a", "b", "zzz"],
            "date": pd.to_datetime(["2026-03-02", "2026-03-03", "2026-03-20", "2026-03-02"]),
        }
    )
    sup = pd.DataFrame(
        {
            "case_id": ["a", "a", "b", "c", "c", "zzz"],
            "date": pd.to_datetime(
                ["2026-03-05", "2026-03-06", "2026-03-20", "2026-03-05", "2026-03-05", "2026-03-05"]
            ),
        }
    )
    t = table(frame(*rows), as_of="2026-03-10", instructions=instr, supervisions=sup)
    assert (row(t, "甲")["批示件数"], row(t, "甲")["督办次数"]) == (1, 2)
    assert (row(t, "乙")["批示件数"], row(t, "乙")["督办次数"]) == (0, 2)


def test_state_counts():
    rows = [
        case("pending"),
        case("progress", accepted_at="2026-03-02"),
        case("done", accepted_at="2026-03-02", concluded_at="2026-03-05"),
        case(
            "rated",
            accepted_at="2026-03-02",
            concluded_at="2026-03-05",
            evaluation="基本满意",
            evaluated_at="2026-03-06",
        ),
        case("rejected", rejected_at="2026-03-02"),
    ]
    r = row(table(frame(*rows), as_of="2026-03-10"), "甲")
    assert (r["案件数"], r["待受理"], r["办理中"], r["办结数"], r["逾期总数"]) == (5, 1, 1, 2, 0)
    assert (r["基本满意"], r["满意数"], r["参评数"]) == (1, 1, 1)


def test_cohort_is_received_between_from_and_to_inclusive():
    rows = [
        case("before", received="2026-02-28"),
        case("first", received="2026-03-01"),
        case("last", received="2026-03-31"),
        case("after", received="2026-04-01"),
    ]
    t = table(frame(*rows), date_from="2026-03-01", date_to="2026-03-31", as_of="2026-05-01")
    assert t["案件数"].tolist() == [2]


def test_empty_cohort_gives_an_empty_table_with_the_columns():
    t = table(frame(case("a")), date_from="2027-01-01", date_to="2027-01-31")
    assert t.empty and list(t.columns) == list(LEAGUE_COLUMNS)
    t = table(frame(case("a")), date_from="2027-01-01", date_to="2027-01-31", freq="M")
    assert t.empty and list(t.columns) == ["期间", *LEAGUE_COLUMNS]


def test_bad_range_and_bad_freq_are_domain_errors():
    with pytest.raises(DomainError) as e:
        table(frame(case("a")), date_from="2026-04-01", date_to="2026-03-01")
    assert "2026-04-01" in e.value.message("zh")
    with pytest.raises(DomainError):
        table(frame(case("a")), freq="Y")


# --- periods ----------------------------------------------------------------------------------


def test_period_labels():
    assert metrics.period_labels("2026-01-15", "2026-04-01", "M") == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
    ]
    assert metrics.period_labels("2025-12-15", "2026-04-01", "Q") == [
        "2025-Q4",
        "2026-Q1",
        "2026-Q2",
    ]
    # ISO weeks, Monday start: 2025-12-29 (a Monday) starts 2026-W01; Sunday 03-01 is W09
    assert metrics.period_labels("2025-12-28", "2026-01-05", "W") == [
        "2025-W52",
        "2026-W01",
        "2026-W02",
    ]
    assert metrics.period_labels("2026-03-01", "2026-03-02", "w") == ["2026-W09", "2026-W10"]


def test_grouping_by_week_splits_on_mondays():
    rows = [case("sun", received="2026-03-01"), case("mon", received="2026-03-02")]
    t = table(frame(*rows), as_of="2026-03-05", freq="W")
    assert t["期间"].tolist() == ["2026-W09", "2026-W10"]
    assert t["案件数"].tolist() == [1, 1]


def _random_register(seed: int, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A random typed register whose dates cluster around the deadlines (edge cases)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-01-01")
    received = start + rng.integers(0, 180, n).astype("timedelta64[D]")
    units = np.array(["甲", "乙", "丙", "丁", ""])[rng.choice(5, n, p=[0.3, 0.25, 0.2, 0.15, 0.1])]
    assigned = received + rng.integers(0, 3, n).astype("timedelta64[D]")
    decide = assigned + rng.choice([0, 5, 14, 15, 16, 30], n).astype("timedelta64[D]")
    fate = rng.random(n)
    accepted = np.where(fate < 0.8, decide, np.datetime64("NaT"))
    rejected = np.where((fate >= 0.8) & (fate < 0.9), decide, np.datetime64("NaT"))
    ext = np.where(rng.random(n) < 0.2, rng.integers(1, 31, n), 0)
    extended = accepted + rng.integers(1, 50, n).astype("timedelta64[D]")
    concluded = accepted + rng.choice([10, 59, 60, 61, 75, 90, 200], n).astype("timedelta64[D]")
    evaluated = concluded + rng.choice([0, 3, 7, 8, 30], n).astype("timedelta64[D]")
    rated = rng.random(n) < 0.7
    evaluation = rng.choice(["满意", "基本满意", "不满意"], n)
    ids = [f"R{seed}-{i:04d}" for i in range(n)]
    repeat = rng.random(n) < 0.1
    target = rng.integers(0, n, n)

    def d(a: np.ndarray, keep: np.ndarray | None = None) -> list[str]:
        ok = ~np.isnat(a) if keep is None else keep & ~np.isnat(a)
        return [str(x) if k else "" for x, k in zip(a.astype("datetime64[D]"), ok, strict=True)]

    has_unit = units != ""
    raw = pd.DataFrame(
        {
            "case_id": ids,
            "received_at": d(received),
            "title": "t",
            "unit": units,
            "assigned_at": d(assigned, has_unit),
            "accepted_at": d(accepted, has_unit),
            "rejected_at": d(rejected, has_unit),
            "extension_days": [str(e) if e else "0" for e in ext],
            "extended_at": d(extended, has_unit & (ext > 0)),
            "concluded_at": d(concluded, has_unit),
            "evaluation": np.where(has_unit & rated & ~np.isnat(concluded), evaluation, ""),
            "evaluated_at": d(evaluated, has_unit & rated),
            "repeat_of": np.where(repeat, np.array(ids)[target], ""),
        }
    )
    raw["extension_days"] = np.where(raw["extended_at"] == "", "0", raw["extension_days"])
    cases = CASES.typed_frame(raw)
    k = n // 4
    instr = pd.DataFrame(
        {
            "case_id": np.array(ids, dtype=object)[rng.integers(0, n, k)],
            "date": pd.to_datetime(start + rng.integers(0, 220, k).astype("timedelta64[D]")),
        }
    )
    sup = pd.DataFrame(
        {
            "case_id": np.array(ids, dtype=object)[rng.integers(0, n, n)],
            "date": pd.to_datetime(start + rng.integers(0, 220, n).astype("timedelta64[D]")),
        }
    )
    return cases, instr, sup


MONTHS = [
    (
        pd.Timestamp(f"2026-{m:02d}-01").date(),
        (pd.Timestamp(f"2026-{m:02d}-01") + pd.offsets.MonthEnd()).date(),
    )
    for m in range(1, 7)
]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_grouping_by_month_equals_each_month_on_its_own(seed):
    cases, instr, sup = _random_register(seed)
    as_of = dt.date(2026, 5, 20)  # mid-range: later months partly empty
    grouped = metrics.league_table(
        cases,
        instr,
        sup,
        RULES,
        date_from="2026-01-01",
        date_to="2026-06-30",
        as_of=as_of,
        freq="M",
    )
    assert grouped["期间"].is_monotonic_increasing
    for first, last in MONTHS:
        alone = metrics.league_table(
            cases, instr, sup, RULES, date_from=first, date_to=last, as_of=as_of
        )
        part = grouped[grouped["期间"] == first.strftime("%Y-%m")].drop(columns="期间")
        pd.testing.assert_frame_equal(part.reset_index(drop=True), alone, check_index_type=False)


@pytest.mark.parametrize("seed", [11, 12])
def test_grouping_by_quarter_and_week_equal_each_period_on_its_own(seed):
    cases, instr, sup = _random_register(seed)
    as_of = dt.date(2026, 7, 31)
    quarters = metrics.league_table(
        cases,
        instr,
        sup,
        RULES,
        date_from="2026-01-01",
        date_to="2026-06-30",
        as_of=as_of,
        freq="Q",
    )
    q1 = metrics.league_table(
        cases, instr, sup, RULES, date_from="2026-01-01", date_to="2026-03-31", as_of=as_of
    )
    part = quarters[quarters["期间"] == "2026-Q1"].drop(columns="期间").reset_index(drop=True)
    pd.testing.assert_frame_equal(part, q1)
    weeks = metrics.league_table(
        cases,
        instr,
        sup,
        RULES,
        date_from="2026-03-02",
        date_to="2026-03-22",
        as_of=as_of,
        freq="W",
    )
    assert sorted(set(weeks["期间"])) == ["2026-W10", "2026-W11", "2026-W12"]
    w11 = metrics.league_table(
        cases, instr, sup, RULES, date_from="2026-03-09", date_to="2026-03-15", as_of=as_of
    )
    part = weeks[weeks["期间"] == "2026-W11"].drop(columns="期间").reset_index(drop=True)
    pd.testing.assert_frame_equal(part, w11)


def _reference(c: pd.Series, as_of: pd.Timestamp) -> dict[str, bool]:
    """The SPEC §4–5 rules for one case, written out plainly (no pandas tricks)."""

    def day(k: str) -> pd.Timestamp | None:
        v = c[k]
        return None if pd.isna(v) or v > as_of else v

    assigned, accepted, rejected = day("assigned_at"), day("accepted_at"), day("rejected_at")
    concluded, evaluated, extended = day("concluded_at"), day("evaluated_at"), day("extended_at")
    out = dict.fromkeys(("accept_on_time", "accept_late", "handle_on_time", "handle_late"), False)
    out.update(evaluated=evaluated is not None, eval_window_over=False, overdue=False)
    if assigned is None:
        return out
    accept_due = assigned + pd.Timedelta(days=15)
    decided = accepted or rejected
    if decided is not None:
        out["accept_on_time"] = decided <= accept_due
        out["accept_late"] = decided > accept_due
    else:
        out["accept_late"] = as_of > accept_due
    ext = int(c["extension_days"] or 0) if extended is not None else 0
    handle_due = (accepted or accept_due) + pd.Timedelta(days=60 + ext)
    if rejected is None:
        if concluded is not None:
            out["handle_on_time"] = concluded <= handle_due
            out["handle_late"] = concluded > handle_due
        else:
            out["handle_late"] = as_of > handle_due
            out["overdue"] = as_of > handle_due or (accepted is None and as_of > accept_due)
    if concluded is not None and evaluated is None:
        out["eval_window_over"] = concluded + pd.Timedelta(days=7) < as_of
    return out


@pytest.mark.parametrize("seed", [21, 22, 23])
@pytest.mark.parametrize("as_of", ["2026-02-15", "2026-04-10", "2026-09-30"])
def test_case_measures_agree_with_a_plain_reading_of_the_spec(seed, as_of):
    cases, _, _ = _random_register(seed, n=250)
    m = metrics.case_measures(cases, RULES, as_of)
    ts = pd.Timestamp(as_of)
    expected = pd.DataFrame([_reference(c, ts) for _, c in cases.iterrows()], index=cases.index)
    for col in expected.columns:
        assert m[col].tolist() == expected[col].tolist(), col


# --- bureau totals and the chart series -------------------------------------------------------


def test_summary_totals_match_the_league_table():
    cases, instr, sup = _random_register(7)
    kw = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-05-01"}
    league = metrics.league_table(cases, instr, sup, RULES, **kw)
    total = metrics.summary(cases, instr, sup, RULES, **kw)
    assert len(total) == 1 and list(total.columns) == list(metrics.SUMMARY_COLUMNS)
    s = total.iloc[0]
    counts = [
        c for c in LEAGUE_COLUMNS if c not in metrics.RATE_COLUMNS and c not in ("承办单位", "排名")
    ]
    for c in counts:
        assert s[c] == league[c].sum(), c
    assert s["未交办数"] == row(league, UNASSIGNED)["案件数"]
    assert s["已交办数"] + s["未交办数"] == s["案件数"]
    units = league[league["承办单位"] != UNASSIGNED]
    assert s["及时受理率"] == pytest.approx(
        units["及时受理数"].sum() / (units["及时受理数"].sum() + units["受理超期数"].sum())
    )
    assert s["群众满意率"] == pytest.approx(units["满意数"].sum() / units["参评数"].sum())
    assert s["综合得分"] == pytest.approx(
        np.mean([s["及时受理率"], s["按期办结率"], s["群众满意率"]])
    )


def test_summary_of_an_empty_cohort_is_zeros_and_nan():
    s = metrics.summary(
        frame(case("a")), None, None, RULES, date_from="2027-01-01", date_to="2027-02-01"
    ).iloc[0]
    assert s["案件数"] == 0 and math.isnan(s["及时受理率"]) and math.isnan(s["综合得分"])


def test_rates_by_period_covers_every_period_and_matches_summary():
    cases, instr, sup = _random_register(8)
    kw = {"date_from": "2025-11-01", "date_to": "2026-07-31", "as_of": "2026-07-31"}
    series = metrics.rates_by_period(cases, RULES, freq="M", **kw)
    assert series["期间"].tolist() == [
        "2025-11",
        "2025-12",
        *[f"2026-{m:02d}" for m in range(1, 8)],
    ]
    assert list(series.columns) == list(metrics.PERIOD_RATE_COLUMNS)
    empty = series[series["期间"] == "2025-11"].iloc[0]
    assert empty["案件数"] == 0 and math.isnan(empty["及时受理率"])
    march = metrics.summary(
        cases, instr, sup, RULES, date_from="2026-03-01", date_to="2026-03-31", as_of="2026-07-31"
    ).iloc[0]
    got = series[series["期间"] == "2026-03"].iloc[0]
    for c in ("案件数", "及时受理率", "按期办结率", "群众满意率", "参评率", "综合得分"):
        assert got[c] == pytest.approx(march[c], nan_ok=True), c


def test_localize_gives_english_headers_and_unassigned_label():
    t = metrics.localize(table(frame(case("a"), case("w", unit=""))), "en")
    assert t.columns[0] == "Handling unit" and "On-time acceptance rate" in t.columns
    assert t["Handling unit"].tolist()[-1] == "Unassigned"
    assert metrics.column_label("排名", "zh") == "排名"


# --- end to end through the register ------------------------------------------------------------


def test_league_table_from_a_real_register(tmp_path):
    from lib import LOCAL_ADMIN, open_register

    reg = open_register(f"sqlite:///{tmp_path}/r.db", clock=lambda: dt.datetime(2026, 5, 31, 10))
    for name in ("广安区", "岳池县"):
        reg.save_unit(LOCAL_ADMIN, {"name": name, "kind": "区市县"})

    def intake(day: str) -> str:
        return reg.intake(
            LOCAL_ADMIN,
            {"received_at": day, "petitioner": "张三", "title": "路灯不亮", "content": "内容"},
        )

    a = intake("2026-03-02")
    reg.assign(LOCAL_ADMIN, a, unit="广安区", assigned_at="2026-03-02")
    reg.accept(LOCAL_ADMIN, a, accepted_at="2026-03-17")  # due day: on time
    reg.reply(LOCAL_ADMIN, a, reply="已修复", concluded_at="2026-04-01")
    reg.evaluate(LOCAL_ADMIN, a, evaluation="满意", evaluated_at="2026-04-03")
    b = intake("2026-03-03")
    reg.assign(LOCAL_ADMIN, b, unit="岳池县", assigned_at="2026-03-03")
    reg.reject(LOCAL_ADMIN, b, reason="不属于信访事项", rejected_at="2026-03-25")  # late
    c = intake("2026-03-04")
    reg.mark_repeat(LOCAL_ADMIN, c, repeat_of=a)

    data = reg.load()
    t = metrics.league_table(
        data.cases,
        data.instructions,
        data.supervisions,
        data.rules,
        date_from="2026-03-01",
        date_to="2026-03-31",
        as_of="2026-05-31",
    )
    assert t["承办单位"].tolist() == ["广安区", "岳池县", UNASSIGNED]
    ga, yc = row(t, "广安区"), row(t, "岳池县")
    assert (ga["及时受理率"], ga["按期办结率"], ga["群众满意率"], ga["参评率"]) == (1, 1, 1, 1)
    assert ga["重复件数"] == 1 and ga["排名"] == 1
    assert yc["受理超期数"] == 1 and yc["综合得分"] == 0.0 and yc["排名"] == 2
    assert math.isnan(yc["按期办结率"])
