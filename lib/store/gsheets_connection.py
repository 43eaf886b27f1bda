"""The Google Sheets register, reached the Streamlit way (``st.connection``).

For the portal — one call gives the :class:`~lib.register.Register` on the shared sheet,
created once per process and shared by every session (``st.connection`` caches it as a global
resource and re-creates it when ``[connections.gsheets]`` in the secrets changes)::

    from lib.store.gsheets_connection import gsheets_register, refresh

    reg = gsheets_register()                  # the sheet named in [connections.gsheets]
    reg = gsheets_register("gsheets://KEY")   # or this spreadsheet
    data = reg.load()                         # one values:batchGet, cached (see below)
    st.button("刷新", on_click=refresh, args=(reg,))

Secrets (``.streamlit/secrets.toml``) use st-gsheets-connection's layout, so an existing
configuration keeps working::

    [connections.gsheets]
    spreadsheet = "https://docs.google.com/spreadsheets/d/KEY/edit"   # or just KEY
    type = "service_account"
    project_id = "…"
    private_key_id = "…"
    private_key = "-----BEGIN PRIVATE KEY-----\\n…\\n-----END PRIVATE KEY-----\\n"
    client_email = "register@….iam.gserviceaccount.com"
    client_id = "…"
    auth_uri = "https://accounts.google.com/o/oauth2/auth"
    token_uri = "https://oauth2.googleapis.com/token"

Without them, ``GOOGLE_APPLICATION_CREDENTIALS`` (a service-account JSON file) is used; with
``SHEETS_EMULATOR_HOST=host:port`` the emulator, without credentials. Share the sheet with the
service account's ``client_email`` as an Editor.

Caching: a Google Sheet cannot say cheaply that someone edited it by hand, so the register
re-reads the sheet when its snapshot is older than the ``stale_seconds`` setting (default 30 s,
on the settings page). The app's own writes are patched into the snapshot (an import, or a
change to units, users or settings, drops it instead). :func:`apply_stale_seconds` keeps
``reg.max_age_s`` in step with the setting (:func:`gsheets_register` calls it on every page run);
the refresh button calls :func:`refresh`.

``python -m lib … --register gsheets://KEY`` and :func:`lib.register.open_register` reach the
same sheet without Streamlit (credentials from the secrets file or the environment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from streamlit.connections import BaseConnection

from lib.register import Register
from lib.schema import Schema
from lib.store.base import Snapshot
from lib.store.gsheets import GSheetsStore, spreadsheet_key
from lib.store.retry import RetryPolicy

DEFAULT_STALE_SECONDS = 30.0


class GSheetsConnection(BaseConnection[GSheetsStore]):
    """``st.connection("gsheets", type=GSheetsConnection, spreadsheet=KEY)``.

    ``spreadsheet`` (an id or the sheet's address) defaults to the secrets' ``spreadsheet``.
    Other keyword arguments: ``schema`` (default: the project's), ``policy`` (a
    :class:`~lib.store.retry.RetryPolicy`), ``init`` (create missing tabs and columns on
    connect, default True).
    """

    def _connect(self, **kwargs: Any) -> GSheetsStore:
        secrets = _plain(self._secrets.to_dict()) if self._secrets else {}
        spreadsheet = str(kwargs.get("spreadsheet") or secrets.get("spreadsheet") or "")
        schema: Schema | None = kwargs.get("schema")
        policy: RetryPolicy | None = kwargs.get("policy")
        store = GSheetsStore.from_url(
            f"gsheets://{spreadsheet_key(spreadsheet)}",
            schema=schema,
            credentials_info=secrets or None,
            policy=policy,
        )
        if kwargs.get("init", True):
            store.init(schema) if schema is not None else store.init()
        return store

    @property
    def store(self) -> GSheetsStore:
        """The :class:`~lib.store.gsheets.GSheetsStore` (reconnects after a reset)."""
        return self._instance

    def register(self, *, clock: Callable[[], dt.datetime] | None = None) -> Register:
        """The register on this sheet: one per connection, shared by all sessions.

        ``clock`` is the register's clock (a frozen day for demos/tests); a different one
        makes a new register on the same store.
        """
        store = self._instance
        reg: Register | None = getattr(self, "_register", None)
        if reg is None or reg.store is not store or reg.clock is not clock:
            reg = Register(store, schema=store.schema, clock=clock)
            reg.max_age_s = DEFAULT_STALE_SECONDS
            self._register = reg
        return reg

    def read(self, *, force: bool = False) -> Snapshot:
        """The register's current snapshot (cached for ``stale_seconds``)."""
        return self.register().load(force=force).snapshot

    def close(self) -> None:
        """Release the store (called when Streamlit drops the cached connection)."""
        if self._raw_instance is not None:
            self._raw_instance.close()


def stale_seconds(reg: Register) -> float:
    """The ``stale_seconds`` setting: how old others' edits may be before a re-read."""
    raw = reg.settings().get("stale_seconds", "")
    try:
        value = float(str(raw).strip())
    except ValueError:
        return DEFAULT_STALE_SECONDS
    return value if value >= 0 else DEFAULT_STALE_SECONDS


def apply_stale_seconds(reg: Register) -> Register:
    """Set ``reg.max_age_s`` from the setting, for stores without a change token.

    A store with ``change_token`` (SQLite) notices every change itself and is left alone.
    """
    if getattr(reg.store, "change_token", None) is None:
        # Load first: a stale snapshot is read again in one call that brings the settings
        # with it (asking for the settings alone first would be a second call).
        reg.load()
        reg.max_age_s = stale_seconds(reg)
    return reg


def refresh(reg: Register) -> None:
    """Drop the cached snapshot so the next page run reads the sheet again (refresh button)."""
    reg.invalidate()


def gsheets_register(
    url: str | None = None,
    *,
    connection_name: str = "gsheets",
    clock: Callable[[], dt.datetime] | None = None,
    **kwargs: Any,
) -> Register:
    """The register on a Google Sheet, through ``st.connection`` (call it on every page run).

    ``url`` is ``gsheets://KEY`` (or None: the ``spreadsheet`` of
    ``[connections.<connection_name>]``). The connection and its register are created once per
    process and shared across sessions; the register's snapshot is re-read after the app's own
    writes, on :func:`refresh`, and when older than ``stale_seconds``. Raises
    :class:`~lib.store.gsheets.SheetsError` (a :class:`~lib.i18n.DomainError` with a Chinese
    message that says what to do) when the sheet cannot be opened.
    """
    import streamlit as st

    if url:
        rest = url[len("gsheets://") :] if url.startswith("gsheets://") else url
        key = spreadsheet_key(rest)
        if key:
            kwargs["spreadsheet"] = key
    conn = st.connection(connection_name, type=GSheetsConnection, **kwargs)
    return apply_stale_seconds(conn.register(clock=clock))


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    return obj
