"""Benchmark of the portal's pages on a 100,000-case register: page runs, memory, first page.

Run: ``.venv/bin/python bench/bench_pages.py [--cases N] [--repeat K] [--sessions S]``
(``--cases 2000`` for a quick check). Prints one table per part and writes
``bench/results/pages.json`` (machine, Python, CPU count, load average before and after, every
figure). CI does not run it and nothing fails on timings. Parts 2 and 3 need Debian's Chromium
at ``/usr/bin/chromium`` (never ``playwright install``); without it they are skipped with a note.

The register is an embedded SQLite file in a temporary folder, filled by
:func:`lib.demo.seed_demo` (``seed=1``, as of :data:`TODAY`; about 35 s for 100,000 cases on a
2-core machine). Everything runs as the demo administrator ``admin`` through the sign-in test
seam (``LIUYAN_TESTING=1`` + ``LIUYAN_USER=admin``, honoured only under AppTest or on a
loopback server), with ``LIUYAN_TODAY`` fixed to :data:`TODAY`. Best and median are over
``--repeat`` repeats (default 3). The machine may be shared: the load average is recorded.

**1. Page runs (Streamlit's AppTest, in this process).** For every page of the administrator's
navigation (:func:`lib.ui.nav.pages_for`), the wall time of ``AppTest.run()`` — one script run
of the entry script plus that page, as a click on the page would cause, plus AppTest's own
parsing of the output — measured twice:

* *cold* — right after ``st.cache_resource`` and ``st.cache_data`` were cleared: the
  :class:`~lib.register.Register` is opened anew and its snapshot read from SQLite and typed,
  as in the first run of a fresh server process (modules are already imported; the very first
  run in the process, importing the pages and ``lib.ui``, is reported separately as
  ``first run``);
* *warm* — the next run of the same page in the same session: the snapshot is cached.

The *split* of the cold median: ``load`` is the median time spent in ``Register.load`` (the
snapshot: ``store.read`` of every sheet but history, then typing), ``reads`` the median time in
other ``SQLiteStore.read`` calls (e.g. the whole history sheet on the audit page), ``rest`` the
cold median minus both (the page's own work, Streamlit, AppTest). ``sent MB`` is the size of
the data the warm run sent as Arrow (Streamlit's ``convert_pandas_df_to_arrow_bytes``: its
tables and other data-frame-backed elements), which the browser then has to receive and draw.
All three are measured by wrapping those functions in this process. The case-detail page is opened with ``?case=`` a concluded case of the
register (as a shared link opens it). Targets: warm ≤ 0.3 s, cold ≤ 2 s per page, judged on the
median.

**2. Memory (served app).** ``streamlit run streamlit_app.py`` on a free loopback port
(headless, file watcher off), opened by 1, then up to ``--sessions`` (default 5) browser
sessions — one Chromium browser context each, loading the start page (``/``, which sends the
administrator to 交办跟踪) and waiting until its heading is visible and
``[data-testid=stApp][data-test-script-state=notRunning]`` holds; all sessions stay open. The
resident set size (``VmRSS`` from ``/proc``) of the server process and its children: ``RSS`` is
the settled value after each session (median of 5 samples 2 s after the page became usable),
``peak`` the highest of samples taken every 0.2 s while that session opened (transient: the
tables being converted and sent). ``started, not read yet`` is as soon as the server answers;
``idle`` is before any session, once the server's start-up read (:mod:`lib.ui.warmup`: the
pages' modules and the snapshot) is over, so session 1 pays only for its own run;
``adds`` is the increment over the previous line; ``avg 1→S`` is (RSS after S − RSS after 1) /
(S − 1). Target: the last session adds ≤ 50 MB — the snapshot is one ``st.cache_resource``
Register shared by all sessions, read once (now by the server as it starts). Freed memory is
not always returned to the system at once, so single increments can be negative or jump; the
average says more.

**3. First page usable (served app).** Time from ``page.goto(url)`` in a fresh browser context
to the start page's heading visible and the script state ``notRunning``: *warm* on a server
whose cache is already warm (after part 2's sessions were closed; ``--repeat`` times, a new
context each); *cold* — the very first open of a freshly started server, as soon as it answers:
the server is still reading the register at start (:mod:`lib.ui.warmup`), and the page waits
for what of that read is left (``--repeat`` servers); and *cold, read done* — the first open
of a freshly started server once its console says the start-up read is over (``--repeat``
servers, the first is part 2's): a server restarted some time before anyone comes.
Also shown: the medians until ``goto`` returned (``loaded``: the document and Streamlit's
frontend; a fresh context has nothing cached) and until the heading showed (``heading``), and
for comparison *warm, light page*: ``/account`` (我的账号, no big table) opened the same way on
the warm server — the floor set by the browser, the frontend and one script run. Part 2's
sessions 2…S are further warm opens (with other sessions open), kept in the JSON. Target
≤ 3 s, judged on the median.

**3b. As in production (no test seam).** The first page anyone opens is the sign-in page. On
``--repeat`` freshly started servers without ``LIUYAN_USER``: from ``goto`` until the sign-in
form is usable (*cold*: the server's very first page; *warm*: a second browser context on the
same server), then — the administrator's name and the demo password typed at once and the
form sent — until the start page 交办跟踪 is usable (*after sign-in*). The sign-in page reads
only the accounts; on a cold server it is opened while the server's start-up read
(:mod:`lib.ui.warmup`, at the lowest CPU priority) is still going, and the start page waits
for what of that read is left. Target ≤ 3 s for the sign-in page, judged on the median.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lib import LOCAL_ADMIN, open_register  # noqa: E402
from lib.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from lib.ui import warmup  # noqa: E402

TODAY = dt.date(2026, 11, 27)
USER = "admin"  # the demo register's administrator (lib.demo_text.STAFF)
USER_ROLE = "admin"
APP = ROOT / "streamlit_app.py"
CHROMIUM = Path("/usr/bin/chromium")
WARM_TARGET_S = 0.3
COLD_TARGET_S = 2.0
SESSION_TARGET_MB = 50.0
FIRST_PAGE_TARGET_S = 3.0
TIMEOUT_MS = 180_000
STATE_IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
SIGNIN_HEADING = "留言办理台账 · 登录"  # the sign-in page's title (lib.ui.signin)
APP_ENV = {
    "LIUYAN_TESTING": "1",
    "LIUYAN_USER": USER,
    "LIUYAN_TODAY": TODAY.isoformat(),
}
BARE_MODE_LOGGERS = (
    "streamlit.runtime.scriptrunner_utils.script_run_context",
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.caching.cache_resource_api",
)
DROP_ENV = ("LIUYAN_DEMO", "LIUYAN_IDLE_SECONDS", "SHEETS_EMULATOR_HOST")


def clock() -> dt.datetime:
    return dt.datetime(TODAY.year, TODAY.month, TODAY.day, 10, 0)


def stats(times: list[float]) -> tuple[float, float]:
    return min(times), statistics.median(times)


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- the register -------------------------------------------------------------------------


def build_register(folder: Path, cases: int) -> tuple[str, str, float]:
    """Seed the demo register; returns its URL, a case id with history, and the seed time."""
    url = f"sqlite:///{folder}/register.db"
    reg = open_register(url, clock=clock)
    t0 = time.perf_counter()
    seed_demo(reg, LOCAL_ADMIN, cases=cases, seed=1, today=TODAY)
    seconds = time.perf_counter() - t0
    data = reg.load(force=True)
    concluded = data.cases[data.cases["status"].isin(["已办结", "已评价"])]
    case_id = str((concluded if len(concluded) else data.cases)["case_id"].iloc[-1])
    reg.store.close()
    return url, case_id, seconds


# --- part 1: page runs under AppTest ------------------------------------------------------


@dataclass
class Split:
    """Time spent in Register.load and in other store reads during one run, and the bytes of
    the tables it sent (Arrow)."""

    load: float = 0.0
    other_reads: float = 0.0
    arrow_bytes: int = 0
    depth: int = 0

    def reset(self) -> None:
        self.load = self.other_reads = 0.0
        self.arrow_bytes = 0


def instrument(split: Split) -> Callable[[], None]:
    """Wrap Register.load and SQLiteStore.read to time them, and Streamlit's conversion of a
    table to Arrow to count its bytes; returns the undo."""
    from streamlit import dataframe_util

    from lib.register import Register
    from lib.store.sqlite import SQLiteStore

    orig_load, orig_read = Register.load, SQLiteStore.read
    orig_arrow = dataframe_util.convert_pandas_df_to_arrow_bytes

    def arrow(*args, **kwargs):
        data = orig_arrow(*args, **kwargs)
        split.arrow_bytes += len(data)
        return data

    def load(self, *args, **kwargs):
        split.depth += 1
        t0 = time.perf_counter()
        try:
            return orig_load(self, *args, **kwargs)
        finally:
            split.depth -= 1
            if split.depth == 0:
                split.load += time.perf_counter() - t0

    def read(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return orig_read(self, *args, **kwargs)
        finally:
            if split.depth == 0:
                split.other_reads += time.perf_counter() - t0

    Register.load, SQLiteStore.read = load, read
    dataframe_util.convert_pandas_df_to_arrow_bytes = arrow

    def undo() -> None:
        Register.load, SQLiteStore.read = orig_load, orig_read
        dataframe_util.convert_pandas_df_to_arrow_bytes = orig_arrow

    return undo


def check_run(at, heading: str, where: str) -> list[str]:
    """Problems of a run: an exception, an error box, or the page's title missing."""
    problems = [f"{where}: exception {e.value}" for e in at.exception]
    problems += [f"{where}: error {e.value}" for e in at.error]
    titles = [str(e.value) for e in at.title]
    if not any(heading in s for s in titles):
        problems.append(f"{where}: title {heading!r} not among {titles}")
    return problems


