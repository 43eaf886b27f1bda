"""Many clients at once: the emulator's single lock keeps appends whole and in the table."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import gspread

from tests.emulator.conftest import CASES
from tests.fakes.sheets_emulator import SheetsEmulator


def test_concurrent_appends_over_loopback_lose_nothing(
    emulator: SheetsEmulator, register_id: str
) -> None:
    emulator.set_cells(register_id, CASES, [["编号", "线程"]], input="RAW")
    server = emulator.serve()

    def writer(thread: int) -> None:
        gc = gspread.Client(auth=None, session=server.session())  # type: ignore[arg-type]
        ws = gc.open_by_key(register_id).worksheet(CASES)
        for n in range(10):
            ws.append_row([f"T{thread}-{n}", str(thread)], table_range="A1")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(writer, range(8)))

    rows = emulator.get_grid(register_id, CASES)
    assert rows[0] == ["编号", "线程"]
    assert sorted(row[0] for row in rows[1:]) == sorted(
        f"T{t}-{n}" for t in range(8) for n in range(10)
    )
    assert emulator.counts["values.append"] == 80
