"""案件详情 Case detail (``?case=<id>``): every field (PII masked by role), the deadlines with days
left or overdue, the 三见面 checklist, one timeline of history, instructions and supervisions,
and the next actions this user may take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from lib import workflow
from lib.register import MEET_FIELDS
from lib.ui import Ctx, actions, page_setup, run_page
from lib.ui.errors import show_error
from lib.ui.text import md_escape as esc

PICK = "case.pick"
SEEN_Q = "case._q"
TIMELINE_COLUMNS = ("time", "kind", "who", "what")


def shown(c: Ctx, key: str, value: Any) -> str:
    """A stored (canonical text) value as people read it."""
    v = "" if value is None else str(value)
    if v == "":
        return c.t("ui.none")
    f = c.sheet.by_key.get(key)
    if f is not None and f.type == "bool":
        return c.t("ui.yes") if v.upper() == "TRUE" else c.t("ui.no")
    if key == "status" and c.lang == "en":
        return c.t("status." + v)
    if f is not None and f.type == "datetime":
        return v.replace("T", " ")[:19]
    return v


def pick_case(c: Ctx) -> str:
    """The case id from the address (``?case=``), or typed here (and then put in the address)."""
    ss = st.session_state
    q = st.query_params.get("case", "") or ""
    if ss.get(SEEN_Q) != q:
        ss[PICK] = q
        ss[SEEN_Q] = q
    st.text_input(c.t("ui.case.pick"), key=PICK, help=c.t("ui.case.pick_help"), max_chars=40)
    case_id = (ss.get(PICK) or "").strip()
    if case_id != q:
        if case_id:
            st.query_params["case"] = case_id
        elif "case" in st.query_params:
            del st.query_params["case"]
        ss[SEEN_Q] = case_id
    return case_id


def grid(c: Ctx, items: list[tuple[str, str]], columns: int = 4) -> None:
    """Label/value pairs in a grid."""
    for start in range(0, len(items), columns):
        cols = st.columns(columns)
        for col, (name, value) in zip(cols, items[start : start + columns], strict=False):
            with col:
                st.caption(name)
                st.markdown(esc(value) if value != c.t("ui.none") else value)


def fields_section(c: Ctx, row: Mapping[str, Any], keys: list[str]) -> None:
    short = []
    long = []
    for k in keys:
        f = c.sheet.field(k)
        (long if f.type == "longtext" else short).append(k)
    grid(c, [(c.sheet.field(k).label(c.lang), shown(c, k, row.get(k))) for k in short])
    for k in long:
        st.caption(c.sheet.field(k).label(c.lang))
        with st.container(border=True):
            value = row.get(k) or ""
            st.markdown(esc(value) if value else c.t("ui.none"))


def _d(v: Any) -> dt.date | None:
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v)) if v else None
    except ValueError:
        return None


def clock_state(c: Ctx, due: dt.date | None, done: dt.date | None) -> str:
    """``剩 5 天`` / ``逾期 3 天`` / ``2026-03-20 完成（按期）``."""
    if due is None:
        return c.t("ui.due.not_started")
    if done is not None:
        late = (done - due).days
        if late > 0:
            return c.t("ui.due.done_late", date=done.isoformat(), days=late)
        return c.t("ui.due.done_on_time", date=done.isoformat())
    left = (due - c.today).days
    if left < 0:
        return "🔴 " + c.t("ui.due.overdue", days=-left)
    marker = "🟠 " if left <= c.data.rules.due_soon_days else ""
    return marker + (c.t("ui.due.today") if left == 0 else c.t("ui.due.left", days=left))


def deadlines(c: Ctx, case: Mapping[str, Any]) -> None:
    """Each clock: its due date and days left, overdue, or when it was met."""
    rules = c.data.rules
    lab = lambda k: c.sheet.field(k).label(c.lang)  # noqa: E731
    accept_due, handle_due = workflow.deadlines(case, rules)
    items: list[tuple[str, str]] = []
    ended = _d(case.get("accepted_at")) or _d(case.get("rejected_at"))
    items.append(
        (lab("accept_due"), f"{accept_due or c.t('ui.none')} · {clock_state(c, accept_due, ended)}")
    )
    if case.get("assigned_at") and workflow.status_of(case) == "已交办":
        try:
            obj = workflow.objection_due(case["assigned_at"], rules)
            items.append((c.t("ui.case.objection_due"), f"{obj} · {clock_state(c, obj, None)}"))
        except Exception:
            pass
    if not case.get("rejected_at"):
        concluded = _d(case.get("concluded_at"))
        extra = int(case.get("extension_days") or 0)
        note = f" (+{extra})" if extra else ""
        items.append(
            (
                lab("handle_due") + note,
                f"{handle_due or c.t('ui.none')} · {clock_state(c, handle_due, concluded)}",
            )
        )
        if concluded:
            ev_due = workflow.evaluation_due(concluded, rules)
            items.append(
                (
                    c.t("ui.case.evaluation_due"),
                    f"{ev_due} · {clock_state(c, ev_due, _d(case.get('evaluated_at')))}",
                )
            )
    grid(c, items, columns=len(items) or 1)


def meetings(c: Ctx, case: Mapping[str, Any]) -> None:
    """三见面: met when accepting, while handling, when replying."""
    cols = st.columns(3)
    for col, (stage, key) in zip(cols, MEET_FIELDS.items(), strict=True):
        day = case.get(key)
        with col:
            if day:
                st.markdown(f":green[:material/check_box:] **{c.t('ui.meet.' + stage)}**")
                st.caption(c.t("ui.case.met", date=day))
            else:
                st.markdown(
                    f":gray[:material/check_box_outline_blank:] **{c.t('ui.meet.' + stage)}**"
                )
                st.caption(c.t("ui.case.not_met"))


def _history_text(c: Ctx, rows: list[Any]) -> str:
    """What one step changed, in words: ``待交办 → 已交办；承办单位：广安区 …``."""
    parts: list[str] = []
    for r in rows:
        fld = str(r.field or "")
        if not fld:
            if r.new:
                parts.append(str(r.new))
            continue
        if fld == "status":
            parts.insert(0, f"{shown(c, 'status', r.old)} → {shown(c, 'status', r.new)}")
            continue
        if fld in ("accept_due", "handle_due", "version"):
            continue  # derived; the deadlines section shows them
        name = c.sheet.field(fld).label(c.lang) if fld in c.sheet.by_key else fld
        if fld == "reason":
            name = c.t("ui.act.reason")
        new = str(r.new)
        new = new if len(new) <= 80 else new[:80] + "…"
        old = f"{r.old} → " if r.old else ""
        parts.append(f"{name}：{old}{new}")
    return "；".join(parts)


def timeline(c: Ctx, case_id: str) -> pd.DataFrame:
    """One timeline, in the order things were recorded: the case's history steps, with the
    leaders' instructions and the supervisions in their place (their own dates in the text)."""
    names: dict[str, str] = {}
    if len(c.data.users):
        names = dict(zip(c.data.users["username"], c.data.users["display_name"], strict=False))
    instr = c.data.instructions
    instr_rows = iter(list(instr[instr["case_id"] == case_id].itertuples(index=False)))
    sup = c.data.supervisions
    sup_rows = iter(list(sup[sup["case_id"] == case_id].itertuples(index=False)))
    sup_sheet = c.reg.schema["supervisions"]

    def instruction(r: Any, sort: str) -> dict[str, Any]:
        day = r.date.strftime("%Y-%m-%d") if pd.notna(r.date) else ""
        return {
            "sort": sort or day + "T99",
            "time": day,
            "kind": c.t("ui.case.tl.instruction"),
            "who": str(r.leader),
            "what": str(r.text),
        }

    def supervision(r: Any, sort: str) -> dict[str, Any]:
        day = r.date.strftime("%Y-%m-%d") if pd.notna(r.date) else ""
        extra = [str(x) for x in (r.note, r.outcome) if x]
        if pd.notna(r.due):
            extra.append(f"{sup_sheet.field('due').label(c.lang)}：{r.due:%Y-%m-%d}")
        return {
            "sort": sort or day + "T99",
            "time": day,
            "kind": c.t("ui.case.tl.supervision") + " · " + str(r.kind),
            "who": str(r.by),
            "what": "；".join(extra),
        }

    events: list[dict[str, Any]] = []
    hist = c.reg.history(c.user, case_id)
    # One step = consecutive rows with the same time, user and action.
    steps: list[list[Any]] = []
    for r in hist.itertuples(index=False) if len(hist) else []:
        key = (r.timestamp, r.user, r.action)
        if (
            steps
            and (steps[-1][0].timestamp, steps[-1][0].user, steps[-1][0].action) == key
            and r.action not in ("instruct", "supervise", "escalate")
        ):
            steps[-1].append(r)
        else:
            steps.append([r])
    for rows in steps:
        first = rows[0]
        ts = str(first.timestamp)
        if first.action == "instruct":
            r = next(instr_rows, None)
            if r is not None:
                events.append(instruction(r, ts))
                continue
        if first.action in ("supervise", "escalate"):
            r = next(sup_rows, None)
            if r is not None:
                events.append(supervision(r, ts))
                continue
        events.append(
            {
                "sort": ts,
                "time": ts.replace("T", " ")[:16],
                "kind": c.t("ui.case.tl.history") + " · " + c.t("action." + str(first.action)),
                "who": names.get(str(first.user), str(first.user)),
                "what": _history_text(c, rows),
            }
        )
    # Rows without a history entry (imported ledgers): placed by their own date.
    events += [instruction(r, "") for r in instr_rows]
    events += [supervision(r, "") for r in sup_rows]
    frame = pd.DataFrame(events, columns=["sort", *TIMELINE_COLUMNS])
    return frame.sort_values("sort", kind="stable").drop(columns="sort").reset_index(drop=True)


