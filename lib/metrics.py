"""The figures of SPEC §5 — 三率, league table, bureau totals — as of a date. Pure pandas.

Everything here takes a typed cases frame (:meth:`lib.schema.Sheet.typed_frame`) and a date
``as_of``; only dates ``<= as_of`` exist (:func:`lib.workflow.derive_frame` masks the rest).
Nothing reads the clock and nothing loops over cases: per-case measures are vectorised numpy
comparisons, and every table is one grouped sum over (period, unit) — a ``bincount`` pass
keyed by both, which is what keeps a 100,000-case year by month well under half a second.

Definitions (SPEC §5), per case as of ``as_of``:

* 及时受理: on time when ``accepted_at`` or ``rejected_at`` ``<= accept_due``; late when that
  date is after ``accept_due``, or neither exists and ``as_of > accept_due``; otherwise not
  decidable (in neither count).
* 按期办结 (rejected cases excluded): on time when ``concluded_at <= handle_due``; late when
  after, or not concluded and ``as_of > handle_due``.
* 群众满意率 = (满意 + 基本满意) / evaluated; 参评率 = evaluated / (evaluated + concluded but
  unevaluated cases whose evaluation window ended before ``as_of``).
* A rate with an empty denominator is NaN (shown "—"), never 0 or 1.
* 综合得分 = mean of the available 三率; 排名 by score descending, ties share the rank (1, 2, 2, 4).

Choices where the SPEC is silent (documented here so pages, CLI and bulletins agree):

* ``as_of`` defaults to ``date_to`` (the report "as it stood at the end of its range"); pages
  pass today explicitly.
* A case's unit is its unit as of ``as_of`` (``''`` when assigned after ``as_of`` or never);
  an earlier reassignment (改派) is not reconstructed — the register keeps only the current one.
* A repeat message (``repeat_of``) adds to 重复件数 of the ORIGINAL case's unit as of ``as_of``
  (SPEC §7) — or of its own unit when the original is not in the frame. Its other measures
  stay with its own unit. A unit whose only link to the cohort is such a repeat still gets a
  row (案件数 0), so the repeat is not lost.
* 逾期总数 counts open overdue *cases*: an unaccepted case past its handling deadline is in
  both 逾期未受理 and 逾期未办结 but only once in 逾期总数.
* Periods (``freq``): ``"W"`` ISO weeks starting Monday, labelled ``"2026-W09"`` (ISO
  week-year); ``"M"`` months ``"2026-03"``; ``"Q"`` quarters ``"2026-Q1"``. A period is the
  part of it inside ``[date_from, date_to]``, so the first and last may be partial.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from lib import workflow
from lib.i18n import DomainError, register_messages, t
from lib.reuse import reuse

UNASSIGNED = "未交办"
PERIOD = "期间"
UNIT = "承办单位"
SATISFIED_VALUES = ("满意", "基本满意")
FREQS = ("W", "M", "Q")

# SPEC §8 report columns, in order.
REPORT_COLUMNS: tuple[str, ...] = (
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
)
# The further counts of SPEC §5, after the report columns.
EXTRA_COLUMNS: tuple[str, ...] = (
    "待受理",
    "办理中",
    "逾期未受理",
    "逾期未办结",
    "逾期总数",
    "办结数",
    "满意",
    "基本满意",
    "不满意",
    "重复件数",
    "批示件数",
    "督办次数",
)
LEAGUE_COLUMNS: tuple[str, ...] = REPORT_COLUMNS + EXTRA_COLUMNS
THREE_RATES: tuple[str, ...] = ("及时受理率", "按期办结率", "群众满意率")
# Float columns holding fractions 0–1 (formatted as percentages in md/xlsx and on pages).
RATE_COLUMNS: tuple[str, ...] = (*THREE_RATES, "参评率", "综合得分")
# The bureau-wide summary: cases received, assigned and not, then the unit measures.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "案件数",
    "已交办数",
    "未交办数",
    *[c for c in LEAGUE_COLUMNS if c not in ("承办单位", "案件数", "排名")],
)
PERIOD_RATE_COLUMNS: tuple[str, ...] = (PERIOD, "案件数", *THREE_RATES, "参评率", "综合得分")

# Column -> English message key, for pages that show the tables in English.
_COLUMN_KEYS: dict[str, tuple[str, str]] = {
    "期间": ("metrics.col.period", "Period"),
    "承办单位": ("metrics.col.unit", "Handling unit"),
    "案件数": ("metrics.col.cases", "Cases"),
    "已交办数": ("metrics.col.assigned", "Assigned"),
    "未交办数": ("metrics.col.unassigned", "Not assigned"),
    "及时受理数": ("metrics.col.accept_on_time", "Accepted on time"),
    "受理超期数": ("metrics.col.accept_late", "Accepted late"),
    "及时受理率": ("metrics.col.accept_rate", "On-time acceptance rate"),
    "按期办结数": ("metrics.col.handle_on_time", "Concluded on time"),
    "办结超期数": ("metrics.col.handle_late", "Concluded late"),
    "按期办结率": ("metrics.col.handle_rate", "On-time conclusion rate"),
    "参评数": ("metrics.col.evaluated", "Evaluated"),
    "满意数": ("metrics.col.satisfied", "Satisfied (incl. basically)"),
    "群众满意率": ("metrics.col.satisfaction_rate", "Satisfaction rate"),
    "参评率": ("metrics.col.evaluation_rate", "Evaluation rate"),
    "综合得分": ("metrics.col.score", "Score"),
    "排名": ("metrics.col.rank", "Rank"),
    "待受理": ("metrics.col.pending_accept", "Awaiting acceptance"),
    "办理中": ("metrics.col.in_progress", "In progress"),
    "逾期未受理": ("metrics.col.overdue_accept", "Overdue for acceptance"),
    "逾期未办结": ("metrics.col.overdue_handle", "Overdue for conclusion"),
    "逾期总数": ("metrics.col.overdue", "Overdue (cases)"),
    "办结数": ("metrics.col.concluded", "Concluded"),
    "满意": ("metrics.col.eval_satisfied", "Satisfied"),
    "基本满意": ("metrics.col.eval_basic", "Basically satisfied"),
    "不满意": ("metrics.col.eval_unsatisfied", "Unsatisfied"),
    "重复件数": ("metrics.col.repeats", "Repeat messages"),
    "批示件数": ("metrics.col.instructed", "With instructions"),
    "督办次数": ("metrics.col.supervisions", "Supervision actions"),
}
register_messages(
    {
        **{key: (zh, en) for zh, (key, en) in _COLUMN_KEYS.items()},
        "err.report_range": (
            "统计区间有误：起始日期 {date_from} 晚于截止日期 {date_to}",
            "Bad report range: {date_from} is after {date_to}",
        ),
        "err.report_freq": (
            "不支持的统计周期“{freq}”（可选：W 周、M 月、Q 季）",
            "Unsupported period “{freq}” (use W, M or Q)",
        ),
    }
)


def column_label(column: str, lang: str = "zh") -> str:
    """The header of a metrics column for people: itself in Chinese, English when ``lang='en'``."""
    entry = _COLUMN_KEYS.get(column)
    return t(entry[0], lang) if entry else column


def localize(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A copy of a metrics table with headers (and the 未交办 row label) in ``lang``."""
    if lang != "en":
        return table
    out = table.rename(columns={c: column_label(c, lang) for c in table.columns})
    unit = column_label(UNIT, lang)
    if unit in out:
        out[unit] = out[unit].replace({UNASSIGNED: t("unassigned", lang)})
    return out


