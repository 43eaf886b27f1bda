"""Errors shown to people: in their language, naming the field, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from lib.i18n import DomainError, t
from lib.register import ValidationError
from lib.schema import FieldError, Sheet

log = logging.getLogger(__name__)


def field_error_text(err: FieldError, lang: str, sheets: Iterable[Sheet] = ()) -> str:
    """One field error in ``lang``; in English the column is named by its English label."""
    params = dict(err.params)
    if lang == "en":
        for sheet in sheets:
            if err.field in sheet.by_key:
                params["label"] = sheet.field(err.field).label_en
                break
        other = params.get("other_label")
        if other:
            for sheet in sheets:
                match = next((f for f in sheet.fields if f.header == other), None)
                if match is not None:
                    params["other_label"] = match.label_en
                    break
    return t(err.code, lang, value=err.value, **params)


def error_text(exc: BaseException, lang: str, sheets: Iterable[Sheet] = ()) -> str:
    """What to tell the user about ``exc``."""
    sheets = list(sheets)
    if isinstance(exc, ValidationError):
        sep = "; " if lang == "en" else "；"
        return sep.join(field_error_text(e, lang, sheets) for e in exc.errors)
    if isinstance(exc, DomainError):
        return exc.message(lang)
    return t("ui.unexpected", lang)


def show_error(exc: BaseException, lang: str, sheets: Iterable[Sheet] = ()) -> None:
    """``st.error`` with the message of ``exc`` (unexpected errors are logged, not shown)."""
    if not isinstance(exc, DomainError):
        log.exception("unexpected error in a page action", exc_info=exc)
    st.error(error_text(exc, lang, sheets), icon=":material/error:")


def attempt(fn: Callable[[], Any], lang: str, sheets: Iterable[Sheet] = ()) -> tuple[bool, Any]:
    """Run a service call; on failure show the error and return ``(False, exc)``."""
    try:
        return True, fn()
    except Exception as exc:  # every failure is shown in words, nothing raw
        show_error(exc, lang, sheets)
        return False, exc
