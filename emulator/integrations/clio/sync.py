"""Importing Clio matters and keeping them in sync (seed 000, "Importing/Syncing Matters").

A run walks the matters Clio lists for its window, page by page in id order, looks up the clients of a
page in one batched call, and handles each matter in ONE transaction: the Operate matter, its client and
attorney, its attributes, its phase, the run's result row and the run's cursor commit together. So a run
killed half-way (kill -9) leaves every matter either done or untouched, and the next run, which sees the
interrupted run and starts again, finds the done ones unchanged (upsert by Clio id, compared by `etag`):
nothing duplicated, nothing lost.

Which Clio field defines the windows [inferred: the seed does not say]: `updated_at`, through Clio's
`updated_since` filter. A first sync (no run has yet completed for the firm) takes every matter updated in
the last 10 years; every later one those updated in the last 30 days, or since the last completed All Cases or
nightly run when that is longer ago (a month without a sync loses nothing), measured on the one clock.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pms_adapters.clio.client import ClioDisconnected, ClioError

from ...identity import Principal
from ...kernel.clock import Clock, iso, parse_instant
from ...kernel.errors import ApiError
from ...kernel.store import Store
from ...ods import Ods, contact_details, display_name
from . import matter_rules
from .connection import ClioConnection
from .mapping import ClioMappings
from .matter_rules import Skip
from .settings import ClioSettings
from .sync_runs import RESULTS, SyncRuns

log = logging.getLogger("operate.integrations.clio")

KINDS = ("all", "nightly", "matter")
INTEGRATION_ID = "clioIntegrationId"  # the attribute the Operate matter carries (shown as "Integration ID")
CONTACT_REFERENCE = "clio-contact:{}"  # an imported client's ODS externalReference
MATTER_URL = re.compile(r"matters/([0-9]+)")


@dataclass
class Progress:
    """What a progress bar shows; `total` is Clio's `meta.records` for the window once the first page is in."""

    seen: int = 0
    total: int | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULTS, 0))


ProgressCallback = Callable[[Progress], None]


