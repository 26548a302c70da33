"""`ClioPmsAdapter`: the `PmsAdapter` over Clio Manage's API v4, for what Clio can answer.

It is handed an `httpx.Client` whose base URL is Clio's host and whose credentials are already set: a
linked service of `auth = "clio"` injects the connection's bearer token and refreshes it once on a 401
(emulator/linked_services.py); in tests the fake answers through `httpx.WSGITransport`. The
`pms_reference` of a matter is its Clio matter id, as text.

What each figure is (reference §9):

- **WIP** is the matter's unbilled activities (`status=unbilled`: on no bill yet), billable ones only,
  summed by user: a `TimeEntry`'s total is unbilled time (its `quantity`, in seconds, the minutes); every
  other kind (`ExpenseEntry`, hard and soft costs) is an unbilled disbursement. The total is what
  `/billable_matters` gives as the matter's `unbilled_amount`; that endpoint has no split by user or
  kind, so it is not called. Clio's matter dashboard also counts entries on draft bills as WIP; here
  they are billed.
- **Aged debt** is the bills awaiting payment with a balance, aged in whole days from `due_at` to the
  as-of day (UTC, as the demo PMS ages) into `AGEING_BUCKETS`. A matter's aged debt counts the bills of
  that matter (`matter_id`); a client bill spanning several matters counts in full on each.
- **Actual fees** are the time billed on issued bills (`services_sub_total`, before tax, of the bills
  awaiting payment or paid); `paid` is what was paid on those bills; `unbilled_time` is WIP's time.

Writes: time goes to Clio as a `TimeEntry` activity, an approved payment request as an `ExpenseEntry`
(its net amount; VAT is Clio's tax setting at billing, so it is only named in the note). Clio's create
body for activities has no `external_properties` (communications and documents have them), so each
write is made idempotent by a marker in the note, `[Operate <id>]`: before posting, the matter's
activities of that type are searched for it (`query` searches the note; matches are checked exactly).
What Clio cannot take from Operate (matters come FROM Clio, bills are made in Clio, it pays no
suppliers) raises `PmsError(501)` saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import httpx

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
    ageing_bucket,
)

UTC = timezone.utc  # datetime.UTC is Python 3.11+
API = "/api/v4"
API_VERSION = "4.0.13"  # pinned, so `quantity` stays in seconds (reference §3.6)
PAGE_SIZE = 200
MAX_PAGES = 500  # a bound on any list walk: 100,000 records
CURRENCY = "USD"  # [inferred] Clio's activities carry no currency; the fake's firm is American
CENT = Decimal("0.01")
ISSUED_STATES = ("awaiting_payment", "paid")
ACTIVITY_FIELDS = "id,type,quantity,quantity_in_hours,price,total,non_billable,user{id,name}"
BILL_FIELDS = "id,number,due_at,balance,total,state,client{id,name},matters{id}"
MATTER_FIELDS = "id,display_number,description,status,billing_method,client{id,name},responsible_attorney{id,name}"
NOT_IN_CLIO = {
    "open_matter": "matters are opened in Clio and come to Operate from it (the Clio sync), not the other way",
    "get_disbursement": "Clio records expenses but pays no suppliers: there is no payment to read back",
    "send_invoice": "bills are made in Clio; its API has no way to create one",
    "update_invoice_status": "a bill's state and payments are kept in Clio",
    "suppliers": "Clio keeps no supplier list the finance integration could read",
}


def marker(operate_id: str) -> str:
    """What an activity's note carries to say which Operate record it came from."""
    return f"[Operate {operate_id}]"


def _record_id(value: str, what: str) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise PmsError(400, f"a Clio {what} id is a whole number; {str(value)[:60]!r} is not one")
    return int(text)


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise PmsError(502, f"Clio sent {value!r} where an amount belongs")
    try:
        return Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise PmsError(502, f"Clio sent {value!r} where an amount belongs") from None


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise PmsError(502, f"Clio sent {value!r} where a date belongs") from None


@dataclass
class _Earner:
    name: str
    seconds: float = 0.0
    time: Decimal = Decimal("0.00")
    disbursements: Decimal = Decimal("0.00")


