"""SQLite is the store: one file, WAL mode, one transaction per request, fast reset to a baseline."""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .schema import AreaSchema, Schema, sql_migrations
from .snapshot_rules import broken_rule

SNAPSHOT_FORMAT = "operate-toolkit/snapshot@1"

# The store's own tables. Every other table is an area's: each area registers its tables and migrations
# (an AreaSchema named SCHEMA in its module), and the composition root (emulator/core.py) hands them, as one
# Schema, to the Store, which only applies them.
SCHEMA = AreaSchema(
    area="the store",
    modules=("emulator.kernel.store",),
    tables=("meta", "counters"),
    migrations=sql_migrations(__name__),
)


class Store:
    """One connection guarded by one re-entrant lock: the emulator serves one person or one test.

    `schema`: every area's tables and migrations (emulator/core.py: SCHEMA); the store knows none of them."""

    def __init__(self, path: str | Path, schema: Schema, *, synchronous: str = "NORMAL") -> None:
        self.path = Path(path)
        self.schema = schema
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={synchronous}")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()
        self._local = threading.local()
        self._after_commit: list[Callable[[], None]] = []
        self._baseline: dict[str, list[tuple]] | None = None
        self.migrate()

    # -- schema ---------------------------------------------------------------------------------
    def migrate(self) -> None:
        with self._lock:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > self.schema.version:
                raise RuntimeError(
                    f"{self.path} was written by a newer operate-toolkit (schema {version}, "
                    f"this one knows {self.schema.version}); use a new --data-dir"
                )
            # A migration that rebuilds a table drops and renames it: foreign keys are checked after, not during.
            self._conn.execute("PRAGMA foreign_keys=OFF")
            try:
                for number, script in enumerate(self.schema.migrations[version:], start=version + 1):
                    self._conn.executescript(f"BEGIN;{script};PRAGMA user_version={number};")
                    problem = self._conn.execute("PRAGMA foreign_key_check").fetchone()
                    if problem is not None:
                        self._conn.execute("ROLLBACK")
                        raise RuntimeError(f"{self.path}: migration {number} would leave {problem[0]} pointing nowhere")
                    self._conn.execute("COMMIT")
            finally:
                self._conn.execute("PRAGMA foreign_keys=ON")

    @property
    def tables(self) -> list[str]:
        rows = self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        return [r[0] for r in rows]

    def snapshot_tables(self) -> list[str]:
        return [t for t in self.tables if t not in self.schema.unsnapshotted]

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: a request's changes and the events it raises commit together.

        Nested calls join the outer transaction. Callbacks queued with `after_commit` run once the
        outermost transaction has committed (that is where event dispatch starts).
        """
        with self._lock:
            depth = getattr(self._local, "depth", 0)
            if depth == 0:
                self._conn.execute("BEGIN IMMEDIATE")
            self._local.depth = depth + 1
            try:
                yield self._conn
            except BaseException:
                self._local.depth = depth
                if depth == 0:
                    self._conn.execute("ROLLBACK")
                    self._local.pending = []
                raise
            self._local.depth = depth
            if depth == 0:
                self._conn.execute("COMMIT")
        if depth == 0:
            self._run_after_commit()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def row(self, sql: str, args: Sequence[Any] = (), conn: sqlite3.Connection | None = None) -> sqlite3.Row | None:
        """The first row of one query: on `conn` when the caller holds a transaction, else in a read of its own
        (the areas' one-row reads are this, not a `with read()` block each)."""
        if conn is not None:
            return conn.execute(sql, args).fetchone()
        with self.read() as own:
            return own.execute(sql, args).fetchone()

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Every row of one query, in a read of its own (the areas' short list reads)."""
        with self.read() as conn:
            return conn.execute(sql, args).fetchall()

    def after_this_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once, after the transaction now open on this thread commits (never on rollback)."""
        if getattr(self._local, "depth", 0) == 0:
            callback()
            return
        self._local.__dict__.setdefault("pending", []).append(callback)

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Register a callback that runs after every outermost commit (the dispatcher's wake-up)."""
        self._after_commit.append(callback)

    def _run_after_commit(self) -> None:
        """Every callback runs even when one raises (the dispatcher's wake-up is among them); the first
        error is raised after the last callback."""
        pending, self._local.pending = getattr(self._local, "pending", []), []
        first: BaseException | None = None
        for callback in [*pending, *self._after_commit]:
            try:
                callback()
            except Exception as exc:
                first = first or exc
        if first is not None:
            raise first

    # -- small helpers --------------------------------------------------------------------------
    def next_counter(self, tx: sqlite3.Connection, name: str) -> int:
        row = tx.execute(
            "INSERT INTO counters(name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, tx: sqlite3.Connection, key: str, value: str) -> None:
        tx.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def is_empty(self) -> bool:
        with self.read() as conn:
            return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM meta WHERE key='loaded')").fetchone()[0] == 1

    # -- baseline, reset, export, import --------------------------------------------------------
    def capture_baseline(self) -> None:
        """Remember the state as loaded, so `reset()` can put it back in milliseconds."""
        with self.read() as conn:
            self._baseline = {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t}")] for t in self.snapshot_tables()}

    def reset(self) -> None:
        if self._baseline is None:
            raise RuntimeError("no baseline captured: load a solution first")
        with self.transaction() as tx:
            self._replace_all(tx, self._baseline)

    def _replace_all(self, tx: sqlite3.Connection, rows_by_table: dict[str, list[tuple]]) -> None:
        tx.execute("PRAGMA defer_foreign_keys=ON")
        for table in self.snapshot_tables():
            tx.execute(f"DELETE FROM {table}")
        for table, rows in rows_by_table.items():
            if rows:
                marks = ",".join("?" * len(rows[0]))
                tx.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    def export(self) -> dict[str, Any]:
        with self.read() as conn:
            tables: dict[str, Any] = {}
            for t in self.snapshot_tables():
                cursor = conn.execute(f"SELECT * FROM {t}")
                columns = [d[0] for d in cursor.description]
                tables[t] = {"columns": columns, "rows": [list(r) for r in cursor]}
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        return {"format": SNAPSHOT_FORMAT, "schemaVersion": version, "tables": tables}

    def import_snapshot(self, snapshot: Any) -> None:
        """Replace the whole state with a snapshot from `export()`; refuses anything it can't fully use."""
        rows_by_table = self.validate_snapshot(snapshot)
        with self.transaction() as tx:
            try:
                self._replace_all(tx, rows_by_table)
            except sqlite3.IntegrityError as exc:  # a unique index beyond the primary keys checked above
                raise SnapshotError(f"snapshot is inconsistent: {exc}") from None
            problems = tx.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise SnapshotError(
                    f"snapshot is inconsistent: table {problems[0][0]} row {problems[0][1]} "
                    f"points at a missing row in {problems[0][2]}"
                )

    def validate_snapshot(self, snapshot: Any) -> dict[str, list[tuple]]:
        """The snapshot's rows by table, as this file's tables hold them, once they fit and keep the rules.

        A snapshot an earlier schema version exported is read as that version's tables, then carried through
        the later migrations (`_brought_forward`): the same scripts a data dir of that version runs."""
        if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(f"not a snapshot: expected an object with format {SNAPSHOT_FORMAT!r}")
        version = snapshot.get("schemaVersion")
        earlier = isinstance(version, int) and not isinstance(version, bool) and 1 <= version < self.schema.version
        if version != self.schema.version and not earlier:
            raise SnapshotError(
                f"snapshot schemaVersion {version!r} does not match this emulator's {self.schema.version} "
                f"(it reads 1 to {self.schema.version})"
            )
        tables = snapshot.get("tables")
        if not isinstance(tables, dict):
            raise SnapshotError("snapshot.tables must be an object of tables")
        if earlier:
            snapshot = {**snapshot, "tables": self._brought_forward(version, tables)}
            tables = snapshot["tables"]
        with self.read() as conn:
            result = _fitted(conn, tables, set(self.snapshot_tables()))
        problem = broken_rule(snapshot)
        if problem:
            raise SnapshotError(f"snapshot breaks a rule: {problem}")
        return result

    def _brought_forward(self, version: int, tables: dict[str, Any]) -> dict[str, Any]:
        """An earlier version's tables as this version's: checked against the tables that version had, loaded
        into a scratch database of that version and migrated there (old data dirs and old snapshots take one
        path, so a migration that moves data moves it in both)."""
        scratch = sqlite3.connect(":memory:")
        try:
            for script in self.schema.migrations[:version]:
                scratch.executescript(script)
            had = {r[0] for r in scratch.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            for name, rows in _fitted(scratch, tables, had - self.schema.unsnapshotted).items():
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    try:
                        scratch.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
                    except sqlite3.IntegrityError as exc:
                        raise SnapshotError(f"snapshot is inconsistent: {exc}") from None
            for script in self.schema.migrations[version:]:
                scratch.executescript(script)
            carried: dict[str, Any] = {}
            for name in self.snapshot_tables():
                cursor = scratch.execute(f"SELECT * FROM {name}")
                carried[name] = {"columns": [d[0] for d in cursor.description], "rows": [list(r) for r in cursor]}
            return carried
        finally:
            scratch.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class SnapshotError(ValueError):
    pass


def _fitted(conn: sqlite3.Connection, tables: dict[str, Any], known: set[str]) -> dict[str, list[tuple]]:
    """Each of a snapshot's tables as rows that fit the table of that name on `conn`, which must be `known`."""
    result: dict[str, list[tuple]] = {}
    for name, table in tables.items():
        if name not in known:
            raise SnapshotError(f"snapshot.tables.{name}: unknown table")
        result[name] = _table_rows(conn, name, table)
    return result


def _table_rows(conn: sqlite3.Connection, name: str, table: Any) -> list[tuple]:
    """One snapshot table's rows, once they fit the table as this file declares it: its columns in order,
    each cell storable (and present where required), no primary key twice; else the first problem, named."""
    info = conn.execute(f"PRAGMA table_info({name})").fetchall()
    columns = [r[1] for r in info]
    required = {r[0] for r in info if r[3] or r[5]}  # NOT NULL, or part of the primary key
    declared = [str(r[2]).upper() for r in info]
    key = [r[0] for r in sorted(info, key=lambda r: r[5]) if r[5]]
    rows = _listed_rows(name, table, columns)
    seen: dict[tuple, int] = {}
    for i, row in enumerate(rows):  # row by row: the first problem is the one reported, as it comes
        _check_cells(name, i, row, columns, required, declared)
        if key:
            _check_key(name, i, row, columns, key, seen)
    return [tuple(r) for r in rows]


def _listed_rows(name: str, table: Any, columns: list[str]) -> list[list[Any]]:
    """The table's rows, once it names this file's columns in order and each row has a value for each."""
    if not isinstance(table, dict) or table.get("columns") != columns:
        raise SnapshotError(f"snapshot.tables.{name}.columns must be {columns}")
    rows = table.get("rows")
    if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) != len(columns) for r in rows):
        raise SnapshotError(f"snapshot.tables.{name}.rows must be lists of {len(columns)} values")
    return rows


def _check_key(name: str, i: int, row: list[Any], columns: list[str], key: list[int], seen: dict[tuple, int]) -> None:
    """Row i's primary key is not one an earlier row has (`seen`: key -> row, kept up to date)."""
    ident = tuple(row[j] for j in key)
    if ident in seen:
        raise SnapshotError(
            f"snapshot.tables.{name}.rows[{i}]: the same {'/'.join(columns[j] for j in key)} "
            f"{ident[0] if len(ident) == 1 else ident!r} as rows[{seen[ident]}]"
        )
    seen[ident] = i


def _check_cells(
    name: str, i: int, row: list[Any], columns: list[str], required: set[int], declared: list[str]
) -> None:
    """Each cell of row i storable in its column (and present where required)."""
    for j, value in enumerate(row):
        problem = _cell_problem(value, j in required, declared[j])
        if problem:
            raise SnapshotError(f"snapshot.tables.{name}.rows[{i}][{j}] ({columns[j]}): {problem}")


def _cell_problem(value: Any, required: bool, declared: str = "") -> str | None:
    """What SQLite could not store (or the schema refuses) in one snapshot cell; None when it fits.
    A column declared INTEGER or REAL holds numbers (SQLite would keep text there as text, and the
    emulator would then compute with it)."""
    if value is None:
        return "required, got null" if required else None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return "expected a string, number or null"
    if declared == "INTEGER" and not isinstance(value, int):
        return f"expected a whole number, not {str(value)[:60]!r}"
    if declared == "REAL" and not isinstance(value, (int, float)):
        return f"expected a number, not {str(value)[:60]!r}"
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return "a whole number outside what SQLite stores (64 bits)"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN and infinities are not numbers SQLite stores"
    return None


def dumps(value: Any) -> str:
    """JSON text as the store keeps it: compact, UTF-8 as it is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def dumps_ascii(value: Any) -> str:
    """The same for what comes out of V8: ASCII escapes keep even half a surrogate pair storable and exact."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
