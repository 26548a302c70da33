"""The fake Clio Manage's state and rules, in memory (moto's `models.py`).

One `ClioBackend` holds a firm's records (users, practice areas and their matter stages, contacts,
matters), the OAuth side (the developer app, codes, tokens), the per-token rate limiter and the
fake's switches (5xx, latency, expiry, revocation), and its webhooks (`webhooks.py`: every record it writes goes
through `_save`, which tells them). The HTTP layer (`responses.py`) and tests in
library mode share it. Every time comes from the backend's `Clock`, so tokens expire, rate windows
roll and `updated_since` moves on virtual time.

This module is the facade: the firm's state, the record plumbing every part uses (`_save`, `find`,
ETags, references) and the webhooks. The rules live in `records/`, one module per job (OAuth, matters
and contacts, billing, communications and documents), each a class the backend is composed of: mixins
of one object, because they share the one lock and the same record tables and `_save` (which tells the
webhooks); the limits and checks they share are in `records/rules.py` and are named here too.

Facts are from shared/reference/clio-manage-api.md (section numbers below); where Clio is silent,
the choice is marked [inferred].
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from emulator.kernel.clock import Clock

from ...clio.errors import ClioError
from . import seed
from .delivery import IDLE_WAIT, RETRY_DELAYS, Delivery, WebhookSender
from .records.billing import BillingRecords
from .records.communications import CommunicationRecords
from .records.matters import MatterRecords
from .records.oauth import OAuthSide
from .records.rules import (
    ACTIVITY_FIELDS,
    ACTIVITY_TYPES,
    API_VERSIONS,
    BILL_FIELDS,
    BILL_STATES,
    BODY_FIELDS,
    CODE_LIFETIME,
    COMMUNICATION_FIELDS,
    CONTACT_FIELDS,
    DEFAULT_API_VERSION,
    INVALID_TOKEN,
    MATTER_CREATE_FIELDS,
    MAX_EXTERNAL_PROPERTIES,
    MAX_LIMIT,
    MAX_OFFSET_RECORDS,
    OTHER_RATE,
    PUT_URL_LIFETIME,
    RATE_LIMIT,
    RATE_WINDOW,
    TOKEN_LIFETIME,
    App,
    OAuthError,
    Switches,
    Token,
)
from .webhooks import WebhookHub

__all__ = [
    "ClioBackend",
    "API_VERSIONS",
    "DEFAULT_API_VERSION",
    "TOKEN_LIFETIME",
    "CODE_LIFETIME",
    "RATE_LIMIT",
    "RATE_WINDOW",
    "PUT_URL_LIFETIME",
    "MAX_EXTERNAL_PROPERTIES",
    "MAX_LIMIT",
    "MAX_OFFSET_RECORDS",
    "BILL_STATES",
    "ACTIVITY_TYPES",
    "OTHER_RATE",
    "ACTIVITY_FIELDS",
    "COMMUNICATION_FIELDS",
    "MATTER_CREATE_FIELDS",
    "BILL_FIELDS",
    "CONTACT_FIELDS",
    "BODY_FIELDS",
    "INVALID_TOKEN",
    "OAuthError",
    "App",
    "Token",
    "Switches",
]


Changer = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]  # a PATCH's rules: record, data -> changed copy


class ClioBackend(OAuthSide, MatterRecords, BillingRecords, CommunicationRecords):
    def __init__(
        self,
        clock: Clock | None = None,
        *,
        matters: int = seed.DEFAULT_MATTERS,
        rate_limit: int = RATE_LIMIT,
        token_lifetime: timedelta = TOKEN_LIFETIME,
        app: App | None = None,
        seed_value: int = 1,
        allow_insecure_webhooks: bool = False,
        allow_remote_webhooks: bool = False,
        webhook_retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        """`allow_insecure_webhooks`: take http webhook URLs (a local receiver), not only https as Clio does;
        `allow_remote_webhooks`: let webhook requests leave this machine (off by default: loopback only)."""
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.app = app or App()
        self.rate_limit = rate_limit
        self.token_lifetime = token_lifetime
        self.switches = Switches()
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.windows: dict[str, tuple[datetime, int]] = {}  # access token → (window start, calls)
        self.requests = 0
        data = seed.generate(self.clock.now(), matters=matters, seed_value=seed_value)
        self.users: dict[int, dict[str, Any]] = {u["id"]: u for u in data["users"]}
        self.practice_areas: dict[int, dict[str, Any]] = {p["id"]: p for p in data["practice_areas"]}
        self.matter_stages: dict[int, dict[str, Any]] = {s["id"]: s for s in data["matter_stages"]}
        self.contacts: dict[int, dict[str, Any]] = {c["id"]: c for c in data["contacts"]}
        self.matters: dict[int, dict[str, Any]] = {m["id"]: m for m in data["matters"]}
        self.activities: dict[int, dict[str, Any]] = {a["id"]: a for a in data["activities"]}
        self.bills: dict[int, dict[str, Any]] = {b["id"]: b for b in data["bills"]}
        self.communications: dict[int, dict[str, Any]] = {}
        self.documents: dict[int, dict[str, Any]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}  # version uuid → {document_id, bytes, content_type, put_by}
        self.next_id = {"communications": 4_400_000_001, "documents": 5_500_000_001, "versions": 6_600_000_001,
                        "external_properties": 7_700_000_001,
                        "activities": max(self.activities, default=seed.FIRST_ID["activities"] - 1) + 1}  # fmt: skip
        # Each user's default hourly rate, which a time entry without a price is charged at (§9 [inferred]).
        rates = dict(enumerate(seed.RATES))
        self.rates = {user_id: rates.get(i, OTHER_RATE) for i, user_id in enumerate(sorted(self.users))}
        self.account_owner = min(self.users)
        dispatcher = WebhookSender(self.clock, allow_remote=allow_remote_webhooks, retry_delays=webhook_retry_delays)
        self.webhooks = WebhookHub(
            self.clock, self.lock, self._lookup, dispatcher, allow_insecure=allow_insecure_webhooks
        )

    @property
    def deliveries(self) -> list[Delivery]:
        """Library mode: every webhook request the fake made or refused, in order (handshakes included)."""
        return self.webhooks.dispatcher.deliveries

    def wait_for_webhooks(self, timeout: float = IDLE_WAIT) -> bool:
        """Library mode: block until every queued webhook request has settled (False if `timeout` s passed)."""
        return self.webhooks.dispatcher.wait_idle(timeout)

    def close(self) -> None:
        """Stop the webhook worker (if one was started)."""
        self.webhooks.dispatcher.close()

    def collection(self, name: str) -> dict[int, dict[str, Any]]:
        return {
            "users": self.users,
            "practice_areas": self.practice_areas,
            "matter_stages": self.matter_stages,
            "contacts": self.contacts,
            "matters": self.matters,
            "activities": self.activities,
            "bills": self.bills,
            "communications": self.communications,
            "documents": self.documents,
            "webhooks": self.webhooks.records,
        }[name]

    def _lookup(self, name: str, record_id: int) -> dict[str, Any] | None:
        return self.collection(name).get(record_id)

    def _save(self, collection: str, record: dict[str, Any], before: dict[str, Any] | None, event: str = "") -> None:
        """THE place every record the fake changes is written: its etag moves, it is stored, and the webhooks
        hear of it (`created` when there was no `before`, else `updated`, or the `event` given)."""
        record["etag"] = seed.etag_of(record)
        self.collection(collection)[record["id"]] = record
        self.webhooks.changed(collection, event or ("updated" if before is not None else "created"), before, record)

    def _insert(self, collection: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A create: the record `make` builds and checks is saved under the one lock, so no other write comes
        between its checks and its save."""
        with self.lock:
            record = make()
            self._save(collection, record, None)
            return record

    def _patch(
        self, collection: str, record_id: int, data: dict[str, Any], if_match: str | None, name: str, change: Changer
    ) -> dict[str, Any]:
        """Every PATCH the same way (§3.5): under the one lock the record is found (404), `If-Match` is checked
        (412), `change` makes its copy changed as `data` says (or refuses, 422), and that copy is saved."""
        with self.lock:
            record = self.find(collection, record_id)
            self._if_match(record, if_match, name)
            changed = change(record, data)
            self._save(collection, changed, record)
            return changed

    def find(self, name: str, record_id: int) -> dict[str, Any]:
        record = self.collection(name).get(record_id)
        if record is None:
            raise ClioError(
                404, f"{name[:-1].replace('_', ' ').capitalize()} {record_id} was not found", "RecordNotFound"
            )
        return record

    # -- writes from the integration: communications and documents (§7, §8) -------------------------
    def _new_id(self, kind: str) -> int:
        value = self.next_id[kind]
        self.next_id[kind] += 1
        return value

    def _external_properties(self, raw: Any, where: str) -> list[dict[str, Any]]:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
            raise ClioError(422, f"{where}.external_properties must be a list of {{name, value}}", "ValidationError")
        if len(raw) > MAX_EXTERNAL_PROPERTIES:
            raise ClioError(
                422, f"{where} takes at most {MAX_EXTERNAL_PROPERTIES} external_properties", "ValidationError"
            )
        now = seed.stamp(self.clock.now())
        out = []
        for prop in raw:
            name, value = prop.get("name"), prop.get("value")
            if not isinstance(name, str) or not name or not isinstance(value, str):
                raise ClioError(422, f"{where}.external_properties need a name and a text value", "ValidationError")
            out.append({"id": self._new_id("external_properties"), "etag": '"x"', "name": name, "value": value,
                        "created_at": now, "updated_at": now})  # fmt: skip
        return out

    def _matter_ref(self, raw: Any, where: str) -> dict[str, int] | None:
        if raw is None:
            return None
        matter_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(matter_id, int) or isinstance(matter_id, bool) or matter_id not in self.matters:
            raise ClioError(404, f"{where}.matter {matter_id!r} was not found", "RecordNotFound")
        return {"id": matter_id}

    # -- the other writes Clio's document lists: matters, contacts, activities, bills, communications -----------
    def _if_match(self, record: dict[str, Any], if_match: str | None, name: str) -> None:
        """§3.5: a PATCH with `If-Match` proceeds only while the record's etag is that one (412 otherwise)."""
        if if_match is not None and if_match != record["etag"]:
            raise ClioError(412, f"the {name} has changed since that ETag", "PreconditionFailed")

    def _ref(self, raw: Any, collection: str, where: str) -> dict[str, int] | None:
        """A `{"id": N}` reference to a record of `collection` (null or absent: none); one not there is a 404."""
        if raw is None:
            return None
        ref_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(ref_id, int) or isinstance(ref_id, bool):
            raise ClioError(422, f'{where} must be {{"id": <a whole number>}}', "ValidationError")
        if ref_id not in self.collection(collection):
            raise ClioError(404, f"{where} {ref_id} was not found", "RecordNotFound")
        return {"id": ref_id}

    def _remove(self, collection: str, record: dict[str, Any]) -> None:
        """THE place a record is deleted: gone from its collection, and the webhooks hear `deleted`."""
        del self.collection(collection)[record["id"]]
        self.webhooks.changed(collection, "deleted", record, record)

    # -- webhooks (§11; the rules and deliveries are in webhooks.py and delivery.py) ---------------------------
    def create_webhook(self, data: dict[str, Any], user_id: int) -> dict[str, Any]:
        return self.webhooks.create(data, user_id)

    def update_webhook(self, webhook_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        return self.webhooks.update(webhook_id, data, if_match)

    def delete_webhook(self, webhook_id: int) -> None:
        self.webhooks.delete(webhook_id)

    def activate_webhook(self, webhook_id: int, secret: str | None) -> dict[str, Any]:
        return self.webhooks.activate(webhook_id, secret)