def part_pages(url: str, case_id: str, repeat: int) -> dict[str, Any]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from lib.i18n import t
    from lib.ui import (
        messages,  # noqa: F401  (registers the portal's strings)
        nav,
    )

    os.environ.update({**APP_ENV, "REGISTER_URL": url})
    for name in DROP_ENV:
        os.environ.pop(name, None)

    # Clearing the caches between runs happens outside a script run, and Streamlit warns
    # about "bare mode" on every clear: those two loggers' warnings are dropped (a filter,
    # as AppTest resets Streamlit's log levels on every run).
    for name in BARE_MODE_LOGGERS:
        logging.getLogger(name).addFilter(lambda record: record.levelno >= logging.ERROR)

    def clear() -> None:
        st.cache_data.clear()
        st.cache_resource.clear()
        gc.collect()

    split = Split()
    undo = instrument(split)
    problems: list[str] = []
    try:
        clear()
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_MS / 1000)
        t0 = time.perf_counter()
        at.run()
        first = {
            "seconds": time.perf_counter() - t0,
            "load_s": split.load,
            "other_reads_s": split.other_reads,
        }
        problems += check_run(at, t(nav.BY_KEY["tracking"].title, "zh"), "first run")
        pages = []
        for spec in nav.pages_for(USER_ROLE):
            heading = t(spec.title, "zh")
            cold, warm, loads, others, sent = [], [], [], [], []
            for _ in range(repeat):
                at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_MS / 1000)
                at.run()  # the session's start page, on the warm cache
                clear()
                at.switch_page(spec.path)
                if spec.key == "case":
                    at.query_params["case"] = case_id
                split.reset()
                t0 = time.perf_counter()
                at.run()
                cold.append(time.perf_counter() - t0)
                loads.append(split.load)
                others.append(split.other_reads)
                problems += check_run(at, heading, f"{spec.key} cold")
                split.reset()
                t0 = time.perf_counter()
                at.run()
                warm.append(time.perf_counter() - t0)
                sent.append(split.arrow_bytes)
                problems += check_run(at, heading, f"{spec.key} warm")
            pages.append(
                {
                    "page": spec.key,
                    "path": spec.path,
                    "cold_s": cold,
                    "cold_load_s": loads,
                    "cold_other_reads_s": others,
                    "warm_s": warm,
                    "warm_arrow_bytes": sent,
                }
            )
            print(
                f"  {spec.key:13} cold {statistics.median(cold):6.2f} s"
                f"  warm {statistics.median(warm):6.3f} s",
                flush=True,
            )
    finally:
        undo()
        clear()
    return {"first_run": first, "pages": pages, "problems": problems}


