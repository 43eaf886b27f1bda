"""Data health (``check``, SPEC §8): what in the register cannot be read or breaks a rule.

Reports rows with unknown enum values, unreadable dates or numbers, missing required values,
duplicate ids, out-of-order dates, references to missing cases or units, and derived fields
(status, deadlines) that disagree with the dates — each with its sheet, row, case id, column,
value and reason. Nothing is changed. A shared sheet that people edit by hand will show its
problems here instead of crashing a page.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lib import workflow
from lib.i18n import t
from lib.register import Register
from lib.schema import FieldError, Schema
from lib.store.base import Snapshot

COLUMNS = ["sheet", "row", "key", "field", "value", "problem"]
HEADERS_ZH = {
    "sheet": "表",
    "row": "行",
    "key": "编号",
    "field": "列",
    "value": "值",
    "problem": "问题",
}


def check_snapshot(
    snap: Snapshot, schema: Schema, rules: workflow.Rules, today: dt.date, lang: str = "zh"
) -> pd.DataFrame:
    """Every problem found in ``snap``, one row each (empty frame when all is well)."""
    out: list[dict[str, object]] = []
    units = snap.frames.get("units")
    unit_names = set(units["name"]) if units is not None and "name" in units else set()
    regions = (
        set(units.loc[units["kind"] == "区市县", "name"])
        if units is not None and "kind" in units
        else set()
    )
    cases = snap.frames.get("cases")
    case_ids = set(cases["case_id"]) if cases is not None and "case_id" in cases else set()

    def add(sheet: str, frame: pd.DataFrame, pos: int, err: FieldError) -> None:
        sh = schema[sheet]
        key = str(frame[sh.key].iat[pos]) if sh.key and sh.key in frame else ""
        f = sh.by_key.get(err.field)
        out.append(
            {
                "sheet": sh.label(lang),
                "row": _row_no(frame, pos),
                "key": key,
                "field": f.label(lang) if f else err.field,
                "value": err.value,
                "problem": err.message(lang),
            }
        )

    for sheet in schema:
        frame = snap.frames.get(sheet.name)
        if frame is None or frame.empty:
            continue
        allowed = {"region": regions} if sheet.name == "cases" else {}
        for pos, err in sheet.bad_cells(frame, allowed):
            add(sheet.name, frame, pos, err)
        if sheet.key and sheet.key in frame:
            col = frame[sheet.key]
            dup = col.duplicated(keep=False) & (col != "")
            for pos in dup.to_numpy().nonzero()[0]:
                v = str(col.iat[pos])
                lab = sheet.field(sheet.key).label(lang)
                add(
                    sheet.name,
                    frame,
                    pos,
                    FieldError(sheet.key, v, "err.duplicate_id", {"label": lab}),
                )
        for ref_field in ("case_id", "unit", "repeat_of"):
            f = sheet.by_key.get(ref_field)
            if f is None or not f.ref or ref_field not in frame:
                continue
            target = case_ids if f.ref.get("sheet") == "cases" else unit_names
            if sheet.name == "cases" and ref_field == "case_id":
                continue
            col = frame[ref_field]
            bad = (col != "") & ~col.isin(list(target))
            for pos in bad.to_numpy().nonzero()[0]:
                add(
                    sheet.name,
                    frame,
                    pos,
                    FieldError(ref_field, str(col.iat[pos]), "err.ref", {"label": f.label(lang)}),
                )
    if cases is not None and not cases.empty:
        out += _case_rules(cases, schema, rules, today, lang)
    # What the store itself noticed while reading (a shared sheet's duplicate or missing
    # headers, numbers that lost digits): already in this shape, with a message key.
    for p in snap.problems:
        row = {c: p.get(c, "") for c in COLUMNS}
        if lang != "zh" and p.get("code"):
            row["problem"] = t(p["code"], lang, **p.get("params", {}))
            sheet = schema.sheets.get(p.get("sheet_name", ""))
            if sheet is not None:
                row["sheet"] = sheet.label(lang)
        out.append(row)
    return pd.DataFrame(out, columns=COLUMNS)


def _row_no(frame: pd.DataFrame, pos: int) -> int:
    return int(frame["_row"].iat[pos]) if "_row" in frame else pos + 2


def _case_rules(
    raw: pd.DataFrame, schema: Schema, rules: workflow.Rules, today: dt.date, lang: str
) -> list[dict[str, object]]:
    sheet = schema["cases"]
    typed = sheet.typed_frame(raw)
    out: list[dict[str, object]] = []
    date_cols = [f.key for f in sheet.fields if f.type == "date"]
    records = typed[[*date_cols, "case_id", "evaluation", "extension_days", "repeat_of"]]
    for pos, rec in enumerate(records.itertuples(index=False)):
        case = {
            k: (
                v.date()
                if isinstance(v, pd.Timestamp)
                else (None if v is pd.NaT or v is pd.NA else v)
            )
            for k, v in rec._asdict().items()
        }
        for err in workflow.case_errors(case, today, sheet):
            f = sheet.by_key.get(err.field)
            out.append(
                {
                    "sheet": sheet.label(lang),
                    "row": _row_no(raw, pos),
                    "key": case["case_id"],
                    "field": f.label(lang) if f else err.field,
                    "value": err.value,
                    "problem": err.message(lang),
                }
            )
    # Derived fields must agree with the dates (they are never typed by hand).
    try:
        derived = workflow.derive_frame(typed, rules)
    except Exception:  # an uncovered calendar year: reported elsewhere, not a crash here
        return out
    checks = [("status", derived["status"], typed["status"].astype(str))]
    for k in ("accept_due", "handle_due"):
        want = derived[k].dt.strftime("%Y-%m-%d").fillna("")
        have = raw[k].astype(str) if k in raw else pd.Series("", index=raw.index)
        checks.append((k, want, have))
    for key, want, have in checks:
        mism = want.astype(str).to_numpy() != have.astype(str).to_numpy()
        f = sheet.field(key)
        for pos in mism.nonzero()[0]:
            out.append(
                {
                    "sheet": sheet.label(lang),
                    "row": _row_no(raw, pos),
                    "key": str(raw["case_id"].iat[pos]),
                    "field": f.label(lang),
                    "value": str(have.iat[pos]),
                    "problem": t(
                        "err.derived_mismatch",
                        lang,
                        label=f.label(lang),
                        expected=str(want.iat[pos]),
                        value=str(have.iat[pos]),
                    ),
                }
            )
    return out


def check_register(reg: Register, lang: str = "zh") -> pd.DataFrame:
    """Run :func:`check_snapshot` on a register (reads it afresh)."""
    data = reg.load(force=True)
    return check_snapshot(data.snapshot, reg.schema, data.rules, reg.today(), lang)
