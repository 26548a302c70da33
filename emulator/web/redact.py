"""Secrets out of what the pages show: host calls' headers and bodies pass through here first.

One data-driven list of names, matched without regard to case or separators; the value is replaced,
the key kept, so a person sees that a credential was sent without seeing it (DESIGN decision 7)."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"
MAX_DEPTH = 64
# Names whose values are credentials: headers (Authorization, X-API-Key, Cookie) and body fields.
SECRET_NAMES = (
    "authorization",
    "proxyauthorization",
    "cookie",
    "setcookie",
    "apikey",
    "xapikey",
    "password",
    "secret",
    "clientsecret",
    "token",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "codeverifier",
)
_FOLD = re.compile(r"[^a-z0-9]")


def is_secret(name: str) -> bool:
    folded = _FOLD.sub("", name.lower())
    return folded in SECRET_NAMES or folded.endswith(("token", "secret", "password", "apikey"))


def redact(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {
            k: REDACTED if is_secret(str(k)) and v not in (None, "") else redact(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, depth + 1) for v in value]
    return value
