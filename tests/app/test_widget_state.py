"""A run sends a widget's value to the browser only when the value must change.

Any write to a widget's key in ``st.session_state`` — even of the value it already holds —
makes the run send that value to the browser (the proto's ``set_value``), where it replaces
whatever the user picked meanwhile. With fast input, a run that started before a choice then
wiped the choice on screen, and the next run sent it empty: an intake was saved without the
所属区县 just chosen (seen in the browser tests, reproduced under load; see
:mod:`lib.ui.state`). So an ordinary rerun — nothing changed by code — pushes no value.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lib.ui import nav
from tests.app.conftest import Portal, no_errors

WIDGETS = (
    "selectbox",
    "multiselect",
    "date_input",
    "radio",
    "text_input",
    "text_area",
    "checkbox",
    "number_input",
    "toggle",
    "segmented_control",
    "pills",
)
SPECS = [p for p in nav.PAGES if p.exists()]  # every page of the navigation


def pushed(at: AppTest) -> list[str]:
    """The keys (or labels) of the widgets whose value this run sends to the browser."""
    out = []
    for kind in WIDGETS:
        try:
            found = at.get(kind)
        except (KeyError, AttributeError):
            continue
        for w in found:
            if getattr(w.proto, "set_value", False):
                out.append(f"{kind}:{w.key or getattr(w, 'label', '?')}")
    return out


@pytest.mark.parametrize("spec", SPECS, ids=[p.key for p in SPECS])
def test_a_plain_rerun_pushes_no_value_to_the_browser(demo_portal: Portal, spec: nav.PageSpec):
    at = demo_portal.app("admin")
    at.switch_page(spec.path).run()
    no_errors(at)
    at.run()  # what a rerun started by anything else (another widget, a timer) does
    no_errors(at)
    assert pushed(at) == []


def test_typing_in_one_field_pushes_nothing_to_the_others(portal: Portal):
    at = portal.page("clerk", "intake")
    assert at.selectbox(key="intake.region").value is None  # nothing chosen yet
    at.text_input(key="intake.title").input("九龙街道菜市场周边占道经营")
    at.run()
    no_errors(at)
    assert pushed(at) == []


def test_filters_from_the_address_are_pushed_once(demo_portal: Portal):
    at = demo_portal.page("clerk", "tracking", region="岳池县")
    at.run()
    at.text_input(key=next(w.key for w in at.text_input if w.key.startswith("f.q"))).input("道路")
    at.run()
    no_errors(at)
    assert pushed(at) == []


def test_a_plain_rerun_of_the_sign_in_page_pushes_nothing(portal: Portal):
    at = portal.signed_out()
    at.text_input(key="signin.username").input("clerk1")
    at.run()
    no_errors(at)
    assert pushed(at) == []