def print_pages(res: dict[str, Any]) -> None:
    print()
    print("1. Page runs (AppTest; split of the cold median: load, other reads, rest)")
    head = (
        f"{'page':13} {'cold best':>9} {'cold med':>9} {'load':>6} {'reads':>6} {'rest':>6}"
        f" {'target':>6} {'':6} {'warm best':>9} {'warm med':>9} {'target':>6} {'':6}"
        f" {'sent MB':>7}"
    )
    print(head)
    for p in res["pages"]:
        cb, cm = stats(p["cold_s"])
        load = statistics.median(p["cold_load_s"])
        reads = statistics.median(p["cold_other_reads_s"])
        rest = cm - load - reads
        wb, wm = stats(p["warm_s"])
        print(
            f"{p['page']:13} {cb:>9.2f} {cm:>9.2f} {load:>6.2f} {reads:>6.2f} {rest:>6.2f}"
            f" {COLD_TARGET_S:>6.1f} {verdict(cm, COLD_TARGET_S):6}"
            f" {wb:>9.3f} {wm:>9.3f} {WARM_TARGET_S:>6.1f} {verdict(wm, WARM_TARGET_S):6}"
            f" {max(p['warm_arrow_bytes']) / 1e6:>7.1f}"
        )
    f = res["first_run"]
    print(
        f"first run in the process (imports, start page 交办跟踪, cold): {f['seconds']:.2f} s,"
        f" of which Register.load {f['load_s']:.2f} s"
    )
    for problem in res["problems"]:
        print("  problem:", problem)


