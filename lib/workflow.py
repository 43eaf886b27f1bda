"""Workflow rules: statuses, deadlines and the order of dates (SPEC §3–4). Pure, no I/O.

Time always comes in as an argument (``today``, ``as_of``); nothing here reads the clock.
Deadlines are counted in calendar days by default, or in working days on the official PRC
holiday and make-up working-day calendar (``chinesecalendar``), with a clear error for years
the calendar does not cover.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lib.i18n import DomainError
from lib.reuse import reuse
from lib.schema import FieldError, Sheet, default_schema

STATUSES = ("待交办", "已交办", "办理中", "已办结", "已评价", "不予受理")
OPEN_STATUSES = ("已交办", "办理中")
CALENDAR, WORKING = "calendar", "working"


@dataclass(frozen=True)
class Rules:
    """The deadline settings (SPEC §4 defaults; an administrator may change them)."""

    accept_days: int = 15
    accept_day_kind: str = CALENDAR
    handle_days: int = 60
    handle_day_kind: str = CALENDAR
    max_extension_days: int = 30
    object_working_days: int = 5
    evaluation_days: int = 7
    evaluation_day_kind: str = CALENDAR
    due_soon_days: int = 3

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Rules:
        """Build from a settings mapping (text values); unknown keys are ignored."""
        kwargs: dict[str, Any] = {}
        for name, fdef in cls.__dataclass_fields__.items():
            if name not in settings or settings[name] in (None, ""):
                continue
            value = settings[name]
            try:
                if fdef.type == "int":
                    kwargs[name] = int(str(value).strip())
                    if kwargs[name] < 0:
                        raise ValueError
                else:
                    kwargs[name] = str(value).strip()
                    if name.endswith("_kind") and kwargs[name] not in (CALENDAR, WORKING):
                        raise ValueError
            except ValueError:
                raise DomainError("err.setting", key=name, value=value) from None
        return cls(**kwargs)


# --- the working-day calendar -------------------------------------------------------------


@functools.cache
def _calendar() -> tuple[np.ndarray, int, int]:
    """All working days of the covered years (sorted datetime64[D]) and the covered years."""
    import chinese_calendar as cc

    years = sorted({d.year for d in cc.holidays})
    first, last = years[0], years[-1]
    days = pd.date_range(dt.date(first, 1, 1), dt.date(last, 12, 31), freq="D")
    weekday = days.day_of_week < 5
    hol = days.isin(pd.to_datetime(list(cc.holidays)))
    extra = days.isin(pd.to_datetime(list(cc.workdays)))
    work = days[(weekday & ~hol) | extra]
    return work.values.astype("datetime64[D]"), first, last


def calendar_years() -> tuple[int, int]:
    """The first and last year the holiday calendar covers."""
    _, first, last = _calendar()
    return first, last


def _uncovered(year: int) -> DomainError:
    first, last = calendar_years()
    return DomainError("err.calendar_year", year=year, first=first, last=last)


def is_working_day(day: dt.date) -> bool:
    """True on an official working day (weekdays minus holidays plus make-up days)."""
    work, first, last = _calendar()
    if not first <= day.year <= last:
        raise _uncovered(day.year)
    i = np.searchsorted(work, np.datetime64(day, "D"))
    return bool(i < len(work) and work[i] == np.datetime64(day, "D"))


def add_days(start: dt.date, n: int, kind: str = CALENDAR) -> dt.date:
    """The due date ``n`` days after ``start``.

    Calendar days: ``start + n``. Working days: the n-th working day after ``start`` (the
    start day itself is day 0, whatever it is).
    """
    if kind == CALENDAR:
        return start + dt.timedelta(days=int(n))
    work, first, last = _calendar()
    if start.year < first or start.year > last:
        raise _uncovered(start.year)
    if n <= 0:
        return start
    i = int(np.searchsorted(work, np.datetime64(start, "D"), side="right")) + int(n) - 1
    if i >= len(work):
        raise _uncovered(last + 1)
    return pd.Timestamp(work[i]).date()


def add_days_series(start: pd.Series, n: pd.Series | int, kind: str = CALENDAR) -> pd.Series:
    """Vectorised :func:`add_days` over a datetime64 Series (NaT stays NaT)."""
    start = pd.to_datetime(start)
    n_series = n if isinstance(n, pd.Series) else pd.Series(n, index=start.index)
    n_series = n_series.fillna(0).astype("int64")
    if kind == CALENDAR:
        return start + pd.to_timedelta(n_series, unit="D")
    work, first, last = _calendar()
    valid = start.notna()
    out = pd.Series(pd.NaT, index=start.index, dtype="datetime64[ns]")
    if not valid.any():
        return out
    s = start[valid].values.astype("datetime64[D]")
    years = start[valid].dt.year
    if years.min() < first or years.max() > last:
        bad = int(years.min()) if years.min() < first else int(years.max())
        raise _uncovered(bad)
    k = n_series[valid].to_numpy()
    idx = np.searchsorted(work, s, side="right") + k - 1
    if (idx >= len(work)).any():
        raise _uncovered(last + 1)
    due = np.where(k > 0, work[np.clip(idx, 0, len(work) - 1)], s)
    out[valid] = pd.to_datetime(due)
    return out


# --- derived fields -----------------------------------------------------------------------


def status_of(case: Mapping[str, Any]) -> str:
    """The status a case's dates imply (SPEC §3)."""
    if case.get("rejected_at"):
        return "不予受理"
    if case.get("evaluated_at"):
        return "已评价"
    if case.get("concluded_at"):
        return "已办结"
    if case.get("accepted_at"):
        return "办理中"
    if case.get("assigned_at"):
        return "已交办"
    return "待交办"


