"""SQLite is the store: one file, WAL mode, one transaction per request, fast reset to a baseline."""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .snapshot_rules import broken_rule

SNAPSHOT_FORMAT = "operate-toolkit/snapshot@1"

# Each entry is one migration; the index + 1 is the schema version it brings the file to.
# Later features append entries here, never edit old ones.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE work_items (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        title TEXT NOT NULL,
        reference TEXT,
        description TEXT,
        phase TEXT NOT NULL,
        parent_id TEXT REFERENCES work_items(id),
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX work_items_parent ON work_items(parent_id);
    CREATE INDEX work_items_type ON work_items(type);
    CREATE TABLE attributes (
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        name TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (work_item_id, name)
    );
    CREATE TABLE participants (
        id TEXT PRIMARY KEY,
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        role TEXT NOT NULL,
        ods_id TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX participants_item ON participants(work_item_id);
    CREATE TABLE ods (id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE comments (
        id TEXT PRIMARY KEY,
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        comment TEXT NOT NULL,
        author TEXT,
        created TEXT NOT NULL
    );
    CREATE INDEX comments_item ON comments(work_item_id);
    CREATE TABLE events (
        number INTEGER PRIMARY KEY,
        event_type TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        sharedo_id TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX events_sharedo ON events(sharedo_id);
    CREATE TABLE dead_letters (
        event_number INTEGER NOT NULL,
        subscriber TEXT NOT NULL,
        error TEXT NOT NULL,
        failed_at TEXT NOT NULL
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        due_at TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX jobs_due ON jobs(due_at);
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        client_id TEXT NOT NULL,
        user_name TEXT,
        scope TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """,
    # 2: SmartPlan executions, their steps, step logs and the triggers plans create at run time.
    """
    CREATE TABLE plan_executions (
        id TEXT PRIMARY KEY,
        plan TEXT NOT NULL,
        plan_title TEXT NOT NULL,
        plan_type TEXT NOT NULL,
        state TEXT NOT NULL,
        start_time TEXT NOT NULL,
        end_time TEXT,
        sharedo_id TEXT,
        trigger_id TEXT,
        event_number INTEGER,
        ev TEXT NOT NULL,
        ctx TEXT NOT NULL,
        last_error TEXT
    );
    CREATE INDEX plan_executions_state ON plan_executions(state);
    -- One execution per (trigger, event): a redelivered event (at-least-once) starts nothing twice.
    CREATE UNIQUE INDEX plan_executions_once ON plan_executions(trigger_id, event_number)
        WHERE trigger_id IS NOT NULL AND event_number IS NOT NULL;
    CREATE TABLE execution_steps (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL REFERENCES plan_executions(id),
        seq INTEGER NOT NULL,
        step TEXT NOT NULL,
        state TEXT NOT NULL,
        due_at TEXT,
        started TEXT,
        ended TEXT,
        attempts INTEGER NOT NULL,
        error TEXT,
        recorded TEXT NOT NULL
    );
    CREATE INDEX execution_steps_execution ON execution_steps(execution_id, seq);
    CREATE TABLE step_logs (
        step_id TEXT NOT NULL REFERENCES execution_steps(id),
        seq INTEGER NOT NULL,
        log_time TEXT NOT NULL,
        log_level TEXT NOT NULL,
        log_message TEXT NOT NULL,
        PRIMARY KEY (step_id, seq)
    );
    CREATE TABLE runtime_triggers (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL REFERENCES plan_executions(id),
        step_id TEXT NOT NULL REFERENCES execution_steps(id),
        sharedo_id TEXT NOT NULL,
        phase TEXT NOT NULL
    );
    """,
    # 3: the linked-service proxy's audit log.
    """
    CREATE TABLE proxy_calls (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        service TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        caller TEXT NOT NULL
    );
    """,
    # 4: time entries (the public time v2 API).
    """
    CREATE TABLE time_entries (
        id TEXT PRIMARY KEY,
        sharedo_id TEXT NOT NULL REFERENCES work_items(id),
        ods_id TEXT NOT NULL,
        state TEXT NOT NULL,
        category TEXT NOT NULL,
        start_time TEXT,
        end_time TEXT,
        duration_seconds INTEGER NOT NULL,
        billing_notes TEXT,
        segments TEXT NOT NULL,
        created_by TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX time_entries_sharedo ON time_entries(sharedo_id);
    """,
    # 5: a step's host calls as rows, one per call: recording call k writes one row, not the whole list.
    """
    CREATE TABLE step_calls (
        step_id TEXT NOT NULL REFERENCES execution_steps(id),
        idx INTEGER NOT NULL,
        request TEXT NOT NULL,
        response TEXT NOT NULL,
        refetch INTEGER NOT NULL,
        PRIMARY KEY (step_id, idx)
    );
    INSERT INTO step_calls
        SELECT s.id, CAST(c.key AS INTEGER), json_extract(c.value, '$.request'), json_extract(c.value, '$.response'),
               COALESCE(json_extract(c.value, '$.refetch'), 0)
        FROM execution_steps s, json_each(s.recorded) c;
    CREATE TABLE execution_steps_new (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL REFERENCES plan_executions(id),
        seq INTEGER NOT NULL,
        step TEXT NOT NULL,
        state TEXT NOT NULL,
        due_at TEXT,
        started TEXT,
        ended TEXT,
        attempts INTEGER NOT NULL,
        error TEXT
    );
    INSERT INTO execution_steps_new SELECT id, execution_id, seq, step, state, due_at, started, ended, attempts, error
        FROM execution_steps;
    DROP TABLE execution_steps;
    ALTER TABLE execution_steps_new RENAME TO execution_steps;
    CREATE INDEX execution_steps_execution ON execution_steps(execution_id, seq);
    """,
    # 6: related documents: one row per document; the bytes are files named by sha256 under <data-dir>/documents/.
    """
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        work_item_id TEXT NOT NULL REFERENCES work_items(id),
        folder TEXT NOT NULL,
        file_name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_by TEXT,
        created TEXT NOT NULL
    );
    CREATE UNIQUE INDEX documents_path ON documents(work_item_id, folder COLLATE NOCASE, file_name COLLATE NOCASE);
    CREATE INDEX documents_sha256 ON documents(sha256);
    """,
    # 7: mail (the outbox) and integrations with a practice management system (Clio Manage first).
    """
    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        kind TEXT NOT NULL,
        sender TEXT NOT NULL,
        recipients TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        work_item_id TEXT,
        delivery TEXT NOT NULL,
        delivery_error TEXT,
        delivered TEXT
    );
    CREATE INDEX outbox_created ON outbox(created, id);
    CREATE TABLE outbox_attachments (
        id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES outbox(id),
        file_name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        content TEXT NOT NULL
    );
    CREATE INDEX outbox_attachments_message ON outbox_attachments(message_id);
    CREATE TABLE integrations (
        provider TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        region TEXT,
        remote_user TEXT,
        remote_user_email TEXT,
        firm TEXT,
        connected_at TEXT,
        connected_by TEXT,
        message TEXT,
        nightly INTEGER NOT NULL DEFAULT 0,
        first_sync_at TEXT,
        last_sync_at TEXT
    );
    CREATE TABLE integration_secrets (
        provider TEXT PRIMARY KEY,
        access_token TEXT NOT NULL,
        refresh_token TEXT NOT NULL,
        expires_at TEXT
    );
    CREATE TABLE integration_oauth_states (
        state TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        user_id TEXT,
        return_to TEXT,
        created TEXT NOT NULL
    );
    CREATE TABLE clio_practice_areas (clio_name TEXT PRIMARY KEY, work_type TEXT NOT NULL);
    CREATE TABLE clio_stages (clio_name TEXT PRIMARY KEY, phase TEXT NOT NULL);
    CREATE TABLE clio_matters (
        clio_id INTEGER PRIMARY KEY,
        work_item_id TEXT NOT NULL UNIQUE REFERENCES work_items(id),
        display_number TEXT,
        etag TEXT,
        stage TEXT,
        synced TEXT NOT NULL
    );
    CREATE TABLE clio_sync_runs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        triggered_by TEXT,
        started TEXT NOT NULL,
        finished TEXT,
        window_from TEXT,
        first INTEGER NOT NULL,
        last_clio_id INTEGER,
        error TEXT
    );
    CREATE TABLE clio_sync_results (
        run_id TEXT NOT NULL REFERENCES clio_sync_runs(id),
        clio_id INTEGER NOT NULL,
        display_number TEXT,
        result TEXT NOT NULL,
        reason TEXT,
        work_item_id TEXT,
        at TEXT NOT NULL,
        PRIMARY KEY (run_id, clio_id)
    );
    CREATE TABLE clio_pushes (
        kind TEXT NOT NULL,
        source_id TEXT NOT NULL,
        clio_matter_id INTEGER NOT NULL,
        clio_id INTEGER,
        step TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        updated TEXT NOT NULL,
        PRIMARY KEY (kind, source_id)
    );
    """,
    # 8: an ODS record found by its externalReference (a PMS's own id for it: the Clio client) without a scan.
    """
    CREATE INDEX ods_external_reference ON ods(json_extract(body, '$.externalReference'));
    """,
    # 9: the global features the mobile app uses, per user: bookmarks, notifications (their settings and the
    # web push subscriptions the app registers). Users are ODS people (user_id is the person's id).
    """
    CREATE TABLE bookmarks (
        user_id TEXT NOT NULL,
        work_item_id TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (user_id, work_item_id)
    );
    CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        type TEXT NOT NULL,
        title TEXT NOT NULL,
        message TEXT NOT NULL,
        sharedo_id TEXT,
        priority TEXT NOT NULL,
        created TEXT NOT NULL,
        dismissed INTEGER NOT NULL DEFAULT 0,
        event_number INTEGER,
        UNIQUE (user_id, event_number)
    );
    CREATE INDEX notifications_by_user ON notifications(user_id, created);
    CREATE TABLE notification_settings (
        user_id TEXT NOT NULL,
        type TEXT NOT NULL,
        channel TEXT NOT NULL,
        frequency INTEGER NOT NULL,
        PRIMARY KEY (user_id, type, channel)
    );
    CREATE TABLE web_push_subscriptions (
        user_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        p256dh TEXT NOT NULL,
        auth TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (user_id, endpoint)
    );
    """,
    # 10: a page of findByQuery costs about the same at 100 and 100,000 work items (emulator/query.py, the SQL
    # path): counted from the number of work items per (type, phase), which triggers keep (derived, so not in
    # snapshots), and cut from the sort order's index.
    """
    CREATE TABLE work_item_counts (
        type TEXT NOT NULL, phase TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (type, phase)
    ) WITHOUT ROWID;
    INSERT INTO work_item_counts SELECT type, phase, COUNT(*) FROM work_items GROUP BY type, phase;
    CREATE TRIGGER work_items_counted AFTER INSERT ON work_items BEGIN
        INSERT INTO work_item_counts VALUES (NEW.type, NEW.phase, 1)
            ON CONFLICT (type, phase) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER work_items_uncounted AFTER DELETE ON work_items BEGIN
        UPDATE work_item_counts SET n = n - 1 WHERE type = OLD.type AND phase = OLD.phase;
    END;
    CREATE TRIGGER work_items_recounted AFTER UPDATE OF type, phase ON work_items BEGIN
        UPDATE work_item_counts SET n = n - 1 WHERE type = OLD.type AND phase = OLD.phase;
        INSERT INTO work_item_counts VALUES (NEW.type, NEW.phase, 1)
            ON CONFLICT (type, phase) DO UPDATE SET n = n + 1;
    END;
    CREATE INDEX work_items_lower_id ON work_items(lower(id));
    CREATE INDEX work_items_type_phase ON work_items(type, phase);
    CREATE INDEX work_items_created ON work_items(created, id);
    CREATE INDEX work_items_updated ON work_items(updated, id);
    CREATE INDEX work_items_title ON work_items(title, id);
    CREATE INDEX work_items_reference ON work_items(COALESCE(reference, ''), id);
    """,
]

# Tokens are sessions, not tenant state: they survive a reset and never go into an export. The same for
# an integration's OAuth tokens (and the `state`s of connects under way): a snapshot is shared, a grant is not.
UNSNAPSHOTTED = {"tokens", "integration_secrets", "integration_oauth_states", "work_item_counts"}


class Store:
    """One connection guarded by one re-entrant lock: the emulator serves one person or one test."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        self.path = Path(path)
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
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"{self.path} was written by a newer operate-toolkit (schema {version}, "
                    f"this one knows {len(MIGRATIONS)}); use a new --data-dir"
                )
            # A migration that rebuilds a table drops and renames it: foreign keys are checked after, not during.
            self._conn.execute("PRAGMA foreign_keys=OFF")
            try:
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
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
        return [t for t in self.tables if t not in UNSNAPSHOTTED]

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
        if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(f"not a snapshot: expected an object with format {SNAPSHOT_FORMAT!r}")
        version = snapshot.get("schemaVersion")
        if version != len(MIGRATIONS):
            raise SnapshotError(f"snapshot schemaVersion {version!r} does not match this emulator's {len(MIGRATIONS)}")
        tables = snapshot.get("tables")
        if not isinstance(tables, dict):
            raise SnapshotError("snapshot.tables must be an object of tables")
        known = set(self.snapshot_tables())
        result: dict[str, list[tuple]] = {}
        with self.read() as conn:
            for name, table in tables.items():
                if name not in known:
                    raise SnapshotError(f"snapshot.tables.{name}: unknown table")
                info = conn.execute(f"PRAGMA table_info({name})").fetchall()
                columns = [r[1] for r in info]
                required = {r[0] for r in info if r[3] or r[5]}  # NOT NULL, or part of the primary key
                declared = [str(r[2]).upper() for r in info]
                key = [r[0] for r in sorted(info, key=lambda r: r[5]) if r[5]]
                if not isinstance(table, dict) or table.get("columns") != columns:
                    raise SnapshotError(f"snapshot.tables.{name}.columns must be {columns}")
                rows = table.get("rows")
                if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) != len(columns) for r in rows):
                    raise SnapshotError(f"snapshot.tables.{name}.rows must be lists of {len(columns)} values")
                seen: dict[tuple, int] = {}
                for i, row in enumerate(rows):
                    for j, value in enumerate(row):
                        where = f"snapshot.tables.{name}.rows[{i}][{j}] ({columns[j]})"
                        problem = _cell_problem(value, j in required, declared[j])
                        if problem:
                            raise SnapshotError(f"{where}: {problem}")
                    if key:
                        ident = tuple(row[j] for j in key)
                        if ident in seen:
                            raise SnapshotError(
                                f"snapshot.tables.{name}.rows[{i}]: the same {'/'.join(columns[j] for j in key)} "
                                f"{ident[0] if len(ident) == 1 else ident!r} as rows[{seen[ident]}]"
                            )
                        seen[ident] = i
                result[name] = [tuple(r) for r in rows]
        problem = broken_rule(snapshot)
        if problem:
            raise SnapshotError(f"snapshot breaks a rule: {problem}")
        return result

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class SnapshotError(ValueError):
    pass


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
