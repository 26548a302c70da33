"""The members each work-item route takes, in one data-driven place: anything else is refused with a 400.

Operate's .NET binding is believed to ignore members it does not know [inferred]: a body with a
top-level `"attributes": {...}` would be accepted there and nothing set. Accepting and dropping hides
the mistake until it reaches a tenant, so the emulator refuses such a member by name instead, and
says where the value goes. A plan or widget that runs here then also does what it means on a tenant.

Read-only members a client sends back unchanged (the mobile app saves what it read) are accepted
when they equal the current value and refused when they differ: a change there would be dropped.
"""

from __future__ import annotations

from typing import Any

from .kernel.binding import Fields

# Top-level members of `POST /api/v1/public/workItem` [confirmed: S3, S5, S8 envelope].
CREATE_MEMBERS = ("workItem", "aspectData", "keyDates", "participants", "parentSharedoId")
# The solution seed's own keys (seed/workitems.json); never taken from a request.
SEED_MEMBERS = ("id", "phase", "attributes", "createdDate")
# Top-level members of `PUT /api/v1/public/workItem/{id}` [confirmed: S3]. `participants` and
# `parentSharedoId` are create-only: participants have their own route, a parent does not change.
UPDATE_MEMBERS = ("workItem", "aspectData", "keyDates")

# `workItem{...}` members create takes [confirmed: S3, S5, S8; `externalReference` inferred, the id another
# system knows it by]. `referenecIsUserProvided` is an official sample's typo (S5 `agent.js`), which runs
# against tenants: taken and ignored, as they do.
CREATE_WORKITEM_MEMBERS = (
    "sharedoTypeSystemName",
    "title",
    "titleIsUserProvided",
    "reference",
    "referenceIsUserProvided",
    "description",
    "externalReference",
    "parentSharedoId",
    "referenecIsUserProvided",
)
UPDATE_WORKITEM_MEMBERS = ("title", "reference", "description", "sharedoTypeSystemName")
# What `GET .../workItem/{id}` answers in `workItem` and no PUT changes: echoed back, they must be equal.
READ_ONLY_WORKITEM_MEMBERS = (
    "id",
    "titleIsUserProvided",
    "referenceIsUserProvided",
    "parentSharedoId",
    "phaseSystemName",
    "phaseName",
    "phaseIsOpen",
    "createdDate",
    "updatedDate",
    "externalReference",
)

# Where a refused member's value goes instead (the message names the route to use).
HINTS: dict[str, str] = {
    "attributes": "set attributes with PUT /api/v1/public/workItem/{id}/attributes (a map of name to string) "
    "once the work item exists",
    "phase": "move it with PUT /api/v1/public/workItem/{id}/phase {toPhaseSystemName}",
    "phaseSystemName": "move it with PUT /api/v1/public/workItem/{id}/phase {toPhaseSystemName}",
    "dueDate": "a task's due date is aspectData.task.dueDateTime",
    "participants": "add participants with POST /api/v2/public/workItem/{id}/participants",
    "parentSharedoId": "a work item's parent is set when it is created",
}


def refuse_unknown(f: Fields, takes: tuple[str, ...], route: str) -> None:
    """Record an error on `f` for each member not in `takes` (keys compare case-insensitively, as they bind)."""
    known = {name.lower() for name in takes}
    for name in f.names():
        if name.lower() not in known:
            hint = HINTS.get(name) or next((h for k, h in HINTS.items() if k.lower() == name.lower()), None)
            message = f"{route} does not take {name!r}; it takes {', '.join(takes)}"
            f.error(name, f"{message} ({hint})" if hint else message)


def refuse_changed_read_only(wi: Fields, current: dict[str, Any], route: str) -> None:
    """Read-only `workItem` members sent back are fine unchanged; a different value would be dropped: refused."""
    for name in READ_ONLY_WORKITEM_MEMBERS:
        if not wi.has(name):
            continue
        sent, now = wi.raw(name), current.get(name)
        if sent is None or _same(sent, now):
            continue
        hint = HINTS.get(name)
        message = f"is read-only on {route} (it is {now!r}, {sent!r} was sent)"
        wi.error(name, f"{message}; {hint}" if hint else message)


def _same(sent: Any, now: Any) -> bool:
    if isinstance(now, bool) or isinstance(sent, bool):
        return sent is now
    return str(sent).lower() == str(now).lower()