def deadlines(case: Mapping[str, Any], rules: Rules) -> tuple[dt.date | None, dt.date | None]:
    """``(accept_due, handle_due)`` of a case with typed dates (SPEC §4)."""
    assigned = case.get("assigned_at")
    if not assigned:
        return None, None
    accept_due = add_days(assigned, rules.accept_days, rules.accept_day_kind)
    ext = int(case.get("extension_days") or 0)
    start = case.get("accepted_at") or accept_due
    handle_due = add_days(start, rules.handle_days + ext, rules.handle_day_kind)
    return accept_due, handle_due


def derive(case: Mapping[str, Any], rules: Rules) -> dict[str, Any]:
    """The derived fields ``status``, ``accept_due`` and ``handle_due`` of a typed case."""
    accept_due, handle_due = deadlines(case, rules)
    return {"status": status_of(case), "accept_due": accept_due, "handle_due": handle_due}


def objection_due(assigned_at: dt.date, rules: Rules) -> dt.date:
    """The last day a unit may return (退回) a case: N working days after assignment."""
    return add_days(assigned_at, rules.object_working_days, WORKING)


def evaluation_due(concluded_at: dt.date, rules: Rules) -> dt.date:
    """The last day of the evaluation window after the reply."""
    return add_days(concluded_at, rules.evaluation_days, rules.evaluation_day_kind)


def derive_frame(cases: pd.DataFrame, rules: Rules, as_of: dt.date | None = None) -> pd.DataFrame:
    """Vectorised derived fields for a typed cases frame, as they stood on ``as_of``.

    Every date after ``as_of`` is treated as not existing yet (SPEC §5), and an extension
    counts only from its ``extended_at`` date. Returns a frame (same index) with the masked
    dates plus ``status``, ``accept_due``, ``handle_due`` and ``eval_due``.
    """
    limit = pd.Timestamp(as_of) if as_of is not None else None
    return reuse(
        "workflow.derive_frame", (cases, rules), limit, lambda: _derive(cases, rules, limit)
    )


def _derive(cases: pd.DataFrame, rules: Rules, limit: pd.Timestamp | None) -> pd.DataFrame:
    dates = [
        "received_at",
        "assigned_at",
        "accepted_at",
        "rejected_at",
        "concluded_at",
        "evaluated_at",
        "extended_at",
        "meet_accept",
        "meet_handle",
        "meet_reply",
    ]
    out = pd.DataFrame(index=cases.index)
    for c in dates:
        col = pd.to_datetime(cases[c]) if c in cases else pd.Series(pd.NaT, index=cases.index)
        out[c] = col.where(col <= limit) if limit is not None else col
    ext = cases["extension_days"].fillna(0).astype("int64") if "extension_days" in cases else 0
    if isinstance(ext, pd.Series) and "extended_at" in cases:
        # An extension with no recorded date (old ledgers) counts from acceptance.
        granted = out["extended_at"].notna() | (
            cases["extended_at"].isna() & out["accepted_at"].notna()
        )
        ext = ext.where(granted, 0)
    out["evaluation"] = cases["evaluation"].where(out["evaluated_at"].notna(), "")
    out["accept_due"] = add_days_series(
        out["assigned_at"], rules.accept_days, rules.accept_day_kind
    )
    start = out["accepted_at"].fillna(out["accept_due"])
    out["handle_due"] = add_days_series(start, rules.handle_days + ext, rules.handle_day_kind)
    out["eval_due"] = add_days_series(
        out["concluded_at"], rules.evaluation_days, rules.evaluation_day_kind
    )
    status = np.select(
        [
            out["rejected_at"].notna(),
            out["evaluated_at"].notna(),
            out["concluded_at"].notna(),
            out["accepted_at"].notna(),
            out["assigned_at"].notna(),
        ],
        ["不予受理", "已评价", "已办结", "办理中", "已交办"],
        default="待交办",
    )
    out["status"] = pd.Series(status, index=cases.index, dtype=object)
    unit = cases["unit"].fillna("") if "unit" in cases else pd.Series("", index=cases.index)
    out["unit"] = unit.where(out["assigned_at"].notna(), "")
    return out


