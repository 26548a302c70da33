"""Plan executions: started by triggers, run step by step in V8, with logs, timers, retry and cancel.

`SmartPlans` is the engine the rest of the product uses: it holds the solution's plans and triggers and
composes three parts, each in its own module —
- `starting`: triggers → executions (an event, a direct start, a timer, a phase change, a restart);
- `stepping`: one step run in V8 by deterministic replay, its host calls made once each (DESIGN decision 2);
- `records`: the rows of executions, steps, host calls and log lines, and the reads of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from emulator.kernel.events import Event
from emulator.solution.loading import SolutionError

from ..coverage.data import CoverageData
from ..coverage.recorder import PlanCoverage
from ..mocks import Mocks
from ..plans import BrokenPlan, Plan, PlanError, changed, outline, reload_visual, script_plan, solution_plans
from ..run_queue import DEFAULT_HOST_CALLS_IN_FLIGHT, RunQueue
from ..runtime import (
    DEFAULT_CPU_SECONDS,
    DEFAULT_CTX_KB,
    DEFAULT_HEAP_MB,
    DEFAULT_LOG_LINES,
    DEFAULT_TEXT_KB,
    Limits,
    PlanLoadError,
    Runtime,
)
from ..triggers import Trigger, TriggerError, parse_trigger
from .host_calls import HostCall, HostCalls
from .records import ERRORED, RUNNING, STOPPED, TIMER_KIND, WAITING, Attempt, ExecutionRecords
from .starting import Starter
from .stepping import Stepper

__all__ = ["ERRORED", "RUNNING", "STOPPED", "TIMER_KIND", "WAITING", "HostCall", "HostCalls", "SmartPlans"]

DEFAULT_STEPS_PER_EXECUTION = 1_000  # [limits] steps_per_execution: a plan that schedules itself forever stops here


class SmartPlans:
    """The execution engine for one emulator: triggers → executions → steps in V8."""

    def __init__(
        self,
        *,
        store: Any,
        clock: Any,
        solution: Any,
        event_types: dict[str, Any],
        scheduler: Any,
        workitems: Any,
        host_calls: HostCalls,
        coverage: bool = False,
    ) -> None:
        """The parts it works with are handed in (Emulator composes them); Emulator subscribes `on_event`
        to the dispatcher and `on_timer` to the scheduler. `host_calls` is where sharedo.http goes: the app
        is built after the engine (it serves the engine's executions), so Emulator.attach attaches it there."""
        self.store = store
        self.clock = clock
        self.solution = solution
        self.event_types = event_types
        self.scheduler = scheduler
        self.workitems = workitems
        self.host_calls = host_calls
        # Coverage (`operate test --coverage`): plans are instrumented as they load (smartplans/coverage/).
        self.coverage: PlanCoverage | None = PlanCoverage() if coverage else None
        self.runtime = Runtime(self.coverage)
        self.mocks = Mocks()  # what tests put in front of host calls and steps
        limits = solution.limits()
        in_flight = limits.get("host_calls_in_flight", DEFAULT_HOST_CALLS_IN_FLIGHT)
        if isinstance(in_flight, bool) or not isinstance(in_flight, int) or not 1 <= in_flight <= 1024:
            raise SolutionError("operate.toml [limits] host_calls_in_flight must be a whole number from 1 to 1024")
        self.default_limits = _default_limits(limits)
        self.max_steps = limits.get("steps_per_execution", DEFAULT_STEPS_PER_EXECUTION)
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1:
            raise SolutionError("operate.toml [limits] steps_per_execution must be a whole number of at least 1")
        # One broken workflow, action, template or trigger marks only itself (DESIGN decision 12): the
        # rest loads and runs; what is broken is listed with its reason (home page, plans page, serve's banner)
        # and an execution of a broken plan fails with that reason.
        self.broken: dict[str, BrokenPlan] = {}
        self.trigger_problems: list[str] = list(solution.trigger_problems)
        self.plans: dict[str, Plan] = solution_plans(solution, self.broken)
        self.triggers: list[Trigger] = []
        for path, doc in solution.triggers:
            try:
                self.triggers.append(parse_trigger(doc, str(path)))
            except TriggerError as exc:
                self.trigger_problems.append(str(exc))
        for name, plan in list(self.plans.items()):
            if plan.plan_type == "visualWorkflow":
                try:
                    self._compile(plan)
                except PlanError as exc:
                    del self.plans[name]
                    self.broken[name] = BrokenPlan(name, str(exc), dict(plan.files))
        # The parts share the live `plans` map and `triggers` list: a plan added or reloaded is seen by all.
        self.records = ExecutionRecords(
            store=store,
            clock=clock,
            scheduler=scheduler,
            workitems=workitems,
            plans=self.plans,
            limits=self.default_limits,
        )
        self.stepping = Stepper(
            records=self.records,
            runtime=self.runtime,
            mocks=self.mocks,
            plans=self.plans,
            load_plan=self._plan,
            limits=self.default_limits,
            max_steps=self.max_steps,
            host_calls_in_flight=in_flight,
            host_calls=host_calls,
        )
        self.starting = Starter(
            records=self.records,
            stepper=self.stepping,
            store=store,
            clock=clock,
            solution=solution,
            event_types=event_types,
            plans=self.plans,
            triggers=self.triggers,
        )
        self.queue: RunQueue = self.stepping.queue
        # start(plan, step, ev, inputs, ...): create an execution and run it (Starter.start, its signature and docs).
        self.start = self.starting.start
        self.on_ended: list[Callable[[dict[str, Any]], None]] = self.stepping.on_ended  # told of each that ends

    @property
    def problems(self) -> list[str]:
        """What did not load, each with its reason: broken plans, then unusable triggers."""
        out = [f"workflow {b.system_name!r} is broken and does not run: {b.reason}" for b in self.broken.values()]
        return out + [f"trigger not loaded: {problem}" for problem in self.trigger_problems]

    def _compile(self, plan: Plan) -> None:
        """Compile a visual workflow when the solution loads, as the platform does on publish, so a template
        whose generated code does not compile is reported at its template's line before anything runs."""
        try:
            self._load(plan)
        except PlanLoadError as exc:
            text = str(exc)
            located = plan.locate_in(text)
            if located:
                reason = text.split(": ", 1)[1] if text.startswith(plan.url + ":") else text
                verb = "does not compile" if "SyntaxError" in reason else "failed while the plan loaded"
                text = f"{plan.where or plan.url}: {located}: the generated code {verb}: {reason}"
            raise PlanError(text) from None

    def _load(self, plan: Plan) -> None:
        if self.coverage is not None:  # its lines are reported as its files' lines, a workflow's steps as steps
            doc = self.solution.workflows.get(plan.system_name) if plan.plan_type == "visualWorkflow" else None
            shape = outline(doc, plan.where or plan.system_name) if isinstance(doc, dict) else None
            self.coverage.note_plan(plan, self.solution.root, shape)
        self.runtime.load(plan.key, plan.source, plan.url)

    def covered(self) -> CoverageData | None:
        """What the plans run so far covered, by source file; None when coverage is off."""
        return self.coverage.covered() if self.coverage is not None else None

    # -- plans ----------------------------------------------------------------------------------
    def add_plan(self, plan: Plan) -> None:
        """Register (or replace) a plan, e.g. one `operate run` was pointed at."""
        if plan.plan_type == "visualWorkflow":
            self._compile(plan)
        self.plans[plan.system_name] = plan

    def add_trigger(self, trigger: Trigger) -> None:
        self.triggers.append(trigger)

    def _plan(self, name: str) -> Plan:
        """A plan ready to run (the stepper's `load_plan`): a broken one retried, one edited on disk
        reloaded, each loaded into V8."""
        plan = self.plans.get(name)
        if plan is None and name in self.broken:
            plan = self._retry_broken(name)
        if plan is None:
            raise PlanError(f"no plan {name!r}; the solution has {sorted(self.plans)}")
        if changed(plan):  # edited on disk: reload, keep timers
            if plan.plan_type == "script":
                plan = script_plan(plan.system_name, plan.path, plan.limits, plan.where)  # type: ignore[arg-type]
            else:
                plan = reload_visual(plan, self.solution.ide_root)
                self._compile(plan)
            self.plans[name] = plan
        if not self.runtime.is_loaded(plan.key):
            self._load(plan)
        return plan

    def loaded(self, name: str) -> Plan:
        """A plan ready to run as the engine would run it now: what a replayed recording runs against."""
        return self._plan(name)

    def _retry_broken(self, name: str) -> Plan:
        """A broken plan whose files were edited since is loaded again; one still broken says why."""
        broken = self.broken[name]
        if broken.changed():
            path = next(iter(broken.files), None)
            try:
                if path is None:
                    raise PlanError(broken.reason)
                if path.suffix.lower() == ".js":
                    plan = script_plan(name, path, self.solution.config.get("plans", {}).get(name))
                else:
                    stub = Plan(
                        name,
                        name,
                        "visualWorkflow",
                        "",
                        "",
                        path=path,
                        limits=self.solution.config.get("plans", {}).get(name) or {},
                    )
                    plan = reload_visual(stub, self.solution.ide_root)
                    self._compile(plan)
            except PlanError as exc:
                self.broken[name] = broken.still(str(exc))
            else:
                del self.broken[name]
                self.plans[name] = plan
                return plan
        raise PlanError(f"workflow {name!r} is broken and did not load: {self.broken[name].reason}")

    def limits_for(self, plan: Plan) -> Limits:
        return self.stepping.limits_for(plan)

    # -- starting -------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Start what the event triggers (see `Starter.on_event`)."""
        self.starting.on_event(event)

    def on_timer(self, payload: dict[str, Any], due: datetime) -> None:
        self.starting.on_timer(payload, due)

    def resume(self) -> None:
        """After a restart: steps left RUNNING or QUEUED run again (recorded calls are not re-sent)."""
        self.starting.resume()

    def drive(self, execution_id: str, first: Attempt | None = None, *, wait: bool = True) -> None:
        """Run the queued steps of an execution in order, taking turns with the others, then settle it."""
        self.stepping.drive(execution_id, first, wait=wait)

    # -- retry and cancel -----------------------------------------------------------------------
    def retry(self, execution_id: str, step_id: str) -> dict[str, Any]:
        """Run an errored step again. Writes that succeeded are replayed from the record, never sent
        again; reads and failed or garbled calls are made afresh."""
        self.records.queue_retry(execution_id, step_id)
        self.drive(execution_id)
        return self.execution(execution_id)

    def cancel(self, execution_id: str) -> dict[str, Any]:
        self.records.cancel(execution_id)
        return self.execution(execution_id)

    # -- reading --------------------------------------------------------------------------------
    def execution(self, execution_id: str) -> dict[str, Any]:
        return self.records.execution(execution_id)

    def executions(
        self, state: str | None = None, sharedo_id: str | None = None, plan: str | None = None
    ) -> list[dict[str, Any]]:
        return self.records.executions(state, sharedo_id, plan)

    def step_log(self, execution_id: str, step_id: str) -> list[dict[str, Any]]:
        return self.records.step_log(execution_id, step_id)

    def start_worker(self) -> None:
        """Serve mode: executions take their turns on a worker of their own."""
        self.queue.start()

    def close(self) -> None:
        self.queue.stop()
        self.runtime.close()
        if self.coverage is not None:
            self.coverage.close()


def _default_limits(limits: dict[str, Any]) -> Limits:
    """The solution's [limits] for every step (a plan's own limits narrow CPU and heap)."""
    sizes = {}
    for key, default in (
        ("log_lines_per_step", DEFAULT_LOG_LINES),
        ("text_kb", DEFAULT_TEXT_KB),
        ("ctx_kb", DEFAULT_CTX_KB),
    ):
        value = limits.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SolutionError(f"operate.toml [limits] {key} must be a whole number of at least 1, not {value!r}")
        sizes[key] = value
    return Limits(
        float(limits.get("cpu_seconds", DEFAULT_CPU_SECONDS)),
        int(limits.get("heap_mb", DEFAULT_HEAP_MB)),
        sizes["log_lines_per_step"],
        sizes["text_kb"],
        sizes["ctx_kb"],
    )
