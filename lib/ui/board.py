"""The supervision board (督办看板, SPEC §6): its figures as frames, and how it draws them.

:func:`build` turns one snapshot, a day, a unit ("" = all) and a period kind into a
:class:`Board` — the KPI figures, the lists (overdue by days overdue, due soon, 不满意 awaiting
a follow-up, repeat messages, open 批示件) and the league table — computed with the same
functions as the CLI (:func:`lib.metrics.league_table`, :func:`lib.metrics.case_measures`), so
the board and ``python -m lib report`` agree for the same period and as-of date.

Choices where the SPEC is silent:

* The three rates, 参评率 and the league table cover the messages received in the current
  week / month / quarter up to today (as of today), like ``report --from <period start> --to
  <period end> --as-of <today>``. Open, overdue and due-soon counts cover every case.
* "不满意 awaiting follow-up" = rated 不满意 and no supervision recorded on or after the day of
  the rating. Recording a supervision (回访 follow-up) takes a case off the list.
* Repeat messages are those received in the period; with one unit chosen, those counted in that
  unit (the original's unit, SPEC §7).
* Open 批示件 = cases with an instruction that are not concluded (待交办, 已交办, 办理中).

The board, its case chooser and the digest are computed once per register snapshot and view
(:func:`lib.ui.memo.snapshot_memo`) and reused by later runs, the wall display's refreshes and other
sessions until the register changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import streamlit as st

from lib import metrics
from lib.bulletin import Period
from lib.digest import daily_digest
from lib.i18n import t
from lib.register import RegisterData
from lib.reports import format_rate, write_report
from lib.ui import (
    actions,
    context,
    messages_oversight,  # noqa: F401  (registers the board's strings)
    signin,
    tables,
)
from lib.ui.context import Ctx
from lib.ui.errors import show_error
from lib.ui.memo import snapshot_memo
from lib.ui.shell import case_link
from lib.ui.text import md_escape

KINDS = ("week", "month", "quarter")
OPEN = ("待交办", "已交办", "办理中")
BOARD_ACTIONS = ("supervise", "escalate", "instruct")
TREND_PERIODS = 6
MIN_REFRESH_S = 5
# Session keys and address parameters.
UNIT_KEY = "board.unit"
KIND_KEY = "board.kind"
CASE_KEY = "board.case"
PICKED = "board._picked"
SEEN = "board._seen"
DONE = "board._done"
ADDRESS = "board._address"
FULL_RUN = "board._full_run"
DIGEST_KEY = "board.digest"  # the digest expander: open or not
TABS_KEY = "board.tabs"  # the open tab's label
TAB_NAMES = ("overdue", "due_soon", "unsatisfied", "repeats", "instructed", "league")
WALL_PARAM = "wall"
ALL = ""

T = TypeVar("T")


# --- the figures ---------------------------------------------------------------------------


@dataclass
class Board:
    """Everything the board shows for one day, unit and period."""

    day: dt.date
    unit: str
    period: Period
    rates: dict[str, float]  # 及时受理率, 按期办结率, 群众满意率, 参评率, 综合得分
    trend: pd.DataFrame  # 期间 + the rates, the last TREND_PERIODS periods
    open: int
    overdue: pd.DataFrame
    due_soon: pd.DataFrame
    unsatisfied: pd.DataFrame
    repeats: pd.DataFrame
    instructed: pd.DataFrame
    league: pd.DataFrame  # metrics.league_table as is (rank order)
    # The tables as drawn, by (list, language, wall): a board is reused while its snapshot lasts.
    drawn: dict[tuple, Any] = field(default_factory=dict, repr=False, compare=False)

    def drawn_once(self, key: tuple, make: Callable[[], T]) -> T:
        """``make()``, once per board (the result must not be changed)."""
        if key not in self.drawn:
            self.drawn[key] = make()
        return self.drawn[key]

    @property
    def date_to(self) -> dt.date:
        """The last day of the period's cohort so far (today, or the period's end)."""
        return min(self.period.end, self.day)


def _case_frame(data: RegisterData, day: dt.date) -> pd.DataFrame:
    """Every case with its measures as of ``day`` and its supervision counts."""
    cases = data.cases
    keep = [
        "case_id",
        "received_at",
        "unit",
        "lead_official",
        "region",
        "domain",
        "type",
        "title",
        "status",
        "evaluation",
        "evaluated_at",
        "repeat_of",
        "instructed",
    ]
    keep = [k for k in keep if k in cases.columns]
    if cases.empty:
        frame = cases[keep].copy()
        for col in ("unit_asof", "overdue", "overdue_accept", "due_soon", "current_due"):
            frame[col] = pd.Series([], dtype=object)
        frame["days_overdue"] = pd.Series([], dtype="int64")
        frame["evaluation_asof"] = pd.Series([], dtype=object)
        frame["pending_accept"] = pd.Series([], dtype=bool)
        frame["in_progress"] = pd.Series([], dtype=bool)
        frame["supervisions"] = pd.Series([], dtype="int64")
        frame["last_supervision"] = pd.Series([], dtype="datetime64[ns]")
        return frame
    m = metrics.case_measures(cases, data.rules, day)
    frame = cases[keep].join(
        m[
            [
                "unit_asof",
                "overdue",
                "overdue_accept",
                "due_soon",
                "current_due",
                "days_overdue",
                "evaluation_asof",
                "pending_accept",
                "in_progress",
            ]
        ]
    )
    sup = data.supervisions
    if len(sup):
        dated = sup[pd.to_datetime(sup["date"], errors="coerce") <= pd.Timestamp(day)]
        grouped = dated.groupby("case_id")
        frame["supervisions"] = frame["case_id"].map(grouped.size()).fillna(0).astype("int64")
        frame["last_supervision"] = pd.to_datetime(
            frame["case_id"].map(pd.to_datetime(grouped["date"].max(), errors="coerce"))
        )
    else:
        frame["supervisions"] = 0
        frame["last_supervision"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return frame


def _latest_instructions(data: RegisterData) -> pd.DataFrame:
    """Per case: the leader and date of its latest instruction."""
    instr = data.instructions
    if instr.empty:
        return pd.DataFrame(columns=["leader", "date"])
    ordered = instr.assign(_d=pd.to_datetime(instr["date"], errors="coerce")).sort_values("_d")
    last = ordered.groupby("case_id").tail(1).set_index("case_id")
    return last[["leader", "_d"]].rename(columns={"_d": "date"})


def league(data: RegisterData, period: Period, day: dt.date) -> pd.DataFrame:
    """The period's league table as of ``day`` (the CLI ``report`` for the same dates)."""
    return metrics.league_table(
        data.cases,
        data.instructions,
        data.supervisions,
        data.rules,
        date_from=period.start,
        date_to=period.end,
        as_of=day,
    )


