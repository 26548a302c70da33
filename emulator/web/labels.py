"""The words a person reads for a record's field names on the pages (the demo PMS's books): the few a
rule would get wrong are in FIELD_LABELS, the rest are the camelCase name spelt out ("billingArrangements"
→ "Billing arrangements"). One place, data: a new field reads right without touching a template."""

from __future__ import annotations

import re

FIELD_LABELS = {
    "pmsReference": "PMS reference",
    "operateId": "Operate work item",
    "operateOdsId": "Operate person or organisation",
    "clientId": "Client",
    "clientName": "Client name",
    "feeEarner": "Fee earner",
    "feeEarnerName": "Fee earner name",
    "supplierId": "Supplier",
    "vatNumber": "VAT number",
    "openedAt": "Opened",
    "userName": "Operate user",
    "hourlyRate": "Hourly rate",
    "paymentTermsDays": "Payment terms (days)",
}
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")  # an ISO 8601 date and time, as the records keep them
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def field_label(name: str) -> str:
    """The label for a field name: FIELD_LABELS, else the words of its camelCase, the first capitalised."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).split()
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def is_guid(value: object) -> bool:
    """Whether a value is an id a person does not read (shown short, the whole of it on hover)."""
    return isinstance(value, str) and GUID.fullmatch(value) is not None


def is_instant(value: object) -> bool:
    """Whether a value is an ISO date and time (shown on two lines in a narrow column: date, then time)."""
    return isinstance(value, str) and INSTANT.match(value) is not None


def short_id(value: str) -> str:
    """A GUID as its first 8 and last 4 characters: random ids differ at the start, seeded ones
    (3c000000-0000-4000-8000-000000000001) at the end, so both stay told apart on one line."""
    return f"{value[:8]}…{value[-4:]}" if is_guid(value) else value
