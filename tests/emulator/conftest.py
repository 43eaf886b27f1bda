"""Fixtures for the Sheets emulator's own tests: a fresh emulator and gspread clients on it."""

from __future__ import annotations

from collections.abc import Iterator

import gspread
import pytest

from tests.fakes.sheets_emulator import SheetsEmulator

REGISTER_TITLE = "留言办理台账"
CASES = "案件"


@pytest.fixture
def emulator() -> Iterator[SheetsEmulator]:
    """A fresh emulator; the test fails if the emulator itself hit a bug (HTTP 500)."""
    emu = SheetsEmulator()
    yield emu
    emu.shutdown()
    assert emu.internal_errors == [], emu.internal_errors[0]


@pytest.fixture(params=["in_process", "loopback"])
def gc(request: pytest.FixtureRequest, emulator: SheetsEmulator) -> gspread.Client:
    """A gspread client talking to the emulator in process, then over loopback HTTP."""
    if request.param == "in_process":
        return emulator.client()
    server = emulator.serve()
    return gspread.Client(auth=None, session=server.session())  # type: ignore[arg-type]


@pytest.fixture
def register_id(emulator: SheetsEmulator) -> str:
    """A spreadsheet shaped like the app's register: Chinese titles, two tabs."""
    return emulator.create_spreadsheet(REGISTER_TITLE, worksheets=[CASES, "历史"])


@pytest.fixture
def cases(gc: gspread.Client, register_id: str) -> gspread.Worksheet:
    """The ``案件`` worksheet opened through gspread."""
    return gc.open_by_key(register_id).worksheet(CASES)
