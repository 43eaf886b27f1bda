"""Replay Google's real answers (gspread's recorded cassettes) against the emulator.

Each cassette is a sequence of requests gspread 6.2.1 sent to Google and the answers it got.
We send the same requests to a fresh emulator and require the same status and the same JSON.
Ids Google generated (spreadsheet ids, sheet ids) are learnt from the answers as we go and
substituted into later requests; a few fields are not compared (see ``normalise``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.sheets_emulator import SheetsEmulator

CASSETTES = Path(__file__).resolve().parents[1] / "fakes" / "cassettes"
ID_KEYS = {"id", "spreadsheetId", "sheetId"}
#: Theme and default cell format: the emulator does not model formatting.
IGNORED_KEYS = {"defaultFormat", "spreadsheetTheme"}
#: Wall-clock fields: only their presence is compared.
TIME_KEYS = {"createdTime", "modifiedTime"}


def _seed_private_spreadsheet(emulator: SheetsEmulator) -> None:
    # The recording opens a spreadsheet owned by someone else, never shared with the robot.
    emulator.create_spreadsheet(
        "Someone else's spreadsheet",
        spreadsheet_id="1jIKzPs8LsiZZdLdeMEP-5ZIHw6RkjiOmj1LrJN706Yc",
        shared=False,
    )


#: State a cassette assumes exists before it starts.
SEEDS: dict[str, Callable[[SheetsEmulator], None]] = {
    "ClientTest.test_access_private_spreadsheet": _seed_private_spreadsheet,
}


def seed(cassette: Path, emulator: SheetsEmulator) -> None:
    """Create what ``cassette`` expects to exist already."""
    if cassette.stem in SEEDS:
        SEEDS[cassette.stem](emulator)


def learn_ids(recorded: Any, actual: Any, mapping: dict[str, str]) -> None:
    """Map ids Google generated to the ones the emulator generated in the same place."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key, value in recorded.items():
            if key not in actual:
                continue
            if key in ID_KEYS and isinstance(value, str | int) and value != actual[key]:
                mapping[str(value)] = str(actual[key])
            learn_ids(value, actual[key], mapping)
    elif isinstance(recorded, list) and isinstance(actual, list):
        for rec_item, act_item in zip(recorded, actual, strict=False):
            learn_ids(rec_item, act_item, mapping)


def substitute(text: str, mapping: dict[str, str]) -> str:
    """Replace recorded ids with emulator ids (longest first)."""
    for old in sorted(mapping, key=len, reverse=True):
        text = text.replace(old, mapping[old])
    return text


def normalise(obj: Any) -> Any:
    """Drop what the emulator does not model; mask timestamps."""
    if isinstance(obj, dict):
        return {
            k: "<time>" if k in TIME_KEYS else normalise(v)
            for k, v in obj.items()
            if k not in IGNORED_KEYS
        }
    if isinstance(obj, list):
        return [normalise(v) for v in obj]
    return obj


def decode(text: str) -> Any:
    """JSON if it is JSON, else the text (exports), ``None`` for an empty body."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def replay(cassette: Path, emulator: SheetsEmulator, session: requests.Session) -> int:
    """Replay every interaction; return how many were checked."""
    interactions = json.loads(cassette.read_text(encoding="utf-8"))["interactions"]
    mapping: dict[str, str] = {}
    for n, interaction in enumerate(interactions):
        request, response = interaction["request"], interaction["response"]
        body = request["body"]
        data = substitute(body, mapping).encode("utf-8") if body else None
        answer = session.request(
            request["method"],
            substitute(request["uri"], mapping),
            data=data,
            headers={"Content-Type": "application/json"} if data else {},
        )
        recorded = decode(response["body"]["string"])
        actual = decode(answer.text)
        if isinstance(recorded, dict | list):
            learn_ids(recorded, actual, mapping)
            recorded = json.loads(substitute(json.dumps(recorded), mapping))
        where = f"{cassette.stem} #{n}: {request['method']} {request['uri']}"
        assert answer.status_code == response["status"]["code"], where
        assert normalise(actual) == normalise(recorded), where
    return len(interactions)


@pytest.mark.parametrize(
    "cassette", sorted(CASSETTES.glob("*.json")), ids=lambda p: p.stem.split(".", 1)[1]
)
@pytest.mark.parametrize("transport", ["in_process", "loopback"])
def test_replay_matches_google(cassette: Path, transport: str, emulator: SheetsEmulator) -> None:
    seed(cassette, emulator)
    session = emulator.session() if transport == "in_process" else emulator.serve().session()

    checked = replay(cassette, emulator, session)

    assert checked > 0


def test_the_replayed_set_covers_the_emulated_endpoints() -> None:
    seen: set[str] = set()
    for cassette in sorted(CASSETTES.glob("*.json")):
        emulator = SheetsEmulator()
        seed(cassette, emulator)
        replay(cassette, emulator, emulator.session())
        seen |= set(emulator.counts)

    assert seen >= {
        "spreadsheets.get",
        "spreadsheets.batchUpdate",
        "values.get",
        "values.batchGet",
        "values.update",
        "values.batchUpdate",
        "values.append",
        "values.clear",
        "values.batchClear",
        "drive.files.create",
        "drive.files.get",
        "drive.files.list",
        "drive.files.delete",
    }
