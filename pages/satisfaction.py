"""满意度分析 Satisfaction: the 三率 and 参评率 by month (or week, quarter), 满意 / 基本满意 /
不满意 by unit, by domain and by type, and the case volume by region × domain — for a chosen
period. A click on a point, bar or cell lists its cases under the chart; each chart's data
downloads as CSV, and the chart itself as PNG from the chart's toolbar.

Every chart and its data come from :mod:`lib.charts` (the same as the bulletins), over the
cohort of the league table; see :mod:`lib.ui.satisfaction`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from lib import charts, metrics
from lib.reports import format_rate
from lib.ui import Ctx, page_setup, run_page, tables
from lib.ui import satisfaction as sat
from lib.ui.memo import snapshot_memo


def controls(c: Ctx) -> tuple[dt.date, dt.date, str]:
    """The period (a preset, or two dates) and the trend's step."""
    left, mid, right = st.columns([5, 3, 2], vertical_alignment="bottom")
    with left:
        preset = st.segmented_control(
            c.t("sat.preset"),
            list(sat.PRESETS),
            default="12m",
            key=sat.PRESET_KEY,
            format_func=lambda p: c.t(f"sat.preset.{p}"),
            required=True,
        )
    preset = preset or "12m"
    start, end = sat.preset_range(preset if preset != "custom" else "12m", c.today)
    with mid:
        if preset == "custom":
            a, b = st.columns(2)
            start = (
                a.date_input(
                    c.t("sat.from"),
                    value=start,
                    max_value=c.today,
                    key=sat.FROM_KEY,
                    format="YYYY-MM-DD",
                )
                or start
            )
            end = (
                b.date_input(
                    c.t("sat.to"), value=end, max_value=c.today, key=sat.TO_KEY, format="YYYY-MM-DD"
                )
                or end
            )
    with right:
        freq = st.segmented_control(
            c.t("sat.freq"),
            list(sat.FREQS),
            default="M",
            key=sat.FREQ_KEY,
            format_func=lambda f: c.t(f"sat.freq.{f}"),
            required=True,
        )
    return start, end, freq or "M"


def tiles(c: Ctx, start: dt.date, end: dt.date) -> None:
    """The period's totals: cases, evaluations, the two satisfaction rates."""
    row = snapshot_memo(
        c.data,
        c.user,
        ("sat.totals", start, end, c.today),
        lambda: sat.period_totals(c.data, start, end, c.today),
    )
    items = [
        (metrics.column_label("案件数", c.lang), int(row["案件数"])),
        (c.t("sat.evaluated"), int(row["参评数"])),
        *[(metrics.column_label(e, c.lang), int(row[e])) for e in charts.EVALUATIONS],
        (metrics.column_label("群众满意率", c.lang), format_rate(row["群众满意率"], c.lang)),
        (metrics.column_label("参评率", c.lang), format_rate(row["参评率"], c.lang)),
    ]
    widths = [1] * (len(items) - 2) + [1.4, 1.4]
    for col, (label, value) in zip(st.columns(widths), items, strict=True):
        col.metric(label, value, border=True)


def chart_tab(c: Ctx, view: sat.ChartView, frame: pd.DataFrame, freq: str) -> None:
    """One chart, its CSV, and the cases a click on it picks."""
    key = f"sat.chart.{view.key}"
    if charts.has_selection(view.chart):
        event = st.altair_chart(view.chart, width="stretch", key=key, on_select="rerun")
        points = sat.selection_points(event)
    else:  # nothing to draw in this period: a placeholder without a selection
        st.altair_chart(view.chart, width="stretch", key=key)
        points = []
    st.download_button(
        c.t("sat.download"),
        data=lambda: tables.logged(c, f"chart.{view.key}", sat.chart_csv(view, c.lang)),
        file_name=f"{view.key}-{c.today.isoformat()}.csv",
        mime="text/csv",
        key=f"{key}.csv",
        on_click="ignore",
        icon=":material/download:",
    )
    cases = sat.picked_cases(frame, view, points, c.lang, freq)
    if points:
        st.subheader(c.t("sat.cases", n=len(cases)), anchor=False)
        st.caption(c.t("sat.filtered", what=sat.describe(points, c.lang)))
    else:
        st.subheader(c.t("sat.cases", n=len(cases)), anchor=False)
        hint = "sat.cases_all" if view.population == "evaluated" else "sat.cases_volume"
        st.caption(c.t(hint, n=len(cases)))
    if cases.empty:
        st.info(c.t("sat.no_cases"))
        return
    sat.case_table(
        c,
        cases,
        f"{key}.cases",
        export=lambda rows: tables.download_buttons(c, rows, f"cases-{view.key}", f"{key}.export"),
    )


def page(c: Ctx) -> None:
    st.title(c.t("sat.title"), anchor=False)
    start, end, freq = controls(c)
    if start > end:
        st.error(c.t("sat.bad_range"))
        return
    st.caption(
        c.t("sat.range", start=start.isoformat(), end=end.isoformat(), as_of=c.today.isoformat())
    )
    tiles(c, start, end)
    st.caption(c.t("sat.hint"))
    # Remembered while the snapshot lasts: a click or a tab reruns the page on the same data.
    frame = snapshot_memo(
        c.data,
        c.user,
        ("sat.cohort", start, end, c.today),
        lambda: sat.cohort_frame(c.data, start, end, c.today),
    )
    names = [c.t(f"sat.tab.{k}") for k in sat.CHARTS]
    tabs = st.tabs(names, key=sat.TABS_KEY, on_change="rerun")
    for k, tab in zip(sat.CHARTS, tabs, strict=True):
        if tab.open is False:  # only the open tab is drawn
            continue
        with tab:
            view = snapshot_memo(
                c.data,
                c.user,
                ("sat.chart", k, start, end, c.today, freq, c.lang),
                lambda k=k: sat.chart_view(k, c.data, start, end, c.today, freq, c.lang),
            )
            chart_tab(c, view, frame, freq)


run_page(page_setup("satisfaction"), page)
