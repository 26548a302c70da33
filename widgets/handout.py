"""Who the harness hands a user's token to: the emulator's own pages only (docs/security.md).

`/_harness/session?user=` answers with a bearer token for any user, and `/widgets/<id>` and `/portal/<id>` embed
one in the page: choosing who to preview as is the point. What must not happen is another site's page (or a page
on another loopback port, such as a registered single-page app the emulator answers with CORS) obtaining one.
So these routes answer only a request that is
  - same-origin by `Sec-Fetch-Site` (`same-origin`), or a navigation the person made themselves (`none`: typed,
    bookmarked, opened by a test's browser); `same-site` (another port on this machine) and `cross-site` are
    refused;
  - and, when it carries `Origin`, from the emulator's own origin (`null`, from a sandboxed frame or a file://
    page, is refused).
A request with neither header is answered: it is no browser's (curl, httpx, the tests' clients) — browsers send
`Sec-Fetch-Site` to a loopback origin on every request, and a page can read another origin's answer only through
CORS, which always sends `Origin`. A refused navigation gets a page with a link to open the same address here,
which the person can follow on purpose (that click is a same-origin navigation).
"""

from __future__ import annotations

from html import escape

from flask import Response, jsonify, request

from emulator.kernel.errors import error_body

FETCH_SITES = ("same-origin", "none")


def _own_origin() -> str:
    return request.host_url.rstrip("/")


def problem() -> str | None:
    """Why this request may not have a token, or None when it may."""
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site is not None and site not in FETCH_SITES:
        return f"the request came from another site's page (Sec-Fetch-Site: {site[:20]})"
    if origin is not None and origin != _own_origin():
        return f"the request came from the page of another origin ({origin[:100]})"
    return None


def refusal() -> Response | None:
    """A 403 for a token route asked by another origin's page; None when it may be answered."""
    why = problem()
    if why is None:
        return None
    message = f"The emulator hands a user's token only to its own pages: {why}."
    if request.path == "/_harness/session":
        response = jsonify(error_body(403, message))
    else:
        here = request.full_path if request.query_string else request.path
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Open this page here?</title></head>'
            f"<body><h1>Open this page here?</h1><p>{escape(message)}</p>"
            f'<p><a href="{escape(here)}">Open {escape(here[:200])} on the emulator</a> to preview it '
            "as the user the address names.</p><p>See docs/security.md.</p></body></html>"
        )
        response = Response(html, mimetype="text/html")
    response.status_code = 403
    response.headers["Cache-Control"] = "no-store"
    response.vary.update(("Origin", "Sec-Fetch-Site"))
    return response
