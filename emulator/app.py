"""`create_app(settings)`: the Flask app over one Emulator. No import-time state."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from . import hosts
from .context import install
from .core import Emulator
from .kernel.binding import MAX_BODY_BYTES
from .kernel.errors import ApiError, error_body, error_response
from .settings import Settings

log = logging.getLogger("operate.app")

# Routes any caller may reach without a token: liveness and the API description.
OPEN_API_ROUTES = {"/api/_emulator/health", "/api/_emulator/openapi.json"}


class PathNormaliser:
    """Real routes answer with and without a trailing slash, and some clients write `workitem` in
    lower case; both are folded here, before routing, so every blueprint sees one spelling."""

    def __init__(self, wsgi_app, literals: dict[str, dict[str, str]]) -> None:
        self.wsgi_app = wsgi_app
        self.literals = literals

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/api/proxy/"):
            return self.wsgi_app(environ, start_response)  # the upstream path is the service's, untouched
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        if path.startswith(("/api/", "/connect/")):
            # Spellings are per top segment: /api/security/userInfo and /connect/userinfo both exist.
            literals = self.literals.get(path.split("/", 2)[1], {})
            path = "/".join(
                literals.get(seg.lower(), seg) if seg.lower() != seg or seg.lower() in literals else seg
                for seg in path.split("/")
            )
        environ["PATH_INFO"] = path
        return self.wsgi_app(environ, start_response)


def _literal_segments(app: Flask) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for rule in app.url_map.iter_rules():
        top = rule.rule.split("/", 2)[1]
        for seg in rule.rule.split("/"):
            if seg and "<" not in seg:
                out.setdefault(top, {})[seg.lower()] = seg
    return out


class RecordId(BaseConverter):
    """A record id in a path: never one of the fixed names beside it (`workItem/findByQuery`,
    `time/entry/search`), so `PUT .../findByQuery` is a 405, not a PUT on a work item of that id."""

    regex = r"(?!(?:findByQuery|search|config)(?:/|$))[^/]+"


def create_app(settings: Settings | None = None, *, emulator: Emulator | None = None, resume: bool = True) -> Flask:
    if emulator is None:
        emulator = Emulator(settings or Settings())
    app = Flask("operate")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1024  # a little over: the 413 then names our limit
    install(app, emulator)  # current_emulator() answers it (emulator/context.py)
    app.url_map.converters["id"] = RecordId

    from .api import control, executionengine, finance, ide, identity, ods, openapi, proxy, timeentries, workitems

    # Each blueprint is built with the parts it serves and says so in its signature.
    for blueprint in (
        identity.blueprint(emulator.identity),
        workitems.blueprint(emulator.workitems, emulator.queries, emulator.identity, emulator.solution.worktypes),
        ods.blueprint(emulator.ods),
        executionengine.blueprint(emulator.queries, emulator.smartplans),
        control.blueprint(emulator),  # reset, export and import: the whole Emulator's state
        ide.blueprint(emulator.ide_roots),
        openapi.bp,
        proxy.blueprint(emulator.linked_services, emulator.proxy_log),
        timeentries.blueprint(emulator.time),
        finance.blueprint(emulator.finance),
    ):
        app.register_blueprint(blueprint)
    from .api import features

    # routes of global features the tenant has switched off: 400
    app.register_blueprint(
        features.blueprint(emulator.features, emulator.bookmarks, emulator.notifications, emulator.identity)
    )

    from .api import documents

    # related documents, the DMS and the signed download links
    app.register_blueprint(documents.blueprint(emulator.documents))
    from .api import integrations

    app.register_blueprint(
        integrations.blueprint(emulator.clio)
    )  # Clio: connect, mappings, syncs, pushes; Clio's callback

    from .api import outbox

    app.register_blueprint(outbox.blueprint(emulator.outbox))  # /api/_emulator/outbox: what the emulator has e-mailed
    from smartplans.plan_tools import PlanTools

    from .api import plan_tools

    # /api/_emulator/executions/<id>/...: an execution saved as a test, a step's ctx call by call, a step rerun
    tools = PlanTools(emulator.smartplans, emulator.store, emulator.clock)
    app.register_blueprint(plan_tools.blueprint(tools, None if emulator.settings.demo else emulator.solution.root))
    from .api import fidelity, pluginfiles

    # /_pluginFiles/<Plugin>/...: the solution's _plugins/<Plugin>/
    app.register_blueprint(pluginfiles.blueprint(emulator.solution.root))
    app.register_blueprint(fidelity.bp)  # /_emulator/fidelity: docs/fidelity.md, what is and is not emulated

    from widgets.pages import bp as widget_pages

    app.register_blueprint(widget_pages)  # the portal harness: /widgets, /portal/<id>, /_harness/

    from . import web

    web.init_app(app, emulator)  # the emulator's own pages: /, /workitems, /events, /executions, /plans, /clock, /pms

    @app.before_request
    def known_host():
        """Only this machine's names and operate.toml's [server] allowed_hosts (emulator/hosts.py)."""
        if hosts.request_allowed(request.environ, request.host, emulator.allowed_hosts):
            return None
        if request.path.startswith(("/api/", "/connect/")):
            return jsonify(error_body(403, hosts.refusal_text(request.host))), 403
        return hosts.refusal_text(request.host), 403, {"Content-Type": "text/plain; charset=utf-8"}

    @app.before_request
    def authenticate():
        path = request.path
        if path.startswith("/api/") and path not in OPEN_API_ROUTES and request.method != "OPTIONS":  # CORS preflight
            g.principal = emulator.identity.authenticate(request.headers.get("Authorization"))

    app.register_error_handler(ApiError, error_response)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        title = exc.description or exc.name
        if exc.code == 404:
            title = f"no route {request.method} {request.path}"
            if request.path.startswith("/api/"):
                title += ": not emulated — see /_emulator/fidelity"
        elif exc.code == 405:
            title = f"{request.method} is not allowed on {request.path}"
        elif exc.code == 413:
            title = "request body is larger than the 5 MB limit"
        response = jsonify(error_body(exc.code or 500, title))
        response.status_code = exc.code or 500
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(error_body(500, f"internal error: {type(exc).__name__}")), 500

    app.wsgi_app = PathNormaliser(app.wsgi_app, _literal_segments(app))  # type: ignore[method-assign]
    emulator.attach(app, resume=resume)
    return app
