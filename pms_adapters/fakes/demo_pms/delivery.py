"""The demo PMS's worker that tells Operate what happened in the PMS, through Operate's public API, as a
real PMS integration does (seed 002's API rows, PMS -> Clio Operate):

- a matter opened in the PMS      -> `POST /api/v1/public/workItem` (externalReference = the PMS reference),
                                     `PUT .../attributes {pmsReference}`, `PUT .../phase matter-open`
- a disbursement paid in the PMS  -> `PUT /api/v1/public/finance/paymentRequest/{id} {paymentDetails}`
- an invoice paid (or part paid)  -> `PUT .../attributes {amountPaid}`, `PUT .../phase invoice-paid`
- a supplier created or changed   -> `POST /api/v2/public/organisation` / `PUT .../organisation/{id}`
- a matter's billed fees changed  -> `PUT /api/v1/public/workItem/{id}/finance/fees {actualFees}` (an
  invoice issued or cancelled in the PMS; Operate alerts at 80 % and 100 % of the estimate)

It signs in with the PMS's own OAuth client (client credentials; operate.toml `[clients.demo-pms]`), runs
on the emulator's one clock (a cron job: every minute), retries a failed delivery with a bound
(`outbox.RETRY_MINUTES`) and is exactly-once in effect: every attempt first looks for what an earlier one
made (the matter by its externalReference, the supplier by its externalReference, the payment by its
reference, the invoice by its phase), so a retry never makes a second matter or supplier.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from .models import DemoPmsBackend, DemoPmsError, pounds
from .outbox import Delivery

log = logging.getLogger("pms_adapters.fakes.demo_pms.delivery")

CRON = "* * * * *"  # [inferred] the PMS's worker looks at its outbox every minute
# [inferred] The PMS's practice areas -> the demo solution's matter work types, and the roles it fills.
MATTER_TYPES = {"commercial": "matter-commercial", "private-client": "matter-private-client"}
OPENED_PHASE, ENQUIRY_PHASE = "matter-open", "matter-enquiry"
INVOICE_PHASES = {"paid": "invoice-paid", "part-paid": "invoice-part-paid"}
SUPPLIER_TAG = "supplier"
V1 = "/api/v1/public/workItem"
MAX_PER_RUN = 200  # deliveries one run sends; the rest wait for the next minute


class DeliveryError(RuntimeError):
    """One attempt failed: Operate is down, refused, or answered something the PMS cannot use."""


class OperateApi:
    """Operate's public API as the PMS's own OAuth client: a client-credentials token, renewed once on a 401."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30,
    ) -> None:
        self.base_url, self.client_id = base_url.rstrip("/"), client_id
        self._secret = client_secret
        self.client = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout, trust_env=False)
        self._token: str | None = None

    def close(self) -> None:
        self.client.close()

    def _sign_in(self) -> str:
        try:
            response = self.client.post(
                "/connect/token",
                data={"grant_type": "client_credentials", "scope": "sharedo"},
                auth=(self.client_id, self._secret),
            )
        except httpx.TransportError as exc:
            raise DeliveryError(f"cannot reach Operate at {self.base_url}: {exc}") from None
        if response.status_code != 200:
            raise DeliveryError(
                f"Operate refused the PMS's client {self.client_id!r}: {response.status_code} {response.text[:200]}"
            )
        return response.json()["access_token"]

    def call(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201)) -> Any:
        """The answer's JSON; DeliveryError naming the call for a transport failure or a status not in `ok`."""
        for attempt in (1, 2):
            if self._token is None:
                self._token = self._sign_in()
            try:
                response = self.client.request(
                    method, path, json=body, headers={"Authorization": f"Bearer {self._token}"}
                )
            except httpx.TransportError as exc:
                raise DeliveryError(f"{method} {path}: cannot reach Operate at {self.base_url}: {exc}") from None
            if response.status_code == 401 and attempt == 1:
                self._token = None  # expired on the clock: sign in again, once
                continue
            if response.status_code not in ok:
                raise DeliveryError(f"{method} {path}: Operate answered {response.status_code}: {_why(response)}")
            try:
                return response.json() if response.content else None
            except ValueError:
                raise DeliveryError(f"{method} {path}: Operate answered {response.status_code} with no JSON") from None
        raise AssertionError("unreachable")


def _same_amount(held: Any, sent: str) -> bool:
    """Operate holds amounts as text (`2400`, `2400.00`): the same amount either way."""
    try:
        return held is not None and Decimal(str(held)) == Decimal(sent)
    except InvalidOperation:
        return False


