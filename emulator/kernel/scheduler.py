"""Timers and cron jobs on the one clock.

Timers (a plan's `trigger.SubProcess(x).In(3).Days`) are persisted: they survive a restart and are
part of the state. Cron jobs (nightly sync at 21:15 UTC, the 2- and 20-minute jobs) are registered
by code at start-up and computed from the clock, so they need no storage.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter

from .clock import UTC, Clock, iso, parse_instant
from .schema import AreaSchema, sql_migrations
from .store import Store, dumps

log = logging.getLogger("operate.scheduler")

MAX_RAN = 200  # jobs remembered as having run (the web clock page lists them); the rest are forgotten
TimerHandler = Callable[[dict[str, Any], datetime], None]
CronHandler = Callable[[datetime], None]


@dataclass
class CronJob:
    name: str
    expression: str
    handler: CronHandler
    next_due: datetime
    # Coalesce: when the clock jumps past several due moments, run once, at the latest of them (before the
    # next timer), as a job that catches up on everything pending does (the Clio pushes and sync). Without
    # it, every due moment runs, in order.
    coalesce: bool = False


class Scheduler:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._timer_handlers: dict[str, TimerHandler] = {}
        self._cron: dict[str, CronJob] = {}
        self._lock = threading.RLock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        # What ran, newest last: kept in memory only (a restart forgets it), bounded.
        self.ran: deque[dict[str, Any]] = deque(maxlen=MAX_RAN)
        clock.on_due = self.run_next_due

    # -- registration ---------------------------------------------------------------------------
    def on_timer(self, kind: str, handler: TimerHandler) -> None:
        self._timer_handlers[kind] = handler

    def cron(self, name: str, expression: str, handler: CronHandler, *, coalesce: bool = False) -> CronJob:
        """Run `handler` at every match of a 5-field cron expression, in UTC (`coalesce`: see CronJob)."""
        if not croniter.is_valid(expression):
            raise ValueError(f"cron job {name!r}: not a valid cron expression: {expression!r}")
        job = CronJob(name, expression, handler, self._next_cron(expression, self.clock.now()), coalesce)
        self._cron[name] = job
        return job

    @staticmethod
    def _next_cron(expression: str, after: datetime) -> datetime:
        return croniter(expression, after.astimezone(UTC)).get_next(datetime).astimezone(UTC)

    def restart_cron(self) -> None:
        """After a reset or an import the clock may have moved back: recompute every next run."""
        now = self.clock.now()
        self.ran.clear()  # what ran belongs to the state just left
        for job in self._cron.values():
            job.next_due = self._next_cron(job.expression, now)

    # -- timers ---------------------------------------------------------------------------------
    def schedule(self, tx, kind: str, due: datetime, payload: dict[str, Any]) -> str:
        """Persist a timer inside the caller's transaction; it fires once, at or after `due`."""
        if kind not in self._timer_handlers:
            raise ValueError(f"no handler for timer kind {kind!r}")
        job_id = str(uuid.uuid4())
        tx.execute("INSERT INTO jobs VALUES (?, ?, ?, ?)", (job_id, kind, iso(due), dumps(payload)))
        return job_id

    def cancel(self, tx, job_id: str) -> bool:
        return tx.execute("DELETE FROM jobs WHERE id=?", (job_id,)).rowcount > 0

    def cron_jobs(self) -> list[CronJob]:
        return sorted(self._cron.values(), key=lambda j: (j.next_due, j.name))

    def due_next(self, limit: int = 20) -> list[dict[str, Any]]:
        """The earliest `limit` jobs, timers and cron merged, without reading every timer row."""
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM jobs ORDER BY due_at, id LIMIT ?", (limit,)).fetchall()
        timers = [
            {"id": r["id"], "kind": r["kind"], "dueAt": r["due_at"], "payload": json.loads(r["payload"])} for r in rows
        ]
        crons = [
            {"id": j.name, "kind": "cron", "cron": j.expression, "dueAt": iso(j.next_due)} for j in self.cron_jobs()
        ]
        return sorted(timers + crons, key=lambda j: j["dueAt"])[:limit]

    def _remember(self, kind: str, name: str, due: datetime, ok: bool, payload: dict[str, Any] | None = None) -> None:
        self.ran.append({"kind": kind, "id": name, "dueAt": iso(due), "ok": ok, "payload": payload or {}})

    def timers_of(self, kind: str, field: str, value: str) -> list[Any]:
        """The timers of one kind whose payload's `field` is `value`, earliest first (id, due_at, payload): what
        one owner waits on (a plan execution's page lists its timers)."""
        with self.store.read() as conn:
            return conn.execute(
                "SELECT id, due_at, payload FROM jobs WHERE kind=? AND json_extract(payload, ?)=? ORDER BY due_at",
                (kind, f"$.{field}", value),
            ).fetchall()

    def cancel_timers_of(self, tx, kind: str, field: str, value: str) -> int:
        """Cancel, in the caller's transaction, the timers of one kind whose payload's `field` is `value` (what
        a cancelled plan execution waited on); returns how many."""
        return tx.execute(
            "DELETE FROM jobs WHERE kind=? AND json_extract(payload, ?)=?", (kind, f"$.{field}", value)
        ).rowcount

    def pending(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM jobs ORDER BY due_at, id").fetchall()
        timers = [
            {"id": r["id"], "kind": r["kind"], "dueAt": r["due_at"], "payload": json.loads(r["payload"])} for r in rows
        ]
        crons = [
            {"id": j.name, "kind": "cron", "cron": j.expression, "dueAt": iso(j.next_due)} for j in self._cron.values()
        ]
        return sorted(timers + crons, key=lambda j: j["dueAt"])

    # -- running --------------------------------------------------------------------------------
    def run_next_due(self, until: datetime) -> bool:
        """Run the single earliest job due at or before `until`; say whether there was one.

        Timers and cron jobs are merged in time order; on a tie a timer runs first, then cron jobs
        by name, so a run is the same every time.
        """
        with self._lock:
            with self.store.read() as conn:
                row = conn.execute(
                    "SELECT * FROM jobs WHERE due_at <= ? ORDER BY due_at, id LIMIT 1", (iso(until),)
                ).fetchone()
            timer_due = parse_instant(row["due_at"]) if row else None
            runnable = [(self._due_at(j, until, timer_due), j) for j in self._cron.values() if j.next_due <= until]
            due, cron_job = min(runnable, key=lambda p: (p[0], p[1].name), default=(None, None))
            if timer_due is None and cron_job is None:
                return False
            if timer_due is not None and (due is None or timer_due <= due):
                self._step_clock(timer_due)
                self._fire_timer(row)
            else:
                assert cron_job is not None and due is not None
                self._step_clock(due)
                cron_job.next_due = self._next_cron(cron_job.expression, due)
                try:
                    cron_job.handler(due)
                except Exception:
                    log.exception("cron job %s failed at %s", cron_job.name, iso(due))
                    self._remember("cron", cron_job.name, due, False)
                else:
                    self._remember("cron", cron_job.name, due, True)
            return True

    @staticmethod
    def _due_at(job: CronJob, until: datetime, timer_due: datetime | None) -> datetime:
        """When the job runs next in this move: its next match, or, coalescing, the latest match up to
        `until` that is still before the next timer (so timers and jobs keep their order)."""
        if not job.coalesce:
            return job.next_due
        bound = until + timedelta(seconds=1)  # get_prev is strictly before its start: include `until`
        if timer_due is not None and job.next_due < timer_due <= until:
            bound = timer_due
        latest = croniter(job.expression, bound.astimezone(UTC)).get_prev(datetime).astimezone(UTC)
        return max(latest, job.next_due)

    def run_due(self) -> int:
        """Run everything due by now (system clock: the ticker calls this; tests may too)."""
        count = 0
        while count < 100_000 and self.run_next_due(self.clock.now()):
            count += 1
        return count

    def _step_clock(self, due: datetime) -> None:
        if self.clock.is_virtual and due > self.clock.now():
            self.clock.restore(due)

    def _fire_timer(self, row) -> None:
        handler = self._timer_handlers.get(row["kind"])
        payload, due = json.loads(row["payload"]), parse_instant(row["due_at"])
        try:
            # The timer goes in the same transaction as what it does: a crash mid-way loses neither.
            with self.store.transaction() as tx:
                tx.execute("DELETE FROM jobs WHERE id=?", (row["id"],))
                if handler is None:
                    raise LookupError(f"no handler for timer kind {row['kind']!r}")
                handler(payload, due)
        except Exception:
            # A failing timer must not fire forever: drop it and say so.
            log.exception("timer %s (%s) failed and was dropped", row["id"], row["kind"])
            with self.store.transaction() as tx:
                tx.execute("DELETE FROM jobs WHERE id=?", (row["id"],))
            self._remember(row["kind"], row["id"], due, False, payload)
        else:
            self._remember(row["kind"], row["id"], due, True, payload)

    # -- system-clock ticker --------------------------------------------------------------------
    def start(self, interval: float = 0.5) -> None:
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, args=(interval,), name="operate-scheduler", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker:
            self._ticker.join(timeout=5)

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if not self.clock.is_virtual:
                try:
                    self.run_due()
                except Exception:
                    log.exception("scheduler tick failed")


# -- the area's tables: registered with the store by the composition root (emulator/core.py: SCHEMA) --------
SCHEMA = AreaSchema(
    area="scheduler",
    modules=("emulator.kernel.scheduler",),
    tables=("jobs",),
    migrations=sql_migrations(__name__),
)