def _trend(data: RegisterData, unit: str, period: Period, day: dt.date) -> pd.DataFrame:
    """The rates of the last :data:`TREND_PERIODS` periods (this one included)."""
    start = period
    for _ in range(TREND_PERIODS - 1):
        start = start.previous()
    labels = metrics.period_labels(start.start, period.end, period.freq)
    cols = [*metrics.THREE_RATES, "参评率"]
    if data.cases.empty:
        return pd.DataFrame({metrics.PERIOD: labels, **{c: np.nan for c in cols}})
    if not unit:
        table = metrics.rates_by_period(
            data.cases,
            data.rules,
            date_from=start.start,
            date_to=period.end,
            as_of=day,
            freq=period.freq,
        )
    else:
        table = metrics.league_table(
            data.cases,
            None,
            None,
            data.rules,
            date_from=start.start,
            date_to=period.end,
            as_of=day,
            freq=period.freq,
        )
        table = table[table[metrics.UNIT] == unit]
    out = table.set_index(metrics.PERIOD).reindex(labels)[cols]
    return out.rename_axis(metrics.PERIOD).reset_index()


def build(data: RegisterData, day: dt.date, unit: str = ALL, kind: str = "month") -> Board:
    """The board for ``day``: every figure for all units (``unit=""``) or one unit."""
    period = Period.containing(kind, day)
    frame = _case_frame(data, day)
    mine = frame if not unit else frame[frame["unit_asof"] == unit]
    table = league(data, period, day)

    if not unit:
        summ = metrics.summary(
            data.cases,
            None,
            None,
            data.rules,
            date_from=period.start,
            date_to=period.end,
            as_of=day,
        )
        row = summ.iloc[0] if len(summ) else None
    else:
        rows = table[table[metrics.UNIT] == unit]
        row = rows.iloc[0] if len(rows) else None
    rates = {
        c: (float(row[c]) if row is not None and pd.notna(row[c]) else np.nan)
        for c in (*metrics.THREE_RATES, "参评率", "综合得分")
    }
    open_ = int(mine["status"].isin(OPEN).sum()) if len(mine) else 0

    overdue = mine[mine["overdue"].astype(bool)] if len(mine) else mine
    overdue = overdue.sort_values(
        ["days_overdue", "received_at", "case_id"], ascending=[False, True, True]
    )
    soon = mine[mine["due_soon"].astype(bool)] if len(mine) else mine
    soon = soon.assign(
        days_left=(pd.to_datetime(soon["current_due"]) - pd.Timestamp(day)).dt.days
    ).sort_values(["days_left", "received_at", "case_id"])

    if len(mine):
        rated_bad = mine["evaluation_asof"] == "不满意"
        evaluated_at = pd.to_datetime(mine["evaluated_at"], errors="coerce")
        followed = mine["last_supervision"].notna() & (mine["last_supervision"] >= evaluated_at)
        unsatisfied = mine[rated_bad & ~followed].sort_values(["evaluated_at", "case_id"])
    else:
        unsatisfied = mine

    repeats = _repeats(frame, period, day, unit)

    if len(mine):
        open_instr = mine[mine["instructed"].astype(bool) & mine["status"].isin(OPEN)]
        latest = _latest_instructions(data)
        open_instr = open_instr.assign(
            leader=open_instr["case_id"].map(latest["leader"]) if len(latest) else "",
            instructed_at=pd.to_datetime(
                open_instr["case_id"].map(latest["date"]) if len(latest) else pd.NaT
            ),
        ).sort_values(["instructed_at", "case_id"], ascending=[False, True])
    else:
        open_instr = mine.assign(leader="", instructed_at=pd.NaT)

    return Board(
        day=day,
        unit=unit,
        period=period,
        rates=rates,
        trend=_trend(data, unit, period, day),
        open=open_,
        overdue=overdue,
        due_soon=soon,
        unsatisfied=unsatisfied,
        repeats=repeats,
        instructed=open_instr,
        league=table,
    )


