"""The SQLite store's fast ``read``: each column of a range of rows is fetched as one text
joined by a separator and split in Python. These tests check it against the plain read it
replaces (a row tuple per row, ``ORDER BY rowid``) on the values that could trip it: the
separator itself, NULL cells, texts over SQLite's length limit, empty tables, and the order
of rows after deletes, updates and rowids far apart. (What every store reads back, byte for
byte: tests/contract/test_store_contract.py.)"""

from __future__ import annotations

import contextlib
import sqlite3

import pandas as pd
import pytest

import lib.store.sqlite as sqlite_store
from lib.store.base import Changeset
from lib.store.sqlite import SEP, SQLiteStore, _q


def plain_read(store: SQLiteStore, names: list[str]) -> dict[str, pd.DataFrame]:
    """The snapshot as the plain row-by-row read gives it: the reference."""
    frames = {}
    with contextlib.closing(sqlite3.connect(store.path)) as con:
        for name in names:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({_q(name)})")]
            rows = con.execute(
                f"SELECT rowid, {', '.join(_q(c) for c in cols)} FROM {_q(name)} ORDER BY rowid"
            ).fetchall()
            frames[name] = pd.DataFrame(rows, columns=["_row", *cols], dtype=object)
    return frames


def assert_reads_as_plain(store: SQLiteStore, names: list[str] | None = None) -> None:
    names = names or [s.name for s in store.schema if s.name != "history"]
    got = store.read(names).frames
    want = plain_read(store, names)
    assert list(got) == names
    for name in names:
        pd.testing.assert_frame_equal(got[name], want[name], check_index_type=True)
        assert (got[name].dtypes == "object").all(), name
        assert all(type(v) is int for v in got[name]["_row"]), name


def case(i: int, **values: str) -> dict[str, str]:
    return {
        "case_id": f"GA2026-{i:06d}",
        "received_at": f"2026-03-{1 + i % 28:02d}",
        "title": f"第{i}件",
        "content": "某某路的路灯坏了。😀" * (1 + i % 3),
        "version": "1",
        **values,
    }


@pytest.fixture
def store(tmp_path) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "register.db")
    store.init()
    return store


@pytest.fixture(params=[3, 1000], ids=["ranges of 3 rows", "one range"])
def range_rows(request, monkeypatch) -> int:
    monkeypatch.setattr(sqlite_store, "READ_RANGE_ROWS", request.param)
    return request.param


def add(store: SQLiteStore, sheet: str, rows: list[dict[str, str]]) -> None:
    cs = Changeset()
    cs.append(sheet, *rows)
    store.commit(cs)


def test_the_separator_in_a_value_is_read_exactly(store, range_rows):
    odd = {
        1: {"title": SEP},
        4: {"title": f"前{SEP}后", "content": SEP * 3},
        5: {"town": f"{SEP}开头"},
        9: {"reply": f"结尾{SEP}"},
        10: {"title": "\x1f\x1d,;|\t\n"},
    }
    add(store, "cases", [case(i, **odd.get(i, {})) for i in range(12)])

    assert_reads_as_plain(store)
    frame = store.read(["cases"])["cases"]
    assert frame.loc[4, "title"] == f"前{SEP}后"
    assert frame.loc[4, "content"] == SEP * 3


def test_empty_texts_and_empty_tables(store, range_rows):
    add(store, "cases", [{"case_id": "GA2026-000001"}])  # every other cell is ''
    assert_reads_as_plain(store)
    add(store, "cases", [{"case_id": f"GA2026-{i:06d}"} for i in range(2, 9)])

    assert_reads_as_plain(store)
    snap = store.read()
    assert len(snap["settings"]) == 0
    assert list(snap["settings"].columns) == ["_row", *store.schema["settings"].keys]
    assert snap["cases"]["title"].tolist() == [""] * 8


def test_rows_come_in_rowid_order_after_deletes_updates_and_far_apart_rowids(store, range_rows):
    add(store, "cases", [case(i) for i in range(20)])
    with contextlib.closing(sqlite3.connect(store.path)) as con, con:
        con.execute("DELETE FROM cases WHERE rowid IN (1, 2, 7, 8, 9, 15)")
        con.execute("UPDATE cases SET title = 'changed' || rowid WHERE rowid % 4 = 0")
        cols = ", ".join(_q(c) for c in ("case_id", "title"))
        con.execute(f"INSERT INTO cases (rowid, {cols}) VALUES (-5, 'GA2026-900001', 'neg')")
        con.execute(
            f"INSERT INTO cases (rowid, {cols}) VALUES (10000000000, 'GA2026-900002', 'far')"
        )
        con.execute(
            f"INSERT INTO cases (rowid, {cols}) VALUES (9223372036854775807, 'GA2026-900003', 'max')"
        )

    assert_reads_as_plain(store)
    rows = store.read(["cases"])["cases"]["_row"].tolist()
    assert rows == sorted(rows) and rows[0] == -5 and rows[-1] == 2**63 - 1
    assert len(rows) == 17


def test_null_cells_read_as_none_even_beside_the_separator(tmp_path, range_rows):
    """A table made by hand, without NOT NULL: group_concat skips NULLs, so they are counted."""
    path = tmp_path / "register.db"
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        con.execute('CREATE TABLE "settings" ("key" TEXT, "value" TEXT, "note" TEXT)')
        con.executemany(
            'INSERT INTO "settings" VALUES (?, ?, ?)',
            [  # in "value", each NULL is made up for by a separator, in 3 rows and in all
                ("a", None, "n"),
                ("b", f"x{SEP}y", "n"),
                ("c", "", "n"),
                ("d", None, "n"),
                ("e", f"p{SEP}q", "n"),
                ("f", "v", "n"),
                ("g", "", "n"),
            ],
        )
    store = SQLiteStore(path)

    assert_reads_as_plain(store, ["settings"])
    frame = store.read(["settings"])["settings"]
    assert frame["value"].tolist() == [None, f"x{SEP}y", "", None, f"p{SEP}q", "v", ""]
    assert frame["key"].tolist() == list("abcdefg")


def test_a_range_over_sqlite_s_length_limit_is_read_row_by_row(store, range_rows, monkeypatch):
    add(store, "cases", [case(i, content="长" * 300) for i in range(12)])
    connect = SQLiteStore._connect

    @contextlib.contextmanager
    def small_limit(self, **kwargs):
        with connect(self, **kwargs) as con:
            con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 2000)  # one content fits, three do not
            yield con

    monkeypatch.setattr(SQLiteStore, "_connect", small_limit)

    assert_reads_as_plain(store)
    assert store.read(["cases"])["cases"]["content"].tolist() == ["长" * 300] * 12


def test_a_column_added_later_reads_its_default_and_history_reads_too(store, range_rows):
    add(store, "cases", [case(i) for i in range(5)])
    add(store, "history", [{"timestamp": f"t{i}", "case_id": f"c{i}"} for i in range(7)])
    with contextlib.closing(sqlite3.connect(store.path)) as con, con:
        con.execute("ALTER TABLE cases ADD COLUMN \"mine\" TEXT NOT NULL DEFAULT ''")
    store = SQLiteStore(store.path)

    assert_reads_as_plain(store, ["cases", "history"])
    assert store.read(["cases"])["cases"]["mine"].tolist() == [""] * 5