def _why(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return str(data.get("title") or data.get("message") or data)[:300]
    return str(data)[:300]


class DemoPmsDelivery:
    """Sends the backend's outbox to Operate. `operate` is set once Operate is up (`connect`)."""

    def __init__(self, backend: DemoPmsBackend, operate: OperateApi | None = None) -> None:
        self.backend = backend
        self.operate = operate
        self._senders: dict[str, Callable[[Delivery], tuple[str | None, str]]] = {
            "matter": self._matter,
            "payment": self._payment,
            "invoice": self._invoice,
            "supplier": self._supplier,
            "fees": self._fees,
        }

    def connect(self, operate: OperateApi) -> None:
        if self.operate is not None and self.operate is not operate:
            self.operate.close()
        self.operate = operate

    def close(self) -> None:
        if self.operate is not None:
            self.operate.close()

    # -- the worker ---------------------------------------------------------------------------------------
    def run(self, due: datetime | None = None) -> int:
        """Send every delivery due by `due` (the cron job's moment; default now); returns how many were tried."""
        moment = due or self.backend.clock.now()
        tried = 0
        for item in self.backend.outbox.due(moment)[:MAX_PER_RUN]:
            tried += 1
            self.send(item)
        return tried

    def send(self, item: Delivery) -> bool:
        """One attempt at one delivery; True when Operate has it now."""
        if self.operate is None:
            self.backend.outbox.failed(item, "Operate is not connected to the demo PMS's delivery worker yet")
            return False
        try:
            operate_id, note = self._senders[item.kind](item)
        except (DeliveryError, DemoPmsError) as exc:
            message = exc.message if isinstance(exc, DemoPmsError) else str(exc)
            self.backend.outbox.failed(item, message)
            log.warning("demo PMS delivery %s (%s %s) failed: %s", item.delivery_id, item.kind, item.subject, message)
            return False
        except Exception as exc:  # an answer of a shape the PMS did not expect: counted, so still bounded
            message = f"unexpected {type(exc).__name__}: {exc}"
            self.backend.outbox.failed(item, message)
            log.exception("demo PMS delivery %s (%s %s) failed", item.delivery_id, item.kind, item.subject)
            return False
        self.backend.outbox.succeeded(item, operate_id, note)
        return True

    # -- matters opened in the PMS ------------------------------------------------------------------------
    def _matter(self, item: Delivery) -> tuple[str | None, str]:
        api = self._api()
        backend = self.backend
        matter = backend.get_matter(item.subject)
        ref = matter.reference
        work_item_id = item.operate_id or matter.operate_id or self._find_matter(ref)
        made = False
        if work_item_id is None:
            client = backend.get_client(matter.client_id or "")
            earner = backend.fee_earners.get(matter.fee_earner or "")
            participants = [{"roleSystemName": "client", "odsId": self._client_ods(client)}]
            if earner is not None and earner.operate_ods_id:
                participants.append({"roleSystemName": "fee-earner", "odsId": earner.operate_ods_id})
            work_type = MATTER_TYPES[matter.practice_area or "commercial"]
            body = {
                "workItem": {"sharedoTypeSystemName": work_type, "title": matter.title, "externalReference": ref},
                "participants": participants,
            }
            work_item_id = api.call("POST", V1, body, ok=(201,))["workItem"]["id"]
            made = True
        item.operate_id = work_item_id  # a later attempt carries on from here, never creating it again
        attributes = {"pmsReference": ref}
        if matter.billing_arrangements:
            attributes["billingArrangements"] = matter.billing_arrangements
        api.call("PUT", f"{V1}/{work_item_id}/attributes", attributes)
        if matter.estimated_fees is not None:
            fees = api.call("GET", f"{V1}/{work_item_id}/finance/fees")
            estimate = f"{pounds(matter.estimated_fees):.2f}"
            if not _same_amount(fees.get("estimatedFees"), estimate):
                api.call("PUT", f"{V1}/{work_item_id}/finance/fees", {"estimatedFees": estimate})
        phase = api.call("GET", f"{V1}/{work_item_id}/phase")["systemName"]
        if phase == ENQUIRY_PHASE:
            api.call(
                "PUT",
                f"{V1}/{work_item_id}/phase",
                {"toPhaseSystemName": OPENED_PHASE, "reasonText": f"Opened in the PMS as {ref}"},
            )
        backend.link_matter(ref, work_item_id)
        return work_item_id, f"{'created' if made else 'found'} work item {work_item_id} for {ref}; open"

    def _find_matter(self, ref: str) -> str | None:
        query = {
            "search": {
                "externalReference": ref,
                "types": {"includeTypesDerivedFrom": ["matter"]},
                "phase": {"includeRemoved": True},
                "page": {"rowsPerPage": 2},
            }
        }
        rows = self._api().call("POST", f"{V1}/findByQuery", query)["results"]
        return rows[0]["id"] if rows else None

    def _client_ods(self, client: Any) -> str:
        """The client's Operate ODS id: the one the PMS knows, else the organisation found by its
        externalReference, else a new one. [inferred] a new client is sent as an organisation."""
        if client.operate_ods_id:
            return client.operate_ods_id
        found = self._find_org(client.client_id)
        if found is None:
            body = {"name": client.name, "externalReference": client.client_id, "tags": ["client"]}
            found = self._api().call("POST", "/api/v2/public/organisation", body, ok=(201,))
        self.backend.link_client(client.client_id, found["id"])
        return found["id"]

    def _find_org(self, external_reference: str) -> dict[str, Any] | None:
        page = self._api().call(
            "POST",
            "/api/ods/_search",
            {"searchString": external_reference, "odsEntityTypes": ["organisation"], "rowsPerPage": 50},
        )
        for row in page.get("rows", []):
            org = json.loads(row["result"]) if isinstance(row.get("result"), str) else row.get("result") or {}
            if org.get("externalReference") == external_reference:
                return org
        return None

    # -- payments made in the PMS ---------------------------------------------------------------------------
    def _payment(self, item: Delivery) -> tuple[str | None, str]:
        disb = self.backend.get_disbursement(item.subject)
        if not disb.operate_id:
            return None, f"{disb.disbursement_id} came from no Operate payment request; nothing to tell"
        path = f"/api/v1/public/finance/paymentRequest/{disb.operate_id}"
        api = self._api()
        current = api.call("GET", path)
        details = current.get("paymentDetails") or {}
        if details.get("reference") == disb.payment_reference:
            return disb.operate_id, f"{current.get('reference')} already holds payment {disb.payment_reference}"
        body = {
            "paymentDetails": {
                "amount": f"{pounds(disb.amount + disb.vat):.2f}",
                "paidDate": disb.paid_date.isoformat() if disb.paid_date else None,
                "reference": disb.payment_reference,
                "method": disb.payment_method,
            }
        }
        api.call("PUT", path, body)
        return disb.operate_id, f"{current.get('reference')} paid: {disb.payment_reference}"

    # -- invoices settled in the PMS --------------------------------------------------------------------------
    def _invoice(self, item: Delivery) -> tuple[str | None, str]:
        invoice = self.backend.get_invoice(item.subject)
        target = INVOICE_PHASES.get(invoice.status)
        if not invoice.operate_id or target is None:
            return invoice.operate_id, f"{invoice.invoice_id} is {invoice.status}; nothing to tell Operate"
        api = self._api()
        paid = f"{pounds(invoice.paid):.2f}"
        attrs = api.call("GET", f"{V1}/{invoice.operate_id}/attributes")
        if attrs.get("amountPaid") != paid:
            api.call("PUT", f"{V1}/{invoice.operate_id}/attributes", {"amountPaid": paid})
        phase = api.call("GET", f"{V1}/{invoice.operate_id}/phase")["systemName"]
        if phase == target:
            return invoice.operate_id, f"already {target} in Operate (paid {paid})"
        api.call(
            "PUT",
            f"{V1}/{invoice.operate_id}/phase",
            {"toPhaseSystemName": target, "reasonText": f"{invoice.invoice_id}: {paid} received in the PMS"},
        )
        return invoice.operate_id, f"moved from {phase} to {target} (paid {paid})"

    # -- suppliers mastered in the PMS ------------------------------------------------------------------------
    def _supplier(self, item: Delivery) -> tuple[str | None, str]:
        supplier = self.backend.get_supplier(item.subject)
        api = self._api()
        body = {
            "name": supplier.name,
            "externalReference": supplier.supplier_id,
            "vatNumber": supplier.vat_number,
            "supplierCategory": supplier.category,
            "paymentTermsDays": supplier.payment_terms_days,
        }
        existing = None
        known = item.operate_id or supplier.operate_ods_id
        if known:
            try:
                existing = api.call("GET", f"/api/public/v1/organisation/{known}")
            except DeliveryError as exc:
                if ": Operate answered 404" not in str(exc):
                    raise
        existing = existing or self._find_org(supplier.supplier_id)
        if existing is None:
            created = api.call("POST", "/api/v2/public/organisation", {**body, "tags": [SUPPLIER_TAG]}, ok=(201,))
            self.backend.link_supplier(supplier.supplier_id, created["id"])
            return created["id"], f"created organisation {created['id']}"
        org_id = existing["id"]
        item.operate_id = org_id
        tags = existing.get("tags") or []
        if all(existing.get(k) == v for k, v in body.items()) and SUPPLIER_TAG in tags:
            self.backend.link_supplier(supplier.supplier_id, org_id)
            return org_id, f"organisation {org_id} already up to date"
        tags = sorted(set(tags) | {SUPPLIER_TAG})
        api.call("PUT", f"/api/v2/public/organisation/{org_id}", {**body, "tags": tags})
        self.backend.link_supplier(supplier.supplier_id, org_id)
        return org_id, f"updated organisation {org_id}"

    # -- actual fees recorded in the PMS ----------------------------------------------------------------------
    def _fees(self, item: Delivery) -> tuple[str | None, str]:
        matter = self.backend.get_matter(item.subject)
        if not matter.operate_id:
            return None, f"{matter.reference} is not linked to Operate; nothing to tell"
        actual = f"{self.backend.actual_fees(matter.reference)['actualFees']:.2f}"
        path = f"{V1}/{matter.operate_id}/finance/fees"
        api = self._api()
        if _same_amount(api.call("GET", path).get("actualFees"), actual):
            return matter.operate_id, f"Operate already holds actual fees {actual}"
        after = api.call("PUT", path, {"actualFees": actual})
        return matter.operate_id, f"actual fees {actual} ({after.get('percentOfEstimate')}% of the estimate)"

    def _api(self) -> OperateApi:
        assert self.operate is not None
        return self.operate
