"""The next allowed actions on one case (SPEC §3), as small forms that call the service layer.

Shown on the tracking page for the selected case and on the case detail page. Which actions
appear follows the user's role (and, for handlers, their units), the case's status and its
dates; the service layer checks all of it again. Each form sends the case version the user
was looking at, so a change by someone else in between is refused as a conflict — the message
says so, the typed values stay, and the page shows the case as it is now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from lib import workflow
from lib.auth import UNIT_SCOPED, User
from lib.i18n import t
from lib.register import ESCALATION_KIND, MEET_FIELDS
from lib.store.base import ConflictError
from lib.ui import context
from lib.ui.context import Ctx
from lib.ui.errors import show_error

ORDER = (
    "assign",
    "accept",
    "reject",
    "object",
    "extend",
    "meet",
    "reply",
    "evaluate",
    "reassign",
    "instruct",
    "supervise",
    "escalate",
    "mark_repeat",
)
ANY_STATE = frozenset(workflow.STATUSES)
STATES: dict[str, frozenset[str]] = {
    "assign": frozenset({"待交办"}),
    "reassign": frozenset({"已交办", "办理中", "不予受理"}),
    "accept": frozenset({"已交办"}),
    "reject": frozenset({"已交办"}),
    "object": frozenset({"已交办"}),
    "extend": frozenset({"办理中"}),
    "meet": frozenset({"已交办", "办理中", "已办结", "已评价", "不予受理"}),
    "reply": frozenset({"办理中"}),
    "evaluate": frozenset({"已办结"}),
    "instruct": ANY_STATE,
    "supervise": ANY_STATE,
    "escalate": ANY_STATE,
    "mark_repeat": ANY_STATE,
}
MEET_STATES = {
    "accept": frozenset({"已交办", "办理中", "已办结", "已评价", "不予受理"}),
    "handle": frozenset({"办理中", "已办结", "已评价"}),
    "reply": frozenset({"办理中", "已办结", "已评价"}),
}
PREFIX = "act"


def open_meetings(case: Mapping[str, Any]) -> list[str]:
    """The 三见面 stages that may still be recorded on this case."""
    status = workflow.status_of(case)
    return [
        stage
        for stage, field in MEET_FIELDS.items()
        if not case.get(field) and status in MEET_STATES[stage]
    ]


def available(
    user: User, case: Mapping[str, Any], rules: workflow.Rules, today: dt.date
) -> list[str]:
    """The actions ``user`` may take on ``case`` (typed values) now, in a sensible order."""
    status = workflow.status_of(case)
    out = []
    for action in ORDER:
        if not user.may(action) or status not in STATES[action]:
            continue
        if user.role == "handler" and action in UNIT_SCOPED and not user.owns(case.get("unit")):
            continue
        if action == "extend" and int(case.get("extension_days") or 0) > 0:
            continue
        if action == "meet" and not open_meetings(case):
            continue
        if action == "object" and case.get("assigned_at"):
            try:
                if today > workflow.objection_due(case["assigned_at"], rules):
                    continue
            except Exception:  # a year the holiday calendar does not cover: let the service say
                pass
        out.append(action)
    return out


def typed_case(ctx: Ctx, row: Mapping[str, str]) -> dict[str, Any]:
    """Typed values of a case row as read (masked PII simply fails to parse and is dropped)."""
    typed, _, _ = ctx.sheet.parse_row(row)
    typed["case_id"] = row.get("case_id", "")
    return typed


def _version(row: Mapping[str, str]) -> int:
    try:
        return int(str(row.get("version") or "0"))
    except ValueError:
        return 0


def _label(ctx: Ctx, sheet: str, key: str) -> str:
    return ctx.reg.schema[sheet].field(key).label(ctx.lang)


def render(
    ctx: Ctx,
    case_id: str,
    *,
    prefix: str = PREFIX,
    on_done: Callable[[str, str], None] | None = None,
) -> None:
    """Show the allowed actions on ``case_id`` and carry out the one submitted.

    After a successful action the page reruns with a success message; ``on_done(case_id,
    action)`` runs first (e.g. to reset a table selection that would now point elsewhere).
    """
    try:
        row = ctx.reg.get_case(ctx.user, case_id)
    except Exception as exc:
        show_error(exc, ctx.lang)
        return
    case = typed_case(ctx, row)
    acts = available(ctx.user, case, ctx.data.rules, ctx.today)
    if not acts:
        st.caption(ctx.t("ui.act.none"))
        return
    ss = st.session_state
    base = f"{prefix}.{case_id}"
    current = _version(row)
    seen_key = f"{base}.seen"
    seen = ss.get(seen_key, current)
    choice = st.radio(
        ctx.t("ui.act.choose"),
        acts,
        key=f"{base}.choice@{ctx.lang}",  # labels are translated: one widget per language
        horizontal=True,
        format_func=lambda a: t("action." + a, ctx.lang),
    )
    if choice not in acts:
        choice = acts[0]
    fkey = f"{base}.{choice}"
    with st.form(fkey, border=True):
        call = FORMS[choice](ctx, case, fkey)
        submitted = st.form_submit_button(
            ctx.t("ui.act.submit") + " · " + t("action." + choice, ctx.lang),
            type="primary",
            key=f"{fkey}.submit",
        )
    if not submitted:
        ss[seen_key] = current
        return
    try:
        call(seen)
    except ConflictError as exc:
        show_error(exc, ctx.lang, [ctx.sheet])
        ss[seen_key] = current  # the page now shows this version; the next try uses it
        return
    except Exception as exc:
        show_error(exc, ctx.lang, [ctx.sheet, *_other_sheets(ctx)])
        ss[seen_key] = current
        return
    for k in [
        k for k in ss if isinstance(k, str) and k.startswith(fkey + ".") and k != f"{fkey}.submit"
    ]:
        del ss[k]
    ss.pop(seen_key, None)
    if on_done is not None:
        on_done(case_id, choice)
    context.flash(
        "success", ctx.t("ui.act.done", case_id=case_id, action=t("action." + choice, ctx.lang))
    )
    st.rerun()


def _other_sheets(ctx: Ctx) -> list:
    return [ctx.reg.schema["instructions"], ctx.reg.schema["supervisions"]]


def _date(ctx: Ctx, label: str, key: str) -> dt.date | None:
    return st.date_input(label, value=ctx.today, max_value=ctx.today, key=key, format="YYYY-MM-DD")


# --- one form per action: draw the fields, return the call to make with the seen version ----

Call = Callable[[int], Any]


def _assign(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    units = ctx.data.active_units()
    c1, c2, c3 = st.columns([2, 2, 1])
    with c1:
        unit = st.selectbox(
            _label(ctx, "cases", "unit"),
            units,
            key=f"{k}.unit",
            index=None,
            placeholder=ctx.t("ui.choose"),
        )
    with c2:
        lead = st.text_input(_label(ctx, "cases", "lead_official"), key=f"{k}.lead", max_chars=100)
    with c3:
        day = _date(ctx, _label(ctx, "cases", "assigned_at"), f"{k}.date")
    return lambda v: ctx.reg.assign(
        ctx.user, case["case_id"], unit=unit or "", lead_official=lead, assigned_at=day, version=v
    )


def _reassign(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    units = [u for u in ctx.data.active_units() if u != case.get("unit")]
    c1, c2, c3 = st.columns([2, 2, 1])
    with c1:
        unit = st.selectbox(
            _label(ctx, "cases", "unit"),
            units,
            key=f"{k}.unit",
            index=None,
            placeholder=ctx.t("ui.choose"),
        )
    with c2:
        lead = st.text_input(_label(ctx, "cases", "lead_official"), key=f"{k}.lead", max_chars=100)
    with c3:
        day = _date(ctx, _label(ctx, "cases", "assigned_at"), f"{k}.date")
    reason = st.text_area(ctx.t("ui.act.reason"), key=f"{k}.reason", height=80)
    return lambda v: ctx.reg.reassign(
        ctx.user,
        case["case_id"],
        unit=unit or "",
        lead_official=lead,
        reason=reason,
        assigned_at=day,
        version=v,
    )


def _accept(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    c1, c2 = st.columns(2)
    with c1:
        day = _date(ctx, _label(ctx, "cases", "accepted_at"), f"{k}.date")
    with c2:
        st.write("")
        met = st.checkbox(ctx.t("ui.act.met"), key=f"{k}.met")
    return lambda v: ctx.reg.accept(ctx.user, case["case_id"], accepted_at=day, met=met, version=v)


def _reject(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    day = _date(ctx, _label(ctx, "cases", "rejected_at"), f"{k}.date")
    reason = st.text_area(_label(ctx, "cases", "reject_reason"), key=f"{k}.reason", height=80)
    return lambda v: ctx.reg.reject(
        ctx.user, case["case_id"], reason=reason, rejected_at=day, version=v
    )


def _object(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    if case.get("assigned_at"):
        due = workflow.objection_due(case["assigned_at"], ctx.data.rules)
        st.caption(ctx.t("ui.act.object_due", due=due.isoformat()))
    day = _date(ctx, _label(ctx, "cases", "returned_at"), f"{k}.date")
    reason = st.text_area(_label(ctx, "cases", "return_reason"), key=f"{k}.reason", height=80)
    return lambda v: ctx.reg.object(
        ctx.user, case["case_id"], reason=reason, returned_at=day, version=v
    )


def _extend(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    rules = ctx.data.rules
    st.caption(ctx.t("ui.act.extend_once", max=rules.max_extension_days))
    c1, c2 = st.columns(2)
    with c1:
        days = st.number_input(
            _label(ctx, "cases", "extension_days"),
            min_value=1,
            max_value=max(rules.max_extension_days, 1),
            value=min(15, max(rules.max_extension_days, 1)),
            step=1,
            key=f"{k}.days",
        )
    with c2:
        day = _date(ctx, _label(ctx, "cases", "extended_at"), f"{k}.date")
    reason = st.text_area(_label(ctx, "cases", "extension_reason"), key=f"{k}.reason", height=80)
    return lambda v: ctx.reg.extend(
        ctx.user, case["case_id"], days=int(days), reason=reason, extended_at=day, version=v
    )


def _meet(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    stages = open_meetings(case)
    c1, c2 = st.columns(2)
    with c1:
        stage = st.selectbox(
            ctx.t("ui.act.stage"),
            stages,
            key=f"{k}.stage@{ctx.lang}",
            format_func=lambda s: ctx.t("ui.meet." + s),
        )
    with c2:
        day = _date(ctx, ctx.t("ui.act.date"), f"{k}.date")
    return lambda v: ctx.reg.meet(
        ctx.user, case["case_id"], stage=stage or "", met_at=day, version=v
    )


def _reply(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    text = st.text_area(_label(ctx, "cases", "reply"), key=f"{k}.reply", height=140)
    c1, c2 = st.columns(2)
    with c1:
        day = _date(ctx, _label(ctx, "cases", "concluded_at"), f"{k}.date")
    with c2:
        st.write("")
        met = st.checkbox(ctx.t("ui.act.met"), key=f"{k}.met")
    return lambda v: ctx.reg.reply(
        ctx.user, case["case_id"], reply=text, concluded_at=day, met=met, version=v
    )


def _evaluate(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    f = ctx.sheet.field("evaluation")
    c1, c2 = st.columns(2)
    with c1:
        value = st.selectbox(
            f.label(ctx.lang),
            list(f.enum or ()),
            key=f"{k}.value",
            index=None,
            placeholder=ctx.t("ui.choose"),
        )
    with c2:
        day = _date(ctx, _label(ctx, "cases", "evaluated_at"), f"{k}.date")
    return lambda v: ctx.reg.evaluate(
        ctx.user, case["case_id"], evaluation=value or "", evaluated_at=day, version=v
    )


def _instruct(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    c1, c2 = st.columns([3, 1])
    with c1:
        leader = st.text_input(
            _label(ctx, "instructions", "leader"), key=f"{k}.leader", max_chars=100
        )
    with c2:
        day = _date(ctx, _label(ctx, "instructions", "date"), f"{k}.date")
    text = st.text_area(_label(ctx, "instructions", "text"), key=f"{k}.text", height=100)
    return lambda v: ctx.reg.instruct(ctx.user, case["case_id"], leader=leader, text=text, date=day)


def _supervise(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    kinds = [
        x for x in ctx.reg.schema["supervisions"].field("kind").enum or () if x != ESCALATION_KIND
    ]
    c1, c2, c3 = st.columns(3)
    with c1:
        kind = st.selectbox(_label(ctx, "supervisions", "kind"), kinds, key=f"{k}.kind")
    with c2:
        day = _date(ctx, _label(ctx, "supervisions", "date"), f"{k}.date")
    with c3:
        due = st.date_input(
            _label(ctx, "supervisions", "due"), value=None, key=f"{k}.due", format="YYYY-MM-DD"
        )
    note = st.text_area(_label(ctx, "supervisions", "note"), key=f"{k}.note", height=80)
    return lambda v: ctx.reg.supervise(
        ctx.user, case["case_id"], kind=kind or "", note=note, due=due, date=day
    )


def _escalate(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    reason = st.text_area(ctx.t("ui.act.reason"), key=f"{k}.reason", height=80)
    return lambda v: ctx.reg.escalate(ctx.user, case["case_id"], reason=reason)


def _mark_repeat(ctx: Ctx, case: Mapping[str, Any], k: str) -> Call:
    original = st.text_input(
        _label(ctx, "cases", "repeat_of"),
        value=str(case.get("repeat_of") or ""),
        key=f"{k}.original",
        max_chars=40,
    )
    return lambda v: ctx.reg.mark_repeat(
        ctx.user, case["case_id"], repeat_of=original.strip(), version=v
    )


FORMS: dict[str, Callable[[Ctx, Mapping[str, Any], str], Call]] = {
    "assign": _assign,
    "reassign": _reassign,
    "accept": _accept,
    "reject": _reject,
    "object": _object,
    "extend": _extend,
    "meet": _meet,
    "reply": _reply,
    "evaluate": _evaluate,
    "instruct": _instruct,
    "supervise": _supervise,
    "escalate": _escalate,
    "mark_repeat": _mark_repeat,
}