# --- helpers --------------------------------------------------------------------------------

_NS_PER_DAY = 86_400 * 10**9
# The case columns the figures read (a cohort copies only these, not the long texts).
_USED = (
    "case_id",
    "received_at",
    "unit",
    "repeat_of",
    "assigned_at",
    "accepted_at",
    "rejected_at",
    "extension_days",
    "extended_at",
    "concluded_at",
    "evaluation",
    "evaluated_at",
)


def _day(value: Any) -> pd.Timestamp:
    """A date-like value as a midnight Timestamp (naive)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def _dt64(series: pd.Series) -> np.ndarray:
    """A date column as a numpy datetime64[ns] array (NaT when missing)."""
    return pd.to_datetime(series, errors="coerce").to_numpy(dtype="datetime64[ns]")


def _text(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as a numpy object array with '' for missing (fast to compare and hash)."""
    if column not in frame:
        return np.full(len(frame), "", dtype=object)
    values = frame[column].to_numpy(dtype=object)
    missing = pd.isna(values)
    return np.where(missing, "", values) if missing.any() else values


def _fast_text(series: pd.Series) -> np.ndarray:
    """A text column as an object array, skipping the costly missing-value pass when it is
    plain ``object`` (typed frames hold '' for empty text); other dtypes map missing to ''."""
    if series.dtype == object:
        return series.to_numpy()
    return series.to_numpy(dtype=object, na_value="")


