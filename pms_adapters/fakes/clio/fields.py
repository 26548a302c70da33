"""Clio's `fields` parameter (reference §3.2): which fields of a record an answer holds.

`fields=id,etag,client{id,name},matter_stage`: top-level names, and for a nested resource either its
default fields (no braces) or the named ones (one level only: braces inside braces are a 400). No
`fields` gives `id` and `etag`. An unknown name is a 400. [inferred] A nested record's default fields
are `id`, `etag` and, where it has one, `name`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...clio.errors import ClioError

DEFAULT = ("id", "etag")
# What each collection's records hold, and which fields are another collection's record.
FIELDS: dict[str, tuple[str, ...]] = {
    "matters": (
        "id", "etag", "number", "display_number", "description", "status", "open_date", "pending_date",
        "close_date", "client_reference", "billable", "billing_method", "created_at", "updated_at",
        "matter_stage_updated_at", "client", "practice_area", "matter_stage", "responsible_attorney",
    ),
    "contacts": (
        "id", "etag", "name", "first_name", "last_name", "type", "is_client", "primary_email_address",
        "primary_phone_number", "phone_numbers", "email_addresses", "created_at", "updated_at",
    ),
    "users": (
        "id", "etag", "name", "first_name", "last_name", "email", "enabled", "subscription_type", "time_zone",
        "account_owner", "roles", "initials", "created_at", "updated_at", "account",
    ),
    "practice_areas": ("id", "etag", "name", "category", "code", "created_at", "updated_at"),
    "matter_stages": ("id", "etag", "practice_area_id", "name", "order", "created_at", "updated_at"),
    "activities": (
        "id", "etag", "type", "date", "quantity", "quantity_in_hours", "price", "total", "note", "billed", "on_bill",
        "non_billable", "non_billable_total", "created_at", "updated_at", "matter", "user", "bill",
    ),
    "bills": (
        "id", "etag", "number", "issued_at", "due_at", "total", "sub_total", "services_sub_total", "total_tax", "paid",
        "paid_at", "balance", "state", "type", "subject", "memo", "purchase_order", "created_at", "updated_at",
        "client", "matters",
    ),
    "billable_matters": (
        "id", "unbilled_hours", "unbilled_amount", "amount_in_trust", "display_number", "client",
    ),
    "communications": (
        "id", "etag", "subject", "body", "type", "date", "received_at", "created_at", "updated_at", "matter", "user",
        "senders", "receivers", "external_properties",
    ),
    "documents": (
        "id", "etag", "type", "name", "filename", "size", "content_type", "locked", "received_at", "created_at",
        "updated_at", "deleted_at", "parent", "matter", "creator", "external_properties", "latest_document_version",
    ),
    "webhooks": (
        "id", "etag", "url", "fields", "shared_secret", "model", "status", "events", "expires_at", "created_at",
        "updated_at", "user",
    ),
}  # fmt: skip
RELATIONS: dict[str, dict[str, str]] = {
    "matters": {
        "client": "contacts",
        "practice_area": "practice_areas",
        "matter_stage": "matter_stages",
        "responsible_attorney": "users",
    },
    "activities": {"matter": "matters", "user": "users", "bill": "bills"},
    "bills": {"client": "contacts", "matters": "matters"},  # `matters` is a list of them
    "billable_matters": {"client": "contacts"},
    "communications": {"matter": "matters", "user": "users"},
    "documents": {"matter": "matters", "creator": "users"},
    "webhooks": {"user": "users"},
}
# Sub-records (a list of them or one): braces pick their keys.
LISTS = {
    "phone_numbers",
    "email_addresses",
    "senders",
    "receivers",
    "external_properties",
    "latest_document_version",
    "parent",
    "account",  # the firm: `users/who_am_i?fields=account{name}` (the Users tag's "Firm name")
}

Wanted = list[tuple[str, list[str] | None]]


def parse(text: str | None, collection: str) -> Wanted:
    if text is None or not text.strip():
        return [(name, None) for name in DEFAULT]
    out: Wanted = []
    i, n = 0, len(text)
    while i < n:
        j = i
        while j < n and text[j] not in ",{}":
            j += 1
        name = text[i:j].strip()
        sub: list[str] | None = None
        if j < n and text[j] == "{":
            close = text.find("}", j)
            inner = text[j + 1 : close] if close != -1 else None
            if inner is None:
                raise ClioError(400, f"fields: the braces after {name!r} are not closed", "InvalidFields")
            if "{" in inner:
                raise ClioError(400, f"fields: {name}{{...}} nests more than one level", "InvalidFields")
            sub = [s.strip() for s in inner.split(",") if s.strip()]
            j = close + 1
        elif j < n and text[j] == "}":
            raise ClioError(400, f"fields: unexpected '}}' at character {j + 1}", "InvalidFields")
        _check(collection, name, sub)
        out.append((name, sub))
        while j < n and text[j] in " ,":
            j += 1
        i = j
    return out


def _check(collection: str, name: str, sub: list[str] | None) -> None:
    if name not in FIELDS[collection]:
        raise ClioError(400, f"fields: {name!r} is not a field of {collection}", "InvalidFields")
    related = RELATIONS.get(collection, {}).get(name)
    if sub is not None and related is None and name not in LISTS:
        raise ClioError(400, f"fields: {name!r} is not a nested resource; it takes no braces", "InvalidFields")
    for field in sub or ():
        if related and field not in FIELDS[related]:
            raise ClioError(400, f"fields: {field!r} is not a field of {name}", "InvalidFields")


def project(
    record: dict[str, Any], wanted: Wanted, collection: str, lookup: Callable[[str, int], dict[str, Any] | None]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, sub in wanted:
        value = record.get(name)
        related = RELATIONS.get(collection, {}).get(name)
        if related and isinstance(value, list):
            out[name] = [_nested(lookup(related, ref["id"]), sub) for ref in value]
        elif related and isinstance(value, dict):
            out[name] = _nested(lookup(related, value["id"]), sub)
        elif name in LISTS and sub is not None and isinstance(value, (list, dict)):
            items = value if isinstance(value, list) else [value]
            picked = [{k: item.get(k) for k in sub} for item in items]
            out[name] = picked if isinstance(value, list) else picked[0]
        else:
            out[name] = value
    return out


def _nested(target: dict[str, Any] | None, sub: list[str] | None) -> dict[str, Any] | None:
    if target is None:
        return None
    names = sub if sub is not None else [f for f in (*DEFAULT, "name") if f in target]
    return {field: _second_level(target.get(field)) for field in names}


def _second_level(value: Any) -> Any:
    """A second-level nested record comes back with its default fields only (§3.2)."""
    if isinstance(value, dict) and "id" in value:
        return {k: value[k] for k in DEFAULT if k in value}
    return value
