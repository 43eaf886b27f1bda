"""系统管理 helpers: units, accounts, settings, data health, the full backup, the demo reset.

Every change goes through the service layer (``save_unit``, ``save_user``, ``reset_password``,
``set_setting``), which checks the role again and writes history. Forms are drawn from the
schema (``sheets_schema/units.yaml``, ``users.yaml``, the ``defaults:`` of ``settings.yaml``),
so a field or setting added there appears here. Password hashes are never read into a page.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from lib import auth, importer
from lib.i18n import DomainError, t
from lib.register import Register
from lib.schema import Field, Sheet
from lib.ui import (
    context,
    messages_oversight,  # noqa: F401  (registers the page's strings)
    tables,
)
from lib.ui.context import Ctx
from lib.ui.errors import error_text, show_error
from lib.ui.shell import case_link

NEW = "__new__"
HEALTH_KEY = "adm._health"
MAX_CASE_LINKS = 30
ROLE_ORDER = auth.ROLES


# --- shared -------------------------------------------------------------------------------


def sheet_table(c: Ctx, sheet: Sheet, frame: pd.DataFrame, key: str) -> None:
    """A sheet's rows with the schema's labels (never secret columns, nor the version)."""
    keys = [f.key for f in sheet.fields if not f.secret and f.key != "version"]
    keys = [k for k in keys if k in frame.columns]
    shown = frame[keys].reset_index(drop=True)
    for f in sheet.fields:
        if f.key in shown and f.type in ("date", "datetime"):
            col = pd.to_datetime(shown[f.key], errors="coerce", utc=f.type == "datetime")
            if f.type == "datetime":  # shown in the bureau's time zone, as written
                col = col.dt.tz_convert(c.reg.now().tzinfo).dt.tz_localize(None)
            shown[f.key] = col
    if "role" in shown:
        shown["role"] = shown["role"].map(lambda r: t("role." + r, c.lang) if r else r)
    st.dataframe(
        shown,
        placeholder="",
        hide_index=True,
        column_config=tables.column_config(sheet, keys, c.lang),
        height=tables.height(len(shown), 420),
        key=key,
    )


def _active_count(frame: pd.DataFrame) -> int:
    if frame.empty or "active" not in frame:
        return len(frame)
    return int(frame["active"].fillna(True).astype(bool).sum())


def _picker(c: Ctx, label: str, names: Sequence[str], key: str) -> str:
    """Choose a row to edit, or NEW."""
    options = [NEW, *names]
    if st.session_state.get(key) not in options:
        st.session_state[key] = NEW
    return st.selectbox(
        label, options, key=key, format_func=lambda v: c.t("adm.new") if v == NEW else v
    )


def _field_widget(f: Field, lang: str, key: str, value: Any, *, disabled: bool = False) -> Any:
    """One widget for a units/users field, started at ``value``."""
    name = f.label(lang) + (" *" if f.required else "")
    ss = st.session_state
    if key not in ss:
        ss[key] = value
    if f.type == "bool":
        return st.checkbox(name, key=key, help=f.help, disabled=disabled)
    if f.type == "enum":
        opts = list(f.enum or ())
        if ss.get(key) not in opts:
            ss[key] = opts[0] if opts else None
        return st.selectbox(name, opts, key=key, help=f.help, disabled=disabled)
    if f.type == "int":
        return st.number_input(name, key=key, min_value=f.min, step=1, disabled=disabled)
    return st.text_input(name, key=key, max_chars=f.max_length, help=f.help, disabled=disabled)


def _typed(value: Any, f: Field) -> Any:
    """A frame value as a widget starts with it."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        value = None
    if f.type == "bool":
        return bool(value) if value is not None else bool(f.default)
    if f.type == "int":
        return int(value) if value is not None else (int(f.default) if f.default else 0)
    if f.type == "enum":
        return value if value else (str(f.default) if f.default is not None else None)
    return "" if value is None else str(value)


def _clear(prefix: str) -> None:
    for k in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[k]


# --- units --------------------------------------------------------------------------------


