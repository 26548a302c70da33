"""Secrets out of what the pages show: host calls' headers and bodies pass through here first.

One data-driven list of names, matched without regard to case or separators; the value is replaced,
the key kept, so a person sees that a credential was sent without seeing it (DESIGN decision 7)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
    "pwd",
    "pass",
    "passwd",
    "passphrase",
    "privatekey",
    "bearer",
    "sessionid",
    "credentials",
    "signature",
    "sig",
)
_FOLD = re.compile(r"[^a-z0-9]")


def is_secret(name: str) -> bool:
    folded = _FOLD.sub("", name.lower())
    return folded in SECRET_NAMES or folded.endswith(("token", "secret", "password", "apikey"))


def redact(value: Any, depth: int = 0) -> Any:
    """Every shape a secret travels in: object members by name, `[name, value]` and `{name, value}` header
    pairs, query strings in URLs, and strings that hold JSON (a body sent as `JSON.stringify(...)`)."""
    if depth > MAX_DEPTH:
        return REDACTED  # deeper than anyone reads: shown as withheld, never as it is
    if isinstance(value, dict):
        named = value.get("name") if isinstance(value.get("name"), str) else None
        if named is not None and set(value) <= {"name", "value"} and is_secret(named):
            return {**value, "value": REDACTED}
        return {
            k: REDACTED if is_secret(str(k)) and v not in (None, "") else redact(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[0], str) and is_secret(value[0]) and value[1] not in (None, ""):
            return [value[0], REDACTED]
        return [redact(v, depth + 1) for v in value]
    if isinstance(value, str):
        return _redact_text(value, depth)
    return value


def _redact_text(text: str, depth: int) -> str:
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and len(stripped) <= 1_000_000:
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, (dict, list)):
            return json.dumps(redact(parsed, depth + 1), ensure_ascii=False)
    if "?" in text and "=" in text and len(text) <= 10_000:
        parts = urlsplit(text)
        if parts.query:
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            if any(is_secret(k) for k, _ in pairs):
                query = urlencode([(k, REDACTED if is_secret(k) else v) for k, v in pairs])
                return urlunsplit(parts._replace(query=query))
    return text


def display_url(url: str) -> str:
    """A URL as a page shows it: any user and password in it withheld."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{REDACTED}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
