"""Who is signed in and this browser's CSRF token: what every page renders with (see acting.py)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import g, request
from werkzeug.wrappers import Response

from widgets.pages import signed_in

from ..context import current_emulator as emulator  # the one accessor; the pages import it from here

CSRF_COOKIE = "operate.web.csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


def current_user() -> str | None:
    """The user signed in at /_harness/signin (one sign-in for the harness and these pages), or None."""
    return (signed_in(emulator()) or {}).get("user")


def current_principal() -> Any:
    """Who is signed in, with their permissions (the identity's own Principal), or None."""
    session = signed_in(emulator())
    if not session:
        return None
    try:
        return emulator().identity.authenticate(f"Bearer {session['at']}")
    except Exception:  # noqa: BLE001 - an expired or revoked session token is simply nobody signed in
        return None


def csrf_token() -> str:
    """This browser's token (made on its first page); `keep_csrf_cookie` sets the cookie when new."""
    if "web_csrf" not in g:
        existing = request.cookies.get(CSRF_COOKIE, "")
        g.web_csrf = existing if len(existing) >= 32 and existing.isascii() else secrets.token_urlsafe(32)
        g.web_csrf_new = g.web_csrf != existing
    return g.web_csrf


def keep_csrf_cookie(response: Response) -> Response:
    if g.get("web_csrf_new"):
        response.set_cookie(CSRF_COOKIE, g.web_csrf, httponly=True, samesite="Strict", path="/")
    return response