class ClioPmsAdapter:
    """Speak `PmsAdapter` to Clio Manage; every failure comes out as `PmsError`."""

    def __init__(self, http: httpx.Client, *, now: Callable[[], datetime] | None = None) -> None:
        self.http = http
        self.now = now or (lambda: datetime.now(UTC))  # the as-of instant by default (the emulator's clock)

    # --- plumbing ----------------------------------------------------------------------------
    def _call(self, method: str, path: str, params: Any = None, body: dict[str, Any] | None = None) -> Any:
        target = path if path.startswith(API) else f"{API}/{path}"
        try:
            response = self.http.request(
                method,
                target,
                params=params,
                json=body,
                headers={"X-API-VERSION": API_VERSION, "Accept": "application/json"},
            )
        except httpx.TimeoutException:
            raise PmsError(504, f"Clio did not answer {method} {target} in time") from None
        except httpx.TransportError as exc:
            raise PmsError(502, f"cannot reach Clio for {method} {target}: {type(exc).__name__}: {exc}") from None
        status = response.status_code
        if status == 401:
            raise PmsError(401, "Clio refused the connection's token; connect Clio again in Settings > Integrations")
        if status == 429:
            wait = response.headers.get("Retry-After", "a while")
            raise PmsError(429, f"Clio's rate limit was reached; try again in {wait} s")
        if status >= 400:
            raise PmsError(status, f"Clio answered {method} {target} with {status}: {_reason(response)}")
        try:
            return response.json()
        except ValueError:
            text = response.text[:80]
            raise PmsError(502, f"Clio answered {method} {target} with malformed JSON ({text!r})") from None

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list in id order (cursor paging), following `meta.paging.next`."""
        target: str | None = path
        query: Any = {"order": "id(asc)", "limit": PAGE_SIZE, **params}
        for _ in range(MAX_PAGES):
            if target is None:
                return
            body = self._call("GET", target, query)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise PmsError(502, f"Clio answered {path} without a list of data")
            yield data
            target, query = _next_page(body), None
        raise PmsError(502, f"Clio's {path} has more than {MAX_PAGES} pages of {PAGE_SIZE}; stopped")

    def _all(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [row for page in self._pages(path, params) for row in page]

    @staticmethod
    def _shape(what: str, build: Callable[[], Any]) -> Any:
        """Turn Clio's answer into a result; a missing or wrong field is Clio's fault (502)."""
        try:
            return build()
        except PmsError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise PmsError(502, f"unexpected {what} from Clio: missing or wrong {exc}") from None

    # --- what Clio cannot take from Operate --------------------------------------------------
    @staticmethod
    def _not_in_clio(name: str) -> PmsError:
        return PmsError(501, f"Clio Manage cannot do {name}: {NOT_IN_CLIO[name]}")

    def open_matter(self, matter: MatterInception) -> MatterRef:
        raise self._not_in_clio("open_matter")

    def get_disbursement(self, disbursement_id: str) -> DisbursementResult:
        raise self._not_in_clio("get_disbursement")

    def send_invoice(self, pms_reference: str, invoice: InvoiceDetails) -> InvoiceResult:
        raise self._not_in_clio("send_invoice")

    def update_invoice_status(self, invoice_id: str, status: str, amount_paid: Decimal | None = None) -> InvoiceResult:
        raise self._not_in_clio("update_invoice_status")

    def suppliers(self) -> list[Supplier]:
        raise self._not_in_clio("suppliers")

    # --- matters -----------------------------------------------------------------------------
    def get_matter(self, pms_reference: str) -> PmsMatter:
        matter_id = _record_id(pms_reference, "matter")
        data = self._call("GET", f"matters/{matter_id}.json", {"fields": MATTER_FIELDS})

        def build() -> PmsMatter:
            m = data["data"]
            client = m.get("client") or {}
            attorney = m.get("responsible_attorney") or {}
            return PmsMatter(
                pms_reference=str(m["id"]),
                title=m.get("description") or m.get("display_number") or "",
                client_id=str(client["id"]) if client.get("id") is not None else None,
                client_name=client.get("name"),
                fee_earner=attorney.get("name"),
                status=str(m["status"]).lower(),
                billing_arrangements=m.get("billing_method"),
            )

        return self._shape("matter", build)

    # --- WIP ---------------------------------------------------------------------------------
    def wip(self, pms_reference: str) -> Wip:
        """Unbilled billable activities by user (see the module docstring for what counts as what)."""
        matter_id = _record_id(pms_reference, "matter")
        self._call("GET", f"matters/{matter_id}.json", {"fields": "id"})  # an unknown matter is a 404, not 0
        rows = self._all("activities.json", {"matter_id": matter_id, "status": "unbilled", "fields": ACTIVITY_FIELDS})

        def build() -> Wip:
            earners: dict[str, _Earner] = {}
            for row in rows:
                if row.get("non_billable"):
                    continue
                user = row.get("user") or {}
                key = str(user["id"]) if user.get("id") is not None else ""
                earner = earners.setdefault(key, _Earner(user.get("name") or "(no user)"))
                total = _money(row["total"])
                if row["type"] == "TimeEntry":
                    earner.time += total
                    earner.seconds += float(row.get("quantity") or 0)
                else:
                    earner.disbursements += total
            fee_earners = tuple(
                FeeEarnerWip(
                    fee_earner=key,
                    name=e.name,
                    unbilled_minutes=round(e.seconds / 60),
                    unbilled_time=e.time,
                    unbilled_disbursements=e.disbursements,
                )
                for key, e in sorted(earners.items(), key=lambda item: (item[1].name, item[0]))
            )
            time = sum((e.unbilled_time for e in fee_earners), Decimal("0.00"))
            disbursements = sum((e.unbilled_disbursements for e in fee_earners), Decimal("0.00"))
            return Wip(
                pms_reference=str(matter_id),
                fee_earners=fee_earners,
                unbilled_time=time,
                unbilled_disbursements=disbursements,
                total=time + disbursements,
                currency=CURRENCY,
            )

        return self._shape("activities", build)

    # --- aged debt ---------------------------------------------------------------------------
    def aged_debt_for_matter(self, pms_reference: str, as_of: datetime | None = None, detail: bool = False) -> AgedDebt:
        matter_id = _record_id(pms_reference, "matter")
        self._call("GET", f"matters/{matter_id}.json", {"fields": "id"})
        bills = self._all("bills.json", {"matter_id": matter_id, "state": "awaiting_payment", "fields": BILL_FIELDS})
        return self._age(bills, as_of, detail, pms_reference=str(matter_id))

    def aged_debt_for_client(self, client_id: str, as_of: datetime | None = None, detail: bool = False) -> AgedDebt:
        contact_id = _record_id(client_id, "contact")
        self._call("GET", f"contacts/{contact_id}.json", {"fields": "id"})
        bills = self._all("bills.json", {"client_id": contact_id, "state": "awaiting_payment", "fields": BILL_FIELDS})
        return self._age(bills, as_of, detail, client_id=str(contact_id))

    def _age(
        self,
        bills: list[dict[str, Any]],
        as_of: datetime | None,
        detail: bool,
        *,
        pms_reference: str | None = None,
        client_id: str | None = None,
    ) -> AgedDebt:
        moment = (as_of or self.now()).astimezone(UTC)
        today = moment.date()

        def build() -> AgedDebt:
            amounts = dict.fromkeys(AGEING_BUCKETS, Decimal("0.00"))
            counts = dict.fromkeys(AGEING_BUCKETS, 0)
            not_yet_due = Decimal("0.00")
            invoices = []
            for bill in bills:
                if bill.get("state") not in (None, "awaiting_payment"):
                    continue
                balance = _money(bill["balance"])
                if balance <= 0:
                    continue
                due = _day(bill["due_at"])
                days = (today - due).days
                bucket = ageing_bucket(days)
                amounts[bucket] += balance
                counts[bucket] += 1
                if days < 0:
                    not_yet_due += balance
                matters = bill.get("matters") or []
                invoices.append(
                    AgedInvoice(
                        invoice_id=str(bill.get("number") or bill["id"]),
                        pms_reference=pms_reference or (str(matters[0]["id"]) if matters else ""),
                        due_date=due,
                        days_overdue=days,
                        bucket=bucket,
                        outstanding=balance,
                    )
                )
            invoices.sort(key=lambda i: (i.due_date, i.invoice_id))  # the oldest first
            return AgedDebt(
                as_of=moment,
                buckets=amounts,
                counts=counts,
                total=sum(amounts.values(), Decimal("0.00")),
                not_yet_due=not_yet_due,
                pms_reference=pms_reference,
                client_id=client_id,
                currency=CURRENCY,
                invoices=tuple(invoices) if detail else (),
            )

        return self._shape("bills", build)

    # --- actual fees -------------------------------------------------------------------------
    def actual_fees(self, pms_reference: str) -> ActualFees:
        matter_id = _record_id(pms_reference, "matter")
        wip = self.wip(pms_reference)
        # One walk of the matter's bills, in every state: `state` takes one value only (Clio's document).
        bills = self._all(
            "bills.json", {"matter_id": matter_id, "fields": "id,state,services_sub_total,sub_total,paid"}
        )

        def build() -> ActualFees:
            issued = [b for b in bills if b["state"] in ISSUED_STATES]
            fees = sum((_money(b["services_sub_total"]) for b in issued), Decimal("0.00"))
            paid = sum((_money(b["paid"]) for b in issued), Decimal("0.00"))
            return ActualFees(
                pms_reference=str(matter_id), actual_fees=fees, paid=paid, unbilled_time=wip.unbilled_time,
                currency=CURRENCY,
            )  # fmt: skip

        return self._shape("bills", build)

    # --- writes: time and disbursements as activities ----------------------------------------
    def send_time_entry(self, pms_reference: str, entry: TimeEntry) -> TimeEntryResult:
        """A `TimeEntry` on the matter, by the fee earner (a Clio user id, name, email or initials), at their
        rate; sent again with the same Operate id, the first one comes back (`created=False`)."""
        matter_id = _record_id(pms_reference, "matter")
        if isinstance(entry.minutes, bool) or not isinstance(entry.minutes, int) or entry.minutes <= 0:
            raise PmsError(400, f"minutes must be a whole number above 0, not {entry.minutes!r}")
        user_id = self._user_id(entry.fee_earner)
        note = " ".join(x for x in (entry.narrative.strip(), marker(entry.operate_time_entry_id)) if x)
        found = self._find_sent(matter_id, "TimeEntry", entry.operate_time_entry_id)
        if found is not None:
            return self._shape(
                "activity", lambda: TimeEntryResult(str(found["id"]), _money(found["total"]), created=False)
            )
        data = {
            "type": "TimeEntry",
            "date": (entry.work_date or self.now().astimezone(UTC).date()).isoformat(),
            "quantity": entry.minutes * 60,
            "note": note,
            "matter": {"id": matter_id},
            "user": {"id": user_id},
        }
        made = self._call("POST", "activities.json", {"fields": "id,total"}, {"data": data})
        return self._shape(
            "activity", lambda: TimeEntryResult(str(made["data"]["id"]), _money(made["data"]["total"]), created=True)
        )

    def send_disbursement(self, pms_reference: str, payment: PaymentRequest) -> DisbursementResult:
        """An `ExpenseEntry` of the net amount on the matter; idempotent on the payment request's Operate id.
        Its status is the activity's own, `unbilled`: Clio records the expense and pays no supplier."""
        matter_id = _record_id(pms_reference, "matter")
        if not payment.amount.is_finite() or payment.amount <= 0:
            raise PmsError(400, f"amount must be above 0, not {payment.amount}")
        words = [payment.description.strip()]
        if payment.supplier_invoice_reference:
            words.append(f"(supplier invoice {payment.supplier_invoice_reference})")
        if payment.vat_amount:
            words.append(f"(VAT {payment.vat_amount} {payment.currency})")
        words.append(marker(payment.operate_payment_request_id))
        found = self._find_sent(matter_id, "ExpenseEntry", payment.operate_payment_request_id)
        if found is not None:
            return DisbursementResult(disbursement_id=str(found["id"]), status="unbilled", created=False)
        data: dict[str, Any] = {
            "type": "ExpenseEntry",
            "date": (payment.incurred_date or self.now().astimezone(UTC).date()).isoformat(),
            "price": float(payment.amount),
            "quantity": 1,
            "note": " ".join(w for w in words if w),
            "matter": {"id": matter_id},
        }
        if payment.fee_earner:
            data["user"] = {"id": self._user_id(payment.fee_earner)}
        made = self._call("POST", "activities.json", {"fields": "id"}, {"data": data})
        return self._shape(
            "activity", lambda: DisbursementResult(disbursement_id=str(made["data"]["id"]), status="unbilled")
        )

    def _find_sent(self, matter_id: int, kind: str, operate_id: str) -> dict[str, Any] | None:
        """The activity an earlier send of this Operate record made, by the marker in its note."""
        wanted = marker(operate_id)
        params = {"matter_id": matter_id, "type": kind, "query": operate_id, "fields": "id,note,total"}
        for page in self._pages("activities.json", params):
            for row in page:
                if wanted in (row.get("note") or ""):
                    return row
        return None

    def _user_id(self, fee_earner: str) -> int:
        """A Clio user by id, or by name, email or initials (any case)."""
        text = str(fee_earner or "").strip()
        if text.isascii() and text.isdigit():
            return int(text)
        low = text.lower()
        for user in self._all("users.json", {"fields": "id,name,email,initials"}):
            if low and low in {str(user.get(k) or "").lower() for k in ("name", "email", "initials")}:
                return int(user["id"])
        raise PmsError(422, f"Clio has no user {text[:60]!r} (by id, name, email or initials)")


def _next_page(body: dict[str, Any]) -> str | None:
    """`meta.paging.next` as a path under the client's base URL: Clio gives an absolute URL to its own host,
    which must not bypass a proxy the client is pointed at."""
    link = ((body.get("meta") or {}).get("paging") or {}).get("next")
    if not isinstance(link, str) or not link:
        return None
    parts = urlsplit(link)
    start = parts.path.find(API + "/")
    if start < 0:
        raise PmsError(502, f"Clio's next page {link[:100]!r} is not under {API}")
    return parts.path[start:] + (f"?{parts.query}" if parts.query else "")


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    if isinstance(body, dict):  # the proxy's own error shape, when the client goes through Operate
        for key in ("title", "error_description", "message"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key][:300]
    return response.text[:200]
