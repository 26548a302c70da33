"""Acting as the signed-in user: who that is, CSRF protection, and calls to the real API in process.

The web pages sign in through the widget harness's sign-in (`/_harness/signin`: the code flow with PKCE
as the public client `operate-portal`), so one sign-in serves both. An action is a form POST here that
becomes a call to the emulator's own API route with that user's access token, through the same Flask
app (httpx's WSGITransport): routing, validation and permissions apply exactly as for any caller.

CSRF: a random token in a cookie of its own (SameSite=Strict, HttpOnly) that every form repeats in a
hidden field (and every fetch in `X-CSRF-Token`); a POST whose copy is missing or differs, or whose
Origin is another site, is refused before anything runs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import httpx
from flask import current_app, redirect, request
from werkzeug.wrappers import Response

from widgets.pages import signed_in

from .frame import note, refuse
from .session import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, current_user, frame_parts


def csrf_problem() -> str | None:
    """Why this state-changing request must be refused, or None when it may go on."""
    origin = request.headers.get("Origin")
    if origin == "null":  # a sandboxed frame, a data: page or a redirect chain: never one of these pages
        return "the request came from a page with no origin; actions are taken only from these pages"
    if origin:
        parts = urlsplit(origin)
        if f"{parts.scheme}://{parts.netloc}" != request.host_url.rstrip("/"):
            return f"the request came from another site ({origin[:80]}); actions are taken only from these pages"
    if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        return "the request came from another site; actions are taken only from these pages"
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not cookie or not sent or not secrets.compare_digest(cookie.encode(), sent.encode()):
        return "the form's CSRF token is missing or does not match this browser's; reload the page and try again"
    return None


def action(view):
    """A state-changing view: CSRF checked first, then a signed-in user required."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        problem = csrf_problem()
        if problem is not None:
            return refuse(403, problem)
        if current_user() is None:
            return note(redirect(back(), 303), "sign in first: actions are taken as the signed-in user", "error")
        return view(*args, **kwargs)

    return wrapper


def back(default: str = "/") -> str:
    """Where the form came from (a path on this server only), to return to after the action."""
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and target.isprintable():
        return target
    return default


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def problem(self) -> str:
        """The API's own words for a refusal: its title and the fields it names."""
        body = self.body if isinstance(self.body, dict) else {}
        title = str(body.get("title") or body.get("message") or self.body or "")[:1000]
        fields = [
            f"{e.get('field')}: {e.get('message')}"
            for e in body.get("errors") or []
            if isinstance(e, dict) and e.get("message") and e.get("message") not in title
        ]
        return f"{self.status}: {title}" + (f" ({'; '.join(fields)[:1000]})" if fields else "")


def call_api(method: str, path: str, body: Any = None) -> Answer:
    """The emulator's own API route, as the signed-in user, through the app itself."""
    session = signed_in(frame_parts())
    headers = {"Authorization": f"Bearer {session['at']}"} if session else {}
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=request.host_url) as client:
        response = client.request(method, path, json=body, headers=headers)
    try:
        parsed = response.json() if response.content else None
    except ValueError:
        parsed = response.text
    return Answer(response.status_code, parsed)


def done(answer: Answer, success: str, where: str) -> Response:
    """Back to the page with a note: what was done, or the API's reason for refusing."""
    response = redirect(where, code=303)
    return note(response, success if answer.ok else answer.problem(), "ok" if answer.ok else "error")
