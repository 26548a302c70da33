"""Plans and triggers: each with the file it came from and its source, line by line (errors on the
executions pages link to a line here); a visual workflow also as its steps, actions and outlets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smartplans.plans import PlanError, outline

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
        )

    return bp
