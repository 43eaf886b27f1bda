"""Google Sheets stores on the in-repo Sheets emulator, for the contract suite and these tests.

:func:`contract_store` is the ``STORES["gsheets"]`` factory of ``tests/contract/conftest.py``:
the folder a test gets designates one emulated spreadsheet, and each call returns a new,
independent :class:`~lib.store.gsheets.GSheetsStore` on it (as a second process would open it),
talking to the emulator through gspread's real HTTP code over an in-process transport.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from lib.schema import Schema
from lib.store.gsheets import GSheetsStore
from lib.store.retry import RetryPolicy
from tests.fakes.sheets_emulator import SheetsEmulator

REGISTER_TITLE = "留言办理台账"
#: Retries fast enough for tests (the budget still bounds every operation).
FAST = RetryPolicy(budget_s=10.0, base_s=0.001, cap_s=0.01)

_REGISTERS: OrderedDict[Path, tuple[SheetsEmulator, str]] = OrderedDict()


def emulated_register(path: Path) -> tuple[SheetsEmulator, str]:
    """The emulator and spreadsheet id that ``path`` designates (made on first use)."""
    found = _REGISTERS.get(path)
    if found is None:
        emulator = SheetsEmulator(seed=None)
        found = (emulator, emulator.create_spreadsheet(REGISTER_TITLE))
        _REGISTERS[path] = found
        while len(_REGISTERS) > 16:  # a test's register lives as long as the test
            _REGISTERS.popitem(last=False)
    return found


def contract_store(path: Path, schema: Schema) -> GSheetsStore:
    """A new store object on the emulated spreadsheet of ``path`` (not yet initialised)."""
    emulator, spreadsheet_id = emulated_register(path)
    return GSheetsStore(spreadsheet_id, session=emulator.session(), schema=schema, policy=FAST)