class ClioSync:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        settings: ClioSettings,
        connection: ClioConnection,
        mappings: ClioMappings,
        workitems: Any,
        outbox: Any,
    ) -> None:
        self.store, self.clock, self.settings = store, clock, settings
        self.connection, self.mappings, self.workitems, self.outbox = connection, mappings, workitems, outbox
        self._running = threading.Lock()
        self.last_requests = 0  # HTTP requests the last run made (retries and refreshes included)
        self._live: dict[str, Progress] = {}  # the running run's progress (a page or the CLI polls it)
        self._people: dict[str, dict[str, Any]] = {}  # this run's Operate users by e-mail
        self.history = SyncRuns(store)

    # -- runs -------------------------------------------------------------------------------------
    def sync_all(
        self,
        principal: Principal | None,
        kind: str = "all",
        progress: ProgressCallback | None = None,
        on_started: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """All Cases (manual, e-mails the CSV to whoever triggered it) or the nightly run. `on_started`
        hears the run's id as soon as it exists (the API answers 202 with it)."""
        with self._exclusive():
            client = self.connection.client()
            first = self.connection.status()["firstSyncAt"] is None
            window = self._window(first)
            run_id = self._start(kind, principal, window, first)
            state = self._live.setdefault(run_id, Progress())
            if on_started is not None:
                on_started(run_id)
            try:
                pages = client.matters(on_total=lambda n: setattr(state, "total", n), updated_since=_stamp(window))
                for page in pages:
                    self._page(run_id, client, page, state, progress)
            except ClioDisconnected as exc:
                self.connection.mark_disconnected(client.tokens)
                return self._finish(run_id, "failed", str(exc), principal)
            except ClioError as exc:
                return self._finish(run_id, "failed", str(exc), principal)
            except Exception as exc:  # an answer the client could not use: the run ends, said so, never stuck
                log.exception("Clio sync %s stopped", run_id)
                return self._finish(run_id, "failed", f"{type(exc).__name__}: {exc}", principal)
            finally:
                self.last_requests = client.requests
            return self._finish(run_id, "done", None, principal)

    def _window(self, first: bool) -> datetime:
        """A first sync: the last 10 calendar years. Later: the last 30 days, or back to the start of the
        last completed All/nightly run if that is longer ago (a month without a sync loses nothing)."""
        now = self.clock.now()
        if first:
            return (
                _years_before(now, self.settings.first_window_days // 365)
                if self.settings.first_window_days % 365 == 0
                else now - timedelta(days=self.settings.first_window_days)
            )
        window = now - timedelta(days=self.settings.later_window_days)
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT started FROM clio_sync_runs WHERE state='done' AND kind IN ('all', 'nightly')"
                " ORDER BY started DESC LIMIT 1"
            ).fetchone()
        if row is not None:
            window = min(window, parse_instant(row["started"]) - timedelta(minutes=1))
        return window

    def sync_matter(self, ident: Any, principal: Principal | None) -> dict[str, Any]:
        """Individual Case: an integration ID (the number after `matters/`) or a pasted Clio matter URL."""
        clio_id = parse_integration_id(ident)
        with self._exclusive():
            client = self.connection.client()
            run_id = self._start("matter", principal, None, False)
            state = Progress(total=1)
            try:
                try:
                    matter = client.matter(clio_id)
                except ClioError as exc:
                    if exc.status != 404:
                        raise
                    self._record_failure(run_id, {"id": clio_id}, f"Clio has no matter {clio_id}", state)
                else:
                    self._page(run_id, client, [matter], state, None, again=True)
            except ClioDisconnected as exc:
                self.connection.mark_disconnected(client.tokens)
                return self._finish(run_id, "failed", str(exc), principal)
            except ClioError as exc:
                self._record_failure(run_id, {"id": clio_id}, str(exc), state)
            except Exception as exc:  # an answer the client could not use
                log.exception("Clio sync of matter %s stopped", clio_id)
                self._record_failure(run_id, {"id": clio_id}, f"{type(exc).__name__}: {exc}", state)
            summary = self._finish(run_id, "done", None, principal)
            summary["result"] = self.results(run_id)[0] if summary["counts"] else None
            return summary

    def _exclusive(self) -> Any:
        sync = self

        class Held:
            def __enter__(self) -> None:
                if not sync._running.acquire(blocking=False):
                    raise ApiError(409, "a Clio sync is already running; wait for it to finish")
                try:
                    sync._people = sync._users_by_email()
                    # Holding the data dir and this lock, any run still marked running died with its process.
                    with sync.store.transaction() as tx:
                        tx.execute(
                            "UPDATE clio_sync_runs SET state='interrupted', finished=?, error=? WHERE state='running'",
                            (iso(sync.clock.now()), "the process stopped mid-way; the next run took over"),
                        )
                except BaseException:
                    sync._running.release()  # never left held: the next sync would wait for ever
                    raise

            def __exit__(self, *exc: Any) -> None:
                sync._running.release()

        return Held()

    @property
    def running(self) -> bool:
        return self._running.locked()

    def _start(self, kind: str, principal: Principal | None, window: datetime | None, first: bool) -> str:
        run_id = str(uuid.uuid4())
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO clio_sync_runs(id, kind, state, triggered_by, started, window_from, first)"
                " VALUES (?,?,?,?,?,?,?)",
                (run_id, kind, "running", _who(principal), iso(self.clock.now()), window and iso(window), int(first)),
            )
        return run_id

    def progress_of(self, run_id: str) -> dict[str, Any] | None:
        state = self._live.get(run_id)
        return None if state is None else {"seen": state.seen, "total": state.total, "counts": dict(state.counts)}

    def _finish(self, run_id: str, state: str, error: str | None, principal: Principal | None) -> dict[str, Any]:
        self._live.pop(run_id, None)
        now = iso(self.clock.now())
        run = self.run(run_id)
        with self.store.transaction() as tx:
            tx.execute("UPDATE clio_sync_runs SET state=?, finished=?, error=? WHERE id=?", (state, now, error, run_id))
            took = run["counts"]["imported"] + run["counts"]["updated"] + run["counts"]["unchanged"]
            if state == "done" and run["kind"] in ("all", "nightly") and took:  # nothing imported: still a first
                tx.execute(
                    "UPDATE integrations SET first_sync_at=COALESCE(first_sync_at, ?), last_sync_at=?"
                    " WHERE provider='clio'",
                    (now, now),
                )
            if run["kind"] == "all":
                self._mail_report(tx, run_id, principal, error)
        if error:
            log.warning("Clio sync %s (%s) failed: %s", run_id, run["kind"], error)
        return self.run(run_id)

    # -- one page, one matter ---------------------------------------------------------------------
    def _page(
        self,
        run_id: str,
        client: Any,
        page: list[dict[str, Any]],
        state: Progress,
        progress: ProgressCallback | None,
        again: bool = False,
    ) -> None:
        """`again`: look at every matter afresh, even one whose etag is unchanged (Individual Case: a person
        asks for this matter now, e.g. after editing the mappings)."""
        with self.store.read() as conn:
            known = {
                r["clio_id"]: r["etag"]
                for r in conn.execute(
                    f"SELECT clio_id, etag FROM clio_matters WHERE clio_id IN ({','.join('?' * len(page))})",
                    [m.get("id") if isinstance(m.get("id"), int) else -1 for m in page],
                )
            }
        changed = page if again else [m for m in page if known.get(m.get("id")) != m.get("etag")]
        client_ids = [
            m["client"]["id"]
            for m in changed
            if isinstance(m.get("client"), dict) and isinstance(m["client"].get("id"), int)
        ]
        contacts = client.contacts(client_ids) if client_ids and self.settings.client_contact != "none" else {}
        people = self._people
        mapping = self.mappings.get()
        for matter in page:
            state.seen += 1
            try:
                result = self._matter(run_id, matter, known, contacts, people, mapping, again)
            except Skip as exc:  # a matter imported before keeps its link: the work item is still there
                result = self._record(run_id, matter, "skipped", str(exc), self._known_item(matter))
            except ClioError:
                raise
            except ApiError as exc:
                result = self._record(run_id, matter, "failed", exc.title, self._known_item(matter))
            except Exception as exc:  # one matter's bad data never stops the sync
                log.exception("Clio matter %s failed", matter.get("id"))
                result = self._record(
                    run_id, matter, "failed", f"{type(exc).__name__}: {exc}", self._known_item(matter)
                )
            state.counts[result] += 1
            if progress is not None:
                progress(state)

    def _record_failure(self, run_id: str, matter: dict[str, Any], reason: str, state: Progress) -> None:
        state.seen += 1
        state.counts[self._record(run_id, matter, "failed", reason, None)] += 1

    def _record(self, run_id: str, matter: dict[str, Any], result: str, reason: str | None, item_id: str | None) -> str:
        clio_id = matter.get("id") if isinstance(matter.get("id"), int) else -1
        number = matter.get("display_number") if isinstance(matter.get("display_number"), str) else None
        with self.store.transaction() as t:
            t.execute(
                "INSERT INTO clio_sync_results VALUES (?,?,?,?,?,?,?) ON CONFLICT(run_id, clio_id) DO UPDATE SET"
                " result=excluded.result, reason=excluded.reason, work_item_id=excluded.work_item_id",
                (run_id, clio_id, number, result, reason, item_id, iso(self.clock.now())),
            )
            t.execute("UPDATE clio_sync_runs SET last_clio_id=? WHERE id=?", (clio_id, run_id))
        return result

    def _matter(
        self,
        run_id: str,
        matter: dict[str, Any],
        known: dict[int, str],
        contacts: dict[int, dict[str, Any]],
        people: dict[str, dict[str, Any]],
        mapping: dict[str, dict[str, str]],
        again: bool = False,
    ) -> str:
        clio_id = matter.get("id")
        if not isinstance(clio_id, int) or isinstance(clio_id, bool):
            raise Skip(f"Clio sent a matter without a numeric id ({clio_id!r})")
        same = clio_id in known and known[clio_id] == matter.get("etag")
        if same and not again:
            return self._record(run_id, matter, "unchanged", None, self._work_item_of(clio_id))
        wanted = matter_rules.wanted(matter, contacts, people, mapping, self.settings, self.workitems.types)
        if same:  # looked at again: unchanged unless the mappings now put it in another phase
            item_id = self._work_item_of(clio_id)
            item = self.workitems.find(item_id) if item_id else None
            if item is not None and (not wanted["phase"] or item.phase == wanted["phase"]):
                return self._record(run_id, matter, "unchanged", None, item_id)
        with self.store.transaction() as tx:
            row = tx.execute("SELECT * FROM clio_matters WHERE clio_id=?", (clio_id,)).fetchone()
            if row is None:
                item_id = self._import(tx, matter, wanted)
                result, reason = "imported", None
            else:
                item_id = row["work_item_id"]
                reason = self._update(tx, item_id, row, matter, wanted)
                result = "updated"
            tx.execute(
                "INSERT INTO clio_matters VALUES (?,?,?,?,?,?) ON CONFLICT(clio_id) DO UPDATE SET"
                " display_number=excluded.display_number, etag=excluded.etag, stage=excluded.stage,"
                " synced=excluded.synced",
                (
                    clio_id,
                    item_id,
                    wanted["display_number"],
                    matter.get("etag"),
                    wanted["stage"],
                    iso(self.clock.now()),
                ),
            )
            return self._record(run_id, matter, result, reason, item_id)

    def _known_item(self, matter: dict[str, Any]) -> str | None:
        """The Operate work item a matter was imported as before, if it was (and Clio sent a usable id)."""
        clio_id = matter.get("id")
        if not isinstance(clio_id, int) or isinstance(clio_id, bool):
            return None
        return self._work_item_of(clio_id)

    def _work_item_of(self, clio_id: int) -> str | None:
        with self.store.read() as conn:
            row = conn.execute("SELECT work_item_id FROM clio_matters WHERE clio_id=?", (clio_id,)).fetchone()
        return row["work_item_id"] if row else None

    def _users_by_email(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        with self.store.read() as conn:
            for doc in Ods(self.store).people(conn):
                if not doc.get("isUser"):
                    continue
                for detail in contact_details(doc):
                    value = detail.get("contactValue")
                    if detail.get("contactTypeSystemName") == "email" and isinstance(value, str):
                        out.setdefault(value.strip().lower(), doc)
        return out

    # -- writing the Operate side (inside the matter's transaction) --------------------------------
    def _import(self, tx: Any, matter: dict[str, Any], wanted: dict[str, Any]) -> str:
        client_id = self._client_person(tx, wanted)
        participants = [{"roleSystemName": self.settings.client_role, "odsId": client_id}]
        if wanted["attorney"] is not None:
            participants.append({"roleSystemName": self.settings.attorney_role, "odsId": wanted["attorney"]["id"]})
        item = self.workitems.create(
            {
                "workItem": {
                    "sharedoTypeSystemName": wanted["work_type"],
                    "title": wanted["title"],
                    "reference": wanted["display_number"],
                    "description": wanted["description"],
                },
                "participants": participants,
            },
            None,
        )
        self.workitems.set_attributes(item.id, self._attributes(matter, wanted), None)
        if wanted["phase"]:
            self.workitems.jump_to_phase(tx, item.id, wanted["phase"], f"Clio matter stage {wanted['stage']!r}")
        return item.id

    def _update(self, tx: Any, item_id: str, row: Any, matter: dict[str, Any], wanted: dict[str, Any]) -> str | None:
        self.workitems.update(
            item_id, {"workItem": {"title": wanted["title"], "description": wanted["description"]}}, None
        )
        self._client_person(tx, wanted)
        self.workitems.set_attributes(item_id, self._attributes(matter, wanted), None)
        # The mapped phase, also when only the mapping changed since; the client hears of a stage change.
        moved = bool(wanted["phase"]) and self.workitems.jump_to_phase(
            tx, item_id, wanted["phase"], f"Clio matter stage {wanted['stage']!r}"
        )
        if wanted["stage"] == row["stage"]:
            return f"phase {wanted['phase']} (the stage mapping changed)" if moved else None
        notified = self._notify_client(tx, item_id, wanted)
        what = f"stage {row['stage'] or '(none)'} → {wanted['stage'] or '(none)'}"
        return f"{what}{'; phase ' + wanted['phase'] if moved else ''}{'; client notified' if notified else ''}"

    def _attributes(self, matter: dict[str, Any], wanted: dict[str, Any]) -> dict[str, str | None]:
        return {
            INTEGRATION_ID: str(matter["id"]),
            "clioDisplayNumber": wanted["display_number"],
            "clioStage": wanted["stage"],
            "clioStatus": wanted["status"],
        }

    def _client_person(self, tx: Any, wanted: dict[str, Any]) -> str:
        """The Clio client as an ODS person, found again by its externalReference (never duplicated)."""
        contact = wanted["contact"]
        reference = CONTACT_REFERENCE.format(contact["id"])
        row = Ods(self.store).by_external_reference("person", reference, tx)  # by its index: no scan
        details = []
        if wanted["email"]:
            details.append({"contactTypeSystemName": "email", "contactValue": wanted["email"], "isPrimary": True,
                            "isActive": True})  # fmt: skip
        if wanted["mobile"]:
            details.append({"contactTypeSystemName": "mobile", "contactValue": wanted["mobile"], "isPrimary": True,
                            "isActive": True})  # fmt: skip
        first = contact.get("first_name") if isinstance(contact.get("first_name"), str) else None
        last = contact.get("last_name") if isinstance(contact.get("last_name"), str) else None
        name = contact.get("name") if isinstance(contact.get("name"), str) else None
        doc: dict[str, Any] = {
            "firstName": first or (name.split(" ")[0] if name else None),
            "middleNameOrInitial": None,
            "surname": last or (" ".join(name.split(" ")[1:]) if name else None) or f"Clio contact {contact['id']}",
            "shortName": name or " ".join(x for x in (first, last) if x) or None,
            "reference": None,
            "externalReference": reference,
            "isUser": False,
            "isActive": True,
            "organisationId": None,
            "tags": ["client"],
            "locations": [],
            "aspectData": {"ContactDetails": details},
        }
        if row is not None:
            ods_id, current = row
            merged = {**current, **{k: v for k, v in doc.items() if k != "tags"}}
            if merged != current:
                Ods(self.store).put(tx, "person", ods_id, merged)
                self._ods_event(tx, "ods-entity-updated", ods_id)
            return ods_id
        doc["id"] = str(uuid.uuid4())
        Ods(self.store).put(tx, "person", doc["id"], doc)
        self._ods_event(tx, "ods-entity-created", doc["id"])
        return doc["id"]

    def _ods_event(self, tx: Any, name: str, ods_id: str) -> None:
        self.workitems.stream.append(tx, name, {"odsId": ods_id, "odsEntityType": "person", "tags": ["client"]})

    def _notify_client(self, tx: Any, item_id: str, wanted: dict[str, Any]) -> bool:
        """The status update the client is sent when the stage changes (recorded in the outbox)."""
        if not self.settings.notify_client or not wanted["email"] or self.outbox is None:
            return False
        stage = wanted["stage"] or "no stage"
        try:
            self.outbox.send(
                tx,
                kind="client-notification",
                sender=self.outbox.default_sender,
                recipients=[wanted["email"]],
                subject=f"Update on your matter {wanted['display_number']}",
                body=f"Your matter {wanted['display_number']} ({wanted['title']}) has moved to: {stage}.",
                work_item_id=item_id,
            )
        except ValueError as exc:  # an address Clio holds that is no e-mail address: the update still lands
            log.warning("no status update for Clio matter %s: %s", wanted["display_number"], exc)
            return False
        return True

    # -- the report -------------------------------------------------------------------------------
    def _mail_report(self, tx: Any, run_id: str, principal: Principal | None, error: str | None) -> None:
        """All Cases e-mails whoever triggered it a CSV of every matter attempted (seed 000)."""
        email = _email_of(principal)
        if email is None or self.outbox is None:
            return
        run = self.run(run_id, tx)
        counts = ", ".join(f"{n} {k}" for k, n in run["counts"].items() if n)
        body = f"The Clio sync you started at {run['started']} {'failed: ' + error if error else 'finished'}.\n"
        body += f"{counts or 'No matters were attempted'}. The attached CSV has one row per matter attempted.\n"
        self.outbox.send(
            tx,
            kind="email",
            sender=self.outbox.default_sender,
            recipients=[email],
            subject=f"Clio sync results: {counts or 'no matters'}",
            body=body,
            attachments=[(f"clio-sync-{run['started'][:10]}-{run_id[:8]}.csv", "text/csv", self.csv(run_id, tx))],
        )

    def csv(self, run_id: str, conn: Any = None) -> str:
        return self.history.csv(run_id, conn)

    # -- reading runs (sync_runs.py) --------------------------------------------------------------
    def run(self, run_id: str, conn: Any = None) -> dict[str, Any]:
        return self.history.run(run_id, conn)

    def runs(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return self.history.runs(limit, offset)

    def results(self, run_id: str, conn: Any = None) -> list[dict[str, Any]]:
        return self.history.results(run_id, conn)


def parse_integration_id(ident: Any) -> int:
    """`1180000001`, or a Clio matter URL (`https://app.clio.com/nc/#/matters/1180000001`)."""
    text = str(ident if ident is not None else "").strip()
    found = MATTER_URL.search(text)
    digits = found.group(1) if found else text
    if not re.fullmatch(r"[0-9]{1,19}", digits) or not 0 < int(digits) < 2**63:
        raise ApiError(
            400,
            f"integration ID: give the number after matters/ in the Clio URL, or paste the URL (got {text[:80]!r})",
            [{"field": "matter", "message": "a Clio matter id or URL"}],
        )
    return int(digits)


def _email_of(principal: Principal | None) -> str | None:
    user = principal.user if principal else None
    if not user:
        return None
    for detail in contact_details(user):
        if detail.get("contactTypeSystemName") == "email" and detail.get("contactValue"):
            return str(detail["contactValue"])
    return None


def _who(principal: Principal | None) -> str | None:
    if principal is None:
        return None
    if principal.user:
        return principal.user_name or display_name("person", principal.user)
    return principal.client_id


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year - years, day=28)
