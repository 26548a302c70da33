"""Operate's side of the finance integrations: payment details from the PMS, estimated and actual
fees with their alerts. Route and field names here are [inferred]: the public finance swagger
(`/api/v1/public/finance/...`) is named in the product but its payloads are not public.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .identity import Principal, require
from .kernel.binding import Fields
from .kernel.clock import Clock, iso
from .kernel.errors import ApiError
from .kernel.events import EventStream
from .kernel.store import Store
from .workitems import WorkItems

DEFAULT_THRESHOLDS = (0.8, 1.0)


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
        """`{estimatedFees}` and/or `{actualFees}`; crossing a share of the estimate raises an alert once."""
        require(principal, "core.sharedo.update")
        f = Fields(body)
        estimate = _money(f, "estimatedFees", required=False)
        actual = _money(f, "actualFees", required=False)
        if estimate is None and actual is None and not f.errors:
            f.error("(body)", "give estimatedFees, actualFees or both")
        f.raise_if_errors()
        with self.store.transaction() as tx:
            item = self.items.get(item_id, tx)
            before = self.items.attributes(item.id)
            old_actual = _stored(before.get("actualFees")) or Decimal(0)
            new_est = estimate if estimate is not None else _stored(before.get("estimatedFees"))
            new_actual = actual if actual is not None else old_actual
            changes = {}
            if estimate is not None:
                changes["estimatedFees"] = str(estimate)
            if actual is not None:
                changes["actualFees"] = str(actual)
            if new_est and new_est > 0:
                for t in self.thresholds:
                    line = new_est * Decimal(str(t))
                    # Once per crossing: from below the line to at or above it.
                    if old_actual < line <= new_actual:
                        changes["feeAlert"] = f"{int(t * 100)}%"
                        self.stream.append(
                            tx,
                            "actual-fees-threshold-crossed",
                            {
                                "sharedoId": item.id,
                                "sharedoTypeSystemName": item.type,
                                "threshold": int(t * 100),
                                "actualFees": f"{new_actual:.2f}",
                                "estimatedFees": f"{new_est:.2f}",
                            },
                        )
                        self.items.add_comment(
                            item.id,
                            {
                                "comment": (
                                    f"Actual fees {new_actual:.2f} have reached {int(t * 100)}% "
                                    f"of the estimate {new_est:.2f} "
                                    f"({iso(self.clock.now())})"
                                )
                            },
                            None,
                        )
            self.items.set_attributes(item.id, changes, None)
        return self.fees(item_id)


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
