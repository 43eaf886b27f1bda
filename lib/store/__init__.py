"""Stores behind one protocol, chosen by register URL (SPEC §8).

``sqlite:///path/to/register.db`` (the embedded default), ``gsheets://SPREADSHEET_KEY`` (a
shared Google Sheet). Without a URL: env ``REGISTER_URL``, else ``register_url`` in
``.streamlit/secrets.toml``, else ``data/register.db`` beside the app.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from lib.i18n import DomainError
from lib.schema import Schema
from lib.store.base import (
    Changeset,
    ConflictError,
    NewId,
    RowNotFound,
    Snapshot,
    Store,
    StoreError,
    Update,
)
from lib.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DB = ROOT / "data" / "register.db"
DEMO_DB = ROOT / "data" / "demo.db"

__all__ = [
    "Changeset",
    "ConflictError",
    "NewId",
    "RowNotFound",
    "SQLiteStore",
    "Snapshot",
    "Store",
    "StoreError",
    "Update",
    "default_url",
    "open_store",
]


def default_url() -> str:
    """The register URL to use when none is given."""
    env = os.environ.get("REGISTER_URL", "").strip()
    if env:
        return env
    secrets = ROOT / ".streamlit" / "secrets.toml"
    if secrets.exists():
        try:
            url = tomllib.loads(secrets.read_text(encoding="utf-8")).get("register_url")
        except (tomllib.TOMLDecodeError, OSError):
            url = None
        if url:
            return str(url)
    return f"sqlite:///{DEFAULT_DB}"


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL (relative paths are relative to the current folder)."""
    rest = url[len("sqlite:///") :]
    return Path(rest)


def open_store(url: str | None = None, *, schema: Schema | None = None, init: bool = True) -> Store:
    """Open the store at ``url`` (initialising missing sheets unless ``init`` is False)."""
    url = (url or default_url()).strip()
    if url.startswith("sqlite:///"):
        store: Store = SQLiteStore(sqlite_path(url), schema)
    elif url.startswith("gsheets://"):
        try:
            from lib.store.gsheets import GSheetsStore
        except ImportError as exc:  # the Google Sheets store lands with its own issue
            raise DomainError("err.register_url", url=url) from exc
        store = GSheetsStore.from_url(url, schema=schema)
    else:
        raise DomainError("err.register_url", url=url)
    if init:
        store.init(schema) if schema is not None else store.init()
    return store
