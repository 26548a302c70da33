"""Plans and triggers: each with the file it came from and its source, line by line (errors on the
executions pages link to a line here); a visual workflow also as its steps, actions and outlets."""

from __future__ import annotations

from typing import Any

from smartplans.plans import PlanError, outline

from .frame import PageGroup, emulator, refuse, render_page

bp = PageGroup("plans")


def _triggers_by_plan(em: Any) -> dict[str, list[Any]]:
    docs = {str(path): doc for path, doc in em.solution.triggers}
    out: dict[str, list[Any]] = {}
    for trigger in em.smartplans.triggers:
        out.setdefault(trigger.plan, []).append({"trigger": trigger, "doc": docs.get(trigger.source)})
    return out


@bp.page("/plans", nav="Plans", order=40)
def plans():
    em = emulator()
    by_plan = _triggers_by_plan(em)
    return render_page(
        "plans.html",
        "Plans and triggers",
        plans=sorted(em.smartplans.plans.values(), key=lambda p: p.system_name),
        by_plan=by_plan,
        orphans=[
            t
            for name, ts in by_plan.items()
            if name not in em.smartplans.plans and name not in em.smartplans.broken
            for t in ts
        ],
        broken=sorted(em.smartplans.broken.values(), key=lambda b: b.system_name),
        trigger_problems=em.smartplans.trigger_problems,
    )


@bp.page("/plans/<name>")
def plan(name: str):
    em = emulator()
    found = em.smartplans.plans.get(name)
    if found is None and name in em.smartplans.broken:
        return refuse(409, f"workflow {name!r} is broken and does not run: {em.smartplans.broken[name].reason}")
    if found is None:
        known = ", ".join(sorted(em.smartplans.plans)) or "none"
        return refuse(404, f"no plan {name[:80]!r}; the solution has: {known}")
    steps, problem = [], None
    if found.plan_type == "visualWorkflow":
        doc = em.solution.workflows.get(name)
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
        triggers=_triggers_by_plan(em).get(name, []),
    )
