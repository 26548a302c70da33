"""`/`: what is loaded (solution, work types, plans, triggers, linked services, widgets), the load
problems that did not stop the emulator, the clock and a link to every page."""

from __future__ import annotations

from smartplans.executions.reads import ExecutionReads
from widgets.manifests import scan
from widgets.page_boot import portals

from ..workitem_reads import WorkItemReads
from .frame import PageGroup, emulator, render_page

bp = PageGroup("home")


@bp.page("/", nav="Home", order=0)
def home():
    em = emulator()
    widget_manifests = scan(em.solution.ide_root)
    _, portal_errors = portals(em)
    with em.store.read():  # the four counts read in one breath
        counts = {
            "work items": WorkItemReads(em.store).count(),
            "events": em.stream.last_number(),
            "plan executions": ExecutionReads(em.store).count(),
            "proxied PMS calls": em.proxy_log.last_number(),
        }
    return render_page(
        "home.html",
        "Home",
        solution=em.solution,
        where=_where(em),
        worktypes=sorted(em.solution.worktypes, key=lambda t: em.solution.worktypes.path(t.system_name)),
        type_path=em.solution.worktypes.path,
        plans=sorted(em.smartplans.plans.values(), key=lambda p: p.system_name),
        triggers=em.smartplans.triggers,
        services=sorted(em.linked_services.services.values(), key=lambda s: s.name),
        fakes=em.linked_services.fakes,
        widgets=sorted(widget_manifests.widgets(), key=lambda m: (m.builtin, m.title.lower())),
        problems=[*em.smartplans.problems, *widget_manifests.errors, *portal_errors],
        counts=counts,
    )


def _where(em) -> str:
    """The solution folder as a person reads it: the shipped demo by name, else relative to here when inside."""
    from pathlib import Path

    from ..solution.loading import demo_solution_path

    root = Path(em.solution.root)
    if em.settings.demo or root.resolve() == Path(demo_solution_path()).resolve():
        return "the demo solution shipped with operate-toolkit"
    try:
        return str(root.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(root)
