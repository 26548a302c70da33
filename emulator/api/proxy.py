"""`ANY /api/proxy/{linkedService}/_/{path}`: Operate's linked-service proxy.

The caller's own token stops here; the service's credentials are injected (for a connected service,
its connection's token, renewed once when the service answers 401); every call is logged.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import httpx
from flask import Blueprint, Response, request

from ..identity import require
from ..kernel.errors import ApiError
from ..kernel.scenario_keys import SCENARIO_HEADER
from ..linked_services import CONNECTED, LinkedService, LinkedServiceError, LinkedServices
from .common import caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from ..linked_services import ProxyLog

log = logging.getLogger("operate.proxy")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# Never forwarded: the caller's identity, hop-by-hop headers, and what httpx sets itself.
DROP_REQUEST = {
    "authorization",
    "cookie",
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    # hop-by-hop (RFC 9110 §7.6.1) and the caller's credentials for a proxy of its own
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
    "expect",
    # claims about where the call came from: the caller may not speak for the proxy
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-real-ip",
}
DROP_RESPONSE = {"content-length", "connection", "transfer-encoding", "content-encoding", "keep-alive", "set-cookie"}


SEGMENT_SAFE = "!$&'()*+,;=:@~"  # RFC 3986 pchar beyond the unreserved: left as they are in a path segment
CONTROL_SEGMENT = "_fake"  # the fakes' own control surface (pms_adapters/fakes/*/urls.py): never reached by proxy


def header_key(name: str) -> str:
    """One spelling for a header name: case, and `_` against `-` (a WSGI server reads `API_KEY` and
    `Api-Key` as the same variable), so an injected header replaces the caller's however it was written."""
    return name.strip().lower().replace("_", "-")


def forwarded_headers(sent: Any, injected: dict[str, str]) -> dict[str, str]:
    """The caller's headers as they may reach the service, then the service's credentials: nothing the
    caller sent under an injected name (any spelling), nothing hop-by-hop (nor what `Connection` names),
    no credentials or forwarding claims of the caller's."""
    named_by_connection = {header_key(n) for n in sent.get("Connection", "").split(",") if n.strip()}
    dropped = {header_key(n) for n in (*DROP_REQUEST, *injected)} | named_by_connection
    headers = {k: v for k, v in sent.items() if header_key(k) not in dropped}
    headers.update(injected)
    return headers


def decoded(part: str) -> str:
    """A path segment decoded until it stops changing, as some server on the way might decode it."""
    for _ in range(5):
        again = unquote(part)
        if again == part:
            break
        part = again
    return part


def blueprint(linked_services: LinkedServices, proxy_log: ProxyLog) -> Blueprint:
    """The proxy over `linked_services` (where a call goes), recording each call in `proxy_log`."""
    bp = Blueprint("proxy", __name__)

    @bp.route("/api/proxy/<service_name>/_/", defaults={"upstream": ""}, methods=METHODS)
    @bp.route("/api/proxy/<service_name>/_/<path:upstream>", methods=METHODS)
    def proxy(service_name: str, upstream: str):
        principal = caller()
        service = _proxied_service(linked_services, service_name, principal)
        _check_upstream(upstream)
        _check_connected_read(service_name, service, upstream)
        started = time.perf_counter()

        def record(status: int) -> None:
            proxy_log.record(service_name, request.method, upstream, status, started, principal.client_id)

        try:
            response = _send(linked_services, service_name, service, upstream)
        except httpx.InvalidURL as exc:
            raise ApiError(
                400,
                f"the upstream path {upstream[:100]!r} is not a valid URL path: {exc}",
                [{"field": "path", "message": "not a valid URL path"}],
            ) from None
        except httpx.TimeoutException:
            record(504)
            raise ApiError(
                504,
                f"linked service {service_name!r} did not answer within {service.timeout_seconds:g} s "
                f"({request.method} {service.base_url}/{upstream})",
            ) from None
        except LinkedServiceError as exc:  # no connection, or its credentials could not be had: says which and why
            record(502)
            raise ApiError(502, str(exc)) from None
        except (httpx.TransportError, UnicodeError) as exc:
            record(502)
            raise ApiError(
                502,
                f"linked service {service_name!r} at {service.base_url} is unreachable: {type(exc).__name__}: {exc}",
            ) from None
        record(response.status_code)
        out_headers = [(k, v) for k, v in response.headers.items() if k.lower() not in DROP_RESPONSE]
        return Response(response.content, status=response.status_code, headers=out_headers)

    return bp