# --- parts 2 and 3: the served app in Chromium --------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path
    started_s: float = 0.0
    launched: float = 0.0  # perf_counter() when the process was started

    def read_at_start(self, timeout: float = 300.0) -> float:
        """Wait until the console says the register was read at start (lib.ui.warmup); the
        seconds from launching the process until then (found by polling every 0.1 s)."""
        deadline = time.monotonic() + timeout
        while warmup.READ_AT_START not in self.log.read_text(encoding="utf-8", errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("no start-up read:\n" + self.log.read_text())
            time.sleep(0.1)
        return time.perf_counter() - self.launched

    def rss_mb(self) -> float:
        """Resident set size of the server process and its descendants, in MB."""
        return sum(vm_rss_kb(pid) for pid in [self.proc.pid, *descendants(self.proc.pid)]) / 1024


def vm_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@contextlib.contextmanager
def serve(url: str, folder: Path, *, seam: bool = True) -> Iterator[Server]:
    """``streamlit run`` on a free loopback port over ``url``; stopped by its own process.

    ``seam=False``: without the sign-in test seam, as in production (everyone signs in)."""
    port = free_port()
    env = {**os.environ, **APP_ENV, "REGISTER_URL": url, "PYTHONPATH": str(ROOT)}
    for name in DROP_ENV if seam else (*DROP_ENV, "LIUYAN_USER"):
        env.pop(name, None)
    log_path = folder / f"streamlit-{port}.log"
    log = log_path.open("w")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
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
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not healthy(base):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError("streamlit did not start:\n" + log_path.read_text())
            time.sleep(0.2)
        yield Server(base, proc, log_path, time.perf_counter() - t0, t0)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


def settled_rss(server: Server) -> float:
    """The server's RSS once a run is over: the median of 5 samples taken after 2 s."""
    time.sleep(2.0)
    samples = []
    for _ in range(5):
        samples.append(server.rss_mb())
        time.sleep(0.2)
    return statistics.median(samples)


class RssSampler(threading.Thread):
    """Samples the server's RSS every 0.2 s in the background; ``peak`` since ``reset``."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.peak = 0.0
        self._stop_event = threading.Event()

    def reset(self) -> None:
        self.peak = self.server.rss_mb()

    def run(self) -> None:
        while not self._stop_event.wait(0.2):
            self.peak = max(self.peak, self.server.rss_mb())

    def __enter__(self) -> RssSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Browser:
    browser: Any
    contexts: list[Any] = field(default_factory=list)

    def _page(self) -> Any:
        """A page in a new browser context (a new session, nothing cached)."""
        ctx = self.browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        self.contexts.append(ctx)
        return ctx.new_page()

    @staticmethod
    def _usable(page: Any, heading: str) -> float:
        """Wait until ``heading`` shows and the script has stopped; the clock when it showed."""
        page.get_by_role("heading", name=heading).first.wait_for(
            state="visible", timeout=TIMEOUT_MS
        )
        shown = time.perf_counter()
        page.locator(STATE_IDLE).wait_for(timeout=TIMEOUT_MS)
        return shown

    def open(self, url: str, heading: str) -> dict[str, float]:
        """A new session (browser context) on ``url``: seconds from ``goto`` until the page
        is usable (``usable_s``), and on the way until ``goto`` returned (the document and
        Streamlit's frontend loaded, ``loaded_s``) and the heading showed (``heading_s``)."""
        page = self._page()
        t0 = time.perf_counter()
        page.goto(url, timeout=TIMEOUT_MS)
        loaded = time.perf_counter() - t0
        shown = self._usable(page, heading) - t0
        return {"usable_s": time.perf_counter() - t0, "loaded_s": loaded, "heading_s": shown}

    def sign_in(self, url: str, heading: str) -> dict[str, float]:
        """A new session on ``url`` as a person opens it: seconds until the sign-in page is
        usable (``signin_s``), then — the administrator's name and password typed at once
        and the form sent — until the start page is usable (``after_signin_s``)."""
        page = self._page()
        t0 = time.perf_counter()
        page.goto(url, timeout=TIMEOUT_MS)
        self._usable(page, SIGNIN_HEADING)
        signin = time.perf_counter() - t0
        page.get_by_role("textbox", name="用户名").fill(USER)
        page.get_by_role("textbox", name="密码").fill(DEMO_PASSWORD)
        t1 = time.perf_counter()
        page.get_by_role("button", name="登录", exact=True).click()
        self._usable(page, heading)
        return {"signin_s": signin, "after_signin_s": time.perf_counter() - t1}

    def close_all(self) -> None:
        for ctx in self.contexts:
            ctx.close()
        self.contexts.clear()


def part_served(url: str, folder: Path, repeat: int, sessions: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from lib.i18n import t
    from lib.ui import (
        messages,  # noqa: F401
        nav,
    )

    heading = t(nav.BY_KEY["tracking"].title, "zh")  # the administrator's start page
    light = nav.BY_KEY["account"]  # a page without big tables, for comparison
    light_url, light_heading = "/" + light.url_path, t(light.title, "zh")
    memory: dict[str, Any] = {}
    first_page: dict[str, Any] = {
        "cold": [],
        "warm": [],
        "warm_light": [],
        "server_start_s": [],
        "signin_cold": [],
        "signin_warm": [],
        "cold_after_read": [],
        "read_at_start_s": [],
    }
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        b = Browser(chromium)
        try:
            with serve(url, folder) as server:
                first_page["server_start_s"].append(server.started_s)
                idle_before_read = server.rss_mb()
                first_page["read_at_start_s"].append(server.read_at_start())
                idle = settled_rss(server)
                rss, peaks, opens = [], [], []
                with RssSampler(server) as sampler:
                    for k in range(sessions):
                        sampler.reset()
                        opens.append(b.open(server.url + "/", heading))
                        rss.append(settled_rss(server))
                        peaks.append(sampler.peak)
                        print(
                            f"  session {k + 1}: usable after {opens[-1]['usable_s']:.2f} s,"
                            f" server RSS {rss[-1]:.0f} MB (peak {peaks[-1]:.0f} MB)",
                            flush=True,
                        )
                first_page["cold_after_read"].append(opens[0])  # it waited for the read
                memory = {
                    "idle_before_read_mb": idle_before_read,
                    "idle_mb": idle,
                    "rss_after_mb": rss,
                    "peak_mb": peaks,
                    "open": opens,
                    "browser": chromium.version,
                }
                b.close_all()
                memory["rss_after_close_mb"] = settled_rss(server)
                for _ in range(repeat):
                    first_page["warm"].append(b.open(server.url + "/", heading))
                    b.close_all()
                    opened = b.open(server.url + light_url, light_heading)
                    first_page["warm_light"].append(opened)
                    b.close_all()
            for _ in range(repeat):
                with serve(url, folder) as server:
                    first_page["server_start_s"].append(server.started_s)
                    first_page["cold"].append(b.open(server.url + "/", heading))
                    b.close_all()
            # A server restarted a while ago: its start-up read is over before anyone comes.
            for _ in range(repeat - 1):
                with serve(url, folder) as server:
                    first_page["read_at_start_s"].append(server.read_at_start())
                    first_page["cold_after_read"].append(b.open(server.url + "/", heading))
                    b.close_all()
            # As in production: the first page anyone sees is the sign-in page.
            for _ in range(repeat):
                with serve(url, folder, seam=False) as server:
                    first_page["signin_cold"].append(b.sign_in(server.url + "/", heading))
                    b.close_all()
                    first_page["signin_warm"].append(b.sign_in(server.url + "/", heading))
                    b.close_all()
        finally:
            b.close_all()
            chromium.close()
    return {"memory": memory, "first_page": first_page}


def print_served(res: dict[str, Any]) -> None:
    m = res["memory"]
    rss, peaks = m["rss_after_mb"], m["peak_mb"]
    print()
    print(f"2. Memory of the served app (RSS of the server process; Chromium {m['browser']})")
    print(f"{'':22} {'RSS MB':>8} {'adds MB':>8} {'peak MB':>8} {'target':>7} {'':6}")
    if "idle_before_read_mb" in m:
        print(f"{'started, not read yet':22} {m['idle_before_read_mb']:>8.0f}")
    print(f"{'idle (no session)':22} {m['idle_mb']:>8.0f}")
    prev = m["idle_mb"]
    for k, (value, peak) in enumerate(zip(rss, peaks, strict=True), start=1):
        adds = value - prev
        tgt = ""
        if k == len(rss) and k > 1:
            tgt = f"{SESSION_TARGET_MB:>7.0f} {verdict(adds, SESSION_TARGET_MB):6}"
        print(f"{f'after session {k}':22} {value:>8.0f} {adds:>8.1f} {peak:>8.0f} {tgt}")
        prev = value
    if len(rss) > 1:
        avg = (rss[-1] - rss[0]) / (len(rss) - 1)
        print(
            f"{f'avg 1→{len(rss)}':22} {'':>8} {avg:>8.1f} {'':>8} {SESSION_TARGET_MB:>7.0f}"
            f" {verdict(avg, SESSION_TARGET_MB):6}"
        )
    print(f"{'all sessions closed':22} {m['rss_after_close_mb']:>8.0f}")
    f = res["first_page"]
    print()
    print("3. First page usable (goto → heading visible and script notRunning)")
    print(
        f"{'server':16} {'n':>3} {'loaded':>7} {'heading':>8} {'best s':>7} {'median s':>9}"
        f" {'target':>7} {'':6}"
    )
    rows = (
        ("warm", "warm"),
        ("cold", "cold"),
        ("cold, read done", "cold_after_read"),
        ("warm, light page", "warm_light"),
    )
    for name, key in rows:
        runs = f.get(key) or []
        if not runs:
            continue
        best, med = stats([r["usable_s"] for r in runs])
        loaded = statistics.median(r["loaded_s"] for r in runs)
        shown = statistics.median(r["heading_s"] for r in runs)
        print(
            f"{name:16} {len(runs):>3} {loaded:>7.2f} {shown:>8.2f} {best:>7.2f} {med:>9.2f}"
            f" {FIRST_PAGE_TARGET_S:>7.1f} {verdict(med, FIRST_PAGE_TARGET_S):6}"
        )
    print("(loaded, heading: medians of the time until goto returned / the heading showed;")
    print(" cold: opened as soon as the server answers, while it reads the register at start;")
    print(" read done: a freshly started server whose start-up read is over;")
    print(" light page: /account, 我的账号, opened directly — the floor without big tables)")
    if f.get("read_at_start_s"):
        done = ", ".join(f"{s:.1f}" for s in f["read_at_start_s"])
        print(f"(launch until the start-up read was done: {done} s)")
    print()
    print("3b. Without the test seam, as in production: the sign-in page, then the start page")
    print(f"{'server':16} {'n':>3} {'page':>14} {'best s':>7} {'median s':>9} {'target':>7}")
    for name, key in (("cold", "signin_cold"), ("warm", "signin_warm")):
        runs = f.get(key) or []
        if not runs:
            continue
        for label, field_ in (("sign-in page", "signin_s"), ("after sign-in", "after_signin_s")):
            best, med = stats([r[field_] for r in runs])
            tgt = f"{FIRST_PAGE_TARGET_S:>7.1f} {verdict(med, FIRST_PAGE_TARGET_S):6}"
            print(
                f"{name:16} {len(runs):>3} {label:>14} {best:>7.2f} {med:>9.2f}"
                f" {tgt if field_ == 'signin_s' else ''}"
            )
    print("(sign-in page: goto → its form usable; after sign-in: the form sent at once → the")
    print(" start page 交办跟踪 usable; on a cold server the start-up read is still going)")
    print(f"(server start until healthy: {', '.join(f'{s:.1f}' for s in f['server_start_s'])} s)")


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sessions", type=int, default=5)
    args = ap.parse_args()
    out: dict[str, Any] = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_start": load_average(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cases": args.cases,
        "repeat": args.repeat,
        "sessions": args.sessions,
        "today": TODAY.isoformat(),
        "targets": {
            "warm_page_s": WARM_TARGET_S,
            "cold_page_s": COLD_TARGET_S,
            "session_adds_mb": SESSION_TARGET_MB,
            "first_page_s": FIRST_PAGE_TARGET_S,
        },
    }
    import streamlit

    out["streamlit"] = streamlit.__version__
    print(f"load average {out['load_average_start']}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, case_id, seed_s = build_register(folder, args.cases)
        out["seed_s"] = seed_s
        out["case_detail_case"] = case_id
        print(f"seed-demo {args.cases} cases: {seed_s:.1f} s", flush=True)
        print("1. page runs …", flush=True)
        pages = part_pages(url, case_id, args.repeat)
        out["page_runs"] = pages
        out["load_average_after_part1"] = load_average()
        print_pages(pages)
        if CHROMIUM.exists() and shutil.which(str(CHROMIUM)):
            print("\n2./3. served app …", flush=True)
            served = part_served(url, folder, args.repeat, args.sessions)
            out.update(served)
            print_served(served)
        else:
            out["served_skipped"] = f"no Chromium at {CHROMIUM}"
            print(f"\n2./3. skipped: no Chromium at {CHROMIUM}")
    out["load_average_end"] = load_average()
    print(f"\nload average at the end {out['load_average_end']}")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "pages.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
