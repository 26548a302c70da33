"""The emulator's parts wired together; the Flask app and the CLI both sit on one of these."""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from smartplans import schema as plans_schema
from smartplans.executions import TIMER_KIND, HostCalls, SmartPlans  # the parts this root composes
from widgets.manifests import ide_roots

from . import (
    bookmarks,
    documents,
    identity_schema,
    linked_services,
    notifications,
    ods,
    outbox,
    timeentries,
    workitems_schema,
)
from .bookmarks import Bookmarks
from .documents import Documents
from .features import FeatureError, FeatureSwitches
from .finance import Finance, check_thresholds
from .hosts import AllowedHostsError, parse_allowed_hosts
from .identity import Identity
from .integrations.clio import schema as clio_schema
from .integrations.clio.integration import ClioIntegration
from .integrations.clio.settings import ClioSettingsError, parse_clio
from .integrations.demo_pms import DeliveryConfigError, DemoPmsDeliveries
from .integrations.pms_parts import PMS_PARTS
from .kernel import events, scheduler, store
from .kernel.clock import LATEST, Clock, iso, parse_instant
from .kernel.datadir import DataDirLock
from .kernel.errors import ApiError
from .kernel.events import EventDispatcher, EventStream, load_event_types
from .kernel.scheduler import Scheduler
from .kernel.schema import Schema
from .kernel.store import SnapshotError, Store
from .linked_services import LinkedServiceError, LinkedServices, ProxyLog, parse_services
from .notifications import Notifications
from .ods import Ods
from .outbox import MailConfigError, Outbox, parse_mail
from .query import Queries
from .settings import Settings
from .solution.loading import Solution, SolutionError, demo_solution_path, empty_solution, load_solution
from .timeentries import TimeEntries
from .workitems import WorkItems

CLOCK_KEY = "clock.virtualNow"

# Every area's tables and migrations, handed to the Store. The order is the order in which the areas' parts of
# one migration number run: append new areas at the end, never reorder (emulator/kernel/schema.py).
SCHEMA = Schema(
    [
        store.SCHEMA,
        workitems_schema.SCHEMA,
        ods.SCHEMA,
        events.SCHEMA,
        scheduler.SCHEMA,
        identity_schema.SCHEMA,
        plans_schema.SCHEMA,
        linked_services.SCHEMA,
        timeentries.SCHEMA,
        documents.SCHEMA,
        outbox.SCHEMA,
        clio_schema.SCHEMA,
        bookmarks.SCHEMA,
        notifications.SCHEMA,
    ]
)

SWITCH_INTERVAL_S = 0.001  # serve mode's GIL switch interval (see start_background)


def _solution_for(settings: Settings) -> Solution:
    if settings.demo:
        return load_solution(demo_solution_path())
    if settings.solution is not None:
        return load_solution(settings.solution)
    return empty_solution()


class _SeedStream(EventStream):
    """The seed is the starting state: what the rules do while it loads (a fee alert's note and `feeAlert`)
    is state, and the event stream starts empty, as seeded work items raise no `sharedo-created`."""

    def append(self, tx: Any, event_type: str, data: dict[str, Any]) -> int:
        if event_type not in self.event_types:
            raise ValueError(f"unknown business event {event_type!r}")
        return 0


