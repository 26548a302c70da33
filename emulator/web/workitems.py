"""Work items: a searchable, paged list with a form to create one; one work item with its phase and
the legal transitions as buttons, attributes, participants, key dates, documents, comments,
chronology, the executions it set off and a link to its portal page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import request

from smartplans.executions.reads import ExecutionReads

from ..workitem_reads import WorkItemReads
from .acting import action, back, call_api, done
from .frame import PAGE_SIZE, PageGroup, Refused, refuse, render_page, requested_page

if TYPE_CHECKING:  # built with its parts by emulator/web/__init__.py's init_app
    from ..documents import Documents
    from ..kernel.events import EventDispatcher, EventStream
    from ..kernel.store import Store
    from ..ods import Ods
    from ..solution.worktypes import WorkTypes
    from ..workitems import WorkItem, WorkItems

MAX_QUERY = 200
MAX_ODS_CHOICES = 500  # people and organisations offered as participants on the create form
PARTICIPANT_ROWS = 3
DEFAULT_ROLES = ("client", "fee-earner", "primary-owner")  # what the create form suggests, when a type has them
CHRONOLOGY_ROWS = 50
TYPICAL_OF = 1000  # the newest top-level work items the create form's default type is judged by


def _creatable(types: WorkTypes) -> list[Any]:
    return sorted(
        (t for t in types if not t.is_abstract and t.is_active and types.start_phase(t.system_name) is not None),
        key=lambda t: types.path(t.system_name),
    )


def _default_type(workitems: WorkItems, creatable: list[Any], type_filter: str) -> str | None:
    """What the create form offers first: the type the list is filtered by, else the creatable type most
    of the newest top-level work items have (a law firm's matters, not the alphabet's first, Invoice),
    else the first creatable type. Read from the data, so a solution of other work reads right too."""
    names = [t.system_name for t in creatable]
    if type_filter in names:
        return type_filter
    for type_name in workitems.commonest_top_level_types(TYPICAL_OF):
        if type_name in names:
            return type_name
    return names[0] if names else None


def _ods_choices(ods: Ods) -> list[dict[str, str]]:
    return sorted(ods.choices(MAX_ODS_CHOICES), key=lambda o: (o["kind"], o["name"].lower()))


def _roles(types: WorkTypes) -> list[str]:
    names: set[str] = set()
    for t in types:
        names |= set(types.roles(t.system_name))
    return sorted(names)


def pages(
    types: WorkTypes,
    workitems: WorkItems,
    store: Store,
    ods: Ods,
    documents: Documents,
    dispatcher: EventDispatcher,
    stream: EventStream,
) -> PageGroup:
    """The work-item pages over the solution's work `types`, `workitems`, `store` (the lists, read through
    WorkItemReads and ExecutionReads), `ods` (the participants the create form offers), `documents`, and
    `dispatcher` and `stream` (whether plans are still catching up with the events)."""
    bp = PageGroup("workitems")

    def acted_on(item_id: str) -> WorkItem:
        """The work item a form acts on; a 404 refusal page when there is none."""
        item = workitems.find(item_id)
        if item is None:
            raise Refused(404, f"no work item {item_id[:80]!r}")
        return item

    def settling(executions: list[Any]) -> bool:
        """Whether plans are still catching up (under `serve` a worker runs them after the request): the page
        then refreshes itself until they have, so a person sees the run start and end without reloading."""
        return dispatcher.cursor < stream.last_number() or any(e["state"] == "RUNNING" for e in executions)

    @bp.page("/workitems", nav="Work items", order=10)
    def work_items():
        page = requested_page()
        query = (request.args.get("q") or "").strip()
        type_filter = request.args.get("type") or ""
        if len(query) > MAX_QUERY:
            return refuse(400, f"q is longer than {MAX_QUERY} characters")
        if type_filter and type_filter not in types:
            return refuse(400, f"type: no work type {type_filter[:80]!r} in this solution")
        result = WorkItemReads(store).page(page, PAGE_SIZE, text=query, type_name=type_filter)
        rows = []
        for r in result.rows:
            phase = types.phase(r["type"], r["phase"])
            rows.append({**dict(r), "phase_name": phase.name if phase else r["phase"]})
        choices = _ods_choices(ods)
        roles = _roles(types)
        suggested = [r for r in DEFAULT_ROLES if r in roles]
        creatable = _creatable(types)
        return render_page(
            "workitems.html",
            "Work items",
            rows=rows,
            result=result,
            query=query,
            type_filter=type_filter,
            all_types=sorted(types, key=lambda t: types.path(t.system_name)),
            creatable=creatable,
            default_type=_default_type(workitems, creatable, type_filter),
            ods=choices,
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
        item = workitems.find(item_id)
        if item is None:
            return refuse(404, f"no work item {item_id[:80]!r}; the list is at /workitems")
        with store.read():  # its runs, parent and children read in one breath
            executions = ExecutionReads(store).of_work_item(item.id, 100)
            parent = workitems.find(item.parent_id) if item.parent_id else None
            children = WorkItemReads(store).children(item.id, 100)
        wt = types.get(item.type)
        related = documents.related(item.id)
        return render_page(
            "workitem.html",
            f"{item.reference or ''} {item.title}".strip(),
            item=item,
            work_type=wt,
            type_path=types.path(item.type) if wt else item.type,
            phase=workitems.phase_info(item),
            attributes=workitems.attributes(item.id),
            participants=workitems.participants(item.id),
            key_dates=item.body.get("keyDates", {}),
            documents=related,
            # A signed link each, as `document/{id}/url` gives them: a click downloads without a token.
            document_links={d["id"]: documents.link(d["id"], request.host_url)["url"] for d in related},
            comments=workitems.comments(item.id, 1, 100),
            chronology=workitems.chronology(item.id, 1, CHRONOLOGY_ROWS, False),
            executions=executions,
            settling=settling(executions),
            parent=parent,
            children=children,
        )

    @bp.post("/workitems/<item_id>/phase")
    @action
    def move(item_id: str):
        item = acted_on(item_id)
        body = {"toPhaseSystemName": request.form.get("to", "")}
        if request.form.get("reason"):
            body["reasonText"] = request.form["reason"]
        answer = call_api("PUT", f"/api/v1/public/workItem/{item.id}/phase", body)
        name = answer.body.get("name") if answer.ok and isinstance(answer.body, dict) else None
        return done(answer, f"moved to {name}", f"/workitems/{item.id}")

    @bp.post("/workitems/<item_id>/comments")
    @action
    def comment(item_id: str):
        item = acted_on(item_id)
        answer = call_api(
            "POST", f"/api/v1/public/workItem/{item.id}/comments", {"comment": request.form.get("comment")}
        )
        return done(answer, "comment added", f"/workitems/{item.id}#comments")

    return bp
