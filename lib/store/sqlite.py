"""The embedded default store: one SQLite file (WAL mode), created on first use.

Each sheet is a table of TEXT columns named by field key; a field added to the YAML becomes a
new column at ``init``. Each :meth:`SQLiteStore.commit` is one ``BEGIN IMMEDIATE`` transaction,
so a service action lands whole or not at all, and concurrent writers (threads, the CLI and the
app at once) queue instead of clobbering each other. The SQL is plain and portable (quoted
identifiers, ``?`` parameters, no SQLite-only types) so a PostgreSQL store can follow; only
:meth:`SQLiteStore.read` is SQLite's own for speed (``group_concat`` over rowid ranges, see
:class:`_TableRead`), where PostgreSQL would have ``string_agg`` or ``COPY``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lib.schema import Schema, default_schema
from lib.store.base import (
    Changeset,
    ConflictError,
    NewId,
    RowNotFound,
    Snapshot,
    StoreError,
    id_number,
    new_ids_in,
    resolve_new_ids,
)

SEQUENCES = "_sequences"
# A row of _sequences counting commits, so a reader can tell "only my commit happened".
COMMITS = "__commits__"
BUSY_TIMEOUT_S = 30.0
# Indexes of the history table, made at init (existing registers get them at their next open).
HISTORY_INDEXES: dict[str, tuple[str, ...]] = {
    "ix_history_case": ("case_id",),
    "ix_history_time": ("timestamp", "case_id"),
    "ix_history_user": ("user", "timestamp"),
    "ix_history_action": ("action", "timestamp"),
}
# read() takes each column of a range of rows as one text, its values joined by this control
# character (group_concat), and splits it in Python: far faster than a tuple per row. A range
# where a value holds it is read row by row instead (see _TableRead).
SEP = "\x1e"
READ_RANGE_ROWS = 20_000  # rows per range: the next range is read while this one is split


def _q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


class SQLiteStore:
    """A register kept in one SQLite file."""

    kind = "sqlite"

    def __init__(self, path: str | Path, schema: Schema | None = None) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.schema = schema or default_schema()
        self._columns: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._watch: sqlite3.Connection | None = None
        self._local = threading.local()

    # -- connections ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, *, any_thread: bool = False) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=not any_thread,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"无法打开台账文件 {self.path}：{exc}") from exc
        try:
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            yield con
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise StoreError(f"台账文件 {self.path} 读写失败：{exc}") from exc
        finally:
            con.close()

    def _table_columns(self, con: sqlite3.Connection, table: str) -> list[str]:
        return [r[1] for r in con.execute(f"PRAGMA table_info({_q(table)})")]

    def _known_columns(self, con: sqlite3.Connection, table: str) -> list[str]:
        cols = self._columns.get(table)
        if cols is None:
            cols = self._table_columns(con, table)
            if cols:
                self._columns[table] = cols
        return cols

    # -- protocol ------------------------------------------------------------------------

    def init(self, schema: Schema | None = None) -> list[str]:
        """Create missing tables and columns (never drops or renames anything)."""
        schema = schema or self.schema
        self.schema = schema
        report: list[str] = []
        with self._connect() as con:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("BEGIN IMMEDIATE")
            try:
                for sheet in schema:
                    existing = self._table_columns(con, sheet.name)
                    if not existing:
                        cols = ", ".join(f"{_q(k)} TEXT NOT NULL DEFAULT ''" for k in sheet.keys)
                        con.execute(f"CREATE TABLE {_q(sheet.name)} ({cols})")
                        report.append(f"新建表 {sheet.name}（{len(sheet.keys)} 列）")
                    else:
                        for k in sheet.keys:
                            if k not in existing:
                                con.execute(
                                    f"ALTER TABLE {_q(sheet.name)} ADD COLUMN {_q(k)} "
                                    "TEXT NOT NULL DEFAULT ''"
                                )
                                report.append(f"新增列 {sheet.name}.{k}")
                    if sheet.key:
                        con.execute(
                            f"CREATE UNIQUE INDEX IF NOT EXISTS {_q('ux_' + sheet.name + '_key')}"
                            f" ON {_q(sheet.name)} ({_q(sheet.key)})"
                        )
                if "cases" in schema.sheets:
                    con.execute(
                        'CREATE INDEX IF NOT EXISTS "ix_cases_source" ON "cases" '
                        '("channel", "source_id")'
                    )
                if "history" in schema.sheets:
                    # case_id: one case's history; the others: the audit log's order, filters
                    # and choices (history_page, history_choices)
                    for name, cols in HISTORY_INDEXES.items():
                        con.execute(
                            f'CREATE INDEX IF NOT EXISTS {_q(name)} ON "history" '
                            f"({', '.join(_q(c) for c in cols)})"
                        )
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS {_q(SEQUENCES)} "
                    '("prefix" TEXT PRIMARY KEY, "last_value" INTEGER NOT NULL)'
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        self._columns.clear()
        return report

    def is_initialised(self) -> bool:
        """True when the file exists and holds every sheet of the schema."""
        if not self.path.exists():
            return False
        with self._connect() as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        return all(s.name in tables for s in self.schema)

    def read(self, sheets: Sequence[str] | None = None) -> Snapshot:
        """All requested sheets in one read transaction (default: all but history)."""
        names = (
            list(sheets)
            if sheets is not None
            else [s.name for s in self.schema if s.name != "history"]
        )
        frames: dict[str, pd.DataFrame] = {}
        tables: list[_TableRead] = []
        with self._connect(any_thread=True) as con:
            con.execute("BEGIN")
            try:
                for name in names:
                    cols = self._known_columns(con, name)
                    if not cols:
                        frames[name] = self._empty_frame(name)
                        continue
                    tables.append(_TableRead(con, name, cols))
                _read_tables(con, tables)
            finally:
                con.execute("COMMIT")
        for t in tables:
            frames[t.name] = t.frame()
        frames = {name: frames[name] for name in names}
        return Snapshot(frames, dt.datetime.now(dt.UTC), f"SQLite {self.path}")

    def _empty_frame(self, name: str) -> pd.DataFrame:
        keys = self.schema[name].keys if name in self.schema.sheets else []
        return pd.DataFrame(columns=["_row", *keys])

    def get_row(self, sheet: str, key: str) -> dict[str, str] | None:
        """One row by its key column, read now."""
        key_col = self.schema[sheet].key
        if key_col is None:
            raise ValueError(f"sheet {sheet} has no key column")
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            row = con.execute(
                f"SELECT * FROM {_q(sheet)} WHERE {_q(key_col)} = ?", (key,)
            ).fetchone()
        return dict(row) if row is not None else None

    def rows_where(self, sheet: str, column: str, value: str) -> list[dict[str, str]]:
        """Rows whose ``column`` equals ``value`` (e.g. one case's history)."""
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            cur = con.execute(
                f"SELECT rowid AS _row, * FROM {_q(sheet)} WHERE {_q(column)} = ? ORDER BY rowid",
                (value,),
            )
            return [dict(r) for r in cur.fetchall()]

    # -- the audit log (optional protocol methods: see Register.audit_page) -------------

    def history_page(
        self,
        *,
        users: Sequence[str] | None = None,
        actions: Sequence[str] | None = None,
        case_part: str | None = None,
        day_from: str | None = None,
        day_to: str | None = None,
        limit: int | None = None,
    ) -> tuple[int, pd.DataFrame]:
        """History rows that match, newest first (timestamp, then row, both descending): how
        many match, and the first ``limit`` of them (all when None) as text by field key.

        ``users``, ``actions``: the row's value is one of these; ``case_part``: the case id
        contains it, ASCII letters in either case (SQLite's ``LIKE``); ``day_from``,
        ``day_to`` (``YYYY-MM-DD``): the timestamp's first ten characters are on or after,
        on or before it. A filter that is None (or empty) is not applied.

        One read transaction, so the count and the rows agree. The rows are found without
        reading much more than they are: the newest entries of the (timestamp, case id) index
        are walked until ``limit`` of them match (the case id is checked in the index itself),
        or, for users and actions, the newest entries of each value in its (value, timestamp)
        index; then just those rows are read.
        """
        keys = self.schema["history"].keys
        filters: list[tuple[str, list[Any]]] = []  # (condition, its arguments)
        for col, values in (("user", users), ("action", actions)):
            if values:
                marks = ", ".join("?" for _ in values)
                filters.append((f"{_q(col)} IN ({marks})", [str(v) for v in values]))
        if case_part:
            pattern = "".join("\\" + c if c in "\\%_" else c for c in case_part)
            filters.append(("{case_id} LIKE ? ESCAPE '\\'", [f"%{pattern}%"]))
        if day_from:  # the same as: its first ten characters >= day_from
            filters.append(('"timestamp" >= ?', [day_from]))
        if day_to:  # its first ten characters <= day_to; the bound lets the index find them
            bound = day_to[:-1] + chr(ord(day_to[-1]) + 1)
            filters.append(('"timestamp" < ? AND substr("timestamp", 1, 10) <= ?', [bound, day_to]))
        args = [a for _, values in filters for a in values]

        def where(case_id: str) -> str:
            texts = [c.format(case_id=case_id) for c, _ in filters]
            return " WHERE " + " AND ".join(texts) if texts else ""

        order = ' ORDER BY "timestamp" DESC, rowid DESC'
        with self._connect() as con:
            cols = self._known_columns(con, "history")
            if not cols:
                return 0, pd.DataFrame(columns=keys, dtype=object)
            present = [k for k in keys if k in cols]
            select = f'SELECT {", ".join(_q(k) for k in present)} FROM "history"'
            con.execute("BEGIN")
            try:
                count_sql = 'SELECT COUNT(*) FROM "history"' + where('"case_id"')
                (count,) = con.execute(count_sql, args).fetchone()
                if not count or limit == 0:
                    rows: list[Any] = []
                elif limit is None:
                    rows = con.execute(select + where('"case_id"') + order, args).fetchall()
                else:
                    # || '' keeps the case index (no timestamps in it) out of the walk
                    inner = 'SELECT rowid FROM "history"' + where("(\"case_id\" || '')")
                    sql = select + f" WHERE rowid IN ({inner}{order} LIMIT ?)" + order
                    rows = con.execute(sql, [*args, int(limit)]).fetchall()
            finally:
                con.execute("COMMIT")
        frame = pd.DataFrame(rows, columns=present, dtype=object)
        for k in keys:
            if k not in frame.columns:
                frame[k] = ""
        return int(count), frame[keys]

    def history_choices(self) -> tuple[list[str], list[str]]:
        """The distinct users and actions in history (sorted, without the empty value)."""
        found: dict[str, list[str]] = {"user": [], "action": []}
        with self._connect() as con:
            cols = self._known_columns(con, "history")
            indexes = {r[1] for r in con.execute('PRAGMA index_list("history")')}
            con.execute("BEGIN")
            try:
                for col in (c for c in found if c in cols):
                    c = _q(col)
                    if f"ix_history_{col}" in indexes:  # a skip scan: one search per value
                        sql = (
                            f'WITH RECURSIVE d(v) AS (SELECT MIN({c}) FROM "history" '
                            f'UNION ALL SELECT (SELECT MIN({c}) FROM "history" WHERE {c} > d.v) '
                            "FROM d WHERE d.v IS NOT NULL) SELECT v FROM d WHERE v IS NOT NULL"
                        )
                    else:
                        sql = f'SELECT DISTINCT {c} FROM "history"'
                    found[col] = sorted({str(v) for (v,) in con.execute(sql)} - {""})
            finally:
                con.execute("COMMIT")
        return found["user"], found["action"]

    def commit(self, changes: Changeset) -> dict[NewId, str]:
        """Apply updates and appends in one immediate transaction."""
        if changes.is_empty():
            return {}
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                for upd in changes.updates:
                    self._apply_update(con, upd)
                allocated = self._allocate(con, changes)
                for sheet, rows in changes.appends.items():
                    if rows:
                        resolve_new_ids(rows, allocated)
                        self._insert(con, sheet, rows)
                con.execute(
                    f'INSERT INTO {_q(SEQUENCES)} ("prefix", "last_value") VALUES (?, 1) '
                    'ON CONFLICT ("prefix") DO UPDATE SET "last_value" = "last_value" + 1',
                    (COMMITS,),
                )
                (count,) = con.execute(
                    f'SELECT "last_value" FROM {_q(SEQUENCES)} WHERE "prefix" = ?', (COMMITS,)
                ).fetchone()
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        self._local.last_commit = int(count)
        return allocated

    def last_commit(self) -> int | None:
        """The commit count right after this thread's last commit (see :meth:`change_token`)."""
        return getattr(self._local, "last_commit", None)

    # -- internals -----------------------------------------------------------------------

    def _apply_update(self, con: sqlite3.Connection, upd: Any) -> None:
        key_col = self.schema[upd.sheet].key
        row = con.execute(
            f"SELECT {_q('version')} FROM {_q(upd.sheet)} WHERE {_q(key_col)} = ?", (upd.key,)
        ).fetchone()
        if row is None:
            raise RowNotFound(upd.sheet, upd.key)
        actual = int(row[0]) if str(row[0]).strip().isdigit() else None
        if upd.expected_version is not None and actual != upd.expected_version:
            raise ConflictError(upd.sheet, upd.key, upd.expected_version, actual)
        cols = self._known_columns(con, upd.sheet)
        unknown = [k for k in upd.changes if k not in cols]
        if unknown:
            raise StoreError(f"{upd.sheet} 没有这些列：{', '.join(unknown)}（请先运行 init）")
        sets = ", ".join(f"{_q(k)} = ?" for k in upd.changes)
        con.execute(
            f"UPDATE {_q(upd.sheet)} SET {sets} WHERE {_q(key_col)} = ?",
            [_text(v) for v in upd.changes.values()] + [upd.key],
        )

    def _allocate(self, con: sqlite3.Connection, changes: Changeset) -> dict[NewId, str]:
        owners: dict[int, str] = {}
        for sheet, rows in changes.appends.items():
            key_col = self.schema[sheet].key if sheet in self.schema.sheets else None
            for row in rows:
                v = row.get(key_col) if key_col else None
                if isinstance(v, NewId):
                    owners[id(v)] = sheet
        allocated: dict[NewId, str] = {}
        for nid in new_ids_in(changes):
            sheet = owners.get(id(nid), "cases")
            key_col = self.schema[sheet].key
            seq_name = f"{sheet}:{nid.prefix}"
            row = con.execute(
                f'SELECT "last_value" FROM {_q(SEQUENCES)} WHERE "prefix" = ?', (seq_name,)
            ).fetchone()
            if row is None:
                last = 0
                lo, hi = nid.prefix, nid.prefix + "\U0010ffff"
                for (v,) in con.execute(
                    f"SELECT {_q(key_col)} FROM {_q(sheet)} WHERE {_q(key_col)} >= ? "
                    f"AND {_q(key_col)} < ?",
                    (lo, hi),
                ):
                    n = id_number(v, nid.prefix)
                    if n is not None and n > last:
                        last = n
                con.execute(
                    f'INSERT INTO {_q(SEQUENCES)} ("prefix", "last_value") VALUES (?, ?)',
                    (seq_name, last),
                )
            else:
                last = int(row[0])
            while True:  # skip ids taken by imported rows
                last += 1
                candidate = nid.format(last)
                taken = con.execute(
                    f"SELECT 1 FROM {_q(sheet)} WHERE {_q(key_col)} = ?", (candidate,)
                ).fetchone()
                if not taken:
                    break
            con.execute(
                f'UPDATE {_q(SEQUENCES)} SET "last_value" = ? WHERE "prefix" = ?',
                (last, seq_name),
            )
            allocated[nid] = candidate
        return allocated

    def _insert(self, con: sqlite3.Connection, sheet: str, rows: list[dict[str, Any]]) -> None:
        cols = self._known_columns(con, sheet)
        if not cols:
            raise StoreError(f"台账中没有“{sheet}”表（请先运行 init）")
        used = [c for c in cols if any(c in r for r in rows)]
        unknown = {k for r in rows for k in r} - set(cols)
        if unknown:
            raise StoreError(f"{sheet} 没有这些列：{', '.join(sorted(unknown))}（请先运行 init）")
        sql = (
            f"INSERT INTO {_q(sheet)} ({', '.join(_q(c) for c in used)}) "
            f"VALUES ({', '.join('?' for _ in used)})"
        )
        try:
            con.executemany(sql, [[_text(r.get(c)) for c in used] for r in rows])
        except sqlite3.IntegrityError as exc:
            key = self.schema[sheet].key if sheet in self.schema.sheets else "?"
            raise StoreError(f"{sheet} 中“{key}”重复：{exc}") from exc

    def change_token(self) -> tuple[int, int] | None:
        """A value that changes whenever any connection (any process) commits.

        ``(PRAGMA data_version, commit count)`` on one long-lived connection: cheap enough to
        ask on every page run, so cached snapshots are reused until the register really
        changes. The commit count (bumped by every :meth:`commit`) lets the register tell that
        nothing but its own commit happened since it read, and patch its snapshot instead of
        reading everything again.
        """
        if not self.path.exists():
            return None
        with self._lock:
            if self._watch is None:
                self._watch = sqlite3.connect(self.path, check_same_thread=False)
            version = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
            try:
                row = self._watch.execute(
                    f'SELECT "last_value" FROM {_q(SEQUENCES)} WHERE "prefix" = ?', (COMMITS,)
                ).fetchone()
            except sqlite3.OperationalError:  # not initialised yet
                row = None
        return (version, int(row[0]) if row else 0)

    def close(self) -> None:
        """Close the change watcher; nothing else stays open between calls."""
        self._columns.clear()
        with self._lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None


class _TableRead:
    """One table read by :meth:`SQLiteStore.read`: its rowid ranges, then its values.

    Each range is one query: per column, ``group_concat`` of its values (NOT INDEXED: the
    table itself, so in rowid order), split in Python. Exact: the rowids must come back in
    ascending order, each column must split into as many values as the range has rows, and a
    column that may hold NULL (no NOT NULL constraint) must count that many non-NULL values;
    a range that fails any of these (a value holding :data:`SEP`, a NULL), or that SQLite
    cannot join (over its length limit), is read row by row instead, as a plain SELECT would.
    (A BLOB, which nothing here writes into these TEXT columns, would come back as its text.)

    The values go straight into one 2-D block (a column per row of it), as pandas keeps a
    frame of one dtype: the frame is made without copying, and copies of it stay cheap.
    """

    def __init__(self, con: sqlite3.Connection, name: str, cols: list[str]) -> None:
        self.name = name
        self.cols = cols
        info = {r[1]: r for r in con.execute(f"PRAGMA table_info({_q(name)})")}
        # columns without NOT NULL: their non-NULL values are counted too
        self.nullable = [c for c in cols if c in info and not info[c][3]]
        lo, hi, count = con.execute(
            f"SELECT min(rowid), max(rowid), count(*) FROM {_q(name)}"
        ).fetchone()
        self.ranges: list[tuple[int, int]] = []
        if count:
            k = -(-count // READ_RANGE_ROWS)
            width = -(-(hi - lo + 1) // k)
            start = lo
            while start <= hi:
                end = min(start + width - 1, hi)
                self.ranges.append((start, end))
                start = end + 1
        self.values = np.empty((len(cols) + 1, count), dtype=object)  # _row, then each column
        self.at = 0  # rows filled (ranges are taken in order)
        self.pending: list[tuple[int, int, int]] = []  # (range, first row, rows): row by row

    def joined_sql(self) -> str:
        joined = ", ".join(f"group_concat({_q(c)}, '{SEP}')" for c in self.cols)
        counts = "".join(f", count({_q(c)})" for c in self.nullable)
        return (
            f"SELECT count(*), group_concat(rowid, ','), {joined}{counts} "
            f"FROM {_q(self.name)} NOT INDEXED WHERE rowid BETWEEN ? AND ?"
        )

    def plain_sql(self) -> str:
        return (
            f"SELECT rowid, {', '.join(_q(c) for c in self.cols)} FROM {_q(self.name)} "
            "WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
        )

    def take(self, i: int, joined: tuple[Any, ...] | None, rows: list[Any] | None) -> None:
        """Range ``i``: its joined row (split here), or its rows when it could not be joined."""
        at = self.at
        if rows is not None:
            self._fill_rows(at, rows)
            self.at += len(rows)
            return
        assert joined is not None
        n = joined[0]
        self.at += n
        if n and not self._split(at, n, joined):
            self.pending.append((i, at, n))

    def _split(self, at: int, n: int, joined: tuple[Any, ...]) -> bool:
        ids = [int(x) for x in joined[1].split(",")]
        if len(ids) != n or any(a >= b for a, b in itertools.pairwise(ids)):
            return False
        end = at + n
        self.values[0, at:end] = ids
        width = len(self.cols)
        counts = dict(zip(self.nullable, joined[2 + width :], strict=True))
        for j, (col, text) in enumerate(zip(self.cols, joined[2 : 2 + width], strict=True)):
            if text is None or counts.get(col, n) != n:
                return False
            values = text.split(SEP)
            if len(values) != n:
                return False
            self.values[j + 1, at:end] = np.fromiter(values, dtype=object, count=n)
        return True

    def _fill_rows(self, at: int, rows: list[Any]) -> None:
        for j, column in enumerate(zip(*rows, strict=True)):
            self.values[j, at : at + len(rows)] = np.fromiter(column, dtype=object, count=len(rows))

    def finish(self, con: sqlite3.Connection) -> None:
        """Read the ranges that could not be split, row by row."""
        for i, at, n in self.pending:
            rows = con.execute(self.plain_sql(), self.ranges[i]).fetchall()
            if len(rows) != n:  # cannot happen within one transaction
                raise StoreError(f"{self.name} 读取不一致：{len(rows)} 行，应为 {n} 行")
            self._fill_rows(at, rows)
        if self.at != self.values.shape[1]:
            raise StoreError(
                f"{self.name} 读取不一致：{self.at} 行，应为 {self.values.shape[1]} 行"
            )

    def frame(self) -> pd.DataFrame:
        # dtype=object: pandas 3 would otherwise infer its slower string dtype
        return pd.DataFrame(self.values.T, columns=["_row", *self.cols], dtype=object, copy=False)


def _read_tables(con: sqlite3.Connection, tables: list[_TableRead]) -> None:
    """Read every range of ``tables`` on ``con``, in its open transaction.

    A helper thread runs the queries (SQLite works without the GIL) while this one splits
    the range before. The ranges that must be read row by row are read at the end, once the
    helper is done with the connection.
    """
    jobs = [(t, i) for t in tables for i in range(len(t.ranges))]
    results: queue.SimpleQueue[tuple[Any, Any, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()
    sql = {id(t): (t.joined_sql(), t.plain_sql()) for t in tables}

    def run() -> None:
        for t, i in jobs:
            if stop.is_set():
                return
            joined_sql, plain_sql = sql[id(t)]
            try:
                try:
                    results.put((con.execute(joined_sql, t.ranges[i]).fetchone(), None, None))
                except (sqlite3.DataError, sqlite3.OperationalError):
                    # e.g. longer than SQLite's length limit once joined: row by row
                    results.put((None, con.execute(plain_sql, t.ranges[i]).fetchall(), None))
            except BaseException as exc:  # raised in the reading thread
                results.put((None, None, exc))
                return

    if jobs:
        helper = threading.Thread(target=run, name="sqlite-read", daemon=True)
        helper.start()
        try:
            for t, i in jobs:
                joined, rows, exc = results.get()
                if exc is not None:
                    raise exc
                t.take(i, joined, rows)
        finally:
            stop.set()
            helper.join()
    for t in tables:
        t.finish(con)


def _text(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else str(v)


def open_sqlite(
    path: str | Path, schema: Schema | None = None, *, init: bool = True
) -> SQLiteStore:
    """Open (and by default initialise) the SQLite register at ``path``."""
    store = SQLiteStore(path, schema)
    if init:
        store.init()
    return store