def _proxied_service(services: LinkedServices, name: str, principal: Any) -> LinkedService:
    """The configured service the caller may reach through the proxy."""
    service = services.services.get(name)
    if service is None:
        known = sorted(services.services)
        raise ApiError(404, f"no linked service {name!r}; configured: {known or 'none (see operate.toml)'}")
    if service.require_permission:
        require(principal, service.require_permission)
    if not service.expose_for_proxy:
        raise ApiError(403, f"linked service {name!r} is not exposed for proxying")
    return service


def _check_upstream(upstream: str) -> None:
    """The path stays under the service's base path, however a server on the way might decode it."""
    try:
        upstream.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400, "the upstream path is not valid UTF-8", [{"field": "path", "message": "not UTF-8"}]
        ) from None
    segments = [decoded(part) for part in upstream.split("/")]
    if any(_steps_out(part) for part in segments):
        raise ApiError(
            400,
            f"the upstream path {upstream[:100]!r} may not step outside the service's base path",
            [{"field": "path", "message": "no '.' or '..' segments"}],
        )
    if any(part.strip().lower().startswith(CONTROL_SEGMENT) for part in segments):
        # The demo PMS's faults and reset, the fake Clio's switches and tokens: an emulator.control matter
        # (the web pages and the fakes' own ports), never a proxy caller's, however the path is spelled.
        raise ApiError(
            403,
            f"the upstream path {upstream[:100]!r} is a fake's control route ({CONTROL_SEGMENT}/...): "
            "the proxy does not forward it; control the fake from its own port or the emulator's pages",
            [{"field": "path", "message": f"no {CONTROL_SEGMENT} segment"}],
        )
    if "" in segments[:-1]:  # `a//b`: a server that merges slashes would answer for another path
        raise ApiError(
            400,
            f"the upstream path {upstream[:100]!r} has an empty segment ('//')",
            [{"field": "path", "message": "no empty segments"}],
        )


def _steps_out(segment: str) -> bool:
    """A decoded segment that is `.` or `..`, or holds a slash of either kind."""
    return segment.strip() in (".", "..") or "/" in segment or "\\" in segment


def _check_connected_read(name: str, service: LinkedService, upstream: str) -> None:
    """The firm's grant carries an administrator's rights: through the proxy it only reads the API (what the
    finance widgets need); it never reaches /oauth/ (a deauthorize would revoke it)."""
    if service.auth in CONNECTED and (request.method not in ("GET", "HEAD") or not upstream.startswith("api/")):
        raise ApiError(
            403,
            f"linked service {name!r} rides on the firm's {CONNECTED[service.auth]} connection: "
            "through the proxy it only answers GET of its API (api/...)",
        )


def _send(services: LinkedServices, name: str, service: LinkedService, upstream: str) -> httpx.Response:
    """The caller's request as the service receives it, with the service's credentials; after a 401 once more
    with credentials renewed (a client-credentials token fetched again, or a connection's refreshed)."""
    headers = forwarded_headers(request.headers, services.credentials(service))
    if name not in services.fakes:  # a widget page's scenario key is for in-process fakes
        headers = {k: v for k, v in headers.items() if header_key(k) != header_key(SCENARIO_HEADER)}
    client = services.client(name)
    upstream_request = client.build_request(
        request.method,
        # Flask hands the path over decoded: encode each segment again, so an encoded `?` or `#`
        # (`matters%3Fa=b`) stays in the path rather than starting a query the caller never sent.
        "/" + "/".join(quote(part, safe=SEGMENT_SAFE) for part in upstream.split("/")),
        params=request.args.to_dict(flat=False),
        content=request.get_data(),
        headers=headers,
    )
    response = client.send(upstream_request)
    if response.status_code == 401 and service.auth == "oauth2-client-credentials":
        services.forget_token(name)
        upstream_request.headers.update(services.credentials(service))
        response = client.send(upstream_request)
    elif response.status_code == 401 and services.refreshed(service):  # a connection renewed its token
        upstream_request.headers.update(services.credentials(service))
        response = client.send(upstream_request)
    return response
