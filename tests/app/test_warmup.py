"""The server's start-up (:mod:`lib.ui.warmup`): the register is read before anyone asks, by
the same cached register every session uses, and the first page does not read it again.
(That ``streamlit run`` starts it through the entry script's ``st.App``: tests/e2e.)"""

from __future__ import annotations

import ast
import os
import threading

import pytest

from lib.ui import context, nav, warmup


def test_the_start_up_reads_the_register_on_either_store(demo_portal):
    done = warmup.warm()

    assert done["cases"] == demo_portal.count("cases") == 400
    assert done["url"] == context.register_url()
    assert done["modules"] > 0


@pytest.mark.sqlite_only  # a shared sheet is re-read when older than stale_seconds (0 here)
def test_the_first_page_after_the_start_up_reads_nothing_again(demo_portal, monkeypatch):
    warmup.warm()
    reg = context.get_register()

    def no_read(*args, **kwargs):
        raise AssertionError("the register was read again")

    monkeypatch.setattr(reg.store, "read", no_read)
    at = demo_portal.page("supervisor", "pages/board.py")

    assert not at.exception, at.exception
    assert context.get_register() is reg
    assert any("督办看板" in t.value for t in at.title)


@pytest.mark.sqlite_only  # nothing here depends on the store
def test_the_modules_imported_are_those_the_pages_import():
    names = warmup.page_imports()

    for spec in nav.PAGES:
        tree = ast.parse((nav.ROOT / spec.path).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                assert node.module in names, (spec.path, node.module)
    assert "lib.ui.board" in names and "streamlit" in names
    assert len(names) == len(set(names))


@pytest.mark.sqlite_only  # nothing here depends on the store
def test_the_start_up_read_runs_at_the_lowest_priority(monkeypatch):
    # Someone opening the sign-in page while the server reads comes first (Linux keeps a
    # priority per thread; the read's helper thread inherits it).
    seen = {}

    def fake_warm():
        seen["warm"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        helper = threading.Thread(
            target=lambda: seen.update(
                helper=os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            )
        )
        helper.start()
        helper.join()
        return {"cases": 0, "url": "x", "imports_s": 0.0, "read_s": 0.0}

    monkeypatch.setattr(warmup, "warm", fake_warm)
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    warmup.start().join(timeout=30)

    assert seen == {"warm": warmup.NICENESS, "helper": warmup.NICENESS}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # the server's