def _repeats(frame: pd.DataFrame, period: Period, day: dt.date, unit: str) -> pd.DataFrame:
    """Repeat messages received in the period, with the unit they count in (the original's)."""
    if frame.empty:
        return frame.assign(counted_unit="", original_status="")
    received = pd.to_datetime(frame["received_at"])
    rep = frame[
        (frame["repeat_of"].fillna("") != "")
        & (received >= pd.Timestamp(period.start))
        & (received <= pd.Timestamp(min(period.end, day)))
    ]
    by_id = frame.drop_duplicates("case_id").set_index("case_id")
    orig_unit = rep["repeat_of"].map(by_id["unit_asof"])
    rep = rep.assign(
        counted_unit=orig_unit.where(orig_unit.notna(), rep["unit_asof"]).fillna(""),
        original_status=rep["repeat_of"].map(by_id["status"]).fillna(""),
    )
    if unit:
        rep = rep[rep["counted_unit"] == unit]
    return rep.sort_values(["received_at", "case_id"], ascending=[False, True])


def worst_first(table: pd.DataFrame) -> pd.DataFrame:
    """The league table with the worst unit first: ranked units by rank descending, then units
    without a score, then 未交办."""
    if table.empty:
        return table
    unit = table[metrics.UNIT]
    unassigned = unit == metrics.UNASSIGNED
    ranked = table[~unassigned & table["排名"].notna()]
    ranked = ranked.sort_values(["排名", metrics.UNIT], ascending=[False, True], kind="stable")
    unranked = table[~unassigned & table["排名"].isna()]
    return pd.concat([ranked, unranked, table[unassigned]]).reset_index(drop=True)


