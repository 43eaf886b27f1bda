"""The figures of SPEC §5 — 三率, league table, bureau totals — as of a date. Pure pandas.

Everything here takes a typed cases frame (:meth:`lib.schema.Sheet.typed_frame`) and a date
``as_of``; only dates ``<= as_of`` exist (:func:`lib.workflow.derive_frame` masks the rest).
Nothing reads the clock and nothing loops over cases: per-case measures are vectorised
comparisons, and every table is one ``groupby`` over (period, unit).

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
from typing import Any

import numpy as np
import pandas as pd

from lib import workflow
from lib.i18n import DomainError, register_messages, t

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


def _day(value: Any) -> pd.Timestamp:
    """A date-like value as a midnight Timestamp (naive)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def _dates(frame: pd.DataFrame | None, column: str) -> pd.Series:
    if frame is None or column not in frame:
        return pd.Series([], dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce")


def _text(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as a numpy object array, '' for missing (fast to compare and hash)."""
    if column not in frame:
        return np.full(len(frame), "", dtype=object)
    col = frame[column]
    values = col.to_numpy(dtype=object, na_value="") if col.dtype != object else col.to_numpy()
    if col.dtype == object and col.isna().any():
        values = np.where(pd.isna(values), "", values)
    return values


def _check_freq(freq: str | None) -> str | None:
    if freq is None:
        return None
    f = str(freq).upper()
    if f not in FREQS:
        raise DomainError("err.report_freq", freq=freq)
    return f


def _period_codes(received: pd.Series, freq: str) -> pd.Series:
    """An integer code per case that orders and identifies its period."""
    if freq == "M":
        return received.dt.year * 12 + received.dt.month - 1
    if freq == "Q":
        return received.dt.year * 4 + (received.dt.month - 1) // 3
    # Weeks: days since the epoch of the week's Monday (1970-01-05 was a Monday).
    days = (received.values.astype("datetime64[D]").astype("int64") - 4) // 7 * 7 + 4
    return pd.Series(days, index=received.index)


def _period_label(code: int, freq: str) -> str:
    if freq == "M":
        return f"{code // 12:04d}-{code % 12 + 1:02d}"
    if freq == "Q":
        return f"{code // 4:04d}-Q{code % 4 + 1}"
    monday = dt.date(1970, 1, 1) + dt.timedelta(days=int(code))
    year, week, _ = monday.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_labels(date_from: Any, date_to: Any, freq: str) -> list[str]:
    """Every period label that meets ``[date_from, date_to]``, in order."""
    f = _check_freq(freq)
    assert f is not None
    days = pd.Series(pd.date_range(_day(date_from), _day(date_to), freq="D"))
    if days.empty:
        return []
    codes = _period_codes(days, f).unique()
    return [_period_label(int(c), f) for c in codes]


# --- per case -------------------------------------------------------------------------------


def case_measures(
    cases: pd.DataFrame, rules: workflow.Rules, as_of: dt.date | pd.Timestamp | str
) -> pd.DataFrame:
    """Every per-case measure of SPEC §5 as of ``as_of`` (same index as ``cases``).

    Columns: ``unit_asof`` ('' when not assigned as of ``as_of``), ``status_asof``,
    ``accept_due`` / ``handle_due`` / ``eval_due`` (as they stood), the booleans
    ``accept_on_time``, ``accept_late`` (both False: not yet decidable), ``handle_on_time``,
    ``handle_late`` (rejected cases: both False), ``evaluated``, ``satisfied`` (满意 or
    基本满意), ``unsatisfied``, ``eval_window_over`` (concluded, unevaluated, window ended before
    ``as_of``), ``pending_accept``, ``in_progress``, ``overdue_accept``, ``overdue_handle``,
    ``overdue`` (either), ``concluded``, ``due_soon`` (open, not overdue, current deadline
    within ``rules.due_soon_days``); ``current_due`` (accept_due while awaiting acceptance,
    handle_due while in progress, else NaT) and ``days_overdue`` (``as_of - current_due`` in
    calendar days for overdue open cases, else 0).
    """
    asof = _day(as_of)
    d = workflow.derive_frame(cases, rules, asof)
    assigned = d["assigned_at"].notna()
    accepted = d["accepted_at"].notna()
    rejected = d["rejected_at"].notna()
    concluded = d["concluded_at"].notna()
    evaluated = d["evaluated_at"].notna()
    accept_due, handle_due = d["accept_due"], d["handle_due"]

    # Acceptance ends with a notice either way: acceptance or non-acceptance.
    decided_at = d["accepted_at"].fillna(d["rejected_at"])
    undecided = decided_at.isna()
    accept_on_time = assigned & (decided_at <= accept_due)
    accept_late = assigned & ((decided_at > accept_due) | (undecided & (asof > accept_due)))

    handled = assigned & ~rejected
    handle_on_time = handled & (d["concluded_at"] <= handle_due)
    handle_late = handled & ((d["concluded_at"] > handle_due) | (~concluded & (asof > handle_due)))

    evaluation = pd.Series(_text(d, "evaluation"), index=d.index, dtype=object)
    satisfied = evaluated & evaluation.isin(SATISFIED_VALUES)
    unsatisfied = evaluated & (evaluation == "不满意")
    eval_window_over = concluded & ~evaluated & (d["eval_due"] < asof)

    pending_accept = assigned & undecided
    in_progress = accepted & ~concluded & ~rejected
    overdue_accept = pending_accept & (asof > accept_due)
    overdue_handle = (pending_accept | in_progress) & (asof > handle_due)
    overdue = overdue_accept | overdue_handle
    current_due = accept_due.where(pending_accept, handle_due.where(in_progress))
    left = (current_due - asof).dt.days
    days_overdue = (-left).where(overdue, 0).fillna(0).astype("int64")
    due_soon = (pending_accept | in_progress) & ~overdue & left.between(0, rules.due_soon_days)

    return pd.DataFrame(
        {
            "unit_asof": pd.Series(_text(d, "unit"), index=d.index, dtype=object),
            "status_asof": d["status"],
            "accept_due": accept_due,
            "handle_due": handle_due,
            "eval_due": d["eval_due"],
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
            "days_overdue": days_overdue,
            "evaluation_asof": evaluation.where(evaluated, "").astype(object),
        },
        index=cases.index,
    )


# --- aggregation ----------------------------------------------------------------------------

# Count column -> the per-case measure it sums ("" = every case counts 1).
_COUNTS: tuple[tuple[str, str], ...] = (
    ("案件数", ""),
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


def _cohort(
    cases: pd.DataFrame, date_from: Any, date_to: Any, as_of: Any
) -> tuple[pd.DataFrame, pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    start, end = _day(date_from), _day(date_to)
    if start > end:
        raise DomainError(
            "err.report_range", date_from=start.date().isoformat(), date_to=end.date().isoformat()
        )
    asof = end if as_of is None else _day(as_of)
    received = pd.to_datetime(cases["received_at"])
    keep = (received >= start) & (received <= end) & (received <= asof)
    return cases.loc[keep], start, end, asof


def _per_case_counts(
    sub: pd.DataFrame,
    cases: pd.DataFrame,
    instructions: pd.DataFrame | None,
    supervisions: pd.DataFrame | None,
    rules: workflow.Rules,
    asof: pd.Timestamp,
) -> pd.DataFrame:
    """One row per cohort case: its unit, the repeat's unit, and 0/1 (or n) per count."""
    m = case_measures(sub, rules, asof)
    data: dict[str, Any] = {}
    for name, measure in _COUNTS:
        data[name] = np.ones(len(sub), dtype="int64") if not measure else m[measure].to_numpy()
    evaluation = m["evaluation_asof"].to_numpy(dtype=object)
    data["满意"] = evaluation == "满意"
    data["基本满意"] = evaluation == "基本满意"

    ids = _text(sub, "case_id")
    if instructions is not None and len(instructions):
        seen = _text(instructions, "case_id")[(_dates(instructions, "date") <= asof).to_numpy()]
        data["批示件数"] = pd.Index(ids).isin(seen)
    else:
        data["批示件数"] = np.zeros(len(sub), dtype=bool)
    if supervisions is not None and len(supervisions):
        on = _text(supervisions, "case_id")[(_dates(supervisions, "date") <= asof).to_numpy()]
        per_case = pd.Series(on).value_counts()
        pos = per_case.index.get_indexer(ids)
        data["督办次数"] = np.where(pos >= 0, per_case.to_numpy()[pos], 0)
    else:
        data["督办次数"] = np.zeros(len(sub), dtype="int64")

    counts = pd.DataFrame(data, index=sub.index).astype("int64")
    own_unit = m["unit_asof"].to_numpy(dtype=object)
    counts[UNIT] = pd.Series(own_unit, index=sub.index, dtype=object)

    # Repeats count in the original case's unit as of as_of (SPEC §7).
    repeat_of = _text(sub, "repeat_of")
    is_repeat = repeat_of != ""
    counts["重复件数"] = is_repeat.astype("int64")
    repeat_unit = np.full(len(sub), "", dtype=object)
    if is_repeat.any():
        assigned = (pd.to_datetime(cases["assigned_at"]) <= asof).to_numpy()
        orig_unit = np.where(assigned, _text(cases, "unit"), "")
        pos = pd.Index(_text(cases, "case_id")).get_indexer_for(repeat_of[is_repeat])
        found = pos >= 0
        # A dangling reference keeps the repeat in its own unit.
        repeat_unit[is_repeat] = np.where(
            found, orig_unit[np.where(found, pos, 0)], own_unit[is_repeat]
        )
    counts["_repeat_unit"] = pd.Series(repeat_unit, index=sub.index, dtype=object)
    return counts


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


def _empty(columns: tuple[str, ...], freq: str | None) -> pd.DataFrame:
    cols = ((PERIOD,) if freq else ()) + columns
    out = pd.DataFrame({c: pd.Series([], dtype="int64") for c in cols})
    for c in cols:
        if c in RATE_COLUMNS:
            out[c] = out[c].astype("float64")
        elif c in (PERIOD, UNIT):
            out[c] = out[c].astype(object)
        elif c == "排名":
            out[c] = out[c].astype("Int64")
    return out


def _labelled_periods(sub: pd.DataFrame, freq: str | None) -> pd.Series:
    if not freq:
        return pd.Series(0, index=sub.index)
    return _period_codes(pd.to_datetime(sub["received_at"]), freq)


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
    sub, _, _, asof = _cohort(cases, date_from, date_to, as_of)
    if sub.empty:
        return _empty(LEAGUE_COLUMNS, f)
    counts = _per_case_counts(sub, cases, instructions, supervisions, rules, asof)
    counts["_period"] = _labelled_periods(sub, f).to_numpy()

    value_cols = [
        c for c in counts.columns if c not in (UNIT, "_repeat_unit", "_period", "重复件数")
    ]
    main = counts.groupby(["_period", UNIT], sort=False)[value_cols].sum()
    reps = counts.loc[counts["重复件数"] > 0]
    repeats = reps.groupby(["_period", "_repeat_unit"], sort=False).size().rename("重复件数")
    repeats.index.names = ["_period", UNIT]
    table = main.join(repeats, how="outer").fillna(0).astype("int64").reset_index()
    table = _add_rates(table)

    unassigned = table[UNIT] == ""
    table.loc[unassigned, list(RATE_COLUMNS)] = np.nan
    # Round before ranking so scores equal up to float noise (a+b+c vs b+c+a) tie.
    scored = table["综合得分"].round(12)
    table["排名"] = scored.groupby(table["_period"]).rank(method="min", ascending=False)
    table["排名"] = table["排名"].astype("Int64")
    table[UNIT] = table[UNIT].where(~unassigned, UNASSIGNED).astype(object)

    table["_last"] = unassigned
    table["_norank"] = table["排名"].isna()
    table = table.sort_values(
        ["_period", "_last", "_norank", "排名", UNIT], kind="stable", na_position="last"
    )
    cols = list(LEAGUE_COLUMNS)
    if f:
        table[PERIOD] = table["_period"].map(lambda c: _period_label(int(c), f)).astype(object)
        cols = [PERIOD, *cols]
    return table[cols].reset_index(drop=True)


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
    cases (unassigned cases have no rate events, so the rates are over assigned cases). With
    ``freq`` one row per period that has cases, with a leading 期间. An empty cohort gives one
    row of zeros and NaN rates (no ``freq``) or no rows (with ``freq``).
    """
    f = _check_freq(freq)
    sub, _, _, asof = _cohort(cases, date_from, date_to, as_of)
    if sub.empty and f:
        return _empty(SUMMARY_COLUMNS, f)
    counts = _per_case_counts(sub, cases, instructions, supervisions, rules, asof)
    counts["已交办数"] = (counts[UNIT] != "").astype("int64")
    counts["未交办数"] = (counts[UNIT] == "").astype("int64")
    counts["_period"] = _labelled_periods(sub, f).to_numpy()
    value_cols = [c for c in counts.columns if c not in (UNIT, "_repeat_unit", "_period")]
    table = counts.groupby("_period", sort=True)[value_cols].sum()
    if table.empty:
        table = pd.DataFrame(0, index=pd.Index([0], name="_period"), columns=value_cols)
    table = _add_rates(table.astype("int64").reset_index())
    cols = list(SUMMARY_COLUMNS)
    if f:
        table[PERIOD] = table["_period"].map(lambda c: _period_label(int(c), f)).astype(object)
        cols = [PERIOD, *cols]
    return table[cols].reset_index(drop=True)


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
    out = table.set_index(PERIOD).reindex(labels)
    out["案件数"] = out["案件数"].fillna(0).astype("int64")
    out.index.name = PERIOD
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
