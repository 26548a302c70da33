"""What every blueprint needs: the emulator for this app, the caller, the body, paging."""

from __future__ import annotations

from typing import Any

from flask import g, request

from ..context import current_emulator as emulator  # noqa: F401  (the one accessor; blueprints import it from here)
from ..identity import Principal, require
from ..kernel.binding import MAX_BODY_BYTES, parse_json_body
from ..kernel.errors import ApiError, invalid


def caller(permission: str | None = None) -> Principal:
    """The authenticated principal; 403 when it lacks `permission`."""
    principal: Principal = g.principal
    if permission:
        require(principal, permission)
    return principal


def body(required: bool = True) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, f"request body is {request.content_length} bytes; the limit is {MAX_BODY_BYTES} (5 MB)")
    return parse_json_body(request.get_data(cache=True), required=required)


def int_arg(name: str, default: int, minimum: int = 1, maximum: int = 1_000_000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"expected a whole number, got {raw[:40]!r}") from None
    if not minimum <= value <= maximum:
        raise invalid(name, f"must be between {minimum} and {maximum}")
    return value


def bool_arg(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise invalid(name, f"expected true or false, got {raw[:40]!r}")
