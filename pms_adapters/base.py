"""The one interface the toolkit's own Python tools talk to when they need a practice management system (PMS).

`operate pms push-suppliers | push-actual-fees` (push.py), library users through
`emulator.linked_services.adapter("<service>")` (registry.py names the adapters) and tests speak
`PmsAdapter`; each PMS (the demo finance system, Clio Manage, ...) gets one implementation. Plans and
widgets do not: their JavaScript calls the PMS's own API through Operate's proxy,
`/api/proxy/<service>/_/...`, as on a real tenant. The methods follow the finance integration table
(seed 002): matter inception, disbursements (approved payment requests), time entries, invoices,
WIP, aged debt, actual fees and suppliers.

Money is `Decimal` in pounds and pence; instants are timezone-aware UTC `datetime`s; calendar dates
(due dates, work dates) are `date`s. Every failure, whatever its cause, is one `PmsError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

# Aged-debt buckets by days past the DUE date. "0-30" also holds invoices that are not yet due.
AGEING_LIMITS: tuple[int, ...] = (30, 60, 90)  # the last day of each bucket but the open-ended last one
AGEING_BUCKETS: tuple[str, ...] = ("0-30", "31-60", "61-90", "90+")


def ageing_bucket(days_overdue: int) -> str:
    """The bucket an invoice this many days past its due date falls in (not yet due: the first)."""
    for limit, label in zip(AGEING_LIMITS, AGEING_BUCKETS, strict=False):
        if days_overdue <= limit:
            return label
    return AGEING_BUCKETS[-1]


# Invoice statuses, named after the demo solution's invoice phases (invoice-draft, invoice-issued, ...).
INVOICE_STATUSES: tuple[str, ...] = ("draft", "issued", "part-paid", "paid", "cancelled")


class PmsError(Exception):
    """Anything that went wrong talking to a PMS: its HTTP status (or 502/504 for transport trouble) and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


# --- what Operate sends -------------------------------------------------------------------------


@dataclass(frozen=True)
class MatterInception:
    """A matter incepted in Operate, as sent to the PMS (Operate -> PMS, event driven)."""

    operate_id: str
    title: str
    client_name: str
    fee_earner: str  # the PMS fee-earner code, user name, name or Operate ODS id
    client_id: str | None = None  # the PMS client id (or the client's Operate ODS id) when known
    billing_arrangements: str | None = None
    priority: int | None = None
    confidential: bool = False
    estimated_fees: Decimal | None = None


@dataclass(frozen=True)
class PaymentRequest:
    """An approved Operate payment request, sent to the PMS as a disbursement on the matter."""

    operate_payment_request_id: str
    amount: Decimal  # net of VAT
    description: str
    vat_amount: Decimal = Decimal("0")
    currency: str = "GBP"
    supplier_id: str | None = None  # PMS supplier id or the payee's Operate ODS id
    supplier_invoice_reference: str | None = None
    fee_earner: str | None = None
    incurred_date: date | None = None


@dataclass(frozen=True)
class TimeEntry:
    """Submitted time from Operate."""

    operate_time_entry_id: str
    fee_earner: str
    minutes: int
    work_date: date | None = None
    narrative: str = ""
    activity_code: str | None = None


@dataclass(frozen=True)
class InvoiceDetails:
    """An Operate invoice sent to the PMS when its status says so."""

    operate_invoice_id: str
    net_amount: Decimal
    vat_amount: Decimal = Decimal("0")
    issued_date: date | None = None
    due_date: date | None = None  # the PMS defaults to issued + 30 days
    narrative: str = ""
    status: str = "issued"  # or "draft"
    bill_wip: bool = False  # mark the matter's unbilled time and disbursements as billed on this invoice


# --- what the PMS answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class MatterRef:
    pms_reference: str
    created: bool  # False when the PMS already had this Operate matter (inception is idempotent)


@dataclass(frozen=True)
class PmsMatter:
    pms_reference: str
    title: str
    client_id: str | None
    client_name: str | None
    fee_earner: str | None
    status: str
    operate_id: str | None = None
    billing_arrangements: str | None = None
    priority: int | None = None