def units_tab(c: Ctx) -> None:
    """The units, and a form to add one or change one (deactivate with 启用 unticked)."""
    sheet = c.reg.schema["units"]
    units = c.data.units
    st.caption(c.t("adm.count_units", n=len(units), active=_active_count(units)))
    sheet_table(c, sheet, units, "adm.units.table")
    names = units["name"].tolist() if len(units) else []
    chosen = _picker(c, c.t("adm.unit.pick"), names, "adm.unit.pick")
    editing = chosen != NEW
    row = units[units["name"] == chosen].iloc[0].to_dict() if editing else {}
    prefix = f"adm.unit.{chosen}."
    fields = [f for f in sheet.fields if not f.derived]
    with st.form(f"adm.unit.form.{chosen}"):
        st.markdown(
            "**"
            + (c.t("adm.unit.form_edit", name=chosen) if editing else c.t("adm.unit.form_new"))
            + "**"
        )
        values: dict[str, Any] = {}
        cols = st.columns(3)
        for i, f in enumerate(fields):
            with cols[i % 3]:
                values[f.key] = _field_widget(
                    f,
                    c.lang,
                    prefix + f.key,
                    _typed(row.get(f.key), f),
                    disabled=editing and f.key == sheet.key,
                )
        st.caption(c.t("adm.unit.key_note"))
        go = st.form_submit_button(c.t("adm.unit.save"), type="primary", key=f"{prefix}submit")
    if not go:
        return
    name = str(values.get("name") or "").strip()
    if editing:
        values["name"] = chosen
    elif name in names:
        st.error(c.t("adm.unit.exists", name=name), icon=":material/error:")
        return
    else:
        values["name"] = name
    try:
        c.reg.save_unit(c.user, values)
    except Exception as exc:
        show_error(exc, c.lang, [sheet])
        return
    _clear(prefix)
    st.session_state.pop("adm.unit.pick", None)
    context.flash("success", c.t("adm.unit.saved", name=values["name"]))
    st.rerun()


# --- users --------------------------------------------------------------------------------


def users_tab(c: Ctx) -> None:
    """The accounts, and a form to add one or change its name, role, units and state."""
    sheet = c.reg.schema["users"]
    users = c.data.users
    st.caption(c.t("adm.count_users", n=len(users), active=_active_count(users)))
    sheet_table(c, sheet, users, "adm.users.table")
    names = users["username"].tolist() if len(users) else []
    chosen = _picker(c, c.t("adm.user.pick"), names, "adm.user.pick")
    editing = chosen != NEW
    row = users[users["username"] == chosen].iloc[0].to_dict() if editing else {}
    prefix = f"adm.user.{chosen}."
    by_key = sheet.by_key
    unit_names = c.data.units["name"].tolist() if len(c.data.units) else []
    ss = st.session_state
    with st.form(f"adm.user.form.{chosen}"):
        title = c.t("adm.user.form_edit", username=chosen) if editing else c.t("adm.user.form_new")
        st.markdown(f"**{title}**")
        c1, c2, c3 = st.columns(3)
        with c1:
            username = _field_widget(
                by_key["username"],
                c.lang,
                prefix + "username",
                chosen if editing else "",
                disabled=editing,
            )
        with c2:
            display = _field_widget(
                by_key["display_name"],
                c.lang,
                prefix + "display_name",
                _typed(row.get("display_name"), by_key["display_name"]),
            )
        with c3:
            role_key = prefix + "role"
            if role_key not in ss:
                ss[role_key] = row.get("role") or "clerk"
            role = st.selectbox(
                by_key["role"].label(c.lang) + " *",
                list(ROLE_ORDER),
                key=role_key,
                format_func=lambda r: t("role." + r, c.lang),
            )
        units_key = prefix + "units"
        if units_key not in ss:
            current = [u.strip() for u in str(row.get("units") or "").split(",") if u.strip()]
            ss[units_key] = [u for u in current if u in unit_names]
        chosen_units = st.multiselect(
            by_key["units"].label(c.lang),
            unit_names,
            key=units_key,
            help=c.t("adm.user.units_help"),
            placeholder=c.t("adm.user.units_placeholder"),
        )
        c4, c5, c6 = st.columns(3)
        with c4:
            email = (
                _field_widget(
                    by_key["email"],
                    c.lang,
                    prefix + "email",
                    _typed(row.get("email"), by_key["email"]),
                )
                if "email" in by_key
                else None
            )
        with c5:
            active = _field_widget(
                by_key["active"],
                c.lang,
                prefix + "active",
                _typed(row.get("active"), by_key["active"]),
            )
        with c6:
            must = st.checkbox(
                c.t("adm.user.must_change"),
                key=prefix + "must_change",
                value=True
                if not editing
                else bool(_typed(row.get("must_change_password"), by_key["must_change_password"])),
            )
        if not editing:
            st.caption(c.t("adm.user.new_help"))
        go = st.form_submit_button(c.t("adm.user.save"), type="primary", key=f"{prefix}submit")
    if editing:
        reset_password_button(c, chosen)
    if not go:
        return
    username = str(username or "").strip()
    if not editing and username in names:
        st.error(c.t("adm.user.exists", username=username), icon=":material/error:")
        return
    if editing and chosen == c.user.username and (role != "admin" or not active):
        st.error(c.t("adm.user.self"), icon=":material/error:")
        return
    if role == "handler" and not chosen_units:
        st.error(c.t("adm.user.need_units"), icon=":material/error:")
        return
    one_time = None
    if not editing:
        one_time = getattr(auth, "generate_password", lambda: None)()
    try:
        c.reg.save_user(
            c.user,
            username,
            role=role,
            display_name=str(display or "").strip() or username,
            units=list(chosen_units) if role == "handler" else [],
            active=bool(active),
            must_change_password=bool(must) or one_time is not None,
            email=None if email is None else str(email).strip(),
            password=one_time,
        )
    except Exception as exc:
        show_error(exc, c.lang, [sheet])
        return
    _clear(prefix)
    ss.pop("adm.user.pick", None)
    context.flash("success", c.t("adm.user.saved", username=username))
    if one_time:
        context.flash("info", c.t("adm.user.one_time", username=username, password=one_time))
    st.rerun()


