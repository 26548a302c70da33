"""The demo PMS's state and rules, in memory (moto's `models.py`).

One `DemoPmsBackend` holds the books (matters, clients, fee earners, time, disbursements, invoices,
receipts, suppliers, the official demo's financials ledger) and the fake's own controls (recorded
requests, injected faults). The HTTP layer (`responses.py`) and library-mode tests share it.

Money is kept in integer pence, so sums are exact and ageing 10,000 invoices is one cheap pass.
Every date comes from the backend's `Clock`, so a virtual clock moves invoices between buckets.
"""

from __future__ import annotations

import heapq
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from emulator.kernel.clock import Clock, iso
from emulator.kernel.scenario_keys import ScenarioKeys

from ...base import AGEING_BUCKETS, ageing_bucket
from . import seed
from .outbox import DeliveryOutbox

INVOICE_STATUSES = ("draft", "issued", "part-paid", "paid", "cancelled")
PRACTICE_AREAS = ("commercial", "private-client")  # what a matter opened in the PMS is filed under
SUPPLIER_CATEGORIES = ("courier", "counsel", "search-provider", "registry", "court", "expert", "other")
PAYMENT_METHODS = ("BACS", "CHAPS", "cheque", "card")
CURRENCY = "GBP"
MAX_FAULT_DELAY = 30.0  # seconds; a slow fault never holds a server thread longer than this
MAX_FAULTS = 100
MAX_RECORDED = 10_000  # the request log keeps the most recent ones
MAX_DETAIL_ROWS = 500  # aged-debt invoice detail rows per answer
MAX_PENCE = 10**13  # £100bn: a bound on any single amount
MAX_LEDGERS = 100_000  # the official demo's balances, one per reference it was sent
MAX_LEDGER_AUDIT = 10_000  # audit rows kept per reference (the most recent)
MAX_BOOK_ROWS = 100_000  # matters, clients, time entries, disbursements, invoices: each, at most
MAX_RECEIPTS = 10_000  # receipts on one invoice
BOOK_KINDS = ("matters", "clients", "time entries", "disbursements", "invoices")


class DemoPmsError(Exception):
    """A request the PMS refuses: the HTTP status, a message a person can act on, and the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def pence(amount: Decimal) -> int:
    """Pounds to whole pence, rounding half up (what a ledger does with 0.005)."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def pounds(value: int) -> float:
    """Pence to the JSON number a widget shows (2220.0, 38.5)."""
    return value / 100


@dataclass
class FeeEarner:
    code: str
    name: str
    grade: str
    hourly_rate: int
    operate_ods_id: str | None = None
    user_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "grade": self.grade,
            "hourlyRate": pounds(self.hourly_rate),
            "operateOdsId": self.operate_ods_id,
            "userName": self.user_name,
        }


@dataclass
class Client:
    client_id: str
    name: str
    kind: str
    operate_ods_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"clientId": self.client_id, "name": self.name, "kind": self.kind, "operateOdsId": self.operate_ods_id}


@dataclass
class Supplier:
    supplier_id: str
    name: str
    category: str
    vat_number: str | None = None
    operate_ods_id: str | None = None
    payment_terms_days: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "supplierId": self.supplier_id,
            "name": self.name,
            "category": self.category,
            "vatNumber": self.vat_number,
            "operateOdsId": self.operate_ods_id,
            "paymentTermsDays": self.payment_terms_days,
        }


@dataclass
class LedgerEntry:
    at: datetime
    delta: int
    balance: int


@dataclass
class Matter:
    reference: str
    title: str | None
    client_id: str | None
    fee_earner: str | None
    opened_at: datetime
    status: str = "open"
    operate_id: str | None = None
    billing_arrangements: str | None = None
    priority: int | None = None
    confidential: bool = False
    estimated_fees: int | None = None
    practice_area: str | None = None  # set on matters opened in the PMS itself


@dataclass
class TimeEntry:
    entry_id: str
    reference: str
    fee_earner: str
    minutes: int
    rate: int
    value: int
    work_date: date
    narrative: str
    created_at: datetime
    operate_id: str | None = None
    activity_code: str | None = None
    invoice_id: str | None = None
    # What the entry held before each revision from Operate: [{minutes, value, date, narrative, activityCode,
    # revisedAt}], oldest first; the entry itself is the latest.
    revisions: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "timeEntryId": self.entry_id,
            "pmsReference": self.reference,
            "operateTimeEntryId": self.operate_id,
            "feeEarner": self.fee_earner,
            "minutes": self.minutes,
            "hourlyRate": pounds(self.rate),
            "value": pounds(self.value),
            "date": self.work_date.isoformat(),
            "narrative": self.narrative,
            "activityCode": self.activity_code,
            "billed": self.invoice_id is not None,
            "invoiceId": self.invoice_id,
            "createdAt": iso(self.created_at),
            "revision": len(self.revisions),
            "revisions": list(self.revisions),
        }


@dataclass
class Disbursement:
    disbursement_id: str
    reference: str
    supplier_id: str | None
    supplier_name: str | None
    description: str
    amount: int
    vat: int
    fee_earner: str
    incurred_date: date
    created_at: datetime
    operate_id: str | None = None
    supplier_invoice_reference: str | None = None
    status: str = "awaiting-payment"
    payment_reference: str | None = None
    payment_method: str | None = None
    paid_date: date | None = None
    invoice_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "disbursementId": self.disbursement_id,
            "pmsReference": self.reference,
            "operatePaymentRequestId": self.operate_id,
            "supplierId": self.supplier_id,
            "supplierName": self.supplier_name,
            "supplierInvoiceReference": self.supplier_invoice_reference,
            "description": self.description,
            "amount": pounds(self.amount),
            "vatAmount": pounds(self.vat),
            "grossAmount": pounds(self.amount + self.vat),
            "currency": CURRENCY,
            "feeEarner": self.fee_earner,
            "incurredDate": self.incurred_date.isoformat(),
            "status": self.status,
            "paymentReference": self.payment_reference,
            "paymentMethod": self.payment_method,
            "paidDate": self.paid_date.isoformat() if self.paid_date else None,
            "billed": self.invoice_id is not None,
            "invoiceId": self.invoice_id,
            "createdAt": iso(self.created_at),
        }


