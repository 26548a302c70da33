"""Activities (time and expense entries) and bills (§9): recording work, billing a matter, a bill's
state and payments, and what is still unbilled."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ....clio.errors import ClioError
from .. import seed
from .rules import (
    ACTIVITY_FIELDS,
    ACTIVITY_TYPES,
    BILL_FIELDS,
    BILL_STATES,
    _amount,
    _day,
    _only,
    _text,
)


class BillingRecords:
    """ClioBackend's activities and bills: a part of the backend, working on its records under its lock."""

    def create_activity(self, data: dict[str, Any], user_id: int) -> dict[str, Any]:
        """§9: a TimeEntry (`quantity` in seconds, `price` the hourly rate, by default the user's) or an
        ExpenseEntry (`price` the amount, `quantity` 1 unless given); `type` and `date` are required."""
        return self._insert("activities", lambda: self._activity(data, user_id))

    def _activity(self, data: dict[str, Any], user_id: int, record_id: int | None = None) -> dict[str, Any]:
        """An activity as `data` describes it, checked (a create, or an update's merged fields)."""
        _only(data, ACTIVITY_FIELDS, "activity", "an activity")
        kind = data.get("type")
        if kind not in ACTIVITY_TYPES:
            kinds = ", ".join(ACTIVITY_TYPES)
            raise ClioError(422, f"data.type must be one of {kinds} on this fake", "ValidationError")
        day = data.get("date")
        try:
            day = date.fromisoformat(day) if isinstance(day, str) else None
        except ValueError:
            day = None
        if day is None:
            raise ClioError(422, "data.date is required, as an ISO 8601 date (YYYY-MM-DD)", "ValidationError")
        note = data.get("note")
        if note is not None and not isinstance(note, str):
            raise ClioError(422, "data.note must be text", "ValidationError")
        non_billable = data.get("non_billable")
        if non_billable is not None and not isinstance(non_billable, bool):
            raise ClioError(422, "data.non_billable must be true or false", "ValidationError")
        with self.lock:
            matter = self._matter_ref(data.get("matter"), "data")
            user = data.get("user")
            if user is not None:
                user_id = user.get("id") if isinstance(user, dict) else None
                if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id not in self.users:
                    raise ClioError(422, f"data.user {user_id!r} is not a user of this firm", "ValidationError")
            if kind == "TimeEntry":
                seconds = _amount(data.get("quantity"), "data.quantity", positive=True)
                rate = _amount(data.get("price"), "data.price", default=self.rates[user_id])
                quantity, price, value = seconds, rate, round(seconds / 3600 * rate, 2)
                hours = round(seconds / 3600, 2)
            else:
                price = _amount(data.get("price"), "data.price")
                quantity = _amount(data.get("quantity"), "data.quantity", default=1.0, positive=True)
                value, hours = round(price * quantity, 2), 0.0
            now = seed.stamp(self.clock.now())
            record = {
                "id": record_id or self._new_id("activities"),
                "type": kind,
                "date": day.isoformat(),
                "quantity": float(quantity),
                "quantity_in_hours": hours,
                "price": float(price),
                "total": 0.0 if non_billable else value,
                "note": note,
                "billed": False,
                "on_bill": False,
                "non_billable": bool(non_billable),
                "non_billable_total": value if non_billable else 0.0,
                "matter": matter,
                "user": {"id": user_id},
                "bill": None,
                "created_at": now,
                "updated_at": now,
            }
            return record

    def update_activity(self, activity_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        """PATCH /activities/{id}: the fields a create takes; a billed activity cannot change [inferred: 422]."""
        _only(data, ACTIVITY_FIELDS, "activity", "an activity")
        return self._patch("activities", activity_id, data, if_match, "activity", self._changed_activity)

    def _changed_activity(self, activity: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        if activity["billed"]:
            raise ClioError(422, f"Activity {activity['id']} is on a bill and cannot be changed", "ValidationError")
        merged = {
            "type": activity["type"], "date": activity["date"], "note": activity["note"],
            "non_billable": activity["non_billable"], "matter": activity["matter"], "user": activity["user"],
            "quantity": activity["quantity"], "price": activity["price"],
        }  # fmt: skip
        merged.update({k: v for k, v in data.items() if k in merged and v is not None})
        made = self._activity(merged, activity["user"]["id"], activity["id"])
        return dict(activity, **{k: v for k, v in made.items() if k not in ("id", "created_at")})

    def delete_activity(self, activity_id: int) -> None:
        """DELETE /activities/{id}: [inferred] one on a bill cannot be deleted (403)."""
        with self.lock:
            activity = self.find("activities", activity_id)
            if activity["billed"]:
                raise ClioError(403, f"Activity {activity_id} is on a bill and cannot be deleted", "Forbidden")
            self._remove("activities", activity)

    def billable_matters(self) -> list[dict[str, Any]]:
        """§9: per matter with unbilled work, its unbilled hours and amount (time and expenses not on a bill)."""
        totals: dict[int, dict[str, float]] = {}
        for activity in self.activities.values():
            if activity["billed"] or activity["non_billable"] or activity["matter"] is None:
                continue
            row = totals.setdefault(activity["matter"]["id"], {"hours": 0.0, "amount": 0.0})
            if activity["type"] == "TimeEntry":
                row["hours"] += activity["quantity"] / 3600
            row["amount"] += activity["total"]
        out = []
        for matter_id, row in totals.items():
            matter = self.matters[matter_id]
            out.append(
                {
                    "id": matter_id,
                    "etag": matter["etag"],
                    "unbilled_hours": round(row["hours"], 2),
                    "unbilled_amount": round(row["amount"], 2),
                    "amount_in_trust": 0.0,
                    "display_number": matter["display_number"],
                    "client": matter["client"],
                    "created_at": matter["created_at"],
                    "updated_at": matter["updated_at"],
                }
            )
        return out

    def bill_matter(
        self, matter_id: int, *, issued_at: date, due_at: date | None = None, state: str = "awaiting_payment",
        paid: float = 0.0, activities: list[int] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Library mode: a bill for the matter's unbilled billable work (or only the `activities` named), as a
        firm makes one in Clio (§9); due 30 days after issue unless given. Its activities are billed from then on."""
        if state not in BILL_STATES:
            raise ValueError(f"state must be one of {', '.join(BILL_STATES)}")
        with self.lock:
            matter = self.find("matters", matter_id)
            work = [
                a
                for a in self.activities.values()
                if (a["matter"] or {}).get("id") == matter_id
                and not a["billed"]
                and not a["non_billable"]
                and (activities is None or a["id"] in activities)
            ]
            if not work:
                raise ValueError(f"matter {matter_id} has no unbilled work to bill")
            bill_id = max(self.bills, default=seed.FIRST_ID["bills"] - 1) + 1
            now = seed.stamp(self.clock.now())
            total = round(sum(a["total"] for a in work), 2)
            record = {
                "id": bill_id,
                "number": str(1000 + bill_id - seed.FIRST_ID["bills"]),
                "issued_at": issued_at.isoformat(),
                "due_at": (due_at or issued_at + timedelta(days=30)).isoformat(),
                "total": total,
                "sub_total": total,
                "services_sub_total": round(sum(a["total"] for a in work if a["type"] == "TimeEntry"), 2),
                "total_tax": 0.0,
                "paid": round(paid, 2),
                "paid_at": now if state == "paid" else None,
                "balance": round(total - paid, 2),
                "state": state,
                "type": "MatterBill",
                "subject": f"Services - {matter['display_number']}",
                "client": {"id": matter["client"]["id"]},
                "matters": [{"id": matter_id}],
                "created_at": now,
                "updated_at": now,
            }
            self._save("bills", record, None)
            for activity in work:
                billed = dict(activity, billed=True, on_bill=True, bill={"id": bill_id}, updated_at=now)
                self._save("activities", billed, activity)
            return record

    def update_bill(self, bill_id: int, *, state: str | None = None, paid: float | None = None) -> dict[str, Any]:
        """Library mode: a bill moves on as a firm works it in Clio (approved, sent, paid in part or in full);
        `balance` follows `paid`, and `paid_at` is set when it becomes paid."""
        if state is not None and state not in BILL_STATES:
            raise ValueError(f"state must be one of {', '.join(BILL_STATES)}")
        with self.lock:
            bill = self.find("bills", bill_id)
            changed = dict(bill, updated_at=seed.stamp(self.clock.now()))
            if paid is not None:
                if not 0 <= paid <= bill["total"]:
                    raise ValueError(f"paid must be from 0 to the bill's total {bill['total']}")
                changed.update(paid=round(paid, 2), balance=round(bill["total"] - paid, 2))
            if state is not None:
                changed["state"] = state
                if state == "paid" and not bill.get("paid_at"):
                    changed["paid_at"] = changed["updated_at"]
            self._save("bills", changed, bill)
            return changed

    def patch_bill(self, bill_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        """PATCH /bills/{id}: `state` (the document's six), `issued_at`, `due_at`, `subject`, `memo`, `number`,
        `purchase_order`. [inferred] A void or deleted bill releases its activities (unbilled again)."""
        _only(data, BILL_FIELDS, "bill", "a bill")
        with self.lock:
            bill = self.find("bills", bill_id)
            self._if_match(bill, if_match, "bill")
            changed = dict(bill, updated_at=seed.stamp(self.clock.now()))
            state = data.get("state")
            if state is not None:
                if state not in BILL_STATES:
                    raise ClioError(422, f"data.state must be one of {', '.join(BILL_STATES)}", "ValidationError")
                changed["state"] = state
                if state == "paid" and not bill.get("paid_at"):
                    changed["paid_at"] = changed["updated_at"]
            for name in ("issued_at", "due_at"):
                if data.get(name) is not None:
                    changed[name] = _day(data, name)
            for name in ("subject", "memo", "number", "purchase_order"):
                if data.get(name) is not None:
                    changed[name] = _text(data, name)
            if changed["due_at"] < changed["issued_at"]:
                raise ClioError(422, "data.due_at must not be before issued_at", "ValidationError")
            self._save("bills", changed, bill)
            if changed["state"] in ("void", "deleted") and bill["state"] not in ("void", "deleted"):
                self._release(bill_id)
            return changed

    def delete_bill(self, bill_id: int) -> None:
        """DELETE /bills/{id}: [inferred] only a bill not yet sent (draft or awaiting approval) or void may be
        deleted (403 otherwise); its activities are unbilled again."""
        with self.lock:
            bill = self.find("bills", bill_id)
            if bill["state"] not in ("draft", "awaiting_approval", "void", "deleted"):
                raise ClioError(403, f"Bill {bill_id} is {bill['state']}: void it before deleting it", "Forbidden")
            self._release(bill_id)
            self._remove("bills", bill)

    def _release(self, bill_id: int) -> None:
        now = seed.stamp(self.clock.now())
        for activity in [a for a in self.activities.values() if (a["bill"] or {}).get("id") == bill_id]:
            freed = dict(activity, billed=False, on_bill=False, bill=None, updated_at=now)
            self._save("activities", freed, activity)