class Emulator:
    """Store, clock, events, scheduler, identity and the work-item model for one solution."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.solution = _solution_for(settings)
        self.lock = DataDirLock(settings.data_dir)  # before anything reads or deletes the state
        self.lock.acquire(settings.command)
        try:
            self._build(settings)
        except BaseException:  # a solution that does not load leaves the data dir free again
            if getattr(self, "store", None) is not None:
                self.store.close()
            self.lock.release()
            raise

    def _build(self, settings: Settings) -> None:
        db = settings.data_dir / "operate.db"
        if settings.fresh and settings.data_dir.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        self.store = Store(db, SCHEMA, synchronous=settings.synchronous)
        self.clock = Clock(settings.clock, settings.clock_start)
        self.event_types = load_event_types()
        self.stream = EventStream(self.store, self.clock, self.event_types)
        self.dispatcher = EventDispatcher(self.stream, inline=settings.inline_dispatch)
        self.scheduler = Scheduler(self.store, self.clock)
        self.identity = Identity(self.store, self.clock, self.solution.config.get("clients", {}), self.solution.people)
        try:  # the Host names the app answers to besides loopback (emulator/hosts.py)
            self.allowed_hosts = parse_allowed_hosts(self.solution.config)
        except AllowedHostsError as exc:
            raise SolutionError(str(exc)) from None
        self.ods = Ods(self.store, self.stream)
        self.workitems = WorkItems(self.store, self.clock, self.stream, self.solution, self.ods)
        self.queries = Queries(self.workitems)
        self.time = TimeEntries(self.store, self.clock, self.stream, self.workitems, self.ods)
        self.documents = Documents(self.store, self.clock, self.stream, self.workitems, settings.data_dir / "documents")
        try:
            self.features = FeatureSwitches(self.solution.config.get("features"))
        except FeatureError as exc:
            raise SolutionError(str(exc)) from None
        self.bookmarks = Bookmarks(self.store, self.clock, self.workitems)
        self.notifications = Notifications(
            self.store,
            self.clock,
            self.workitems,
            users=lambda: self.identity.users,
            enabled=lambda: self.features.enabled("Notifications"),
        )
        try:
            thresholds = check_thresholds(self.solution.config.get("finance", {}).get("fee_alert_thresholds"))
        except ValueError as exc:
            raise SolutionError(str(exc)) from None
        self.finance = Finance(self.store, self.clock, self.stream, self.workitems, thresholds)
        try:
            self.linked_services = LinkedServices(
                parse_services(self.solution.config, PMS_PARTS.adapter_names),
                pms=PMS_PARTS,
                clock=self.clock,
                root=self.solution.root,
            )
        except LinkedServiceError as exc:
            raise SolutionError(str(exc)) from None
        self.linked_services.mount_fakes(self.clock)
        self.proxy_log = ProxyLog(self.store, self.clock)
        try:
            mail = parse_mail(self.solution.config)
        except MailConfigError as exc:
            raise SolutionError(str(exc)) from None
        self.outbox = Outbox(self.store, self.clock, mail)
        try:
            clio_settings = parse_clio(self.solution.config)
        except ClioSettingsError as exc:
            raise SolutionError(str(exc)) from None
        self.clio: ClioIntegration | None = None
        if clio_settings is not None:
            shared = self.linked_services.fakes.get(clio_settings.linked_service or "")
            self.clio = ClioIntegration(
                clio_settings,
                store=self.store,
                clock=self.clock,
                workitems=self.workitems,
                documents=self.documents,
                outbox=self.outbox,
                fake_backend=shared if clio_settings.fake else None,
            )
            self.clio.link(self.linked_services)
            self.clio.schedule(self.scheduler)
        try:  # the demo PMS's worker that tells Operate what happened in the PMS (PMS -> Operate rows)
            self.pms_deliveries = DemoPmsDeliveries(
                self.solution.config, self.linked_services, self.scheduler, self.identity.clients
            )
        except DeliveryConfigError as exc:
            raise SolutionError(str(exc)) from None
        # `/_ideFiles/`: the solution's `_IDE/` laid over the built-in widgets (the solution wins).
        self.ide_roots: list[Path] = [root for root, _ in ide_roots(self.solution.ide_root)]
        self._load()
        self.documents.sweep()  # files no row names: left by --fresh, or by a crash mid-upload
        self.smartplans = SmartPlans(
            store=self.store,
            clock=self.clock,
            solution=self.solution,
            event_types=self.event_types,
            scheduler=self.scheduler,
            workitems=self.workitems,
            host_calls=HostCalls(),  # attached to the app in attach(): the app is built after the engine
            coverage=settings.coverage,
        )
        self.dispatcher.subscribe("smartplans", self.smartplans.on_event)
        self.dispatcher.subscribe("notifications", self.notifications.on_event)
        self.scheduler.on_timer(TIMER_KIND, self.smartplans.on_timer)
        if self.clock.is_virtual:
            self.clock.on_change = self._persist_clock

    # -- state ----------------------------------------------------------------------------------
    def _load(self) -> None:
        """Seed once into a scratch store to get the baseline; a new data dir starts from it."""
        scratch = Store(":memory:", SCHEMA)
        try:
            scratch_stream = _SeedStream(scratch, self.clock, self.event_types)
            scratch_items = WorkItems(scratch, self.clock, scratch_stream, self.solution, Ods(scratch))
            with scratch.transaction() as tx:
                scratch_items.ods.seed(tx, self.solution.people, self.solution.organisations)
                scratch.set_meta(tx, "loaded", self.solution.name)
                if self.clock.is_virtual:
                    scratch.set_meta(tx, CLOCK_KEY, iso(self.clock.now()))
            try:
                scratch_items.seed(self.solution.seed)
            except ApiError as exc:
                raise SolutionError(f"{self.solution.root / 'seed' / 'workitems.json'}: {exc.title}") from None
            # seeded fee figures past a threshold carry their alert (note, feeAlert) in the starting state
            Finance(scratch, self.clock, scratch_stream, scratch_items, self.finance.thresholds).sweep()
            scratch.capture_baseline()
            baseline = scratch._baseline
        finally:
            scratch.close()
        self.store._baseline = baseline
        if self.store.is_empty():
            self.store.reset()
        else:
            if self.clock.is_virtual:
                saved = self.store.get_meta(CLOCK_KEY)
                if saved and self.settings.clock_start is None:
                    self.clock.restore(parse_instant(saved))
                elif saved:  # started earlier than the last run left off: what had expired there stays expired
                    self.clock.left_behind(parse_instant(saved))
            self.finance.sweep()  # a restart raises no alert twice (feeAlert is stored with the figures)
        self.scheduler.restart_cron()

    def _persist_clock(self, now: datetime) -> None:
        with self.store.transaction() as tx:
            self.store.set_meta(tx, CLOCK_KEY, iso(now))

    def reset(self) -> None:
        """Back to the solution's seed: state, events, timers and (virtual) clock."""
        with self.dispatcher.paused(), self.smartplans.queue.paused():
            self._reset()

    def _reset(self) -> None:
        self.store.reset()
        self.documents.sweep()
        if self.clock.is_virtual:
            saved = self.store.get_meta(CLOCK_KEY)
            if saved:
                self.clock.restore(parse_instant(saved))
        self.scheduler.restart_cron()

    def export(self) -> dict[str, Any]:
        with self.store.read():  # the rows and the files they name, at one moment
            snapshot = self.store.export()
            snapshot["documents"] = self.documents.export_files(snapshot)
        snapshot["solution"] = self.solution.name
        snapshot["clock"] = {"mode": self.clock.mode, "now": iso(self.clock.now())}
        return snapshot

    def import_snapshot(self, snapshot: Any) -> None:
        self._check_snapshot_clock(snapshot)
        files = self.documents.check_snapshot(snapshot, self.store.validate_snapshot(snapshot).get("documents", []))
        with self.dispatcher.paused(), self.smartplans.queue.paused():
            self.documents.restore_files(files)
            try:
                self.store.import_snapshot(snapshot)
            finally:
                self.documents.sweep()  # imported: the old files go; refused: the new ones do
            self.finance.sweep()  # a snapshot's figures past a threshold it has not alerted for alert now
            if self.clock.is_virtual:
                saved = self.store.get_meta(CLOCK_KEY)
                if saved:
                    self.clock.restore(parse_instant(saved))
            self.scheduler.restart_cron()
        if self.dispatcher.inline:
            self.dispatcher.drain()

    def _check_snapshot_clock(self, snapshot: Any) -> None:
        """Refuse a saved virtual time the clock cannot take before anything is replaced."""
        rows = self.store.validate_snapshot(snapshot).get("meta", [])
        saved = next((value for key, value, *_ in rows if key == CLOCK_KEY), None)
        if saved is None:
            return
        where = f"snapshot.tables.meta: {CLOCK_KEY}"
        try:
            moment = parse_instant(saved)
        except ValueError as exc:
            raise SnapshotError(f"{where}: {exc}") from None
        if moment >= LATEST:
            raise SnapshotError(f"{where}: the virtual clock stays before {iso(LATEST)}")

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self, app: Any, resume: bool = True) -> None:
        """Give plans their `sharedo.http` (the app itself, in process) and finish interrupted work."""
        from smartplans.in_process_http import InProcessHost

        self.host = InProcessHost(app, self.identity, self._idempotency_header)
        self.smartplans.host_calls.attach(self.host)
        self.pms_deliveries.connect(app)
        if resume and self.dispatcher.inline:
            self.dispatcher.drain()
            self.smartplans.resume()

    def _idempotency_header(self, service: str) -> str | None:
        found = self.linked_services.services.get(service)
        return found.idempotency_header if found is not None else None

    def start_background(self) -> None:
        """Serve mode: a worker drains events, a ticker runs due jobs on a system clock."""
        # Each crossing into V8 hands the GIL back and forth between threads; beside busy request threads
        # (a PMS's answers coming in) each handoff waited the default 5 ms switch interval, and a 0.5 ms
        # step took 15-35 ms. A short interval keeps plans' turns cheap under load (benchmarks load).
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self.smartplans.start_worker()
        self.dispatcher.start()
        self.scheduler.start()
        threading.Thread(target=self.smartplans.resume, name="operate-resume", daemon=True).start()

    def close(self) -> None:
        self.scheduler.stop()
        self.dispatcher.stop()
        self.smartplans.close()
        self.linked_services.close()
        self.pms_deliveries.close()
        if self.clio is not None:
            self.clio.close()
        if getattr(self, "host", None) is not None:
            self.host.close()
        self.store.close()
        self.lock.release()
