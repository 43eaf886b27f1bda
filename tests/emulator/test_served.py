"""The emulator as a separate process (for a served app) and real service-account auth."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gspread
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account
from gspread.exceptions import APIError

from tests.fakes.sheets_emulator import RemoteEmulator, SheetsEmulator, loopback_session

REPO_ROOT = Path(__file__).resolve().parents[2]
SHEET_ID = "1RegisterSheetForServedAppTests000000000000"


@pytest.fixture
def served() -> Iterator[str]:
    """``python -m tests.fakes.sheets_emulator`` on a free port; yields ``host:port``."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.sheets_emulator",
            "--port",
            "0",
            "--spreadsheet",
            f"{SHEET_ID}=留言办理台账",
            "--worksheet",
            "案件",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address.startswith("127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def test_served_process_answers_gspread_and_its_control_api(served: str) -> None:
    gc = gspread.Client(auth=None, session=loopback_session(served))  # type: ignore[arg-type]
    remote = RemoteEmulator(served)

    ws = gc.open_by_key(SHEET_ID).worksheet("案件")
    ws.append_row(["A-001", "0123"])
    remote.set_cells(SHEET_ID, "案件", [["A-002", "'0456"]], start="A2")
    remote.inject(429, endpoint="values.get")

    with pytest.raises(APIError) as limited:
        ws.get_all_values()
    assert limited.value.code == 429
    assert ws.get_all_values() == [["A-001", "0123"], ["A-002", "0456"]]
    assert remote.get_grid(SHEET_ID, "案件") == [["A-001", "0123"], ["A-002", "0456"]]
    assert remote.counts["values.get"] == 2
    remote.reset_counts()
    assert remote.counts == {}


def _service_account_info(token_uri: str) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": "emulator",
        "private_key_id": "emulator-key",
        "private_key": pem,
        "client_email": "register@emulator.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }


def test_service_account_credentials_get_a_token_from_the_loopback_server() -> None:
    emulator = SheetsEmulator(require_auth=True)
    sid = emulator.create_spreadsheet("留言办理台账")
    server = emulator.serve()
    try:
        info = _service_account_info(f"{server.url}/token")
        credentials = service_account.Credentials.from_service_account_info(
            info, scopes=gspread.auth.DEFAULT_SCOPES
        )
        session = AuthorizedSession(credentials, auth_request=Request(server.session()))
        gc = gspread.Client(auth=None, session=loopback_session(server.address, session))  # type: ignore[arg-type]

        assert gc.open_by_key(sid).sheet1.get_all_values() == [[]]
        assert emulator.counts["oauth2.token"] == 1
        unauthenticated = gspread.Client(auth=None, session=server.session())  # type: ignore[arg-type]
        with pytest.raises(APIError) as denied:
            unauthenticated.open_by_key(sid)
        assert denied.value.error["status"] == "UNAUTHENTICATED"
    finally:
        server.shutdown()
    assert emulator.internal_errors == []
