"""Statuses, deadlines and the order of dates (SPEC §3–4), with every due date worked by hand.

Defaults: accept within 15 days of assignment; handle within 60 days of acceptance (of the
acceptance deadline while not accepted) plus any extension; return (退回) within 5 working days;
the petitioner rates within 7 days of the reply.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lib.i18n import DomainError
from lib.schema import default_schema
from lib.workflow import (
    CALENDAR,
    WORKING,
    Rules,
    add_days,
    add_days_series,
    calendar_years,
    case_errors,
    deadlines,
    derive_frame,
    evaluation_due,
    is_working_day,
    objection_due,
    status_of,
)

D = dt.date.fromisoformat
RULES = Rules()
CASES = default_schema()["cases"]
TODAY = D("2026-03-20")

# -- calendar-day deadlines ----------------------------------------------------------------


def test_acceptance_is_due_15_days_after_assignment():
    accept_due, _ = deadlines({"assigned_at": D("2026-03-01")}, RULES)

    assert accept_due == D("2026-03-16")


def test_handling_is_due_60_days_after_acceptance():
    # 03-05 + 26 = 03-31, + 30 = 04-30 (56 days), + 4 = 05-04 (60 days).
    _, handle_due = deadlines(
        {"assigned_at": D("2026-03-01"), "accepted_at": D("2026-03-05")}, RULES
    )

    assert handle_due == D("2026-05-04")


def test_an_extension_moves_the_handling_deadline():
    case = {"assigned_at": D("2026-03-01"), "accepted_at": D("2026-03-05"), "extension_days": 10}

    assert deadlines(case, RULES) == (D("2026-03-16"), D("2026-05-14"))


def test_an_unaccepted_case_is_due_60_days_after_its_acceptance_deadline():
    # accept_due 03-16; + 15 = 03-31, + 30 = 04-30 (45 days), + 15 = 05-15 (60 days).
    assert deadlines({"assigned_at": D("2026-03-01")}, RULES) == (D("2026-03-16"), D("2026-05-15"))
    with_extension = {"assigned_at": D("2026-03-01"), "extension_days": 20}
    assert deadlines(with_extension, RULES)[1] == D("2026-06-04")


def test_a_case_not_yet_assigned_has_no_deadlines():
    assert deadlines({"received_at": D("2026-03-01")}, RULES) == (None, None)


def test_deadlines_follow_the_settings():
    rules = Rules.from_settings(
        {"accept_days": "10", "handle_days": "30", "timezone": "Asia/Shanghai"}
    )

    assert deadlines({"assigned_at": D("2026-03-01")}, rules) == (D("2026-03-11"), D("2026-04-10"))


@pytest.mark.parametrize(
    "settings", [{"accept_days": "十五"}, {"accept_days": "-1"}, {"handle_day_kind": "lunar"}]
)
def test_a_bad_setting_is_refused_naming_it(settings):
    with pytest.raises(DomainError) as caught:
        Rules.from_settings(settings)

    assert next(iter(settings)) in str(caught.value)


def test_the_evaluation_window_is_7_days_after_the_reply():
    assert evaluation_due(D("2026-03-28"), RULES) == D("2026-04-04")


# -- working days on the official calendar -------------------------------------------------
#
# The 2026 schedule (国务院办公厅, as in chinesecalendar): 中秋 09-25 (Fri) – 09-27 (Sun) off;
# 国庆 10-01 (Thu) – 10-07 (Wed) off; make-up working days Sun 09-20 and Sat 10-10.
# 春节 02-15 – 02-23 off; make-up working days Sat 02-14 and Sat 02-28.


def test_the_official_calendar_knows_holidays_and_make_up_days():
    assert is_working_day(D("2026-09-30"))  # Wednesday
    assert not is_working_day(D("2026-10-01"))  # National Day
    assert not is_working_day(D("2026-10-05"))  # a Monday inside the holiday
    assert is_working_day(D("2026-10-10"))  # a make-up Saturday
    assert not is_working_day(D("2026-10-11"))  # an ordinary Sunday
    assert is_working_day(D("2026-09-20"))  # a make-up Sunday


def test_five_working_days_across_national_day():
    # Assigned Wed 09-30 (day 0). Working days after it: Thu 10-08 (1), Fri 10-09 (2),
    # Sat 10-10, a make-up day (3), Mon 10-12 (4), Tue 10-13 (5).
    assert add_days(D("2026-09-30"), 5, WORKING) == D("2026-10-13")
    assert objection_due(D("2026-09-30"), RULES) == D("2026-10-13")


def test_a_make_up_saturday_counts_as_a_working_day():
    assert add_days(D("2026-09-30"), 3, WORKING) == D("2026-10-10")
    # Fri 02-13 + 1 working day is the make-up Sat 02-14; + 2 is Tue 02-24, after 春节.
    assert add_days(D("2026-02-13"), 1, WORKING) == D("2026-02-14")
    assert add_days(D("2026-02-13"), 2, WORKING) == D("2026-02-24")


def test_a_working_day_clock_starting_on_a_holiday_counts_from_the_next_working_day():
    # Assigned on National Day itself: 10-08 is day 1.
    assert add_days(D("2026-10-03"), 1, WORKING) == D("2026-10-08")


def test_an_ordinary_week_of_working_days():
    # Fri 03-13: Mon 16, Tue 17, Wed 18, Thu 19, Fri 20.
    assert objection_due(D("2026-03-13"), RULES) == D("2026-03-20")


def test_acceptance_counted_in_working_days_when_the_setting_says_so():
    rules = Rules(accept_day_kind=WORKING, accept_days=5)

    assert deadlines({"assigned_at": D("2026-09-30")}, rules)[0] == D("2026-10-13")


def test_the_vectorised_clock_agrees_with_the_single_one():
    starts = pd.Series(pd.to_datetime(["2026-09-30", "2026-02-13", None, "2026-03-13"]))

    due = add_days_series(starts, 5, WORKING)

    expected = [add_days(D(s), 5, WORKING) for s in ("2026-09-30", "2026-02-13")]
    assert [d.date() for d in due.iloc[:2]] == expected
    assert pd.isna(due.iloc[2])
    assert due.iloc[3].date() == D("2026-03-20")
    calendar = add_days_series(starts, pd.Series([1, 2, 3, 4]), CALENDAR)
    assert calendar.iloc[0].date() == D("2026-10-01")


@pytest.mark.parametrize(
    ("start", "year"),
    [
        (D("2027-01-04"), 2027),
        (D("2030-06-03"), 2030),
        (D("2003-06-02"), 2003),
        (D("2026-12-28"), 2027),  # five working days run past the calendar's last year
    ],
)
def test_an_uncovered_year_is_a_clear_error_naming_the_year(start, year):
    with pytest.raises(DomainError) as caught:
        add_days(start, 5, WORKING)

    assert str(year) in caught.value.message("zh")
    assert str(year) in caught.value.message("en")


def test_uncovered_years_fail_in_every_working_day_entry_point():
    first, last = calendar_years()
    assert first <= 2026 <= last
    with pytest.raises(DomainError, match="2027"):
        is_working_day(D("2027-03-01"))
    with pytest.raises(DomainError, match="2027"):
        objection_due(D("2027-03-01"), RULES)
    with pytest.raises(DomainError, match="2027"):
        add_days_series(pd.Series(pd.to_datetime(["2026-03-02", "2027-03-01"])), 5, WORKING)


def test_calendar_days_need_no_holiday_calendar():
    assert add_days(D("2027-03-01"), 15) == D("2027-03-16")
    assert deadlines({"assigned_at": D("2031-01-01")}, RULES)[0] == D("2031-01-16")


# -- status --------------------------------------------------------------------------------

STATES = {
    "待交办": {"received_at": D("2026-03-01")},
    "已交办": {"assigned_at": D("2026-03-02")},
    "办理中": {"assigned_at": D("2026-03-02"), "accepted_at": D("2026-03-05")},
    "已办结": {
        "assigned_at": D("2026-03-02"),
        "accepted_at": D("2026-03-05"),
        "concluded_at": D("2026-03-10"),
    },
    "已评价": {
        "assigned_at": D("2026-03-02"),
        "accepted_at": D("2026-03-05"),
        "concluded_at": D("2026-03-10"),
        "evaluated_at": D("2026-03-12"),
    },
    "不予受理": {"assigned_at": D("2026-03-02"), "rejected_at": D("2026-03-04")},
}


@pytest.mark.parametrize(("status", "case"), STATES.items(), ids=STATES.keys())
def test_status_follows_from_the_dates(status, case):
    assert status_of({"received_at": D("2026-03-01"), **case}) == status


def test_empty_text_dates_do_not_count():
    assert status_of({"assigned_at": "", "accepted_at": None}) == "待交办"


# -- the order of dates --------------------------------------------------------------------


def full_case(**changes):
    """A concluded, evaluated case whose dates are all in order."""
    case = {
        "case_id": "GA2026-000001",
        "received_at": D("2026-03-01"),
        "assigned_at": D("2026-03-02"),
        "accepted_at": D("2026-03-05"),
        "meet_accept": D("2026-03-05"),
        "extension_days": 10,
        "extended_at": D("2026-03-06"),
        "meet_handle": D("2026-03-08"),
        "concluded_at": D("2026-03-10"),
        "meet_reply": D("2026-03-10"),
        "evaluation": "满意",
        "evaluated_at": D("2026-03-12"),
    }
    case.update(changes)
    return case


def problems(case):
    return {(e.field, e.code) for e in case_errors(case, TODAY, CASES)}


def test_a_case_in_order_has_no_errors():
    assert case_errors(full_case(), TODAY, CASES) == []


def test_no_date_may_be_in_the_future():
    errors = case_errors(full_case(evaluated_at=D("2026-03-21")), TODAY, CASES)

    assert [(e.field, e.code) for e in errors] == [("evaluated_at", "err.future")]
    assert errors[0].message() == "“评价日期”（2026-03-21）不能晚于今天（2026-03-20）"


def test_today_itself_is_not_the_future():
    assert case_errors(full_case(evaluated_at=TODAY), TODAY, CASES) == []


@pytest.mark.parametrize(
    ("field", "day", "other_label"),
    [
        ("assigned_at", "2026-02-28", "登记日期"),
        ("accepted_at", "2026-03-01", "交办日期"),
        ("concluded_at", "2026-03-04", "受理日期"),
        ("evaluated_at", "2026-03-09", "办结日期"),
        ("meet_handle", "2026-03-04", "受理日期"),
        ("extended_at", "2026-03-04", "受理日期"),
    ],
)
def test_each_step_may_not_come_before_the_one_it_follows(field, day, other_label):
    errors = case_errors(full_case(**{field: D(day)}), TODAY, CASES)

    assert (field, "err.order") in {(e.field, e.code) for e in errors}
    message = next(e.message() for e in errors if e.field == field and e.code == "err.order")
    assert CASES.field(field).header in message and other_label in message and day in message


@pytest.mark.parametrize(
    ("field", "missing"),
    [
        ("accepted_at", "assigned_at"),
        ("concluded_at", "accepted_at"),
        ("evaluated_at", "concluded_at"),  # an evaluation before any reply
        ("meet_reply", "accepted_at"),
    ],
)
def test_a_step_needs_the_one_before_it(field, missing):
    case = full_case(**{missing: None})

    assert (field, "err.needs") in problems(case)


def test_accepted_and_rejected_at_once_is_an_error():
    case = full_case(rejected_at=D("2026-03-05"))

    assert ("rejected_at", "err.exclusive") in problems(case)


def test_an_evaluation_needs_its_date_and_a_date_needs_the_evaluation():
    assert ("evaluation", "err.needs") in problems(full_case(evaluated_at=None))
    assert ("evaluated_at", "err.needs") in problems(full_case(evaluation=""))


def test_an_extension_needs_acceptance_and_its_date_needs_days():
    assert ("extension_days", "err.needs") in problems(
        {"received_at": D("2026-03-01"), "assigned_at": D("2026-03-02"), "extension_days": 10}
    )
    assert ("extended_at", "err.needs") in problems(full_case(extension_days=0))


def test_a_case_cannot_repeat_itself():
    assert ("repeat_of", "err.repeat_self") in problems(full_case(repeat_of="GA2026-000001"))


# -- figures as of a date ------------------------------------------------------------------


def typed_cases(*rows):
    raw = pd.DataFrame([{**CASES.empty_row(), **row} for row in rows])
    return CASES.typed_frame(raw)


LIFE = {
    "case_id": "GA2026-000001",
    "unit": "广安区",
    "received_at": "2026-03-01",
    "assigned_at": "2026-03-02",
    "accepted_at": "2026-03-10",
    "extension_days": "10",
    "extended_at": "2026-04-01",
    "concluded_at": "2026-05-01",
    "evaluation": "满意",
    "evaluated_at": "2026-05-05",
}


def as_of(day, *rows):
    frame = derive_frame(typed_cases(*rows), RULES, D(day) if day else None)
    row = frame.iloc[0]
    return {k: (v.date() if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}


def test_derive_frame_before_assignment_sees_a_waiting_case_with_no_unit():
    seen = as_of("2026-03-01", LIFE)

    assert seen["status"] == "待交办"
    assert seen["unit"] == ""
    assert pd.isna(seen["accept_due"])


def test_derive_frame_masks_every_date_after_as_of():
    seen = as_of("2026-03-05", LIFE)

    assert seen["status"] == "已交办"
    assert pd.isna(seen["accepted_at"]) and pd.isna(seen["concluded_at"])
    assert seen["accept_due"] == D("2026-03-17")
    # Not accepted yet: 03-17 + 60 = 05-16, and the later extension does not count yet.
    assert seen["handle_due"] == D("2026-05-16")


def test_an_extension_counts_only_from_the_day_it_was_granted():
    # Accepted 03-10: + 21 = 03-31, + 30 = 04-30 (51 days), + 9 = 05-09 (60 days).
    assert as_of("2026-03-20", LIFE)["handle_due"] == D("2026-05-09")
    assert as_of("2026-04-02", LIFE)["handle_due"] == D("2026-05-19")


def test_an_old_ledger_extension_without_a_date_counts_from_acceptance():
    old = {**LIFE, "extended_at": ""}

    assert as_of("2026-03-20", old)["handle_due"] == D("2026-05-19")


def test_derive_frame_hides_an_evaluation_not_yet_given():
    seen = as_of("2026-05-03", LIFE)

    assert seen["status"] == "已办结"
    assert seen["evaluation"] == ""
    assert seen["eval_due"] == D("2026-05-08")


def test_derive_frame_without_as_of_sees_everything():
    seen = as_of(None, LIFE)

    assert seen["status"] == "已评价"
    assert seen["evaluation"] == "满意"
    assert seen["unit"] == "广安区"


def test_derive_frame_statuses_match_status_of():
    rows = [
        {"case_id": f"C{i}", **{k: v.isoformat() for k, v in case.items()}}
        for i, case in enumerate(STATES.values())
    ]

    frame = derive_frame(typed_cases(*rows), RULES, TODAY)

    assert list(frame["status"]) == list(STATES)
