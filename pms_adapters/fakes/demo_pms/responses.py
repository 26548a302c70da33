"""HTTP in and out for the demo PMS (moto's `responses.py`): read and check JSON, call the backend, answer JSON.

Every refusal is `{"status", "error", "message", "field"}` with a 4xx status, and `field` names the
JSON property (or query parameter) at fault, so a plan's log says what to fix.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, jsonify, request

from emulator.kernel.clock import iso, parse_instant

from .models import (
    CURRENCY,
    MAX_FAULT_DELAY,
    MAX_PENCE,
    PAYMENT_METHODS,
    DemoPmsBackend,
    DemoPmsError,
    pence,
    pounds,
)

MAX_TEXT = 2000


def bad(field: str, message: str) -> DemoPmsError:
    return DemoPmsError(400, message, field)


class Body:
    """A JSON object from the request, read field by field with messages that name the field."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    def from_request(cls) -> Body:
        data = request.get_json(silent=True, force=True)
        if not isinstance(data, dict):
            raise DemoPmsError(400, 'the request body must be a JSON object, like {"title": "..."}')
        return cls(data)

    def _value(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise bad(name, f"{name} is required")
            return None
        return value

    def text(self, name: str, *, required: bool = False, max_len: int = 500) -> str | None:
        value = self._value(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise bad(name, f"{name} must be a string")
        value = str(value).strip()
        if len(value) > max_len:
            raise bad(name, f"{name} is longer than {max_len} characters")
        return value

    def money(
        self, name: str, *, required: bool = False, positive: bool = False, signed: bool = False
    ) -> Decimal | None:
        value = self._value(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise bad(name, f"{name} must be a number of pounds, like 245.00")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise bad(name, f"{name} must be a number of pounds, like 245.00, not {value!r}") from None
        if not amount.is_finite():
            raise bad(name, f"{name} must be a finite number")
        if abs(amount) * 100 > MAX_PENCE:
            raise bad(name, f"{name} is too large")
        if positive and amount <= 0:
            raise bad(name, f"{name} must be more than 0")
        if positive and pence(amount) <= 0:
            raise bad(name, f"{name} must be at least 0.01: {value!r} rounds to 0 pence")
        if not signed and amount < 0:
            raise bad(name, f"{name} must not be negative")
        return amount

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self._value(name, required)
        if value is None:
            return None
        number: int | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 12:
            number = int(value.strip())  # as .NET's web JSON settings do: numbers may arrive as strings
        if number is None:
            raise bad(name, f"{name} must be a whole number, not {value!r}")
        if minimum is not None and number < minimum:
            raise bad(name, f"{name} must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise bad(name, f"{name} must be at most {maximum}")
        return number

    def number(self, name: str, *, minimum: float, maximum: float) -> float | None:
        value = self._value(name, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise bad(name, f"{name} must be a number")
        if not (minimum <= value <= maximum):
            raise bad(name, f"{name} must be between {minimum:g} and {maximum:g}")
        return float(value)

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise bad(name, f"{name} must be true or false")
        return value

    def day(self, name: str) -> date | None:
        value = self._value(name, False)
        if value is None:
            return None
        return parse_day(value, name)


def parse_day(value: Any, name: str) -> date:
    """A calendar date, `2026-03-07`, or an ISO instant whose UTC date is taken."""
    if not isinstance(value, str):
        raise bad(name, f"{name} must be a date like 2026-03-07")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        pass
    try:
        return parse_instant(value).date()
    except ValueError:
        raise bad(name, f"{name} must be a date like 2026-03-07, not {value[:40]!r}") from None


def query_instant(name: str) -> datetime | None:
    value = request.args.get(name)
    if value is None or not value.strip():
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise bad(name, f"{name} must be an ISO 8601 instant like 2026-03-07T09:00:00Z, not {value[:40]!r}") from None


def query_flag(name: str) -> bool:
    value = (request.args.get(name) or "").strip().lower()
    if value in ("", "false", "0", "no"):
        return False
    if value in ("true", "1", "yes"):
        return True
    raise bad(name, f"{name} must be true or false")


def answer(data: Any, status: int = 200) -> Response:
    response = jsonify(data)
    response.status_code = status
    return response


def error_response(status: int, message: str, field: str | None = None, **extra: Any) -> Response:
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return answer({"status": status, "error": phrase, "message": message, "field": field, **extra}, status)


class DemoPmsResponses:
    """One method per route; `urls.py` says which."""

    def __init__(self, backend: DemoPmsBackend) -> None:
        self.backend = backend

    # --- matters -----------------------------------------------------------------------------

    def create_matter(self) -> Response:
        body = Body.from_request()
        operate_id = body.text("operateId", required=True, max_len=100)
        title = body.text("title", required=True)
        fee_earner = body.text("feeEarner", required=True, max_len=100)
        client_id = body.text("clientId", max_len=100)
        client_name = body.text("clientName", required=client_id is None)
        matter, created = self.backend.open_matter(
            operate_id=operate_id or "",
            title=title or "",
            fee_earner=fee_earner or "",
            client_name=client_name,
            client_id=client_id,
            billing_arrangements=body.text("billingArrangements", max_len=100),
            priority=body.integer("priority", minimum=0, maximum=100),
            confidential=body.boolean("confidential"),
            estimated_fees=body.money("estimatedFees"),
        )
        return answer(self.backend.json_of(matter), 201 if created else 200)

    def incept_matter(self) -> Response:
        """A matter opened in the PMS (no Operate id): the delivery worker sends it to Operate."""
        body = Body.from_request()
        client_id = body.text("clientId", max_len=100)
        matter = self.backend.incept_matter(
            title=body.text("title", required=True) or "",
            fee_earner=body.text("feeEarner", required=True, max_len=100) or "",
            client_id=client_id,
            client_name=body.text("clientName", required=client_id is None),
            practice_area=body.text("practiceArea", max_len=50),
            billing_arrangements=body.text("billingArrangements", max_len=100),
            estimated_fees=body.money("estimatedFees"),
        )
        return answer(self.backend.json_of(matter), 201)

    def list_matters(self) -> Response:
        matters = self.backend.matters_json(
            operate_id=request.args.get("operateId") or None, client_id=request.args.get("clientId") or None
        )
        return answer({"matters": matters})

    def get_matter(self, ref: str) -> Response:
        return answer(self.backend.json_of(self.backend.get_matter(ref)))

    # --- disbursements -----------------------------------------------------------------------

    def create_disbursement(self, ref: str) -> Response:
        self.backend.get_matter(ref)  # 404 before 400: the route names a matter that must exist
        body = Body.from_request()
        currency = body.text("currency", max_len=3) or CURRENCY
        if currency.upper() != CURRENCY:
            raise bad("currency", f"currency must be {CURRENCY}: the demo PMS keeps its books in pounds")
        disb, created = self.backend.add_disbursement(
            ref,
            operate_id=body.text("operatePaymentRequestId", required=True, max_len=100) or "",
            amount=body.money("amount", required=True, positive=True) or Decimal(0),
            vat_amount=body.money("vatAmount") or Decimal(0),
            description=body.text("description", required=True, max_len=MAX_TEXT) or "",
            supplier_id=body.text("supplierId", max_len=100),
            supplier_name=body.text("supplierName"),
            supplier_invoice_reference=body.text("supplierInvoiceReference", max_len=100),
            fee_earner=body.text("feeEarner", max_len=100),
            incurred_date=body.day("incurredDate"),
        )
        return answer(self.backend.json_of(disb), 201 if created else 200)

    def list_disbursements(self, ref: str) -> Response:
        return answer({"pmsReference": ref, "disbursements": self.backend.disbursements_json(ref)})

    def get_disbursement(self, disbursement_id: str) -> Response:
        return answer(self.backend.json_of(self.backend.get_disbursement(disbursement_id)))

    def pay_disbursement(self, disbursement_id: str) -> Response:
        self.backend.get_disbursement(disbursement_id)
        body = Body.from_request()
        method = body.text("paymentMethod", max_len=20)
        if method is not None and method not in PAYMENT_METHODS:
            raise bad("paymentMethod", f"paymentMethod must be one of {', '.join(PAYMENT_METHODS)}, not {method!r}")
        disb = self.backend.pay_disbursement(
            disbursement_id,
            payment_reference=body.text("paymentReference", required=True, max_len=100) or "",
            paid_date=body.day("paidDate"),
            payment_method=method,
        )
        return answer(self.backend.json_of(disb))

    # --- time --------------------------------------------------------------------------------

    def create_time_entry(self, ref: str) -> Response:
        self.backend.get_matter(ref)
        body = Body.from_request()
        entry, created = self.backend.add_time_entry(
            ref,
            operate_id=body.text("operateTimeEntryId", required=True, max_len=100) or "",
            fee_earner=body.text("feeEarner", required=True, max_len=100) or "",
            minutes=body.integer("minutes", required=True, minimum=1, maximum=24 * 60) or 0,
            work_date=body.day("date"),
            narrative=body.text("narrative", max_len=MAX_TEXT) or "",
            activity_code=body.text("activityCode", max_len=50),
            rate=body.money("hourlyRate", positive=True),
        )
        return answer(self.backend.json_of(entry), 201 if created else 200)

    def list_time_entries(self, ref: str) -> Response:
        return answer({"pmsReference": ref, "timeEntries": self.backend.time_entries_json(ref)})

    # --- invoices ----------------------------------------------------------------------------

    def create_invoice(self, ref: str) -> Response:
        self.backend.get_matter(ref)
        body = Body.from_request()
        status = body.text("status", max_len=20) or "issued"
        invoice, created = self.backend.add_invoice(
            ref,
            operate_id=body.text("operateInvoiceId", required=True, max_len=100) or "",
            net_amount=body.money("netAmount", required=True, positive=True) or Decimal(0),
            vat_amount=body.money("vatAmount") or Decimal(0),
            issued_date=body.day("issuedDate"),
            due_date=body.day("dueDate"),
            narrative=body.text("narrative", max_len=MAX_TEXT) or "",
            status=status,
            bill_wip=body.boolean("billWip"),
        )
        return answer(self.backend.json_of(invoice), 201 if created else 200)

    def list_invoices(self, ref: str) -> Response:
        return answer({"pmsReference": ref, "invoices": self.backend.invoices_json(ref)})

    def get_invoice(self, invoice_id: str) -> Response:
        return answer(self.backend.json_of(self.backend.get_invoice(invoice_id)))

    def set_invoice_status(self, invoice_id: str) -> Response:
        self.backend.get_invoice(invoice_id)
        body = Body.from_request()
        invoice = self.backend.set_invoice_status(
            invoice_id,
            body.text("status", required=True, max_len=20) or "",
            amount_paid=body.money("amountPaid", positive=True),
        )
        return answer(self.backend.json_of(invoice))

    def record_receipt(self, invoice_id: str) -> Response:
        self.backend.get_invoice(invoice_id)
        body = Body.from_request()
        invoice, created = self.backend.record_receipt(
            invoice_id,
            body.money("amount", required=True, positive=True) or Decimal(0),
            received_date=body.day("receivedDate"),
            reference=body.text("reference", max_len=100),
        )
        return answer(self.backend.json_of(invoice), 201 if created else 200)

    # --- reports and reference data ----------------------------------------------------------

    def wip(self, ref: str) -> Response:
        return answer(self.backend.wip(ref))

    def matter_aged_debt(self, ref: str) -> Response:
        return answer(self.backend.aged_debt_for_matter(ref, query_instant("asOf"), query_flag("detail")))

    def client_aged_debt(self, client_id: str) -> Response:
        return answer(self.backend.aged_debt_for_client(client_id, query_instant("asOf"), query_flag("detail")))

    def actual_fees(self, ref: str) -> Response:
        return answer(self.backend.actual_fees(ref))

    def suppliers(self) -> Response:
        return answer({"suppliers": self.backend.suppliers_json()})

    def get_supplier(self, supplier_id: str) -> Response:
        return answer(self.backend.json_of(self.backend.get_supplier(supplier_id)))

    def _supplier_fields(self, body: Body, creating: bool) -> dict[str, Any]:
        return {
            "name": body.text("name", required=creating, max_len=200),
            "category": body.text("category", max_len=50),
            "vat_number": body.text("vatNumber", max_len=30),
            "payment_terms_days": body.integer("paymentTermsDays", minimum=0, maximum=365),
        }

    def create_supplier(self) -> Response:
        """Suppliers are mastered in the PMS: a new one is queued for Operate (the delivery worker)."""
        supplier, _ = self.backend.save_supplier(None, **self._supplier_fields(Body.from_request(), True))
        return answer(self.backend.json_of(supplier), 201)

    def update_supplier(self, supplier_id: str) -> Response:
        self.backend.get_supplier(supplier_id)
        supplier, _ = self.backend.save_supplier(supplier_id, **self._supplier_fields(Body.from_request(), False))
        return answer(self.backend.json_of(supplier))

    def clients(self) -> Response:
        return answer({"clients": self.backend.clients_json()})

    def fee_earners(self) -> Response:
        return answer({"feeEarners": self.backend.fee_earners_json()})

    # --- the official demo's contract (sharedo-tech/forum2024-02-S3 PMSApi) ------------------

    def demo_create_matter(self) -> Response:
        body = Body.from_request()
        priority = body.integer("priority", minimum=-(10**9), maximum=10**9)
        matter = self.backend.open_demo_matter(
            0 if priority is None else priority,  # the original binds a missing priority as 0, and so refuses it
            body.boolean("confidential"),
            body.text("billingArrangements", max_len=200),
        )
        return answer({"pmsReference": matter.reference})

    def demo_balance(self, ref: str) -> Response:
        return answer({"balance": pounds(self.backend.financials(ref))})

    def demo_post_delta(self, ref: str) -> Response:
        body = Body.from_request()
        delta = body.money("delta", required=True, signed=True) or Decimal(0)
        return answer({"balance": pounds(self.backend.post_financials(ref, delta))})

    def demo_audit(self, ref: str) -> Response:
        rows = self.backend.financials_audit(ref)
        return answer([{"timeStamp": iso(r.at), "delta": pounds(r.delta), "balance": pounds(r.balance)} for r in rows])

    # --- the fake's controls -----------------------------------------------------------------

    def fake_requests(self) -> Response:
        items = self.backend.requests(method=request.args.get("method"), path=request.args.get("path"))
        return answer({"requests": items, "count": len(items)})

    def fake_clear_requests(self) -> Response:
        self.backend.clear_requests()
        return answer({"cleared": True})

    def fake_reset(self) -> Response:
        self.backend.reset()
        return answer({"reset": True, "at": iso(self.backend.clock.now())})

    def fake_deliveries(self) -> Response:
        items = [d.to_json() for d in self.backend.outbox.all()]
        for name in ("state", "kind", "subject"):
            wanted = request.args.get(name)
            if wanted:
                items = [d for d in items if d[name] == wanted]
        return answer({"deliveries": items, "count": len(items)})

    def fake_retry_delivery(self, delivery_id: str) -> Response:
        try:
            item = self.backend.outbox.retry(delivery_id)
        except KeyError:
            raise DemoPmsError(404, f"no delivery {delivery_id!r} (GET /_fake/deliveries lists them)") from None
        return answer(item.to_json())

    def fake_faults(self) -> Response:
        return answer({"faults": [self.backend.json_of(f) for f in self.backend.faults()]})

    def fake_add_fault(self) -> Response:
        body = Body.from_request()
        fault = self.backend.add_fault(
            body.text("route", required=True, max_len=500) or "",
            body.text("method", max_len=10) or "*",
            delay=body.number("delaySeconds", minimum=0, maximum=MAX_FAULT_DELAY),
            status=body.integer("status"),
            malformed=body.boolean("malformed"),
            times=body.integer("times"),
        )
        return answer(self.backend.json_of(fault), 201)

    def fake_clear_faults(self) -> Response:
        self.backend.clear_faults()
        return answer({"cleared": True})

    def fake_remove_fault(self, fault_id: str) -> Response:
        self.backend.remove_fault(fault_id)
        return answer({"removed": fault_id})
