"""Getting the server ready before anyone opens a page.

``streamlit run streamlit_app.py`` finds the :class:`streamlit.App` that the entry script
makes when it is imported as a module (not when it runs as a page script) and serves the
portal through it; its lifespan hook, :func:`lifespan`, starts :func:`warm` in a background
thread as the server starts. :func:`warm` imports what the pages import (pandas, altair, the
page helpers: the first run of a page would otherwise pay for them) and reads the register
through the same cached :class:`~lib.register.Register` every session uses, so the first
person to open a page after a restart finds the snapshot ready — someone signed in through
single sign-on, whose cookie skips the sign-in page, or a wall display reloading the board.

The server does not wait for it: pages answer at once, and a page asked for while the
register is still being read waits for that read instead of starting another
(:meth:`~lib.register.Register.load` is single-flight). A failure is logged and left to the
first page, which says why in the user's language. A demo register that is still empty is
left to the first session, which seeds it with a progress bar.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from lib.ui import nav

log = logging.getLogger(__name__)

THREAD_NAME = "server-warm-up"
# The console line that says the read is done (operators, tests and bench_pages look for it).
READ_AT_START = "register read at start:"
# The start-up read runs at this niceness (19: the lowest priority): someone opening the
# sign-in page while the server reads comes first.
NICENESS = 19


def page_imports() -> list[str]:
    """The modules the pages import at their top (from their files, not a list kept here)."""
    names: list[str] = []
    for spec in nav.PAGES:
        if not spec.exists():
            continue
        tree = ast.parse((nav.ROOT / spec.path).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Import):
                names.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
                # ``from lib.ui import board``: the page uses the module lib.ui.board
                names.extend(f"{node.module}.{a.name}" for a in node.names)
    return list(dict.fromkeys(names))


def warm() -> dict[str, Any]:
    """Import the pages' modules and read the register; what was done, for the log."""
    started = time.perf_counter()
    imported = 0
    for name in page_imports():
        try:
            importlib.import_module(name)
            imported += 1
        except ImportError:  # ``from lib.ui import PAGE_CONSTANT``: a name, not a module
            continue
    # First uses a page run would pay for: pandas' Styler (the tables coloured by due date)
    # compiles its templates when first imported, and Streamlit's first element in a process
    # looks through the call stack once, whose first look maps every module to its file.
    importlib.import_module("pandas.io.formats.style")
    inspect.stack()
    from lib.ui import context

    imports_s = time.perf_counter() - started
    reg = context.get_register()
    data = reg.load()
    return {
        "modules": imported,
        "imports_s": imports_s,
        "read_s": time.perf_counter() - started - imports_s,
        "cases": len(data.cases),
        "url": context.register_url(),
    }


def _lower_priority() -> None:
    """Let the pages go first: this thread (and the read's helper thread, which inherits it)
    at the lowest CPU priority. Linux keeps a priority per thread; elsewhere nothing changes."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def _warm_and_report() -> None:
    _lower_priority()
    try:
        done = warm()
    except Exception:  # the first page reads again and tells its user why
        log.exception("warming up the server failed")
        return
    # Beside Streamlit's own start-up lines, for whoever runs the server.
    print(
        f"  台账已在启动时读入 · {READ_AT_START} {done['cases']} 件 cases "
        f"({done['url']}; imports {done['imports_s']:.1f} s, read {done['read_s']:.1f} s)",
        file=sys.stderr,
        flush=True,
    )


def start() -> threading.Thread:
    """Run :func:`warm` in a daemon thread (the server keeps starting meanwhile)."""
    thread = threading.Thread(target=_warm_and_report, name=THREAD_NAME, daemon=True)
    thread.start()
    return thread


@contextlib.asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """The :class:`streamlit.App` lifespan hook: start warming up, then serve."""
    start()
    yield
