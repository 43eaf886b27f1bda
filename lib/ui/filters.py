"""Ad-hoc case filters, kept in the page address so a filtered view can be bookmarked and shared.

``?status=待交办&status=已交办&region=广安区&q=路灯&from=2026-03-01`` — list filters repeat their
parameter; dates are ``YYYY-MM-DD``; yes/no filters take ``yes``/``no``; the sort takes its key.
The address holds canonical values, never labels, so a link made in English opens the same view
in Chinese. Unknown values in an address are dropped, never an error.

The address wins when it changes from outside (first visit, a bookmark, a shared link, the
browser's back button); the widgets win when the user changes them, and the address follows.
(Streamlit's own ``bind="query-params"`` was tried: it writes the options' display labels into
the address, which would make shared links depend on the language.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from lib import workflow
from lib.i18n import t
from lib.register import RegisterData
from lib.schema import Sheet
from lib.ui.state import set_widget

PREFIX = "f."
URL_STATE = "_f.url"
LIST_KEYS = ("status", "unit", "region", "domain", "type", "channel")
TRI_KEYS = ("instructed", "repeat")
DATE_KEYS = ("from", "to")
SORTS = ("urgency", "newest", "oldest", "id")
ALL_KEYS = (*LIST_KEYS, *DATE_KEYS, *TRI_KEYS, "q", "sort")
# Select boxes whose option labels depend on the language get one widget per language (see
# lib.ui.shell: Streamlit's frontend would go on showing the old language's label).
LABELLED = ("instructed", "repeat", "sort")
UNASSIGNED = "__none__"


@dataclass
class Filters:
    """One set of filter values (empty = no restriction)."""

    lists: dict[str, list[str]] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    instructed: str = ""  # "", "yes", "no"
    repeat: str = ""
    q: str = ""
    sort: str = "urgency"

    @property
    def active(self) -> bool:
        """True when some filter restricts the rows."""
        return bool(
            any(self.lists.values())
            or self.date_from
            or self.date_to
            or self.instructed
            or self.repeat
            or self.q.strip()
        )

    def to_query(self) -> dict[str, str | list[str]]:
        """The address form: only the filters that restrict something (and a non-default sort)."""
        out: dict[str, str | list[str]] = {}
        for k in LIST_KEYS:
            if self.lists.get(k):
                out[k] = list(self.lists[k])
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.instructed:
            out["instructed"] = self.instructed
        if self.repeat:
            out["repeat"] = self.repeat
        if self.q.strip():
            out["q"] = self.q.strip()
        if self.sort != "urgency":
            out["sort"] = self.sort
        return out


def options(data: RegisterData, sheet: Sheet) -> dict[str, list[str]]:
    """The choices of each list filter, from the schema and the register's units."""
    units = data.units["name"].tolist() if len(data.units) else []
    return {
        "status": list(workflow.STATUSES),
        "unit": [UNASSIGNED, *units],
        "region": data.regions(),
        "domain": list(sheet.field("domain").enum or ()),
        "type": list(sheet.field("type").enum or ()),
        "channel": list(sheet.field("channel").enum or ()),
    }


def _date(v: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(v) if v else None
    except ValueError:
        return None


def from_query(query: Mapping[str, Sequence[str]], opts: Mapping[str, Sequence[str]]) -> Filters:
    """Parse address values (unknown values are dropped)."""
    f = Filters()
    for k in LIST_KEYS:
        allowed = set(opts.get(k, ()))
        f.lists[k] = list(dict.fromkeys(v for v in query.get(k, []) if v in allowed))
    f.date_from = _date(next(iter(query.get("from", [])), None))
    f.date_to = _date(next(iter(query.get("to", [])), None))
    for k in TRI_KEYS:
        v = next(iter(query.get(k, [])), "")
        setattr(f, k, v if v in ("yes", "no") else "")
    f.q = next(iter(query.get("q", [])), "")[:200]
    sort = next(iter(query.get("sort", [])), "urgency")
    f.sort = sort if sort in SORTS else "urgency"
    return f


def _address() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in ALL_KEYS if k in st.query_params}


def normal_query(f: Filters) -> tuple:
    """``f`` as a hashable value: equal for filters that select the same rows in the same order."""
    return _normal(f.to_query())


def _normal(query: Mapping[str, str | Sequence[str]]) -> tuple:
    return tuple(
        sorted((k, (v,) if isinstance(v, str) else tuple(v)) for k, v in query.items() if v)
    )


def wkey(name: str, lang: str) -> str:
    """The widget key of the filter ``name`` (``f.status``, ``f.sort@zh``)."""
    return PREFIX + name + (f"@{lang}" if name in LABELLED else "")


def _to_widgets(f: Filters, lang: str) -> None:
    for k in LIST_KEYS:
        set_widget(wkey(k, lang), list(f.lists.get(k, [])))
    set_widget(wkey("from", lang), f.date_from)
    set_widget(wkey("to", lang), f.date_to)
    for k in TRI_KEYS:
        set_widget(wkey(k, lang), getattr(f, k))
    set_widget(wkey("q", lang), f.q)
    set_widget(wkey("sort", lang), f.sort)


