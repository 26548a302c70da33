"""The demo PMS's state and rules, in memory (moto's `models.py`).

One `DemoPmsBackend` holds the books (matters, clients, fee earners, time, disbursements, invoices,
receipts, suppliers, the official demo's financials ledger) and the fake's own controls (recorded
requests, injected faults). The HTTP layer (`responses.py`) and library-mode tests share it.

This module is the facade: the state, seeding, the request log and the JSON views. The rules live in
`books/`, one module per job (matters, suppliers, work, invoices, figures, faults), each a class the
backend is composed of. They are mixins of one object, not objects of their own, because every book
works under the one lock on the same tables (an invoice marks time entries billed; the figures read
them all); the records and limits they share are in `books/records.py` and are named here too.

Money is kept in integer pence, so sums are exact and ageing 10,000 invoices is one cheap pass.
Every date comes from the backend's `Clock`, so a virtual clock moves invoices between buckets.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import date, timedelta
from typing import Any, TypeVar

from emulator.kernel.clock import Clock, iso
from emulator.kernel.scenario_keys import ScenarioKeys

from . import seed
from .books.faults import FaultBook
from .books.figures import FigureBook
from .books.invoices import InvoiceBook
from .books.matters import MatterBook
from .books.records import (
    BOOK_KINDS,
    CURRENCY,
    INVOICE_STATUSES,
    MAX_BOOK_ROWS,
    MAX_DETAIL_ROWS,
    MAX_FAULT_DELAY,
    MAX_FAULTS,
    MAX_LEDGER_AUDIT,
    MAX_LEDGERS,
    MAX_PENCE,
    MAX_RECEIPTS,
    MAX_RECORDED,
    PAYMENT_METHODS,
    PRACTICE_AREAS,
    SUPPLIER_CATEGORIES,
    Client,
    DemoPmsError,
    Disbursement,
    Fault,
    FeeEarner,
    Invoice,
    LedgerEntry,
    Matter,
    Receipt,
    Supplier,
    TimeEntry,
    pence,
    pounds,
    route_pattern,
)
from .books.suppliers import SupplierBook
from .books.work import WorkBook
from .outbox import DeliveryOutbox

__all__ = [
    "DemoPmsBackend",
    "INVOICE_STATUSES",
    "PRACTICE_AREAS",
    "SUPPLIER_CATEGORIES",
    "PAYMENT_METHODS",
    "CURRENCY",
    "MAX_FAULT_DELAY",
    "MAX_FAULTS",
    "MAX_RECORDED",
    "MAX_DETAIL_ROWS",
    "MAX_PENCE",
    "MAX_LEDGERS",
    "MAX_LEDGER_AUDIT",
    "MAX_BOOK_ROWS",
    "MAX_RECEIPTS",
    "BOOK_KINDS",
    "DemoPmsError",
    "pence",
    "pounds",
    "FeeEarner",
    "Client",
    "Supplier",
    "LedgerEntry",
    "Matter",
    "TimeEntry",
    "Disbursement",
    "Receipt",
    "Invoice",
    "Fault",
    "route_pattern",
]


Record = TypeVar("Record", TimeEntry, Disbursement, Invoice, Supplier, Matter)  # the records kept by id


class DemoPmsBackend(FaultBook, MatterBook, SupplierBook, WorkBook, InvoiceBook, FigureBook):
    """The demo finance system's books plus the fake's controls; thread-safe, deterministic."""

    def __init__(self, clock: Clock | None = None, *, max_rows: int = MAX_BOOK_ROWS) -> None:
        self.clock = clock or Clock()
        # How many of each kind of record the books hold at most, so a runaway caller cannot eat the memory.
        self.limits: dict[str, int] = dict.fromkeys(BOOK_KINDS, max_rows)
        self._lock = threading.RLock()
        self._requests: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED)
        self._request_seq = 0
        self._faults: list[Fault] = []
        self._fault_seq = 0
        # A widget page's scenario faults, by the page's scenario key (emulator/kernel/scenario_keys.py): a call
        # carrying the key sees these instead of the shared faults; bounded in keys and in time.
        self._scenario_faults: ScenarioKeys[list[Fault]] = ScenarioKeys()
        # Answers to writes sent with an Idempotency-Key, by (method, path, key): the same write again gets
        # the first answer and changes nothing (at most MAX_RECORDED kept; the oldest go first).
        self._idempotent: dict[tuple[str, str, str], tuple[int, bytes, str]] = {}
        # What Operate has still to hear about (delivery.py sends it): matters opened here, payments, receipts.
        self.outbox = DeliveryOutbox(self.clock)
        self.reset()

    # --- seeding and controls ----------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seeded books (dated from the clock's today), with no recorded requests and no faults."""
        with self._lock:
            self._seeding = True
            self._seed()
            self._seeding = False
            self._requests.clear()
            self._faults.clear()
            self._scenario_faults.clear()
            self._idempotent.clear()
            self.outbox.clear()

    def idempotent_answer(self, key: tuple[str, str, str]) -> tuple[int, bytes, str] | None:
        """The answer a write with this Idempotency-Key got the first time, if it had one."""
        with self._lock:
            return self._idempotent.get(key)

    def remember_answer(self, key: tuple[str, str, str], answer: tuple[int, bytes, str]) -> None:
        with self._lock:
            self._idempotent.setdefault(key, answer)
            while len(self._idempotent) > MAX_RECORDED:
                del self._idempotent[next(iter(self._idempotent))]

    def _seed(self) -> None:
        now = self.clock.now()
        today = now.date()

        def ago(days: int) -> date:
            return today - timedelta(days=days)

        self.fee_earners: dict[str, FeeEarner] = {}
        self.clients: dict[str, Client] = {}
        self.supplier_index: dict[str, Supplier] = {}
        self.matters: dict[str, Matter] = {}
        self.time_entries: dict[str, TimeEntry] = {}
        self.disbursements: dict[str, Disbursement] = {}
        self.invoices: dict[str, Invoice] = {}
        self._matters_by_operate: dict[str, str] = {}
        self._time_by_operate: dict[str, str] = {}
        self._disb_by_operate: dict[str, str] = {}
        self._invoices_by_operate: dict[str, str] = {}
        self._matter_time: dict[str, list[TimeEntry]] = {}
        self._matter_disb: dict[str, list[Disbursement]] = {}
        self._matter_invoices: dict[str, list[Invoice]] = {}
        # Open (issued or part-paid, with something outstanding) invoices, for one-pass ageing.
        self._open_by_client: dict[str, dict[str, Invoice]] = {}
        self._open_by_matter: dict[str, dict[str, Invoice]] = {}

        for code, name, grade, rate, ods, user in seed.FEE_EARNERS:
            self.fee_earners[code] = FeeEarner(code, name, grade, rate, ods, user)
        for client_id, name, kind, ods in seed.CLIENTS:
            self.clients[client_id] = Client(client_id, name, kind, ods)
        for supplier_id, name, category, vat, ods, terms in seed.SUPPLIERS:
            self.supplier_index[supplier_id] = Supplier(supplier_id, name, category, vat, ods, terms)
        for ref, operate_id, title, client, earner, billing, priority, estimate, status, opened in seed.MATTERS:
            self._add_matter(
                Matter(
                    reference=ref,
                    title=title,
                    client_id=client,
                    fee_earner=earner,
                    opened_at=now - timedelta(days=opened),
                    status=status,
                    operate_id=operate_id,
                    billing_arrangements=billing,
                    priority=priority,
                    estimated_fees=estimate,
                )
            )
        self._next_matter = seed.FIRST_NEW_MATTER
        self._next_invoice = seed.FIRST_NEW_INVOICE
        self._next_time = seed.FIRST_TIME_ENTRY
        self._next_disbursement = seed.FIRST_DISBURSEMENT

        for inv_id, ref, operate_id, net, vat, issued, due, receipts, cancelled, narrative in seed.INVOICES:
            invoice = Invoice(
                invoice_id=inv_id,
                reference=ref,
                client_id=self.matters[ref].client_id,
                net=net,
                vat=vat,
                issued_date=ago(issued),
                due_date=ago(due),
                created_at=now - timedelta(days=issued),
                narrative=narrative,
                operate_id=operate_id,
                status="cancelled" if cancelled else "issued",
            )
            self._store_invoice(invoice)
            for amount, days, reference in receipts:
                self._apply_receipt(invoice, amount, ago(days), reference)
        for ref, earner, minutes, days, narrative, invoice_id in seed.TIME_ENTRIES:
            entry = self._new_time_entry(ref, earner, minutes, ago(days), narrative, None, None, None)
            entry.created_at = now - timedelta(days=days)
            entry.invoice_id = invoice_id
        for ref, supplier_id, description, net, vat, earner, days, paid, invoice_id in seed.DISBURSEMENTS:
            supplier = self.supplier_index[supplier_id]
            disb = self._new_disbursement(ref, None, net, vat, description, supplier, None, earner, ago(days))
            disb.created_at = now - timedelta(days=days)
            disb.invoice_id = invoice_id
            if paid:
                disb.status, disb.paid_date, disb.payment_reference = "paid", ago(paid[0]), paid[1]
                disb.payment_method = "card" if paid[1].startswith("CARD") else "BACS"
        for (
            ref,
            operate_id,
            supplier_id,
            description,
            net,
            vat,
            earner,
            days,
            invoice_ref,
        ) in seed.OPERATE_DISBURSEMENTS:
            supplier = self.supplier_index[supplier_id]
            disb = self._new_disbursement(
                ref, operate_id, net, vat, description, supplier, invoice_ref, earner, ago(days)
            )
            disb.created_at = now - timedelta(days=days)
        # The official demo's balances: keyed by whatever reference the caller sends, as in its PMSApi.
        self._balances: dict[str, int] = {}
        self._ledgers: dict[str, deque[LedgerEntry]] = {}
        for ref, entries in seed.FINANCIALS:
            for delta, days in entries:
                self._post_ledger(ref, delta, now - timedelta(days=days))

    def record_request(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep one received request (the HTTP layer calls this); returns the stored record to fill in later."""
        with self._lock:
            self._request_seq += 1
            record = {"id": self._request_seq, "at": iso(self.clock.now()), **entry, "status": None}
            self._requests.append(record)
            return record

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Recorded requests, oldest first; `path` ending in `*` matches a prefix."""
        with self._lock:
            out = [dict(r) for r in self._requests]
        if method:
            out = [r for r in out if r["method"] == method.upper()]
        if path:
            if path.endswith("*"):
                out = [r for r in out if r["path"].startswith(path[:-1])]
            else:
                out = [r for r in out if r["path"] == path]
        return out

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _room_for(self, kind: str, table: dict[str, Any]) -> None:
        """Refuse a new record once `max_rows` of its kind are held (507: the books are full, not the request)."""
        limit = self.limits[kind]
        if len(table) >= limit:
            raise DemoPmsError(507, f"the demo PMS holds at most {limit} {kind}; POST /_fake/reset to start again")

    # --- the plumbing every book uses for its time entries, disbursements, invoices and suppliers ----------

    def _found(self, table: dict[str, Record], key: str, missing: str) -> Record:
        """A record by its id, or a 404 saying `missing` (each book words it its own way)."""
        with self._lock:
            found = table.get(key)
        if found is None:
            raise DemoPmsError(404, missing)
        return found

    def _of_matter(self, by_matter: dict[str, list[Record]], reference: str) -> list[Record]:
        """A matter's time entries, disbursements or invoices, as a copy (404 for a matter the PMS does not have)."""
        with self._lock:
            self.get_matter(reference)
            return list(by_matter[reference])

    def _posted_before(
        self, by_operate: dict[str, str], table: dict[str, Record], operate_id: str, reference: str, field_name: str
    ) -> Record | None:
        """What an earlier post of this Operate id made (so posting it again is idempotent), None the first time;
        409 when it was posted to another matter."""
        existing = by_operate.get(operate_id)
        if not existing:
            return None
        record = table[existing]
        if record.reference != reference:
            raise DemoPmsError(
                409,
                f"{field_name} {operate_id!r} was already posted to matter {record.reference}, not {reference}",
                field_name,
            )
        return record

    @staticmethod
    def _file(
        record: Record,
        record_id: str,
        table: dict[str, Record],
        by_matter: dict[str, list[Record]],
        by_operate: dict[str, str],
    ) -> None:
        """A new time entry, disbursement or invoice in the books: by its id, on its matter's list, and by its
        Operate id (what `_posted_before` finds)."""
        table[record_id] = record
        by_matter[record.reference].append(record)
        if record.operate_id:
            by_operate[record.operate_id] = record_id

    # --- snapshots for the HTTP layer (taken under the lock, so no dict changes while it is walked) --------

    def json_of(self, record: Any) -> dict[str, Any]:
        """One record as JSON, read under the lock (an invoice's receipts may be growing on another thread)."""
        with self._lock:
            if isinstance(record, Matter):
                return self.matter_json(record)
            return record.to_json()

    def clients_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c.to_json() for c in self.clients.values()]

    def fee_earners_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self.fee_earners.values()]

    def suppliers_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.to_json() for s in self.suppliers()]

    def matters_json(self, operate_id: str | None = None, client_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [self.matter_json(m) for m in self.find_matters(operate_id=operate_id, client_id=client_id)]

    def time_entries_json(self, reference: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e.to_json() for e in self.matter_time_entries(reference)]

    def disbursements_json(self, reference: str) -> list[dict[str, Any]]:
        with self._lock:
            return [d.to_json() for d in self.matter_disbursements(reference)]

    def invoices_json(self, reference: str) -> list[dict[str, Any]]:
        with self._lock:
            return [i.to_json() for i in self.matter_invoices(reference)]

    # --- lookups -----------------------------------------------------------------------------
