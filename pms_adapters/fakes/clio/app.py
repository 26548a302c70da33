"""`create_app()`: the fake Clio Manage as a Flask WSGI app (in process through httpx.WSGITransport, or served).

Around every `/api/v4/` call, in Clio's order: `X-API-VERSION` (410 when unknown), the Bearer token
(401 `invalid_token`), the switches (5xx, latency), the per-token rate limit (429 + `Retry-After`);
every answer echoes `X-API-VERSION` and carries `X-RateLimit-*`. `observer(request, response)` sees
each answer: the tests validate every one against Clio's OpenAPI document there.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, Request, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from emulator.kernel.clock import Clock
from emulator.kernel.errors import error_response

from .models import API_VERSIONS, DEFAULT_API_VERSION, INVALID_TOKEN, ClioBackend, ClioError
from .responses import ClioResponses
from .urls import API, URL_RULES

MAX_BODY_BYTES = 32 * 1024 * 1024  # a document PUT to the fake S3 URL counts too
MAX_LATENCY_SECONDS = 30.0

Observer = Callable[[Request, Response], None]


def create_app(
    backend: ClioBackend | None = None, *, clock: Clock | None = None, observer: Observer | None = None
) -> Flask:
    """`app.extensions["fake_clio"]` is the backend, for library-mode control."""
    backend = backend or ClioBackend(clock=clock)
    app = Flask("pms_adapters.fakes.clio")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["fake_clio"] = backend
    responses = ClioResponses(backend)
    for rule, methods, name in URL_RULES:
        view = responses.view(name)
        app.add_url_rule(rule, endpoint=name, view_func=view, methods=list(methods))
        if rule.startswith(API):
            app.add_url_rule(rule + ".json", endpoint=name + "_json", view_func=view, methods=list(methods))

    @app.before_request
    def api_gate():
        if not request.path.startswith(API + "/"):
            return None
        version = request.headers.get("X-API-VERSION", "").strip() or None  # an empty header is no header
        if version is not None and version not in API_VERSIONS:
            raise ClioError(410, f"X-API-VERSION {version[:20]!r} is not a supported version", "Gone")
        g.version = version or DEFAULT_API_VERSION
        header = request.headers.get("Authorization", "")
        token = backend.authenticate(header[7:].strip() if header.lower().startswith("bearer ") else None)
        if token is None:
            response = jsonify(INVALID_TOKEN)
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        g.token = token
        g.rate_headers = backend.charge(token.access_token)
        switches = backend.switches
        if switches.latency_seconds:
            time.sleep(min(switches.latency_seconds, MAX_LATENCY_SECONDS))
        if switches.fail_next:
            switches.fail_next -= 1
            raise ClioError(switches.fail_status, "the fake was told to fail this call", "ServiceUnavailable")
        return None

    @app.after_request
    def api_headers(response: Response) -> Response:
        if request.path.startswith(API + "/"):
            response.headers["X-API-VERSION"] = getattr(g, "version", DEFAULT_API_VERSION)
            for name, value in getattr(g, "rate_headers", {}).items():
                response.headers.setdefault(name, value)
        if observer is not None:
            observer(request, response)
        return response

    app.register_error_handler(ClioError, error_response)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = jsonify({"error": {"type": exc.name.replace(" ", ""), "message": exc.description or exc.name}})
        response.status_code = exc.code or 500
        allow = dict(exc.get_headers()).get("Allow")
        if allow:  # RFC 9110: a 405 names the methods the resource has
            response.headers["Allow"] = allow
        return response

    return app