def page(c: Ctx) -> None:
    st.title(c.t("ui.case.title"))
    case_id = pick_case(c)
    if not case_id:
        st.caption(c.t("ui.case.pick_help"))
        return
    try:
        row = c.reg.get_case(c.user, case_id)
    except Exception as exc:
        show_error(exc, c.lang)
        return
    case = actions.typed_case(c, row)
    snap = c.data.cases.loc[c.data.cases["case_id"] == case_id]
    repeats = int(snap["repeats"].iloc[0]) if len(snap) else 0
    instructed = bool(snap["instructed"].iloc[0]) if len(snap) else False

    st.header(esc(f"{case_id} · {row.get('title', '')}"), anchor=False)
    badges = [f":blue-badge[{shown(c, 'status', row.get('status'))}]"]
    if instructed:
        badges.append(f":red-badge[:material/edit_document: {c.t('ui.case.flag_instructed')}]")
    if row.get("repeat_of"):
        badges.append(f":orange-badge[{c.t('ui.case.flag_repeat', case_id=row['repeat_of'])}]")
    if repeats:
        badges.append(f":orange-badge[{c.t('ui.case.flag_repeats', n=repeats)}]")
    if str(row.get("confidential", "")).upper() == "TRUE":
        badges.append(f":violet-badge[:material/lock: {c.t('ui.case.flag_confidential')}]")
    st.markdown(" ".join(badges))
    st.caption(
        c.t(
            "ui.case.version",
            version=row.get("version", ""),
            who=row.get("updated_by", ""),
            time=str(row.get("updated_at", "")).replace("T", " ")[:16],
        )
    )

    st.subheader(c.t("ui.case.deadlines"), divider="gray", anchor=False)
    deadlines(c, case)
    st.subheader(c.t("ui.case.meetings"), divider="gray", anchor=False)
    meetings(c, case)

    st.subheader(c.t("ui.case.actions"), divider="gray", anchor=False)
    actions.render(c, case_id)

    basic = [f.key for f in c.sheet.fields if not f.derived and not f.workflow]
    handling = [
        f.key
        for f in c.sheet.fields
        if (f.workflow or f.derived)
        and f.key not in ("case_id", "version", "updated_at", "updated_by")
    ]
    st.subheader(c.t("ui.case.basic"), divider="gray", anchor=False)
    fields_section(c, row, basic)
    st.subheader(c.t("ui.case.handling"), divider="gray", anchor=False)
    fields_section(c, row, handling)
    extra = [k for k in row if k not in c.sheet.by_key and not str(k).startswith("_")]
    if extra:
        grid(c, [(str(k), str(row.get(k) or c.t("ui.none"))) for k in extra])

    st.subheader(c.t("ui.case.timeline"), divider="gray", anchor=False)
    tl = timeline(c, case_id)
    if tl.empty:
        st.caption(c.t("ui.case.tl.empty"))
    else:
        st.dataframe(
            tl,
            hide_index=True,
            key="case.timeline",
            column_config={
                k: st.column_config.TextColumn(
                    c.t(f"ui.case.tl.{k}"), width="large" if k == "what" else None
                )
                for k in TIMELINE_COLUMNS
            },
        )


run_page(page_setup("case"), page)
