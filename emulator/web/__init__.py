"""The emulator's web pages (`operate serve` at `/` and below): Jinja2 templates in
`emulator/templates/web/`, one page group (a blueprint) per module, the frame shared with the widget
harness (`widgets/templates/base.html`, `harness.css`).

To add a page: a view in a page group, a module here whose `pages(<parts>)` builds a `PageGroup` with the parts
it uses (`init_app` below hands them over from the emulator),

    def pages(outbox: Outbox) -> PageGroup:
        bp = PageGroup("outbox")

        @bp.page("/outbox", nav="Outbox", order=70)
        def listing():
            return render_page("outbox.html", "Outbox", messages=outbox.list(...))

        return bp

and its template `emulator/templates/web/outbox.html` (`{% extends "web/layout.html" %}`). A form that
changes something posts to a view wrapped in `@action` (CSRF, a signed-in user) that calls the real API
with `call_api(...)` and answers `done(answer, "what happened", where)`; see `acting.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, send_from_directory

from . import clock, events, executions, home, integrations, outbox, plan_tools, plans, pms, workitems
from .frame import NavEntry, PageGroup, register
from .session import FrameParts, keep_csrf_cookie

if TYPE_CHECKING:  # the pages serve the Emulator create_app composed; they never import the root
    from ..core import Emulator

# Pages served by others that the navigation lists too.
OTHER_PAGES = [NavEntry("Widgets", "/widgets", 80)]


def page_groups(em: Emulator) -> list[PageGroup]:
    """Every page group, each built with the parts of `em` it shows (the one place the pages meet the Emulator)."""
    return [
        home.pages(em.solution, em.settings.demo, em.store, em.stream, em.smartplans, em.linked_services, em.proxy_log),
        workitems.pages(em.solution.worktypes, em.workitems, em.store, em.ods, em.documents, em.dispatcher, em.stream),
        events.pages(em.stream, em.event_types, em.workitems, em.store),
        executions.pages(em.smartplans, em.store, em.scheduler, em.workitems),
        plan_tools.pages(),  # save as test, rerun a step, step through: through the API as the signed-in user
        plans.pages(em.smartplans, em.solution),
        clock.pages(em.clock, em.scheduler),
        pms.pages(em.store, em.proxy_log, em.linked_services),
        outbox.pages(em.outbox),
        integrations.pages(em.clio, em.linked_services),
    ]


def init_app(app: Flask, emulator: Emulator) -> None:
    """Register the page groups, built with their parts, and the frame every page shares: who is signed in (against
    the identity) and the clock it shows."""
    register(app, page_groups(emulator), OTHER_PAGES, FrameParts(emulator.identity, emulator.clock))
    app.after_request(keep_csrf_cookie)
    static = __path__[0] + "/static"

    @app.get("/_web/<name>")
    def web_static(name: str):
        return send_from_directory(static, name, max_age=300)