@dataclass
class Receipt:
    amount: int
    received_date: date
    reference: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "amount": pounds(self.amount),
            "receivedDate": self.received_date.isoformat(),
            "reference": self.reference,
        }


@dataclass
class Invoice:
    invoice_id: str
    reference: str
    client_id: str | None
    net: int
    vat: int
    issued_date: date
    due_date: date
    created_at: datetime
    status: str = "issued"
    narrative: str = ""
    operate_id: str | None = None
    paid: int = 0
    receipts: list[Receipt] = field(default_factory=list)
    # Precomputed for ageing: the due date as a day number, and gross minus paid.
    due_ordinal: int = 0
    outstanding: int = 0

    @property
    def gross(self) -> int:
        return self.net + self.vat

    def to_json(self) -> dict[str, Any]:
        return {
            "invoiceId": self.invoice_id,
            "pmsReference": self.reference,
            "operateInvoiceId": self.operate_id,
            "clientId": self.client_id,
            "status": self.status,
            "netAmount": pounds(self.net),
            "vatAmount": pounds(self.vat),
            "grossAmount": pounds(self.gross),
            "amountPaid": pounds(self.paid),
            "outstanding": pounds(self.outstanding),
            "currency": CURRENCY,
            "issuedDate": self.issued_date.isoformat(),
            "dueDate": self.due_date.isoformat(),
            "narrative": self.narrative,
            "receipts": [r.to_json() for r in self.receipts],
            "createdAt": iso(self.created_at),
        }


@dataclass
class Fault:
    """An injected failure for requests whose method and path match; `remaining=None` lasts until cleared."""

    fault_id: str
    route: str
    method: str
    delay: float | None
    status: int | None
    malformed: bool
    remaining: int | None
    pattern: re.Pattern[str]
    hits: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.fault_id,
            "route": self.route,
            "method": self.method,
            "delaySeconds": self.delay,
            "status": self.status,
            "malformed": self.malformed,
            "remaining": self.remaining,
            "hits": self.hits,
        }


def route_pattern(route: str) -> re.Pattern[str]:
    """`/api/matters/*/wip` or `/api/matters/<ref>/wip`: `*` and `<name>` match one path segment, `**` any rest."""
    if not route.startswith("/"):
        raise DemoPmsError(400, "route must be a path starting with '/', like /api/matters/*/wip", "route")
    parts = []
    for segment in route.split("/"):
        if segment == "**":
            parts.append(".*")
        elif segment == "*" or (segment.startswith("<") and segment.endswith(">")):
            parts.append("[^/]+")
        else:
            parts.append(re.escape(segment))
    return re.compile("/".join(parts))


