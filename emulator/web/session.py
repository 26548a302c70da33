"""Who is signed in and this browser's CSRF token: what every page renders with (see acting.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, g, request
from werkzeug.wrappers import Response

from widgets.pages import signed_in

if TYPE_CHECKING:  # the frame's parts, handed over by emulator/web/__init__.py's init_app
    from ..identity import Identity
    from ..kernel.clock import Clock

CSRF_COOKIE = "operate.web.csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class FrameParts:
    """The two parts every page's frame uses, whatever the page shows: `identity`, against which the harness's
    sign-in is checked (who is signed in, what they may do, the token an action calls the API with), and `clock`,
    whose time the frame shows. `init_app` builds it with the emulator's parts; the frame's helpers (`render_page`,
    `call_api`, `current_user`, ...) are called from every view, so `keep_frame_parts` keeps it for the request."""

    identity: Identity
    clock: Clock


def keep_frame_parts(app: Flask, parts: FrameParts) -> None:
    """Hand `parts` to the frame's helpers for each request to `app` (they read it with `frame_parts()`)."""

    @app.before_request
    def _frame_parts() -> None:
        g.web_frame_parts = parts


def frame_parts() -> FrameParts:
    """The frame's parts for this request (see FrameParts)."""
    return g.web_frame_parts


def current_user() -> str | None:
    """The user signed in at /_harness/signin (one sign-in for the harness and these pages), or None."""
    return (signed_in(frame_parts()) or {}).get("user")  # signed_in reads the `identity` of what it is given


def current_principal() -> Any:
    """Who is signed in, with their permissions (the identity's own Principal), or None."""
    parts = frame_parts()
    session = signed_in(parts)
    if not session:
        return None
    try:
        return parts.identity.authenticate(f"Bearer {session['at']}")
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
