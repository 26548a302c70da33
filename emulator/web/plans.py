"""Plans and triggers: each with the file it came from and its source, line by line (errors on the
executions pages link to a line here), marked with its coverage when there is any; a visual workflow also as its
steps, actions and outlets."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from smartplans.coverage.attribution import line_marks, relative
from smartplans.coverage.data import RUN_FILE, RUN_FOLDER, last_run, percent
from smartplans.plans import Plan, PlanError, outline

from .frame import PageGroup, refuse, render_page

if TYPE_CHECKING:  # built with its parts by emulator/web/__init__.py's init_app
    from smartplans.executions import SmartPlans

    from ..solution.loading import Solution


def _triggers_by_plan(solution: Solution, smartplans: SmartPlans) -> dict[str, list[Any]]:
    docs = {str(path): doc for path, doc in solution.triggers}
    out: dict[str, list[Any]] = {}
    for trigger in smartplans.triggers:
        out.setdefault(trigger.plan, []).append({"trigger": trigger, "doc": docs.get(trigger.source)})
    return out


def _coverage(plan: Plan, smartplans: SmartPlans, solution: Solution) -> dict[str, Any] | None:
    """The plan's line marks from live executions (`operate serve --coverage`), else from the solution's last
    coverage run (`operate test --coverage` writes coverage/operate-coverage.json); None when neither has it."""
    live = smartplans.covered()
    if live is not None:
        data, origin = live, "live: the executions of this emulator since it started (operate serve --coverage)"
    else:
        found = last_run(solution.root)
        if found is None:
            return None
        data = found[0]
        written = datetime.fromtimestamp(found[1], timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        origin = f"the last coverage run ({RUN_FOLDER}/{RUN_FILE}, written {written})"
    marks = line_marks(plan, solution.root, data)
    where = relative(plan.path, solution.root)
    flow = data.workflows.get(where) if where else None
    if not marks and flow is None:
        return None
    hit = sum(1 for m in marks.values() if m.hits)
    arms = sum(m.arms for m in marks.values())
    missed = sum(m.missed_arms for m in marks.values())
    return {
        "origin": origin,
        "marks": marks,
        "lines": f"{percent(hit, len(marks)):.1f}%",
        "branches": f"{percent(arms - missed, arms):.1f}%",
        "workflow": flow,
    }


def pages(smartplans: SmartPlans, solution: Solution) -> PageGroup:
    """The plans pages over `smartplans` (the loaded plans and triggers) and `solution` (their files)."""
    bp = PageGroup("plans")

    @bp.page("/plans", nav="Plans", order=40)
    def plans():
        by_plan = _triggers_by_plan(solution, smartplans)
        return render_page(
            "plans.html",
            "Plans and triggers",
            plans=sorted(smartplans.plans.values(), key=lambda p: p.system_name),
            by_plan=by_plan,
            orphans=[
                t
                for name, ts in by_plan.items()
                if name not in smartplans.plans and name not in smartplans.broken
                for t in ts
            ],
            broken=sorted(smartplans.broken.values(), key=lambda b: b.system_name),
            trigger_problems=smartplans.trigger_problems,
        )

    @bp.page("/plans/<name>")
    def plan(name: str):
        found = smartplans.plans.get(name)
        if found is None and name in smartplans.broken:
            return refuse(409, f"workflow {name!r} is broken and does not run: {smartplans.broken[name].reason}")
        if found is None:
            known = ", ".join(sorted(smartplans.plans)) or "none"
            return refuse(404, f"no plan {name[:80]!r}; the solution has: {known}")
        steps, problem = [], None
        if found.plan_type == "visualWorkflow":
            doc = solution.workflows.get(name)
            try:
                steps = outline(doc, found.where or name) if isinstance(doc, dict) else []
            except PlanError as exc:
                problem = str(exc)
        return render_page(
            "plan.html",
            name,
            plan=found,
            lines=found.source.splitlines(),
            steps=steps,
            problem=problem,
            triggers=_triggers_by_plan(solution, smartplans).get(name, []),
            coverage=_coverage(found, smartplans, solution),
        )

    return bp
