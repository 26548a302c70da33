"""The event stream, newest first, filtered by type and work item, paged; new events arrive on the page
by a poll of `/events/feed` (the page reads the same without JavaScript, with a link to refresh)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, render_template, request

from ..workitem_reads import WorkItemReads
from .frame import PAGE_SIZE, PageGroup, emulator, page_number, refuse, render_page

bp = PageGroup("events")
FEED_LIMIT = 100  # new events one poll brings at most; the page says when there were more
MAX_ID = 100


def _filters(em: Any) -> tuple[dict[str, str], dict[str, str]] | str:
    """The stream's filters (event type, work item id) as the page's fields ask, or what is wrong with them."""
    event_type = (request.args.get("type") or "").strip()
    work_item = (request.args.get("workItem") or "").strip()
    wanted = {"event_type": "", "work_item_id": ""}
    if event_type:
        if event_type not in em.event_types:
            return f"type: no business event {event_type[:80]!r}; known: {', '.join(sorted(em.event_types))}"
        wanted["event_type"] = event_type
    if work_item:
        if len(work_item) > MAX_ID:
            return f"workItem is longer than {MAX_ID} characters"
        found = em.workitems.find(work_item)
        wanted["work_item_id"] = found.id if found else work_item
    return wanted, {"type": event_type, "workItem": work_item}


def _rows(em: Any, rows: list[Any]) -> list[dict[str, Any]]:
    """The events with the title and reference of the work item each names (none when it names none)."""
    items = WorkItemReads(em.store).titles(r["work_item_id"] for r in rows)
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


@bp.page("/events", nav="Events", order=20)
def events():
    em = emulator()
    page = page_number()
    if page is None:
        return refuse(400, "page must be a whole number from 1")
    filters = _filters(em)
    if isinstance(filters, str):
        return refuse(400, filters)
    wanted, chosen = filters
    result, last = em.stream.page(page, PAGE_SIZE, **wanted)
    rows = _rows(em, result.rows)
    return render_page(
        "events.html",
        "Events",
        rows=rows,
        result=result,
        chosen=chosen,
        event_types=sorted(em.event_types),
        last=last,
    )


@bp.get("/events/feed")
def feed():
    """Rows newer than `after` (as the page's table rows, escaped by the same template), newest first."""
    em = emulator()
    raw = request.args.get("after", "0")
    if not re.fullmatch(r"[0-9]{1,18}", raw):
        return Response("after must be a whole number (the newest event the page shows)", 400, mimetype="text/plain")
    filters = _filters(em)
    if isinstance(filters, str):
        return Response(filters, 400, mimetype="text/plain")
    wanted, _ = filters
    found, last = em.stream.newer(int(raw), FEED_LIMIT + 1, **wanted)
    rows = _rows(em, found[:FEED_LIMIT])
    html = render_template("web/_event_rows.html", rows=rows, fresh=True)
    response = Response(html, mimetype="text/html")
    response.headers["X-Last-Event"] = str(max(last, int(raw)))
    response.headers["X-More"] = "1" if len(found) > FEED_LIMIT else "0"
    response.headers["Cache-Control"] = "no-store"
    return response
