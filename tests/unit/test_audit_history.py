"""The SQLite store's side of the audit log: the history indexes every register gets at
``init`` (existing ones too), and queries that go through them — a page of the audit log
never reads the whole history table, however long it is. (What the rows are, on every
store: tests/contract/test_audit_history.py.)"""

from __future__ import annotations

import re
import sqlite3

import pytest

from lib.store.base import Changeset
from lib.store.sqlite import HISTORY_INDEXES, SQLiteStore

USERS = ("clerk1", "clerk2", "ga_handler", "sup1")
ACTIONS = ("intake", "assign", "accept", "reply", "signin", "export")


def history(n: int) -> list[dict[str, str]]:
    return [
        {
            "timestamp": f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:00:00+08:00",
            "user": USERS[i % len(USERS)],
            "case_id": f"GA2026-{i % 97:06d}" if i % 5 else "",
            "action": ACTIONS[i % len(ACTIONS)],
            "field": "",
            "old": "",
            "new": str(i),
        }
        for i in range(n)
    ]


@pytest.fixture
def store(tmp_path) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "register.db")
    store.init()
    cs = Changeset()
    cs.append("history", *history(600))
    store.commit(cs)
    yield store
    store.close()


def indexes(path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as con:
        names = [r[1] for r in con.execute('PRAGMA index_list("history")')]
        found = {n: [r[2] for r in con.execute(f'PRAGMA index_info("{n}")')] for n in names}
    con.close()
    return found


def drop_indexes(path) -> None:
    with sqlite3.connect(path) as con:
        for name in HISTORY_INDEXES:
            if name != "ix_history_case":  # the one registers had before the audit log's
                con.execute(f'DROP INDEX "{name}"')
    con.close()


def test_init_gives_every_register_the_history_indexes_and_keeps_the_rows(store):
    want = {name: list(cols) for name, cols in HISTORY_INDEXES.items()}
    assert indexes(store.path) == want
    drop_indexes(store.path)  # a register made before them
    assert set(indexes(store.path)) == {"ix_history_case"}

    SQLiteStore(store.path).init()

    assert indexes(store.path) == want
    assert len(store.read(["history"])["history"]) == 600


def test_the_choices_are_the_same_without_the_indexes(store):
    users, actions = store.history_choices()
    assert (users, actions) == (sorted(USERS), sorted(ACTIONS))

    drop_indexes(store.path)

    assert store.history_choices() == (users, actions)


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """Every statement the store runs from now on, with its parameters filled in."""
    ran: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        con = connect(*args, **kwargs)
        con.set_trace_callback(ran.append)
        return con

    monkeypatch.setattr(sqlite3, "connect", traced)
    return ran


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"users": ["clerk1"]},
        {"users": ["clerk1", "sup1"], "day_from": "2026-03-10"},
        {"actions": ["signin"], "day_to": "2026-03-20"},
        {"actions": ["signin", "export"]},
        {"users": ["clerk2"], "actions": ["assign"], "case_part": "0"},
        {"case_part": "ga2026-00001"},
        {"case_part": "1", "day_from": "2026-03-05", "day_to": "2026-03-06"},
        {"day_from": "2026-03-27"},
    ],
    ids=repr,
)
def test_a_page_of_the_audit_log_reads_through_indexes_never_the_whole_table(
    store, statements, filters
):
    total, rows = store.history_page(limit=20, **filters)
    store.history_choices()

    assert 0 < len(rows) <= 20 and total >= len(rows)
    queries = [s for s in statements if re.match(r"\s*(SELECT|WITH)\b", s, re.I)]
    assert len(queries) == 4  # the count, the page, the users, the actions
    with sqlite3.connect(store.path) as con:
        for sql in queries:
            plan = [r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql)]
            assert "SCAN history" not in plan, (sql, plan)  # a walk of the table itself
            assert any("INDEX" in step for step in plan), (sql, plan)
        # The page's rows are found in index order, not by sorting every match (only
        # several users or actions are merged: the newest `limit` of each)
        page = next(s for s in queries if "LIMIT" in s)
        steps = {r[0]: r for r in con.execute("EXPLAIN QUERY PLAN " + page)}
        inner = [n for n, r in steps.items() if r[3].startswith("LIST SUBQUERY")]
        assert len(inner) == 1, page

        def within(n: int) -> bool:
            return n in inner or (n in steps and n != 0 and within(steps[n][1]))

        sorts = [r[3] for n, r in steps.items() if within(r[1]) and "TEMP B-TREE" in r[3]]
        several = any(len(filters.get(k, [])) > 1 for k in ("users", "actions"))
        assert several or "USE TEMP B-TREE FOR ORDER BY" not in sorts, (page, sorts)
    con.close()
