"""What every part of the fake Clio's records shares: the API's versions and limits (reference section
numbers below), the OAuth records (`App`, `Token`), the fake's switches and the checks of a request's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ....clio.errors import ClioError

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
