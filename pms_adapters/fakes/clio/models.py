"""The fake Clio Manage's state and rules, in memory (moto's `models.py`).

One `ClioBackend` holds a firm's records (users, practice areas and their matter stages, contacts,
matters), the OAuth side (the developer app, codes, tokens), the per-token rate limiter and the
fake's switches (5xx, latency, expiry, revocation), and its webhooks (`webhooks.py`: every record it writes goes
through `_save`, which tells them). The HTTP layer (`responses.py`) and tests in
library mode share it. Every time comes from the backend's `Clock`, so tokens expire, rate windows
roll and `updated_since` moves on virtual time.

Facts are from shared/reference/clio-manage-api.md (section numbers below); where Clio is silent,
the choice is marked [inferred].
"""

from __future__ import annotations

import copy
import mimetypes
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from emulator.kernel.clock import Clock, parse_instant

from ...clio.errors import ClioError
from . import seed
from .delivery import IDLE_WAIT, RETRY_DELAYS, Delivery, Dispatcher
from .webhooks import WebhookHub

API_VERSIONS = ("4.0.4", "4.0.5", "4.0.6", "4.0.7", "4.0.8", "4.0.9", "4.0.10", "4.0.11", "4.0.12", "4.0.13")
DEFAULT_API_VERSION = "4.0.13"  # §3.6: the 2026 document's default
TOKEN_LIFETIME = timedelta(days=30)  # §2.2: the FAQ's 30 days; a backend may be made shorter for tests
CODE_LIFETIME = timedelta(minutes=10)  # [inferred] authorization codes: short-lived, single use
RATE_LIMIT = 50  # §3.7: requests per token per 60 s window at peak
RATE_WINDOW = timedelta(seconds=60)
PUT_URL_LIFETIME = timedelta(minutes=10)  # §8.1
MAX_EXTERNAL_PROPERTIES = 5  # §7, §8.1
MAX_LIMIT = 200  # §3.3
MAX_OFFSET_RECORDS = 10_000  # §3.3: offset paging stops here (422)
BILL_STATES = ("draft", "awaiting_approval", "awaiting_payment", "paid", "void", "deleted")  # §9
ACTIVITY_TYPES = ("TimeEntry", "ExpenseEntry")  # §9 has HardCostEntry and SoftCostEntry too; the fake records these
OTHER_RATE = 150.0  # [inferred] the hourly rate of a user the seed gives no rate (the non-attorney)
# What each write keeps; another field of Clio's create or update body is refused as not emulated (`_only`).
ACTIVITY_FIELDS = ("type", "date", "quantity", "price", "note", "non_billable", "matter", "user")
COMMUNICATION_FIELDS = (
    "subject",
    "body",
    "type",
    "received_at",
    "matter",
    "senders",
    "receivers",
    "external_properties",
)
MATTER_CREATE_FIELDS = (
    "description", "client", "status", "practice_area", "matter_stage", "responsible_attorney",
    "display_number", "client_reference", "billable", "open_date", "pending_date", "close_date",
)  # fmt: skip
BILL_FIELDS = ("state", "issued_at", "due_at", "subject", "memo", "number", "purchase_order")
CONTACT_FIELDS = ("name", "type", "first_name", "last_name", "phone_numbers", "email_addresses")
# The `data` fields Clio's document lists for each record's create and update bodies (clio-cli==1.0.5's copy).
BODY_FIELDS: dict[str, frozenset[str]] = {
    "matter": frozenset((
        "billable", "client", "client_reference", "close_date", "custom_field_set_associations", "custom_field_values",
        "custom_rate", "description", "display_number", "evergreen_retainer", "group", "location", "matter_budget",
        "matter_stage", "open_date", "originating_attorney", "pending_date", "practice_area", "relationships",
        "reset_matter_number", "responsible_attorney", "split_invoice_payers", "status", "statute_of_limitations",
        "task_template_list_instances",
    )),
    "contact": frozenset((
        "addresses", "avatar", "clio_connect_email", "co_counsel_rate", "company", "custom_field_set_associations",
        "custom_field_values", "date_of_birth", "email_addresses", "first_name", "instant_messengers", "last_name",
        "ledes_client_id", "middle_name", "name", "phone_numbers", "prefix", "sales_tax_number", "title", "type",
        "web_sites",
    )),
    "activity": frozenset((
        "activity_description", "calendar_entry", "client_portal", "communication", "contact_note", "date",
        "expense_category", "matter", "matter_note", "no_charge", "non_billable", "note", "price", "quantity",
        "reference", "start_timer", "task", "tax_setting", "text_message_conversation", "type", "user",
        "utbms_expense", "vendor",
    )),
    "bill": frozenset((
        "bill_theme", "currency_id", "discount", "due_at", "interest", "issued_at", "memo", "number",
        "purchase_order", "secondary_tax_rate", "state", "subject", "tax_rate", "use_grace_period",
    )),
    "communication": frozenset((
        "body", "date", "external_properties", "matter", "notification_event_subscribers", "received_at",
        "receivers", "senders", "subject", "type",
    )),
    "document": frozenset((
        "communication_id", "content_type", "copy_version", "document_category", "external_properties", "filename",
        "fully_uploaded", "multiparts", "name", "parent", "received_at", "restore", "uuid",
    )),
}  # fmt: skip
INVALID_TOKEN = {
    "error": "invalid_token",
    "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons.",
}  # §2.5, verbatim


