"""The event stream, newest first, filtered by type and work item, paged; new events arrive on the page
by a poll of `/events/feed` (the page reads the same without JavaScript, with a link to refresh)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from flask import Response, render_template, request

from ..workitem_reads import WorkItemReads
from .frame import PAGE_SIZE, PageGroup, refuse, render_page, requested_page

if TYPE_CHECKING:  # built with its parts by emulator/web/__init__.py's init_app
    from ..kernel.events import EventStream
    from ..kernel.store import Store
    from ..workitems import WorkItems

FEED_LIMIT = 100  # new events one poll brings at most; the page says when there were more
MAX_ID = 100


def _filters(event_types: dict[str, Any], workitems: WorkItems) -> tuple[dict[str, str], dict[str, str]] | str:
    """The stream's filters (event type, work item id) as the page's fields ask, or what is wrong with them."""
    event_type = (request.args.get("type") or "").strip()
    work_item = (request.args.get("workItem") or "").strip()
    wanted = {"event_type": "", "work_item_id": ""}
    if event_type:
        if event_type not in event_types:
            return f"type: no business event {event_type[:80]!r}; known: {', '.join(sorted(event_types))}"
        wanted["event_type"] = event_type
    if work_item:
        if len(work_item) > MAX_ID:
            return f"workItem is longer than {MAX_ID} characters"
        found = workitems.find(work_item)
        wanted["work_item_id"] = found.id if found else work_item
    return wanted, {"type": event_type, "workItem": work_item}


def _rows(store: Store, rows: list[Any]) -> list[dict[str, Any]]:
    """The events with the title and reference of the work item each names (none when it names none)."""
    items = WorkItemReads(store).titles(r["work_item_id"] for r in rows)
    out = []
    for r in rows:
        item = items.get(r["work_item_id"], {})
        out.append(
            {
                "number": r["number"],
                "eventType": r["event_type"],
                "occurredAt": r["occurred_at"],
                "sharedoId": r["work_item_id"],
                "title": item.get("title"),
                "reference": item.get("reference"),
                "data": json.loads(r["data"]),
            }
        )
    return out


def pages(stream: EventStream, event_types: dict[str, Any], workitems: WorkItems, store: Store) -> PageGroup:
    """The events pages over `stream`, the business `event_types` (the type filter), `workitems` (the work item
    filter) and `store` (the titles of the work items the events name)."""
    bp = PageGroup("events")

    @bp.page("/events", nav="Events", order=20)
    def events():
        page = requested_page()
        filters = _filters(event_types, workitems)
        if isinstance(filters, str):
            return refuse(400, filters)
        wanted, chosen = filters
        result, last = stream.page(page, PAGE_SIZE, **wanted)
        rows = _rows(store, result.rows)
        return render_page(
            "events.html",
            "Events",
            rows=rows,
            result=result,
            chosen=chosen,
            event_types=sorted(event_types),
            last=last,
        )

    @bp.get("/events/feed")
    def feed():
        """Rows newer than `after` (as the page's table rows, escaped by the same template), newest first."""
        raw = request.args.get("after", "0")
        if not re.fullmatch(r"[0-9]{1,18}", raw):
            return Response(
                "after must be a whole number (the newest event the page shows)", 400, mimetype="text/plain"
            )
        filters = _filters(event_types, workitems)
        if isinstance(filters, str):
            return Response(filters, 400, mimetype="text/plain")
        wanted, _ = filters
        found, last = stream.newer(int(raw), FEED_LIMIT + 1, **wanted)
        rows = _rows(store, found[:FEED_LIMIT])
        html = render_template("web/_event_rows.html", rows=rows, fresh=True)
        response = Response(html, mimetype="text/html")
        response.headers["X-Last-Event"] = str(max(last, int(raw)))
        response.headers["X-More"] = "1" if len(found) > FEED_LIMIT else "0"
        response.headers["Cache-Control"] = "no-store"
        return response

    return bp
