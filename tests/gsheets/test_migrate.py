"""``migrate`` between the embedded store and a Google Sheet, both ways, verified row by row."""

from __future__ import annotations

import pytest

from lib.migrate import migrate
from lib.register import Register, open_register
from tests.conftest import VALID_CASE


def text_rows(reg: Register, sheet: str) -> list[dict[str, str]]:
    keys = reg.schema[sheet].keys
    frame = reg.store.read([sheet])[sheet]
    return frame.reindex(columns=keys).fillna("").astype(str).to_dict("records")


@pytest.fixture
def source(tmp_register: Register, clerk, handler, leader, supervisor, admin) -> Register:
    reg = tmp_register
    odd = [
        {"phone": "013800138000", "title": '=HYPERLINK("http://x","y")'},
        {"phone": "+86 138-0013-8000", "title": "+1 同意楼上"},
        {"title": "-5℃ 仍未供暖", "content": ("长内容😀\n" * 6000)[:36000]},
        {"title": "@市长 请关注", "town": "  浓洄街道  "},
    ]
    ids = [reg.intake(clerk, {**VALID_CASE, **o}) for o in odd]
    reg.assign(clerk, ids[0], unit="广安区", assigned_at="2026-03-04")
    reg.accept(handler, ids[0], accepted_at="2026-03-05")
    reg.instruct(leader, ids[1], leader="周局长", text="=请办理", date="2026-03-06")
    reg.supervise(supervisor, ids[0], kind="电话督办", note="0123", date="2026-03-07")
    reg.save_user(admin, "clerk9", role="clerk", password="秘密-123")
    reg.set_setting(admin, "stale_seconds", "15")
    return reg


def test_sqlite_to_sheets_to_sqlite_is_identical(source, served, sheet_id, tmp_path, admin, clock):
    sheets_url = f"gsheets://{sheet_id}"

    report = migrate(source, admin, sheets_url)
    assert report[-1].startswith("已逐行核对")

    on_sheets = open_register(sheets_url, clock=clock)
    back_url = f"sqlite:///{tmp_path / 'back.db'}"
    migrate(on_sheets, admin, back_url)
    back = open_register(back_url, clock=clock)

    for sheet in source.schema.names:
        before, after = text_rows(source, sheet), text_rows(back, sheet)
        if sheet == "history":
            # Each migration adds one row saying where the data came from.
            assert after[: len(before)] == before
            assert [r["action"] for r in after[len(before) :]] == ["migrate", "migrate"]
        else:
            assert after == before, sheet
    # The sheet carries on numbering after the migrated cases.
    assert on_sheets.intake(admin, dict(VALID_CASE)) == "GA2026-000005"
    back.store.close()


def test_migrating_into_a_sheet_that_has_data_is_refused(source, served, sheet_id, admin):
    from lib.i18n import DomainError

    migrate(source, admin, f"gsheets://{sheet_id}")
    with pytest.raises(DomainError) as caught:
        migrate(source, admin, f"gsheets://{sheet_id}")
    assert caught.value.key == "mig.not_empty"
