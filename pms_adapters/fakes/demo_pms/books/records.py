"""The demo PMS's records (matters, clients, time, disbursements, invoices, faults, ...), its error and
its limits: what every book module and the HTTP layer share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from emulator.kernel.clock import iso

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
