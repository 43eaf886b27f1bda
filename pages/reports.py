"""报表通报 Reports: the weekly dispatch, monthly bulletin and quarterly assessment (周调度、
月通报、季考核) previewed from the register and downloaded as ready-to-send Word, Excel and
Markdown files; the quarterly assessment with its weights and each unit's trend.

Every figure comes from :mod:`lib.bulletin` (the same as ``python -m lib bulletin`` and
``report`` for the same period and date); the files are built only when a button is clicked.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import streamlit as st

from lib import bulletin, charts, metrics
from lib.bulletin import Bulletin, Period, QuarterWeights
from lib.i18n import DomainError, register_messages
from lib.reports import format_rate
from lib.ui import Ctx, context, page_setup, run_page, tables
from lib.ui.errors import show_error
from lib.ui.text import md_escape

register_messages(
    {
        "rep.title": ("报表通报", "Reports and bulletins"),
        "rep.kind": ("通报类型", "Bulletin"),
        "rep.day": ("统计期间（选期间内任一天）", "Period (any day in it)"),
        "rep.as_of": ("数据截至", "Figures as of"),
        "rep.period": (
            "{label}：{range}；数据截至 {as_of}；对比{prev}（数据截至 {prev_as_of}）",
            "{label}: {range}; figures as of {as_of}; compared with {prev} (as of {prev_as_of})",
        ),
        "rep.download_docx": ("下载 Word 通报", "Download Word"),
        "rep.download_xlsx": ("下载 Excel 明细", "Download Excel"),
        "rep.download_md": ("下载 Markdown", "Download Markdown"),
        "rep.cli": ("命令行生成：{command}", "From the command line: {command}"),
        "rep.tab.league": ("排名表", "League table"),
        "rep.tab.honour": ("红黑榜", "Best and worst"),
        "rep.tab.overdue": ("逾期案件（{n}）", "Overdue ({n})"),
        "rep.tab.escalations": ("提请问责（{n}）", "Escalations ({n})"),
        "rep.tab.charts": ("图表", "Charts"),
        "rep.tab.assessment": ("季度考核", "Quarterly assessment"),
        "rep.delta_pp": ("{x:+.1f} 个百分点", "{x:+.1f} points"),
        "rep.weights": ("考核权重", "Assessment weights"),
        "rep.weights.method": ("考核方法：{method}", "Method: {method}"),
        "rep.weights.save": ("保存权重", "Save the weights"),
        "rep.weights.saved": ("已保存季度考核权重", "The quarterly weights were saved"),
        "rep.weights.invalid": (
            "参数中的季度考核权重无效（{reason}），暂按默认方法计算。请管理员更正。",
            "The quarterly weights in the settings are not valid ({reason}); the default "
            "method is used until an administrator corrects them.",
        ),
        "rep.trend.units": ("显示的单位", "Units shown"),
        "rep.no_charts": ("本期没有可绘制的图表。", "Nothing to chart for this period."),
    }
)

KINDS = bulletin.PERIOD_KINDS
KIND_KEY = "rep.kind"
DAY_KEY = "rep.day"
AS_OF_KEY = "rep.as_of"
TABS_KEY = "rep.tabs"


@st.cache_resource(show_spinner=False, max_entries=16, ttl=600)
def _build(
    _ctx: Ctx,
    key: tuple,
    kind: str,
    day: dt.date,
    as_of: dt.date,
    lang: str,
    months: str,
    rates: str,
) -> Bulletin:
    """The bulletin, shared by reruns and sessions while the snapshot (in ``key``) lasts.

    Without its charts: they are built when the charts tab is opened (:func:`_charted`) or
    the Word document is downloaded.
    """
    weights = QuarterWeights.parse(months, rates)
    return bulletin.build_bulletin(
        _ctx.data,
        kind,
        day,
        as_of=as_of,
        issued=_ctx.today,
        lang=lang,
        weights=weights,
        with_charts=False,
    )


@st.cache_resource(show_spinner=False, max_entries=16, ttl=600)
def _charted(_ctx: Ctx, _b: Bulletin, built: tuple) -> Bulletin:
    """The bulletin with its charts (``built``: the arguments :func:`_build` made it from)."""
    return bulletin.with_charts(_ctx.data, _b)


def settings_weights(c: Ctx) -> tuple[QuarterWeights, str | None]:
    """The weights of the settings, or the default and why the settings' are not valid."""
    try:
        return QuarterWeights.from_settings(c.data.settings), None
    except DomainError as exc:
        return QuarterWeights(), exc.message(c.lang)


