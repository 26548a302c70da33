"""Operate's side of the finance integrations: payment details from the PMS, estimated and actual
fees with their alerts. Route and field names here are [inferred]: the public finance swagger
(`/api/v1/public/finance/...`) is named in the product but its payloads are not public.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal, InvalidOperation
from typing import Any

from .identity import Principal, require
from .kernel.binding import Fields
from .kernel.clock import Clock, iso
from .kernel.errors import ApiError, invalid
from .kernel.events import EventStream
from .kernel.store import Store
from .workitem_reads import WorkItemReads
from .workitems import WorkItem, WorkItems

DEFAULT_THRESHOLDS = (0.8, 1.0)
FEE_FIGURES = ("estimatedFees", "actualFees")
FEE_ALERT = "feeAlert"  # the highest threshold alerted and still reached ("80%"), shown as `lastAlert`


def _stored(value: str | None) -> Decimal | None:
    """A fee attribute as a number; text someone wrote there by hand counts as unknown, not a crash."""
    try:
        amount = Decimal(value) if value else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def _money(f: Fields, key: str, *, required: bool = True) -> Decimal | None:
    raw = f.raw(key)
    if raw is None:
        if required:
            f.error(key, "required")
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        f.error(key, "expected an amount (a number, or a decimal string)")
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        f.error(key, f"not an amount: {str(raw)[:40]!r}")
        return None
    if not value.is_finite() or value < 0 or value > Decimal("1e12"):
        f.error(key, "must be between 0 and 1,000,000,000,000")
        return None
    return value.quantize(Decimal("0.01"))


class Finance:
    def __init__(
        self, store: Store, clock: Clock, stream: EventStream, items: WorkItems, thresholds: list[float] | None = None
    ) -> None:
        self.store, self.clock, self.stream, self.items = store, clock, stream, items
        self.thresholds = sorted(thresholds or DEFAULT_THRESHOLDS)
        items.attribute_watchers.append(self._on_attributes)

    # -- payment requests ---------------------------------------------------------------------------
    def payment_request(self, item_id: str) -> dict[str, Any]:
        item = self.items.get(item_id)
        if not self.items.types.is_derived_from(item.type, "payment-request"):
            raise ApiError(  # a work item of another type is no payment request: not found, as one
                404,
                f"no payment request {item_id!r} (that work item is a {item.type})",
                [{"field": "paymentRequestId", "message": "not a payment request"}],
            )
        attrs = self.items.attributes(item_id)
        details = {k[len("payment.") :]: v for k, v in attrs.items() if k.startswith("payment.")}
        return {
            "id": item.id,
            "reference": item.reference,
            "title": item.title,
            "phaseSystemName": item.phase,
            "amount": attrs.get("amount"),
            "paymentDetails": details or None,
        }

    def update_payment_details(self, item_id: str, body: Any, principal: Principal | None) -> dict[str, Any]:
        """The PMS reports a payment made: details are stored and `payment-details-updated` is raised,
        which a workflow subscribes to (to move the request to paid, tell the fee earner, ...)."""
        require(principal, "core.sharedo.updateAny")
        f = Fields(body)
        details = f.obj("paymentDetails", required=True)
        values: dict[str, str] = {}
        if details is not None:
            amount = _money(details, "amount")
            paid = details.instant("paidDate", required=True)
            reference = details.string("reference", required=True, allow_empty=False, max_length=200)
            method = details.string("method", max_length=100)
            if amount is not None:
                values["amount"] = str(amount)
            for key, value in (("paidDate", paid), ("reference", reference), ("method", method)):
                if value is not None:
                    values[key] = value
        f.raise_if_errors()
        with self.store.transaction() as tx:
            self.payment_request(item_id)
            item = self.items.get(item_id, tx)
            self.items.set_attributes(item.id, {f"payment.{k}": v for k, v in values.items()}, None)
            self.stream.append(
                tx,
                "payment-details-updated",
                {
                    "sharedoId": item.id,
                    "sharedoTypeSystemName": item.type,
                    "paymentReference": values.get("reference"),
                    "paidAmount": values.get("amount"),
                    "paidDate": values.get("paidDate"),
                },
            )
        return self.payment_request(item_id)

    # -- fees -------------------------------------------------------------------------------------------
    def fees(self, item_id: str) -> dict[str, Any]:
        attrs = self.items.attributes(item_id)
        estimate, actual = attrs.get("estimatedFees"), attrs.get("actualFees")
        est_n, act_n = _stored(estimate), _stored(actual)
        percent = None
        if est_n and act_n is not None and est_n > 0:
            percent = float((act_n / est_n * 100).quantize(Decimal("0.1")))
        return {
            "sharedoId": item_id,
            "estimatedFees": estimate,
            "actualFees": actual,
            "percentOfEstimate": percent,
            "alertThresholds": [int(t * 100) for t in self.thresholds],
            "lastAlert": attrs.get("feeAlert"),
        }

    def set_fees(self, item_id: str, body: Any, principal: Principal | None) -> dict[str, Any]:
        """`{estimatedFees}` and/or `{actualFees}`; the alert rule (`_on_attributes`) runs on what changed."""
        require(principal, "core.sharedo.update")
        f = Fields(body)
        estimate = _money(f, "estimatedFees", required=False)
        actual = _money(f, "actualFees", required=False)
        if estimate is None and actual is None and not f.errors:
            f.error("(body)", "give estimatedFees, actualFees or both")
        f.raise_if_errors()
        changes = {}
        if estimate is not None:
            changes["estimatedFees"] = str(estimate)
        if actual is not None:
            changes["actualFees"] = str(actual)
        self.items.set_attributes(item_id, changes, None)
        return self.fees(item_id)

    # -- the actual vs estimated fees alert ---------------------------------------------------------
    def _on_attributes(self, tx: sqlite3.Connection, item: WorkItem, changed: dict[str, tuple[Any, Any]]) -> None:
        """Either fee figure changed, by any route (the fees route, the attributes routes, a sync): a value
        that is not an amount is refused, and the alert rule runs in the same transaction."""
        touched = [name for name in FEE_FIGURES if name in changed]
        if not touched:
            return
        for name in touched:
            value = changed[name][1]
            if value is not None and _amount(value) is None:
                raise invalid(
                    name,
                    f"{name} is a fee figure: an amount between 0 and 1,000,000,000,000 as a decimal string "
                    f'such as "5000.00", not {str(value)[:40]!r}',
                )
        self._alert(tx, item)

    def _alert(self, tx: sqlite3.Connection, item: WorkItem) -> int:
        """Alert once for each threshold the actual fees now reach and had not: from below the line to at or
        above it, whichever figure moved. `feeAlert` holds the highest threshold alerted and still reached
        (stored with the figures, so a restart or a snapshot load raises nothing twice); falling back below
        a line lowers it, so crossing that line again alerts again. Returns how many alerts were raised."""
        attrs = WorkItemReads(self.store).attribute_values(item.id, (*FEE_FIGURES, FEE_ALERT), tx)
        estimate, actual = _stored(attrs.get("estimatedFees")), _stored(attrs.get("actualFees"))
        reached = []
        if estimate and estimate > 0 and actual is not None:
            reached = [t for t in self.thresholds if actual >= estimate * Decimal(str(t))]
        alerted = _alerted_level(attrs.get(FEE_ALERT), self.thresholds)
        raised = 0
        for t in reached:
            if t <= alerted:
                continue
            assert estimate is not None and actual is not None
            self.stream.append(
                tx,
                "actual-fees-threshold-crossed",
                {
                    "sharedoId": item.id,
                    "sharedoTypeSystemName": item.type,
                    "threshold": _percent(t),
                    "actualFees": f"{actual:.2f}",
                    "estimatedFees": f"{estimate:.2f}",
                },
            )
            note = (
                f"Actual fees {actual:.2f} have reached {_percent(t)}% of the estimate {estimate:.2f} "
                f"({iso(self.clock.now())})"
            )
            self.items.add_comment(item.id, {"comment": note}, None)
            raised += 1
        level = f"{_percent(reached[-1])}%" if reached else None
        if level != attrs.get(FEE_ALERT):
            self.items.set_attributes(item.id, {FEE_ALERT: level}, None)
        return raised

    def sweep(self) -> int:
        """The rule over every work item holding a fee figure: at load, for seeded data and snapshots."""
        with self.store.transaction() as tx:
            ids = WorkItemReads(self.store).ids_with_attributes((*FEE_FIGURES, FEE_ALERT), tx)
            return sum(self._alert(tx, self.items.get(i, tx)) for i in ids)


def _amount(value: Any) -> Decimal | None:
    """A fee figure as written to an attribute: a decimal string within the fees route's bounds, else None."""
    amount = _stored(str(value).strip()) if isinstance(value, str) else None
    if amount is None or amount < 0 or amount > Decimal("1e12"):
        return None
    return amount


def _percent(share: float) -> int:
    return int(round(share * 100, 6))


def _alerted_level(stored: str | None, thresholds: list[float]) -> float:
    """`feeAlert` ("80%") as the highest configured threshold it covers; 0 when none (or unreadable)."""
    try:
        percent = Decimal((stored or "").strip().rstrip("%"))
    except InvalidOperation:
        return 0.0
    if not percent.is_finite():
        return 0.0
    return max((t for t in thresholds if _percent(t) <= percent), default=0.0)


def check_thresholds(values: Any) -> list[float]:
    if values is None:
        return list(DEFAULT_THRESHOLDS)
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 10 for v in values)
    ):
        raise ValueError("operate.toml [finance] fee_alert_thresholds must be a list of shares such as [0.8, 1.0]")
    return [float(v) for v in values]
