"""受理登记 Intake: register one message (form generated from the schema, likely repeats shown
before saving, optional leader's instruction), or import many from a file."""

from __future__ import annotations

import streamlit as st

from lib.i18n import DomainError
from lib.register import ValidationError
from lib.repeats import find_repeats
from lib.ui import Ctx, case_link, forms, page_setup, run_page
from lib.ui.errors import error_text, field_error_text, show_error
from lib.ui.text import md_escape

P = "intake."
IP = "intake.instr."
ERRORS = "intake._errors"
SAVED = "intake._saved"
REPEAT_KEY = P + "repeat_of"
WITH_INSTR = "intake.with_instruction"

ctx = page_setup("intake")
sheet = ctx.sheet
instr_sheet = ctx.reg.schema["instructions"]
FIELDS = forms.form_fields(sheet)
INSTR_FIELDS = [f for f in forms.form_fields(instr_sheet) if f.key != "case_id"]
forms.init_state(FIELDS, P, ctx.today)
forms.init_state(INSTR_FIELDS, IP, ctx.today)


def save(c: Ctx) -> None:
    """Button callback: register the message, or keep the form and say what is wrong."""
    ss = st.session_state
    vals = forms.values(FIELDS, P)
    instruction = None
    if ss.get(WITH_INSTR) and c.user.may("instruct"):
        instruction = forms.values(INSTR_FIELDS, IP)
    ss.pop(SAVED, None)
    try:
        case_id = c.reg.intake(c.user, vals, instruction=instruction)
    except ValidationError as exc:
        sheets = [sheet, instr_sheet]
        by_field: dict[str, str] = {}
        for e in exc.errors:
            where = e.field if e.field in {f.key for f in FIELDS} else "instr." + e.field
            by_field.setdefault(where, field_error_text(e, c.lang, sheets))
        ss[ERRORS] = by_field
        return
    except DomainError as exc:
        ss[ERRORS] = {"": exc.message(c.lang)}
        return
    except Exception as exc:  # never a traceback for the clerk
        ss[ERRORS] = {"": error_text(exc, c.lang)}
        return
    ss[SAVED] = case_id
    ss[ERRORS] = {}
    forms.init_state(FIELDS, P, c.today, reset=True)
    forms.init_state(INSTR_FIELDS, IP, c.today, reset=True)
    ss[WITH_INSTR] = False


def clear(c: Ctx) -> None:
    """Button callback: start a fresh form."""
    forms.init_state(FIELDS, P, c.today, reset=True)
    forms.init_state(INSTR_FIELDS, IP, c.today, reset=True)
    st.session_state[ERRORS] = {}
    st.session_state[WITH_INSTR] = False
    st.session_state.pop(SAVED, None)


def set_repeat(case_id: str) -> None:
    st.session_state[REPEAT_KEY] = case_id


def repeats_panel(c: Ctx) -> None:
    """Likely earlier cases of the same matter, with one click to link the new message."""
    ss = st.session_state
    st.subheader(c.t("ui.intake.repeats"), divider="gray")
    st.caption(c.t("ui.intake.repeats_help"))
    marked = (ss.get(REPEAT_KEY) or "").strip()
    if marked:
        st.info(c.t("ui.intake.marked_repeat", case_id=marked), icon=":material/link:")
        st.button(
            c.t("ui.intake.unmark_repeat"), key="intake.unmark", on_click=set_repeat, args=("",)
        )
    query = {k: ss.get(P + k) or "" for k in ("phone", "petitioner", "region", "title", "content")}
    if not any(query.values()):
        st.caption(c.t("ui.intake.repeats_wait"))
        return
    found = find_repeats(c.data.cases, **query, limit=6)
    if found.empty:
        st.caption(c.t("ui.intake.repeats_none"))
        return
    for row in found.itertuples(index=False):
        reasons = "、".join(c.t("ui.reason." + r) for r in row.reasons)
        with st.container(border=True):
            st.markdown(f"**{row.case_id}** · {row.score:.0f} · :orange[{reasons}]")
            st.markdown(md_escape(row.title))
            received = (
                row.received_at.strftime("%Y-%m-%d") if hasattr(row.received_at, "strftime") else ""
            )
            unit = row.unit or c.t("ui.unassigned")
            status = c.t("status." + row.status) if row.status else ""
            st.caption(md_escape(f"{received} · {status} · {unit} · {row.petitioner}"))
            if row.matched > 1 or row.repeats:
                st.caption(c.t("ui.intake.matter", n=int(row.repeats), matched=int(row.matched)))
            st.button(
                c.t("ui.intake.mark_repeat"),
                key=f"intake.rep.{row.case_id}",
                on_click=set_repeat,
                args=(row.case_id,),
                disabled=marked == row.case_id,
                icon=":material/link:",
                width="stretch",
            )
            case_link(c, row.case_id, c.t("ui.intake.view_case"))