def controls(c: Ctx) -> tuple[str, dt.date, dt.date]:
    """Which bulletin: kind, a day in its period (default: the last complete one), as of."""
    ss = st.session_state
    left, mid, right = st.columns([2, 2, 2])
    with left:
        kind = st.segmented_control(
            c.t("rep.kind"),
            list(KINDS),
            default="month",
            format_func=lambda k: c.t(f"bul.kind.{k}"),
            key=KIND_KEY,
        )
    kind = kind or "month"
    default_day = Period.containing(kind, c.today).previous().start
    if ss.get("rep._kind_seen") != kind:  # a new kind: point at its last complete period
        ss["rep._kind_seen"] = kind
        ss[DAY_KEY] = default_day
    with mid:
        day = st.date_input(c.t("rep.day"), key=DAY_KEY, format="YYYY-MM-DD")
    with right:
        as_of = st.date_input(c.t("rep.as_of"), value=c.today, key=AS_OF_KEY, format="YYYY-MM-DD")
    return kind, day or default_day, as_of or c.today


def downloads(c: Ctx, b: Bulletin) -> None:
    """Word, Excel and Markdown, each built when its button is clicked (the Word document
    with the charts)."""
    data = c.data

    def document(fmt: str) -> bytes:
        full = bulletin.with_charts(data, b) if fmt == "docx" else b
        return tables.logged(c, f"bulletin.{fmt}", bulletin.render(full, fmt), rows=len(b.league))

    cols = st.columns(3)
    for col, fmt, label, icon in (
        (cols[0], "docx", "rep.download_docx", ":material/description:"),
        (cols[1], "xlsx", "rep.download_xlsx", ":material/table_view:"),
        (cols[2], "md", "rep.download_md", ":material/article:"),
    ):
        with col:
            st.download_button(
                c.t(label),
                data=lambda fmt=fmt: document(fmt),
                file_name=bulletin.default_filename(b, fmt),
                mime=bulletin.MIME_TYPES[fmt],
                key=f"rep.download.{fmt}",
                on_click="ignore",
                icon=icon,
                type="primary" if fmt == "docx" else "secondary",
                width="stretch",
            )
    command = (
        f"python -m lib bulletin --period {b.kind} --date {b.period.start.isoformat()} "
        f"--as-of {b.as_of.isoformat()}"
    )
    st.caption(c.t("rep.cli", command=f"`{command}`"))


def figures(c: Ctx, b: Bulletin) -> None:
    """The headline figures with their change against the previous period."""
    tot, prev = b.totals, b.previous_totals
    cols = st.columns(6)
    counts = (("案件数", "案件数"), ("办结数", "办结数"))
    for col, (name, key) in zip(cols[:2], counts, strict=True):
        col.metric(
            metrics.column_label(name, c.lang),
            int(tot[key]),
            delta=int(tot[key]) - int(prev[key]),
            delta_color="off",
        )
    for col, name in zip(cols[2:], (*metrics.THREE_RATES, "参评率"), strict=True):
        cur, before = tot[name], prev[name]
        delta = None
        if _num(cur) and _num(before):
            delta = c.t("rep.delta_pp", x=round((float(cur) - float(before)) * 100, 1))
        col.metric(metrics.column_label(name, c.lang), format_rate(cur, c.lang), delta=delta)


def _num(x: object) -> bool:
    try:
        return x is not None and math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def table(c: Ctx, frame: pd.DataFrame, b: Bulletin, key: str) -> None:
    """A bulletin table as the documents print it (rates in %, "—" when undefined)."""
    shown = bulletin.display_frame(frame, b, c.lang)
    st.dataframe(shown, hide_index=True, key=key, height=min(38 + 35 * max(len(shown), 1), 600))


def honour_tab(c: Ctx, b: Bulletin) -> None:
    cols = ["排名", metrics.UNIT, "案件数", *metrics.THREE_RATES, "综合得分"]
    for heading, frame in (("bul.h.red", b.red), ("bul.h.black", b.black)):
        st.subheader(c.t(heading), anchor=False)
        if frame.empty:
            st.info(c.t("bul.no_ranking"))
        else:
            table(c, frame[cols], b, f"rep.{heading}")


def overdue_tab(c: Ctx, b: Bulletin) -> None:
    if b.overdue_units.empty:
        st.info(c.t("bul.s.no_overdue"))
        return
    table(c, b.overdue_units, b, "rep.overdue_units")
    table(c, b.overdue_cases, b, "rep.overdue_cases")


def escalations_tab(c: Ctx, b: Bulletin) -> None:
    if b.escalations.empty:
        st.info(c.t("bul.no_escalations"))
        return
    table(c, b.escalations, b, "rep.escalations")


