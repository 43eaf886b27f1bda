"""Writing a widget's value from code, without undoing what the user just did.

Any assignment to a widget's key in ``st.session_state`` — even of the value it already has —
makes that run send the value to the browser, which then shows it in place of whatever the
user picked meanwhile. When input comes fast (a choice made while the previous run is still
going), a run started before the choice thus wiped it: the box looked empty again and the
next run sent it empty (seen as an intake saved without its 所属区县). So a run writes a
widget's key only when the value must really change.
"""

from __future__ import annotations

from typing import Any

import streamlit as st


def set_widget(key: str, value: Any) -> bool:
    """Give the widget at ``key`` ``value`` unless it already has it; True if it was written."""
    ss = st.session_state
    if key in ss and type(ss[key]) is type(value) and ss[key] == value:
        return False
    ss[key] = value
    return True
