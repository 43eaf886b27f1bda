"""The stores the contract suite runs against.

``STORES`` maps a store's name to a factory ``(tmp_path, schema) -> Store`` that returns a new,
*not yet initialised* store object on the register that ``tmp_path`` designates. Calling it
again with the same ``tmp_path`` must return a second, independent object on the same register
(same URL), as a second process would open it. Adding a backend is one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lib.schema import Schema
from lib.store.base import Store
from lib.store.sqlite import SQLiteStore

StoreFactory = Callable[[Path, Schema], Store]


def _sqlite(tmp_path: Path, schema: Schema) -> Store:
    return SQLiteStore(tmp_path / "register.db", schema)


STORES: dict[str, StoreFactory] = {
    "sqlite": _sqlite,
    "gsheets": __import__("tests.gsheets.emulated", fromlist=["*"]).contract_store,
}


@pytest.fixture(params=sorted(STORES))
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Store]:
    """``store_factory(schema=None)``: a new store object on this test's register.

    Every object it made is closed at teardown.
    """
    from lib.schema import default_schema

    factory = STORES[request.param]
    made: list[Store] = []

    def make(schema: Schema | None = None) -> Store:
        store = factory(tmp_path / "register", schema or default_schema())
        made.append(store)
        return store

    (tmp_path / "register").mkdir()
    yield make
    for store in made:
        store.close()
