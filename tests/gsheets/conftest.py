"""Fixtures for the Google Sheets store: an emulator, stores on it, and quick rows.

* ``emulator`` — a fresh :class:`SheetsEmulator`; the test fails if the emulator hit a bug.
* ``sheet_id`` — an empty spreadsheet on it (the Sheet a bureau would share with the app).
* ``make_store(**kw)`` — a new :class:`GSheetsStore` on ``sheet_id`` through gspread's real
  HTTP code (in process), initialised; ``kw`` go to the constructor (``policy``,
  ``process_lock``…). ``store`` is one such store.
* ``served`` — the emulator on a loopback server, with ``SHEETS_EMULATOR_HOST`` pointing at it
  (so ``open_store("gsheets://…")`` and ``python -m lib`` reach it exactly as in production).
* ``case_row(case_id, **values)``, ``history_row(case_id, new)`` — rows of canonical text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lib.store.base import Changeset, NewId
from lib.store.gsheets import GSheetsStore
from tests.fakes.sheets_emulator import EmulatorServer, SheetsEmulator
from tests.gsheets.emulated import FAST, REGISTER_TITLE


@pytest.fixture
def emulator() -> Iterator[SheetsEmulator]:
    emu = SheetsEmulator(seed=None)
    yield emu
    emu.shutdown()
    assert emu.internal_errors == [], emu.internal_errors[0]


@pytest.fixture
def sheet_id(emulator: SheetsEmulator) -> str:
    return emulator.create_spreadsheet(REGISTER_TITLE)


@pytest.fixture
def make_store(emulator: SheetsEmulator, sheet_id: str) -> Iterator[Callable[..., GSheetsStore]]:
    made: list[GSheetsStore] = []

    def make(*, init: bool = True, **kwargs: Any) -> GSheetsStore:
        kwargs.setdefault("policy", FAST)
        store = GSheetsStore(sheet_id, session=emulator.session(), **kwargs)
        if init:
            store.init()
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., GSheetsStore]) -> GSheetsStore:
    return make_store()


@pytest.fixture
def served(emulator: SheetsEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    server = emulator.serve()
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", server.address)
    yield server


def case_row(case_id: Any, **values: str) -> dict[str, Any]:
    """A plausible ``cases`` row of canonical text."""
    return {
        "case_id": case_id,
        "channel": "12345热线",
        "received_at": "2026-03-02",
        "petitioner": "张三",
        "phone": "13800138000",
        "title": "路灯不亮",
        "content": "某某路的路灯坏了一个月。",
        "status": "待交办",
        "version": "1",
        **values,
    }


def history_row(case_id: Any, new: str = "", action: str = "intake") -> dict[str, Any]:
    """A ``history`` row."""
    return {
        "timestamp": "2026-03-20T10:00:00+08:00",
        "user": "clerk1",
        "case_id": case_id,
        "action": action,
        "field": "",
        "old": "",
        "new": new,
    }


def intake(store: GSheetsStore, **values: str) -> str:
    """Append one case with a new id and its history row, as the service layer does."""
    nid = NewId("GA2026-")
    cs = Changeset()
    cs.append("cases", case_row(nid, **values))
    cs.append("history", history_row(nid, values.get("title", "路灯不亮")))
    return store.commit(cs)[nid]
