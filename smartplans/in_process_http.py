"""`sharedo.http` on the host side: the emulator's own routes, in process, as the `ee-app` client.

httpx's WSGITransport is the seam: the request goes through the same Flask app (routing, auth,
permissions, validation) as any outside caller's, without a socket.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

# .NET HttpStatusCode names, which is what `status` holds on the platform ([confirmed] "OK",
# "Forbidden"); Python's own names differ for several codes.
DOTNET_STATUS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "NoContent",
    301: "MovedPermanently",
    302: "Redirect",
    304: "NotModified",
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    408: "RequestTimeout",
    409: "Conflict",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    501: "NotImplemented",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def dotnet_status(code: int) -> str:
    if code in DOTNET_STATUS:
        return DOTNET_STATUS[code]
    try:
        return "".join(part.capitalize() for part in HTTPStatus(code).name.split("_"))
    except ValueError:
        return str(code)


R = TypeVar("R")


def renewing_once(
    send: Callable[[str | None], R], token_for: Callable[[bool], str | None], expired: Callable[[R], bool]
) -> R:
    """Every in-process client's 401 policy, as Operate's own sample clients do it: send with the current
    token; when the answer says that token has expired (on the emulator's clock), renew it once and send
    again. Plans' `sharedo.http` and the testing plugin's API client both go through here."""
    token = token_for(False)
    response = send(token)
    if expired(response):
        renewed = token_for(True)
        if renewed != token:
            response = send(renewed)
    return response


class InProcessHost:
    CLIENT_ID = "ee-app"

    def __init__(self, app: Any, identity: Any, idempotency_header: Callable[[str], str | None] | None = None) -> None:
        self.identity = identity
        # The header a linked service takes idempotency keys in (by service name), for a write a plan sends
        # through the proxy with one.
        self.idempotency_header = idempotency_header
        self.client = httpx.Client(
            transport=httpx.WSGITransport(app=app), base_url="http://operate.local", timeout=None
        )
        self._token: str | None = None

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        url = str(request.get("url", ""))
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not url.startswith("/"):
            return self._answer(
                403,
                {
                    "title": "sharedo.http reaches only the tenant's own API (a path such as "
                    "/api/v1/public/workItem/...); call external systems through "
                    "/api/proxy/{linkedService}/_/{path}",
                    "url": url,
                },
            )
        # Only our own token's 401 renews: a 401 from a PMS behind the proxy is that system's answer,
        # and the call is not sent again.
        response = renewing_once(
            lambda token: self._send(request, token),
            self._token_for,
            lambda r: r.status_code == 401 and 'realm="operate"' in r.headers.get("WWW-Authenticate", ""),
        )
        answer = self._answer(response.status_code, _body(response))
        if _claims_json(response) and isinstance(answer["body"], str):
            answer["malformed"] = True  # said JSON, was not: a retry must ask again, not replay it
        return answer

    def _token_for(self, renew: bool) -> str:
        if self._token is None or renew:
            self._token = self.identity.issue(self.CLIENT_ID)
        return self._token

    def _send(self, request: dict[str, Any], token: str | None) -> httpx.Response:
        body = request.get("body")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        key = request.get("idempotencyKey")
        method = str(request.get("method", "GET")).upper()
        if key and method not in ("GET", "HEAD", "OPTIONS") and self.idempotency_header is not None:
            parts = str(request["url"]).split("/")  # /api/proxy/<service>/_/<path>
            if len(parts) > 4 and parts[1:3] == ["api", "proxy"] and parts[4] == "_":
                header = self.idempotency_header(parts[3])
                if header:
                    headers[header] = str(key)
        return self.client.request(
            request.get("method", "GET"),
            request["url"],
            content=None if body is None else json.dumps(body),
            headers=headers,
        )

    @staticmethod
    def _answer(code: int, body: Any) -> dict[str, Any]:
        return {"success": 200 <= code < 300, "status": dotnet_status(code), "statusCode": code, "body": body}

    def close(self) -> None:
        self.client.close()


def _claims_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "").lower()


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
