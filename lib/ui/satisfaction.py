"""满意度分析 helpers: the period chosen, each chart with its data, and the cases a click picks.

Every chart comes from :mod:`lib.charts` (drawn with ``selectable=True``), over the cohort of
:func:`lib.metrics.league_table`: messages received in ``[start, end]``, evaluations as of
today. A click on a chart selects values of the chart's fields (:data:`lib.charts.SELECTION`);
:func:`picked_cases` turns that selection into the matching cases of the cohort, measured the
same way as the chart (unit and evaluation as of the same day), so the table under a bar holds
exactly the bar's cases. The table draws the latest :data:`MAX_SHOWN` of them and says so;
the export holds them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from lib import charts, metrics
from lib.i18n import t
from lib.register import RegisterData
from lib.reports import write_report
from lib.ui import (
    messages_oversight,  # noqa: F401  (registers the page's strings)
    tables,
)
from lib.ui.context import Ctx

PRESETS = ("12m", "year", "quarter", "month", "custom")
FREQS = ("M", "W", "Q")
CHARTS = ("rates", "units", "domain", "type", "volume")
CASE_COLUMNS = (
    "case_id",
    "received_at",
    "unit",
    "region",
    "domain",
    "type",
    "status",
    "evaluation",
    "evaluated_at",
    "title",
)
PRESET_KEY = "sat.preset"
FREQ_KEY = "sat.freq"
FROM_KEY = "sat.from"
TO_KEY = "sat.to"
TABS_KEY = "sat.tabs"
MAX_SHOWN = 1000  # rows drawn in a table of cases (the export holds them all)
ORDER = ("received_at", "case_id")  # the tables' order: received last first (descending)


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The range of a preset, ending today."""
    if preset == "year":
        return dt.date(today.year, 1, 1), today
    if preset == "quarter":
        return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if preset == "month":
        return today.replace(day=1), today
    month = today.month - 11
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, 1), today


@dataclass
class ChartView:
    """One chart: its data (the CSV offered), the chart, and how to filter cases by a click."""

    key: str
    data: pd.DataFrame
    chart: alt.TopLevelMixin
    population: str  # "cohort" (every case) or "evaluated"
    fields: Mapping[str, str]  # selection field -> case measure column it filters


def cohort_frame(data: RegisterData, start: dt.date, end: dt.date, as_of: dt.date) -> pd.DataFrame:
    """The cohort's cases with the columns the charts group by, measured as of ``as_of``."""
    sub = charts.cohort(data.cases, date_from=start, date_to=end, as_of=as_of)
    keep = [k for k in CASE_COLUMNS if k in sub.columns]
    frame = sub[keep].copy()
    if sub.empty:
        frame["unit_asof"] = pd.Series([], dtype=object)
        frame["evaluation_asof"] = pd.Series([], dtype=object)
        return frame
    m = metrics.case_measures(sub, data.rules, as_of)
    frame["unit_asof"] = m["unit_asof"]
    frame["evaluation_asof"] = m["evaluation_asof"]
    return frame


def period_totals(data: RegisterData, start: dt.date, end: dt.date, as_of: dt.date) -> pd.Series:
    """The period's totals (:func:`lib.metrics.summary` of the cohort, one row)."""
    return metrics.summary(
        data.cases, None, None, data.rules, date_from=start, date_to=end, as_of=as_of
    ).iloc[0]


def period_label(received: pd.Series, freq: str) -> pd.Series:
    """Each date's period label as :mod:`lib.metrics` writes it (2026-03, 2026-Q1, 2026-W09)."""
    d = pd.to_datetime(received)
    if freq == "Q":
        return d.dt.year.astype(str) + "-Q" + d.dt.quarter.astype(str)
    if freq == "W":
        iso = d.dt.isocalendar()
        return iso["year"].astype(str) + "-W" + iso["week"].astype(int).map("{:02d}".format)
    return d.dt.strftime("%Y-%m")


def chart_view(
    key: str,
    data: RegisterData,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    freq: str,
    lang: str,
) -> ChartView:
    """One of the page's charts (:data:`CHARTS`) with its data, for the cohort of
    ``[start, end]`` as of ``as_of``."""
    cases, rules = data.cases, data.rules
    rng = {"date_from": start, "date_to": end, "as_of": as_of}
    ev = charts.EVALUATION
    if key == "rates":
        rates = charts.rates_data(cases, rules, freq=freq, **rng)
        chart = charts.rates_chart(rates, lang, selectable=True)
        return ChartView(key, rates, chart, "cohort", {metrics.PERIOD: "_period"})
    if key == "units":
        units = charts.unit_evaluation_data(
            cases, data.instructions, data.supervisions, rules, **rng
        )
        chart = charts.unit_evaluation_chart(units, lang, selectable=True)
        return ChartView(
            key, units, chart, "evaluated", {metrics.UNIT: "unit_asof", ev: "evaluation_asof"}
        )
    if key in ("domain", "type"):
        frame = charts.field_evaluation_data(cases, rules, key, **rng)
        chart = charts.field_evaluation_chart(frame, lang, selectable=True)
        fields = {charts.FIELD_COLUMNS[key]: key, ev: "evaluation_asof"}
        return ChartView(key, frame, chart, "evaluated", fields)
    if key == "volume":
        volume = charts.volume_data(cases, **rng)
        chart = charts.volume_chart(volume, lang, selectable=True)
        fields = {
            charts.FIELD_COLUMNS["region"]: "region",
            charts.FIELD_COLUMNS["domain"]: "domain",
        }
        return ChartView(key, volume, chart, "cohort", fields)
    raise ValueError(f"unknown chart {key!r}")


