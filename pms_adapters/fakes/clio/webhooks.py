"""Webhooks in the fake Clio (reference §11; the Webhooks tag of Clio's OpenAPI document): the subscriptions,
their rules, the handshake, and which change of a record becomes which signed delivery.

A webhook is `pending` until its handshake succeeds: right after it is created (and whenever its URL
changes) the fake POSTs to the URL with a new secret in `X-Hook-Secret`; the receiver confirms by echoing
the header in a 2xx answer, or later with `PUT /api/v4/webhooks/{id}/activate` carrying it. Only an
`enabled` webhook that has not expired (on the backend's clock) delivers; a 410 answer `suspended`s it.
A delivery is `{"data": <the record, the webhook's fields>, "meta": {"event", "webhook_id"}}`, signed with
the lowercase hex HMAC-SHA256 of the raw body under the secret, in `X-Hook-Signature` (§11, §15.6).
For `updated`, `fields` is also the watch list: a record fires only when a watched field changed, except
the first time the webhook sees that record, when any change fires (the document's "important note").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from emulator.kernel.clock import Clock, parse_instant

from ...clio.errors import ClioError
from . import fields, seed
from .delivery import Job, WebhookSender

DEFAULT_LIFETIME = timedelta(days=3)  # §11: without expires_at a webhook expires after 3 days
MAX_LIFETIME = timedelta(days=31)  # §11: expires_at at most 31 days ahead (PATCH it to extend)
MAX_FIELDS_CHARS = 1000  # §11: a longer `fields` is rejected
MAX_URL_CHARS = 2048  # [inferred]
FIRST_ID = 8_800_000_001
GENERAL_EVENTS = ("created", "updated", "deleted")
MATTER_EVENTS = ("matter_opened", "matter_pended", "matter_closed")
MATTER_STATUS_EVENTS = {"Open": "matter_opened", "Pending": "matter_pended", "Closed": "matter_closed"}
# The document's supported models: string identifier → (numeric id, the fake's collection of those records).
# The models the fake keeps no records of can be subscribed to; they never fire.
MODELS: dict[str, tuple[int, str | None]] = {
    "matter": (1, "matters"),
    "activity": (2, "activities"),
    "bill": (3, "bills"),
    "calendar_entry": (4, None),
    "communication": (5, "communications"),
    "contact": (6, "contacts"),
    "task": (7, None),
    "document": (8, "documents"),
    "folder": (9, None),
    "clio_payments_payment": (10, None),
}
MODEL_OF_COLLECTION = {collection: model for model, (_, collection) in MODELS.items() if collection}


def events_of(model: str) -> tuple[str, ...]:
    """§11 "Model Specific Events": payments are never deleted; matters also fire on a status change."""
    if model == "clio_payments_payment":
        return ("created", "updated")
    return GENERAL_EVENTS + (MATTER_EVENTS if model == "matter" else ())


def handshake_body(webhook_id: int) -> bytes:
    """[inferred] The document says the handshake carries "the id of the webhook that was just created";
    not where. The fake sends it as the body; the secret is in the `X-Hook-Secret` header."""
    return json.dumps({"webhook_id": webhook_id}).encode()


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookHub:
    """The webhooks of one backend. `records` is the collection the API lists; the rest is bookkeeping
    (the secret-free parsed `fields`, the records each webhook has already reported)."""

    def __init__(
        self,
        clock: Clock,
        lock: threading.RLock,
        lookup: Callable[[str, int], dict[str, Any] | None],
        dispatcher: WebhookSender,
        *,
        allow_insecure: bool = False,
    ) -> None:
        self.clock = clock
        self.lock = lock
        self.lookup = lookup
        self.dispatcher = dispatcher
        self.allow_insecure = allow_insecure
        self.records: dict[int, dict[str, Any]] = {}
        self._wanted: dict[int, fields.Wanted] = {}
        self._seen: dict[int, set[int]] = {}
        self._next_id = FIRST_ID

    # -- the API's side ---------------------------------------------------------------------------
    def create(self, data: dict[str, Any], user_id: int) -> dict[str, Any]:
        for name in ("url", "model", "fields"):
            if data.get(name) in (None, ""):
                raise ClioError(422, f"data.{name} is required", "ValidationError")
        model = self._model(data["model"])
        url = self._url(data["url"])
        wanted = self._fields(data["fields"], model)
        events = self._events(data.get("events"), model)
        now = self.clock.now()
        expires = self._expires(data["expires_at"]) if data.get("expires_at") is not None else now + DEFAULT_LIFETIME
        with self.lock:
            record = {
                "id": self._next_id,
                "url": url,
                "fields": data["fields"],
                "shared_secret": secrets.token_hex(32),
                "model": model,
                "status": "pending",
                "events": events,
                "expires_at": seed.stamp(expires),
                "created_at": seed.stamp(now),
                "updated_at": seed.stamp(now),
                "user": {"id": user_id},
            }
            self._next_id += 1
            record["etag"] = seed.etag_of(record)
            self.records[record["id"]] = record
            self._wanted[record["id"]], self._seen[record["id"]] = wanted, set()
            self._handshake(record)
            return record

    def update(self, webhook_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        """PATCH: any of url (a new handshake: pending again, a new secret), model, fields, events, expires_at."""
        with self.lock:
            record = self._find(webhook_id)
            if if_match is not None and if_match != record["etag"]:
                raise ClioError(412, "the webhook has changed since that ETag", "PreconditionFailed")
            for name in ("url", "model", "fields"):
                if name in data and data[name] in (None, ""):
                    raise ClioError(422, f"data.{name} can't be blank", "ValidationError")
            model = self._model(data["model"]) if "model" in data else record["model"]
            url = self._url(data["url"]) if "url" in data else record["url"]
            text = data["fields"] if "fields" in data else record["fields"]
            wanted = self._fields(text, model)
            events = self._events(data["events"], model) if "events" in data else record["events"]
            wrong = [e for e in events if e not in events_of(model)]
            if wrong:
                raise ClioError(422, f"data.events: {wrong[0]!r} is not an event of {model}", "ValidationError")
            expires = self._expires(data["expires_at"]) if data.get("expires_at") is not None else None
            changed = dict(record, url=url, model=model, fields=text, events=events)
            if expires is not None:
                changed["expires_at"] = seed.stamp(expires)
            if url != record["url"]:
                changed.update(status="pending", shared_secret=secrets.token_hex(32))
            if url != record["url"] or model != record["model"]:
                self._seen[webhook_id] = set()  # a new receiver, or other records: nothing reported to it yet
            changed["updated_at"] = seed.stamp(self.clock.now())
            changed["etag"] = seed.etag_of(changed)
            self.records[webhook_id], self._wanted[webhook_id] = changed, wanted
            if url != record["url"]:
                self._handshake(changed)
            return changed

    def delete(self, webhook_id: int) -> None:
        with self.lock:
            self._find(webhook_id)
            del self.records[webhook_id], self._wanted[webhook_id], self._seen[webhook_id]

    def activate(self, webhook_id: int, secret: str | None) -> dict[str, Any]:
        """The delayed handshake (§11 option 2): `X-Hook-Secret` must be the secret the handshake carried."""
        with self.lock:
            record = self._find(webhook_id)
            if not secret:
                raise ClioError(400, "send the X-Hook-Secret header the handshake carried", "BadRequest")
            if not secrets.compare_digest(secret.encode(), record["shared_secret"].encode()):
                raise ClioError(422, "X-Hook-Secret does not match this webhook's secret", "ValidationError")
            if record["status"] != "enabled":
                self._set_status(record, "enabled")
            return self.records[webhook_id]

    # -- changes of records -----------------------------------------------------------------------
    def changed(self, collection: str, event: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        """A record of `collection` was created, updated or deleted: queue a delivery to each webhook that wants it.
        The payload is taken now, so it shows the record as this change left it."""
        model = MODEL_OF_COLLECTION.get(collection)
        if model is None or not self.records:
            return
        events = [event]
        if model == "matter" and before is not None and before.get("status") != after.get("status"):
            events += [e for s, e in MATTER_STATUS_EVENTS.items() if after.get("status") == s]
        now = self.clock.now()
        with self.lock:
            for record in list(self.records.values()):
                if record["model"] != model or record["status"] != "enabled":
                    continue
                if now >= parse_instant(record["expires_at"]):
                    continue  # §11: an expired webhook silently stops
                for name in events:
                    if name in record["events"] and self._fires(record, name, before, after):
                        self._deliver(record, name, after)

    def _fires(self, record: dict[str, Any], event: str, before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
        seen = self._seen[record["id"]]
        if event != "updated" or before is None or after["id"] not in seen:
            return True
        wanted, collection = self._wanted[record["id"]], MODELS[record["model"]][1] or ""
        return fields.project(before, wanted, collection, self.lookup) != fields.project(
            after, wanted, collection, self.lookup
        )

    # -- requests out -----------------------------------------------------------------------------
    def _handshake(self, record: dict[str, Any]) -> None:
        webhook_id, url, secret = record["id"], record["url"], record["shared_secret"]

        def current() -> dict[str, Any] | None:
            found = self.records.get(webhook_id)
            return found if found is not None and found["shared_secret"] == secret else None

        def settled(status: int, headers: Mapping[str, str]) -> bool:
            if not 200 <= status < 300:
                return False
            with self.lock:
                found = current()
                echoed = headers.get("X-Hook-Secret") or ""
                if found is not None and found["status"] == "pending" and hmac.compare_digest(echoed, secret):
                    self._set_status(found, "enabled")
            return True  # a 2xx without the echo: the receiver will activate later (option 2)

        headers = {"Content-Type": "application/json", "X-Hook-Secret": secret}
        job = Job(
            webhook_id, url, "handshake", handshake_body(webhook_id), headers, settled, lambda: current() is not None
        )
        self.dispatcher.submit(job)

    def _deliver(self, record: dict[str, Any], event: str, after: dict[str, Any]) -> None:
        webhook_id, url, secret = record["id"], record["url"], record["shared_secret"]
        collection = MODELS[record["model"]][1] or ""
        data = fields.project(after, self._wanted[webhook_id], collection, self.lookup)
        body = json.dumps({"data": data, "meta": {"event": event, "webhook_id": webhook_id}}).encode()
        self._seen[webhook_id].add(after["id"])

        def wanted() -> bool:
            with self.lock:
                found = self.records.get(webhook_id)
                return found is not None and found["status"] == "enabled" and found["shared_secret"] == secret

        def settled(status: int, headers: Mapping[str, str]) -> bool:
            if status == 410:  # §11: 410 Gone disables the subscription
                with self.lock:
                    found = self.records.get(webhook_id)
                    if found is not None and found["shared_secret"] == secret:
                        self._set_status(found, "suspended")
                return True
            return 200 <= status < 400

        headers = {"Content-Type": "application/json", "X-Hook-Signature": signature(secret, body)}
        self.dispatcher.submit(Job(webhook_id, url, event, body, headers, settled, wanted))

    # -- rules ------------------------------------------------------------------------------------
    def _find(self, webhook_id: int) -> dict[str, Any]:
        record = self.records.get(webhook_id)
        if record is None:
            raise ClioError(404, f"Webhook {webhook_id} was not found", "RecordNotFound")
        return record

    def _set_status(self, record: dict[str, Any], status: str) -> None:
        changed = dict(record, status=status, updated_at=seed.stamp(self.clock.now()))
        changed["etag"] = seed.etag_of(changed)
        self.records[record["id"]] = changed

    @staticmethod
    def _model(raw: Any) -> str:
        """§11: the string identifier or its numeric id (`"model": 2` is activity)."""
        if isinstance(raw, str) and raw in MODELS:
            return raw
        by_id = {number: name for name, (number, _) in MODELS.items()}
        if isinstance(raw, str) and raw.isdigit():
            raw = int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool) and raw in by_id:
            return by_id[raw]
        names = ", ".join(MODELS)
        raise ClioError(422, f"data.model {str(raw)[:40]!r} is not one of {names} (or 1 to 10)", "ValidationError")

    def _url(self, raw: Any) -> str:
        """§11: https only; a backend built with `allow_insecure_webhooks=True` also takes http (a local receiver)."""
        if not isinstance(raw, str) or len(raw) > MAX_URL_CHARS:
            raise ClioError(422, f"data.url must be a URL of at most {MAX_URL_CHARS} characters", "ValidationError")
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - a port out of range raises here
        except ValueError:
            raise ClioError(422, f"data.url {raw[:80]!r} is not a URL", "ValidationError") from None
        allowed = ("https", "http") if self.allow_insecure else ("https",)
        if parts.scheme not in allowed or not parts.hostname:
            kind = "an http or https" if self.allow_insecure else "an https"
            why = "" if self.allow_insecure else " (http only on a fake built with allow_insecure_webhooks=True)"
            raise ClioError(422, f"data.url must be {kind} URL, not {raw[:80]!r}{why}", "ValidationError")
        return raw

    @staticmethod
    def _fields(raw: Any, model: str) -> fields.Wanted:
        if not isinstance(raw, str) or not raw.strip():
            raise ClioError(422, "data.fields must name the fields the webhook sends, e.g. id,etag", "ValidationError")
        if len(raw) > MAX_FIELDS_CHARS:
            raise ClioError(
                422, f"data.fields is {len(raw)} characters; at most {MAX_FIELDS_CHARS} are allowed", "ValidationError"
            )
        collection = MODELS[model][1]
        if collection is None:
            return []  # the fake keeps no such records: nothing to check the names against, nothing ever sent
        try:
            return fields.parse(raw, collection)
        except ClioError as exc:
            raise ClioError(422, f"data.{exc.message}", "ValidationError") from None

    @staticmethod
    def _events(raw: Any, model: str) -> list[str]:
        """[inferred] Without `events`, a webhook takes created, updated and deleted (what every model fires)."""
        allowed = events_of(model)
        if raw is None:
            return [e for e in GENERAL_EVENTS if e in allowed]
        if not isinstance(raw, list) or not raw or not all(isinstance(e, str) for e in raw):
            raise ClioError(422, "data.events must be a list of event names", "ValidationError")
        wrong = [e for e in raw if e not in allowed]
        if wrong:
            raise ClioError(
                422,
                f"data.events: {wrong[0][:40]!r} is not an event of {model} ({', '.join(allowed)})",
                "ValidationError",
            )
        return list(dict.fromkeys(raw))

    def _expires(self, raw: Any) -> datetime:
        try:
            moment = parse_instant(raw)
        except ValueError:
            raise ClioError(422, "data.expires_at must be an ISO 8601 timestamp", "ValidationError") from None
        now = self.clock.now()
        if moment <= now:
            raise ClioError(422, "data.expires_at must be in the future", "ValidationError")
        if moment > now + MAX_LIFETIME:
            raise ClioError(422, "data.expires_at can be at most 31 days from now", "ValidationError")
        return moment