def reset_password_button(c: Ctx, username: str) -> None:
    """An administrator gives the account a one-time password (shown once)."""
    if not c.user.may("reset_password") and not c.user.may("manage_users"):
        return
    if not st.button(
        c.t("adm.user.reset"),
        key=f"adm.user.{username}.reset",
        icon=":material/key:",
        help=c.t("adm.user.reset_help"),
    ):
        return
    try:
        if hasattr(c.reg, "reset_password"):
            password = c.reg.reset_password(c.user, username)
        else:  # an older service layer: a new password through save_user
            password = auth.generate_password()
            c.reg.save_user(c.user, username, password=password, must_change_password=True)
    except Exception as exc:
        show_error(exc, c.lang, [c.reg.schema["users"]])
        return
    context.flash("info", c.t("adm.user.one_time", username=username, password=password))
    st.rerun()


# --- settings -----------------------------------------------------------------------------


def _setting_label(d: dict[str, Any], key: str, lang: str) -> str:
    return str(d.get("label_en" if lang == "en" else "label") or key)


def _kind_label(v: str, lang: str) -> str:
    return t(f"adm.set.{v}", lang) if v in ("calendar", "working") else v


def settings_tab(c: Ctx) -> None:
    """Every setting of ``settings.yaml``'s ``defaults:``, saved through ``set_setting``."""
    defs: dict[str, dict[str, Any]] = c.reg.schema["settings"].defaults
    current = c.data.settings
    st.caption(c.t("adm.set.help"))
    ss = st.session_state
    # New widgets when the settings change (after a save), not on every re-read of a shared
    # sheet: what someone is typing must survive a refresh.
    stamp = hashlib.sha1(json.dumps(current, sort_keys=True).encode("utf-8")).hexdigest()[:12]
    base = f"adm.set.{stamp}."
    with st.form("adm.settings"):
        chosen: dict[str, str] = {}
        cols = st.columns(2)
        for i, (key, d) in enumerate(defs.items()):
            label = _setting_label(d, key, c.lang)
            default = str(d.get("value", ""))
            value = str(current.get(key, default))
            wkey = base + key
            help_ = (
                c.t("adm.set.default", value=_kind_label(default, c.lang) or "—") + f" · `{key}`"
            )
            with cols[i % 2]:
                if d.get("type") == "int":
                    start = int(value) if value.strip().isdigit() else int(default or 0)
                    if wkey not in ss:
                        ss[wkey] = start
                    got = st.number_input(label, min_value=0, step=1, key=wkey, help=help_)
                    chosen[key] = str(int(got)) if got is not None else ""
                elif d.get("type") == "enum":
                    opts = [str(o) for o in d.get("enum", [])]
                    if wkey not in ss:
                        ss[wkey] = value if value in opts else default
                    got = st.selectbox(
                        label,
                        opts,
                        key=wkey,
                        help=help_,
                        format_func=lambda v: _kind_label(v, c.lang),
                    )
                    chosen[key] = str(got or "")
                else:
                    if wkey not in ss:
                        ss[wkey] = value
                    chosen[key] = str(st.text_input(label, key=wkey, help=help_) or "")
        go = st.form_submit_button(c.t("adm.set.save"), type="primary", key="adm.settings.submit")
    if not go:
        return
    changed = {k: v for k, v in chosen.items() if v.strip() != str(current.get(k, "")).strip()}
    if not changed:
        st.info(c.t("adm.set.unchanged"))
        return
    saved, failed = save_settings(c.reg, c.user, changed, c.lang)
    for key, reason in failed:
        label = _setting_label(defs[key], key, c.lang)
        st.error(c.t("adm.set.failed", label=label, reason=reason), icon=":material/error:")
    if saved:
        names = "、".join(_setting_label(defs[k], k, c.lang) for k in saved)
        msg = c.t("adm.set.saved", n=len(saved), names=names)
        if failed:
            st.success(msg)
            return
        context.flash("success", msg)
        st.rerun()


