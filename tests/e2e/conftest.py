"""The served app in a real Chromium (Debian's /usr/bin/chromium; never ``playwright install``).

* ``served_app`` (session) — ``streamlit run streamlit_app.py`` on a free loopback port, on a
  fresh register (units, one account per role, a few cases), as the clerk through the sign-in
  test seam (``LIUYAN_TESTING=1`` + ``LIUYAN_USER``, honoured only on a loopback server), with
  ``LIUYAN_TODAY=2026-03-20``; healthy when ``/_stcore/health`` answers. Stopped at the end, by
  its own process.
* ``signin_app`` (session) — the same register and accounts (password :data:`PASSWORD`) served
  as in production: no test seam, everyone signs in. ``idle_app`` — likewise, with the idle
  time-out shortened to :data:`IDLE_SECONDS` (``LIUYAN_IDLE_SECONDS``, a test seam too).
  ``first_start_app`` — an empty register (no account at all): the server creates the first
  administrator and prints its one-time password to its console (``Served.console()``).
* ``browser_type_launch_args`` — pytest-playwright's launch arguments for that Chromium.
* ``shots`` — a folder for screenshots (``LIUYAN_SHOTS`` to keep them somewhere, else tmp).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from lib.auth import User
from lib.demo import seed_demo
from lib.register import Register
from lib.store.sqlite import SQLiteStore
from tests.conftest import UNITS, VALID_CASE, Clock

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ADMIN = User("admin1", "王管理", "admin")
PASSWORD = "Passw0rd-2026"  # every account's password on signin_app and idle_app
IDLE_SECONDS = 6
TODAY = "2026-03-20"  # the served app's LIUYAN_TODAY
ACCOUNTS = (
    ("admin1", "王管理", "admin", ()),
    ("clerk1", "李受理", "clerk", ()),
    ("ga_handler", "赵承办", "handler", ("广安区",)),
    ("sup1", "孙督办", "supervisor", ()),
    ("boss1", "周局长", "leader", ()),
)


def pytest_collection_modifyitems(items):
    if not CHROMIUM.exists():
        skip = pytest.mark.skip(reason="Chromium is not installed at /usr/bin/chromium")
        for item in items:
            if "tests/e2e" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return {
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}, "locale": "zh-CN"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


@dataclass
class Served:
    """The running app: its address, the register behind it and its console output."""

    url: str
    reg: Register
    log: Path | None = None

    def console(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log else ""


def _register(
    folder: Path,
    *,
    accounts: bool = True,
    passwords: bool = False,
    demo_cases: int = 0,
    demo_seed: int = 7,
) -> Register:
    """A fresh register: the units, the accounts (unless not) and one earlier case — or, with
    ``demo_cases``, that many invented cases as of :data:`TODAY` instead."""
    store = SQLiteStore(folder / "register.db")
    store.init()
    reg = Register(store, clock=Clock())
    for unit in UNITS:
        reg.save_unit(ADMIN, unit)
    if accounts:
        for name, display, role, units in ACCOUNTS:
            reg.save_user(
                ADMIN,
                name,
                role=role,
                display_name=display,
                units=list(units),
                password=PASSWORD if passwords else None,
            )
    if demo_cases:
        seed_demo(reg, ADMIN, cases=demo_cases, seed=demo_seed, today=dt.date.fromisoformat(TODAY))
    else:
        reg.intake(ADMIN, dict(VALID_CASE))  # one earlier case, for context
    return reg


@contextlib.contextmanager
def _serve(folder: Path, reg: Register, extra_env: dict[str, str]) -> Iterator[Served]:
    """``streamlit run`` on a free loopback port over ``reg``; stopped by its own process."""
    port = _free_port()
    db = folder / "register.db"
    env = {
        **os.environ,
        "REGISTER_URL": f"sqlite:///{db}",
        "LIUYAN_TODAY": TODAY,
        "PYTHONPATH": str(ROOT),
        **extra_env,
    }
    for name in ("LIUYAN_DEMO", "LIUYAN_USER", "LIUYAN_TESTING", "LIUYAN_IDLE_SECONDS"):
        if name not in extra_env:
            env.pop(name, None)
    log_path = folder / "streamlit.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "streamlit_app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError("streamlit did not start:\n" + log_path.read_text())
            time.sleep(0.2)
        yield Served(url, reg, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        reg.store.close()


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("e2e")
    reg = _register(folder)
    with _serve(folder, reg, {"LIUYAN_TESTING": "1", "LIUYAN_USER": "clerk1"}) as served:
        yield served


@pytest.fixture(scope="session")
def signin_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("e2e-signin")
    reg = _register(folder, passwords=True)
    with _serve(folder, reg, {}) as served:
        yield served


@pytest.fixture(scope="session")
def idle_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("e2e-idle")
    reg = _register(folder, passwords=True)
    env = {"LIUYAN_TESTING": "1", "LIUYAN_IDLE_SECONDS": str(IDLE_SECONDS)}
    with _serve(folder, reg, env) as served:
        yield served


@pytest.fixture(scope="session")
def first_start_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("e2e-first")
    reg = _register(folder, accounts=False)
    with _serve(folder, reg, {}) as served:
        yield served


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("LIUYAN_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- helpers for the tests ----------------------------------------------------------------

TIMEOUT = 30_000  # ms: one step of a test (a page to open, a run to finish)


def wait_idle(page: Page) -> None:
    """Wait until Streamlit has finished the current run (call it once something of that run
    is on screen; a run that has not started yet cannot be waited for)."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=TIMEOUT)


def choose(page: Page, box: Locator | str, option: str | re.Pattern) -> None:
    """Pick ``option`` (exact text, or the first option matching a pattern) in a select box (a
    locator, or its label). A table redrawing nearby may take the focus back and close a list
    that was just opened: open it until the option shows, with a deadline."""
    combo = page.get_by_label(box) if isinstance(box, str) else box
    if isinstance(option, str):
        wanted = page.get_by_role("option", name=option, exact=True)
    else:
        wanted = page.get_by_role("option", name=option).first
    deadline = time.monotonic() + TIMEOUT / 1000
    while True:
        combo.click()
        try:
            wanted.wait_for(timeout=2000)
            break
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
    wanted.click()
    # Let the rerun the choice starts begin before waiting for it to end: typing on while it
    # runs can interrupt it (see the closing note of stop 8: values seen lost under fast input).
    page.wait_for_timeout(300)
    wait_idle(page)