def _evaluation_value(label: Any, lang: str) -> Any:
    """A chart's evaluation label back to the register's value (满意 …)."""
    for e in charts.EVALUATIONS:
        if label in (e, metrics.column_label(e, lang)):
            return e
    return label


def picked_cases(
    frame: pd.DataFrame,
    view: ChartView,
    selection: Sequence[Mapping[str, Any]],
    lang: str,
    freq: str,
) -> pd.DataFrame:
    """The cohort's cases under the chart's population and the clicked values (any of them)."""
    if view.population == "evaluated":
        frame = frame[frame["evaluation_asof"] != ""]
    if frame.empty or not selection:
        return frame
    if "_period" in view.fields.values():
        frame = frame.assign(_period=period_label(frame["received_at"], freq))
    hit = pd.Series(False, index=frame.index)
    for point in selection:
        match = pd.Series(True, index=frame.index)
        for field, column in view.fields.items():
            if field not in point:
                continue
            value = point[field]
            if column == "evaluation_asof":
                value = _evaluation_value(value, lang)
            match &= frame[column].fillna("") == value
        hit |= match
    return frame[hit]


def describe(selection: Sequence[Mapping[str, Any]], lang: str) -> str:
    """The clicked values in words: ``广安区 · 满意``."""
    sep = "; " if lang == "en" else "；"
    return sep.join(" · ".join(str(v) for v in point.values()) for point in selection)


def selection_points(event: Any) -> list[dict[str, Any]]:
    """The clicked points of an ``st.altair_chart`` event (empty when nothing is selected)."""
    try:
        sel = event.selection
    except AttributeError:
        sel = (event or {}).get("selection", {}) if isinstance(event, Mapping) else {}
    points = sel.get(charts.SELECTION) if isinstance(sel, Mapping) else None
    if not points:
        return []
    if isinstance(points, Mapping):  # an interval-like shape: field -> values
        return [dict(points)]
    return [dict(p) for p in points if isinstance(p, Mapping)]


def chart_csv(view: ChartView, lang: str) -> bytes:
    """The chart's data as CSV (UTF-8 with BOM; rates as fractions at full precision)."""
    frame = metrics.localize(view.data, lang) if lang == "en" else view.data
    return write_report(frame, "csv", lang=lang)


def first_rows(cases: pd.DataFrame, n: int) -> pd.DataFrame:
    """The first ``n`` cases in the tables' order (received last first, then case id
    descending; no date last) — the head of a full sort, without sorting every case."""
    if len(cases) > n and pd.api.types.is_datetime64_dtype(cases["received_at"]):
        received = cases["received_at"].to_numpy(dtype="datetime64[ns]")
        dated = ~np.isnat(received)
        if dated.sum() >= n:
            # Every row dated before the n-th latest date (or not dated) sorts after these.
            days = received.astype("int64")
            nth = np.partition(days[dated], -n)[-n]
            cases = cases[dated & (days >= nth)]
    return cases.sort_values(list(ORDER), ascending=False).head(n)


def case_table(
    c: Ctx, cases: pd.DataFrame, key: str, export: Callable[[pd.DataFrame], None] | None = None
) -> None:
    """The picked cases: case fields with their labels, the first :data:`MAX_SHOWN` of them
    drawn (the rest is said in a caption); optional export buttons (every case)."""
    keep = [k for k in CASE_COLUMNS if k in cases.columns]
    shown = first_rows(cases, MAX_SHOWN)[keep].reset_index(drop=True)
    if "unit" in shown:
        shown["unit"] = shown["unit"].where(shown["unit"] != "", t("ui.unassigned", c.lang))
    for col in ("received_at", "evaluated_at"):
        if col in shown:
            shown[col] = pd.to_datetime(shown[col], errors="coerce")
    if c.lang == "en" and "status" in shown:
        shown["status"] = shown["status"].map(lambda s: t("status." + s, "en") if s else s)
    if len(cases) > len(shown):
        st.caption(c.t("sat.cases_shown", n=len(cases), shown=len(shown)))
    st.dataframe(
        shown,
        placeholder="",
        hide_index=True,
        column_config=tables.column_config(c.sheet, keep, c.lang),
        height=tables.height(len(shown), 400),
        key=key,
    )
    if export is not None:
        export(cases)
