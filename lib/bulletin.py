"""Bulletins (周调度、月通报、季考核): the documents the bureau sends to the handling units.

:func:`build_bulletin` computes everything a bulletin says, from one register snapshot, for a
week, month or quarter (:class:`Period`) as of a date; :func:`to_docx`, :func:`to_xlsx` and
:func:`to_markdown` write it as a Word document, an Excel workbook or Markdown.

Every figure is one that ``python -m lib report`` gives for the same range and ``as_of``:

* the cohort is the cases received in the period (and not after ``as_of``), exactly as the
  league table's (:func:`lib.metrics.league_table`, which ``report`` prints);
* the summary's totals are :func:`lib.metrics.summary` of that cohort (= the sums of the
  league table's rows); the league table is printed as is, with its ranks;
* 红榜 / 黑榜, the overdue units and the escalations are rows or cases of that same cohort;
* the change against the previous period compares with that period's cohort as of the same
  distance after it (``as_of`` moved back one week / month / quarter), i.e. with the figures
  the previous bulletin showed when it was made at the same point in its period; the document
  states that date, so ``report --from … --to … --as-of …`` reproduces it too;
* the charts are those of the satisfaction page (:mod:`lib.charts`), for the same cohort;
  the 三率 trend covers the 12 weeks (weekly) or 12 months (monthly, quarterly) up to the
  period's end, each period as of the same ``as_of``.

The workbook lists the case behind every count (one row per cohort case with a 1/0 column per
measure), so any number can be traced; no cell holds a formula. Bulletins show case ids,
titles, units and dates only, never personal data; they are built from ``Register.data(user)``
so a handler's bulletin covers their units only.

The quarterly assessment (季考核, :func:`quarter_assessment`) scores each unit over the
quarter with weights an administrator sets (settings ``quarter_month_weights`` and
``quarter_rate_weights``, see :class:`QuarterWeights`); by default the score is the SPEC §5
综合得分 of the quarter's cohort, i.e. ``report`` for the quarter. It also gives each unit's
score month by month (the trend).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from lib import charts, metrics, workflow
from lib.auth import User
from lib.i18n import DomainError, register_messages, t
from lib.register import ESCALATION_KIND, Register, RegisterData
from lib.reports import RISKY_PREFIXES, format_rate, write_report
from lib.reuse import shared_work

PERIOD_KINDS: tuple[str, ...] = ("week", "month", "quarter")
FREQ_OF: dict[str, str] = {"week": "W", "month": "M", "quarter": "Q"}
FORMATS: tuple[str, ...] = ("docx", "xlsx", "md")
RATE_WEIGHT_KEYS: tuple[str, ...] = (*metrics.THREE_RATES, "参评率")
DEFAULT_RATE_WEIGHTS: tuple[float, ...] = (1.0, 1.0, 1.0, 0.0)
MONTH_WEIGHTS_KEY = "quarter_month_weights"
RATE_WEIGHTS_KEY = "quarter_rate_weights"
ISSUER_KEY = "bulletin_issuer"
# English names accepted for the rate weights, besides the Chinese column names.
_RATE_ALIASES: dict[str, str] = {
    "accept": "及时受理率",
    "acceptance": "及时受理率",
    "handle": "按期办结率",
    "conclusion": "按期办结率",
    "satisfaction": "群众满意率",
    "evaluation": "参评率",
    "及时受理": "及时受理率",
    "按期办结": "按期办结率",
    "群众满意": "群众满意率",
    "满意率": "群众满意率",
    "参评": "参评率",
}
# How many units the 红榜 and 黑榜 name at most.
HONOUR_SIZE = 3
# Score change within this (in rate units) counts as steady in the quarter trend.
TREND_EPS = 0.005

# Fonts of a Chinese official document (GB/T 9704): title 方正小标宋, body 仿宋, level-1
# headings 黑体, level-2 楷体; digits and Latin in Times New Roman. Word and WPS substitute
# a font a machine lacks; LibreOffice falls back to the installed CJK fonts.
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋"
H1_FONT = "黑体"
H2_FONT = "楷体"
LATIN_FONT = "Times New Roman"
PAGE_NUMBER_FONT = "宋体"

_CN_NUM = "零一二三四五六七八九十"

register_messages(
    {
        "err.bulletin_period": (
            "不支持的通报周期“{kind}”（可选：week 周、month 月、quarter 季度）",
            "Unsupported bulletin period “{kind}” (use week, month or quarter)",
        ),
        "err.bulletin_format": (
            "不支持的通报格式“{fmt}”（可选：docx、xlsx、md）",
            "Unsupported bulletin format “{fmt}” (use docx, xlsx or md)",
        ),
        "err.quarter_weights": (
            "季度考核权重“{value}”无效：{reason}",
            "Quarterly weights “{value}” are not valid: {reason}",
        ),
        "err.weights_months": (
            "应为 3 个非负数，以逗号分隔，如 1,1,2",
            "expected 3 non-negative numbers separated by commas, e.g. 1,1,2",
        ),
        "err.weights_rates": (
            "应为“指标:权重”，以逗号分隔，指标为 及时受理率、按期办结率、群众满意率、参评率，"
            "如 及时受理率:3,按期办结率:3,群众满意率:4",
            "expected “measure:weight” pairs separated by commas, the measures being 及时受理率, "
            "按期办结率, 群众满意率 and 参评率, e.g. 及时受理率:3,按期办结率:3,群众满意率:4",
        ),
        "err.weights_zero": ("权重之和必须大于 0", "the weights must not all be 0"),
        # periods
        "bul.kind.week": ("周调度", "weekly dispatch"),
        "bul.kind.month": ("月通报", "monthly bulletin"),
        "bul.kind.quarter": ("季考核", "quarterly assessment"),
        "bul.label.week": ("{year}年第{week}周", "week {week} of {year}"),
        "bul.label.month": ("{year}年{month}月", "{month_name} {year}"),
        "bul.label.quarter": ("{year}年第{quarter_cn}季度", "Q{quarter} {year}"),
        "bul.prev.week": ("上周", "the previous week"),
        "bul.prev.month": ("上月", "the previous month"),
        "bul.prev.quarter": ("上季度", "the previous quarter"),
        "bul.range": ("{start}至{end}", "{start} to {end}"),
        # the document
        "bul.title.week": (
            "关于{label}网民留言办理情况的调度通报",
            "Weekly dispatch on the handling of online messages, {label}",
        ),
        "bul.title.month": (
            "关于{label}网民留言办理情况的通报",
            "Bulletin on the handling of online messages, {label}",
        ),
        "bul.title.quarter": (
            "关于{label}网民留言办理情况的考核通报",
            "Quarterly assessment of the handling of online messages, {label}",
        ),
        "bul.subtitle": ("（{range}，数据截至{as_of}）", "({range}; figures as of {as_of})"),
        "bul.addressee": (
            "各区市县、市直有关部门：",
            "To the districts, counties and municipal departments:",
        ),
        "bul.intro": (
            "现将{label}网民留言办理情况通报如下。",
            "The handling of online messages in {label} is reported as follows.",
        ),
        "bul.h.overview": ("总体情况", "Overview"),
        "bul.h.units": ("各单位办理情况", "The handling units"),
        "bul.h.red": ("红榜", "Best units"),
        "bul.h.black": ("黑榜", "Units to improve"),
        "bul.h.overdue": ("逾期未办情况", "Overdue cases"),
        "bul.h.escalations": (
            "提请纪委监委问责情况",
            "Cases referred to the discipline commission",
        ),
        "bul.h.charts": ("群众满意度分析", "Satisfaction"),
        "bul.h.assessment": ("季度考核情况", "Quarterly assessment"),
        "bul.h.requirements": ("工作要求", "Requirements"),
        "bul.empty": (
            "{label}（{range}）未登记网民留言，本期无办理数据可通报。",
            "No online messages were registered in {label} ({range}); there are no figures "
            "to report for this period.",
        ),
        "bul.s.received": (
            "{label}（{range}），共登记网民留言{cases}件，已交办{assigned}件{unassigned}。",
            "In {label} ({range}), {cases} online messages were registered and {assigned} "
            "assigned{unassigned}.",
        ),
        "bul.s.unassigned": ("，尚未交办{n}件", " ({n} not yet assigned)"),
        "bul.s.progress": (
            "截至{as_of}，已办结{concluded}件，群众参评{evaluated}件{detail}。",
            "By {as_of}, {concluded} were concluded and {evaluated} rated by the "
            "petitioners{detail}.",
        ),
        "bul.s.detail": (
            "，其中满意（含基本满意）{satisfied}件、不满意{unsatisfied}件",
            ": {satisfied} satisfied (incl. basically) and {unsatisfied} unsatisfied",
        ),
        "bul.na": ("暂无", "n/a"),
        "bul.s.rates": (
            "及时受理率{accept}，按期办结率{handle}，群众满意率{satisfaction}，参评率{evaluation}。",
            "On-time acceptance {accept}, on-time conclusion {handle}, satisfaction "
            "{satisfaction}, evaluation rate {evaluation}.",
        ),
        "bul.s.compare": (
            "与{prev}相比（{prev}数据截至{prev_as_of}），留言量{cases}，及时受理率{accept}，"
            "按期办结率{handle}，群众满意率{satisfaction}，参评率{evaluation}。",
            "Compared with {prev} (figures as of {prev_as_of}): messages {cases}; on-time "
            "acceptance {accept}; on-time conclusion {handle}; satisfaction {satisfaction}; "
            "evaluation rate {evaluation}.",
        ),
        "bul.s.overdue": (
            "本期留言中仍有逾期未受理{accept}件、逾期未办结{handle}件，涉及{units}个单位。",
            "Of this period's messages, {accept} are overdue for acceptance and {handle} "
            "overdue for conclusion, in {units} units.",
        ),
        "bul.s.no_overdue": (
            "本期留言暂无逾期未受理、逾期未办结案件。",
            "None of this period's messages is overdue.",
        ),
        "bul.up_pp": ("上升{x}个百分点", "up {x} points"),
        "bul.down_pp": ("下降{x}个百分点", "down {x} points"),
        "bul.same": ("持平", "unchanged"),
        "bul.no_compare": ("无可比数据", "not comparable"),
        "bul.more": ("增加{n}件", "up {n}"),
        "bul.more_pct": ("增加{n}件（增长{pct}）", "up {n} ({pct})"),
        "bul.fewer_pct": ("减少{n}件（下降{pct}）", "down {n} ({pct})"),
        "bul.red": (
            "综合得分位居前列的单位：{units}。",
            "The units with the highest scores: {units}.",
        ),
        "bul.black": (
            "综合得分排名靠后的单位：{units}。请上述单位认真分析原因，切实抓好整改。",
            "The units with the lowest scores: {units}. They are asked to find the causes "
            "and put them right.",
        ),
        "bul.no_ranking": (
            "本期暂无可排名的单位（尚无可计算的办理指标）。",
            "No unit can be ranked in this period yet (no measure can be computed).",
        ),
        "bul.overdue_intro": (
            "以下单位有逾期未办案件（案件清单见同期 Excel 明细表“逾期案件”）：",
            "These units have overdue cases (the workbook's sheet “Overdue” lists them):",
        ),
        "bul.escalations_intro": (
            "本期留言中提请纪委监委问责{n}件：",
            "{n} of this period's cases were referred to the discipline commission:",
        ),
        "bul.no_escalations": (
            "本期留言中无提请纪委监委问责案件。",
            "None of this period's cases was referred to the discipline commission.",
        ),
        "bul.charts_intro": (
            "本期群众评价及留言分布情况见下图（数据截至{as_of}）。",
            "The charts below show the evaluations and where the messages came from (as of "
            "{as_of}).",
        ),
        "bul.figure": ("图{n}　{title}", "Figure {n}. {title}"),
        "bul.chart.rates": ("三率及参评率走势", "The three rates and the evaluation rate"),
        "bul.chart.units": ("各单位群众评价", "Evaluations by unit"),
        "bul.chart.domain": ("按领域群众评价", "Evaluations by domain"),
        "bul.chart.type": ("按类型群众评价", "Evaluations by type"),
        "bul.chart.volume": ("各区县分领域留言量", "Messages by county and domain"),
        "bul.chart.trend": ("各单位季度内得分走势", "Each unit's score in the quarter"),
        "bul.assessment_intro": (
            "季度考核得分{method}。各单位考核结果如下：",
            "The quarterly score is {method}. The results:",
        ),
        "bul.requirements": (
            "请各单位对照通报情况，查找差距，对逾期未受理、逾期未办结案件抓紧办理，"
            "认真做好答复和回访工作，切实提高群众满意度。",
            "Each unit is asked to compare itself with these figures, clear its overdue "
            "cases without delay, and reply to and follow up with petitioners with care.",
        ),
        "bul.attachment": ("附件{n}", "Attachment {n}"),
        "bul.attachment_label": ("附件：", "Attachment: "),
        "bul.league_title": (
            "{label}各单位网民留言办理情况排名表",
            "League table of the handling units, {label}",
        ),
        "bul.note": (
            "注：统计对象为{range}登记的留言，数据截至{as_of}；综合得分为及时受理率、按期办结率、"
            "群众满意率中可计算者的平均值；“—”表示无可计算数据；未交办留言单列，不参与排名。",
            "Note: messages registered {range}, figures as of {as_of}; the score is the mean of "
            "the available rates among on-time acceptance, on-time conclusion and satisfaction; "
            "“—” means no value can be computed; unassigned messages are listed apart, unranked.",
        ),
        # weights
        "bul.w.default": (
            "按季度内全部留言计算综合得分（及时受理率、按期办结率、群众满意率等权平均）",
            "the score of all the quarter's messages (the mean of the three rates)",
        ),
        "bul.w.months": ("按各月得分加权（{weights}）", "the months' scores weighted {weights}"),
        "bul.w.quarter": ("按季度内全部留言计算", "computed over all the quarter's messages"),
        "bul.w.rates": ("，指标权重为{weights}", ", the measures weighted {weights}"),
        "bul.trend.up": ("↑ 上升", "↑ up"),
        "bul.trend.down": ("↓ 下降", "↓ down"),
        "bul.trend.flat": ("→ 持平", "→ steady"),
        # tables
        "bul.col.rank": ("排名", "Rank"),
        "bul.col.max_days": ("最长逾期天数", "Longest overdue (days)"),
        "bul.col.case_id": ("案件编号", "Case ID"),
        "bul.col.title": ("标题", "Title"),
        "bul.col.date": ("提请日期", "Referred on"),
        "bul.col.quarter_score": ("季度综合得分", "Quarter score"),
        "bul.col.assessment": ("考核得分", "Assessment score"),
        "bul.col.assessment_rank": ("考核排名", "Assessment rank"),
        "bul.col.trend": ("走势", "Trend"),
        "bul.col.month_score": ("{month}得分", "{month} score"),
        # workbook
        "bul.sheet.about": ("说明", "About"),
        "bul.sheet.totals": ("总体情况", "Totals"),
        "bul.sheet.league": ("排名表", "League table"),
        "bul.sheet.cases": ("案件明细", "Cases"),
        "bul.sheet.overdue": ("逾期案件", "Overdue"),
        "bul.sheet.escalations": ("提请问责", "Escalations"),
        "bul.sheet.assessment": ("季度考核", "Quarterly assessment"),
        "bul.x.item": ("项目", "Item"),
        "bul.x.value": ("内容", "Value"),
        "bul.x.title": ("标题", "Title"),
        "bul.x.period": ("统计期间", "Period"),
        "bul.x.as_of": ("数据截至", "Figures as of"),
        "bul.x.prev": ("上期", "Previous period"),
        "bul.x.prev_as_of": ("上期数据截至", "Previous figures as of"),
        "bul.x.issued": ("生成日期", "Generated on"),
        "bul.x.guide": (
            "“案件明细”每行一件留言，各计数列为 1 或 0，按承办单位筛选求和即得排名表中的数字；"
            "“重复件计入单位”为该重复件计入的原件承办单位。",
            "“Cases” lists every message with a 1/0 column per count: filter by unit and add "
            "up to get the league table's numbers; a repeat message counts in the unit shown "
            "in its last column.",
        ),
        "bul.x.figure": ("指标", "Measure"),
        "bul.x.current": ("本期", "This period"),
        "bul.x.previous": ("上期", "Previous period"),
        "bul.x.change": ("变化", "Change"),
        "bul.c.stage": ("逾期环节", "Overdue at"),
        "bul.c.stage_accept": ("受理", "acceptance"),
        "bul.c.stage_handle": ("办结", "conclusion"),
        "bul.c.due": ("期限", "Due"),
        "bul.c.days": ("逾期天数", "Days overdue"),
        "bul.c.repeat_unit": ("重复件计入单位", "Repeat counts in"),
        "bul.c.satisfied": ("满意（含基本满意）", "Satisfied (incl. basically)"),
        "bul.c.eval_over": ("评价期满未评", "Evaluation window over"),
    }
)


# --- periods ---------------------------------------------------------------------------------


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def fmt_date(day: dt.date, lang: str = "zh", *, year: bool = True) -> str:
    """``2026年10月1日`` (``10月1日`` without the year); ISO in English."""
    if lang == "en":
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日" if year else f"{day.month}月{day.day}日"


@dataclass(frozen=True)
class Period:
    """A week (Monday–Sunday, ISO), calendar month or calendar quarter."""

    kind: str
    start: dt.date
    end: dt.date

    @classmethod
    def containing(cls, kind: str, day: dt.date | str) -> Period:
        """The week, month or quarter that contains ``day``."""
        if kind not in PERIOD_KINDS:
            raise DomainError("err.bulletin_period", kind=kind)
        d = _as_date(day)
        if kind == "week":
            start = d - dt.timedelta(days=d.weekday())
            return cls(kind, start, start + dt.timedelta(days=6))
        first_month = d.month if kind == "month" else 3 * ((d.month - 1) // 3) + 1
        start = dt.date(d.year, first_month, 1)
        last_month = first_month if kind == "month" else first_month + 2
        end = dt.date(d.year, last_month, calendar.monthrange(d.year, last_month)[1])
        return cls(kind, start, end)

    @property
    def freq(self) -> str:
        """The metrics frequency of this kind of period (W, M, Q)."""
        return FREQ_OF[self.kind]

    @property
    def code(self) -> str:
        """The metrics label of the period: ``2026-W42``, ``2026-10``, ``2026-Q3``."""
        return metrics.period_labels(self.start, self.start, self.freq)[0]

    def previous(self) -> Period:
        """The period just before this one."""
        return Period.containing(self.kind, self.start - dt.timedelta(days=1))

    def months(self) -> list[Period]:
        """The calendar months of this period (one for a month; three for a quarter)."""
        out, d = [], self.start
        while d <= self.end:
            m = Period.containing("month", d)
            out.append(m)
            d = m.end + dt.timedelta(days=1)
        return out

    def shift_back(self, day: dt.date) -> dt.date:
        """``day`` moved back by one period (a week, a month, a quarter; month ends clamp)."""
        if self.kind == "week":
            return day - dt.timedelta(days=7)
        back = 1 if self.kind == "month" else 3
        return (pd.Timestamp(day) - pd.DateOffset(months=back)).date()

    def label(self, lang: str = "zh") -> str:
        """``2026年10月``, ``2026年第三季度``, ``2026年第42周`` (English when ``lang='en'``)."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return t("bul.label.week", lang, year=year, week=week)
        if self.kind == "month":
            return t(
                "bul.label.month",
                lang,
                year=self.start.year,
                month=self.start.month,
                month_name=calendar.month_name[self.start.month],
            )
        q = (self.start.month - 1) // 3 + 1
        return t("bul.label.quarter", lang, year=self.start.year, quarter=q, quarter_cn=_CN_NUM[q])

    def range_text(self, lang: str = "zh") -> str:
        """``2026年10月1日至10月31日``."""
        same_year = self.start.year == self.end.year
        return t(
            "bul.range",
            lang,
            start=fmt_date(self.start, lang),
            end=fmt_date(self.end, lang, year=not same_year),
        )


