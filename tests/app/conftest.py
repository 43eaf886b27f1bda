"""AppTest fixtures: the real app on a fresh register per test, with a frozen date.

* ``portal`` — a :class:`Portal`: a register on ``tmp_path/register.db`` (units 广安区, 岳池县,
  市住房和城乡建设局; one account per role, each with the password :data:`PASSWORD`) that the
  app opens through ``REGISTER_URL``, with ``LIUYAN_TODAY=2026-03-20`` so the app's clock
  matches the register's. ``portal.app(role)`` starts the app (``streamlit_app.py``) as that
  role's account and runs it once; ``portal.page(role, "pages/x.py")`` also switches to a page.
  They go through the sign-in test seam (``LIUYAN_TESTING=1`` + ``LIUYAN_USER``, honoured under
  AppTest only; see :mod:`lib.ui.signin`). ``portal.signed_out()`` starts the app without it,
  at the sign-in page; :func:`sign_in` fills in the form.
* ``demo_portal`` — the same, on a register filled by :func:`lib.demo.seed_demo` (400 cases).
* ``downloads`` — the files behind the download buttons of a run, by file name (callables that
  build them, as a click would).

Every test that uses ``portal`` or ``demo_portal`` runs twice: on the embedded SQLite file and
on a Google Sheet — gspread's real HTTP code against the in-repo Sheets emulator, served on
loopback and reached through ``SHEETS_EMULATOR_HOST`` exactly as in production (the app opens
it with ``st.connection``). A test that is about the SQLite file itself is marked
``@pytest.mark.sqlite_only``. The sheet variant sets ``stale_seconds`` to 0, so the app sees
the test's own writes at once (the shipped default is 30 s).

Streamlit's caches live for the whole process, so they are cleared around every test.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from lib.auth import User
from lib.i18n import t
from lib.register import Register
from lib.store.base import Changeset
from lib.store.sqlite import SQLiteStore
from tests.conftest import UNITS, VALID_CASE, Clock

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
TODAY = "2026-03-20"
ACCOUNTS = {
    "admin": ("admin1", "王管理", "admin", ()),
    "clerk": ("clerk1", "李受理", "clerk", ()),
    "handler": ("ga_handler", "赵承办", "handler", ("广安区",)),
    "other_handler": ("yc_handler", "钱承办", "handler", ("岳池县",)),
    "supervisor": ("sup1", "孙督办", "supervisor", ()),
    "leader": ("boss1", "周局长", "leader", ()),
}
PASSWORD = "Passw0rd-2026"  # every test account's password
ROLES = ("admin", "clerk", "handler", "supervisor", "leader")
PAGES = {
    "intake": "pages/intake.py",
    "tracking": "pages/tracking.py",
    "case": "pages/case_detail.py",
    "audit": "pages/audit.py",
    "account": "pages/account.py",
}
MAY_USE = {
    "intake": ("admin", "clerk"),
    "tracking": ROLES,
    "case": ROLES,
    "audit": ("admin", "supervisor"),
    "account": ROLES,
}


def user(role: str) -> User:
    """The :class:`User` of a role's test account."""
    name, display, r, units = ACCOUNTS[role]
    return User(name, display, r, frozenset(units))


