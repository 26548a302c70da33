"""The figures the finance widgets show: WIP, aged debt (by matter or client) and actual fees."""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any

from emulator.kernel.clock import iso

from ....base import AGEING_BUCKETS, ageing_bucket
from .records import (
    CURRENCY,
    MAX_DETAIL_ROWS,
    pounds,
)


class FigureBook:
    """DemoPmsBackend's figures: a part of the backend, reading its books under its lock."""

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