def _check_freq(freq: str | None) -> str | None:
    if freq is None:
        return None
    f = str(freq).upper()
    if f not in FREQS:
        raise DomainError("err.report_freq", freq=freq)
    return f


def _period_codes(days: np.ndarray, freq: str | None) -> np.ndarray:
    """An integer per date that orders and identifies its period (0 for no ``freq``).

    Months and quarters count from 1970-01; weeks are the day number of their Monday
    (1970-01-05 was a Monday).
    """
    if not freq:
        return np.zeros(len(days), dtype="int64")
    if freq == "W":
        d = days.astype("datetime64[D]").astype("int64")
        return (d - 4) // 7 * 7 + 4
    months = days.astype("datetime64[M]").astype("int64")
    return months // 3 if freq == "Q" else months


def _period_label(code: int, freq: str) -> str:
    if freq == "M":
        return f"{1970 + code // 12:04d}-{code % 12 + 1:02d}"
    if freq == "Q":
        return f"{1970 + code // 4:04d}-Q{code % 4 + 1}"
    year, week, _ = (dt.date(1970, 1, 1) + dt.timedelta(days=int(code))).isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_labels(
    date_from: dt.date | pd.Timestamp | str, date_to: dt.date | pd.Timestamp | str, freq: str
) -> list[str]:
    """Every period label that meets ``[date_from, date_to]``, in order."""
    f = _check_freq(freq) or "M"
    days = pd.date_range(_day(date_from), _day(date_to), freq="D").to_numpy()
    return [_period_label(int(c), f) for c in np.unique(_period_codes(days, f))]


# --- per case -------------------------------------------------------------------------------


def case_measures(
    cases: pd.DataFrame, rules: workflow.Rules, as_of: dt.date | pd.Timestamp | str
) -> pd.DataFrame:
    """Every per-case measure of SPEC §5 as of ``as_of`` (same index as ``cases``).

    Columns: ``unit_asof`` ('' when not assigned as of ``as_of``), ``status_asof``,
    ``evaluation_asof``, ``accept_due`` / ``handle_due`` / ``eval_due`` (as they stood), the
    booleans ``accept_on_time``, ``accept_late`` (both False: not yet decidable),
    ``handle_on_time``, ``handle_late`` (rejected cases: both False), ``evaluated``,
    ``satisfied`` (满意 or 基本满意), ``unsatisfied``, ``eval_window_over`` (concluded,
    unevaluated, window ended before ``as_of``), ``pending_accept``, ``in_progress``,
    ``overdue_accept``, ``overdue_handle``, ``overdue`` (either: one open overdue case),
    ``concluded``, ``due_soon`` (open, not overdue, current deadline within
    ``rules.due_soon_days`` days); ``current_due`` (accept_due while awaiting acceptance,
    handle_due while in progress, else NaT) and ``days_overdue`` (``as_of - current_due`` in
    calendar days for overdue open cases, else 0).
    """
    asof = _day(as_of)
    return reuse(
        "metrics.case_measures", (cases, rules), asof, lambda: _case_measures(cases, rules, asof)
    )