class DemoPmsBackend:
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

    def add_fault(
        self,
        route: str,
        method: str = "*",
        *,
        delay: float | None = None,
        status: int | None = None,
        malformed: bool = False,
        times: int | None = None,
    ) -> Fault:
        """Make matching requests slow (delay s, at most 30), fail (a 5xx status), or answer malformed JSON."""
        method, pattern = self.check_fault(route, method, delay=delay, status=status, malformed=malformed, times=times)
        with self._lock:
            if len(self._faults) >= MAX_FAULTS:
                raise DemoPmsError(409, f"at most {MAX_FAULTS} faults at once; clear some first", "route")
            self._fault_seq += 1
            fault = Fault(f"fault-{self._fault_seq}", route, method, delay, status, malformed, times, pattern)
            self._faults.append(fault)
            return fault

    def check_fault(
        self,
        route: Any,
        method: Any = "*",
        *,
        delay: Any = None,
        status: Any = None,
        malformed: Any = False,
        times: Any = None,
    ) -> tuple[str, Any]:
        """Refuse a fault `add_fault` could not take, changing nothing: (method, route pattern) when fine."""
        number = (int, float)
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, number)):
            raise DemoPmsError(400, "delaySeconds must be a number of seconds", "delaySeconds")
        for name, value in (("status", status), ("times", times)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise DemoPmsError(400, f"{name} must be a whole number", name)
        if not isinstance(malformed, bool):
            raise DemoPmsError(400, "malformed must be true or false", "malformed")
        if method is not None and not isinstance(method, str):
            raise DemoPmsError(400, "method must be a string", "method")
        if not isinstance(route, str) or not route:
            raise DemoPmsError(400, "route is required, like /api/matters/*/wip", "route")
        if len(route) > 500:
            raise DemoPmsError(400, "route is longer than 500 characters", "route")
        method = (method or "*").upper()
        if method != "*" and method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise DemoPmsError(400, f"method must be GET, POST, PUT, PATCH, DELETE or *, not {method!r}", "method")
        if delay is not None and not (0 <= delay <= MAX_FAULT_DELAY):
            raise DemoPmsError(400, f"delaySeconds must be between 0 and {MAX_FAULT_DELAY:g}", "delaySeconds")
        if status is not None and not (500 <= status <= 599):
            raise DemoPmsError(400, "status must be a 5xx HTTP status, like 503", "status")
        if delay is None and status is None and not malformed:
            raise DemoPmsError(400, "say what the fault does: delaySeconds, status or malformed", "delaySeconds")
        if times is not None and not (1 <= times <= 1_000_000):
            raise DemoPmsError(400, "times must be between 1 and 1000000, or left out for 'until cleared'", "times")
        return method, route_pattern(route)

    def faults(self, key: str | None = None) -> list[Fault]:
        """The faults a call sees: with a scenario key the fake holds, that page's; else the shared ones."""
        with self._lock:
            return list(self._faults_for(key))

    def _faults_for(self, key: str | None) -> list[Fault]:
        keyed = self._scenario_faults.get(key) if key is not None else None
        return self._faults if keyed is None else keyed

    def set_scenario_faults(self, key: str, faults: list[dict[str, Any]]) -> list[Fault]:
        """What calls carrying `key` see instead of the shared faults (a widget page's scenario; [] for none).
        Each fault is `add_fault`'s keywords; all are checked before any is kept. Other keys, plans and calls
        with no key are untouched."""
        if len(faults) > MAX_FAULTS:
            raise DemoPmsError(409, f"at most {MAX_FAULTS} faults at once", "route")
        checked = [(f, self.check_fault(**f)) for f in faults]
        with self._lock:
            made = []
            for f, (method, pattern) in checked:
                self._fault_seq += 1
                made.append(
                    Fault(
                        f"fault-{self._fault_seq}",
                        f["route"],
                        method,
                        f.get("delay"),
                        f.get("status"),
                        f.get("malformed", False),
                        f.get("times"),
                        pattern,
                    )
                )
            self._scenario_faults.put(key, made)
            return list(made)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def remove_fault(self, fault_id: str) -> None:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.fault_id != fault_id]
            if len(self._faults) == before:
                raise DemoPmsError(404, f"no fault {fault_id!r}")

    def take_fault(self, method: str, path: str, key: str | None = None) -> Fault | None:
        """The first fault matching this request, used up once (the HTTP layer calls this); `key` is the
        request's scenario key, if it carried one."""
        with self._lock:
            faults = self._faults_for(key)
            for fault in faults:
                if (fault.method in ("*", method)) and fault.pattern.fullmatch(path):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            faults.remove(fault)
                    return fault
        return None

    # --- bounds --------------------------------------------------------------------------------

    def _room_for(self, kind: str, table: dict[str, Any]) -> None:
        """Refuse a new record once `max_rows` of its kind are held (507: the books are full, not the request)."""
        limit = self.limits[kind]
        if len(table) >= limit:
            raise DemoPmsError(507, f"the demo PMS holds at most {limit} {kind}; POST /_fake/reset to start again")

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

    def get_matter(self, reference: str) -> Matter:
        with self._lock:
            matter = self.matters.get(reference)
        if matter is None:
            raise DemoPmsError(404, f"no matter with PMS reference {reference!r}")
        return matter

    def find_matters(self, operate_id: str | None = None, client_id: str | None = None) -> list[Matter]:
        with self._lock:
            if operate_id is not None:
                ref = self._matters_by_operate.get(operate_id)
                found = [self.matters[ref]] if ref else []
            else:
                found = list(self.matters.values())
            if client_id is not None:
                client = self._client(client_id, "clientId", status=404)
                found = [m for m in found if m.client_id == client.client_id]
            return found

    def fee_earner(self, key: str, field_name: str = "feeEarner") -> FeeEarner:
        """A fee earner by code (PS), Operate user name (priya.shah), name or Operate ODS id."""
        wanted = key.strip().lower()
        with self._lock:
            for earner in self.fee_earners.values():
                keys = (earner.code, earner.name, earner.user_name or "", earner.operate_ods_id or "")
                if wanted in (k.lower() for k in keys):
                    return earner
            codes = ", ".join(self.fee_earners)
        raise DemoPmsError(400, f"{field_name}: no fee earner {key!r}; known codes: {codes}", field_name)

    def _client(self, key: str, field_name: str, status: int = 400) -> Client:
        client = self.clients.get(key)
        if client is None:
            client = next((c for c in self.clients.values() if c.operate_ods_id == key), None)
        if client is None:
            message = f"no client {key!r}" if status == 404 else f"{field_name}: no client {key!r}"
            raise DemoPmsError(status, message, field_name if status == 400 else None)
        return client

    def get_client(self, key: str) -> Client:
        """A client by PMS client id (CLI-0004) or the Operate ODS id of the client participant."""
        with self._lock:
            return self._client(key, "clientId", status=404)

    def supplier(self, key: str, field_name: str = "supplierId") -> Supplier:
        """A supplier by PMS supplier id or the payee's Operate ODS id."""
        with self._lock:
            found = self.supplier_index.get(key) or next(
                (s for s in self.supplier_index.values() if s.operate_ods_id == key), None
            )
        if found is None:
            raise DemoPmsError(400, f"{field_name}: no supplier {key!r} (GET /api/suppliers lists them)", field_name)
        return found

    def suppliers(self) -> list[Supplier]:
        with self._lock:
            return sorted(self.supplier_index.values(), key=lambda s: s.supplier_id)

    def get_supplier(self, supplier_id: str) -> Supplier:
        with self._lock:
            found = self.supplier_index.get(supplier_id)
        if found is None:
            raise DemoPmsError(404, f"no supplier {supplier_id!r} (GET /api/suppliers lists them)")
        return found

    def save_supplier(
        self,
        supplier_id: str | None,
        *,
        name: str | None = None,
        category: str | None = None,
        vat_number: str | None = None,
        payment_terms_days: int | None = None,
    ) -> tuple[Supplier, bool]:
        """Create (no id) or change a supplier; suppliers are mastered here, so each change is queued for
        Operate (delivery.py). Returns (supplier, created); a change that changes nothing queues nothing."""
        if category is not None and category not in SUPPLIER_CATEGORIES:
            raise DemoPmsError(
                400, f"category must be one of {', '.join(SUPPLIER_CATEGORIES)}, not {category!r}", "category"
            )
        with self._lock:
            if supplier_id is None:
                if not name:
                    raise DemoPmsError(400, "name is required", "name")
                wanted = name.strip().lower()
                if any(s.name.lower() == wanted for s in self.supplier_index.values()):
                    raise DemoPmsError(409, f"a supplier named {name!r} exists already", "name")
                if len(self.supplier_index) >= MAX_BOOK_ROWS:
                    raise DemoPmsError(507, "the demo PMS holds no more suppliers; POST /_fake/reset to start again")
                number = len(self.supplier_index) + 1
                while f"SUP-{number:04d}" in self.supplier_index:
                    number += 1
                supplier = Supplier(
                    f"SUP-{number:04d}", name, category or "other", vat_number, None, payment_terms_days
                )
                self.supplier_index[supplier.supplier_id] = supplier
                self.outbox.queue("supplier", supplier.supplier_id)
                return supplier, True
            supplier = self.get_supplier(supplier_id)
            before = supplier.to_json()
            if name is not None:
                supplier.name = name
            if category is not None:
                supplier.category = category
            if vat_number is not None:
                supplier.vat_number = vat_number
            if payment_terms_days is not None:
                supplier.payment_terms_days = payment_terms_days
            if supplier.to_json() != before:
                self.outbox.queue("supplier", supplier.supplier_id)
            return supplier, False

    def link_supplier(self, supplier_id: str, ods_id: str) -> Supplier:
        with self._lock:
            supplier = self.get_supplier(supplier_id)
            supplier.operate_ods_id = ods_id
            return supplier

    # --- matters -----------------------------------------------------------------------------

    def _add_matter(self, matter: Matter) -> None:
        self.matters[matter.reference] = matter
        if matter.operate_id:
            self._matters_by_operate[matter.operate_id] = matter.reference
        self._matter_time[matter.reference] = []
        self._matter_disb[matter.reference] = []
        self._matter_invoices[matter.reference] = []
        self._open_by_matter[matter.reference] = {}

    def _new_reference(self) -> str:
        while f"PMS-{self._next_matter}" in self.matters:
            self._next_matter += 1
        reference = f"PMS-{self._next_matter}"
        self._next_matter += 1
        return reference

    def open_matter(
        self,
        *,
        operate_id: str,
        title: str,
        fee_earner: str,
        client_name: str | None = None,
        client_id: str | None = None,
        billing_arrangements: str | None = None,
        priority: int | None = None,
        confidential: bool = False,
        estimated_fees: Decimal | None = None,
    ) -> tuple[Matter, bool]:
        """Matter inception from Operate. The same Operate id again returns the matter it made (created=False)."""
        with self._lock:
            existing = self._matters_by_operate.get(operate_id)
            if existing:
                return self.matters[existing], False
            earner = self.fee_earner(fee_earner)
            self._room_for("matters", self.matters)
            if client_id:
                client = self._client(client_id, "clientId")
            elif client_name:
                wanted = client_name.strip().lower()
                client = next((c for c in self.clients.values() if c.name.lower() == wanted), None)
                if client is None:
                    self._room_for("clients", self.clients)
                    number = len(self.clients) + 1
                    while f"CLI-{number:04d}" in self.clients:
                        number += 1
                    client = Client(f"CLI-{number:04d}", client_name.strip(), "unknown")
                    self.clients[client.client_id] = client
            else:
                raise DemoPmsError(400, "clientName is required (or clientId for a client the PMS knows)", "clientName")
            matter = Matter(
                reference=self._new_reference(),
                title=title,
                client_id=client.client_id,
                fee_earner=earner.code,
                opened_at=self.clock.now(),
                operate_id=operate_id,
                billing_arrangements=billing_arrangements,
                priority=priority,
                confidential=confidential,
                estimated_fees=pence(estimated_fees) if estimated_fees is not None else None,
            )
            self._add_matter(matter)
            return matter, True

    def open_demo_matter(self, priority: int, confidential: bool, billing_arrangements: str | None) -> Matter:
        """The official demo's `POST /api/matter`: it refuses matters below priority 5 (its own words)."""
        if priority < 5:
            raise DemoPmsError(400, "Can only incept matters with priority 5 or above in PMS", "priority")
        with self._lock:
            self._room_for("matters", self.matters)
            matter = Matter(
                reference=self._new_reference(),
                title=None,
                client_id=None,
                fee_earner=None,
                opened_at=self.clock.now(),
                billing_arrangements=billing_arrangements,
                priority=priority,
                confidential=confidential,
            )
            self._add_matter(matter)
            return matter

    def incept_matter(
        self,
        *,
        title: str,
        fee_earner: str,
        client_id: str | None = None,
        client_name: str | None = None,
        practice_area: str | None = None,
        billing_arrangements: str | None = None,
        estimated_fees: Decimal | None = None,
    ) -> Matter:
        """A matter opened in the PMS itself (no Operate id yet): it is queued for Operate (delivery.py),
        which sends it through Operate's public API and links the two when Operate has it."""
        area = practice_area or PRACTICE_AREAS[0]
        if area not in PRACTICE_AREAS:
            raise DemoPmsError(
                400, f"practiceArea must be one of {', '.join(PRACTICE_AREAS)}, not {area!r}", "practiceArea"
            )
        with self._lock:
            earner = self.fee_earner(fee_earner)
            if client_id:
                client = self._client(client_id, "clientId")
            elif client_name:
                client = self._client_named(client_name)
            else:
                raise DemoPmsError(400, "clientId (a client the PMS knows) or clientName is required", "clientId")
            self._room_for("matters", self.matters)
            matter = Matter(
                reference=self._new_reference(),
                title=title,
                client_id=client.client_id,
                fee_earner=earner.code,
                opened_at=self.clock.now(),
                billing_arrangements=billing_arrangements,
                estimated_fees=pence(estimated_fees) if estimated_fees is not None else None,
                practice_area=area,
            )
            self._add_matter(matter)
            self.outbox.queue("matter", matter.reference)
            return matter

    def _client_named(self, client_name: str) -> Client:
        """The client of that name (any letter case), or a new one."""
        wanted = client_name.strip().lower()
        client = next((c for c in self.clients.values() if c.name.lower() == wanted), None)
        if client is None:
            self._room_for("clients", self.clients)
            number = len(self.clients) + 1
            while f"CLI-{number:04d}" in self.clients:
                number += 1
            client = Client(f"CLI-{number:04d}", client_name.strip(), "unknown")
            self.clients[client.client_id] = client
        return client

    def link_matter(self, reference: str, operate_id: str) -> Matter:
        """Operate holds the PMS's matter as work item `operate_id` (what a delivery learnt)."""
        with self._lock:
            matter = self.get_matter(reference)
            owner = self._matters_by_operate.get(operate_id)
            if owner not in (None, reference):
                raise DemoPmsError(409, f"Operate work item {operate_id} is already linked to {owner}", "operateId")
            matter.operate_id = operate_id
            self._matters_by_operate[operate_id] = reference
            return matter

    def link_client(self, client_id: str, ods_id: str) -> Client:
        with self._lock:
            client = self._client(client_id, "clientId", status=404)
            client.operate_ods_id = ods_id
            return client

    def matter_json(self, matter: Matter) -> dict[str, Any]:
        with self._lock:
            client = self.clients.get(matter.client_id) if matter.client_id else None
            earner = self.fee_earners.get(matter.fee_earner) if matter.fee_earner else None
        return {
            "pmsReference": matter.reference,
            "operateId": matter.operate_id,
            "title": matter.title,
            "clientId": matter.client_id,
            "clientName": client.name if client else None,
            "feeEarner": matter.fee_earner,
            "feeEarnerName": earner.name if earner else None,
            "billingArrangements": matter.billing_arrangements,
            "priority": matter.priority,
            "confidential": matter.confidential,
            "estimatedFees": pounds(matter.estimated_fees) if matter.estimated_fees is not None else None,
            "status": matter.status,
            "practiceArea": matter.practice_area,
            "openedAt": iso(matter.opened_at),
            "currency": CURRENCY,
        }

    # --- the official demo's financials ledger ------------------------------------------------
    # As in the demo's PMSApi, any reference has a balance (0 until something is posted), so these
    # routes never answer 404: a reference from POST /api/matter or from anywhere else works.

    def _post_ledger(self, reference: str, delta: int, at: datetime) -> int:
        if reference not in self._ledgers:
            if len(self._ledgers) >= MAX_LEDGERS:
                raise DemoPmsError(409, f"the demo PMS keeps at most {MAX_LEDGERS} balances; POST /_fake/reset")
            self._ledgers[reference] = deque(maxlen=MAX_LEDGER_AUDIT)
        balance = self._balances.get(reference, 0) + delta
        self._balances[reference] = balance
        self._ledgers[reference].append(LedgerEntry(at, delta, balance))
        return balance

    def financials(self, reference: str) -> int:
        with self._lock:
            return self._balances.get(reference, 0)

    def post_financials(self, reference: str, delta: Decimal) -> int:
        with self._lock:
            return self._post_ledger(reference, pence(delta), self.clock.now())

    def financials_audit(self, reference: str) -> list[LedgerEntry]:
        with self._lock:
            return list(self._ledgers.get(reference, ()))

    # --- time --------------------------------------------------------------------------------

    def _new_time_entry(
        self,
        reference: str,
        fee_earner: str,
        minutes: int,
        work_date: date,
        narrative: str,
        operate_id: str | None,
        activity_code: str | None,
        rate: int | None,
    ) -> TimeEntry:
        earner = self.fee_earner(fee_earner)
        hourly = earner.hourly_rate if rate is None else rate
        value = int((Decimal(minutes) * hourly / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        entry = TimeEntry(
            entry_id=f"PMS-TIM-{self._next_time}",
            reference=reference,
            fee_earner=earner.code,
            minutes=minutes,
            rate=hourly,
            value=value,
            work_date=work_date,
            narrative=narrative,
            created_at=self.clock.now(),
            operate_id=operate_id,
            activity_code=activity_code,
        )
        self._next_time += 1
        self.time_entries[entry.entry_id] = entry
        self._matter_time[reference].append(entry)
        if operate_id:
            self._time_by_operate[operate_id] = entry.entry_id
        return entry

    def add_time_entry(
        self,
        reference: str,
        *,
        operate_id: str,
        fee_earner: str,
        minutes: int,
        work_date: date | None = None,
        narrative: str = "",
        activity_code: str | None = None,
        rate: Decimal | None = None,
    ) -> tuple[TimeEntry, bool]:
        """Post submitted time, keyed on the Operate time entry id: the same entry again returns the one
        already posted; the same id with other minutes, date, narrative or activity (time revised and
        submitted again in Operate) revises the posted entry in place while it is unbilled, keeping what it
        held in `revisions`, so one Operate entry stays one PMS entry and WIP moves by the difference.
        Billed time cannot change: 409 (the invoice would have to be credited first)."""
        with self._lock:
            matter = self.get_matter(reference)
            existing = self._time_by_operate.get(operate_id)
            if existing:
                entry = self.time_entries[existing]
                self._same_matter(entry.reference, reference, "operateTimeEntryId", operate_id)
                self._revise_time_entry(
                    entry, fee_earner, minutes, work_date, narrative, activity_code, pence(rate) if rate else None
                )
                return entry, False
            self._require_open(matter)
            self._room_for("time entries", self.time_entries)
            entry = self._new_time_entry(
                reference,
                fee_earner,
                minutes,
                work_date or self.clock.now().date(),
                narrative,
                operate_id,
                activity_code,
                pence(rate) if rate is not None else None,
            )
            return entry, True

    def _revise_time_entry(
        self,
        entry: TimeEntry,
        fee_earner: str,
        minutes: int,
        work_date: date | None,
        narrative: str,
        activity_code: str | None,
        rate: int | None,
    ) -> None:
        earner = self.fee_earner(fee_earner)
        hourly = entry.rate if rate is None and earner.code == entry.fee_earner else (rate or earner.hourly_rate)
        wanted = (earner.code, minutes, work_date or entry.work_date, narrative, activity_code, hourly)
        held = (entry.fee_earner, entry.minutes, entry.work_date, entry.narrative, entry.activity_code, entry.rate)
        if wanted == held:
            return
        if entry.invoice_id is not None:
            raise DemoPmsError(
                409,
                f"time entry {entry.entry_id} (Operate {entry.operate_id}) is billed on invoice {entry.invoice_id}; "
                f"billed time cannot be revised ({entry.minutes} min held, {minutes} min sent)",
                "operateTimeEntryId",
            )
        entry.revisions.append(
            {
                "minutes": entry.minutes,
                "value": pounds(entry.value),
                "feeEarner": entry.fee_earner,
                "date": entry.work_date.isoformat(),
                "narrative": entry.narrative,
                "activityCode": entry.activity_code,
                "revisedAt": iso(self.clock.now()),
            }
        )
        entry.fee_earner, entry.minutes, entry.work_date, entry.narrative = wanted[:4]
        entry.activity_code, entry.rate = activity_code, hourly
        entry.value = int((Decimal(minutes) * hourly / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def _same_matter(self, posted_to: str, asked: str, field_name: str, operate_id: str) -> None:
        if posted_to != asked:
            raise DemoPmsError(
                409, f"{field_name} {operate_id!r} was already posted to matter {posted_to}, not {asked}", field_name
            )

    @staticmethod
    def _require_open(matter: Matter) -> None:
        if matter.status != "open":
            raise DemoPmsError(409, f"matter {matter.reference} is {matter.status}; it takes no new postings")

    # --- disbursements -----------------------------------------------------------------------

    def _new_disbursement(
        self,
        reference: str,
        operate_id: str | None,
        amount: int,
        vat: int,
        description: str,
        supplier: Supplier | None,
        supplier_invoice_reference: str | None,
        fee_earner: str,
        incurred: date,
        supplier_name: str | None = None,
    ) -> Disbursement:
        disb = Disbursement(
            disbursement_id=f"PMS-DSB-{self._next_disbursement}",
            reference=reference,
            supplier_id=supplier.supplier_id if supplier else None,
            supplier_name=supplier.name if supplier else supplier_name,
            description=description,
            amount=amount,
            vat=vat,
            fee_earner=fee_earner,
            incurred_date=incurred,
            created_at=self.clock.now(),
            operate_id=operate_id,
            supplier_invoice_reference=supplier_invoice_reference,
        )
        self._next_disbursement += 1
        self.disbursements[disb.disbursement_id] = disb
        self._matter_disb[reference].append(disb)
        if operate_id:
            self._disb_by_operate[operate_id] = disb.disbursement_id
        return disb

    def add_disbursement(
        self,
        reference: str,
        *,
        operate_id: str,
        amount: Decimal,
        description: str,
        vat_amount: Decimal = Decimal("0"),
        supplier_id: str | None = None,
        supplier_name: str | None = None,
        supplier_invoice_reference: str | None = None,
        fee_earner: str | None = None,
        incurred_date: date | None = None,
    ) -> tuple[Disbursement, bool]:
        """Post an approved payment request as a disbursement; idempotent on the Operate payment request id."""
        with self._lock:
            matter = self.get_matter(reference)
            existing = self._disb_by_operate.get(operate_id)
            if existing:
                disb = self.disbursements[existing]
                self._same_matter(disb.reference, reference, "operatePaymentRequestId", operate_id)
                return disb, False
            self._require_open(matter)
            self._room_for("disbursements", self.disbursements)
            supplier = self.supplier(supplier_id) if supplier_id else None
            if supplier is None and not supplier_name:
                raise DemoPmsError(400, "supplierId is required (or supplierName for a one-off payee)", "supplierId")
            earner_code = self.fee_earner(fee_earner).code if fee_earner else matter.fee_earner
            disb = self._new_disbursement(
                reference,
                operate_id,
                pence(amount),
                pence(vat_amount),
                description,
                supplier,
                supplier_invoice_reference,
                earner_code or next(iter(self.fee_earners)),
                incurred_date or self.clock.now().date(),
                supplier_name=supplier_name,
            )
            return disb, True

    def get_disbursement(self, disbursement_id: str) -> Disbursement:
        with self._lock:
            disb = self.disbursements.get(disbursement_id)
        if disb is None:
            raise DemoPmsError(404, f"no disbursement {disbursement_id!r}")
        return disb

    def pay_disbursement(
        self,
        disbursement_id: str,
        *,
        payment_reference: str,
        paid_date: date | None = None,
        payment_method: str | None = None,
    ) -> Disbursement:
        """The finance team pays the supplier: the disbursement gets its payment details."""
        with self._lock:
            disb = self.get_disbursement(disbursement_id)
            if disb.status == "paid":
                if disb.payment_reference == payment_reference:
                    return disb
                raise DemoPmsError(
                    409,
                    f"disbursement {disbursement_id} was already paid with reference {disb.payment_reference!r}",
                    "paymentReference",
                )
            disb.status = "paid"
            disb.payment_reference = payment_reference
            disb.paid_date = paid_date or self.clock.now().date()
            disb.payment_method = payment_method or "BACS"
            if disb.operate_id:  # Operate's payment request learns it was paid (delivery.py)
                self.outbox.queue("payment", disb.disbursement_id)
            return disb

    # --- invoices ----------------------------------------------------------------------------

    def _store_invoice(self, invoice: Invoice) -> None:
        invoice.due_ordinal = invoice.due_date.toordinal()
        invoice.outstanding = invoice.gross - invoice.paid
        self.invoices[invoice.invoice_id] = invoice
        self._matter_invoices[invoice.reference].append(invoice)
        if invoice.operate_id:
            self._invoices_by_operate[invoice.operate_id] = invoice.invoice_id
        self._reindex(invoice)

    def _reindex(self, invoice: Invoice) -> None:
        """Keep the open-invoice indexes true after any change to an invoice's status or payments."""
        invoice.outstanding = invoice.gross - invoice.paid
        is_open = invoice.status in ("issued", "part-paid") and invoice.outstanding > 0
        by_matter = self._open_by_matter[invoice.reference]
        by_client = self._open_by_client.setdefault(invoice.client_id or "", {})
        if is_open:
            by_matter[invoice.invoice_id] = invoice
            by_client[invoice.invoice_id] = invoice
        else:
            by_matter.pop(invoice.invoice_id, None)
            by_client.pop(invoice.invoice_id, None)

    def _fees_changed(self, reference: str) -> None:
        """The matter's billed fees moved: Operate's actual fees follow (delivery.py), if Operate has the matter."""
        matter = self.matters.get(reference)
        if matter is not None and matter.operate_id and not self._seeding:
            self.outbox.queue("fees", reference)

    def _apply_receipt(self, invoice: Invoice, amount: int, received: date, reference: str | None) -> None:
        invoice.receipts.append(Receipt(amount, received, reference))
        invoice.paid += amount
        invoice.status = "paid" if invoice.paid >= invoice.gross else "part-paid"
        self._reindex(invoice)
        if invoice.operate_id and not self._seeding:  # Operate's invoice follows its status (delivery.py)
            self.outbox.queue("invoice", invoice.invoice_id)

    def add_invoice(
        self,
        reference: str,
        *,
        operate_id: str,
        net_amount: Decimal,
        vat_amount: Decimal = Decimal("0"),
        issued_date: date | None = None,
        due_date: date | None = None,
        narrative: str = "",
        status: str = "issued",
        bill_wip: bool = False,
    ) -> tuple[Invoice, bool]:
        """Post an Operate invoice; idempotent on its Operate id. `bill_wip` bills the matter's unbilled WIP."""
        if status not in ("draft", "issued"):
            raise DemoPmsError(400, f"status of a new invoice must be 'draft' or 'issued', not {status!r}", "status")
        with self._lock:
            matter = self.get_matter(reference)
            existing = self._invoices_by_operate.get(operate_id)
            if existing:
                invoice = self.invoices[existing]
                self._same_matter(invoice.reference, reference, "operateInvoiceId", operate_id)
                return invoice, False
            if pence(net_amount) <= 0:
                raise DemoPmsError(
                    400, "netAmount must be at least 0.01 (a smaller amount rounds to 0 pence)", "netAmount"
                )
            issued = issued_date or self.clock.now().date()
            due = due_date or issued + timedelta(days=30)
            if due < issued:
                raise DemoPmsError(400, "dueDate must not be before issuedDate", "dueDate")
            self._room_for("invoices", self.invoices)
            while f"PMS-INV-{self._next_invoice}" in self.invoices:
                self._next_invoice += 1
            invoice = Invoice(
                invoice_id=f"PMS-INV-{self._next_invoice}",
                reference=reference,
                client_id=matter.client_id,
                net=pence(net_amount),
                vat=pence(vat_amount),
                issued_date=issued,
                due_date=due,
                created_at=self.clock.now(),
                status=status,
                narrative=narrative,
                operate_id=operate_id,
            )
            self._next_invoice += 1
            self._store_invoice(invoice)
            if bill_wip:
                for entry in self._matter_time[reference]:
                    if entry.invoice_id is None:
                        entry.invoice_id = invoice.invoice_id
                for disb in self._matter_disb[reference]:
                    if disb.invoice_id is None:
                        disb.invoice_id = invoice.invoice_id
            if status == "issued":
                self._fees_changed(reference)
            return invoice, True

    def matter_time_entries(self, reference: str) -> list[TimeEntry]:
        with self._lock:
            self.get_matter(reference)
            return list(self._matter_time[reference])

    def matter_disbursements(self, reference: str) -> list[Disbursement]:
        with self._lock:
            self.get_matter(reference)
            return list(self._matter_disb[reference])

    def get_invoice(self, invoice_id: str) -> Invoice:
        with self._lock:
            invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise DemoPmsError(404, f"no invoice {invoice_id!r}")
        return invoice

    def matter_invoices(self, reference: str) -> list[Invoice]:
        with self._lock:
            self.get_matter(reference)
            return list(self._matter_invoices[reference])

    def set_invoice_status(self, invoice_id: str, status: str, amount_paid: Decimal | None = None) -> Invoice:
        """Move an invoice on: draft -> issued -> part-paid -> paid, or cancelled before any payment.

        `part-paid` needs `amount_paid` (the total paid so far); `paid` records a receipt for what is left.
        Setting the status an invoice already has is a no-op, so Operate can resend.
        """
        if status not in INVOICE_STATUSES:
            raise DemoPmsError(400, f"status must be one of {', '.join(INVOICE_STATUSES)}, not {status!r}", "status")
        with self._lock:
            invoice = self.get_invoice(invoice_id)
            current = invoice.status
            today = self.clock.now().date()
            paid_to = pence(amount_paid) if amount_paid is not None else None
            if status == current and status != "part-paid":
                return invoice

            def refuse() -> DemoPmsError:
                return DemoPmsError(409, f"invoice {invoice_id} is {current}; it cannot become {status}", "status")

            if status == "draft":
                raise refuse()
            if status == "issued":
                if current != "draft":
                    raise refuse()
                invoice.status = "issued"
                self._reindex(invoice)
                self._fees_changed(invoice.reference)
            elif status == "cancelled":
                if current not in ("draft", "issued") or invoice.paid:
                    raise refuse()
                invoice.status = "cancelled"
                self._reindex(invoice)
                if current == "issued":
                    self._fees_changed(invoice.reference)
            elif status == "part-paid":
                if current not in ("issued", "part-paid"):
                    raise refuse()
                if paid_to is None:
                    raise DemoPmsError(
                        400, "amountPaid is required for part-paid (the total paid so far)", "amountPaid"
                    )
                if not (0 < paid_to < invoice.gross):
                    raise DemoPmsError(
                        400,
                        f"amountPaid must be more than 0 and less than the gross {pounds(invoice.gross)}",
                        "amountPaid",
                    )
                if paid_to < invoice.paid:
                    raise DemoPmsError(
                        409,
                        f"amountPaid {pounds(paid_to)} is less than already received {pounds(invoice.paid)}",
                        "amountPaid",
                    )
                if paid_to > invoice.paid:
                    self._apply_receipt(invoice, paid_to - invoice.paid, today, None)
            else:  # paid
                if current not in ("issued", "part-paid"):
                    raise refuse()
                if paid_to is not None and paid_to != invoice.gross:
                    raise DemoPmsError(
                        400, f"amountPaid for paid must equal the gross {pounds(invoice.gross)}", "amountPaid"
                    )
                self._apply_receipt(invoice, invoice.gross - invoice.paid, today, None)
            return invoice

    def record_receipt(
        self, invoice_id: str, amount: Decimal, received_date: date | None = None, reference: str | None = None
    ) -> tuple[Invoice, bool]:
        """Cash received against an invoice: part-paid until nothing is outstanding, then paid.

        Idempotent on `reference`: the same reference with the same amount again changes nothing
        (created=False), even once the invoice is paid; the same reference with another amount is 409.
        """
        value = pence(amount)
        if value <= 0:
            raise DemoPmsError(400, "amount must be at least 0.01 (a smaller amount rounds to 0 pence)", "amount")
        with self._lock:
            invoice = self.get_invoice(invoice_id)
            if reference:
                earlier = next((r for r in invoice.receipts if r.reference == reference), None)
                if earlier is not None:
                    if earlier.amount == value:
                        return invoice, False
                    raise DemoPmsError(
                        409,
                        f"receipt {reference!r} was already recorded on {invoice_id} for {pounds(earlier.amount)}, "
                        f"not {pounds(value)}",
                        "reference",
                    )
            if invoice.status not in ("issued", "part-paid"):
                raise DemoPmsError(409, f"invoice {invoice_id} is {invoice.status}; it takes no payments")
            if len(invoice.receipts) >= MAX_RECEIPTS:
                raise DemoPmsError(507, f"invoice {invoice_id} holds at most {MAX_RECEIPTS} receipts")
            if value > invoice.outstanding:
                raise DemoPmsError(
                    400, f"amount {pounds(value)} is more than the outstanding {pounds(invoice.outstanding)}", "amount"
                )
            self._apply_receipt(invoice, value, received_date or self.clock.now().date(), reference)
            return invoice, True

    # --- reports -----------------------------------------------------------------------------

    def wip(self, reference: str) -> dict[str, Any]:
        """Unbilled time and disbursements on a matter, by fee earner."""
        with self._lock:
            self.get_matter(reference)
            rows: dict[str, list[int]] = {}  # code -> [minutes, time value, disbursements]
            for entry in self._matter_time[reference]:
                if entry.invoice_id is None:
                    row = rows.setdefault(entry.fee_earner, [0, 0, 0])
                    row[0] += entry.minutes
                    row[1] += entry.value
            for disb in self._matter_disb[reference]:
                if disb.invoice_id is None:
                    rows.setdefault(disb.fee_earner, [0, 0, 0])[2] += disb.amount
            order = list(self.fee_earners)
            earners = []
            for code in sorted(rows, key=lambda c: order.index(c) if c in order else len(order)):
                minutes, time_value, disb_value = rows[code]
                earner = self.fee_earners[code]
                earners.append(
                    {
                        "feeEarner": code,
                        "name": earner.name,
                        "hourlyRate": pounds(earner.hourly_rate),
                        "unbilledMinutes": minutes,
                        "unbilledTime": pounds(time_value),
                        "unbilledDisbursements": pounds(disb_value),
                        "total": pounds(time_value + disb_value),
                    }
                )
            time_total = sum(r[1] for r in rows.values())
            disb_total = sum(r[2] for r in rows.values())
            return {
                "pmsReference": reference,
                "asOf": iso(self.clock.now()),
                "currency": CURRENCY,
                "feeEarners": earners,
                "unbilledMinutes": sum(r[0] for r in rows.values()),
                "unbilledTime": pounds(time_total),
                "unbilledDisbursements": pounds(disb_total),
                "total": pounds(time_total + disb_total),
            }

    def aged_debt_for_matter(
        self, reference: str, as_of: datetime | None = None, detail: bool = False
    ) -> dict[str, Any]:
        with self._lock:
            self.get_matter(reference)
            report = self._age(self._open_by_matter[reference].values(), as_of, detail)
        return {"scope": "matter", "pmsReference": reference, **report}

    def aged_debt_for_client(
        self, client_id: str, as_of: datetime | None = None, detail: bool = False
    ) -> dict[str, Any]:
        with self._lock:
            client = self._client(client_id, "clientId", status=404)
            report = self._age(self._open_by_client.get(client.client_id, {}).values(), as_of, detail)
        return {"scope": "client", "clientId": client.client_id, "clientName": client.name, **report}

    def _age(self, invoices: Any, as_of: datetime | None, detail: bool) -> dict[str, Any]:
        """One pass over the open invoices only; each carries its due day number and outstanding pence."""
        moment = as_of or self.clock.now()
        today = moment.date().toordinal()
        a0 = a1 = a2 = a3 = 0
        n0 = n1 = n2 = n3 = 0
        not_due = 0
        for invoice in invoices:
            days = today - invoice.due_ordinal
            owed = invoice.outstanding
            if days <= 30:
                a0 += owed
                n0 += 1
                if days < 0:
                    not_due += owed
            elif days <= 60:
                a1 += owed
                n1 += 1
            elif days <= 90:
                a2 += owed
                n2 += 1
            else:
                a3 += owed
                n3 += 1
        amounts, counts = (a0, a1, a2, a3), (n0, n1, n2, n3)
        report: dict[str, Any] = {
            "asOf": iso(moment),
            "currency": CURRENCY,
            "buckets": [
                {"label": label, "amount": pounds(amount), "count": count}
                for label, amount, count in zip(AGEING_BUCKETS, amounts, counts, strict=True)
            ],
            "total": pounds(sum(amounts)),
            "notYetDue": pounds(not_due),
            "invoiceCount": sum(counts),
        }
        if detail:
            # The oldest first, at most MAX_DETAIL_ROWS of them, without sorting all 10,000.
            rows = heapq.nsmallest(MAX_DETAIL_ROWS + 1, invoices, key=lambda inv: (inv.due_ordinal, inv.invoice_id))
            report["invoices"] = [
                {
                    "invoiceId": inv.invoice_id,
                    "pmsReference": inv.reference,
                    "dueDate": inv.due_date.isoformat(),
                    "daysOverdue": today - inv.due_ordinal,
                    "bucket": ageing_bucket(today - inv.due_ordinal),
                    "grossAmount": pounds(inv.gross),
                    "amountPaid": pounds(inv.paid),
                    "outstanding": pounds(inv.outstanding),
                }
                for inv in rows[:MAX_DETAIL_ROWS]
            ]
            report["invoicesTruncated"] = len(rows) > MAX_DETAIL_ROWS
        return report

    def actual_fees(self, reference: str) -> dict[str, Any]:
        """Fees billed (net of VAT, issued invoices); what Operate compares with the estimate."""
        with self._lock:
            matter = self.get_matter(reference)
            billed = [i for i in self._matter_invoices[reference] if i.status in ("issued", "part-paid", "paid")]
            fees = sum(i.net for i in billed)
            paid = sum(i.paid for i in billed)
            unbilled = sum(e.value for e in self._matter_time[reference] if e.invoice_id is None)
            return {
                "pmsReference": reference,
                "asOf": iso(self.clock.now()),
                "currency": CURRENCY,
                "actualFees": pounds(fees),
                "paid": pounds(paid),
                "unbilledTime": pounds(unbilled),
                "estimatedFees": pounds(matter.estimated_fees) if matter.estimated_fees is not None else None,
                "invoiceCount": len(billed),
            }