def _from_widgets(lang: str) -> Filters:
    ss = st.session_state
    return Filters(
        lists={k: list(ss.get(wkey(k, lang)) or []) for k in LIST_KEYS},
        date_from=ss.get(wkey("from", lang)),
        date_to=ss.get(wkey("to", lang)),
        instructed=ss.get(wkey("instructed", lang)) or "",
        repeat=ss.get(wkey("repeat", lang)) or "",
        q=ss.get(wkey("q", lang)) or "",
        sort=ss.get(wkey("sort", lang)) or "urgency",
    )


def _clear(lang: str) -> None:
    _to_widgets(Filters(sort=st.session_state.get(wkey("sort", lang)) or "urgency"), lang)


def write_address(f: Filters) -> None:
    """Make the address show ``f`` (other query parameters are left alone)."""
    wanted = f.to_query()
    if _normal(wanted) != _normal(_address()):
        for k in ALL_KEYS:
            if k in st.query_params and k not in wanted:
                del st.query_params[k]
        for k, v in wanted.items():
            st.query_params[k] = v
    st.session_state[URL_STATE] = _normal(wanted)


def draw(data: RegisterData, sheet: Sheet, lang: str, *, hide: Sequence[str] = ()) -> Filters:
    """Draw the filter widgets (synced with the address) and return the values chosen."""
    opts = options(data, sheet)
    address = _address()
    if st.session_state.get(URL_STATE) != _normal(address):
        # The address changed from outside (first visit, bookmark, back): it wins.
        _to_widgets(from_query(address, opts), lang)
    else:
        # Choices can shrink (a unit renamed): drop stale ones before drawing.
        for k in LIST_KEYS:
            cur = st.session_state.get(wkey(k, lang)) or []
            set_widget(wkey(k, lang), [v for v in cur if v in set(opts[k])])

    def fmt_list(key: str):
        if key == "status" and lang == "en":
            return lambda v: t("status." + v, "en")
        if key == "unit":
            return lambda v: t("ui.unassigned", lang) if v == UNASSIGNED else v
        return str

    def tri(v: str) -> str:
        return {"": t("ui.all", lang), "yes": t("ui.yes", lang), "no": t("ui.no", lang)}[v]

    with st.expander(
        t("ui.filters", lang), expanded=_from_widgets(lang).active, icon=":material/filter_list:"
    ):
        shown = [k for k in LIST_KEYS if k not in hide]
        cols = st.columns(3)
        for i, k in enumerate(shown):
            with cols[i % 3]:
                st.multiselect(
                    t("ui.f." + k, lang),
                    opts[k],
                    key=wkey(k, lang),
                    format_func=fmt_list(k),
                    placeholder=t("ui.all", lang),
                )
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            st.date_input(
                t("ui.f.from", lang), value=None, key=wkey("from", lang), format="YYYY-MM-DD"
            )
        with c2:
            st.date_input(t("ui.f.to", lang), value=None, key=wkey("to", lang), format="YYYY-MM-DD")
        with c3:
            st.selectbox(
                t("ui.f.instructed", lang),
                ["", "yes", "no"],
                key=wkey("instructed", lang),
                format_func=tri,
            )
        with c4:
            st.selectbox(
                t("ui.f.repeat", lang), ["", "yes", "no"], key=wkey("repeat", lang), format_func=tri
            )
        c5, c6, c7 = st.columns([2, 1, 1], vertical_alignment="bottom")
        with c5:
            st.text_input(t("ui.f.q", lang), key=wkey("q", lang), max_chars=200)
        with c6:
            st.selectbox(
                t("ui.f.sort", lang),
                list(SORTS),
                key=wkey("sort", lang),
                format_func=lambda v: t("ui.sort." + v, lang),
            )
        with c7:
            st.button(
                t("ui.f.clear", lang),
                on_click=_clear,
                args=(lang,),
                key=PREFIX + "clear",
                icon=":material/filter_alt_off:",
            )
        st.caption(t("ui.f.share", lang))
    chosen = _from_widgets(lang)
    for k in hide:
        chosen.lists[k] = []
    write_address(chosen)
    for k in hide:
        chosen.lists.pop(k, None)
    return chosen


def apply(cases: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """The rows of ``cases`` that match ``f`` (vectorised)."""
    if cases.empty:
        return cases
    mask = pd.Series(True, index=cases.index)
    for k in LIST_KEYS:
        chosen = f.lists.get(k) or []
        if not chosen:
            continue
        col = cases[k].fillna("")
        if k == "unit" and UNASSIGNED in chosen:
            mask &= col.isin([v for v in chosen if v != UNASSIGNED]) | (col == "")
        else:
            mask &= col.isin(chosen)
    received = pd.to_datetime(cases["received_at"])
    if f.date_from:
        mask &= received >= pd.Timestamp(f.date_from)
    if f.date_to:
        mask &= received <= pd.Timestamp(f.date_to)
    if f.instructed:
        flag = cases["instructed"].fillna(False).astype(bool)
        mask &= flag if f.instructed == "yes" else ~flag
    if f.repeat:
        rep = cases["repeat_of"].fillna("") != ""
        mask &= rep if f.repeat == "yes" else ~rep
    q = f.q.strip()
    if q:
        hit = cases["title"].fillna("").str.contains(q, case=False, regex=False)
        hit |= cases["content"].fillna("").str.contains(q, case=False, regex=False)
        mask &= hit
    return cases[mask]
