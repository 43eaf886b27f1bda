"""Fault injection: what a client sees when Google rate-limits, fails, stalls or hangs up."""

from __future__ import annotations

import gspread
import pytest
import requests
from gspread.exceptions import APIError
from gspread.http_client import BackOffHTTPClient

from tests.emulator.conftest import CASES
from tests.fakes.sheets_emulator import SheetsEmulator


@pytest.fixture
def ws(gc: gspread.Client, register_id: str) -> gspread.Worksheet:
    """The cases tab with a header row."""
    sheet = gc.open_by_key(register_id).worksheet(CASES)
    sheet.update([["编号", "内容"]], "A1")
    return sheet


def test_429_burst_is_seen_by_the_client_then_clears(
    ws: gspread.Worksheet, emulator: SheetsEmulator
) -> None:
    emulator.reset_counts()
    emulator.inject(429, times=3, endpoint="values.get")

    for _ in range(3):
        with pytest.raises(APIError) as limited:
            ws.get_all_values()
        assert limited.value.code == 429
        assert limited.value.error["status"] == "RESOURCE_EXHAUSTED"
        assert "Read requests per minute per user" in limited.value.error["message"]

    assert ws.get_all_values() == [["编号", "内容"]]
    assert emulator.counts == {"values.get": 4}
    assert [e.fault for e in emulator.request_log] == ["429", "429", "429", None]


@pytest.mark.parametrize(
    ("status", "envelope"),
    [
        (500, {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}),
        (
            503,
            {
                "code": 503,
                "message": "The service is currently unavailable.",
                "status": "UNAVAILABLE",
            },
        ),
    ],
)
def test_server_errors_use_googles_envelope_and_change_nothing(
    ws: gspread.Worksheet, emulator: SheetsEmulator, status: int, envelope: dict[str, object]
) -> None:
    emulator.inject(status, endpoint="values.append")

    with pytest.raises(APIError) as failed:
        ws.append_row(["A-001", "来电"])

    assert failed.value.error == envelope
    assert ws.get_all_values() == [["编号", "内容"]]


def test_faults_only_hit_matching_endpoints(
    ws: gspread.Worksheet, emulator: SheetsEmulator
) -> None:
    emulator.inject(503, endpoint="values.app*")

    ws.get_all_values()  # values.get is not affected

    assert emulator.pending_faults == [("503", 1)]
    with pytest.raises(APIError):
        ws.append_row(["A-001"])
    assert emulator.pending_faults == []


def test_slow_answer_raises_read_timeout_when_the_client_gives_up_first(
    ws: gspread.Worksheet, gc: gspread.Client, emulator: SheetsEmulator
) -> None:
    gc.set_timeout(0.05)
    emulator.inject("slow", endpoint="values.append", delay=0.3)

    with pytest.raises(requests.exceptions.Timeout):
        ws.append_row(["A-001", "来电"])

    gc.set_timeout(None)
    # The server still applied the write: a timeout does not mean "nothing happened".
    assert ws.get_all_values() == [["编号", "内容"], ["A-001", "来电"]]


def test_slow_answer_within_the_timeout_succeeds(
    ws: gspread.Worksheet, gc: gspread.Client, emulator: SheetsEmulator
) -> None:
    gc.set_timeout(5)
    emulator.inject("slow", endpoint="values.get", delay=0.05)

    assert ws.get_all_values() == [["编号", "内容"]]


def test_dropped_connection_applies_nothing(
    ws: gspread.Worksheet, emulator: SheetsEmulator
) -> None:
    emulator.inject("drop", endpoint="values.append")

    with pytest.raises(requests.exceptions.ConnectionError):
        ws.append_row(["A-001", "来电"])

    assert ws.get_all_values() == [["编号", "内容"]]


def append_once(ws: gspread.Worksheet, row: list[str]) -> None:
    """Append ``row`` unless an earlier, unanswered attempt already wrote it (key in col A)."""
    try:
        ws.append_row(row, table_range="A1")
    except requests.exceptions.ConnectionError:
        if row[0] not in ws.col_values(1):
            ws.append_row(row, table_range="A1")


def test_apply_then_drop_leaves_the_write_applied(
    ws: gspread.Worksheet, emulator: SheetsEmulator
) -> None:
    emulator.inject("apply_then_drop", endpoint="values.append")

    with pytest.raises(requests.exceptions.ConnectionError):
        ws.append_row(["A-001", "来电"], table_range="A1")
    assert ws.get_all_values() == [["编号", "内容"], ["A-001", "来电"]]

    emulator.inject("apply_then_drop", endpoint="values.append")
    append_once(ws, ["A-002", "来信"])  # a blind retry here would write the row twice
    assert ws.col_values(1) == ["编号", "A-001", "A-002"]


def test_gspread_backoff_client_retries_429_with_growing_sleeps(
    emulator: SheetsEmulator, register_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("gspread.http_client.time.sleep", sleeps.append)
    gc = emulator.client(http_client=BackOffHTTPClient)
    ws = gc.open_by_key(register_id).worksheet(CASES)
    emulator.inject(429, times=2, endpoint="values.get")

    assert ws.get_all_values() == [[]]
    assert sleeps == [2, 4]


def test_faults_over_loopback_http(emulator: SheetsEmulator, register_id: str) -> None:
    server = emulator.serve()
    gc = gspread.Client(auth=None, session=server.session())  # type: ignore[arg-type]
    ws = gc.open_by_key(register_id).worksheet(CASES)

    emulator.inject("drop", endpoint="values.get")
    with pytest.raises(requests.exceptions.ConnectionError):
        ws.get_all_values()

    emulator.inject("apply_then_drop", endpoint="values.update")
    with pytest.raises(requests.exceptions.ConnectionError):
        ws.update([["A-001"]], "A1")

    gc.set_timeout(0.05)
    emulator.inject("slow", endpoint="values.get", delay=0.3)
    with pytest.raises(requests.exceptions.Timeout):
        ws.get_all_values()
    gc.set_timeout(None)

    assert ws.get_all_values() == [["A-001"]]
    assert emulator.counts["values.get"] == 3
