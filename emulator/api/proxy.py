"""`ANY /api/proxy/{linkedService}/_/{path}`: Operate's linked-service proxy.

The caller's own token stops here; the service's credentials are injected (for a connected service,
its connection's token, renewed once when the service answers 401); every call is logged.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote, unquote

import httpx
from flask import Blueprint, Response, request

from ..identity import require
from ..kernel.errors import ApiError
from ..linked_services import CONNECTED, LinkedServiceError
from .common import caller, emulator

bp = Blueprint("proxy", __name__)
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
}
DROP_RESPONSE = {"content-length", "connection", "transfer-encoding", "content-encoding", "keep-alive", "set-cookie"}


SEGMENT_SAFE = "!$&'()*+,;=:@~"  # RFC 3986 pchar beyond the unreserved: left as they are in a path segment


@bp.route("/api/proxy/<service_name>/_/", defaults={"upstream": ""}, methods=METHODS)
@bp.route("/api/proxy/<service_name>/_/<path:upstream>", methods=METHODS)
def proxy(service_name: str, upstream: str):
    principal = caller()
    em = emulator()
    service = em.linked_services.services.get(service_name)
    if service is None:
        known = sorted(em.linked_services.services)
        raise ApiError(404, f"no linked service {service_name!r}; configured: {known or 'none (see operate.toml)'}")
    if service.require_permission:
        require(principal, service.require_permission)
    if not service.expose_for_proxy:
        raise ApiError(403, f"linked service {service_name!r} is not exposed for proxying")
    try:
        upstream.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400, "the upstream path is not valid UTF-8", [{"field": "path", "message": "not UTF-8"}]
        ) from None
    segments = [unquote(part) for part in upstream.split("/")]
    if any(part in (".", "..") or "/" in part or "\\" in part for part in segments):
        raise ApiError(
            400,
            f"the upstream path {upstream[:100]!r} may not step outside the service's base path",
            [{"field": "path", "message": "no '.' or '..' segments"}],
        )
    if service.auth in CONNECTED and (request.method not in ("GET", "HEAD") or not upstream.startswith("api/")):
        # The firm's grant carries an administrator's rights: through the proxy it only reads the API
        # (what the finance widgets need); it never reaches /oauth/ (a deauthorize would revoke it).
        raise ApiError(
            403,
            f"linked service {service_name!r} rides on the firm's {CONNECTED[service.auth]} connection: "
            "through the proxy it only answers GET of its API (api/...)",
        )
    headers = {k: v for k, v in request.headers.items() if k.lower() not in DROP_REQUEST}
    started = time.perf_counter()
    try:
        headers.update(em.linked_services.credentials(service))
        client = em.linked_services.client(service_name)
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
            em.linked_services.forget_token(service_name)
            upstream_request.headers.update(em.linked_services.credentials(service))
            response = client.send(upstream_request)
        elif response.status_code == 401 and em.linked_services.refreshed(service):  # a connection renewed its token
            upstream_request.headers.update(em.linked_services.credentials(service))
            response = client.send(upstream_request)
    except httpx.InvalidURL as exc:
        raise ApiError(
            400,
            f"the upstream path {upstream[:100]!r} is not a valid URL path: {exc}",
            [{"field": "path", "message": "not a valid URL path"}],
        ) from None
    except httpx.TimeoutException:
        em.proxy_log.record(service_name, request.method, upstream, 504, started, principal.client_id)
        raise ApiError(
            504,
            f"linked service {service_name!r} did not answer within {service.timeout_seconds:g} s "
            f"({request.method} {service.base_url}/{upstream})",
        ) from None
    except LinkedServiceError as exc:  # no connection, or its credentials could not be had: says which and why
        em.proxy_log.record(service_name, request.method, upstream, 502, started, principal.client_id)
        raise ApiError(502, str(exc)) from None
    except (httpx.TransportError, UnicodeError) as exc:
        em.proxy_log.record(service_name, request.method, upstream, 502, started, principal.client_id)
        raise ApiError(
            502, f"linked service {service_name!r} at {service.base_url} is unreachable: {type(exc).__name__}: {exc}"
        ) from None
    em.proxy_log.record(service_name, request.method, upstream, response.status_code, started, principal.client_id)
    out_headers = [(k, v) for k, v in response.headers.items() if k.lower() not in DROP_RESPONSE]
    return Response(response.content, status=response.status_code, headers=out_headers)