def save_settings(
    reg: Register, user: auth.User, changed: dict[str, str], lang: str
) -> tuple[list[str], list[tuple[str, str]]]:
    """Save each changed setting; returns the keys saved and (key, reason) of those refused.

    The two quarterly weights are checked together the way the bulletins read them.
    """
    saved: list[str] = []
    failed: list[tuple[str, str]] = []
    weights = {"quarter_month_weights", "quarter_rate_weights"}
    if weights & set(changed):
        from lib.bulletin import QuarterWeights

        trial = {**reg.settings(), **changed}
        try:
            QuarterWeights.from_settings(trial)
        except DomainError as exc:
            for k in sorted(weights & set(changed)):
                failed.append((k, exc.message(lang)))
            changed = {k: v for k, v in changed.items() if k not in weights}
    for key, value in changed.items():
        try:
            reg.set_setting(user, key, value)
        except DomainError as exc:
            if exc.key == "err.setting":
                failed.append((key, t("adm.set.bad_value", lang, value=value)))
            else:
                failed.append((key, error_text(exc, lang, [reg.schema["settings"]])))
        except Exception as exc:  # shown in words; logged by error_text's caller
            failed.append((key, error_text(exc, lang)))
        else:
            saved.append(key)
    return saved, failed


# --- data health --------------------------------------------------------------------------


def health_tab(c: Ctx) -> None:
    """``check`` as a table, with links to the cases concerned."""
    from lib.health import COLUMNS, check_register

    st.caption(c.t("adm.health.help"))
    ss = st.session_state
    run = st.button(
        c.t("adm.health.run"), key="adm.health.run", icon=":material/health_and_safety:"
    )
    if run or HEALTH_KEY not in ss or ss[HEALTH_KEY][0] != c.lang:
        try:
            problems = check_register(c.reg, c.lang)
        except Exception as exc:
            show_error(exc, c.lang)
            return
        ss[HEALTH_KEY] = (c.lang, c.reg.now(), problems)
    _, when, problems = ss[HEALTH_KEY]
    stamp = when.strftime("%Y-%m-%d %H:%M:%S")
    if problems.empty:
        st.success(c.t("adm.health.ok", time=stamp), icon=":material/check_circle:")
        return
    st.warning(c.t("adm.health.found", n=len(problems), time=stamp), icon=":material/warning:")
    shown = problems[list(COLUMNS)].rename(columns={k: c.t(f"adm.health.col.{k}") for k in COLUMNS})
    st.dataframe(
        shown,
        hide_index=True,
        height=tables.height(len(shown), 420),
        key="adm.health",
        placeholder="",
    )
    cases_label = c.reg.schema["cases"].label(c.lang)
    ids = [
        str(k)
        for k in dict.fromkeys(problems.loc[problems["sheet"] == cases_label, "key"].tolist())
        if str(k)
    ]
    if ids:
        st.markdown(f"**{c.t('adm.health.cases')}**")
        cols = st.columns(3)
        for i, case_id in enumerate(ids[:MAX_CASE_LINKS]):
            with cols[i % 3]:
                case_link(c, case_id, label=case_id)
        if len(ids) > MAX_CASE_LINKS:
            st.caption(c.t("adm.health.more", n=len(ids) - MAX_CASE_LINKS))