def league_display(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The league table for people: worst first, the §8 columns, rates as percentages."""
    out = worst_first(table)[[*metrics.REPORT_COLUMNS, "逾期总数", "督办次数"]].copy()
    for c in metrics.RATE_COLUMNS:
        out[c] = out[c].map(lambda v: format_rate(v, lang))
    return metrics.localize(out, lang)


def refresh_seconds(settings: dict[str, str]) -> int:
    """The board's refresh interval (``refresh_seconds``); 0 turns it off."""
    try:
        n = int(str(settings.get("refresh_seconds") or "60").strip())
    except ValueError:
        return 60
    return 0 if n <= 0 else max(n, MIN_REFRESH_S)


def digest_data(data: RegisterData, unit: str) -> RegisterData:
    """The snapshot reduced to one unit's cases (all of them when ``unit`` is empty)."""
    if not unit or data.cases.empty:
        return data
    return replace(data, cases=data.cases[data.cases["unit"] == unit])


# --- drawing -------------------------------------------------------------------------------


def wall_mode() -> bool:
    """True when the address asks for the wall display (``?wall=1``)."""
    return st.query_params.get(WALL_PARAM, "") in ("1", "true", "yes")


WALL_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] {
  display: none !important;
}
.block-container, [data-testid="stMainBlockContainer"] {
  padding-top: 1rem !important; max-width: 100% !important;
}
[data-testid="stMetricValue"] { font-size: 3rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.25rem !important; }
h1 { font-size: 2.4rem !important; }
</style>
"""


def wall_css() -> None:
    """Hide the portal's chrome and enlarge the tiles (for a screen on the wall)."""
    st.markdown(WALL_CSS, unsafe_allow_html=True)


def _address() -> tuple[str, str]:
    return st.query_params.get("unit", ""), st.query_params.get("period", "")


def controls(c: Ctx) -> tuple[str, str]:
    """Unit (all or one) and period (week / month / quarter), kept in the address.

    The address wins when it changed from outside (a bookmark, a shared link, a wall display
    started with ``?unit=…&period=…``); otherwise the widgets win and the address follows.
    """
    names = c.data.units["name"].tolist() if len(c.data.units) else []
    units = [ALL, *dict.fromkeys(n for n in names if n)]
    ss = st.session_state
    address = _address()
    if ss.get(ADDRESS) != address or UNIT_KEY not in ss:
        unit, period = address
        ss[UNIT_KEY] = unit if unit in units else ALL
        ss[KIND_KEY] = period if period in KINDS else "month"
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        unit = st.selectbox(
            c.t("ov.unit"),
            units,
            key=UNIT_KEY,
            format_func=lambda u: u or c.t("ov.all_units"),
        )
    with right:
        kind = st.segmented_control(
            c.t("ov.period"),
            list(KINDS),
            key=KIND_KEY,
            format_func=lambda k: c.t(f"ov.period.{k}"),
            required=True,
        )
    unit = unit or ALL
    kind = kind if kind in KINDS else "month"
    _to_address("unit", unit)
    _to_address("period", "" if kind == "month" else kind)
    ss[ADDRESS] = _address()
    return unit, kind


def _to_address(param: str, value: str) -> None:
    if value:
        if st.query_params.get(param) != value:
            st.query_params[param] = value
    elif param in st.query_params:
        del st.query_params[param]


def _read_line(c: Ctx, data: RegisterData, seconds: int) -> str:
    tz = c.reg.now().tzinfo
    read = data.read_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    checked = c.reg.now().strftime("%H:%M:%S")
    auto = c.t("ov.auto", n=seconds) if seconds else c.t("ov.auto_off")
    return f"{c.t('ov.read_at', read=read, checked=checked)} · {auto}"


def live(c: Ctx, unit: str, kind: str, wall: bool) -> None:
    """The live part of the board: re-reads the register every ``refresh_seconds``."""
    seconds = refresh_seconds(c.data.settings)
    st.session_state[FULL_RUN] = True  # the entry script checked who is signed in
    st.fragment(run_every=seconds or None)(_live)(c, unit, kind, wall)


def _account_unchanged(c: Ctx) -> bool:
    """On a refresh of its own (no entry script ran), is the account still as it was?"""
    try:
        now = c.reg.find_user(c.user.username)
    except Exception:  # disabled or removed
        return False
    return (now.role, now.units) == (c.user.role, c.user.units)


def board_for(c: Ctx, data: RegisterData, day: dt.date, unit: str, kind: str) -> Board:
    """:func:`build`, reused while the snapshot, day and choices are the same (the live part
    and the action form of one run, later runs, the wall display's refreshes, other sessions
    of the same view)."""
    return snapshot_memo(
        data, c.user, ("board", day, unit, kind), lambda: build(data, day, unit, kind)
    )