def one_case(c: Ctx) -> None:
    ss = st.session_state
    errors: dict[str, str] = ss.get(ERRORS) or {}
    if ss.get(SAVED):
        st.success(c.t("ui.intake.saved", case_id=ss[SAVED]), icon=":material/check_circle:")
        case_link(c, ss[SAVED])
    if errors:
        st.error(
            c.t("ui.errors_title") + "\n\n" + "\n".join(f"- {m}" for m in errors.values()),
            icon=":material/error:",
        )
    left, right = st.columns([2, 1], gap="large")
    with left:
        st.caption(c.t("ui.intake.required_note"))
        forms.draw_fields(FIELDS, prefix=P, lang=c.lang, data=c.data, today=c.today, errors=errors)
        if c.user.may("instruct"):
            with st.container(border=True):
                st.checkbox(c.t("ui.intake.with_instruction"), key=WITH_INSTR)
                if ss.get(WITH_INSTR):
                    forms.draw_fields(
                        INSTR_FIELDS,
                        prefix=IP,
                        lang=c.lang,
                        data=c.data,
                        today=c.today,
                        errors={
                            k[len("instr.") :]: v
                            for k, v in errors.items()
                            if k.startswith("instr.")
                        },
                        columns=2,
                    )
        b1, b2 = st.columns([1, 1])
        with b1:
            st.button(
                c.t("ui.intake.save"),
                key="intake.save",
                type="primary",
                on_click=save,
                args=(c,),
                icon=":material/save:",
                width="stretch",
            )
        with b2:
            st.button(
                c.t("ui.intake.reset"),
                key="intake.reset",
                on_click=clear,
                args=(c,),
                icon=":material/restart_alt:",
            )
    with right:
        repeats_panel(c)


def bulk_import(c: Ctx) -> None:
    try:
        from lib import importer
    except ImportError:
        st.info(c.t("ui.import.unavailable"))
        return
    ss = st.session_state
    st.caption(c.t("ui.import.template_help"))
    t1, t2, _ = st.columns([1, 1, 2])
    for col, fmt in ((t1, "xlsx"), (t2, "csv")):
        with col:
            st.download_button(
                c.t("ui.import.template", fmt=fmt.upper()),
                data=lambda fmt=fmt: importer.template(sheet, fmt, lang="zh"),
                file_name=f"留言台账导入模板.{fmt}",
                key=f"import.template.{fmt}",
                on_click="ignore",
                icon=":material/download:",
            )
    upload = st.file_uploader(c.t("ui.import.upload"), type=["xlsx", "csv"], key="import.file")
    if ss.get("import.result"):
        st.success(ss["import.result"], icon=":material/task_alt:")
    if upload is None:
        return
    file_id = f"{upload.name}:{upload.size}:{getattr(upload, 'file_id', '')}"
    if ss.get("import.done") == file_id:
        return
    cached = ss.get("import.plan")
    if not cached or cached[0] != file_id:
        try:
            with st.spinner(c.t("ui.import.preview", summary=upload.name)):
                plan = importer.plan_import(c.reg, c.user, upload.getvalue(), name=upload.name)
        except Exception as exc:
            show_error(exc, c.lang, [sheet])
            return
        ss["import.plan"] = (file_id, plan)
    else:
        plan = cached[1]
    st.markdown(
        "**"
        + c.t(
            "ui.import.plan",
            total=plan.total,
            ok=len(plan.rows),
            skipped=len(plan.skipped),
            rejected=len(plan.rejected),
        )
        + "**"
    )
    if plan.ignored_columns:
        st.caption(c.t("ui.import.ignored", columns="、".join(plan.ignored_columns)))
    if plan.rejected:
        st.markdown(f"**{c.t('ui.import.rejected')}**")
        for issue in plan.rejected[:50]:
            st.caption(f":red[{issue.text(c.lang)}]")
    st.dataframe(plan.preview(sheet, c.lang), hide_index=True, height=320, key="import.preview")
    if not plan.rows:
        st.warning(c.t("ui.import.nothing"))
        return
    if st.button(c.t("ui.import.confirm", n=len(plan.rows)), type="primary", key="import.confirm"):
        bar = st.progress(0.0, text=c.t("ui.import.progress", done=0, total=len(plan.rows)))

        def progress(done: int, total: int) -> None:
            bar.progress(
                min(done / max(total, 1), 1.0),
                text=c.t("ui.import.progress", done=done, total=total),
            )

        try:
            result = importer.run_import(c.reg, c.user, plan, progress=progress)
        except Exception as exc:
            show_error(exc, c.lang, [sheet])
            return
        ss["import.done"] = file_id
        ss.pop("import.plan", None)
        ss["import.result"] = c.t("ui.import.done", summary=result.summary(c.lang))
        st.rerun()


def page(c: Ctx) -> None:
    st.title(c.t("ui.intake.title"))
    if c.user.may("import"):
        tab_one, tab_bulk = st.tabs([c.t("ui.intake.tab_one"), c.t("ui.intake.tab_bulk")])
        with tab_one:
            one_case(c)
        with tab_bulk:
            bulk_import(c)
    else:
        one_case(c)


run_page(ctx, page)
