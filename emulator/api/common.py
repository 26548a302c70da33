"""What every blueprint needs: the caller, the body, paging, and the route table most of an area's routes fit.

Blueprints are built with the parts they serve (`blueprint(finance)`, ...): nothing here looks the emulator up."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, send_file

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


# The permissions most routes ask for (emulator/catalogue/security.json): reading and changing work items.
READ_WORK = "core.sharedo.read"
UPDATE_WORK = "core.sharedo.update"
# send_file's options for a file sent whole: no Range or conditional request, no ETag or Last-Modified.
WHOLE_FILE = {"conditional": False, "etag": False, "last_modified": None}

View = Callable[..., Any]
Route = tuple[str | tuple[str, ...], str, View]  # ("GET /api/...", endpoint, view): a row of a route table


def answers(permission: str, answer: Callable[..., Any]) -> View:
    """A view that checks the caller holds `permission`, then answers `answer(*path values)` as JSON.

    Most reads of an area are exactly that (and the actions whose only input is the path: retry, cancel); one
    helper keeps the check before the call on every one of them. The path values are passed in the order the
    rule names them."""

    def view(**values: str) -> Response:
        caller(permission)
        return jsonify(answer(*values.values()))

    return view


def changes(answer: Callable[..., Any], status: int = 200) -> View:
    """A view that answers `answer(*path values, body, caller)` as JSON with `status`: a change the area
    checks itself (its own permission and the body's fields), handed the parsed body and who sends it."""

    def view(**values: str) -> tuple[Response, int]:
        return jsonify(answer(*values.values(), body(), caller())), status

    return view


def add_routes(bp: Blueprint, table: Iterable[Route]) -> None:
    """Register a route table: each row `("METHOD rule", endpoint, view)`, or several `"METHOD rule"` in a tuple
    where the API answers one route at several paths; `"POST|PUT rule"` for one view of several methods."""
    for method_rules, endpoint, view in table:
        for method_rule in (method_rules,) if isinstance(method_rules, str) else method_rules:
            method, rule = method_rule.split(" ", 1)
            bp.add_url_rule(rule, endpoint, view, methods=method.split("|"))


def table_blueprint(name: str, import_name: str, table: Iterable[Route]) -> Blueprint:
    """A blueprint that starts with the route table `table` (see add_routes): most areas' blueprints begin so,
    and add the routes that do more than one call by decorator after it."""
    bp = Blueprint(name, import_name)
    add_routes(bp, table)
    return bp


def private_file(content: Path | BytesIO, content_type: str, file_name: str, *, attachment: bool) -> Response:
    """A file for its reader only, never kept in a shared cache, sent whole (no Range, no validators): the
    documents a work item holds and the outbox's attachments are both served so."""
    response: Response = send_file(
        content, mimetype=content_type, as_attachment=attachment, download_name=file_name, **WHOLE_FILE
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