def _live(c: Ctx, unit: str, kind: str, wall: bool) -> None:
    if not st.session_state.pop(FULL_RUN, False) and not _account_unchanged(c):
        st.rerun()  # the whole app: sign-in and navigation decide again
    data = c.reg.data(c.user)  # a fragment rerun reads afresh (cached until it changes)
    day = c.reg.today()
    b = board_for(c, data, day, unit, kind)
    st.caption(_read_line(c, data, refresh_seconds(data.settings)))
    st.caption(
        c.t(
            "ov.range",
            start=b.period.start.isoformat(),
            end=b.date_to.isoformat(),
            as_of=day.isoformat(),
        )
        + f" · {b.period.label(c.lang)}"
    )
    tiles(c, b, data)
    if wall:
        signin.keep_alive()  # an unattended wall display is not an idle session
        left, right = st.columns([3, 2])
        with left:
            st.subheader(c.t("ov.tab.overdue"), anchor=False)
            case_table(c, b.overdue, "overdue", b, selectable=False, wall=True)
        with right:
            st.subheader(c.t("ov.tab.league"), anchor=False)
            league_table(c, b, download=False, wall=True)
        return
    # Only the open tab's list is drawn and sent (a click on another tab reruns): on a large
    # register the six lists were megabytes on every refresh.
    tabs = st.tabs([c.t(f"ov.tab.{n}") for n in TAB_NAMES], key=TABS_KEY, on_change="rerun")
    frames = {
        "overdue": b.overdue,
        "due_soon": b.due_soon,
        "unsatisfied": b.unsatisfied,
        "repeats": b.repeats,
        "instructed": b.instructed,
    }
    for name, tab in zip(TAB_NAMES, tabs, strict=True):
        with tab:
            if not tab.open:
                continue
            if name == "league":
                league_table(c, b, download=True)
            else:
                case_table(c, frames[name], name, b, selectable=_may_act(c))


def tiles(c: Ctx, b: Board, data: RegisterData) -> None:
    """KPI tiles: the rates (with their recent trend), then the counts."""
    cols = st.columns(4)
    for col, name in zip(cols, (*metrics.THREE_RATES, "参评率"), strict=True):
        spark = [round(float(v) * 100, 1) for v in b.trend[name] if pd.notna(v)]
        col.metric(
            metrics.column_label(name, c.lang),
            format_rate(b.rates[name], c.lang),
            border=True,
            chart_data=spark if len(spark) > 1 else None,
            chart_type="line",
        )
    days = data.rules.due_soon_days
    counts = [
        (c.t("ov.kpi.open"), b.open),
        (c.t("ov.kpi.overdue"), len(b.overdue)),
        (c.t("ov.kpi.due_soon", days=days), len(b.due_soon)),
        (c.t("ov.kpi.unsatisfied"), len(b.unsatisfied)),
        (c.t("ov.kpi.instructed"), len(b.instructed)),
        (c.t("ov.kpi.repeats"), len(b.repeats)),
    ]
    cols = st.columns(len(counts))
    for col, (label, n) in zip(cols, counts, strict=True):
        col.metric(label, n, border=True)
    st.caption(c.t("ov.kpi.trend", n=TREND_PERIODS))


# Columns of each list: case fields (labels from the schema) and board columns.
LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "overdue": (
        "case_id",
        "days_overdue",
        "stage",
        "current_due",
        "unit",
        "lead_official",
        "title",
        "instructed",
        "supervisions",
        "last_supervision",
        "received_at",
    ),
    "due_soon": (
        "case_id",
        "days_left",
        "current_due",
        "status",
        "unit",
        "lead_official",
        "title",
        "instructed",
        "supervisions",
        "received_at",
    ),
    "unsatisfied": (
        "case_id",
        "evaluated_at",
        "unit",
        "lead_official",
        "domain",
        "title",
        "instructed",
        "supervisions",
        "last_supervision",
    ),
    "repeats": (
        "case_id",
        "received_at",
        "repeat_of",
        "counted_unit",
        "original_status",
        "region",
        "title",
    ),
    "instructed": (
        "case_id",
        "leader",
        "instructed_at",
        "status",
        "current_due",
        "unit",
        "lead_official",
        "title",
        "supervisions",
    ),
}
BOARD_COLUMNS: dict[str, tuple[str, str]] = {
    "days_overdue": ("ov.col.days_overdue", "int"),
    "stage": ("ov.col.stage", "text"),
    "days_left": ("ov.col.days_left", "int"),
    "current_due": ("ov.col.current_due", "date"),
    "supervisions": ("ov.col.supervisions", "int"),
    "last_supervision": ("ov.col.last_supervision", "date"),
    "leader": ("ov.col.leader", "text"),
    "instructed_at": ("ov.col.instructed_at", "date"),
    "counted_unit": ("ov.col.counted_unit", "text"),
    "original_status": ("ov.col.original_status", "text"),
}


