"""Matters, clients and fee earners: opening a matter here or from Operate, linking it to Operate's ids,
and the official demo's financials ledger per reference."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from decimal import Decimal
from typing import Any

from emulator.kernel.clock import iso

from .records import (
    CURRENCY,
    MAX_LEDGER_AUDIT,
    MAX_LEDGERS,
    PRACTICE_AREAS,
    Client,
    DemoPmsError,
    FeeEarner,
    LedgerEntry,
    Matter,
    pence,
    pounds,
)


class MatterBook:
    """DemoPmsBackend's matters, clients and ledgers: a part of the backend, working on its books under its lock."""

    def get_matter(self, reference: str) -> Matter:
        return self._found(self.matters, reference, f"no matter with PMS reference {reference!r}")

    def find_matters(self, operate_id: str | None = None, client_id: str | None = None) -> list[Matter]:
        with self._lock:
            if operate_id is not None:
                ref = self._matters_by_operate.get(operate_id)
                found = [self.matters[ref]] if ref else []
            else:
                found = list(self.matters.values())
            if client_id is not None:
                client = self._client(client_id, "clientId", status=404)
                found = [m for m in found if m.client_id == client.client_id]
            return found

    def fee_earner(self, key: str, field_name: str = "feeEarner") -> FeeEarner:
        """A fee earner by code (PS), Operate user name (priya.shah), name or Operate ODS id."""
        wanted = key.strip().lower()
        with self._lock:
            for earner in self.fee_earners.values():
                keys = (earner.code, earner.name, earner.user_name or "", earner.operate_ods_id or "")
                if wanted in (k.lower() for k in keys):
                    return earner
            codes = ", ".join(self.fee_earners)
        raise DemoPmsError(400, f"{field_name}: no fee earner {key!r}; known codes: {codes}", field_name)

    def _client(self, key: str, field_name: str, status: int = 400) -> Client:
        client = self.clients.get(key)
        if client is None:
            client = next((c for c in self.clients.values() if c.operate_ods_id == key), None)
        if client is None:
            message = f"no client {key!r}" if status == 404 else f"{field_name}: no client {key!r}"
            raise DemoPmsError(status, message, field_name if status == 400 else None)
        return client

    def get_client(self, key: str) -> Client:
        """A client by PMS client id (CLI-0004) or the Operate ODS id of the client participant."""
        with self._lock:
            return self._client(key, "clientId", status=404)

    def _add_matter(self, matter: Matter) -> None:
        self.matters[matter.reference] = matter
        if matter.operate_id:
            self._matters_by_operate[matter.operate_id] = matter.reference
        self._matter_time[matter.reference] = []
        self._matter_disb[matter.reference] = []
        self._matter_invoices[matter.reference] = []
        self._open_by_matter[matter.reference] = {}

    def _new_reference(self) -> str:
        while f"PMS-{self._next_matter}" in self.matters:
            self._next_matter += 1
        reference = f"PMS-{self._next_matter}"
        self._next_matter += 1
        return reference

    def open_matter(
        self,
        *,
        operate_id: str,
        title: str,
        fee_earner: str,
        client_name: str | None = None,
        client_id: str | None = None,
        billing_arrangements: str | None = None,
        priority: int | None = None,
        confidential: bool = False,
        estimated_fees: Decimal | None = None,
    ) -> tuple[Matter, bool]:
        """Matter inception from Operate. The same Operate id again returns the matter it made (created=False)."""
        with self._lock:
            existing = self._matters_by_operate.get(operate_id)
            if existing:
                return self.matters[existing], False
            earner = self.fee_earner(fee_earner)
            self._room_for("matters", self.matters)
            client = self._client_for(
                client_id, client_name, "clientName is required (or clientId for a client the PMS knows)", "clientName"
            )
            matter = self._new_matter(
                title=title,
                client_id=client.client_id,
                fee_earner=earner.code,
                operate_id=operate_id,
                billing_arrangements=billing_arrangements,
                priority=priority,
                confidential=confidential,
                estimated_fees=pence(estimated_fees) if estimated_fees is not None else None,
            )
            return matter, True

    def open_demo_matter(self, priority: int, confidential: bool, billing_arrangements: str | None) -> Matter:
        """The official demo's `POST /api/matter`: it refuses matters below priority 5 (its own words)."""
        if priority < 5:
            raise DemoPmsError(400, "Can only incept matters with priority 5 or above in PMS", "priority")
        with self._lock:
            self._room_for("matters", self.matters)
            return self._new_matter(
                title=None,
                client_id=None,
                fee_earner=None,
                billing_arrangements=billing_arrangements,
                priority=priority,
                confidential=confidential,
            )

    def incept_matter(
        self,
        *,
        title: str,
        fee_earner: str,
        client_id: str | None = None,
        client_name: str | None = None,
        practice_area: str | None = None,
        billing_arrangements: str | None = None,
        estimated_fees: Decimal | None = None,
    ) -> Matter:
        """A matter opened in the PMS itself (no Operate id yet): it is queued for Operate (delivery.py),
        which sends it through Operate's public API and links the two when Operate has it."""
        area = practice_area or PRACTICE_AREAS[0]
        if area not in PRACTICE_AREAS:
            raise DemoPmsError(
                400, f"practiceArea must be one of {', '.join(PRACTICE_AREAS)}, not {area!r}", "practiceArea"
            )
        with self._lock:
            earner = self.fee_earner(fee_earner)
            client = self._client_for(
                client_id, client_name, "clientId (a client the PMS knows) or clientName is required", "clientId"
            )
            self._room_for("matters", self.matters)
            matter = self._new_matter(
                title=title,
                client_id=client.client_id,
                fee_earner=earner.code,
                billing_arrangements=billing_arrangements,
                estimated_fees=pence(estimated_fees) if estimated_fees is not None else None,
                practice_area=area,
            )
            self.outbox.queue("matter", matter.reference)
            return matter

    def _new_matter(self, **fields: Any) -> Matter:
        """A matter opened now under the next reference, in the books; `fields` are the rest of Matter's."""
        matter = Matter(reference=self._new_reference(), opened_at=self.clock.now(), **fields)
        self._add_matter(matter)
        return matter

    def _client_for(self, client_id: str | None, client_name: str | None, missing: str, missing_field: str) -> Client:
        """The client a matter is opened for: by id (one the PMS knows), else by name (found or added); neither
        is a 400 saying `missing` about `missing_field` (each route words it its own way)."""
        if client_id:
            return self._client(client_id, "clientId")
        if client_name:
            return self._client_named(client_name)
        raise DemoPmsError(400, missing, missing_field)

    def _client_named(self, client_name: str) -> Client:
        """The client of that name (any letter case), or a new one."""
        wanted = client_name.strip().lower()
        client = next((c for c in self.clients.values() if c.name.lower() == wanted), None)
        if client is None:
            self._room_for("clients", self.clients)
            number = len(self.clients) + 1
            while f"CLI-{number:04d}" in self.clients:
                number += 1
            client = Client(f"CLI-{number:04d}", client_name.strip(), "unknown")
            self.clients[client.client_id] = client
        return client

    def link_matter(self, reference: str, operate_id: str) -> Matter:
        """Operate holds the PMS's matter as work item `operate_id` (what a delivery learnt)."""
        with self._lock:
            matter = self.get_matter(reference)
            owner = self._matters_by_operate.get(operate_id)
            if owner not in (None, reference):
                raise DemoPmsError(409, f"Operate work item {operate_id} is already linked to {owner}", "operateId")
            matter.operate_id = operate_id
            self._matters_by_operate[operate_id] = reference
            return matter

    def link_client(self, client_id: str, ods_id: str) -> Client:
        with self._lock:
            client = self._client(client_id, "clientId", status=404)
            client.operate_ods_id = ods_id
            return client

    def matter_json(self, matter: Matter) -> dict[str, Any]:
        with self._lock:
            client = self.clients.get(matter.client_id) if matter.client_id else None
            earner = self.fee_earners.get(matter.fee_earner) if matter.fee_earner else None
        return {
            "pmsReference": matter.reference,
            "operateId": matter.operate_id,
            "title": matter.title,
            "clientId": matter.client_id,
            "clientName": client.name if client else None,
            "feeEarner": matter.fee_earner,
            "feeEarnerName": earner.name if earner else None,
            "billingArrangements": matter.billing_arrangements,
            "priority": matter.priority,
            "confidential": matter.confidential,
            "estimatedFees": pounds(matter.estimated_fees) if matter.estimated_fees is not None else None,
            "status": matter.status,
            "practiceArea": matter.practice_area,
            "openedAt": iso(matter.opened_at),
            "currency": CURRENCY,
        }

    # --- the official demo's financials ledger ------------------------------------------------
    # As in the demo's PMSApi, any reference has a balance (0 until something is posted), so these
    # routes never answer 404: a reference from POST /api/matter or from anywhere else works.

    def _post_ledger(self, reference: str, delta: int, at: datetime) -> int:
        if reference not in self._ledgers:
            if len(self._ledgers) >= MAX_LEDGERS:
                raise DemoPmsError(409, f"the demo PMS keeps at most {MAX_LEDGERS} balances; POST /_fake/reset")
            self._ledgers[reference] = deque(maxlen=MAX_LEDGER_AUDIT)
        balance = self._balances.get(reference, 0) + delta
        self._balances[reference] = balance
        self._ledgers[reference].append(LedgerEntry(at, delta, balance))
        return balance

    def financials(self, reference: str) -> int:
        with self._lock:
            return self._balances.get(reference, 0)

    def post_financials(self, reference: str, delta: Decimal) -> int:
        with self._lock:
            return self._post_ledger(reference, pence(delta), self.clock.now())

    def financials_audit(self, reference: str) -> list[LedgerEntry]:
        with self._lock:
            return list(self._ledgers.get(reference, ()))

    # --- time --------------------------------------------------------------------------------

    @staticmethod
    def _require_open(matter: Matter) -> None:
        if matter.status != "open":
            raise DemoPmsError(409, f"matter {matter.reference} is {matter.status}; it takes no new postings")

    # --- disbursements -----------------------------------------------------------------------