# --- backup -------------------------------------------------------------------------------


def backup_sheets(reg: Register, user: auth.User) -> list[str]:
    """The sheets this user may export, in the schema's order."""
    out = []
    for name in reg.schema.names:
        if name == "users" and not user.may("manage_users"):
            continue
        if name == "settings" and not user.may("settings"):
            continue
        out.append(name)
    return out


def backup_xlsx(reg: Register, user: auth.User) -> bytes:
    """Every sheet the user may export in one workbook, one worksheet each.

    Worksheets are named by the sheet's title (案件, 承办单位 …) and headed by the canonical
    headers, so ``python -m lib import FILE --table T`` reads each back. Every cell is a string
    cell holding the register's canonical text (no formulas, no numbers or dates that a
    spreadsheet could reinterpret); texts longer than an Excel cell continue in
    ``（续n）`` columns, as the importer expects. Secret columns never leave
    (:meth:`~lib.register.Register.export_rows`).
    """
    import xlsxwriter

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
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_name": "等线"})
    text = wb.add_format({"font_name": "等线", "num_format": "@"})
    for name in backup_sheets(reg, user):
        sheet = reg.schema[name]
        frame = reg.export_rows(user, name)
        out, headers = importer.split_long_text(frame, sheet, "zh")  # the importer's own layout
        ws = wb.add_worksheet(sheet.title[:31])
        for col, h in enumerate(headers):
            ws.write_string(0, col, h, head)
            ws.set_column(col, col, 16, text)
        for r, values in enumerate(out.itertuples(index=False, name=None), start=1):
            for col, v in enumerate(values):
                if v is None or v == "":
                    continue
                ws.write_string(r, col, str(v), text)
        ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()


def backup_tab(c: Ctx) -> None:
    names = backup_sheets(c.reg, c.user)
    sep = ", " if c.lang == "en" else "、"
    titles = sep.join(c.reg.schema[n].label(c.lang) for n in names)
    st.caption(c.t("adm.backup.help", sheets=titles))
    st.download_button(
        c.t("adm.backup.download"),
        data=lambda: backup_xlsx(c.reg, c.user),
        file_name=f"backup-{c.today.isoformat()}.xlsx",
        mime=tables.MIME["xlsx"],
        key="adm.backup",
        on_click="ignore",
        type="primary",
        icon=":material/backup:",
    )


# --- demo ---------------------------------------------------------------------------------


def demo_tab(c: Ctx) -> None:
    """Re-create the demo register (demo mode, demo file only)."""
    from lib.ui import demo_reset

    if not c.demo or not demo_reset.is_demo_register(c.url):
        st.info(c.t("adm.demo.only", path=str(demo_reset.DEMO_PATH)))
        return
    folder = f"{demo_reset.DEMO_PATH.parent.name}/{demo_reset.BACKUP_DIR}/"
    st.caption(c.t("adm.demo.help", cases=context.DEMO_CASES, folder=folder))
    sure = st.checkbox(c.t("adm.demo.confirm"), key="adm.demo.sure")
    if not st.button(
        c.t("adm.demo.reset"),
        key="adm.demo.reset",
        disabled=not sure,
        type="primary",
        icon=":material/restart_alt:",
    ):
        return
    bar = st.progress(0.0, text=c.t("adm.demo.running"))

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=c.t("adm.demo.running"))

    try:
        result = demo_reset.reset_demo(
            c.reg, c.user, cases=context.DEMO_CASES, seed=context.DEMO_SEED, progress=progress
        )
    except Exception as exc:
        bar.empty()
        show_error(exc, c.lang)
        return
    bar.empty()
    st.session_state.pop("adm.demo.sure", None)
    backup = result.backup.name if result.backup else "—"
    context.flash(
        "success", c.t("adm.demo.done", cases=result.counts.get("cases", 0), backup=backup)
    )
    st.rerun()
