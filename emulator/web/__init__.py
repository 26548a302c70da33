"""The emulator's web pages (`operate serve` at `/` and below): Jinja2 templates in
`emulator/templates/web/`, one page group (a blueprint) per module, the frame shared with the widget
harness (`widgets/templates/base.html`, `harness.css`).

To add a page: a view in a page group (a module here with `bp = PageGroup("name")`, or a `pages(<parts>)` that
builds one with the parts it uses, imported and listed in `GROUPS`),

    @bp.page("/outbox", nav="Outbox", order=70)
    def outbox():
        return render_page("outbox.html", "Outbox", messages=...)

and its template `emulator/templates/web/outbox.html` (`{% extends "web/layout.html" %}`). A form that
changes something posts to a view wrapped in `@action` (CSRF, a signed-in user) that calls the real API
with `call_api(...)` and answers `done(answer, "what happened", where)`; see `acting.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, send_from_directory

from . import clock, events, executions, home, integrations, outbox, plans, pms, workitems
from .frame import NavEntry, register
from .session import keep_csrf_cookie

if TYPE_CHECKING:  # the pages serve the Emulator create_app composed; they never import the root
    from ..core import Emulator

GROUPS = (home, workitems, events, executions, plans, clock, pms, outbox, integrations)
# Pages served by others that the navigation lists too.
OTHER_PAGES = [NavEntry("Widgets", "/widgets", 80)]


def init_app(app: Flask, emulator: Emulator) -> None:
    """Register the page groups: a group built with its parts (`pages(...)`) gets them from `emulator`; the
    others (a module-level `bp`) ask `current_emulator()` as they serve."""
    built = {
        plans: lambda: plans.pages(emulator.smartplans, emulator.solution),
        clock: lambda: clock.pages(emulator.clock, emulator.scheduler),
    }
    register(app, [built[group]() if group in built else group.bp for group in GROUPS], OTHER_PAGES)
    app.after_request(keep_csrf_cookie)
    static = __path__[0] + "/static"

    @app.get("/_web/<name>")
    def web_static(name: str):
        return send_from_directory(static, name, max_age=300)