def charts_tab(c: Ctx, b: Bulletin) -> None:
    items = [i for i in b.charts if i.key != "trend"]
    if not items:
        st.info(c.t("rep.no_charts"))
        return
    for item in items:
        st.altair_chart(item.chart, width="stretch")


def weights_form(c: Ctx, current: QuarterWeights) -> None:
    """Administrators set the quarterly weights (validated, stored as settings)."""
    with st.expander(c.t("rep.weights")), st.form("rep.weights"):
        defs = c.reg.schema["settings"].defaults
        months = st.text_input(
            defs[bulletin.MONTH_WEIGHTS_KEY]["label" if c.lang != "en" else "label_en"],
            value=current.month_text(),
            key="rep.weights.months",
        )
        rates = st.text_input(
            defs[bulletin.RATE_WEIGHTS_KEY]["label" if c.lang != "en" else "label_en"],
            value=current.rate_text(),
            key="rep.weights.rates",
        )
        if not st.form_submit_button(c.t("rep.weights.save"), key="rep.weights.submit"):
            return
    try:
        weights = QuarterWeights.parse(months, rates)
        bulletin.save_quarter_weights(c.reg, c.user, weights)
    except Exception as exc:
        show_error(exc, c.lang)
        return
    context.flash("success", c.t("rep.weights.saved"))
    st.rerun()


def assessment_tab(c: Ctx, b: Bulletin, weights: QuarterWeights) -> None:
    a = b.assessment
    st.caption(c.t("rep.weights.method", method=weights.describe(c.lang)))
    if c.user.may("settings"):
        weights_form(c, weights)
    if a is None or a.table.empty:
        st.info(c.t("bul.no_ranking"))
        return
    table(c, a.table, b, "rep.assessment")
    units = list(a.table[metrics.UNIT])
    # The three best and three last units by default; any other can be added.
    first = list(dict.fromkeys(units[:3] + units[-3:]))
    chosen = st.multiselect(
        c.t("rep.trend.units"),
        units,
        default=first,
        key="rep.trend.units",
        placeholder=c.t("ui.choose_many"),
    )
    trend = a.trend[a.trend[metrics.UNIT].isin(chosen)]
    if len(chosen) <= 6:
        st.altair_chart(charts.score_trend_chart(trend, c.lang), width="stretch")
    else:
        st.altair_chart(charts.score_trend_chart(trend, c.lang, small_multiples=True))


def page(c: Ctx) -> None:
    st.title(c.t("rep.title"))
    kind, day, as_of = controls(c)
    weights, problem = settings_weights(c)
    if problem:
        st.warning(c.t("rep.weights.invalid", reason=problem))
    key = (c.url, c.data.read_at.isoformat(), c.user.username, sorted(c.user.units))
    args = (kind, day, as_of, c.lang, weights.month_text(), weights.rate_text())
    b = _build(c, key, *args)
    st.caption(
        c.t(
            "rep.period",
            label=b.period.label(c.lang),
            range=b.period.range_text(c.lang),
            as_of=bulletin.fmt_date(b.as_of, c.lang),
            prev=b.previous.label(c.lang),
            prev_as_of=bulletin.fmt_date(b.previous_as_of, c.lang),
        )
    )
    st.subheader(b.title, anchor=False)
    downloads(c, b)
    if b.is_empty:
        st.info(b.paragraphs[0])
        return
    figures(c, b)
    for p in b.paragraphs:
        st.markdown(md_escape(p))
    names = [
        c.t("rep.tab.league"),
        c.t("rep.tab.honour"),
        c.t("rep.tab.overdue", n=len(b.overdue_cases)),
        c.t("rep.tab.escalations", n=len(b.escalations)),
        c.t("rep.tab.charts"),
    ]
    if b.kind == "quarter":
        names.append(c.t("rep.tab.assessment"))
    # The charts are built only when their tab is opened (a rerun): the rest of the page
    # does not wait for them.
    tabs = st.tabs(names, key=TABS_KEY, on_change="rerun")
    with tabs[0]:
        table(c, b.report, b, "rep.league")
        st.caption(
            c.t(
                "bul.note",
                range=b.period.range_text(c.lang),
                as_of=bulletin.fmt_date(b.as_of, c.lang),
            )
        )
    with tabs[1]:
        honour_tab(c, b)
    with tabs[2]:
        overdue_tab(c, b)
    with tabs[3]:
        escalations_tab(c, b)
    with tabs[4]:
        if tabs[4].open:
            charts_tab(c, _charted(c, b, (key, *args)))
    if b.kind == "quarter":
        with tabs[5]:
            assessment_tab(c, b, weights)


run_page(page_setup("reports"), page)