WALL_LIST = ("case_id", "days_overdue", "stage", "unit", "title")
WALL_LEAGUE = ("排名", "承办单位", "案件数", *metrics.THREE_RATES, "综合得分", "逾期总数")
DATE_KEYS = ("received_at", "evaluated_at", "current_due", "last_supervision", "instructed_at")


def list_frame(
    frame: pd.DataFrame, name: str, lang: str, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """A board list with its columns, ready to draw (keys as column names)."""
    f = frame.copy()
    if name == "overdue":
        f["stage"] = np.where(
            f["overdue_accept"].astype(bool) if len(f) else [],
            t("ov.stage.accept", lang),
            t("ov.stage.handle", lang),
        )
    if "unit" in f:
        f["unit"] = f["unit"].where(f["unit"].fillna("") != "", t("ui.unassigned", lang))
    for col in DATE_KEYS:
        if col in f:
            f[col] = pd.to_datetime(f[col], errors="coerce")
    if lang == "en":
        for col in ("status", "original_status"):
            if col in f:
                f[col] = f[col].map(lambda s: t("status." + s, "en") if s else s)
    cols = [k for k in (columns or LIST_COLUMNS[name]) if k in f.columns]
    return f[cols].reset_index(drop=True)


def _column_config(c: Ctx, keys: list[str]) -> dict:
    schema_keys = [k for k in keys if k not in BOARD_COLUMNS]
    config = tables.column_config(c.sheet, schema_keys, c.lang)
    cc = st.column_config
    for k in keys:
        if k not in BOARD_COLUMNS:
            continue
        label_key, kind = BOARD_COLUMNS[k]
        label = c.t(label_key)
        if kind == "int":
            config[k] = cc.NumberColumn(label, format="%d")
        elif kind == "date":
            config[k] = cc.DateColumn(label, format="YYYY-MM-DD")
        else:
            config[k] = cc.TextColumn(label)
    return config


def _table_key(name: str, ids: pd.Series) -> str:
    digest = hashlib.blake2b("\n".join(map(str, ids)).encode(), digest_size=6).hexdigest()
    return f"board.list.{name}.{digest}"


def _shown_list(frame: pd.DataFrame, name: str, lang: str, wall: bool) -> tuple[pd.DataFrame, str]:
    shown = list_frame(frame, name, lang, WALL_LIST if wall else None)
    return shown, _table_key(name, shown["case_id"])


def case_table(
    c: Ctx, frame: pd.DataFrame, name: str, b: Board, *, selectable: bool, wall: bool = False
) -> None:
    """One board list; a click on a row picks the case for the action form below."""
    if frame.empty:
        st.info(c.t(f"ov.empty.{name}"))
        return
    shown, key = b.drawn_once((name, c.lang, wall), lambda: _shown_list(frame, name, c.lang, wall))
    help_key = {"unsatisfied": "ov.unsatisfied.help", "repeats": "ov.repeats.help"}.get(name)
    note = c.t("ov.count", n=len(shown))
    if help_key:
        note += " · " + c.t(help_key)
    if selectable:
        note += " · " + c.t("ov.pick_help")
    st.caption(note)
    config = _column_config(c, list(shown.columns))
    height = tables.height(len(shown), 720 if wall else 420)
    if not selectable:
        st.dataframe(
            shown, hide_index=True, column_config=config, height=height, key=key, placeholder=""
        )
        return
    event = st.dataframe(
        shown,
        placeholder="",
        hide_index=True,
        column_config=config,
        height=height,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
    )
    rows = [r for r in event.selection.rows if r < len(shown)]
    ss = st.session_state
    seen = ss.setdefault(SEEN, {})
    if seen.get(key) != tuple(rows):
        seen[key] = tuple(rows)
        if rows:
            ss[PICKED] = str(shown.iloc[rows[0]]["case_id"])
            st.rerun()  # the whole page: the action form below shows the case


def league_table(c: Ctx, b: Board, *, download: bool, wall: bool = False) -> None:
    """The period's league table, worst first, rates as percentages (export: full precision)."""
    if b.league.empty:
        st.info(c.t("ov.empty.league"))
        return
    shown = b.drawn_once(("league", c.lang), lambda: league_display(b.league, c.lang))
    if wall:
        shown = shown[[metrics.column_label(k, c.lang) for k in WALL_LEAGUE]]
    unit_col = metrics.column_label(metrics.UNIT, c.lang)

    def mark(row: pd.Series) -> list[str]:
        chosen = b.unit and row[unit_col] == b.unit
        return ["background-color: #e6f0ff; font-weight: 600" if chosen else ""] * len(row)

    rank_col = metrics.column_label("排名", c.lang)
    st.dataframe(
        shown.style.apply(mark, axis=1) if b.unit else shown,
        column_order=[rank_col, *[col for col in shown.columns if col != rank_col]],
        hide_index=True,
        placeholder="—",
        height=tables.height(len(shown), 720 if wall else 560),
        key="board.league",
    )
    st.caption(c.t("ov.league.caption"))
    if download:
        table = b.league[list(metrics.REPORT_COLUMNS)]
        st.download_button(
            c.t("ov.league.download"),
            data=lambda: tables.logged(
                c, "league", write_report(table, "csv", lang=c.lang), rows=len(table)
            ),
            file_name=f"league-{b.period.code}-{b.day.isoformat()}.csv",
            mime="text/csv",
            key="board.league.csv",
            on_click="ignore",
            icon=":material/download:",
        )


# --- actions and digest (outside the live part: typing is never interrupted) -------------


def _may_act(c: Ctx) -> bool:
    return any(c.user.may(a) for a in BOARD_ACTIONS)


def _reasons(c: Ctx, b: Board) -> dict[str, str]:
    """Case id -> why it is on the board (for the case chooser), most urgent first."""
    lists = [
        (b.overdue, "ov.why.overdue", "days_overdue"),
        (b.due_soon, "ov.why.due_soon", "days_left"),
        (b.unsatisfied, "ov.why.unsatisfied", None),
        (b.instructed, "ov.why.instructed", None),
        (b.repeats, "ov.why.repeat", None),
    ]
    ids, texts = [], []
    for frame, key, days in lists:
        if frame.empty:
            continue
        ids.append(frame["case_id"].astype(str).to_numpy(dtype=object))
        if days is None:
            texts.append(np.full(len(frame), c.t(key), dtype=object))
        else:
            n = frame[days].astype("int64")
            words = {d: c.t(key, days=int(d)) for d in n.unique()}
            texts.append(n.map(words).to_numpy(dtype=object))
    if not ids:
        return {}
    # One row per (case, reason) in the order met: lists by urgency, rows in list order.
    rows = pd.DataFrame({"case_id": np.concatenate(ids), "why": np.concatenate(texts)})
    rows = rows.drop_duplicates()
    first = rows.drop_duplicates("case_id")
    several = rows["case_id"].duplicated(keep=False).to_numpy()
    why = dict(zip(first["case_id"], first["why"], strict=True))
    if several.any():
        sep = ", " if c.lang == "en" else "，"
        joined = rows[several].groupby("case_id", sort=False)["why"].agg(sep.join)
        why.update(joined.to_dict())
    return why


def _choices(c: Ctx, b: Board, data: RegisterData) -> tuple[dict[str, str], dict[str, str]]:
    """The case chooser's cases (id -> why, most urgent first) and their labels."""
    reasons = _reasons(c, b)
    cases = data.cases
    ids = list(reasons)
    titles = _titles(cases, ids)
    labels = {
        case_id: _label(case_id, reasons[case_id], titles.get(case_id, "")) for case_id in ids
    }
    return reasons, labels


def _titles(cases: pd.DataFrame, ids: Sequence[str]) -> dict[str, Any]:
    """The title of each case id among ``ids`` (the last row of an id, as ``dict(zip())``)."""
    if cases.empty or not len(ids):
        return {}
    hit = cases[cases["case_id"].isin(ids)]
    return dict(zip(hit["case_id"], hit["title"], strict=False))


def _label(case_id: str, why: str, title: Any) -> str:
    text = str(title)
    text = text if len(text) <= 24 else text[:23] + "…"
    return " · ".join(x for x in (case_id, why, text) if x)


def action_panel(c: Ctx, unit: str, kind: str) -> None:
    """Record a supervision, escalate, or (leaders) an instruction on a case of the board."""
    st.subheader(c.t("ov.act.title"), anchor=False)
    if not _may_act(c):
        st.caption(c.t("ov.act.none"))
        return
    b = board_for(c, c.data, c.today, unit, kind)
    reasons, labels = snapshot_memo(
        c.data,
        c.user,
        ("choices", c.today, unit, kind, c.lang),
        lambda: _choices(c, b, c.data),
    )
    ss = st.session_state
    picked = ss.pop(PICKED, None)
    options = list(reasons)
    if picked:
        ss[CASE_KEY] = picked
    current = ss.get(CASE_KEY)
    if current and current not in reasons:
        options.insert(0, current)

    def label(case_id: str) -> str:
        if case_id in labels:
            return labels[case_id]
        title = _titles(c.data.cases, [case_id]).get(case_id, "")
        return _label(case_id, reasons.get(case_id, ""), title)

    case_id = st.selectbox(
        c.t("ov.act.case"),
        options,
        index=None,
        key=CASE_KEY,
        format_func=label,
        placeholder=c.t("ov.act.placeholder"),
        accept_new_options=True,
        help=c.t("ov.act.case_help"),
    )
    if not case_id:
        st.caption(c.t("ov.act.case_help"))
        return
    case_id = str(case_id).strip()
    with st.container(border=True):
        case_link(c, case_id)
        case_form(c, case_id)


def case_form(c: Ctx, case_id: str) -> None:
    """The board's actions on one case (those of :data:`BOARD_ACTIONS` the user may take)."""
    try:
        row = c.reg.get_case(c.user, case_id)
    except Exception as exc:
        show_error(exc, c.lang)
        return
    st.markdown(f"**{md_escape(row.get('title', ''))}**")
    case = actions.typed_case(c, row)
    acts = [a for a in actions.available(c.user, case, c.data.rules, c.today) if a in BOARD_ACTIONS]
    if not acts:
        st.caption(c.t("ui.act.none"))
        return
    ss = st.session_state
    # A new set of widget keys after each success: the form starts empty again.
    base = f"board.act.{ss.get(DONE, 0)}.{case_id}"
    choice = st.radio(
        c.t("ui.act.choose"),
        acts,
        key=f"{base}.choice@{c.lang}",
        horizontal=True,
        format_func=lambda a: t("action." + a, c.lang),
    )
    choice = choice if choice in acts else acts[0]
    fkey = f"{base}.{choice}"
    with st.form(fkey, border=False):
        call = actions.FORMS[choice](c, case, fkey)
        submitted = st.form_submit_button(
            c.t("ui.act.submit") + " · " + t("action." + choice, c.lang),
            type="primary",
            key=f"{fkey}.submit",
        )
    if not submitted:
        return
    try:
        call(None)
    except Exception as exc:
        sheets = [c.sheet, c.reg.schema["instructions"], c.reg.schema["supervisions"]]
        show_error(exc, c.lang, sheets)
        return
    for k in [k for k in ss if isinstance(k, str) and k.startswith(base + ".")]:
        del ss[k]
    ss[DONE] = ss.get(DONE, 0) + 1
    context.flash(
        "success", c.t("ui.act.done", case_id=case_id, action=t("action." + choice, c.lang))
    )
    st.rerun()


def digest(c: Ctx, unit: str) -> None:
    """The daily digest as plain text with a copy button, written when it is opened."""
    box = st.expander(
        c.t("ov.digest"), icon=":material/content_copy:", key=DIGEST_KEY, on_change="rerun"
    )
    with box:
        if not box.open:
            return
        text = snapshot_memo(
            c.data,
            c.user,
            ("digest", c.today, unit, c.lang),
            lambda: daily_digest(digest_data(c.data, unit), c.today, c.lang),
        )
        st.code(text, language=None, wrap_lines=True)
        st.caption(c.t("ov.digest.help"))