def _case_measures(cases: pd.DataFrame, rules: workflow.Rules, asof: pd.Timestamp) -> pd.DataFrame:
    d = workflow.derive_frame(cases, rules, asof)
    now = asof.to_datetime64().astype("datetime64[ns]")
    # numpy comparisons with NaT are False, which is what every rule below wants.
    assigned_at, accepted_at, rejected_at, concluded_at, evaluated_at = (
        _dt64(d[c])
        for c in ("assigned_at", "accepted_at", "rejected_at", "concluded_at", "evaluated_at")
    )
    accept_due, handle_due, eval_due = (
        _dt64(d[c]) for c in ("accept_due", "handle_due", "eval_due")
    )
    assigned = ~np.isnat(assigned_at)
    accepted = ~np.isnat(accepted_at)
    rejected = ~np.isnat(rejected_at)
    concluded = ~np.isnat(concluded_at)
    evaluated = ~np.isnat(evaluated_at)

    # Acceptance ends with a notice either way: acceptance or non-acceptance.
    decided_at = np.where(accepted, accepted_at, rejected_at)
    undecided = ~(accepted | rejected)
    accept_on_time = assigned & (decided_at <= accept_due)
    accept_late = assigned & ((decided_at > accept_due) | (undecided & (now > accept_due)))

    handled = assigned & ~rejected
    handle_on_time = handled & (concluded_at <= handle_due)
    handle_late = handled & ((concluded_at > handle_due) | (~concluded & (now > handle_due)))

    # derive_frame has already blanked the unit and evaluation as of as_of.
    evaluation = np.where(evaluated, d["evaluation"].to_numpy(dtype=object), "")
    satisfied = evaluated & ((evaluation == "满意") | (evaluation == "基本满意"))
    unsatisfied = evaluated & (evaluation == "不满意")
    eval_window_over = concluded & ~evaluated & (eval_due < now)

    pending_accept = assigned & undecided
    in_progress = accepted & ~concluded & ~rejected
    overdue_accept = pending_accept & (now > accept_due)
    overdue_handle = (pending_accept | in_progress) & (now > handle_due)
    overdue = overdue_accept | overdue_handle
    nat = np.datetime64("NaT", "ns")
    current_due = np.where(pending_accept, accept_due, np.where(in_progress, handle_due, nat))
    has_due = ~np.isnat(current_due)
    left = np.where(has_due, (current_due - now).astype("int64") // _NS_PER_DAY, 0)
    days_overdue = np.where(overdue, -left, 0)
    due_soon = has_due & ~overdue & (left >= 0) & (left <= rules.due_soon_days)

    idx = cases.index
    return pd.DataFrame(
        {
            "unit_asof": pd.Series(d["unit"].to_numpy(dtype=object), index=idx, dtype=object),
            "status_asof": pd.Series(d["status"].to_numpy(dtype=object), index=idx, dtype=object),
            "evaluation_asof": pd.Series(evaluation, index=idx, dtype=object),
            "accept_due": accept_due,
            "handle_due": handle_due,
            "eval_due": eval_due,
            "accept_on_time": accept_on_time,
            "accept_late": accept_late,
            "handle_on_time": handle_on_time,
            "handle_late": handle_late,
            "evaluated": evaluated,
            "satisfied": satisfied,
            "unsatisfied": unsatisfied,
            "eval_window_over": eval_window_over,
            "pending_accept": pending_accept,
            "in_progress": in_progress,
            "overdue_accept": overdue_accept,
            "overdue_handle": overdue_handle,
            "overdue": overdue,
            "concluded": concluded,
            "due_soon": due_soon,
            "current_due": current_due,
            "days_overdue": days_overdue.astype("int64"),
        },
        index=idx,
    )


# --- aggregation ----------------------------------------------------------------------------

# Count column -> the per-case measure it sums.
_COUNTS: tuple[tuple[str, str], ...] = (
    ("及时受理数", "accept_on_time"),
    ("受理超期数", "accept_late"),
    ("按期办结数", "handle_on_time"),
    ("办结超期数", "handle_late"),
    ("参评数", "evaluated"),
    ("满意数", "satisfied"),
    ("_eval_over", "eval_window_over"),
    ("待受理", "pending_accept"),
    ("办理中", "in_progress"),
    ("逾期未受理", "overdue_accept"),
    ("逾期未办结", "overdue_handle"),
    ("逾期总数", "overdue"),
    ("办结数", "concluded"),
    ("不满意", "unsatisfied"),
)


@dataclass
class _Cohort:
    """The cohort's per-case counts, ready to be summed by (period, unit)."""

    period: np.ndarray  # int64 period code per case
    unit: np.ndarray  # object: unit as of as_of ('' = not assigned)
    repeat_unit: np.ndarray  # object: unit a repeat counts in (only where is_repeat)
    is_repeat: np.ndarray  # bool
    values: dict[str, np.ndarray]  # count column -> int64 per case


def _cohort(
    cases: pd.DataFrame,
    instructions: pd.DataFrame | None,
    supervisions: pd.DataFrame | None,
    rules: workflow.Rules,
    date_from: Any,
    date_to: Any,
    as_of: Any,
    freq: str | None,
) -> _Cohort:
    """Select the cohort and compute every per-case count of it, vectorised."""
    start, end = _day(date_from), _day(date_to)
    if start > end:
        raise DomainError(
            "err.report_range", date_from=start.date().isoformat(), date_to=end.date().isoformat()
        )
    asof = end if as_of is None else _day(as_of)
    return reuse(
        "metrics._cohort",
        (cases, instructions, supervisions, rules),
        (start, end, asof, freq),
        lambda: _cohort_of(cases, instructions, supervisions, rules, start, end, asof, freq),
    )


def _cohort_rows(
    cases: pd.DataFrame, rules: workflow.Rules, start: pd.Timestamp, end: pd.Timestamp, asof: Any
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, pd.DataFrame]:
    """The columns the figures use, which rows are in the cohort, those rows, their measures."""
    base = cases[[c for c in _USED if c in cases.columns]]
    for c in ("case_id", "repeat_of", "unit"):
        if c not in base:
            base = base.assign(**{c: ""})
    received = _dt64(base["received_at"])
    last = min(end, asof).to_datetime64()
    keep = (received >= start.to_datetime64()) & (received <= last)
    sub = base.loc[keep] if not keep.all() else base
    if 2 * int(keep.sum()) > len(keep):
        # Most of the register (a year's trend, a page's list): the measures of every case
        # as of this date, which the page's other figures share (lib.reuse), then the rows.
        whole = case_measures(cases, rules, asof)
        return base, keep, sub, whole if len(sub) == len(base) else whole.loc[keep]
    return base, keep, sub, case_measures(sub, rules, asof)


def _cohort_of(
    cases: pd.DataFrame,
    instructions: pd.DataFrame | None,
    supervisions: pd.DataFrame | None,
    rules: workflow.Rules,
    start: pd.Timestamp,
    end: pd.Timestamp,
    asof: pd.Timestamp,
    freq: str | None,
) -> _Cohort:
    # The same rows and measures serve every table of this cohort (with or without the
    # instructions and supervisions, by any period) inside one shared_work block.
    base, keep, sub, m = reuse(
        "metrics._cohort_rows",
        (cases, rules),
        (start, end, asof),
        lambda: _cohort_rows(cases, rules, start, end, asof),
    )
    n = len(sub)
    values: dict[str, np.ndarray] = {"案件数": np.ones(n, dtype="int64")}
    for name, measure in _COUNTS:
        values[name] = m[measure].to_numpy().astype("int64")
    evaluation = m["evaluation_asof"].to_numpy(dtype=object)
    values["满意"] = (evaluation == "满意").astype("int64")
    values["基本满意"] = (evaluation == "基本满意").astype("int64")

    # One hash pass over every case id and every reference to one (instructions,
    # supervisions, repeats). References are never blank; a missing case id (code -1)
    # goes to an extra last slot that nothing references.
    now = asof.to_datetime64()
    all_ids = _fast_text(base["case_id"])
    instr = _refs(instructions, now)
    sups = _refs(supervisions, now)
    repeat_of = _fast_text(sub["repeat_of"])
    is_repeat = repeat_of != ""
    is_repeat[is_repeat] = pd.notna(repeat_of[is_repeat])
    reps = repeat_of[is_repeat]
    codes, uniques = pd.factorize(np.concatenate([all_ids, instr, sups, reps]))
    size = len(uniques)
    codes[codes < 0] = size
    n_all = len(all_ids)
    case_codes = codes[:n_all]
    sub_codes = case_codes[keep] if n != n_all else case_codes
    flagged = np.zeros(size + 1, dtype=bool)
    flagged[codes[n_all : n_all + len(instr)]] = True
    values["批示件数"] = flagged[sub_codes].astype("int64")
    sup_codes = codes[n_all + len(instr) : n_all + len(instr) + len(sups)]
    values["督办次数"] = np.bincount(sup_codes, minlength=size + 1)[sub_codes].astype("int64")

    unit = m["unit_asof"].to_numpy(dtype=object)
    repeat_unit = np.full(n, "", dtype=object)
    if len(reps):
        # Repeats count in the original case's unit as of as_of (SPEC §7).
        rep_codes = codes[n_all + len(instr) + len(sups) :]
        assigned = _dt64(base["assigned_at"]) <= now
        original_unit = np.where(assigned, _text(base, "unit"), "")
        # The first row of each id wins (duplicate ids are a data error that `check` reports).
        first_codes, first_rows = np.unique(case_codes, return_index=True)
        row_of = np.full(size + 1, -1, dtype="int64")
        row_of[first_codes] = first_rows
        row_of[size] = -1
        rows = row_of[rep_codes]
        found = rows >= 0
        # A dangling reference keeps the repeat in its own unit.
        repeat_unit[is_repeat] = np.where(
            found, original_unit[np.where(found, rows, 0)], unit[is_repeat]
        )
    return _Cohort(
        period=_period_codes(_dt64(sub["received_at"]), freq),
        unit=unit,
        repeat_unit=repeat_unit,
        is_repeat=is_repeat,
        values=values,
    )


def _refs(frame: pd.DataFrame | None, now: np.datetime64) -> np.ndarray:
    """The case ids of the rows of an instructions/supervisions frame dated ``<= as_of``."""
    if frame is None or len(frame) == 0 or "case_id" not in frame:
        return np.array([], dtype=object)
    dated = _dt64(frame["date"]) <= now if "date" in frame else np.ones(len(frame), bool)
    ids = _text(frame, "case_id")[dated]
    return ids[ids != ""]


def _sum_by(co: _Cohort, by_unit: bool) -> pd.DataFrame:
    """Sum the cohort's counts by (period, unit) — or by period — in one bincount pass.

    Returns columns ``_period``, ``承办单位`` ('' for not assigned) and the counts; a group
    exists when it has a case or a repeat counted in it.
    """
    p_codes, p_values = pd.factorize(co.period, sort=True)
    if by_unit:
        u_codes, u_values = pd.factorize(np.concatenate([co.unit, co.repeat_unit[co.is_repeat]]))
        own, rep = u_codes[: len(co.unit)], u_codes[len(co.unit) :]
    else:
        u_values = np.array([""], dtype=object)
        own = np.zeros(len(co.unit), dtype="int64")
        rep = np.zeros(int(co.is_repeat.sum()), dtype="int64")
    n_units = len(u_values)
    size = len(p_values) * n_units
    key = p_codes * n_units + own
    sums = {c: np.bincount(key, weights=v, minlength=size) for c, v in co.values.items()}
    sums["重复件数"] = np.bincount(p_codes[co.is_repeat] * n_units + rep, minlength=size)
    present = (sums["案件数"] > 0) | (sums["重复件数"] > 0)
    groups = np.flatnonzero(present)
    out = pd.DataFrame({c: v[groups].astype("int64") for c, v in sums.items()})
    out.insert(0, "_period", np.asarray(p_values, dtype="int64")[groups // n_units])
    out.insert(
        1, UNIT, pd.Series(np.asarray(u_values, dtype=object)[groups % n_units], dtype=object)
    )
    return out


def _add_rates(table: pd.DataFrame) -> pd.DataFrame:
    def ratio(num: str, den: pd.Series) -> pd.Series:
        den = den.astype("float64")
        return table[num].astype("float64") / den.where(den > 0)

    table["及时受理率"] = ratio("及时受理数", table["及时受理数"] + table["受理超期数"])
    table["按期办结率"] = ratio("按期办结数", table["按期办结数"] + table["办结超期数"])
    table["群众满意率"] = ratio("满意数", table["参评数"])
    table["参评率"] = ratio("参评数", table["参评数"] + table["_eval_over"])
    table["综合得分"] = table[list(THREE_RATES)].mean(axis=1, skipna=True)
    return table


def _with_period(table: pd.DataFrame, freq: str | None, columns: tuple[str, ...]) -> pd.DataFrame:
    cols = list(columns)
    if freq:
        labels = {c: _period_label(int(c), freq) for c in table["_period"].unique()}
        table[PERIOD] = pd.Series(
            [labels[c] for c in table["_period"]], index=table.index, dtype=object
        )
        cols = [PERIOD, *cols]
    return table[cols].reset_index(drop=True)


def _empty(columns: tuple[str, ...], freq: str | None) -> pd.DataFrame:
    cols = ((PERIOD,) if freq else ()) + columns
    out = pd.DataFrame(index=pd.RangeIndex(0))
    for c in cols:
        if c in RATE_COLUMNS:
            out[c] = pd.Series([], dtype="float64")
        elif c in (PERIOD, UNIT):
            out[c] = pd.Series([], dtype=object)
        elif c == "排名":
            out[c] = pd.Series([], dtype="Int64")
        else:
            out[c] = pd.Series([], dtype="int64")
    return out


def league_table(
    cases: pd.DataFrame,
    instructions: pd.DataFrame | None,
    supervisions: pd.DataFrame | None,
    rules: workflow.Rules,
    *,
    date_from: dt.date | pd.Timestamp | str,
    date_to: dt.date | pd.Timestamp | str,
    as_of: dt.date | pd.Timestamp | str | None = None,
    freq: str | None = None,
) -> pd.DataFrame:
    """The SPEC §5/§8 league table of units for the cases received in ``[date_from, date_to]``.

    ``as_of`` defaults to ``date_to``; cases received after ``as_of`` are not in the cohort.
    One row per unit (as of ``as_of``) with a case in the cohort, then a row 未交办 for cases
    not assigned as of ``as_of`` (counts only: rates, score and rank empty). Columns are
    :data:`LEAGUE_COLUMNS`: the §8 report columns in order, then the further §5 counts. Rates
    are floats 0–1 at full precision, NaN when the denominator is empty; 排名 is ``Int64``
    (ties share the smallest rank, no score → no rank). Rows sort by rank, then unit name.

    With ``freq`` ("W", "M" or "Q") the cohort is split by ``received_at`` into periods and the
    table gets a leading column 期间; each period is ranked on its own. ``instructions`` and
    ``supervisions`` may be ``None`` (no 批示件数 / 督办次数).
    """
    f = _check_freq(freq)
    co = _cohort(cases, instructions, supervisions, rules, date_from, date_to, as_of, f)
    table = _sum_by(co, by_unit=True)
    if table.empty:
        return _empty(LEAGUE_COLUMNS, f)
    table = _add_rates(table)
    unassigned = (table[UNIT] == "").to_numpy()
    table.loc[unassigned, list(RATE_COLUMNS)] = np.nan
    # Round before ranking so scores equal up to float noise (a+b+c vs b+c+a) tie.
    scored = table["综合得分"].round(12)
    table["排名"] = scored.groupby(table["_period"]).rank(method="min", ascending=False)
    table["排名"] = table["排名"].astype("Int64")
    table[UNIT] = table[UNIT].where(~unassigned, UNASSIGNED)
    table["_last"] = unassigned
    table["_norank"] = table["排名"].isna()
    table = table.sort_values(["_period", "_last", "_norank", "排名", UNIT], kind="stable")
    return _with_period(table, f, LEAGUE_COLUMNS)


def summary(
    cases: pd.DataFrame,
    instructions: pd.DataFrame | None,
    supervisions: pd.DataFrame | None,
    rules: workflow.Rules,
    *,
    date_from: dt.date | pd.Timestamp | str,
    date_to: dt.date | pd.Timestamp | str,
    as_of: dt.date | pd.Timestamp | str | None = None,
    freq: str | None = None,
) -> pd.DataFrame:
    """The bureau-wide totals for the same cohort as :func:`league_table` (one row).

    Columns :data:`SUMMARY_COLUMNS`: 案件数 = every case received in the cohort, 已交办数 /
    未交办数 = assigned or not as of ``as_of``, then the league-table counts and rates over all
    of them (unassigned cases have no rate events, so the rates are those of the assigned
    cases); 重复件数 counts every repeat message in the cohort. With ``freq``: one row per
    period that has cases, after a leading 期间. An empty cohort gives one row of zeros and NaN
    rates (no ``freq``) or no rows (with ``freq``).
    """
    f = _check_freq(freq)
    co = _cohort(cases, instructions, supervisions, rules, date_from, date_to, as_of, f)
    values = {
        **co.values,
        "已交办数": (co.unit != "").astype("int64"),
        "未交办数": (co.unit == "").astype("int64"),
    }
    co = replace(co, values=values)  # the cohort may be shared: never changed
    table = _sum_by(co, by_unit=False)
    if table.empty:
        if f:
            return _empty(SUMMARY_COLUMNS, f)
        table = pd.DataFrame({c: [0] for c in table.columns})
    return _with_period(_add_rates(table), f, SUMMARY_COLUMNS)


def rates_by_period(
    cases: pd.DataFrame,
    rules: workflow.Rules,
    *,
    date_from: dt.date | pd.Timestamp | str,
    date_to: dt.date | pd.Timestamp | str,
    as_of: dt.date | pd.Timestamp | str | None = None,
    freq: str = "M",
) -> pd.DataFrame:
    """The three rates, 参评率 and 综合得分 per period for all units together (a line chart).

    One row per period meeting ``[date_from, date_to]`` — periods without cases included,
    with 案件数 0 and NaN rates — columns :data:`PERIOD_RATE_COLUMNS`.
    """
    f = _check_freq(freq) or "M"
    table = summary(
        cases, None, None, rules, date_from=date_from, date_to=date_to, as_of=as_of, freq=f
    )
    labels = period_labels(date_from, date_to, f)
    out = table.set_index(PERIOD).reindex(pd.Index(labels, dtype=object, name=PERIOD))
    out["案件数"] = out["案件数"].fillna(0).astype("int64")
    return out.reset_index()[list(PERIOD_RATE_COLUMNS)]


__all__ = [
    "EXTRA_COLUMNS",
    "FREQS",
    "LEAGUE_COLUMNS",
    "PERIOD",
    "PERIOD_RATE_COLUMNS",
    "RATE_COLUMNS",
    "REPORT_COLUMNS",
    "SUMMARY_COLUMNS",
    "THREE_RATES",
    "UNASSIGNED",
    "UNIT",
    "case_measures",
    "column_label",
    "league_table",
    "localize",
    "period_labels",
    "rates_by_period",
    "summary",
]
