"""`DemoPmsAdapter`: the `PmsAdapter` over the demo PMS's HTTP API.

It is handed an `httpx.Client` and never asks where that client points: straight at the demo PMS
(base_url + the `X-API-Key` header), through Operate's proxy (`.../api/proxy/{service}/_` + an
Operate token; the proxy injects the key), or in process (`httpx.WSGITransport(create_app())`).
Transports are the seam; nothing is patched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from emulator.kernel.clock import iso, parse_instant

from ..base import (
    AGEING_BUCKETS,
    ActualFees,
    AgedDebt,
    AgedInvoice,
    DisbursementResult,
    FeeEarnerWip,
    InvoiceDetails,
    InvoiceResult,
    MatterInception,
    MatterRef,
    PaymentRequest,
    PmsError,
    PmsMatter,
    Supplier,
    TimeEntry,
    TimeEntryResult,
    Wip,
)

CENT = Decimal("0.01")
T = TypeVar("T")


def _seg(value: str) -> str:
    """One path segment: a reference with '/' or '?' in it must not change the route."""
    return quote(str(value), safe="")


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise PmsError(502, f"the PMS sent {value!r} where an amount belongs") from None


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise PmsError(502, f"the PMS sent {value!r} where a date belongs") from None


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


class DemoPmsAdapter:
    """Speak `PmsAdapter` to the demo PMS; every failure comes out as `PmsError`."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    # --- plumbing ----------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        try:
            response = self.client.request(method, path, json=body, params=params)
        except httpx.TimeoutException:
            raise PmsError(504, f"the PMS did not answer {method} {path} in time") from None
        except httpx.TransportError as exc:
            raise PmsError(502, f"cannot reach the PMS for {method} {path}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise PmsError(response.status_code, self._reason(response))
        try:
            return response.status_code, response.json()
        except ValueError:
            raise PmsError(
                502, f"the PMS answered {method} {path} with malformed JSON ({response.text[:80]!r})"
            ) from None

    @staticmethod
    def _reason(response: httpx.Response) -> str:
        try:
            data = response.json()
        except ValueError:
            return response.text[:300] or response.reason_phrase
        if isinstance(data, dict):
            message = data.get("message") or data.get("title") or data.get("error")  # the PMS's, or Operate's
            if isinstance(message, str) and message:
                return message
        return response.text[:300]

    def _read(self, path: str, what: str, build: Callable[[Any], T], params: dict[str, str] | None = None) -> T:
        """GET `path` and build the result from the answer (every read goes the same way)."""
        _, data = self._call("GET", path, params=params)
        return self._shape(data, what, build)

    def _write(self, method: str, path: str, body: dict[str, Any], what: str, build: Callable[[Any, bool], T]) -> T:
        """Send `body` (fields left None are not sent) and build the result; `build` is told whether the PMS made
        a new record (201) or answered with the one an earlier send made (the writes are idempotent)."""
        status, data = self._call(method, path, _drop_none(body))
        return self._shape(data, what, lambda d: build(d, status == 201))

    @staticmethod
    def _shape(data: Any, what: str, build: Any) -> Any:
        """Turn a JSON answer into a result; a missing or wrong field is the PMS's fault (502).

        ValueError too: `int("lots")` on a count the PMS sent as text must not escape as anything but PmsError."""
        try:
            return build(data)
        except PmsError:
            raise
        except (KeyError, TypeError, AttributeError) as exc:
            raise PmsError(502, f"unexpected {what} from the PMS: missing or wrong {exc}") from None
        except ValueError as exc:
            raise PmsError(502, f"unexpected {what} from the PMS: a value of the wrong kind ({exc})") from None

    # --- matters -----------------------------------------------------------------------------

    def open_matter(self, matter: MatterInception) -> MatterRef:
        body = {
            "operateId": matter.operate_id,
            "title": matter.title,
            "clientName": matter.client_name,
            "clientId": matter.client_id,
            "feeEarner": matter.fee_earner,
            "billingArrangements": matter.billing_arrangements,
            "priority": matter.priority,
            "confidential": matter.confidential,
            "estimatedFees": _num(matter.estimated_fees),
        }
        return self._write(
            "POST", "/api/matters", body, "matter", lambda d, created: MatterRef(d["pmsReference"], created)
        )

    def get_matter(self, pms_reference: str) -> PmsMatter:
        return self._read(
            f"/api/matters/{_seg(pms_reference)}",
            "matter",
            lambda d: PmsMatter(
                pms_reference=d["pmsReference"],
                title=d["title"] or "",
                client_id=d.get("clientId"),
                client_name=d.get("clientName"),
                fee_earner=d.get("feeEarner"),
                status=d["status"],
                operate_id=d.get("operateId"),
                billing_arrangements=d.get("billingArrangements"),
                priority=d.get("priority"),
            ),
        )

    # --- disbursements -----------------------------------------------------------------------

    def send_disbursement(self, pms_reference: str, payment: PaymentRequest) -> DisbursementResult:
        body = {
            "operatePaymentRequestId": payment.operate_payment_request_id,
            "amount": _num(payment.amount),
            "vatAmount": _num(payment.vat_amount),
            "currency": payment.currency,
            "description": payment.description,
            "supplierId": payment.supplier_id,
            "supplierInvoiceReference": payment.supplier_invoice_reference,
            "feeEarner": payment.fee_earner,
            "incurredDate": payment.incurred_date.isoformat() if payment.incurred_date else None,
        }
        path = f"/api/matters/{_seg(pms_reference)}/disbursements"
        return self._write("POST", path, body, "disbursement", self._disbursement)

    def get_disbursement(self, disbursement_id: str) -> DisbursementResult:
        path = f"/api/disbursements/{_seg(disbursement_id)}"
        return self._read(path, "disbursement", lambda d: self._disbursement(d, created=False))

    @staticmethod
    def _disbursement(d: dict[str, Any], created: bool) -> DisbursementResult:
        return DisbursementResult(
            disbursement_id=d["disbursementId"],
            status=d["status"],
            created=created,
            payment_reference=d.get("paymentReference"),
            paid_date=_day(d["paidDate"]) if d.get("paidDate") else None,
        )

    # --- time --------------------------------------------------------------------------------

    def send_time_entry(self, pms_reference: str, entry: TimeEntry) -> TimeEntryResult:
        body = {
            "operateTimeEntryId": entry.operate_time_entry_id,
            "feeEarner": entry.fee_earner,
            "minutes": entry.minutes,
            "date": entry.work_date.isoformat() if entry.work_date else None,
            "narrative": entry.narrative or None,
            "activityCode": entry.activity_code,
        }
        return self._write(
            "POST",
            f"/api/matters/{_seg(pms_reference)}/time",
            body,
            "time entry",
            lambda d, created: TimeEntryResult(d["timeEntryId"], _money(d["value"]), created),
        )

    # --- invoices ----------------------------------------------------------------------------

    def send_invoice(self, pms_reference: str, invoice: InvoiceDetails) -> InvoiceResult:
        body = {
            "operateInvoiceId": invoice.operate_invoice_id,
            "netAmount": _num(invoice.net_amount),
            "vatAmount": _num(invoice.vat_amount),
            "issuedDate": invoice.issued_date.isoformat() if invoice.issued_date else None,
            "dueDate": invoice.due_date.isoformat() if invoice.due_date else None,
            "narrative": invoice.narrative or None,
            "status": invoice.status,
            "billWip": invoice.bill_wip,
        }
        return self._write("POST", f"/api/matters/{_seg(pms_reference)}/invoices", body, "invoice", self._invoice)

    def update_invoice_status(self, invoice_id: str, status: str, amount_paid: Decimal | None = None) -> InvoiceResult:
        return self._write(
            "PUT",
            f"/api/invoices/{_seg(invoice_id)}/status",
            {"status": status, "amountPaid": _num(amount_paid)},
            "invoice",
            lambda d, _created: self._invoice(d, created=False),
        )

    @staticmethod
    def _invoice(d: dict[str, Any], created: bool) -> InvoiceResult:
        return InvoiceResult(
            invoice_id=d["invoiceId"],
            status=d["status"],
            gross_amount=_money(d["grossAmount"]),
            amount_paid=_money(d["amountPaid"]),
            outstanding=_money(d["outstanding"]),
            due_date=_day(d["dueDate"]),
            created=created,
        )

    # --- reports -----------------------------------------------------------------------------

    def wip(self, pms_reference: str) -> Wip:
        return self._read(
            f"/api/matters/{_seg(pms_reference)}/wip",
            "WIP",
            lambda d: Wip(
                pms_reference=d["pmsReference"],
                fee_earners=tuple(
                    FeeEarnerWip(
                        fee_earner=row["feeEarner"],
                        name=row["name"],
                        unbilled_minutes=int(row["unbilledMinutes"]),
                        unbilled_time=_money(row["unbilledTime"]),
                        unbilled_disbursements=_money(row["unbilledDisbursements"]),
                    )
                    for row in d["feeEarners"]
                ),
                unbilled_time=_money(d["unbilledTime"]),
                unbilled_disbursements=_money(d["unbilledDisbursements"]),
                total=_money(d["total"]),
                currency=d.get("currency", "GBP"),
            ),
        )

    def aged_debt_for_matter(self, pms_reference: str, as_of: datetime | None = None, detail: bool = False) -> AgedDebt:
        return self._aged(f"/api/matters/{_seg(pms_reference)}/aged-debt", as_of, detail)

    def aged_debt_for_client(self, client_id: str, as_of: datetime | None = None, detail: bool = False) -> AgedDebt:
        return self._aged(f"/api/clients/{_seg(client_id)}/aged-debt", as_of, detail)

    def _aged(self, path: str, as_of: datetime | None, detail: bool) -> AgedDebt:
        params = _drop_none({"asOf": iso(as_of) if as_of else None, "detail": "true" if detail else None})

        def build(d: dict[str, Any]) -> AgedDebt:
            buckets = {row["label"]: row for row in d["buckets"]}
            if list(buckets) != list(AGEING_BUCKETS):
                raise KeyError(f"buckets {list(buckets)}")
            try:
                when = parse_instant(d["asOf"])
            except ValueError:
                raise KeyError("asOf") from None
            return AgedDebt(
                as_of=when,
                buckets={label: _money(row["amount"]) for label, row in buckets.items()},
                counts={label: int(row["count"]) for label, row in buckets.items()},
                total=_money(d["total"]),
                not_yet_due=_money(d["notYetDue"]),
                pms_reference=d.get("pmsReference"),
                client_id=d.get("clientId"),
                currency=d.get("currency", "GBP"),
                invoices=tuple(
                    AgedInvoice(
                        invoice_id=row["invoiceId"],
                        pms_reference=row["pmsReference"],
                        due_date=_day(row["dueDate"]),
                        days_overdue=int(row["daysOverdue"]),
                        bucket=row["bucket"],
                        outstanding=_money(row["outstanding"]),
                    )
                    for row in d.get("invoices") or ()
                ),
            )

        return self._read(path, "aged debt", build, params=params or None)

    def actual_fees(self, pms_reference: str) -> ActualFees:
        return self._read(
            f"/api/matters/{_seg(pms_reference)}/actual-fees",
            "actual fees",
            lambda d: ActualFees(
                pms_reference=d["pmsReference"],
                actual_fees=_money(d["actualFees"]),
                paid=_money(d["paid"]),
                unbilled_time=_money(d["unbilledTime"]),
                currency=d.get("currency", "GBP"),
            ),
        )

    def suppliers(self) -> list[Supplier]:
        return self._read(
            "/api/suppliers",
            "supplier list",
            lambda d: [
                Supplier(
                    supplier_id=row["supplierId"],
                    name=row["name"],
                    category=row["category"],
                    vat_number=row.get("vatNumber"),
                    operate_ods_id=row.get("operateOdsId"),
                    payment_terms_days=row.get("paymentTermsDays"),
                )
                for row in d["suppliers"]
            ],
        )
