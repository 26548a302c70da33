"""Work items: a searchable, paged list with a form to create one; one work item with its phase and
the legal transitions as buttons, attributes, participants, key dates, documents, comments,
chronology, the executions it set off and a link to its portal page."""

from __future__ import annotations

from typing import Any

from flask import request

from smartplans.executions.reads import ExecutionReads

from ..workitem_reads import WorkItemReads
from .acting import action, back, call_api, done
from .frame import PAGE_SIZE, PageGroup, emulator, page_number, refuse, render_page

bp = PageGroup("workitems")
MAX_QUERY = 200
MAX_ODS_CHOICES = 500  # people and organisations offered as participants on the create form
PARTICIPANT_ROWS = 3
DEFAULT_ROLES = ("client", "fee-earner", "primary-owner")  # what the create form suggests, when a type has them
CHRONOLOGY_ROWS = 50
TYPICAL_OF = 1000  # the newest top-level work items the create form's default type is judged by


def _creatable(em: Any) -> list[Any]:
    types = em.solution.worktypes
    return sorted(
        (t for t in types if not t.is_abstract and t.is_active and types.start_phase(t.system_name) is not None),
        key=lambda t: types.path(t.system_name),
    )


def _default_type(em: Any, creatable: list[Any], type_filter: str) -> str | None:
    """What the create form offers first: the type the list is filtered by, else the creatable type most
    of the newest top-level work items have (a law firm's matters, not the alphabet's first, Invoice),
    else the first creatable type. Read from the data, so a solution of other work reads right too."""
    names = [t.system_name for t in creatable]
    if type_filter in names:
        return type_filter
    for type_name in em.workitems.commonest_top_level_types(TYPICAL_OF):
        if type_name in names:
            return type_name
    return names[0] if names else None


def _ods_choices(em: Any) -> list[dict[str, str]]:
    return sorted(em.ods.choices(MAX_ODS_CHOICES), key=lambda o: (o["kind"], o["name"].lower()))


def _roles(em: Any) -> list[str]:
    names: set[str] = set()
    for t in em.solution.worktypes:
        names |= set(em.solution.worktypes.roles(t.system_name))
    return sorted(names)


@bp.page("/workitems", nav="Work items", order=10)
def work_items():
    em = emulator()
    page = page_number()
    query = (request.args.get("q") or "").strip()
    type_filter = request.args.get("type") or ""
    if page is None:
        return refuse(400, "page must be a whole number from 1")
    if len(query) > MAX_QUERY:
        return refuse(400, f"q is longer than {MAX_QUERY} characters")
    if type_filter and type_filter not in em.solution.worktypes:
        return refuse(400, f"type: no work type {type_filter[:80]!r} in this solution")
    result = WorkItemReads(em.store).page(page, PAGE_SIZE, text=query, type_name=type_filter)
    types = em.solution.worktypes
    rows = []
    for r in result.rows:
        phase = types.phase(r["type"], r["phase"])
        rows.append({**dict(r), "phase_name": phase.name if phase else r["phase"]})
    ods = _ods_choices(em)
    roles = _roles(em)
    suggested = [r for r in DEFAULT_ROLES if r in roles]
    creatable = _creatable(em)
    return render_page(
        "workitems.html",
        "Work items",
        rows=rows,
        result=result,
        query=query,
        type_filter=type_filter,
        all_types=sorted(types, key=lambda t: types.path(t.system_name)),
        creatable=creatable,
        default_type=_default_type(em, creatable, type_filter),
        ods=ods,
        roles=roles,
        participant_rows=[suggested[i] if i < len(suggested) else "" for i in range(PARTICIPANT_ROWS)],
    )


@bp.post("/workitems")
@action
def create():
    form = request.form
    participants = []
    for i in range(PARTICIPANT_ROWS):
        role, ods_id = form.get(f"role{i}", "").strip(), form.get(f"ods{i}", "").strip()
        if role and ods_id:
            participants.append({"roleSystemName": role, "odsId": ods_id})
    body: dict[str, Any] = {
        "workItem": {"sharedoTypeSystemName": form.get("type", ""), "title": form.get("title", "")},
        "participants": participants,
    }
    answer = call_api("POST", "/api/v1/public/workItem", body)
    if not answer.ok:
        return done(answer, "", back("/workitems"))
    item = answer.body["workItem"]
    return done(answer, f"created {item['reference'] or item['id']}: {item['title']}", f"/workitems/{item['id']}")


@bp.page("/workitems/<item_id>")
def work_item(item_id: str):
    em = emulator()
    item = em.workitems.find(item_id)
    if item is None:
        return refuse(404, f"no work item {item_id[:80]!r}; the list is at /workitems")
    types = em.solution.worktypes
    with em.store.read():  # its runs, parent and children read in one breath
        executions = ExecutionReads(em.store).of_work_item(item.id, 100)
        parent = em.workitems.find(item.parent_id) if item.parent_id else None
        children = WorkItemReads(em.store).children(item.id, 100)
    wt = types.get(item.type)
    documents = em.documents.related(item.id)
    return render_page(
        "workitem.html",
        f"{item.reference or ''} {item.title}".strip(),
        item=item,
        work_type=wt,
        type_path=types.path(item.type) if wt else item.type,
        phase=em.workitems.phase_info(item),
        attributes=em.workitems.attributes(item.id),
        participants=em.workitems.participants(item.id),
        key_dates=item.body.get("keyDates", {}),
        documents=documents,
        # A signed link each, as `document/{id}/url` gives them: a click downloads without a token.
        document_links={d["id"]: em.documents.link(d["id"], request.host_url)["url"] for d in documents},
        comments=em.workitems.comments(item.id, 1, 100),
        chronology=em.workitems.chronology(item.id, 1, CHRONOLOGY_ROWS, False),
        executions=executions,
        settling=_settling(em, executions),
        parent=parent,
        children=children,
    )


def _settling(em: Any, executions: list[Any]) -> bool:
    """Whether plans are still catching up (under `serve` a worker runs them after the request): the page
    then refreshes itself until they have, so a person sees the run start and end without reloading."""
    return em.dispatcher.cursor < em.stream.last_number() or any(e["state"] == "RUNNING" for e in executions)


@bp.post("/workitems/<item_id>/phase")
@action
def move(item_id: str):
    item = emulator().workitems.find(item_id)
    if item is None:
        return refuse(404, f"no work item {item_id[:80]!r}")
    body = {"toPhaseSystemName": request.form.get("to", "")}
    if request.form.get("reason"):
        body["reasonText"] = request.form["reason"]
    answer = call_api("PUT", f"/api/v1/public/workItem/{item.id}/phase", body)
    name = answer.body.get("name") if answer.ok and isinstance(answer.body, dict) else None
    return done(answer, f"moved to {name}", f"/workitems/{item.id}")


@bp.post("/workitems/<item_id>/comments")
@action
def comment(item_id: str):
    item = emulator().workitems.find(item_id)
    if item is None:
        return refuse(404, f"no work item {item_id[:80]!r}")
    answer = call_api("POST", f"/api/v1/public/workItem/{item.id}/comments", {"comment": request.form.get("comment")})
    return done(answer, "comment added", f"/workitems/{item.id}#comments")
