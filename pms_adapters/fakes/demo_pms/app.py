"""`create_app()`: the demo PMS as a Flask WSGI app (in process through httpx.WSGITransport, or served).

Around every route: the request is recorded, `/api/` routes check the `X-API-Key` header, and any
injected fault for the route is applied (slow, 5xx, malformed JSON).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from emulator.kernel.clock import Clock
from emulator.kernel.scenario_keys import SCENARIO_HEADER

from .models import MAX_FAULT_DELAY, DemoPmsBackend, DemoPmsError
from .responses import DemoPmsResponses, answer, error_response
from .urls import URL_RULES

# Werkzeug's server drops request headers with underscores, so not the original demo's `API_KEY`.
API_KEY_HEADER = "X-API-Key"
OFFICIAL_KEY_HEADER = "API_KEY"  # what the vendor's sample PMS clients send (it needs a server that keeps `_`)
DEFAULT_API_KEY = "demo-pms-key"
DEFAULT_PORT = 8766  # where `operate pms demo` listens, and the demo solution's linked service points
REDACTED = "<redacted>"
SECRET_HEADERS = {API_KEY_HEADER.lower(), "authorization", "cookie", "api_key", "api-key"}
MAX_BODY_BYTES = 1024 * 1024
MAX_RECORDED_BODY = 64 * 1024

log = logging.getLogger("pms_adapters.fakes.demo_pms")


def create_app(
    backend: DemoPmsBackend | None = None, *, api_key: str = DEFAULT_API_KEY, clock: Clock | None = None
) -> Flask:
    """The demo PMS. Share `clock` with the emulator so invoice ageing follows virtual time.

    `app.extensions["demo_pms"]` (also `app.backend`) is the backend, for library-mode control.
    """
    if not isinstance(api_key, str) or not api_key:
        raise ValueError("api_key must be a non-empty string: the demo PMS always checks X-API-Key")
    if backend is None:
        backend = DemoPmsBackend(clock=clock)
    elif clock is not None and clock is not backend.clock:
        raise ValueError("pass the clock to DemoPmsBackend(clock=...) or to create_app, not two different clocks")

    app = Flask("pms_adapters.fakes.demo_pms")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["demo_pms"] = backend
    app.backend = backend  # type: ignore[attr-defined]
    responses = DemoPmsResponses(backend)
    for rule, methods, name in URL_RULES:
        app.add_url_rule(rule, endpoint=name, view_func=getattr(responses, name), methods=list(methods))
    app.add_url_rule("/", endpoint="index", view_func=_index, methods=["GET"])
    expected = api_key.encode()

    @app.before_request
    def _guard() -> Response | None:
        path = request.path
        if path.startswith("/_fake/") or path == "/":
            return None
        g.record = backend.record_request(_describe_request())
        if not (path == "/api" or path.startswith("/api/")):
            return None
        # `API_KEY` as the official demo's clients send it, or `X-API-Key`
        supplied = request.headers.get(API_KEY_HEADER) or request.headers.get(OFFICIAL_KEY_HEADER)
        if not supplied:
            return error_response(
                401, f"missing the {API_KEY_HEADER} (or {OFFICIAL_KEY_HEADER}) header", API_KEY_HEADER
            )
        if not hmac.compare_digest(supplied.encode(), expected):
            return error_response(401, f"{API_KEY_HEADER} is not the key this PMS was started with", API_KEY_HEADER)
        # A widget page's own scenario (its key, sent by the page through the proxy), else the shared faults.
        fault = backend.take_fault(request.method, path, request.headers.get(SCENARIO_HEADER))
        if fault is None:
            return None
        g.fault = fault
        g.record["fault"] = fault.fault_id
        if fault.delay:
            time.sleep(min(fault.delay, MAX_FAULT_DELAY))
        if fault.status:
            return error_response(
                fault.status,
                f"injected fault {fault.fault_id}: the demo PMS is failing on purpose",
                fault=fault.fault_id,
            )
        return None

    @app.before_request
    def _replay() -> Response | None:
        """A write sent again with the same Idempotency-Key gets the first answer and changes nothing."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if not key or request.method in ("GET", "HEAD", "OPTIONS") or not request.path.startswith("/api/"):
            return None
        g.idempotency = (request.method, request.path, key)
        found = backend.idempotent_answer(g.idempotency)
        if found is None:
            return None
        g.idempotency = None
        status, body, content_type = found
        return Response(body, status=status, content_type=content_type, headers={"Idempotent-Replayed": "true"})

    @app.after_request
    def _finish(response: Response) -> Response:
        record = g.get("record")
        if record is not None:
            record["status"] = response.status_code
        key = g.get("idempotency")  # the answer the PMS gave, kept before a fault garbles it on the way out
        if key is not None and 200 <= response.status_code < 300:
            backend.remember_answer(key, (response.status_code, response.get_data(), response.content_type or ""))
        fault = g.get("fault")
        if fault is not None and fault.malformed and not fault.status:
            data = response.get_data()
            response.set_data(data[: max(1, len(data) // 2)])  # a strict prefix of an object or array: not JSON
        return response

    @app.errorhandler(DemoPmsError)
    def _refused(exc: DemoPmsError) -> Response:
        return error_response(exc.status, exc.message, exc.field)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 404:
            message = f"no route {request.method} {request.path} (GET / lists the routes)"
        elif status == 405:
            message = f"{request.path} does not take {request.method}"
        elif status == 413:
            message = f"the request body is larger than {MAX_BODY_BYTES} bytes"
        else:
            message = exc.description or exc.name
        return error_response(status, message)

    @app.errorhandler(Exception)
    def _crashed(exc: Exception) -> Response:
        log.exception("demo PMS: %s %s failed", request.method, request.path)
        return error_response(500, f"the demo PMS failed: {type(exc).__name__}")

    return app


IDEMPOTENCY_HEADER = "Idempotency-Key"  # honoured on writes, as Stripe and the IETF draft spell it


def _describe_request() -> dict[str, Any]:
    """What the request log keeps: everything but secrets (the key header's value is redacted)."""
    try:
        raw = request.get_data(cache=True)
    except HTTPException:
        raw = b""
        body: Any = f"<more than {MAX_BODY_BYTES} bytes>"
    else:
        body = None
    if raw:
        body = _recorded_body(raw)
    return {
        "method": request.method,
        "path": request.path,
        "query": request.args.to_dict(flat=True),
        "queryString": request.query_string.decode("latin-1"),
        "headers": {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in request.headers.items()},
        "body": body,
        "fault": None,
    }


def _recorded_body(raw: bytes) -> Any:
    """At most MAX_RECORDED_BODY characters of any body: a small JSON body as its JSON, anything else as text.

    A longer body (JSON or not) is kept as its first characters plus a marker saying how long it was, so
    10,000 recorded requests stay within 10,000 × MAX_RECORDED_BODY characters of bodies."""
    if len(raw) <= MAX_RECORDED_BODY:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
            return raw.decode("utf-8", "replace")
    marker = f"...<truncated: {len(raw)} bytes>"
    return raw[: MAX_RECORDED_BODY - len(marker)].decode("utf-8", "replace") + marker


def _index() -> Response:
    """A map for people who open the server in a browser."""
    routes = [{"methods": list(methods), "path": rule} for rule, methods, _ in URL_RULES]
    return answer(
        {
            "name": "Demo PMS (Harbour & Vale's finance system)",
            "auth": f"send the {API_KEY_HEADER} header on every /api/ route",
            "routes": routes,
        }
    )
