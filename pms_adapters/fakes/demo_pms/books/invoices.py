"""Invoices and receipts: issuing, status changes, money received, and what each tells Operate."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from .records import (
    INVOICE_STATUSES,
    MAX_RECEIPTS,
    DemoPmsError,
    Invoice,
    Receipt,
    pence,
    pounds,
)

# The statuses an invoice may be moved to each status from (a draft is never gone back to; a cancelled
# invoice must also have had no payment).
MOVES_FROM: dict[str, tuple[str, ...]] = {
    "draft": (),
    "issued": ("draft",),
    "cancelled": ("draft", "issued"),
    "part-paid": ("issued", "part-paid"),
    "paid": ("issued", "part-paid"),
}


class InvoiceBook:
    """DemoPmsBackend's invoices and receipts: a part of the backend, working on its books under its lock."""

    def _store_invoice(self, invoice: Invoice) -> None:
        invoice.due_ordinal = invoice.due_date.toordinal()
        invoice.outstanding = invoice.gross - invoice.paid
        self._file(invoice, invoice.invoice_id, self.invoices, self._matter_invoices, self._invoices_by_operate)
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
            earlier = self._posted_before(
                self._invoices_by_operate, self.invoices, operate_id, reference, "operateInvoiceId"
            )
            if earlier is not None:
                return earlier, False
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

    def get_invoice(self, invoice_id: str) -> Invoice:
        return self._found(self.invoices, invoice_id, f"no invoice {invoice_id!r}")

    def matter_invoices(self, reference: str) -> list[Invoice]:
        return self._of_matter(self._matter_invoices, reference)

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
            if current not in MOVES_FROM[status] or (status == "cancelled" and invoice.paid):
                raise DemoPmsError(409, f"invoice {invoice_id} is {current}; it cannot become {status}", "status")
            if status == "issued":
                invoice.status = "issued"
                self._reindex(invoice)
                self._fees_changed(invoice.reference)
            elif status == "cancelled":
                invoice.status = "cancelled"
                self._reindex(invoice)
                if current == "issued":
                    self._fees_changed(invoice.reference)
            elif status == "part-paid":
                self._pay_part(invoice, paid_to, today)
            else:  # paid
                if paid_to is not None and paid_to != invoice.gross:
                    raise DemoPmsError(
                        400, f"amountPaid for paid must equal the gross {pounds(invoice.gross)}", "amountPaid"
                    )
                self._apply_receipt(invoice, invoice.gross - invoice.paid, today, None)
            return invoice

    def _pay_part(self, invoice: Invoice, paid_to: int | None, today: date) -> None:
        """Part-paid: `paid_to` is the total paid so far, between nothing and the gross, never less than
        what was already received; the difference (if any) is a receipt of today."""
        if paid_to is None:
            raise DemoPmsError(400, "amountPaid is required for part-paid (the total paid so far)", "amountPaid")
        if not (0 < paid_to < invoice.gross):
            raise DemoPmsError(
                400, f"amountPaid must be more than 0 and less than the gross {pounds(invoice.gross)}", "amountPaid"
            )
        if paid_to < invoice.paid:
            raise DemoPmsError(
                409,
                f"amountPaid {pounds(paid_to)} is less than already received {pounds(invoice.paid)}",
                "amountPaid",
            )
        if paid_to > invoice.paid:
            self._apply_receipt(invoice, paid_to - invoice.paid, today, None)

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