@dataclass(frozen=True)
class DisbursementResult:
    disbursement_id: str
    status: str  # "awaiting-payment" until the PMS pays the supplier, then "paid"
    created: bool = True
    payment_reference: str | None = None
    paid_date: date | None = None


@dataclass(frozen=True)
class TimeEntryResult:
    time_entry_id: str
    value: Decimal
    created: bool = True


@dataclass(frozen=True)
class InvoiceResult:
    invoice_id: str
    status: str
    gross_amount: Decimal
    amount_paid: Decimal
    outstanding: Decimal
    due_date: date
    created: bool = True


@dataclass(frozen=True)
class FeeEarnerWip:
    fee_earner: str
    name: str
    unbilled_minutes: int
    unbilled_time: Decimal
    unbilled_disbursements: Decimal


@dataclass(frozen=True)
class Wip:
    """Unbilled time and disbursements on a matter, by fee earner."""

    pms_reference: str
    fee_earners: tuple[FeeEarnerWip, ...]
    unbilled_time: Decimal
    unbilled_disbursements: Decimal
    total: Decimal
    currency: str = "GBP"


@dataclass(frozen=True)
class AgedInvoice:
    invoice_id: str
    pms_reference: str
    due_date: date
    days_overdue: int  # negative when not yet due
    bucket: str
    outstanding: Decimal


@dataclass(frozen=True)
class AgedDebt:
    """Outstanding invoices by days past due, as of one instant."""

    as_of: datetime
    buckets: dict[str, Decimal]  # keys are AGEING_BUCKETS, in order
    counts: dict[str, int]
    total: Decimal
    not_yet_due: Decimal  # part of the "0-30" bucket
    pms_reference: str | None = None  # set for a matter's aged debt
    client_id: str | None = None  # set for a client's aged debt
    currency: str = "GBP"
    invoices: tuple[AgedInvoice, ...] = field(default=())  # only when asked for detail


@dataclass(frozen=True)
class ActualFees:
    """Fees billed on a matter (net of VAT): what Operate compares with the estimate."""

    pms_reference: str
    actual_fees: Decimal
    paid: Decimal
    unbilled_time: Decimal
    currency: str = "GBP"


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    name: str
    category: str
    vat_number: str | None = None
    operate_ods_id: str | None = None
    payment_terms_days: int | None = None


@runtime_checkable
class PmsAdapter(Protocol):
    """What the product needs from a PMS. Implementations raise `PmsError` for every failure."""

    def open_matter(self, matter: MatterInception) -> MatterRef:
        """Matter inception; sending the same Operate matter twice returns the first reference."""
        ...

    def get_matter(self, pms_reference: str) -> PmsMatter: ...

    def send_disbursement(self, pms_reference: str, payment: PaymentRequest) -> DisbursementResult:
        """Post an approved payment request; idempotent on its Operate id."""
        ...

    def get_disbursement(self, disbursement_id: str) -> DisbursementResult:
        """Read a disbursement back, to learn whether (and how) the PMS has paid it."""
        ...

    def send_time_entry(self, pms_reference: str, entry: TimeEntry) -> TimeEntryResult:
        """Post submitted time; idempotent on its Operate id."""
        ...

    def send_invoice(self, pms_reference: str, invoice: InvoiceDetails) -> InvoiceResult:
        """Post an invoice; idempotent on its Operate id."""
        ...

    def update_invoice_status(
        self, invoice_id: str, status: str, amount_paid: Decimal | None = None
    ) -> InvoiceResult: ...

    def wip(self, pms_reference: str) -> Wip: ...

    def aged_debt_for_matter(
        self, pms_reference: str, as_of: datetime | None = None, detail: bool = False
    ) -> AgedDebt: ...

    def aged_debt_for_client(self, client_id: str, as_of: datetime | None = None, detail: bool = False) -> AgedDebt: ...

    def actual_fees(self, pms_reference: str) -> ActualFees: ...

    def suppliers(self) -> list[Supplier]: ...
