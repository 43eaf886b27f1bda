"""The satisfaction charts, shared by the 回访评价 page and the bulletins (报表通报).

Each chart is built in two steps, both pure:

* a ``*_data(...)`` function computes a small frame from the typed cases (and the rules and
  ``as_of`` the figures need) — the numbers a page offers as CSV and the tests check;
* a ``*_chart(frame, lang)`` function draws that frame as an Altair chart with Chinese (or
  English) titles, axis labels and tooltips.

The charts:

======================  ==================================================================
rates                   三率 and 参评率 by period (lines) — :func:`rates_data`
evaluation by unit      满意 / 基本满意 / 不满意 per unit (stacked bars) — :func:`unit_evaluation_data`
evaluation by field     the same by 领域 or by 类型 — :func:`field_evaluation_data`
volume                  cases by 所属区县 × 领域 (heatmap) — :func:`volume_data`
score trend             each unit's score by period (lines; the quarterly assessment)
======================  ==================================================================

The cohort is the one of :func:`lib.metrics.league_table`: cases received in
``[date_from, date_to]`` and not after ``as_of``; evaluations count when dated ``<= as_of``.
So a chart and the league table of the same range and ``as_of`` agree to the case.

:func:`chart_png` renders a chart to PNG without a browser (vl-convert), with a CJK font so
Chinese shows; the bulletins embed those images.
"""

from __future__ import annotations

import datetime as dt
import functools
import glob
import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from lib import metrics, workflow
from lib.i18n import register_messages, t
from lib.reuse import reuse
from lib.schema import default_schema

# The evaluations, best first, with their colours (green → red).
EVALUATIONS: tuple[str, ...] = ("满意", "基本满意", "不满意")
EVALUATION_COLORS: tuple[str, ...] = ("#2e7d32", "#9ccc65", "#e53935")
RATE_SERIES: tuple[str, ...] = (*metrics.THREE_RATES, "参评率")
RATE_COLORS: tuple[str, ...] = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
# Column of the case field a chart groups by -> its header in the data frames.
FIELD_COLUMNS: dict[str, str] = {"domain": "领域", "type": "类型", "region": "所属区县"}
SERIES = "指标"
VALUE = "值"
EVALUATION = "评价"
COUNT = "件数"
SCORE = "得分"
# The name of the click selection that charts drawn with ``selectable=True`` carry (pages read
# ``event.selection[SELECTION]`` from ``st.altair_chart(..., on_select="rerun")``).
SELECTION = "pick"
# CJK font families for rendered images, in order of preference (vl-convert reads system fonts).
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
)
_FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/opentype/noto-cjk",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
    "/usr/share/fonts/truetype/wqy",
)

register_messages(
    {
        "chart.rates.title": ("三率及参评率趋势", "The three rates and the evaluation rate"),
        "chart.unit_eval.title": ("各单位群众评价", "Evaluations by handling unit"),
        "chart.field_eval.title": ("按{field}群众评价", "Evaluations by {field}"),
        "chart.volume.title": ("留言量：{row} × {col}", "Messages: {row} × {col}"),
        "chart.trend.title": ("各单位得分走势", "Units' scores over time"),
        "chart.period": ("期间", "Period"),
        "chart.rate": ("比率", "Rate"),
        "chart.series": ("指标", "Measure"),
        "chart.evaluation": ("评价", "Evaluation"),
        "chart.count": ("件数", "Cases"),
        "chart.score": ("得分", "Score"),
        "chart.share": ("占比", "Share"),
        "chart.empty": ("（无数据）", "(no data)"),
    }
)


# --- the cohort -------------------------------------------------------------------------------