class Portal:
    """The app on one register: start it as a role, and reach the register behind it."""

    def __init__(self, reg: Register, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reg = reg
        self.monkeypatch = monkeypatch

    def app(self, role: str = "clerk", *, run: bool = True, **query: Any) -> AppTest:
        """The app as ``role``'s account (``query`` = address parameters), by the test seam."""
        self.monkeypatch.setenv("LIUYAN_USER", ACCOUNTS[role][0])
        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in query.items():
            at.query_params[k] = v
        return at.run() if run else at

    def signed_out(self, *, run: bool = True, **query: Any) -> AppTest:
        """The app as a browser opens it: nobody signed in (the test seam is off)."""
        self.monkeypatch.delenv("LIUYAN_USER", raising=False)
        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in query.items():
            at.query_params[k] = v
        return at.run() if run else at

    def page(self, role: str, page: str, **query: Any) -> AppTest:
        """The app as ``role``, switched to ``page`` (a key of :data:`PAGES` or a path)."""
        at = self.app(role)
        assert not at.exception, at.exception
        at.switch_page(PAGES.get(page, page))
        for k, v in query.items():
            at.query_params[k] = v
        return at.run()

    def intake(self, role: str = "clerk", **overrides: Any) -> str:
        """Register a valid message directly through the service layer."""
        return self.reg.intake(user(role), {**VALID_CASE, **overrides})

    def case(self, case_id: str) -> dict[str, str]:
        """A case as stored."""
        row = self.reg.store.get_row("cases", case_id)
        assert row is not None
        return row

    def history(self, case_id: str) -> list[dict[str, str]]:
        """The case's history rows."""
        return self.reg.history(user("admin"), case_id).to_dict("records")

    def count(self, sheet: str) -> int:
        """Rows in a sheet."""
        return len(self.reg.store.read([sheet])[sheet])


def _register(path: Path, clock: Clock) -> Register:
    store = SQLiteStore(path)
    store.init()
    reg = Register(store, clock=clock)
    return reg


STORES = ("sqlite", "gsheets")


@pytest.fixture(autouse=True, params=STORES)
def app_store(request: pytest.FixtureRequest) -> str:
    """The store under the portal: every portal test runs on each (see the module docstring)."""
    return request.param


_PORTALS = {"portal", "demo_portal"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the Google Sheets variant only of tests that open a portal and are not about SQLite.

    (Deselected, not skipped: nothing is left out silently — the SQLite variant still runs.)
    """
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("app_store") != "gsheets":
            keep.append(item)
            continue
        uses_portal = _PORTALS & set(getattr(item, "fixturenames", ())) or any(
            v in _PORTALS for v in params.values() if isinstance(v, str)
        )
        if uses_portal and not item.get_closest_marker("sqlite_only"):
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def sheets_server():
    """One Sheets emulator per test process, on loopback."""
    from tests.fakes.sheets_emulator import SheetsEmulator

    emu = SheetsEmulator(seed=None)
    server = emu.serve()
    yield emu, server
    server.shutdown()
    emu.shutdown()


_SHEET_BASES: dict[Path, str] = {}


def _sheet_copy(sheets_server, db: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh spreadsheet holding what the SQLite register ``db`` holds (copied once)."""
    from lib.migrate import migrate

    emu, server = sheets_server
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", server.address)
    base = _SHEET_BASES.get(db)
    if base is None:
        base = emu.create_spreadsheet("留言办理台账")
        source = Register(SQLiteStore(db), clock=Clock())
        migrate(source, user("admin"), f"gsheets://{base}")
        # The app sees the test's own writes at once: stale_seconds 0, set as a person would
        # type it into the sheet (no history row, so history counts stay as on SQLite).
        store = _sheet_register(base, Clock()).store
        row = {"key": "stale_seconds", "value": "0", "version": "1"}
        store.commit(Changeset(appends={"settings": [row]}))
        _SHEET_BASES[db] = base
    return emu.copy_spreadsheet(base)


def _sheet_register(key: str, clock: Clock) -> Register:
    from lib.register import open_register

    reg = open_register(f"gsheets://{key}", clock=clock)
    reg.max_age_s = 0  # the test's own view: always what the sheet holds now
    return reg


def _portal(
    app_store: str, db_src: Path, app_env: Path, clock: Clock, monkeypatch, sheets_server
) -> Register:
    if app_store == "gsheets":
        key = _sheet_copy(sheets_server, db_src, monkeypatch)
        monkeypatch.setenv("REGISTER_URL", f"gsheets://{key}")
        return _sheet_register(key, clock)
    _copy_db(db_src, app_env)
    return _register(app_env, clock)


def _copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite register (WAL included)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


@pytest.fixture(scope="session")
def _base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Units and accounts, built once and copied for each test (writes are slow-ish)."""
    path = tmp_path_factory.mktemp("base") / "register.db"
    reg = _register(path, Clock())
    for unit in UNITS:
        reg.save_unit(user("admin"), unit)
    _accounts(reg)
    reg.store.close()
    return path


@pytest.fixture(scope="session")
def _demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo register (400 invented cases) plus the test accounts, built once."""
    from lib.demo import seed_demo

    path = tmp_path_factory.mktemp("demo") / "register.db"
    reg = _register(path, Clock())
    seed_demo(reg, user("admin"), cases=400, seed=7, today=dt.date.fromisoformat(TODAY))
    _accounts(reg)
    reg.store.close()
    return path


def _accounts(reg: Register) -> None:
    admin = user("admin")
    for name, display, role, units in ACCOUNTS.values():
        reg.save_user(
            admin, name, role=role, display_name=display, units=list(units), password=PASSWORD
        )


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Environment of the app under test: a register file and the frozen date."""
    db = tmp_path / "register.db"
    monkeypatch.setenv("REGISTER_URL", f"sqlite:///{db}")
    monkeypatch.setenv("LIUYAN_TODAY", TODAY)
    monkeypatch.delenv("LIUYAN_DEMO", raising=False)
    monkeypatch.delenv("LIUYAN_USER", raising=False)
    monkeypatch.delenv("LIUYAN_IDLE_SECONDS", raising=False)
    monkeypatch.setenv("LIUYAN_TESTING", "1")  # the sign-in test seam (AppTest only)
    return db


@pytest.fixture
def portal(
    app_store: str, app_env: Path, _base_db: Path, clock: Clock, monkeypatch, request
) -> Portal:
    server = request.getfixturevalue("sheets_server") if app_store == "gsheets" else None
    reg = _portal(app_store, _base_db, app_env, clock, monkeypatch, server)
    yield Portal(reg, monkeypatch)
    reg.store.close()


@pytest.fixture
def demo_portal(
    app_store: str, app_env: Path, _demo_db: Path, clock: Clock, monkeypatch, request
) -> Portal:
    server = request.getfixturevalue("sheets_server") if app_store == "gsheets" else None
    reg = _portal(app_store, _demo_db, app_env, clock, monkeypatch, server)
    yield Portal(reg, monkeypatch)
    reg.store.close()


@pytest.fixture
def downloads(monkeypatch) -> dict[str, Any]:
    """The files behind a run's download buttons, by file name (built when called)."""
    made: dict[str, Any] = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        made[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return made


def sign_in(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    """Fill in the sign-in form and submit it."""
    at.text_input(key="signin.username").input(username)
    at.text_input(key="signin.password").input(password)
    return at.button(key="signin.submit").click().run()


def chart_data(element) -> pd.DataFrame:
    """The (first) dataset a drawn altair chart (``vega_lite_chart`` element) carries."""
    proto = element.proto
    frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in proto.datasets]
    if not frames and proto.data.data:
        frames = [convert_arrow_bytes_to_pandas_df(proto.data.data)]
    return frames[0]


def texts(elements) -> list[str]:
    """The text values of an element list (markdown, errors, captions …)."""
    return [str(e.value) for e in elements]


def no_errors(at: AppTest) -> None:
    """The run raised nothing and showed no error box."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, texts(at.error)


def unexpected_shown(at: AppTest) -> bool:
    """True when the page fell back to the 'unexpected error' message."""
    return any(t("ui.unexpected", "zh") in str(e.value) for e in at.error)