def period_of(kind: str, day: dt.date | str) -> Period:
    """The ``kind`` (week, month, quarter) of period that contains ``day``."""
    return Period.containing(kind, day)


# --- quarterly weights -----------------------------------------------------------------------

_NUMBER = r"\s*([0-9]+(?:\.[0-9]+)?)\s*%?\s*"
_SPLIT = re.compile(r"[,，;；、\s]+")


def _num(text: str) -> float | None:
    m = re.fullmatch(_NUMBER, text)
    return float(m.group(1)) if m else None


def _weight_text(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class QuarterWeights:
    """How the quarterly assessment scores a unit.

    * ``months`` — ``None`` (default): score the quarter's whole cohort, as ``report`` for the
      quarter does; or three weights: the weighted mean of the unit's three monthly scores
      (months without a score are left out and the others' weights rescaled).
    * ``rates`` — weights of 及时受理率, 按期办结率, 群众满意率 and 参评率 in a score: the
      weighted mean of the rates a unit has (default 1, 1, 1, 0: the SPEC §5 综合得分).

    Settings text (the ``settings`` sheet): ``quarter_month_weights`` = ``"1,1,2"`` or empty;
    ``quarter_rate_weights`` = ``"及时受理率:3,按期办结率:3,群众满意率:4"`` (unnamed rates
    weigh 0; English names accept, handle, satisfaction, evaluation also work) or four
    numbers in that order, or empty.
    """

    months: tuple[float, float, float] | None = None
    rates: tuple[float, float, float, float] = DEFAULT_RATE_WEIGHTS  # type: ignore[assignment]

    @property
    def default_rates(self) -> bool:
        """True when the rates weigh as in the SPEC §5 score."""
        return _normalised(self.rates) == _normalised(DEFAULT_RATE_WEIGHTS)

    @property
    def is_default(self) -> bool:
        """True when the assessment score is the SPEC §5 score of the quarter."""
        return self.months is None and self.default_rates

    @classmethod
    def parse(cls, months: str | None = "", rates: str | None = "") -> QuarterWeights:
        """Read the two settings' texts; raises :class:`DomainError` when one is not valid."""
        return cls(parse_month_weights(months or ""), parse_rate_weights(rates or ""))

    @classmethod
    def from_settings(cls, settings: dict[str, str]) -> QuarterWeights:
        """The weights the register's settings define (DomainError when they are not valid)."""
        return cls.parse(settings.get(MONTH_WEIGHTS_KEY, ""), settings.get(RATE_WEIGHTS_KEY, ""))

    def month_text(self) -> str:
        """The canonical settings text of ``months`` ('' for the default)."""
        return "" if self.months is None else ",".join(_weight_text(w) for w in self.months)

    def rate_text(self) -> str:
        """The canonical settings text of ``rates`` ('' for the default)."""
        if self.default_rates:
            return ""
        return ",".join(
            f"{k}:{_weight_text(w)}" for k, w in zip(RATE_WEIGHT_KEYS, self.rates, strict=True)
        )

    def describe(self, lang: str = "zh") -> str:
        """The method in words, for the document."""
        if self.is_default:
            return t("bul.w.default", lang)
        if self.months is None:
            text = t("bul.w.quarter", lang)
        else:
            text = t("bul.w.months", lang, weights=":".join(_weight_text(w) for w in self.months))
        if not self.default_rates:
            named = [
                f"{metrics.column_label(k, lang)} {_weight_text(w)}"
                for k, w in zip(RATE_WEIGHT_KEYS, self.rates, strict=True)
                if w > 0
            ]
            sep = "、" if lang != "en" else ", "
            text += t("bul.w.rates", lang, weights=sep.join(named))
        return text

    def score(self, table: pd.DataFrame) -> pd.Series:
        """The weighted score of each row of a table with the rate columns (NaN: no rate)."""
        if self.default_rates and "综合得分" in table:
            return table["综合得分"].astype("float64")
        values = table[list(RATE_WEIGHT_KEYS)].astype("float64").to_numpy()
        w = np.asarray(self.rates, dtype="float64")
        have = ~np.isnan(values) & (w > 0)
        total = np.where(have, w, 0.0).sum(axis=1)
        num = np.where(have, np.nan_to_num(values) * w, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(total > 0, num / np.where(total > 0, total, 1.0), np.nan)
        return pd.Series(out, index=table.index, dtype="float64")


def _normalised(w: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(w)
    return tuple(round(x / total, 12) for x in w) if total else w


def _bad_weights(value: str, reason_key: str) -> DomainError:
    return DomainError("err.quarter_weights", value=value, reason=t(reason_key))


def parse_month_weights(text: str) -> tuple[float, float, float] | None:
    """``"1,1,2"`` → (1, 1, 2); ``""`` → None (score the quarter as a whole)."""
    raw = str(text).strip()
    if not raw:
        return None
    parts = [p for p in _SPLIT.split(raw) if p]
    nums = [_num(p) for p in parts]
    if len(nums) != 3 or any(n is None for n in nums):
        raise _bad_weights(raw, "err.weights_months")
    weights = tuple(float(n) for n in nums)  # type: ignore[arg-type]
    if sum(weights) <= 0:
        raise _bad_weights(raw, "err.weights_zero")
    return weights  # type: ignore[return-value]


def parse_rate_weights(text: str) -> tuple[float, float, float, float]:
    """``"及时受理率:3,按期办结率:3,群众满意率:4"`` or ``"3,3,4,0"`` → four weights.

    ``""`` gives the default (1, 1, 1, 0). Named form: unnamed measures weigh 0.
    """
    raw = str(text).strip()
    if not raw:
        return DEFAULT_RATE_WEIGHTS  # type: ignore[return-value]
    parts = [p for p in re.split(r"[,，;；、\n]+", raw) if p.strip()]
    if all(_num(p) is not None for p in parts):
        nums = [float(_num(p)) for p in parts]  # type: ignore[arg-type]
        if len(nums) == 3:
            nums.append(0.0)
        if len(nums) != 4:
            raise _bad_weights(raw, "err.weights_rates")
        weights = tuple(nums)
    else:
        found: dict[str, float] = {}
        for p in parts:
            m = re.fullmatch(r"\s*([^:：=\s]+)\s*[:：=]" + _NUMBER, p)
            if not m:
                raise _bad_weights(raw, "err.weights_rates")
            name = m.group(1).strip()
            key = name if name in RATE_WEIGHT_KEYS else _RATE_ALIASES.get(name.lower())
            if key is None or key in found:
                raise _bad_weights(raw, "err.weights_rates")
            found[key] = float(m.group(2))
        weights = tuple(found.get(k, 0.0) for k in RATE_WEIGHT_KEYS)
    if sum(weights) <= 0:
        raise _bad_weights(raw, "err.weights_zero")
    return weights  # type: ignore[return-value]


def save_quarter_weights(reg: Register, user: User, weights: QuarterWeights) -> None:
    """Store the weights in the register's settings (admin only, through the service layer)."""
    reg.set_setting(user, MONTH_WEIGHTS_KEY, weights.month_text())
    reg.set_setting(user, RATE_WEIGHTS_KEY, weights.rate_text())


# --- the quarterly assessment ----------------------------------------------------------------


@dataclass
class Assessment:
    """The quarterly assessment: per unit the quarter's rates, monthly scores and the result.

    ``table`` columns: 考核排名, 承办单位, 案件数, the three rates and 参评率 over the
    quarter, 季度综合得分 (= ``report``'s 综合得分 for the quarter), one score column per month
    (labelled by :attr:`months`), 考核得分, 走势. ``trend`` is long: 承办单位, 期间, 得分.
    """

    quarter: Period
    as_of: dt.date
    weights: QuarterWeights
    months: list[str]
    table: pd.DataFrame
    trend: pd.DataFrame


def quarter_assessment(
    cases: pd.DataFrame,
    instructions: pd.DataFrame | None,
    supervisions: pd.DataFrame | None,
    rules: workflow.Rules,
    *,
    quarter: Period,
    as_of: dt.date | str,
    weights: QuarterWeights | None = None,
) -> Assessment:
    """Score every unit of the quarter's cohort, month by month and for the quarter."""
    if quarter.kind != "quarter":
        quarter = Period.containing("quarter", quarter.start)
    w = weights or QuarterWeights()
    asof = _as_date(as_of)
    kw = {"date_from": quarter.start, "date_to": quarter.end, "as_of": asof}
    whole = metrics.league_table(cases, instructions, supervisions, rules, **kw)
    monthly = metrics.league_table(cases, instructions, supervisions, rules, freq="M", **kw)
    months = [m.code for m in quarter.months()]
    whole = whole[whole[metrics.UNIT] != metrics.UNASSIGNED].reset_index(drop=True)
    monthly = monthly[monthly[metrics.UNIT] != metrics.UNASSIGNED].reset_index(drop=True)
    monthly["_score"] = w.score(monthly)
    by_month = monthly.pivot_table(
        index=metrics.UNIT, columns=metrics.PERIOD, values="_score", aggfunc="first", dropna=False
    ).reindex(columns=months)
    by_month = by_month.reindex(whole[metrics.UNIT])
    out = pd.DataFrame({metrics.UNIT: whole[metrics.UNIT]})
    out["案件数"] = whole["案件数"].to_numpy()
    for c in RATE_WEIGHT_KEYS:
        out[c] = whole[c].to_numpy()
    out["季度综合得分"] = whole["综合得分"].to_numpy()
    for m in months:
        out[m] = by_month[m].to_numpy(dtype="float64")
    if w.months is None:
        out["考核得分"] = w.score(whole).to_numpy()
    else:
        vals = out[months].to_numpy(dtype="float64")
        mw = np.asarray(w.months, dtype="float64")
        have = ~np.isnan(vals) & (mw > 0)
        total = np.where(have, mw, 0.0).sum(axis=1)
        num = np.where(have, np.nan_to_num(vals) * mw, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["考核得分"] = np.where(total > 0, num / np.where(total > 0, total, 1.0), np.nan)
    out["考核排名"] = out["考核得分"].round(12).rank(method="min", ascending=False).astype("Int64")
    out["走势"] = [_trend(row) for row in out[months].to_numpy(dtype="float64")]
    out["_norank"] = out["考核排名"].isna()
    out = out.sort_values(["_norank", "考核排名", metrics.UNIT], kind="stable")
    cols = [
        "考核排名",
        metrics.UNIT,
        "案件数",
        *RATE_WEIGHT_KEYS,
        "季度综合得分",
        *months,
        "考核得分",
        "走势",
    ]
    table = out[cols].reset_index(drop=True)
    trend = table.melt(
        id_vars=[metrics.UNIT], value_vars=months, var_name=metrics.PERIOD, value_name=charts.SCORE
    )
    return Assessment(quarter, asof, w, months, table, trend)


def _trend(scores: np.ndarray) -> str:
    """``up``, ``down``, ``flat`` from the first to the last month with a score ('' if < 2)."""
    have = scores[~np.isnan(scores)]
    if len(have) < 2:
        return ""
    delta = have[-1] - have[0]
    return "up" if delta > TREND_EPS else ("down" if delta < -TREND_EPS else "flat")


def trend_label(code: str, lang: str = "zh") -> str:
    """``↑ 上升`` / ``↓ 下降`` / ``→ 持平`` / ``—``."""
    return t(f"bul.trend.{code}", lang) if code else t("no_value", lang)


# --- the bulletin ----------------------------------------------------------------------------


@dataclass
class ChartItem:
    """One chart of a bulletin: its key, caption, data and Altair chart."""

    key: str
    caption: str
    data: pd.DataFrame
    chart: Any
    width: int | None = 480  # printed width in px; None: the chart sizes itself


@dataclass
class Bulletin:
    """Everything a bulletin says (built by :func:`build_bulletin`)."""

    period: Period
    as_of: dt.date
    issued: dt.date
    previous: Period
    previous_as_of: dt.date
    lang: str
    issuer: str
    title: str
    league: pd.DataFrame  # metrics.LEAGUE_COLUMNS, the period's cohort
    totals: dict[str, Any]  # metrics.SUMMARY_COLUMNS
    previous_totals: dict[str, Any]
    red: pd.DataFrame
    black: pd.DataFrame
    overdue_units: pd.DataFrame
    overdue_cases: pd.DataFrame
    escalations: pd.DataFrame
    cases: pd.DataFrame  # one row per cohort case, a 1/0 column per count
    charts: list[ChartItem] = field(default_factory=list)
    assessment: Assessment | None = None
    paragraphs: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """week, month or quarter."""
        return self.period.kind

    @property
    def report(self) -> pd.DataFrame:
        """The league table as ``python -m lib report`` prints it (SPEC §8 columns)."""
        return self.league[list(metrics.REPORT_COLUMNS)]

    @property
    def is_empty(self) -> bool:
        """True when no message was registered in the period (up to ``as_of``)."""
        return int(self.totals.get("案件数", 0) or 0) == 0

    @property
    def subtitle(self) -> str:
        """``（2026年10月1日至10月31日，数据截至2026年11月5日）``."""
        return t(
            "bul.subtitle",
            self.lang,
            range=self.period.range_text(self.lang),
            as_of=fmt_date(self.as_of, self.lang),
        )


def _totals(table: pd.DataFrame) -> dict[str, Any]:
    if table.empty:
        return {c: (np.nan if c in metrics.RATE_COLUMNS else 0) for c in metrics.SUMMARY_COLUMNS}
    row = table.iloc[0]
    return {c: row[c] for c in metrics.SUMMARY_COLUMNS}


def _is_num(x: Any) -> bool:
    try:
        return x is not None and x is not pd.NA and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _pp(cur: Any, prev: Any, lang: str) -> str:
    """A rate's change in percentage points, in words."""
    if not (_is_num(cur) and _is_num(prev)):
        return t("bul.no_compare", lang)
    delta = (Decimal(repr(float(cur))) - Decimal(repr(float(prev)))) * 100
    x = abs(delta).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if x == 0:
        return t("bul.same", lang)
    return t("bul.up_pp" if delta > 0 else "bul.down_pp", lang, x=x)


def _rate_words(x: Any, lang: str) -> str:
    """A rate in a sentence: ``92.9%``, or ``暂无`` when it cannot be computed."""
    return format_rate(x, lang) if _is_num(x) else t("bul.na", lang)


def _count_change(cur: int, prev: int, lang: str) -> str:
    if cur == prev:
        return t("bul.same", lang)
    n = abs(cur - prev)
    if prev == 0:
        return t("bul.more", lang, n=n)
    pct = format_rate(n / prev, lang)
    return t("bul.more_pct" if cur > prev else "bul.fewer_pct", lang, n=n, pct=pct)


def _honour_lists(league: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """红榜 (best) and 黑榜 (worst first): up to :data:`HONOUR_SIZE` units each, ties kept
    together, never the same unit on both, and no 黑榜 when every score is equal."""
    ranked = league[(league[metrics.UNIT] != metrics.UNASSIGNED) & league["排名"].notna()]
    n = len(ranked)
    k = min(HONOUR_SIZE, n // 2)
    if k == 0:
        empty = ranked.iloc[0:0]
        return empty, empty
    ranks = ranked["排名"].astype("int64")
    red_cut = int(ranks.iloc[k - 1])
    red = ranked[ranks <= red_cut]
    black_cut = int(ranks.iloc[n - k])
    black = ranked[(ranks >= black_cut) & ~ranked.index.isin(red.index)]
    black = black.iloc[::-1]
    return red, black


def _case_table(
    sub: pd.DataFrame,
    all_cases: pd.DataFrame,
    instructions: pd.DataFrame | None,
    supervisions: pd.DataFrame | None,
    rules: workflow.Rules,
    as_of: dt.date,
) -> pd.DataFrame:
    """One row per cohort case: what it is, its dates as of ``as_of`` and a 1/0 per count.

    Summing a count column over the rows of a unit gives the league table's number (重复件
    counts in 重复件计入单位, as the league table does). Never any personal data.
    """
    if sub.empty:
        return pd.DataFrame(columns=CASE_COLUMNS)
    m = metrics.case_measures(sub, rules, as_of)
    d = workflow.derive_frame(sub, rules, pd.Timestamp(as_of))
    asof = np.datetime64(as_of, "ns")
    out = pd.DataFrame(index=sub.index)
    out["案件编号"] = sub["case_id"].astype(object)
    out["标题"] = sub["title"].astype(object)
    out["所属区县"] = sub["region"].astype(object)
    out["领域"] = sub["domain"].astype(object)
    out["类型"] = sub["type"].astype(object)
    out["登记日期"] = d["received_at"]
    unit = m["unit_asof"].astype(object)
    out["承办单位"] = unit.where(unit != "", metrics.UNASSIGNED)
    out["状态"] = m["status_asof"].astype(object)
    out["交办日期"] = d["assigned_at"]
    out["受理时限"] = m["accept_due"]
    out["受理日期"] = d["accepted_at"]
    out["不予受理日期"] = d["rejected_at"]
    out["办理时限"] = m["handle_due"]
    out["办结日期"] = d["concluded_at"]
    out["评价"] = m["evaluation_asof"].astype(object)
    out["评价日期"] = d["evaluated_at"]
    flags = {
        "及时受理数": "accept_on_time",
        "受理超期数": "accept_late",
        "按期办结数": "handle_on_time",
        "办结超期数": "handle_late",
        "参评数": "evaluated",
        "满意数": "satisfied",
        "评价期满未评": "eval_window_over",
        "待受理": "pending_accept",
        "办理中": "in_progress",
        "逾期未受理": "overdue_accept",
        "逾期未办结": "overdue_handle",
        "逾期总数": "overdue",
        "办结数": "concluded",
        "不满意": "unsatisfied",
    }
    for name, measure in flags.items():
        out[name] = m[measure].astype("int64")
    ev = m["evaluation_asof"]
    out["满意"] = (ev == "满意").astype("int64")
    out["基本满意"] = (ev == "基本满意").astype("int64")
    out["逾期天数"] = m["days_overdue"].astype("int64")

    def refs(frame: pd.DataFrame | None) -> pd.Series:
        if frame is None or frame.empty:
            return pd.Series(dtype="int64")
        dated = pd.to_datetime(frame["date"], errors="coerce") <= asof
        return frame.loc[dated, "case_id"].value_counts()

    ids = sub["case_id"]
    out["批示件数"] = (ids.map(refs(instructions)).fillna(0) > 0).astype("int64")
    out["督办次数"] = ids.map(refs(supervisions)).fillna(0).astype("int64")
    # A repeat counts in its original's unit as of as_of (SPEC §7; as metrics does), or in
    # its own unit when the original is not in the register.
    repeat_of = sub["repeat_of"].astype(object).where(sub["repeat_of"].notna(), "")
    is_repeat = repeat_of != ""
    out["重复件计入单位"] = ""
    if is_repeat.any():
        assigned = pd.to_datetime(all_cases["assigned_at"], errors="coerce") <= asof
        units = all_cases["unit"].astype(object).where(assigned & all_cases["unit"].notna(), "")
        original = pd.Series(units.to_numpy(), index=all_cases["case_id"].to_numpy())
        original = original[~original.index.duplicated(keep="first")]
        target = repeat_of[is_repeat].map(original)
        own = m["unit_asof"].astype(object)[is_repeat]
        counted = target.where(target.notna(), own)
        out.loc[is_repeat, "重复件计入单位"] = counted.where(counted != "", metrics.UNASSIGNED)
    return out[CASE_COLUMNS].reset_index(drop=True)


CASE_COLUMNS: list[str] = [
    "案件编号",
    "标题",
    "所属区县",
    "领域",
    "类型",
    "登记日期",
    "承办单位",
    "状态",
    "交办日期",
    "受理时限",
    "受理日期",
    "不予受理日期",
    "办理时限",
    "办结日期",
    "评价",
    "评价日期",
    "及时受理数",
    "受理超期数",
    "按期办结数",
    "办结超期数",
    "参评数",
    "满意数",
    "满意",
    "基本满意",
    "不满意",
    "评价期满未评",
    "待受理",
    "办理中",
    "逾期未受理",
    "逾期未办结",
    "逾期总数",
    "逾期天数",
    "办结数",
    "批示件数",
    "督办次数",
    "重复件计入单位",
]
# Count columns of the case list that sum to the league table's columns of the same name.
CASE_COUNT_COLUMNS: tuple[str, ...] = (
    "及时受理数",
    "受理超期数",
    "按期办结数",
    "办结超期数",
    "参评数",
    "满意数",
    "满意",
    "基本满意",
    "不满意",
    "待受理",
    "办理中",
    "逾期未受理",
    "逾期未办结",
    "逾期总数",
    "办结数",
    "批示件数",
    "督办次数",
)


def _trend_start(period: Period) -> dt.date:
    """Where the 三率 trend chart starts: 12 weeks (weekly) or 12 months back."""
    if period.kind == "week":
        return period.start - dt.timedelta(weeks=11)
    last_month = Period.containing("month", period.end).start
    return (pd.Timestamp(last_month) - pd.DateOffset(months=11)).date()


def _chart_items(data: RegisterData, period: Period, as_of: dt.date, lang: str) -> list[ChartItem]:
    """The satisfaction page's charts for the bulletin's cohort (and the 三率 trend)."""
    cases, rules = data.cases, data.rules
    kw = {"date_from": period.start, "date_to": period.end, "as_of": as_of}
    freq = "W" if period.kind == "week" else "M"
    rates = charts.rates_data(
        cases, rules, date_from=_trend_start(period), date_to=period.end, as_of=as_of, freq=freq
    )
    units = charts.unit_evaluation_data(cases, data.instructions, data.supervisions, rules, **kw)
    domain = charts.field_evaluation_data(cases, rules, "domain", **kw)
    kinds = charts.field_evaluation_data(cases, rules, "type", **kw)
    volume = charts.volume_data(cases, **kw)
    items = [
        ChartItem("rates", t("bul.chart.rates", lang), rates, charts.rates_chart(rates, lang)),
        ChartItem(
            "units", t("bul.chart.units", lang), units, charts.unit_evaluation_chart(units, lang)
        ),
        ChartItem(
            "domain",
            t("bul.chart.domain", lang),
            domain,
            charts.field_evaluation_chart(domain, lang),
        ),
        ChartItem(
            "type", t("bul.chart.type", lang), kinds, charts.field_evaluation_chart(kinds, lang)
        ),
        ChartItem("volume", t("bul.chart.volume", lang), volume, charts.volume_chart(volume, lang)),
    ]
    # A chart with nothing to show is left out of the document rather than drawn empty.
    return [i for i in items if _has_data(i)]


def _has_data(item: ChartItem) -> bool:
    frame = item.data
    if frame.empty:
        return False
    if item.key == "rates":
        return bool(frame[list(charts.RATE_SERIES)].notna().any().any())
    if "参评数" in frame:
        return int(frame["参评数"].sum()) > 0
    return True


def build_bulletin(
    data: RegisterData,
    kind: str,
    day: dt.date | str,
    *,
    as_of: dt.date | str,
    issued: dt.date | str | None = None,
    lang: str = "zh",
    issuer: str | None = None,
    weights: QuarterWeights | None = None,
    with_charts: bool = True,
) -> Bulletin:
    """The bulletin of the ``kind`` period (week, month, quarter) containing ``day``.

    ``data`` is what the user may see (``Register.data(user)``); ``as_of`` as in ``report``
    (pages and the CLI pass today by default). ``issued`` dates the document (default
    ``as_of``); ``issuer`` signs it (default: the ``bulletin_issuer`` setting). A quarterly
    bulletin carries the assessment, with ``weights`` or else those of the settings
    (DomainError when the settings' weights are not valid). ``with_charts=False`` skips the
    charts (faster, for previews).
    """
    # The league table, totals, case list and charts measure the same cohorts: once each.
    with shared_work():
        return _build_bulletin(
            data, kind, day, as_of, issued, lang, issuer, weights, with_charts=with_charts
        )


def _build_bulletin(
    data: RegisterData,
    kind: str,
    day: dt.date | str,
    as_of: dt.date | str,
    issued: dt.date | str | None,
    lang: str,
    issuer: str | None,
    weights: QuarterWeights | None,
    *,
    with_charts: bool,
) -> Bulletin:
    period = Period.containing(kind, day)
    asof = _as_date(as_of)
    previous = period.previous()
    prev_asof = period.shift_back(asof)
    cases, instr, sup, rules = data.cases, data.instructions, data.supervisions, data.rules
    kw = {"date_from": period.start, "date_to": period.end, "as_of": asof}
    league = metrics.league_table(cases, instr, sup, rules, **kw)
    totals = _totals(metrics.summary(cases, instr, sup, rules, **kw))
    previous_totals = _totals(
        metrics.summary(
            cases,
            instr,
            sup,
            rules,
            date_from=previous.start,
            date_to=previous.end,
            as_of=prev_asof,
        )
    )
    sub = charts.cohort(cases, **kw)
    case_table = _case_table(sub, cases, instr, sup, rules, asof)
    red, black = _honour_lists(league)
    overdue_units, overdue_cases = _overdue(league, case_table)
    escalations = _escalations(sup, case_table, asof)
    if issuer is None:
        issuer = str(data.settings.get(ISSUER_KEY, "") or "")
    b = Bulletin(
        period=period,
        as_of=asof,
        issued=_as_date(issued) if issued is not None else asof,
        previous=previous,
        previous_as_of=prev_asof,
        lang=lang,
        issuer=issuer,
        title=t(f"bul.title.{period.kind}", lang, label=period.label(lang)),
        league=league,
        totals=totals,
        previous_totals=previous_totals,
        red=red,
        black=black,
        overdue_units=overdue_units,
        overdue_cases=overdue_cases,
        escalations=escalations,
        cases=case_table,
    )
    if not b.is_empty:
        if period.kind == "quarter":
            w = weights if weights is not None else QuarterWeights.from_settings(data.settings)
            b.assessment = quarter_assessment(
                cases, instr, sup, rules, quarter=period, as_of=asof, weights=w
            )
        if with_charts:
            b.charts = _charts_of(data, b)
    b.paragraphs = _overview(b)
    return b


def with_charts(data: RegisterData, b: Bulletin) -> Bulletin:
    """``b`` with its charts (a copy; ``b`` was built with ``with_charts=False``).

    ``data`` must be what ``b`` was built from. The Word document prints the charts; a page
    that shows them only on request builds the bulletin without them first.
    """
    if b.charts or b.is_empty:
        return b
    with shared_work():
        return replace(b, charts=_charts_of(data, b))


def _charts_of(data: RegisterData, b: Bulletin) -> list[ChartItem]:
    items = _chart_items(data, b.period, b.as_of, b.lang)
    if b.assessment is not None and b.assessment.trend["得分"].notna().any():
        items.append(
            ChartItem(
                "trend",
                t("bul.chart.trend", b.lang),
                b.assessment.trend,
                charts.score_trend_chart(b.assessment.trend, b.lang, small_multiples=True),
                width=None,
            )
        )
    return items


def _overdue(league: pd.DataFrame, cases: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units with overdue cases (counts from the league table) and the overdue cases."""
    cols = [metrics.UNIT, "逾期未受理", "逾期未办结", "逾期总数"]
    units = league.loc[league["逾期总数"] > 0, cols].copy()
    over = cases[cases["逾期总数"] == 1] if len(cases) else cases
    longest = over.groupby("承办单位")["逾期天数"].max() if len(over) else pd.Series(dtype="int64")
    units["最长逾期天数"] = units[metrics.UNIT].map(longest).fillna(0).astype("int64")
    units = units.sort_values(["逾期总数", metrics.UNIT], ascending=[False, True], kind="stable")
    if over.empty:
        listed = pd.DataFrame(columns=OVERDUE_COLUMNS)
    else:
        listed = over.copy()
        at_accept = listed["逾期未受理"] == 1
        listed["逾期环节"] = np.where(at_accept, "受理", "办结")
        listed["期限"] = listed["受理时限"].where(at_accept, listed["办理时限"])
        listed = listed.sort_values(["逾期天数", "案件编号"], ascending=[False, True])[
            OVERDUE_COLUMNS
        ]
    return units.reset_index(drop=True), listed.reset_index(drop=True)


OVERDUE_COLUMNS: list[str] = [
    "案件编号",
    "标题",
    "承办单位",
    "登记日期",
    "交办日期",
    "逾期环节",
    "期限",
    "逾期天数",
]
ESCALATION_COLUMNS: list[str] = ["案件编号", "标题", "承办单位", "提请日期"]


def _escalations(
    supervisions: pd.DataFrame | None, cases: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """The cohort's cases referred to the discipline commission by ``as_of`` (no reasons:
    a reason may name people)."""
    if supervisions is None or supervisions.empty or cases.empty:
        return pd.DataFrame(columns=ESCALATION_COLUMNS)
    dates = pd.to_datetime(supervisions["date"], errors="coerce")
    esc = supervisions[
        (supervisions["kind"] == ESCALATION_KIND)
        & (dates <= pd.Timestamp(as_of))
        & supervisions["case_id"].isin(cases["案件编号"])
    ]
    if esc.empty:
        return pd.DataFrame(columns=ESCALATION_COLUMNS)
    first = (
        esc.assign(提请日期=pd.to_datetime(esc["date"]))
        .groupby("case_id", as_index=False)["提请日期"]
        .min()
    )
    out = cases[["案件编号", "标题", "承办单位"]].merge(
        first, left_on="案件编号", right_on="case_id", how="inner"
    )
    out = out.sort_values(["提请日期", "案件编号"], kind="stable")
    return out[ESCALATION_COLUMNS].reset_index(drop=True)


def _unit_list(frame: pd.DataFrame, lang: str) -> str:
    sep = "、" if lang != "en" else "; "
    items = [
        f"{_unit_name(r[metrics.UNIT], lang)}（{format_rate(r['综合得分'], lang)}）"
        if lang != "en"
        else f"{_unit_name(r[metrics.UNIT], lang)} ({format_rate(r['综合得分'], lang)})"
        for _, r in frame.iterrows()
    ]
    return sep.join(items)


def _unit_name(unit: Any, lang: str) -> str:
    return t("unassigned", lang) if unit == metrics.UNASSIGNED else str(unit)


def _overview(b: Bulletin) -> list[str]:
    """The summary paragraphs, written from the figures."""
    lang, tot, prev = b.lang, b.totals, b.previous_totals
    label, rng = b.period.label(lang), b.period.range_text(lang)
    if b.is_empty:
        return [t("bul.empty", lang, label=label, range=rng)]
    n_unassigned = int(tot["未交办数"])
    unassigned = t("bul.s.unassigned", lang, n=n_unassigned) if n_unassigned else ""
    first = t(
        "bul.s.received",
        lang,
        label=label,
        range=rng,
        cases=int(tot["案件数"]),
        assigned=int(tot["已交办数"]),
        unassigned=unassigned,
    )
    first += t(
        "bul.s.progress",
        lang,
        as_of=fmt_date(b.as_of, lang),
        concluded=int(tot["办结数"]),
        evaluated=int(tot["参评数"]),
        detail=t("bul.s.detail", lang, satisfied=int(tot["满意数"]), unsatisfied=int(tot["不满意"]))
        if int(tot["参评数"])
        else "",
    )
    rate_keys = {
        "accept": "及时受理率",
        "handle": "按期办结率",
        "satisfaction": "群众满意率",
        "evaluation": "参评率",
    }
    second = t("bul.s.rates", lang, **{k: _rate_words(tot[c], lang) for k, c in rate_keys.items()})
    second += t(
        "bul.s.compare",
        lang,
        prev=t(f"bul.prev.{b.kind}", lang),
        prev_as_of=fmt_date(b.previous_as_of, lang),
        cases=_count_change(int(tot["案件数"]), int(prev["案件数"]), lang),
        **{k: _pp(tot[c], prev[c], lang) for k, c in rate_keys.items()},
    )
    if int(tot["逾期总数"]):
        third = t(
            "bul.s.overdue",
            lang,
            accept=int(tot["逾期未受理"]),
            handle=int(tot["逾期未办结"]),
            units=len(b.overdue_units),
        )
    else:
        third = t("bul.s.no_overdue", lang)
    if lang == "en":
        return [first.replace("。", "."), second, third]
    return [first, second + third]


# --- presentation helpers --------------------------------------------------------------------

# Column -> message key of its header, for the columns the metrics module does not name.
_HEADER_KEYS: dict[str, str] = {
    "排名": "bul.col.rank",
    "最长逾期天数": "bul.col.max_days",
    "案件编号": "bul.col.case_id",
    "标题": "bul.col.title",
    "提请日期": "bul.col.date",
    "季度综合得分": "bul.col.quarter_score",
    "考核得分": "bul.col.assessment",
    "考核排名": "bul.col.assessment_rank",
    "走势": "bul.col.trend",
    "逾期环节": "bul.c.stage",
    "期限": "bul.c.due",
    "逾期天数": "bul.c.days",
    "重复件计入单位": "bul.c.repeat_unit",
    "评价期满未评": "bul.c.eval_over",
    "指标": "bul.x.figure",
    "本期": "bul.x.current",
    "上期": "bul.x.previous",
}
_CASE_FIELD_HEADERS: dict[str, str] = {
    "所属区县": "region",
    "领域": "domain",
    "类型": "type",
    "登记日期": "received_at",
    "状态": "status",
    "交办日期": "assigned_at",
    "受理时限": "accept_due",
    "受理日期": "accepted_at",
    "不予受理日期": "rejected_at",
    "办理时限": "handle_due",
    "办结日期": "concluded_at",
    "评价": "evaluation",
    "评价日期": "evaluated_at",
}


def header(column: str, lang: str = "zh", months: dict[str, str] | None = None) -> str:
    """A column's header in the documents (Chinese, or English)."""
    if months and column in months:
        return months[column]
    if lang != "en":
        return column
    if column in _HEADER_KEYS:
        return t(_HEADER_KEYS[column], lang)
    if column in _CASE_FIELD_HEADERS:
        from lib.schema import default_schema

        try:
            return default_schema()["cases"].field(_CASE_FIELD_HEADERS[column]).label(lang)
        except KeyError:
            return column
    return metrics.column_label(column, lang)


def _month_headers(a: Assessment | None, lang: str) -> dict[str, str]:
    if a is None:
        return {}
    out = {}
    for code in a.months:
        month = int(code[-2:])
        name = f"{month}月" if lang != "en" else calendar.month_abbr[month]
        out[code] = t("bul.col.month_score", lang, month=name)
    return out


def _rate_columns(frame: pd.DataFrame, a: Assessment | None) -> set[str]:
    rates = {c for c in frame.columns if c in metrics.RATE_COLUMNS}
    rates |= {c for c in ("季度综合得分", "考核得分", "群众满意率") if c in frame.columns}
    if a is not None:
        rates |= {c for c in a.months if c in frame.columns}
    return rates


def _cell_text(value: Any, is_rate: bool, lang: str) -> str:
    if is_rate:
        return format_rate(value, lang)
    if value is None or value is pd.NA or value is pd.NaT:
        return t("no_value", lang)
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return t("no_value", lang)
        return f"{value:g}"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.integer):
        return str(int(value))
    text = str(value)
    if lang == "en" and text == metrics.UNASSIGNED:
        return t("unassigned", lang)
    return text


def display_frame(frame: pd.DataFrame, b: Bulletin | None = None, lang: str = "zh") -> pd.DataFrame:
    """A table of a bulletin as text the way the documents show it (rates as percentages,
    "—" for none, 走势 in words), with headers in ``lang``."""
    a = b.assessment if b is not None else None
    rates = _rate_columns(frame, a)
    months = _month_headers(a, lang)
    out = pd.DataFrame(index=frame.index)
    for c in frame.columns:
        if c == "走势":
            out[header(c, lang, months)] = frame[c].map(lambda v: trend_label(v, lang))
        else:
            out[header(c, lang, months)] = [_cell_text(v, c in rates, lang) for v in frame[c]]
    return out.reset_index(drop=True)


def _cn_index(n: int) -> str:
    if n <= 10:
        return _CN_NUM[n]
    return ("十" if n < 20 else _CN_NUM[n // 10] + "十") + (_CN_NUM[n % 10] if n % 10 else "")


class _Numbering:
    """一、二、… and （一）（二）… headings (1. 2. and 1.1 in English)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.h1 = 0
        self.h2 = 0

    def first(self, text: str) -> str:
        self.h1 += 1
        self.h2 = 0
        return f"{self.h1}. {text}" if self.lang == "en" else f"{_cn_index(self.h1)}、{text}"

    def second(self, text: str) -> str:
        self.h2 += 1
        if self.lang == "en":
            return f"{self.h1}.{self.h2} {text}"
        return f"（{_cn_index(self.h2)}）{text}"


def _honour_frame(frame: pd.DataFrame) -> pd.DataFrame:
    cols = ["排名", metrics.UNIT, "案件数", *metrics.THREE_RATES, "综合得分"]
    return frame[cols]


def _assessment_frame(a: Assessment) -> pd.DataFrame:
    cols = ["考核排名", metrics.UNIT, "案件数", "季度综合得分", *a.months, "考核得分", "走势"]
    return a.table[cols]


# --- Word ------------------------------------------------------------------------------------


def _set_run_font(run: Any, east: str, size: float | None = None, bold: bool | None = None):
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = LATIN_FONT
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), LATIN_FONT)
    rfonts.set(qn("w:eastAsia"), east)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    return run


def _setup_styles(doc: Any, lang: str) -> None:
    """Document defaults: explicit fonts (no theme fonts), Chinese language, single spacing."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rfonts = rpr.find(qn("w:rFonts"))
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), LATIN_FONT)
    rfonts.set(qn("w:eastAsia"), BODY_FONT)
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = OxmlElement("w:lang")
        rpr.append(lang_el)
    lang_el.set(qn("w:val"), "en-US")
    lang_el.set(qn("w:eastAsia"), "zh-CN")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(16)
    normal.font.name = LATIN_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)


def _page_setup(section: Any, landscape: bool) -> None:
    """A4, portrait with GB/T 9704 margins (text block 156 × 225 mm), or landscape."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21.0)
        section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
        section.left_margin, section.right_margin = Cm(2.5), Cm(2.5)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.header_distance = Cm(1.5)
    section.footer_distance = Cm(2.0)


def _page_number_footer(section: Any) -> None:
    """``— 1 —`` centred at the foot of every page."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_run_font(p.add_run("— "), PAGE_NUMBER_FONT, 14)
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    p._p.append(fld)
    _set_run_font(p.add_run(" —"), PAGE_NUMBER_FONT, 14)


class _Word:
    """A thin writer of the bulletin's paragraphs, headings, tables and figures."""

    def __init__(self, lang: str) -> None:
        from docx import Document

        self.doc = Document()
        self.lang = lang
        _setup_styles(self.doc, lang)
        section = self.doc.sections[0]
        _page_setup(section, landscape=False)
        _page_number_footer(section)
        self.width_cm = 15.6

    def _para(self, align: Any = None, indent_chars: float = 0, line_pt: float | None = 28):
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Pt

        p = self.doc.add_paragraph()
        f = p.paragraph_format
        if align is not None:
            p.alignment = align
        f.first_line_indent = Pt(16 * indent_chars) if indent_chars else None
        if line_pt:
            f.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            f.line_spacing = Pt(line_pt)
        f.space_before = Pt(0)
        f.space_after = Pt(0)
        return p

    def title(self, lines: list[str]) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        p = self._para(WD_ALIGN_PARAGRAPH.CENTER, line_pt=34)
        p.paragraph_format.space_after = Pt(6)
        for i, line in enumerate(lines):
            run = _set_run_font(p.add_run(line), TITLE_FONT, 22)
            if i < len(lines) - 1:
                run.add_break()

    def centered(self, text: str, size: float = 16, font: str = H2_FONT) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p = self._para(WD_ALIGN_PARAGRAPH.CENTER)
        _set_run_font(p.add_run(text), font, size)

    def blank(self) -> None:
        self._para()

    def text(
        self,
        text: str,
        *,
        indent: bool = True,
        font: str = BODY_FONT,
        size: float = 16,
        justify: bool = True,
    ):
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        align = WD_ALIGN_PARAGRAPH.JUSTIFY if justify else WD_ALIGN_PARAGRAPH.LEFT
        line = 28 if size >= 14 else size * 1.6
        p = self._para(align, indent_chars=(2 * size / 16) if indent else 0, line_pt=line)
        _set_run_font(p.add_run(text), font, size)
        return p

    def h1(self, text: str) -> None:
        p = self._para(indent_chars=2)
        p.paragraph_format.keep_with_next = True
        _set_run_font(p.add_run(text), H1_FONT, 16)

    def h2(self, text: str) -> None:
        p = self._para(indent_chars=2)
        p.paragraph_format.keep_with_next = True
        _set_run_font(p.add_run(text), H2_FONT, 16)

    def right(self, text: str, right_chars: float = 4) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        p = self._para(WD_ALIGN_PARAGRAPH.RIGHT)
        p.paragraph_format.right_indent = Pt(16 * right_chars)
        _set_run_font(p.add_run(text), BODY_FONT, 16)

    def table(
        self,
        frame: pd.DataFrame,
        shown: pd.DataFrame,
        *,
        width_cm: float,
        size: float = 10.5,
        wrap_columns: tuple[str, ...] = (),
    ) -> Any:
        """``shown`` (text, display headers) as a grid table ``width_cm`` wide; the columns of
        ``frame`` named in ``wrap_columns`` are left-aligned and get the spare width."""
        from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Cm, Pt

        cols = list(shown.columns)
        keys = list(frame.columns)
        widths = _column_widths(shown, keys, width_cm, size, wrap_columns)
        table = self.doc.add_table(rows=1 + len(shown), cols=len(cols))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tbl_pr = table._tbl.tblPr
        layout = OxmlElement("w:tblLayout")
        layout.set(qn("w:type"), "fixed")
        tbl_pr.append(layout)
        margins = OxmlElement("w:tblCellMar")
        for side in ("left", "right"):
            m = OxmlElement(f"w:{side}")
            m.set(qn("w:w"), "57")  # 0.1 cm
            m.set(qn("w:type"), "dxa")
            margins.append(m)
        tbl_pr.append(margins)
        for j, w in enumerate(widths):
            table.columns[j].width = Cm(w)
        for i, row in enumerate(table.rows):
            tr_pr = row._tr.get_or_add_trPr()
            no_split = OxmlElement("w:cantSplit")
            tr_pr.append(no_split)
            if i == 0:
                head = OxmlElement("w:tblHeader")
                tr_pr.append(head)
            values = cols if i == 0 else list(shown.iloc[i - 1])
            for j, cell in enumerate(row.cells):
                cell.width = Cm(widths[j])
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                p = cell.paragraphs[0]
                p.paragraph_format.space_before = Pt(1)
                p.paragraph_format.space_after = Pt(1)
                wrap = keys[j] in wrap_columns
                p.alignment = (
                    WD_ALIGN_PARAGRAPH.LEFT if wrap and i > 0 else WD_ALIGN_PARAGRAPH.CENTER
                )
                font = H1_FONT if i == 0 else BODY_FONT
                _set_run_font(p.add_run(str(values[j])), font, size)
                if i == 0:
                    shade = OxmlElement("w:shd")
                    shade.set(qn("w:val"), "clear")
                    shade.set(qn("w:color"), "auto")
                    shade.set(qn("w:fill"), "E7E6E6")
                    cell._tc.get_or_add_tcPr().append(shade)
        return table

    def picture(self, png: bytes, caption: str, width_cm: float | None = None) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm

        w_px, h_px = charts.png_size(png)
        width = min(width_cm or self.width_cm, self.width_cm)
        height = width * h_px / max(w_px, 1)
        max_height = 19.0
        if height > max_height:
            width, height = width * max_height / height, max_height
        p = self._para(WD_ALIGN_PARAGRAPH.CENTER, line_pt=None)
        p.paragraph_format.keep_with_next = True
        p.add_run().add_picture(io.BytesIO(png), width=Cm(width), height=Cm(height))
        c = self._para(WD_ALIGN_PARAGRAPH.CENTER)
        _set_run_font(c.add_run(caption), H2_FONT, 14)

    def keep_together_from_here(self) -> None:
        """Paragraphs added from now until :meth:`keep_together_end` keep to one page."""
        self._keep_from = len(self.doc.paragraphs)

    def keep_together_end(self) -> None:
        block = self.doc.paragraphs[getattr(self, "_keep_from", len(self.doc.paragraphs)) :]
        for p in block[:-1]:
            p.paragraph_format.keep_with_next = True
            p.paragraph_format.keep_together = True

    def landscape_section(self) -> None:
        from docx.enum.section import WD_SECTION

        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        _page_setup(section, landscape=True)
        self.width_cm = 24.7

    def bytes(self, b: Bulletin) -> bytes:
        props = self.doc.core_properties
        props.title = b.title
        props.subject = t(f"bul.kind.{b.kind}", b.lang)
        props.author = b.issuer or ""
        props.last_modified_by = b.issuer or ""
        props.language = "zh-CN" if b.lang != "en" else "en-US"
        issued = dt.datetime.combine(b.issued, dt.time(9, 0))
        props.created = issued
        props.modified = issued
        props.revision = 1
        props.comments = ""
        props.keywords = ""
        props.category = ""
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def title_lines(title: str, label: str, max_width: float = 19.0) -> list[str]:
    """The title on one line, or on two broken where the meaning allows (after the period:
    "关于2026年第三季度" / "网民留言办理情况的考核通报"), as official documents break them."""
    if _text_width(title) <= max_width or not re.search(r"[\u4e00-\u9fff]", title):
        return [title]  # short enough, or Latin text, which Word wraps between words itself
    at = title.find(label)
    cut = at + len(label) if at >= 0 else -1
    if (
        0 < cut < len(title)
        and max(_text_width(title[:cut]), _text_width(title[cut:])) <= max_width
    ):
        return [title[:cut].rstrip(), title[cut:].lstrip()]
    half = len(title) // 2
    return [title[:half], title[half:]]


def _text_width(text: str) -> float:
    """Width in 'CJK characters' (Latin letters and digits count about half)."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)


def _column_widths(
    shown: pd.DataFrame,
    keys: list[str],
    total_cm: float,
    size: float,
    wrap_columns: tuple[str, ...],
) -> list[float]:
    """Column widths (cm) that fit ``total_cm``: each column as wide as its longest value (a
    header may wrap onto two lines); columns in ``wrap_columns`` share what is left."""
    char_cm = size / 72 * 2.54
    pad = 0.3
    need = []
    for j, c in enumerate(shown.columns):
        cells = [_text_width(str(v)) for v in shown.iloc[:, j]]
        head = _text_width(str(c))
        longest = max(cells, default=0.0)
        if keys[j] in wrap_columns:
            longest = min(longest, 8.0)
        need.append(max(longest, math.ceil(head / 2), 2.0) * char_cm + pad)
    total_need = sum(need)
    if total_need <= total_cm:
        # Spare width goes first to the text columns (up to 14 characters, so titles wrap
        # less), then to every column alike.
        spare = total_cm - total_need
        for j, k in enumerate(keys):
            if k in wrap_columns and spare > 0:
                longest = max((_text_width(str(v)) for v in shown.iloc[:, j]), default=0.0)
                extra = min(max(min(longest, 14.0) * char_cm + pad - need[j], 0.0), spare)
                need[j] += extra
                spare -= extra
        total = sum(need)
        return [w + spare * w / total for w in need]
    scale = total_cm / total_need
    return [w * scale for w in need]


def to_docx(b: Bulletin, *, images: bool = True) -> bytes:
    """The bulletin as a Word document (A4, Chinese official-document style), as bytes.

    ``images=False`` leaves the charts out (quicker; the text and tables are the same).
    """
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    lang = b.lang
    w = _Word(lang)
    num = _Numbering(lang)
    w.title(title_lines(b.title, b.period.label(lang)))
    w.centered(b.subtitle, size=14)
    w.blank()
    w.text(t("bul.addressee", lang), indent=False)
    w.text(t("bul.intro", lang, label=b.period.label(lang)))
    league_title = t("bul.league_title", lang, label=b.period.label(lang))
    if b.is_empty:
        for p in b.paragraphs:
            w.text(p)
        w.keep_together_from_here()
    else:
        w.h1(num.first(t("bul.h.overview", lang)))
        for p in b.paragraphs:
            w.text(p)
        w.h1(num.first(t("bul.h.units", lang)))
        w.h2(num.second(t("bul.h.red", lang)))
        if b.red.empty:
            w.text(t("bul.no_ranking", lang))
        else:
            w.text(t("bul.red", lang, units=_unit_list(b.red, lang)), justify=False)
            _word_table(w, _honour_frame(b.red), b, wrap=(metrics.UNIT,))
        w.h2(num.second(t("bul.h.black", lang)))
        if b.black.empty:
            w.text(t("bul.no_ranking", lang))
        else:
            w.text(t("bul.black", lang, units=_unit_list(b.black, lang)), justify=False)
            _word_table(w, _honour_frame(b.black), b, wrap=(metrics.UNIT,))
        w.h2(num.second(t("bul.h.overdue", lang)))
        if b.overdue_units.empty:
            w.text(t("bul.s.no_overdue", lang))
        else:
            w.text(t("bul.overdue_intro", lang))
            _word_table(w, b.overdue_units, b, wrap=(metrics.UNIT,))
        w.h1(num.first(t("bul.h.escalations", lang)))
        if b.escalations.empty:
            w.text(t("bul.no_escalations", lang))
        else:
            w.text(t("bul.escalations_intro", lang, n=len(b.escalations)))
            _word_table(w, b.escalations, b, wrap=("标题",))
        if b.assessment is not None:
            w.h1(num.first(t("bul.h.assessment", lang)))
            w.text(t("bul.assessment_intro", lang, method=b.assessment.weights.describe(lang)))
            _word_table(w, _assessment_frame(b.assessment), b, wrap=(metrics.UNIT,))
        figures = [c for c in b.charts if images]
        if figures:
            w.h1(num.first(t("bul.h.charts", lang)))
            w.text(t("bul.charts_intro", lang, as_of=fmt_date(b.as_of, lang)))
            for n, item in enumerate(figures, start=1):
                png = charts.chart_png(_sized(item), scale=2)
                w.picture(png, t("bul.figure", lang, n=n, title=item.caption))
        # The closing paragraph, the attachment line and the signature stay on one page:
        # a signature alone on a page is not acceptable in an official document.
        w.keep_together_from_here()
        w.h1(num.first(t("bul.h.requirements", lang)))
        w.text(t("bul.requirements", lang))
        w.blank()
        w.text(f"{t('bul.attachment_label', lang)}{league_title}")
    w.blank()
    w.blank()
    if b.issuer:
        w.right(b.issuer)
    w.right(fmt_date(b.issued, lang))
    w.keep_together_end()
    if not b.is_empty:
        w.landscape_section()
        p = w._para(line_pt=28)
        _set_run_font(p.add_run(t("bul.attachment", lang, n=1)), H1_FONT, 16)
        w.blank()
        p = w._para(WD_ALIGN_PARAGRAPH.CENTER, line_pt=30)
        _set_run_font(p.add_run(league_title), TITLE_FONT, 18)
        w.centered(b.subtitle, size=12, font=H2_FONT)
        _word_table(w, b.report, b, wrap=(metrics.UNIT,), size=10)
        note = t("bul.note", lang, range=b.period.range_text(lang), as_of=fmt_date(b.as_of, lang))
        w.text(note, indent=False, size=10.5)
    return w.bytes(b)


def _word_table(
    w: _Word, frame: pd.DataFrame, b: Bulletin, *, wrap: tuple[str, ...], size: float = 10.5
):
    shown = display_frame(frame, b, b.lang)
    w.table(frame, shown, width_cm=w.width_cm, size=size, wrap_columns=wrap)
    w.blank()


def _sized(item: ChartItem) -> Any:
    """The chart as the document prints it: at its width, without its own title (the
    caption below says it)."""
    chart = item.chart.properties(title="")
    return chart if item.width is None else chart.properties(width=item.width)


# --- Excel -----------------------------------------------------------------------------------


def _xlsx_sheets(b: Bulletin) -> list[tuple[str, pd.DataFrame]]:
    lang = b.lang
    about = pd.DataFrame(
        {
            "项目": [
                t("bul.x.title", lang),
                t("bul.x.period", lang),
                t("bul.x.as_of", lang),
                t("bul.x.prev", lang),
                t("bul.x.prev_as_of", lang),
                t("bul.x.issued", lang),
                "",
            ],
            "内容": [
                b.title,
                f"{b.period.label(lang)}（{b.period.range_text(lang)}）",
                b.as_of.isoformat(),
                f"{b.previous.label(lang)}（{b.previous.range_text(lang)}）",
                b.previous_as_of.isoformat(),
                b.issued.isoformat(),
                t("bul.x.guide", lang),
            ],
        }
    )
    about = about.rename(columns={"项目": t("bul.x.item", lang), "内容": t("bul.x.value", lang)})
    about = pd.concat(
        [
            about,
            pd.DataFrame(
                {about.columns[0]: [""] * len(b.paragraphs), about.columns[1]: b.paragraphs}
            ),
        ],
        ignore_index=True,
    )
    totals = pd.DataFrame(
        {
            "指标": list(metrics.SUMMARY_COLUMNS),
            "本期": [b.totals[c] for c in metrics.SUMMARY_COLUMNS],
            "上期": [b.previous_totals[c] for c in metrics.SUMMARY_COLUMNS],
        }
    )
    sheets = [
        (t("bul.sheet.about", lang), about),
        (t("bul.sheet.totals", lang), totals),
        (t("bul.sheet.league", lang), b.league),
        (t("bul.sheet.cases", lang), b.cases),
        (t("bul.sheet.overdue", lang), b.overdue_cases),
        (t("bul.sheet.escalations", lang), b.escalations),
    ]
    if b.assessment is not None:
        sheets.append((t("bul.sheet.assessment", lang), b.assessment.table))
    return sheets


def to_xlsx(b: Bulletin) -> bytes:
    """The bulletin's figures as an Excel workbook: 说明, 总体情况 (this and the previous
    period), 排名表 (the full league table), 案件明细 (every case with a 1/0 per count), 逾期案件,
    提请问责 and, for a quarter, 季度考核. Text is always a text cell, never a formula."""
    import xlsxwriter

    lang = b.lang
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties(
        {
            "title": b.title,
            "author": b.issuer or "",
            "created": dt.datetime.combine(b.issued, dt.time(9, 0)),
        }
    )
    base = {"font_name": "等线", "font_size": 11, "valign": "vcenter"}
    fmts = {
        "head": wb.add_format(
            {**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
        ),
        "text": wb.add_format(base),
        "quoted": wb.add_format({**base, "quote_prefix": True}),
        "wrap": wb.add_format({**base, "text_wrap": True}),
        "int": wb.add_format({**base, "num_format": "0"}),
        "num": wb.add_format({**base, "num_format": "0.00"}),
        "rate": wb.add_format({**base, "num_format": "0.0%"}),
        "date": wb.add_format({**base, "num_format": "yyyy-mm-dd"}),
    }
    months = _month_headers(b.assessment, lang)
    for name, frame in _xlsx_sheets(b):
        _xlsx_sheet(wb, fmts, name, frame, b, lang, months)
    wb.close()
    return buf.getvalue()


def _xlsx_sheet(
    wb: Any,
    fmts: dict[str, Any],
    name: str,
    frame: pd.DataFrame,
    b: Bulletin,
    lang: str,
    months: dict[str, str],
) -> None:
    ws = wb.add_worksheet(name[:31])
    cols = list(frame.columns)
    rates = _rate_columns(frame, b.assessment)
    if name == t("bul.sheet.totals", lang):
        rates = set()
    headers = [header(str(c), lang, months) for c in cols]
    widths = [max(_text_width(h) * 2, 6) for h in headers]
    for j, h in enumerate(headers):
        ws.write_string(0, j, h, fmts["head"])
    totals_sheet = name == t("bul.sheet.totals", lang)
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        row_is_rate = totals_sheet and str(row[0]) in metrics.RATE_COLUMNS
        for j, v in enumerate(row):
            c = cols[j]
            if totals_sheet and j == 0:
                v = header(str(v), lang)
            width = _xlsx_write(ws, fmts, i, j, v, c in rates or (row_is_rate and j > 0), lang)
            widths[j] = max(widths[j], width)
    for j, w in enumerate(widths):
        long_text = w > 50
        ws.set_column(j, j, min(w + 2, 52), fmts["wrap"] if long_text else None)
    ws.freeze_panes(1, 0)
    if len(frame) and cols:
        ws.autofilter(0, 0, len(frame), len(cols) - 1)


def _xlsx_write(ws: Any, fmts: dict[str, Any], i: int, j: int, v: Any, is_rate: bool, lang):
    """Write one value with its proper cell type and format; return its display width."""
    if v is None or v is pd.NA or v is pd.NaT:
        return 0
    if isinstance(v, bool | np.bool_):
        ws.write_boolean(i, j, bool(v), fmts["text"])
        return 5
    if isinstance(v, pd.Timestamp | dt.datetime | dt.date | np.datetime64):
        ts = pd.Timestamp(v)
        if pd.isna(ts):
            return 0
        ws.write_datetime(i, j, ts.to_pydatetime().replace(tzinfo=None), fmts["date"])
        return 10
    if isinstance(v, int | np.integer):
        ws.write_number(i, j, int(v), fmts["rate" if is_rate else "int"])
        return max(len(str(int(v))), 6 if is_rate else 0)
    if isinstance(v, float | np.floating):
        if not math.isfinite(float(v)):
            return 0
        ws.write_number(i, j, float(v), fmts["rate" if is_rate else "num"])
        return 7
    text = str(v)
    if lang == "en" and text == metrics.UNASSIGNED:
        text = t("unassigned", lang)
    text = text.translate(_ILLEGAL_XML)[:32767]
    width = _text_width(text) * 2
    kind = "quoted" if text.startswith(RISKY_PREFIXES) else ("wrap" if width > 50 else "text")
    ws.write_string(i, j, text, fmts[kind])
    return width


_ILLEGAL_XML = str.maketrans({c: None for c in [*range(0, 9), 11, 12, *range(14, 32)]})


# --- Markdown --------------------------------------------------------------------------------


def _md_table(frame: pd.DataFrame, b: Bulletin) -> str:
    shown = display_frame(frame, b, b.lang)
    data = write_report(shown, "md", rate_columns=(), lang=b.lang)
    return data.decode("utf-8")


def to_markdown(b: Bulletin) -> bytes:
    """The bulletin as Markdown (UTF-8): the same text and tables, without the charts."""
    lang = b.lang
    num = _Numbering(lang)
    out = [f"# {b.title}", "", b.subtitle, "", t("bul.addressee", lang), ""]
    out += [t("bul.intro", lang, label=b.period.label(lang)), ""]
    league_title = t("bul.league_title", lang, label=b.period.label(lang))
    if b.is_empty:
        out += [*b.paragraphs, ""]
    else:
        out += [f"## {num.first(t('bul.h.overview', lang))}", ""]
        for p in b.paragraphs:
            out += [p, ""]
        out += [f"## {num.first(t('bul.h.units', lang))}", ""]
        for key, frame, text_key in (
            ("bul.h.red", b.red, "bul.red"),
            ("bul.h.black", b.black, "bul.black"),
        ):
            out += [f"### {num.second(t(key, lang))}", ""]
            if frame.empty:
                out += [t("bul.no_ranking", lang), ""]
            else:
                out += [t(text_key, lang, units=_unit_list(frame, lang)), ""]
                out += [_md_table(_honour_frame(frame), b)]
        out += [f"### {num.second(t('bul.h.overdue', lang))}", ""]
        if b.overdue_units.empty:
            out += [t("bul.s.no_overdue", lang), ""]
        else:
            out += [t("bul.overdue_intro", lang), "", _md_table(b.overdue_units, b)]
        out += [f"## {num.first(t('bul.h.escalations', lang))}", ""]
        if b.escalations.empty:
            out += [t("bul.no_escalations", lang), ""]
        else:
            out += [t("bul.escalations_intro", lang, n=len(b.escalations)), ""]
            out += [_md_table(b.escalations, b)]
        if b.assessment is not None:
            out += [f"## {num.first(t('bul.h.assessment', lang))}", ""]
            method = b.assessment.weights.describe(lang)
            out += [t("bul.assessment_intro", lang, method=method), ""]
            out += [_md_table(_assessment_frame(b.assessment), b)]
        out += [f"## {num.first(t('bul.h.requirements', lang))}", "", t("bul.requirements", lang)]
        out += ["", f"{t('bul.attachment_label', lang)}{league_title}", ""]
    if b.issuer:
        out += [b.issuer, ""]
    out += [fmt_date(b.issued, lang), ""]
    if not b.is_empty:
        out += [f"## {t('bul.attachment', lang, n=1)}　{league_title}", ""]
        out += [_md_table(b.report, b)]
        note = t("bul.note", lang, range=b.period.range_text(lang), as_of=fmt_date(b.as_of, lang))
        out += [note, ""]
    return ("\n".join(out).rstrip("\n") + "\n").encode("utf-8")


# --- entry points ----------------------------------------------------------------------------


def render(b: Bulletin, fmt: str) -> bytes:
    """The bulletin as ``docx``, ``xlsx`` or ``md`` bytes."""
    kind = str(fmt).lower().lstrip(".")
    if kind == "docx":
        return to_docx(b)
    if kind == "xlsx":
        return to_xlsx(b)
    if kind in ("md", "markdown"):
        return to_markdown(b)
    raise DomainError("err.bulletin_format", fmt=fmt)


MIME_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown",
}


def default_filename(b: Bulletin, fmt: str) -> str:
    """``关于2026年10月网民留言办理情况的通报.docx`` (the title, safe as a file name)."""
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", b.title).strip("_") or "bulletin"
    return f"{name}.{fmt}"


__all__ = [
    "CASE_COLUMNS",
    "CASE_COUNT_COLUMNS",
    "FORMATS",
    "ISSUER_KEY",
    "MIME_TYPES",
    "MONTH_WEIGHTS_KEY",
    "PERIOD_KINDS",
    "RATE_WEIGHTS_KEY",
    "Assessment",
    "Bulletin",
    "ChartItem",
    "Period",
    "QuarterWeights",
    "build_bulletin",
    "default_filename",
    "display_frame",
    "fmt_date",
    "header",
    "parse_month_weights",
    "parse_rate_weights",
    "period_of",
    "quarter_assessment",
    "render",
    "save_quarter_weights",
    "title_lines",
    "to_docx",
    "to_markdown",
    "to_xlsx",
    "trend_label",
    "with_charts",
]