# --- order of dates -----------------------------------------------------------------------

# (field, must not be before, needs this first)
_ORDER: tuple[tuple[str, str | None, str | None], ...] = (
    ("assigned_at", "received_at", None),
    ("accepted_at", "assigned_at", "assigned_at"),
    ("rejected_at", "assigned_at", "assigned_at"),
    ("extended_at", "accepted_at", "accepted_at"),
    ("concluded_at", "accepted_at", "accepted_at"),
    ("evaluated_at", "concluded_at", "concluded_at"),
    ("meet_accept", "assigned_at", "assigned_at"),
    ("meet_handle", "accepted_at", "accepted_at"),
    ("meet_reply", "accepted_at", "accepted_at"),
    ("returned_at", "received_at", None),
)


def case_errors(
    case: Mapping[str, Any], today: dt.date, sheet: Sheet | None = None
) -> list[FieldError]:
    """What is wrong with the order and presence of a typed case's dates (SPEC §3).

    No date after ``today``; each step on or after the one before it; no step without the
    one it needs; not both accepted and rejected; an evaluation needs its date and a reply.
    """
    sheet = sheet or default_schema()["cases"]

    def lab(k: str) -> str:
        return sheet.field(k).label("zh") if k in sheet.by_key else k

    errors: list[FieldError] = []
    for f in sheet.fields:
        v = case.get(f.key)
        if f.type == "date" and not f.derived and isinstance(v, dt.date) and v > today:
            errors.append(
                FieldError(
                    f.key, v.isoformat(), "err.future", {"label": lab(f.key), "today": today}
                )
            )
    for key, after, needs in _ORDER:
        v = case.get(key)
        if not v:
            continue
        if needs and not case.get(needs):
            errors.append(
                FieldError(key, str(v), "err.needs", {"label": lab(key), "other_label": lab(needs)})
            )
            continue
        other = case.get(after) if after else None
        if other and v < other:
            errors.append(
                FieldError(
                    key,
                    v.isoformat(),
                    "err.order",
                    {"label": lab(key), "other_label": lab(after), "other": other.isoformat()},
                )
            )
    if case.get("accepted_at") and case.get("rejected_at"):
        errors.append(
            FieldError(
                "rejected_at",
                str(case["rejected_at"]),
                "err.exclusive",
                {"label": lab("rejected_at"), "other_label": lab("accepted_at")},
            )
        )
    if case.get("evaluation") and not case.get("evaluated_at"):
        errors.append(
            FieldError(
                "evaluation",
                case["evaluation"],
                "err.needs",
                {"label": lab("evaluation"), "other_label": lab("evaluated_at")},
            )
        )
    if case.get("evaluated_at") and not case.get("evaluation"):
        errors.append(
            FieldError(
                "evaluated_at",
                str(case["evaluated_at"]),
                "err.needs",
                {"label": lab("evaluated_at"), "other_label": lab("evaluation")},
            )
        )
    ext = case.get("extension_days") or 0
    if ext and not case.get("accepted_at"):
        errors.append(
            FieldError(
                "extension_days",
                str(ext),
                "err.needs",
                {"label": lab("extension_days"), "other_label": lab("accepted_at")},
            )
        )
    if case.get("extended_at") and not ext:
        errors.append(
            FieldError(
                "extended_at",
                str(case["extended_at"]),
                "err.needs",
                {"label": lab("extended_at"), "other_label": lab("extension_days")},
            )
        )
    if case.get("repeat_of") and case.get("repeat_of") == case.get("case_id"):
        errors.append(FieldError("repeat_of", case["repeat_of"], "err.repeat_self", {}))
    return errors