class OAuthError(Exception):
    """RFC 6749 token-endpoint errors: `{"error": "invalid_grant", ...}` (§2.5 [inferred] shape)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass
class App:
    """The developer application (§2.6): key and secret are the client id and secret."""

    client_id: str = "fake-clio-app"
    client_secret: str = "fake-clio-secret"
    redirect_uris: list[str] = field(default_factory=list)  # empty: any loopback URI (a local fake)


@dataclass
class Token:
    access_token: str
    refresh_token: str
    user_id: int
    expires_at: datetime
    revoked: bool = False


@dataclass
class Switches:
    """What a test or a person turns on to see the adapter cope (§14 "test toggles")."""

    fail_next: int = 0  # the next N API calls answer 503
    fail_status: int = 503
    latency_seconds: float = 0.0


class ClioBackend:
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
        dispatcher = Dispatcher(self.clock, allow_remote=allow_remote_webhooks, retry_delays=webhook_retry_delays)
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

    # -- OAuth (§2) ------------------------------------------------------------------------------
    def check_client(self, client_id: str | None, redirect_uri: str | None) -> None:
        if client_id != self.app.client_id:
            raise OAuthError(400, "invalid_client", "unknown client_id")
        if not redirect_uri:
            raise OAuthError(400, "invalid_request", "redirect_uri is required")
        if self.app.redirect_uris and redirect_uri not in self.app.redirect_uris:
            raise OAuthError(400, "invalid_request", "redirect_uri is not one of the app's registered Redirect URIs")

    def issue_code(self, client_id: str, redirect_uri: str, user_id: int) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "user_id": user_id,
                "expires_at": self.clock.now() + CODE_LIFETIME,
            }
        return code

    def exchange(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("client_id") != self.app.client_id or not secrets.compare_digest(
            (form.get("client_secret") or "").encode(), self.app.client_secret.encode()
        ):
            raise OAuthError(401, "invalid_client", "client_id or client_secret is wrong")
        grant = form.get("grant_type")
        with self.lock:
            if grant == "authorization_code":
                issued = self.codes.pop(form.get("code") or "", None)
                if issued is None or issued["expires_at"] <= self.clock.now():
                    raise OAuthError(400, "invalid_grant", "the code is unknown, used or expired")
                if issued["redirect_uri"] != form.get("redirect_uri"):
                    raise OAuthError(400, "invalid_grant", "redirect_uri does not match the one the code was issued to")
                token = self._new_token(issued["user_id"], refresh=secrets.token_urlsafe(32))
            elif grant == "refresh_token":
                # §2.3: Manage refresh tokens do not expire and are reused; the answer carries it again.
                old = next((t for t in self.tokens.values() if t.refresh_token == form.get("refresh_token")), None)
                if old is None or old.revoked:
                    raise OAuthError(400, "invalid_grant", "the refresh token is unknown or revoked")
                token = self._new_token(old.user_id, refresh=old.refresh_token)
            else:
                raise OAuthError(
                    400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
                )
        return {
            "token_type": "bearer",
            "access_token": token.access_token,
            "expires_in": int((token.expires_at - self.clock.now()).total_seconds()),
            "refresh_token": token.refresh_token,
        }

    def issue_token(self, user_id: int) -> dict[str, Any]:
        """Library mode: the tokens a completed connect would give `user_id` (tests skip the browser)."""
        with self.lock:
            token = self._new_token(user_id, refresh=secrets.token_urlsafe(32))
        return {"access_token": token.access_token, "refresh_token": token.refresh_token}

    def _new_token(self, user_id: int, refresh: str) -> Token:
        token = Token(secrets.token_urlsafe(32), refresh, user_id, self.clock.now() + self.token_lifetime)
        self.tokens[token.access_token] = token
        return token

    def deauthorize(self, access_token: str) -> None:
        """§2.4: the grant is gone: the access token and every token sharing its refresh token."""
        with self.lock:
            token = self.tokens.get(access_token)
            if token is None or token.revoked:
                raise ClioError(401, INVALID_TOKEN["error_description"], "invalid_token")
            for other in self.tokens.values():
                if other.refresh_token == token.refresh_token:
                    other.revoked = True

    def authenticate(self, access_token: str | None) -> Token | None:
        token = self.tokens.get(access_token or "")
        if token is None or token.revoked or token.expires_at <= self.clock.now():
            return None
        return token

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = min(token.expires_at, self.clock.now())

    def revoke_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.revoked = True

    # -- rate limiting (§3.7) --------------------------------------------------------------------
    def charge(self, access_token: str) -> dict[str, str]:
        """Count one call against the token's window; the `X-RateLimit-*` headers, or 429."""
        now = self.clock.now()
        with self.lock:
            start, calls = self.windows.get(access_token, (now, 0))
            if now >= start + RATE_WINDOW:
                start, calls = now, 0
            reset = start + RATE_WINDOW
            headers = {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Reset": str(int(reset.timestamp()))}
            if calls >= self.rate_limit:
                wait = max(int((reset - now).total_seconds() + 0.999), 1)
                headers |= {"X-RateLimit-Remaining": "0", "Retry-After": str(wait)}
                raise ClioError(429, f"Rate limit of {self.rate_limit} exceeded", "RateLimited", headers)
            self.windows[access_token] = (start, calls + 1)
            headers["X-RateLimit-Remaining"] = str(self.rate_limit - calls - 1)
            return headers

    # -- records ---------------------------------------------------------------------------------
    def who_am_i(self, token: Token) -> dict[str, Any]:
        return self.users[token.user_id]

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

    def find(self, name: str, record_id: int) -> dict[str, Any]:
        record = self.collection(name).get(record_id)
        if record is None:
            raise ClioError(
                404, f"{name[:-1].replace('_', ' ').capitalize()} {record_id} was not found", "RecordNotFound"
            )
        return record

    def update_matter(self, matter_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        """§4.5: status in lowercase, stage of the matter's practice area [inferred: 422 otherwise],
        description; `If-Match` guards it (412). etag and updated_at move on every change."""
        _only(data, ("status", "matter_stage", "description"), "matter", "a matter's update")
        with self.lock:
            matter = self.find("matters", matter_id)
            if if_match is not None and if_match != matter["etag"]:
                raise ClioError(412, "the matter has changed since that ETag", "PreconditionFailed")
            now = self.clock.now()
            changed = dict(matter)
            if "status" in data:
                status = data["status"]
                if status not in ("open", "pending", "closed"):
                    raise ClioError(422, "status must be one of open, pending, closed", "ValidationError")
                changed["status"] = status.capitalize()
                date_field = {"open": "open_date", "pending": "pending_date", "closed": "close_date"}[status]
                changed[date_field] = changed.get(date_field) or now.date().isoformat()  # [inferred]
            if "matter_stage" in data:
                stage = data["matter_stage"]
                if stage is None:
                    changed["matter_stage"] = None
                else:
                    stage_id = stage.get("id") if isinstance(stage, dict) else None
                    found = self.matter_stages.get(stage_id) if isinstance(stage_id, int) else None
                    area = (matter.get("practice_area") or {}).get("id")
                    if found is None:
                        raise ClioError(422, f"matter_stage {stage_id!r} does not exist", "ValidationError")
                    if str(area) != str(found["practice_area_id"]):
                        raise ClioError(422, "matter_stage belongs to another practice area", "ValidationError")
                    changed["matter_stage"] = {"id": found["id"]}
                changed["matter_stage_updated_at"] = seed.stamp(now)
            if "description" in data:
                if not isinstance(data["description"], str) or not data["description"].strip():
                    raise ClioError(422, "description can't be blank", "ValidationError")
                changed["description"] = data["description"]
            changed["updated_at"] = seed.stamp(now)
            self._save("matters", changed, matter)
            return changed

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

    def create_activity(self, data: dict[str, Any], user_id: int) -> dict[str, Any]:
        """§9: a TimeEntry (`quantity` in seconds, `price` the hourly rate, by default the user's) or an
        ExpenseEntry (`price` the amount, `quantity` 1 unless given); `type` and `date` are required."""
        with self.lock:
            record = self._activity(data, user_id)
            self._save("activities", record, None)
            return record

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

    def create_communication(self, data: dict[str, Any], user_id: int) -> dict[str, Any]:
        """§7: subject, body, type and received_at are required; senders and receivers are `{id, type}`."""
        with self.lock:
            record = self._communication(data, user_id)
            self._save("communications", record, None)
            return record

    def _communication(self, data: dict[str, Any], user_id: int, record_id: int | None = None) -> dict[str, Any]:
        """A communication as `data` describes it, checked (a create, or an update's merged fields)."""
        _only(data, COMMUNICATION_FIELDS, "communication", "a communication")
        for name in ("subject", "body", "type", "received_at"):
            if not isinstance(data.get(name), str) or not data[name].strip():
                raise ClioError(422, f"data.{name} is required", "ValidationError")
        if data["type"] not in ("EmailCommunication", "PhoneCommunication"):
            raise ClioError(422, "data.type must be EmailCommunication or PhoneCommunication", "ValidationError")
        try:
            received = parse_instant(data["received_at"])
        except ValueError:
            raise ClioError(422, "data.received_at must be an ISO 8601 timestamp", "ValidationError") from None
        with self.lock:
            participants = {
                side: self._participants(data.get(side), f"data.{side}") for side in ("senders", "receivers")
            }
            now = self.clock.now()
            record = {
                "id": record_id or self._new_id("communications"),
                "subject": data["subject"],
                "body": data["body"],
                "type": data["type"],
                "date": received.date().isoformat(),
                "received_at": seed.stamp(received),
                "matter": self._matter_ref(data.get("matter"), "data"),
                "user": {"id": user_id},
                **participants,
                "external_properties": self._external_properties(data.get("external_properties"), "data"),
                "created_at": seed.stamp(now),
                "updated_at": seed.stamp(now),
            }
            return record

    def _participants(self, raw: Any, where: str) -> list[dict[str, Any]]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise ClioError(422, f"{where} must be a list of {{id, type}}", "ValidationError")
        out = []
        for item in raw:
            kind = item.get("type") if isinstance(item, dict) else None
            ident = item.get("id") if isinstance(item, dict) else None
            found = (self.users if kind == "User" else self.contacts if kind == "Contact" else {}).get(ident)
            if found is None:
                raise ClioError(422, f"{where}: {item!r} is not a User or Contact of this firm", "ValidationError")
            out.append(
                {
                    "id": found["id"],
                    "etag": found["etag"],
                    "type": "User" if kind == "User" else found["type"],
                    "name": found["name"],
                    "identifier": found.get("email") or found.get("primary_email_address"),
                }
            )
        return out

    def create_document(self, data: dict[str, Any], user_id: int, base_url: str) -> dict[str, Any]:
        """§8.1 step 1: the document and its first version, with a pre-signed `put_url` valid 10 minutes."""
        _only(data, ("name", "parent", "content_type", "external_properties"), "document", "a document")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ClioError(422, "data.name is required", "ValidationError")
        parent = data.get("parent")
        if not isinstance(parent, dict) or parent.get("type") != "Matter":
            raise ClioError(
                422, 'data.parent must be {"id": <matter id>, "type": "Matter"} on this fake', "ValidationError"
            )
        with self.lock:
            matter = self._matter_ref(parent, "data.parent")
            now = self.clock.now()
            content_type = data.get("content_type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
            version_uuid = str(uuid.uuid4())
            document_id = self._new_id("documents")
            version = {
                "id": self._new_id("versions"),
                "document_id": document_id,
                "uuid": version_uuid,
                "filename": name,
                "size": 0,
                "version_number": 1,
                "content_type": content_type,
                "fully_uploaded": False,
                "put_url": f"{base_url}/_fake/s3/{version_uuid}",
                "put_headers": [
                    {"name": "Content-Type", "value": content_type},
                    {"name": "x-amz-server-side-encryption", "value": "AES256"},
                ],
                "received_at": seed.stamp(now),
                "created_at": seed.stamp(now),
                "updated_at": seed.stamp(now),
            }
            record = {
                "id": document_id,
                "type": "Document",
                "name": name,
                "filename": name,
                "size": 0,
                "content_type": content_type,
                "locked": False,
                "parent": {"id": matter["id"], "type": "Matter"},
                "matter": matter,
                "creator": {"id": user_id},
                "external_properties": self._external_properties(data.get("external_properties"), "data"),
                "latest_document_version": version,
                "received_at": seed.stamp(now),
                "created_at": seed.stamp(now),
                "updated_at": seed.stamp(now),
                "deleted_at": None,
            }
            self.uploads[version_uuid] = {
                "document_id": document_id,
                "bytes": None,
                "expires_at": now + PUT_URL_LIFETIME,
            }
            self._save("documents", record, None)
            return record

    def put_upload(self, version_uuid: str, body: bytes, headers: dict[str, str]) -> None:
        """§8.1 step 2: the bytes, with every header the version's `put_headers` listed."""
        with self.lock:
            upload = self.uploads.get(version_uuid)
            if upload is None:
                raise ClioError(404, "no upload at this URL", "NoSuchUpload")
            if self.clock.now() >= upload["expires_at"]:
                raise ClioError(403, "the put_url has expired (it is valid for 10 minutes)", "RequestExpired")
            version = self.documents[upload["document_id"]]["latest_document_version"]
            for header in version["put_headers"]:
                if headers.get(header["name"].lower()) != header["value"]:
                    raise ClioError(
                        403, f"the PUT must send {header['name']}: {header['value']}", "SignatureDoesNotMatch"
                    )
            upload["bytes"] = bytes(body)

    def complete_upload(self, document_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """§8.1 step 3: `{uuid, fully_uploaded: true}`; the bytes must be there."""
        _only(data, ("uuid", "fully_uploaded"), "document", "a document's update")
        with self.lock:
            document = self.find("documents", document_id)
            version = document["latest_document_version"]
            if data.get("uuid") != version["uuid"] or data.get("fully_uploaded") is not True:
                raise ClioError(422, "send the version's uuid with fully_uploaded: true", "ValidationError")
            if version["fully_uploaded"]:
                raise ClioError(422, "this version is already marked fully uploaded", "ValidationError")
            upload = self.uploads[version["uuid"]]
            if upload["bytes"] is None:
                raise ClioError(422, "the file was not found at the put_url: PUT it first", "UploadNotFoundError")
            now = seed.stamp(self.clock.now())
            size = len(upload["bytes"])
            before = copy.deepcopy(document)
            version.update(fully_uploaded=True, size=size, updated_at=now)
            document.update(size=size, updated_at=now)
            self._save("documents", document, before)
            return document

    def trash_document(self, document_id: int) -> None:
        """DELETE moves a document to the trash (`deleted_at` set; lists hide it unless `include_deleted`)."""
        with self.lock:
            document = self.find("documents", document_id)
            if document["deleted_at"] is None:
                now = seed.stamp(self.clock.now())
                before = copy.deepcopy(document)
                document.update(deleted_at=now, updated_at=now)
                self._save("documents", document, before, "deleted")

    def download(self, document_id: int) -> tuple[bytes, str, str]:
        document = self.find("documents", document_id)
        version = document["latest_document_version"]
        upload = self.uploads.get(version["uuid"]) or {}
        if not version["fully_uploaded"] or upload.get("bytes") is None:
            raise ClioError(404, f"Document {document_id} has no uploaded version", "RecordNotFound")
        return upload["bytes"], version["content_type"], version["filename"]

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

    def create_matter(self, data: dict[str, Any], user_id: int) -> dict[str, Any]:
        """POST /matters: `client{id}` and `description` are required (the document's create body); `status`
        lowercase (default open) fills its date; practice area, stage (of that area), responsible attorney."""
        _only(data, MATTER_CREATE_FIELDS, "matter", "a matter")
        description = _text(data, "description", required=True)
        status = data.get("status") or "open"
        if status not in ("open", "pending", "closed"):
            raise ClioError(422, "data.status must be one of open, pending, closed", "ValidationError")
        with self.lock:
            if data.get("client") is None:
                raise ClioError(422, "data.client is required", "ValidationError")
            client = self._ref(data.get("client"), "contacts", "data.client")
            area = self._ref(data.get("practice_area"), "practice_areas", "data.practice_area")
            stage = self._ref(data.get("matter_stage"), "matter_stages", "data.matter_stage")
            if stage is not None and (
                area is None or self.matter_stages[stage["id"]]["practice_area_id"] != str(area["id"])
            ):
                raise ClioError(422, "data.matter_stage must be a stage of data.practice_area", "ValidationError")
            attorney = self._ref(data.get("responsible_attorney"), "users", "data.responsible_attorney")
            now = self.clock.now()
            number = max((m["number"] for m in self.matters.values()), default=0) + 1
            contact = self.contacts[client["id"]]
            display = _text(data, "display_number") or f"{number:05d}-{contact.get('last_name') or contact['name']}"
            record = {
                "id": max(self.matters, default=seed.FIRST_ID["matters"] - 1) + 1,
                "number": number,
                "display_number": display,
                "description": description,
                "status": status.capitalize(),
                "open_date": None,
                "pending_date": None,
                "close_date": None,
                "client_reference": _text(data, "client_reference"),
                "billable": _flag(data, "billable", default=True),
                "billing_method": "hourly",
                "client": client,
                "practice_area": area,
                "matter_stage": stage,
                "responsible_attorney": attorney,
                "matter_stage_updated_at": seed.stamp(now) if stage else None,
                "created_at": seed.stamp(now),
                "updated_at": seed.stamp(now),
            }
            date_field = {"open": "open_date", "pending": "pending_date", "closed": "close_date"}[status]
            record[date_field] = _day(data, date_field) or now.date().isoformat()
            self._save("matters", record, None)
            return record

    def delete_matter(self, matter_id: int) -> None:
        """DELETE /matters/{id}: [inferred] a matter on a bill cannot be deleted (403, the one refusal the document
        lists); otherwise its activities, communications and documents go with it."""
        with self.lock:
            matter = self.find("matters", matter_id)
            if any(any(m["id"] == matter_id for m in b["matters"]) for b in self.bills.values()):
                raise ClioError(403, f"Matter {matter_id} has bills and cannot be deleted", "Forbidden")
            for name in ("activities", "communications", "documents"):
                for record in [r for r in self.collection(name).values() if (r["matter"] or {}).get("id") == matter_id]:
                    self._remove(name, record)
            self._remove("matters", matter)

    def create_contact(self, data: dict[str, Any]) -> dict[str, Any]:
        """POST /contacts: `name` and `type` (Person or Company) are required (the document's create body)."""
        _only(data, CONTACT_FIELDS, "contact", "a contact")
        kind = data.get("type")
        if kind not in ("Person", "Company"):
            raise ClioError(422, "data.type must be Person or Company", "ValidationError")
        name = _text(data, "name", required=True)
        with self.lock:
            now = seed.stamp(self.clock.now())
            record: dict[str, Any] = {
                "id": max(self.contacts, default=seed.FIRST_ID["contacts"] - 1) + 1,
                "name": name,
                "first_name": None,
                "last_name": None,
                "type": kind,
                "is_client": False,
                "primary_email_address": None,
                "primary_phone_number": None,
                "phone_numbers": [],
                "email_addresses": [],
                "created_at": now,
                "updated_at": now,
            }
            self._contact_fields(record, data, now)
            self._save("contacts", record, None)
            return record

    def update_contact(self, contact_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        _only(data, CONTACT_FIELDS, "contact", "a contact")
        with self.lock:
            contact = self.find("contacts", contact_id)
            self._if_match(contact, if_match, "contact")
            changed = copy.deepcopy(contact)
            now = seed.stamp(self.clock.now())
            if data.get("type") is not None:
                if data["type"] not in ("Person", "Company"):
                    raise ClioError(422, "data.type must be Person or Company", "ValidationError")
                changed["type"] = data["type"]
            if data.get("name") is not None:
                changed["name"] = _text(data, "name", required=True)
            self._contact_fields(changed, data, now)
            changed["updated_at"] = now
            self._save("contacts", changed, contact)
            return changed

    def _contact_fields(self, record: dict[str, Any], data: dict[str, Any], now: str) -> None:
        """A person's names, and the phone numbers and e-mail addresses a create or update sends (others the
        document lists are taken and not kept)."""
        for name in ("first_name", "last_name"):
            if name in data:
                record[name] = _text(data, name)
        for key, value_key, names in (
            ("phone_numbers", "number", ("Work", "Home", "Mobile", "Fax", "Pager", "Skype", "Other")),
            ("email_addresses", "address", ("Work", "Home", "Other")),
        ):
            raw = data.get(key)
            if raw is None:
                continue
            if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
                raise ClioError(422, f"data.{key} must be a list of objects", "ValidationError")
            items = []
            for item in raw:
                value = item.get(value_key)
                if not isinstance(value, str) or not value.strip():
                    raise ClioError(422, f"data.{key}: each needs a {value_key}", "ValidationError")
                if item.get("name") is not None and item.get("name") not in names:
                    raise ClioError(422, f"data.{key}: name must be one of {', '.join(names)}", "ValidationError")
                label = item.get("name") or names[-1]
                kept = "Personal" if label in ("Home", "Mobile") and key == "phone_numbers" else label
                items.append({"id": self._new_id("external_properties"), "etag": '"x"', value_key: value,
                              "name": kept if key == "phone_numbers" and kept in ("Work", "Personal") else
                              ("Other" if key == "phone_numbers" else label),
                              "primary": item.get("default_number", item.get("default_email")) is True,
                              "created_at": now, "updated_at": now})  # fmt: skip
            if items and not any(i["primary"] for i in items):
                items[0]["primary"] = True
            record[key] = items
            primary = next((i[value_key] for i in items if i["primary"]), None)
            record["primary_phone_number" if key == "phone_numbers" else "primary_email_address"] = primary

    def delete_contact(self, contact_id: int) -> None:
        """DELETE /contacts/{id}: [inferred] the client of a matter or a bill cannot be deleted (403)."""
        with self.lock:
            contact = self.find("contacts", contact_id)
            if any(m["client"]["id"] == contact_id for m in self.matters.values()) or any(
                b["client"]["id"] == contact_id for b in self.bills.values()
            ):
                raise ClioError(
                    403, f"Contact {contact_id} is the client of a matter and cannot be deleted", "Forbidden"
                )
            self._remove("contacts", contact)

    def update_activity(self, activity_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        """PATCH /activities/{id}: the fields a create takes; a billed activity cannot change [inferred: 422]."""
        _only(data, ACTIVITY_FIELDS, "activity", "an activity")
        with self.lock:
            activity = self.find("activities", activity_id)
            self._if_match(activity, if_match, "activity")
            if activity["billed"]:
                raise ClioError(422, f"Activity {activity_id} is on a bill and cannot be changed", "ValidationError")
            merged = {
                "type": activity["type"], "date": activity["date"], "note": activity["note"],
                "non_billable": activity["non_billable"], "matter": activity["matter"], "user": activity["user"],
                "quantity": activity["quantity"], "price": activity["price"],
            }  # fmt: skip
            merged.update({k: v for k, v in data.items() if k in merged and v is not None})
            made = self._activity(merged, activity["user"]["id"], activity["id"])
            changed = dict(activity, **{k: v for k, v in made.items() if k not in ("id", "created_at")})
            self._save("activities", changed, activity)
            return changed

    def delete_activity(self, activity_id: int) -> None:
        """DELETE /activities/{id}: [inferred] one on a bill cannot be deleted (403)."""
        with self.lock:
            activity = self.find("activities", activity_id)
            if activity["billed"]:
                raise ClioError(403, f"Activity {activity_id} is on a bill and cannot be deleted", "Forbidden")
            self._remove("activities", activity)

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

    def update_communication(self, communication_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        """PATCH /communications/{id}: what a create takes, each optional."""
        _only(data, COMMUNICATION_FIELDS, "communication", "a communication")
        with self.lock:
            communication = self.find("communications", communication_id)
            self._if_match(communication, if_match, "communication")
            merged = {k: communication[k] for k in ("subject", "body", "type", "received_at", "matter")}
            merged.update({k: v for k, v in data.items() if k in merged and v is not None})
            for side in ("senders", "receivers", "external_properties"):
                if data.get(side) is not None:
                    merged[side] = data[side]
            made = self._communication(merged, communication["user"]["id"], communication_id)
            changed = dict(communication)
            changed.update({k: v for k, v in made.items() if k in merged or k == "date"})
            changed["updated_at"] = seed.stamp(self.clock.now())
            self._save("communications", changed, communication)
            return changed

    def delete_communication(self, communication_id: int) -> None:
        with self.lock:
            self._remove("communications", self.find("communications", communication_id))

    # -- webhooks (§11; the rules and deliveries are in webhooks.py and delivery.py) ---------------------------
    def create_webhook(self, data: dict[str, Any], user_id: int) -> dict[str, Any]:
        return self.webhooks.create(data, user_id)

    def update_webhook(self, webhook_id: int, data: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        return self.webhooks.update(webhook_id, data, if_match)

    def delete_webhook(self, webhook_id: int) -> None:
        self.webhooks.delete(webhook_id)

    def activate_webhook(self, webhook_id: int, secret: str | None) -> dict[str, Any]:
        return self.webhooks.activate(webhook_id, secret)

    def set_stage(self, matter_id: int, stage_name: str) -> dict[str, Any]:
        """Library mode: move a matter to its practice area's stage called `stage_name` (as a firm would in Clio)."""
        matter = self.find("matters", matter_id)
        area = (matter.get("practice_area") or {}).get("id")
        stage = next(
            (
                s
                for s in self.matter_stages.values()
                if s["name"] == stage_name and str(s["practice_area_id"]) == str(area)
            ),
            None,
        )
        if stage is None:
            raise KeyError(f"practice area {area} has no stage {stage_name!r}")
        return self.update_matter(matter_id, {"matter_stage": {"id": stage["id"]}}, None)


def _amount(raw: Any, where: str, *, default: float | None = None, positive: bool = False) -> float:
    """A number in a request body: required unless it has a default; never negative (zero only if allowed)."""
    if raw is None and default is not None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != raw or raw in (float("inf"), float("-inf")):
        raise ClioError(422, f"{where} is required, as a number", "ValidationError")
    if raw < 0 or (positive and raw == 0):
        raise ClioError(422, f"{where} must be {'more than' if positive else 'at least'} 0", "ValidationError")
    if raw > 1e9:
        raise ClioError(422, f"{where} must be at most 1000000000", "ValidationError")
    return float(raw)


def _only(data: dict[str, Any], kept: tuple[str, ...], record: str, what: str) -> None:
    """A field of Clio's body for this record that the fake does not keep is refused (422), not dropped unseen;
    a name Clio's document does not list is ignored, as Clio ignores one."""
    documented = BODY_FIELDS[record]
    extra = sorted(k for k, v in data.items() if k in documented and k not in kept and v is not None)
    if extra:
        raise ClioError(
            422, f"not emulated: data.{extra[0][:40]} of {what} (the fake keeps {', '.join(kept)})", "ValidationError"
        )


def _text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    """A text field of a request body: absent or null is None, unless it is required (then blank is refused too)."""
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ClioError(422, f"data.{name} {'is required, as text' if required else 'must be text'}", "ValidationError")
    return value


def _flag(data: dict[str, Any], name: str, *, default: bool) -> bool:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ClioError(422, f"data.{name} must be true or false", "ValidationError")
    return value


def _day(data: dict[str, Any], name: str) -> str | None:
    """An ISO 8601 date (YYYY-MM-DD) of a request body, or None when absent."""
    value = data.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat() if isinstance(value, str) and len(value) == 10 else _bad_day(name)
    except ValueError:
        return _bad_day(name)


def _bad_day(name: str) -> str:
    raise ClioError(422, f"data.{name} must be an ISO 8601 date (YYYY-MM-DD)", "ValidationError")
