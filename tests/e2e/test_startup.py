"""End to end: ``streamlit run streamlit_app.py`` serves the portal through the entry script's
``st.App``, whose start-up reads the register before anyone opens a page (:mod:`lib.ui.warmup`).

The server here is started and left alone until its console says the register was read; only
then does a browser open a page, which works on that snapshot.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from lib.ui import warmup
from tests.e2e.conftest import TIMEOUT, Served, _register, _serve, wait_idle

pytestmark = pytest.mark.e2e
expect.set_options(timeout=TIMEOUT)
READ_AT_START = re.compile(re.escape(warmup.READ_AT_START) + r" (\d+) 件 cases \((sqlite:///\S+);")


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("e2e-startup")
    reg = _register(folder, demo_cases=120, demo_seed=3)
    with _serve(folder, reg, {"LIUYAN_TESTING": "1", "LIUYAN_USER": "sup1"}) as served:
        yield served


def test_the_server_reads_the_register_before_anyone_asks(page: Page, fresh_server: Served):
    deadline = time.monotonic() + TIMEOUT / 1000
    while not (found := READ_AT_START.search(fresh_server.console())):
        assert time.monotonic() < deadline, fresh_server.console()
        time.sleep(0.2)
    cases, url = found.groups()
    assert int(cases) == len(fresh_server.reg.load().cases) == 120
    assert url.endswith("register.db")

    page.set_default_timeout(TIMEOUT)
    page.goto(fresh_server.url + "/board")
    expect(page.get_by_role("heading", name=re.compile("督办看板"))).to_be_visible()
    wait_idle(page)
    assert "Traceback" not in fresh_server.console()
