"""Shared fixtures: a real register on a fresh SQLite file, users of every role, quick intake.

Kept small and generic on purpose; suite-specific helpers live next to their tests.

* ``clock`` — the register's frozen clock (2026-03-20 10:00, Asia/Shanghai); ``clock.set(...)``
  moves it.
* ``tmp_register`` — a :class:`lib.register.Register` on ``tmp_path/register.db`` with the units
  广安区 and 岳池县 (区市县) and 市住房和城乡建设局 (市直部门); ``register_at(path, clock=None)``
  makes another such register (session-scoped, for module-scoped fixtures).
* ``admin``, ``clerk``, ``handler`` (广安区), ``other_handler`` (岳池县), ``supervisor``,
  ``leader`` — :class:`lib.auth.User` objects; ``users`` maps role names to them.
* ``valid_case`` — the intake values of a valid message in 广安区 (read-only);
  ``intake_case(user=None, **overrides) -> case_id`` registers one (as the clerk by default).
* ``dump_store`` — ``dump_store(store) -> {sheet: [row, ...]}``: every sheet as plain dicts, to
  prove that a refused action wrote nothing.
* ``schema_with_field`` — ``schema_with_field(tmp_path, field, sheet="cases") -> Schema``: the
  project's schema copied to a temporary folder with one more field in one sheet's YAML.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import zoneinfo
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lib.auth import User  # noqa: E402
from lib.register import Register  # noqa: E402
from lib.schema import SCHEMA_DIR, Schema, load_schema  # noqa: E402
from lib.store.sqlite import SQLiteStore  # noqa: E402

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 20, 10, 0, tzinfo=TZ)
TODAY = NOW.date()

UNITS = (
    {"name": "广安区", "kind": "区市县"},
    {"name": "岳池县", "kind": "区市县"},
    {"name": "市住房和城乡建设局", "kind": "市直部门"},
)

VALID_CASE: dict[str, Any] = {
    "channel": "人民网领导留言板",
    "source_id": "",
    "received_at": "2026-03-02",
    "addressed_to": "市委书记",
    "petitioner": "张三",
    "phone": "13800138000",
    "id_number": "11010519491231002X",
    "region": "广安区",
    "town": "浓洄街道",
    "domain": "城建",
    "type": "投诉",
    "title": "小区电梯长期停运",
    "content": "我们小区3号楼电梯停运两个月，老人上下楼困难，请领导关心。",
}


class Clock:
    """A frozen, movable clock for the register (time comes in, never from the wall)."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: dt.date | str, hour: int = 10) -> None:
        """Move to ``day`` at ``hour`` o'clock, bureau time."""
        d = dt.date.fromisoformat(day) if isinstance(day, str) else day
        self.now = dt.datetime(d.year, d.month, d.day, hour, tzinfo=TZ)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def admin() -> User:
    return User("admin1", "王管理", "admin")


@pytest.fixture
def clerk() -> User:
    return User("clerk1", "李受理", "clerk")


@pytest.fixture
def handler() -> User:
    return User("ga_handler", "赵承办", "handler", frozenset({"广安区"}))


@pytest.fixture
def other_handler() -> User:
    return User("yc_handler", "钱承办", "handler", frozenset({"岳池县"}))


@pytest.fixture
def supervisor() -> User:
    return User("sup1", "孙督办", "supervisor")


@pytest.fixture
def leader() -> User:
    return User("boss1", "周局长", "leader")


@pytest.fixture
def users(admin, clerk, handler, other_handler, supervisor, leader) -> dict[str, User]:
    return {
        "admin": admin,
        "clerk": clerk,
        "handler": handler,
        "other_handler": other_handler,
        "supervisor": supervisor,
        "leader": leader,
    }


@pytest.fixture(scope="session")
def register_at() -> Callable[..., Register]:
    """``register_at(path, clock=None)``: a new SQLite register at ``path`` with the units."""

    def make(path: Path, clock: Callable[[], dt.datetime] | None = None) -> Register:
        store = SQLiteStore(path)
        store.init()
        reg = Register(store, clock=clock or Clock())
        setup = User("fixture", "测试准备", "admin")
        for unit in UNITS:
            reg.save_unit(setup, unit)
        return reg

    return make


@pytest.fixture
def tmp_register(tmp_path: Path, clock: Clock, register_at) -> Register:
    reg = register_at(tmp_path / "register.db", clock)
    yield reg
    reg.store.close()


@pytest.fixture(scope="session")
def valid_case() -> Mapping[str, Any]:
    """The intake values of a valid message (read-only: copy with ``{**valid_case, ...}``)."""
    return MappingProxyType(VALID_CASE)


@pytest.fixture
def intake_case(tmp_register: Register, clerk: User) -> Callable[..., str]:
    """``intake_case(user=None, **overrides)``: register a valid message, return its id."""

    def intake(user: User | None = None, **overrides: Any) -> str:
        return tmp_register.intake(user or clerk, {**VALID_CASE, **overrides})

    return intake


@pytest.fixture
def dump_store() -> Callable[..., dict[str, list[dict[str, str]]]]:
    """``dump_store(store, schema=None)``: every sheet (history included) as rows of text."""

    def dump(store: Any, schema: Schema | None = None) -> dict[str, list[dict[str, str]]]:
        names = list((schema or store.schema).names)
        snap = store.read(names)
        return {name: snap[name].to_dict("records") for name in names}

    return dump


@pytest.fixture
def schema_with_field() -> Callable[..., Schema]:
    """``schema_with_field(tmp_dir, field, sheet="cases")``: the schema plus one field."""

    def make(tmp_dir: Path, field: Mapping[str, Any], sheet: str = "cases") -> Schema:
        folder = Path(tmp_dir) / "sheets_schema"
        shutil.copytree(SCHEMA_DIR, folder, dirs_exist_ok=True)
        path = folder / f"{sheet}.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc["fields"].append(dict(field))
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
        return load_schema(folder)

    return make


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (``REQUIRE_NO_SKIPS=1``) a skipped test — a missing browser or tool — fails the run."""
    if not os.environ.get("REQUIRE_NO_SKIPS"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"REQUIRE_NO_SKIPS: {len(skipped)} test(s) skipped; failing.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