def _day(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def cohort(
    cases: pd.DataFrame,
    *,
    date_from: dt.date | pd.Timestamp | str,
    date_to: dt.date | pd.Timestamp | str,
    as_of: dt.date | pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """The cases of a report: received in ``[date_from, date_to]`` and not after ``as_of``.

    The same selection as :func:`lib.metrics.league_table` (``as_of`` defaults to
    ``date_to``). Raises the metrics' DomainError when the range is reversed.
    """
    start, end = _day(date_from), _day(date_to)
    if start > end:
        from lib.i18n import DomainError

        raise DomainError(
            "err.report_range", date_from=start.date().isoformat(), date_to=end.date().isoformat()
        )
    last = min(end, end if as_of is None else _day(as_of))

    def select() -> pd.DataFrame:
        received = pd.to_datetime(cases["received_at"], errors="coerce")
        return cases.loc[(received >= start) & (received <= last)]

    # One frame object per cohort, so the measures of it are shared (lib.reuse).
    return reuse("charts.cohort", (cases,), (start, last), select)


def _evaluations(cases: pd.DataFrame, rules: workflow.Rules, as_of: Any) -> pd.Series:
    """Each case's evaluation as of ``as_of`` ('' when not evaluated by then)."""
    if cases.empty:
        return pd.Series([], dtype=object, index=cases.index)
    return metrics.case_measures(cases, rules, as_of)["evaluation_asof"]


# --- data -------------------------------------------------------------------------------------


def rates_data(
    cases: pd.DataFrame,
    rules: workflow.Rules,
    *,
    date_from: dt.date | pd.Timestamp | str,
    date_to: dt.date | pd.Timestamp | str,
    as_of: dt.date | pd.Timestamp | str | None = None,
    freq: str = "M",
) -> pd.DataFrame:
    """三率 and 参评率 per period for all units together.

    One row per period (``freq`` "W", "M" or "Q") meeting the range, periods without cases
    included (NaN rates); columns 期间, 案件数, 及时受理率, 按期办结率, 群众满意率, 参评率 —
    the values of :func:`lib.metrics.rates_by_period`.
    """
    table = metrics.rates_by_period(
        cases, rules, date_from=date_from, date_to=date_to, as_of=as_of, freq=freq
    )
    return table[[metrics.PERIOD, "案件数", *RATE_SERIES]].reset_index(drop=True)


def _evaluation_counts(keys: pd.Series, evaluation: pd.Series, key_name: str) -> pd.DataFrame:
    """Counts of 满意/基本满意/不满意 per key, with 参评数 and 群众满意率."""
    frame = pd.DataFrame({key_name: keys.to_numpy(dtype=object), EVALUATION: evaluation})
    frame = frame[frame[EVALUATION].isin(EVALUATIONS)]
    counts = (
        pd.crosstab(frame[key_name], frame[EVALUATION])
        .reindex(columns=list(EVALUATIONS), fill_value=0)
        .astype("int64")
    )
    counts.columns.name = None
    out = counts.reset_index()
    out["参评数"] = out[list(EVALUATIONS)].sum(axis=1).astype("int64")
    satisfied = (out["满意"] + out["基本满意"]).astype("float64")
    out["群众满意率"] = satisfied / out["参评数"].where(out["参评数"] > 0).astype("float64")
    return out


def unit_evaluation_data(
    cases: pd.DataFrame,
    instructions: pd.DataFrame | None,
    supervisions: pd.DataFrame | None,
    rules: workflow.Rules,
    *,
    date_from: dt.date | pd.Timestamp | str,
    date_to: dt.date | pd.Timestamp | str,
    as_of: dt.date | pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """满意 / 基本满意 / 不满意 per handling unit, read off the league table itself.

    Columns 承办单位, 满意, 基本满意, 不满意, 参评数, 群众满意率; one row per unit with an
    evaluated case, best 满意率 first (then unit name). Equal, unit by unit, to the league
    table's columns of the same name.
    """
    table = metrics.league_table(
        cases,
        instructions,
        supervisions,
        rules,
        date_from=date_from,
        date_to=date_to,
        as_of=as_of,
    )
    table = table[(table[metrics.UNIT] != metrics.UNASSIGNED) & (table["参评数"] > 0)]
    out = table[[metrics.UNIT, *EVALUATIONS, "参评数", "群众满意率"]].copy()
    out = out.sort_values(["群众满意率", metrics.UNIT], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


@functools.cache
def _enum_order(key: str) -> tuple[str, ...]:
    try:
        f = default_schema()["cases"].field(key)
    except KeyError:
        return ()
    return tuple(f.enum or ())


def _ordered(values: Sequence[str], key: str, weight: pd.Series | None = None) -> list[str]:
    """``values`` in the schema's enum order; a field without one (所属区县 comes from the
    units sheet) by ``weight`` descending, then by name."""
    order = {v: i for i, v in enumerate(_enum_order(key))}
    if not order and weight is not None:
        return sorted(values, key=lambda v: (-int(weight.get(v, 0)), str(v)))
    return sorted(values, key=lambda v: (order.get(v, len(order)), str(v)))


def field_evaluation_data(
    cases: pd.DataFrame,
    rules: workflow.Rules,
    by: str,
    *,
    date_from: dt.date | pd.Timestamp | str,
    date_to: dt.date | pd.Timestamp | str,
    as_of: dt.date | pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """满意 / 基本满意 / 不满意 by a case field: ``by`` = ``"domain"`` (领域) or ``"type"`` (类型).

    Columns: the field's header (领域 / 类型), 满意, 基本满意, 不满意, 参评数, 群众满意率; one
    row per value with an evaluated case in the cohort, in the schema's order.
    """
    if by not in ("domain", "type"):
        raise ValueError(f"by must be 'domain' or 'type', not {by!r}")
    name = FIELD_COLUMNS[by]
    sub = cohort(cases, date_from=date_from, date_to=date_to, as_of=as_of)
    asof = date_to if as_of is None else as_of
    evaluation = _evaluations(sub, rules, asof)
    keys = sub[by].astype(object).where(sub[by].notna(), "")
    out = _evaluation_counts(keys, evaluation.to_numpy(), name)
    order = _ordered(out[name].tolist(), by)
    return out.set_index(name).loc[order].reset_index() if len(out) else out


def volume_data(
    cases: pd.DataFrame,
    *,
    date_from: dt.date | pd.Timestamp | str,
    date_to: dt.date | pd.Timestamp | str,
    as_of: dt.date | pd.Timestamp | str | None = None,
    rows: str = "region",
    columns: str = "domain",
) -> pd.DataFrame:
    """Case volume by two case fields (default 所属区县 × 领域), as a full grid.

    Long form: columns the two fields' headers and 案件数; every pair of a row value and a
    column value that occur in the cohort, zeros included; rows and columns in schema order.
    """
    row_name, col_name = FIELD_COLUMNS[rows], FIELD_COLUMNS[columns]
    sub = cohort(cases, date_from=date_from, date_to=date_to, as_of=as_of)
    if sub.empty:
        return pd.DataFrame(
            {
                row_name: pd.Series([], dtype=object),
                col_name: pd.Series([], dtype=object),
                "案件数": pd.Series([], dtype="int64"),
            }
        )
    r = sub[rows].astype(object).where(sub[rows].notna(), "")
    c = sub[columns].astype(object).where(sub[columns].notna(), "")
    grid = pd.crosstab(r, c)
    grid = grid.loc[
        _ordered(list(grid.index), rows, grid.sum(axis=1)),
        _ordered(list(grid.columns), columns, grid.sum(axis=0)),
    ]
    grid.index.name, grid.columns.name = row_name, col_name
    out = grid.stack().rename("案件数").reset_index()
    out["案件数"] = out["案件数"].astype("int64")
    return out


# --- charts -----------------------------------------------------------------------------------


def _label(column: str, lang: str) -> str:
    """A column's name for people (metrics columns, schema fields, or itself)."""
    if lang != "en":
        return column
    for key, name in FIELD_COLUMNS.items():
        if name == column:
            return default_schema()["cases"].field(key).label("en")
    return metrics.column_label(column, lang)


def _empty_chart(title: str, lang: str) -> alt.Chart:
    frame = pd.DataFrame({"text": [t("chart.empty", lang)]})
    return (
        alt.Chart(frame, title=title)
        .mark_text(fontSize=14, color="#666")
        .encode(text="text:N")
        .properties(height=80)
    )


def _pick(fields: Sequence[str]) -> Any:
    """A click selection over ``fields`` (shift-click adds), named :data:`SELECTION`."""
    return alt.selection_point(name=SELECTION, fields=list(fields), on="click", clear="dblclick")


def has_selection(chart: alt.TopLevelMixin) -> bool:
    """True when ``chart`` carries the click selection (an empty-data placeholder does not)."""
    return f'"{SELECTION}"' in chart.to_json(validate=False)


def rates_chart(data: pd.DataFrame, lang: str = "zh", *, selectable: bool = False) -> alt.Chart:
    """Lines of 三率 and 参评率 by period (from :func:`rates_data`); rates as percentages.

    With ``selectable`` a click on a point selects its period (field 期间).
    """
    title = t("chart.rates.title", lang)
    series = [c for c in RATE_SERIES if c in data.columns]
    long = data.melt(
        id_vars=[metrics.PERIOD], value_vars=series, var_name=SERIES, value_name=VALUE
    ).dropna(subset=[VALUE])
    if long.empty:
        return _empty_chart(title, lang)
    names = {c: _label(c, lang) for c in series}
    long[SERIES] = long[SERIES].map(names)
    order = list(data[metrics.PERIOD])
    period_t, series_t, rate_t = (
        t("chart.period", lang),
        t("chart.series", lang),
        t("chart.rate", lang),
    )
    chart = (
        alt.Chart(long, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{metrics.PERIOD}:O", title=period_t, sort=order, axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                f"{VALUE}:Q",
                title=rate_t,
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(zero=False, domainMax=1),
            ),
            color=alt.Color(
                f"{SERIES}:N",
                title=series_t,
                sort=[names[c] for c in series],
                scale=alt.Scale(
                    domain=[names[c] for c in series], range=list(RATE_COLORS[: len(series)])
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip(f"{metrics.PERIOD}:O", title=period_t),
                alt.Tooltip(f"{SERIES}:N", title=series_t),
                alt.Tooltip(f"{VALUE}:Q", title=rate_t, format=".1%"),
            ],
        )
    )
    if selectable:
        pick = _pick([metrics.PERIOD])
        chart = chart.add_params(pick).encode(
            strokeWidth=alt.condition(pick, alt.value(2.5), alt.value(1.5))
        )
    return chart


def _stacked_evaluations(
    data: pd.DataFrame, key: str, title: str, lang: str, selectable: bool = False
) -> alt.Chart:
    """Horizontal stacked bars of the three evaluations per ``key`` value.

    With ``selectable`` a click on a segment selects its ``key`` value and evaluation (the
    evaluation as labelled in ``lang``); the other segments fade.
    """
    if data.empty or int(data["参评数"].sum()) == 0:
        return _empty_chart(title, lang)
    names = {e: _label(e, lang) for e in EVALUATIONS}
    long = data.melt(
        id_vars=[key, "参评数"], value_vars=list(EVALUATIONS), var_name=EVALUATION, value_name=COUNT
    )
    long["_order"] = long[EVALUATION].map({e: i for i, e in enumerate(EVALUATIONS)})
    long[EVALUATION] = long[EVALUATION].map(names)
    long["_share"] = long[COUNT] / long["参评数"].where(long["参评数"] > 0)
    key_t, eval_t, count_t, share_t = (
        _label(key, lang),
        t("chart.evaluation", lang),
        t("chart.count", lang),
        t("chart.share", lang),
    )
    chart = (
        alt.Chart(long, title=title)
        .mark_bar()
        .encode(
            y=alt.Y(f"{key}:N", title=key_t, sort=list(data[key])),
            x=alt.X(f"sum({COUNT}):Q", title=count_t, stack="zero"),
            color=alt.Color(
                f"{EVALUATION}:N",
                title=eval_t,
                sort=[names[e] for e in EVALUATIONS],
                scale=alt.Scale(
                    domain=[names[e] for e in EVALUATIONS], range=list(EVALUATION_COLORS)
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("_order:Q"),
            tooltip=[
                alt.Tooltip(f"{key}:N", title=key_t),
                alt.Tooltip(f"{EVALUATION}:N", title=eval_t),
                alt.Tooltip(f"{COUNT}:Q", title=count_t),
                alt.Tooltip("_share:Q", title=share_t, format=".1%"),
            ],
        )
    )
    if selectable:
        pick = _pick([key, EVALUATION])
        chart = chart.add_params(pick).encode(
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35))
        )
    return chart


def unit_evaluation_chart(
    data: pd.DataFrame, lang: str = "zh", *, selectable: bool = False
) -> alt.Chart:
    """Stacked bars 满意 / 基本满意 / 不满意 per unit (from :func:`unit_evaluation_data`).

    ``selectable``: a click selects a unit and an evaluation (fields 承办单位, 评价)."""
    title = t("chart.unit_eval.title", lang)
    return _stacked_evaluations(data, metrics.UNIT, title, lang, selectable)


def field_evaluation_chart(
    data: pd.DataFrame, lang: str = "zh", *, selectable: bool = False
) -> alt.Chart:
    """Stacked bars per 领域 or 类型 (from :func:`field_evaluation_data`).

    ``selectable``: a click selects a value and an evaluation (fields 领域/类型, 评价)."""
    key = str(data.columns[0])
    title = t("chart.field_eval.title", lang, field=_label(key, lang))
    return _stacked_evaluations(data, key, title, lang, selectable)


def volume_chart(data: pd.DataFrame, lang: str = "zh", *, selectable: bool = False) -> alt.Chart:
    """A heatmap of case counts (from :func:`volume_data`), each cell labelled with its count.

    ``selectable``: a click on a cell selects its row and column values (所属区县, 领域)."""
    row, col = str(data.columns[0]), str(data.columns[1])
    row_t, col_t, count_t = _label(row, lang), _label(col, lang), _label("案件数", lang)
    title = t("chart.volume.title", lang, row=row_t, col=col_t)
    if data.empty:
        return _empty_chart(title, lang)
    rows = list(dict.fromkeys(data[row]))
    cols = list(dict.fromkeys(data[col]))
    high = max(int(data["案件数"].max()), 1)
    base = alt.Chart(data).encode(
        x=alt.X(f"{col}:N", title=col_t, sort=cols, axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y(f"{row}:N", title=row_t, sort=rows),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "案件数:Q",
            title=count_t,
            scale=alt.Scale(scheme="blues", domain=[0, high]),
            legend=alt.Legend(orient="bottom"),
        ),
        tooltip=[
            alt.Tooltip(f"{row}:N", title=row_t),
            alt.Tooltip(f"{col}:N", title=col_t),
            alt.Tooltip("案件数:Q", title=count_t),
        ],
    )
    labels = base.mark_text(fontSize=10).encode(
        text=alt.Text("案件数:Q"),
        color=alt.condition(
            alt.datum["案件数"] > high * 0.55, alt.value("white"), alt.value("#222")
        ),
    )
    if selectable:
        pick = _pick([row, col])
        cells = cells.add_params(pick).encode(
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.4))
        )
    return alt.layer(cells, labels, title=title)


def score_trend_chart(
    data: pd.DataFrame, lang: str = "zh", *, small_multiples: bool = False
) -> alt.Chart:
    """Each unit's score by period, from a long frame with 承办单位, 期间, 得分.

    One line per unit, or with ``small_multiples`` one small panel per unit (readable in
    print when there are many units).
    """
    title = t("chart.trend.title", lang)
    long = data.dropna(subset=[SCORE]) if len(data) else data
    if long.empty:
        return _empty_chart(title, lang)
    unit_t, period_t, score_t = (
        _label(metrics.UNIT, lang),
        t("chart.period", lang),
        t("chart.score", lang),
    )
    order = list(dict.fromkeys(data[metrics.PERIOD]))
    units = list(dict.fromkeys(long[metrics.UNIT]))
    tooltip = [
        alt.Tooltip(f"{metrics.UNIT}:N", title=unit_t),
        alt.Tooltip(f"{metrics.PERIOD}:O", title=period_t),
        alt.Tooltip(f"{SCORE}:Q", title=score_t, format=".1%"),
    ]
    x = alt.X(f"{metrics.PERIOD}:O", title=period_t, sort=order, axis=alt.Axis(labelAngle=0))
    y = alt.Y(f"{SCORE}:Q", title=score_t, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False))
    if not small_multiples:
        return (
            alt.Chart(long, title=title)
            .mark_line(point=True)
            .encode(
                x=x,
                y=y.scale(zero=False, domainMax=1),
                color=alt.Color(f"{metrics.UNIT}:N", title=unit_t, legend=alt.Legend(columns=2)),
                tooltip=tooltip,
            )
        )
    return (
        alt.Chart(long)
        .mark_line(point=True, color=RATE_COLORS[0])
        .encode(
            x=x.axis(labelAngle=0, title=None, labelFontSize=10),
            y=y.axis(format=".0%", title=None, labelFontSize=10, tickCount=3),
            tooltip=tooltip,
        )
        .properties(width=140, height=70)
        .facet(
            facet=alt.Facet(
                f"{metrics.UNIT}:N",
                title=None,
                sort=units,
                header=alt.Header(labelFontSize=13),
            ),
            columns=4,
            title=title,
        )
        .resolve_scale(y="shared")
    )


# --- rendering --------------------------------------------------------------------------------


@functools.cache
def cjk_font_dirs() -> tuple[str, ...]:
    """Folders holding CJK fonts on this machine (fontconfig's answer, else known places)."""
    found: list[str] = []
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(
                ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        for line in out.splitlines():
            path = line.split(":", 1)[0].strip()
            if path:
                found.append(os.path.dirname(path))
    for d in _FONT_DIRS:
        if glob.glob(os.path.join(d, "*CJK*")) or glob.glob(os.path.join(d, "*wqy*")):
            found.append(d)
    return tuple(dict.fromkeys(found))


@functools.cache
def _register_fonts() -> None:
    import vl_convert as vlc

    for d in cjk_font_dirs():
        try:
            vlc.register_font_directory(d)
        except Exception:  # an unreadable folder must not stop the chart
            continue


def chart_png(chart: alt.TopLevelMixin | dict, scale: float = 2) -> bytes:
    """Render an Altair chart (or a Vega-Lite dict) to PNG bytes without a browser.

    Uses vl-convert with the machine's CJK fonts registered and a CJK font family as the
    default, so Chinese titles, labels and legends show as text, not boxes.
    """
    import vl_convert as vlc

    _register_fonts()
    spec = chart.to_dict() if hasattr(chart, "to_dict") else chart
    font = ", ".join([*CJK_FONTS, "sans-serif"])
    config = {
        "font": font,
        "title": {"font": font, "fontSize": 15},
        "axis": {"labelFont": font, "titleFont": font},
        "legend": {"labelFont": font, "titleFont": font},
        "header": {"labelFont": font, "titleFont": font},
        "background": "white",
    }
    return vlc.vegalite_to_png(spec, scale=scale, config=config)


def is_png(data: bytes) -> bool:
    """True when ``data`` starts with the PNG signature."""
    return data[:8] == b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels of a PNG (from its IHDR chunk)."""
    if not is_png(data) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


__all__ = [
    "CJK_FONTS",
    "EVALUATIONS",
    "FIELD_COLUMNS",
    "RATE_SERIES",
    "SELECTION",
    "chart_png",
    "cjk_font_dirs",
    "cohort",
    "field_evaluation_chart",
    "field_evaluation_data",
    "has_selection",
    "is_png",
    "png_size",
    "rates_chart",
    "rates_data",
    "score_trend_chart",
    "unit_evaluation_chart",
    "unit_evaluation_data",
    "volume_chart",
    "volume_data",
]
