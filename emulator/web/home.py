"""`/`: what is loaded (solution, work types, plans, triggers, linked services, widgets), the load
problems that did not stop the emulator, the clock and a link to every page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartplans.executions.reads import ExecutionReads
from widgets.manifests import scan
from widgets.page_boot import solution_portals

from ..workitem_reads import WorkItemReads
from .frame import PageGroup, render_page

if TYPE_CHECKING:  # built with its parts by emulator/web/__init__.py's init_app
    from smartplans.executions import SmartPlans

    from ..kernel.events import EventStream
    from ..kernel.store import Store
    from ..linked_services import LinkedServices, ProxyLog
    from ..solution.loading import Solution


def pages(
    solution: Solution,
    demo: bool,
    store: Store,
    stream: EventStream,
    smartplans: SmartPlans,
    linked_services: LinkedServices,
    proxy_log: ProxyLog,
) -> PageGroup:
    """The home page over what is loaded: `solution` (`demo`: the shipped demo was asked for), `smartplans` and
    `linked_services`; and the counts of work items and executions (`store`), events (`stream`) and proxied PMS
    calls (`proxy_log`)."""
    bp = PageGroup("home")

    @bp.page("/", nav="Home", order=0)
    def home():
        widget_manifests = scan(solution.ide_root)
        _, portal_errors = solution_portals(solution)
        with store.read():  # the four counts read in one breath
            counts = {
                "work items": WorkItemReads(store).count(),
                "events": stream.last_number(),
                "plan executions": ExecutionReads(store).count(),
                "proxied PMS calls": proxy_log.last_number(),
            }
        return render_page(
            "home.html",
            "Home",
            solution=solution,
            where=_where(solution, demo),
            worktypes=sorted(solution.worktypes, key=lambda t: solution.worktypes.path(t.system_name)),
            type_path=solution.worktypes.path,
            plans=sorted(smartplans.plans.values(), key=lambda p: p.system_name),
            triggers=smartplans.triggers,
            services=sorted(linked_services.services.values(), key=lambda s: s.name),
            fakes=linked_services.fakes,
            widgets=sorted(widget_manifests.widgets(), key=lambda m: (m.builtin, m.title.lower())),
            problems=[*smartplans.problems, *widget_manifests.errors, *portal_errors],
            counts=counts,
        )

    return bp


def _where(solution: Solution, demo: bool) -> str:
    """The solution folder as a person reads it: the shipped demo by name, else relative to here when inside."""
    from pathlib import Path

    from ..solution.loading import demo_solution_path

    root = Path(solution.root)
    if demo or root.resolve() == Path(demo_solution_path()).resolve():
        return "the demo solution shipped with operate-toolkit"
    try:
        return str(root.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(root)
