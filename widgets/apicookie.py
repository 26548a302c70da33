"""The portal's `_api` cookie: the page's bearer token where third-party widgets read it.

Real widgets that call `fetch` themselves (not `$ajax`) read the token from a cookie named `_api` and send it as
`Authorization: Bearer <token>`. The harness sets that cookie on every widget and portal page it renders and again
whenever the page renews its token (`/_harness/session`), so such a widget keeps working after a renewal.

Trade-off (docs/widgets.md): the cookie cannot be HttpOnly, since the widget must read it, so any script on the page
can read the token — as on a tenant. It is kept as narrow as works: SameSite=Strict (never sent from another site),
paths `/widgets` and `/portal` only (the pages whose scripts read it; it does not travel with API calls, which carry
the header), Secure when the page is served over https (not on the http loopback, where a Secure cookie is dropped).
"""

from __future__ import annotations

from flask import Response, g, request

API_COOKIE = "_api"
API_COOKIE_PATHS = ("/widgets", "/portal")  # the harness's pages; /_harness/session renews it for both


def remember(token: str | None) -> None:
    """Note the token the response must put in the cookie (None: the page has no user, so no cookie)."""
    g.operate_api_token = token if token else ""


def attach(response: Response) -> Response:
    """Set (or clear) the `_api` cookie on a harness response that chose a token for the page."""
    token = g.pop("operate_api_token", None)
    if token is None:
        return response
    for path in API_COOKIE_PATHS:
        if token:
            response.set_cookie(
                API_COOKIE, token, path=path, samesite="Strict", httponly=False, secure=request.is_secure
            )
        else:
            response.delete_cookie(API_COOKIE, path=path, samesite="Strict", secure=request.is_secure)
    return response
