"""Work recorded on a matter: time entries (and their revisions) and disbursements (paid to suppliers)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from emulator.kernel.clock import iso

from .records import (
    DemoPmsError,
    Disbursement,
    Supplier,
    TimeEntry,
    pence,
    pounds,
)


class WorkBook:
    """DemoPmsBackend's time entries and disbursements: a part of the backend, working on its books under its lock."""

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
        self._file(entry, entry.entry_id, self.time_entries, self._matter_time, self._time_by_operate)
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
            entry = self._posted_before(
                self._time_by_operate, self.time_entries, operate_id, reference, "operateTimeEntryId"
            )
            if entry is not None:
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
        self._file(disb, disb.disbursement_id, self.disbursements, self._matter_disb, self._disb_by_operate)
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
            earlier = self._posted_before(
                self._disb_by_operate, self.disbursements, operate_id, reference, "operatePaymentRequestId"
            )
            if earlier is not None:
                return earlier, False
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
        return self._found(self.disbursements, disbursement_id, f"no disbursement {disbursement_id!r}")

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

    def matter_time_entries(self, reference: str) -> list[TimeEntry]:
        return self._of_matter(self._matter_time, reference)

    def matter_disbursements(self, reference: str) -> list[Disbursement]:
        return self._of_matter(self._matter_disb, reference)
