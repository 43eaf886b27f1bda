"""Opening the sheet: URLs, credentials, the emulator switch, clear errors, ``st.connection``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from lib.store import gsheets, open_store
from lib.store.gsheets import (
    EmulatorHostAdapter,
    GSheetsStore,
    SheetsError,
    spreadsheet_key,
)
from lib.store.gsheets_connection import (
    GSheetsConnection,
    apply_stale_seconds,
    gsheets_register,
    stale_seconds,
)
from tests.gsheets.emulated import FAST

EMAIL = "liuyan-register@bureau-project.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def account(private_key) -> dict[str, str]:
    """A service account in st-gsheets-connection's ``[connections.gsheets]`` layout."""
    return {
        "type": "service_account",
        "project_id": "bureau-project",
        "private_key_id": "abc123",
        "private_key": private_key,
        "client_email": EMAIL,
        "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@pytest.fixture
def no_secrets(monkeypatch):
    monkeypatch.setattr(gsheets, "secrets_section", lambda name="gsheets": None)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("SHEETS_EMULATOR_HOST", raising=False)


# -- URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1AbC-dEf_123",
        "https://docs.google.com/spreadsheets/d/1AbC-dEf_123/edit#gid=0",
        "1AbC-dEf_123/",
    ],
)
def test_the_key_is_found_in_an_id_or_a_sheet_address(text):
    assert spreadsheet_key(text) == "1AbC-dEf_123"


def test_the_emulator_switch_opens_a_register_without_credentials(
    served, sheet_id, no_secrets, monkeypatch
):
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", served.address)

    store = open_store(f"gsheets://{sheet_id}")

    assert isinstance(store, GSheetsStore) and store.kind == "gsheets"
    assert store.url == f"gsheets://{sheet_id}"
    assert set(store.read().frames) >= {"cases", "units"}


# -- credentials ---------------------------------------------------------------------------


def test_service_account_from_streamlit_secrets_layout(account, no_secrets):
    store = GSheetsStore.from_url(
        "gsheets://KEY1", credentials_info={**account, "spreadsheet": "x"}
    )

    assert store.service_account == EMAIL and store.key == "KEY1"


def test_the_spreadsheet_can_come_from_the_secrets(account, no_secrets):
    info = {**account, "spreadsheet": "https://docs.google.com/spreadsheets/d/KEY2/edit"}

    assert GSheetsStore.from_url("gsheets://", credentials_info=info).key == "KEY2"


def test_a_private_key_pasted_with_backslash_n_still_works(account, no_secrets):
    info = {**account, "private_key": account["private_key"].replace("\n", "\\n")}

    assert GSheetsStore.from_url("gsheets://K", credentials_info=info).service_account == EMAIL


def test_service_account_json_from_google_application_credentials(
    account, no_secrets, tmp_path: Path, monkeypatch
):
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(account), encoding="utf-8")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))

    assert GSheetsStore.from_url("gsheets://K").service_account == EMAIL


def test_no_credentials_says_where_to_put_them(no_secrets):
    with pytest.raises(SheetsError) as caught:
        GSheetsStore.from_url("gsheets://K")

    message = caught.value.message("zh")
    assert "[connections.gsheets]" in message and "GOOGLE_APPLICATION_CREDENTIALS" in message


def test_broken_credentials_are_reported_not_crashed(account, no_secrets):
    with pytest.raises(SheetsError) as caught:
        GSheetsStore.from_url("gsheets://K", credentials_info={**account, "private_key": "nope"})
    assert caught.value.key == "gs.bad_credentials"


def test_no_key_says_what_a_key_is(account, no_secrets):
    with pytest.raises(SheetsError) as caught:
        GSheetsStore.from_url("gsheets://", credentials_info=account)
    assert "/d/" in caught.value.message("zh")


# -- the real credential path, against the emulator's token endpoint -----------------------


def signed_in_store(emulator, account, sheet_id) -> GSheetsStore:
    """A store that signs in as the service account (token from the emulator's /token)."""
    server = emulator.serve()
    info = {**account, "token_uri": f"{server.url}/token"}
    creds = service_account.Credentials.from_service_account_info(info, scopes=gsheets.SCOPES)
    session = AuthorizedSession(creds)
    session.mount("https://sheets.googleapis.com/", EmulatorHostAdapter(server.address))
    return GSheetsStore(sheet_id, session=session, policy=FAST, service_account=EMAIL)


def test_a_service_account_signs_in_and_works(emulator, account):
    emulator.require_auth = True
    sid = emulator.create_spreadsheet("台账")
    store = signed_in_store(emulator, account, sid)

    store.init()

    assert emulator.counts["oauth2.token"] == 1
    assert "cases" in store.read(["cases"]).frames


def test_a_sheet_not_shared_with_the_service_account_names_the_email(emulator, account):
    sid = emulator.create_spreadsheet("台账", shared=False)
    store = signed_in_store(emulator, account, sid)

    with pytest.raises(SheetsError) as caught:
        store.init()

    assert caught.value.key == "gs.not_shared"
    assert EMAIL in caught.value.message("zh") and "共享" in caught.value.message("zh")
    assert EMAIL in caught.value.message("en") and "Share" in caught.value.message("en")


def test_a_sheet_that_does_not_exist_says_so(emulator):
    store = GSheetsStore("no-such-sheet", session=emulator.session(), policy=FAST)

    with pytest.raises(SheetsError) as caught:
        store.read()

    assert caught.value.key == "gs.not_found"
    assert "no-such-sheet" in caught.value.message("zh")


# -- Streamlit -----------------------------------------------------------------------------


def test_the_connection_gives_one_shared_register(served, sheet_id, no_secrets, monkeypatch):
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", served.address)
    conn = GSheetsConnection("gsheets", spreadsheet=sheet_id)

    reg = conn.register()

    assert conn.register() is reg and reg.store is conn.store
    assert reg.max_age_s == 30
    assert len(conn.read().frames["cases"]) == 0


def test_the_stale_seconds_setting_sets_the_register_s_cache_age(
    served, sheet_id, no_secrets, monkeypatch, admin
):
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", served.address)
    reg = GSheetsConnection("gsheets", spreadsheet=sheet_id).register()
    assert stale_seconds(reg) == 30

    reg.set_setting(admin, "stale_seconds", "5")

    assert apply_stale_seconds(reg).max_age_s == 5


def test_a_page_reaches_the_register_through_st_connection(
    served, sheet_id, no_secrets, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SHEETS_EMULATOR_HOST", served.address)
    monkeypatch.setenv("TEST_SHEET", sheet_id)

    def page():
        import os

        import streamlit as st

        from lib.store.gsheets_connection import gsheets_register

        reg = gsheets_register(f"gsheets://{os.environ['TEST_SHEET']}")
        st.write(f"cases={len(reg.load().cases)} max_age={reg.max_age_s:g}")

    at = AppTest.from_function(page).run(timeout=30)

    assert not at.exception
    assert at.markdown[0].value == "cases=0 max_age=30"
    assert gsheets_register is not None
