"""The frame every web page shares: the navigation, rendering, refusals as pages, flash notes, paging.

A page group is a `PageGroup` (a Flask blueprint that also knows its navigation entries), built by a module's
`pages(<parts>)` with the parts it shows:

    bp = PageGroup("outbox")

    @bp.page("/outbox", nav="Outbox", order=70)
    def listing():
        return render_page("outbox.html", "Outbox", messages=outbox.list(...))

with `emulator/templates/web/outbox.html` extending `web/layout.html`. Building it in `page_groups` of
`emulator/web/__init__.py` registers it; the navigation follows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, g, render_template, request

from ..kernel.paging import PAGE_SIZE  # noqa: F401  (the pages' page size; the areas' reads page with kernel/paging.py)
from .session import FrameParts, csrf_token, current_user, frame_parts, keep_frame_parts

FLASH_COOKIE = "operate.web.flash"  # one note for the next page: what an action did, or why it was refused
MAX_PAGE = 100_000  # `?page=` past this is refused: an offset that deep is no page anyone reads


@dataclass(frozen=True)
class NavEntry:
    label: str
    path: str
    order: int


class Refused(Exception):
    """A refusal a view raises where it finds it (a `?page=` that is no page number, an id that names nothing):
    the page group answers it with the refusal page, so a view need not pass it back up by hand."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class PageGroup(Blueprint):
    """A blueprint of pages; `page()` routes a GET view and, with `nav=`, puts it in the navigation."""

    def __init__(self, name: str) -> None:
        super().__init__(f"web_{name}", __name__, template_folder="../templates")
        self.nav_entries: list[NavEntry] = []
        self.register_error_handler(Refused, lambda exc: refuse(exc.status, exc.message))

    def page(self, rule: str, *, nav: str | None = None, order: int = 100, **options: Any):
        if nav is not None:
            self.nav_entries.append(NavEntry(nav, rule, order))
        return self.get(rule, **options)


def register(app: Flask, groups: list[PageGroup], extra_nav: list[NavEntry], parts: FrameParts) -> None:
    """Register the page groups and the frame's helpers (over `parts`) on the app."""
    keep_frame_parts(app, parts)
    entries = [*extra_nav]
    for group in groups:
        app.register_blueprint(group)
        entries.extend(group.nav_entries)
    nav = sorted(entries, key=lambda e: (e.order, e.label))
    app.context_processor(lambda: {"site_nav": lambda: site_nav(nav)})  # the entries go in; none is looked up
    app.add_template_filter(pretty, "pretty")
    app.add_template_filter(duration, "duration")
    from .redact import display_url

    app.add_template_filter(display_url, "display_url")  # a user and password in a URL are never shown
    from ..kernel.visible import visible_controls

    app.jinja_env.finalize = visible_controls  # a NUL in a title is shown as ␀, not dropped by the browser
    app.after_request(_clear_flash)


def site_nav(entries: list[NavEntry]) -> list[dict[str, Any]]:
    """The navigation for this request: `entries` with the current page's marked active."""
    path = request.path
    out = []
    for entry in entries:
        active = path == entry.path if entry.path == "/" else path == entry.path or path.startswith(entry.path + "/")
        out.append({"label": entry.label, "path": entry.path, "active": active})
    return out


def render_page(template: str, title: str, status: int = 200, **context: Any) -> Response:
    html = render_template(
        f"web/{template}",
        title=title,
        flash=_flash(),
        csrf_token=csrf_token(),
        web_user=current_user(),
        clock_now=_clock_now(),
        **context,
    )
    return Response(html, status=status, mimetype="text/html")


def needs_sign_in(permission: str | None = None) -> Response | None:
    """A refusal page unless someone is signed in (holding `permission`): pages with people's mail and
    a firm's data read as the API does, which wants a token."""
    from .session import current_principal

    principal = current_principal()
    if principal is None:
        return refuse(401, "sign in to see this page (it shows what the API shows only to a signed-in caller)")
    if permission and not principal.has(permission):
        return refuse(403, f"{principal.user_name or principal.client_id} lacks the permission {permission!r}")
    return None


def download(text: str, file_name: str, content_type: str) -> Response:
    """A file to save, its name as RFC 6266 says (any characters), never kept in a cache."""
    import io

    from flask import send_file

    response = send_file(io.BytesIO(text.encode("utf-8")), mimetype=content_type, as_attachment=True,
                         download_name=file_name)  # fmt: skip
    response.headers["Cache-Control"] = "private, no-store"
    return response


def refuse(status: int, message: str) -> Response:
    """A refusal as a page a person reads (404 for an unknown id, 400 for bad input), never a 500."""
    return render_page("problem.html", f"{status}", status=status, status_code=status, message=message)


def _clock_now() -> str:
    from ..kernel.clock import iso

    clock = frame_parts().clock
    return f"{iso(clock.now())} ({clock.mode})"


# -- flash notes: what the last action did ------------------------------------------------------------
def note(response: Response, text: str, kind: str = "ok") -> Response:
    response.set_cookie(
        FLASH_COOKIE, json.dumps({"kind": kind, "text": text[:2000]}), httponly=True, samesite="Lax", path="/"
    )
    return response


def _flash() -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    g.web_flash_shown = True
    try:
        found = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(found, dict) or not isinstance(found.get("text"), str):
        return None
    return {"kind": "error" if found.get("kind") == "error" else "ok", "text": found["text"]}


def _clear_flash(response: Response) -> Response:
    setting = any(c.startswith(FLASH_COOKIE + "=") for c in response.headers.getlist("Set-Cookie"))
    if g.get("web_flash_shown") and not setting:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


# -- paging ---------------------------------------------------------------------------------------------
def page_number() -> int | None:
    """`?page=` as a number from 1; None when it is not one (the caller answers 400)."""
    raw = request.args.get("page", "1") or "1"
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not 1 <= int(raw) <= MAX_PAGE:  # ASCII digits: "²" is no page
        return None
    return int(raw)


def requested_page() -> int:
    """`?page=` as a number from 1; a 400 refusal page when it is not one (every paged list asks it first)."""
    page = page_number()
    if page is None:
        raise Refused(400, "page must be a whole number from 1")
    return page


# -- filters -------------------------------------------------------------------------------------------
def pretty(value: Any) -> str:
    """JSON indented for reading; autoescaping still applies to the result (never Markup)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def duration(start: str | None, end: str | None) -> str:
    from ..kernel.clock import parse_instant

    if not start or not end:
        return ""
    try:
        seconds = (parse_instant(end) - parse_instant(start)).total_seconds()
    except ValueError:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
