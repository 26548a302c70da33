"""Starting: what the solution's triggers start for each event, plan runs asked for directly, and the
executions a timer, a phase change or a restart wakes again."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emulator.kernel.clock import iso
from emulator.kernel.events import Event

from ..plans import Plan
from ..triggers import Trigger, evaluate_field
from .records import Attempt, ExecutionRecords
from .stepping import Stepper

log = logging.getLogger("operate.smartplans")


class Starter:
    """Triggers → executions: each started one is handed to the stepper to run."""

    def __init__(
        self,
        *,
        records: ExecutionRecords,
        stepper: Stepper,
        store: Any,
        clock: Any,
        solution: Any,
        event_types: dict[str, Any],
        plans: Mapping[str, Plan],
        triggers: list[Trigger],
    ) -> None:
        """`plans` and `triggers` are the engine's live map and list (a plan added later starts too)."""
        self.records = records
        self.stepper = stepper
        self.store = store
        self.clock = clock
        self.solution = solution
        self.event_types = event_types
        self.plans = plans
        self.triggers = triggers

    def on_event(self, event: Event) -> None:
        """Start what the event triggers; the executions it starts take turns (under serve, with the
        executions of the events after it too: the dispatcher does not wait for them)."""
        ev = {**event.to_json(), "Data": event.data}
        with self.stepper.queue.holding():
            for trigger in self.triggers:
                if trigger.matches(event, self.solution.worktypes, self.event_types) and not self.records.started(
                    trigger.id, event.number
                ):
                    inputs = {k: evaluate_field(expr, ev) for k, expr in trigger.data_fields.items()}
                    try:
                        self.start(
                            trigger.plan, trigger.step, ev, inputs, trigger_id=trigger.id, event_number=event.number
                        )
                    except Exception:  # one broken start must not keep the event from the other triggers
                        log.exception("starting %s for event %s failed", trigger.plan, event.number)
            self._resume_runtime_triggers(event)

    def start(
        self,
        plan_name: str,
        step: str = "main",
        ev: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        *,
        trigger_id: str | None = None,
        event_number: int | None = None,
        rerun_of: tuple[str, str] | None = None,
    ) -> str:
        """Create an execution and run it until it stops, waits or errors; returns its id (at once inside
        `queue.holding()`, as when an event starts it). `rerun_of` (execution, step): a rerun of that step, whose
        `inputs` are the whole ctx it starts with (no variable defaults added)."""
        ev = dict(ev or {"Data": {}})
        execution_id = str(uuid.uuid4())
        ev["PlanExecutionId"] = execution_id
        plan = self.plans.get(plan_name)
        ctx = {
            v.get("SystemName"): v.get("DefaultValue")
            for v in (plan.variables if plan and rerun_of is None else [])
            if v.get("SystemName") and v.get("DefaultValue") is not None
        }
        ctx.update(inputs or {})
        now = iso(self.clock.now())
        step_id = self.records.create(
            execution_id,
            plan_name,
            plan,
            ev,
            ctx,
            step,
            now,
            trigger_id=trigger_id,
            event_number=event_number,
            rerun_of=rerun_of,
        )
        # The first step starts in the same transaction that created the execution: no re-read.
        first = Attempt(execution_id, plan_name, ev, ctx, step_id, step, [], now)
        self.stepper.drive(execution_id, first)
        return execution_id

    # -- waking ---------------------------------------------------------------------------------
    def on_timer(self, payload: dict[str, Any], due: datetime) -> None:
        if self.records.wake(payload["stepId"]):
            self.store.after_this_commit(lambda: self.stepper.drive(payload["executionId"], wait=False))

    def _resume_runtime_triggers(self, event: Event) -> None:
        if event.event_type != "sharedo-phase-changed":
            return
        sharedo_id = str(event.data.get("sharedoId", "")).lower()
        for execution_id in self.records.take_phase_triggers(sharedo_id, event.data.get("toPhase")):
            self.stepper.drive(execution_id, wait=False)

    def resume(self) -> None:
        """After a restart: steps left RUNNING or QUEUED run again (recorded calls are not re-sent)."""
        ids = self.records.interrupted()
        with self.stepper.queue.holding():  # they take turns
            for execution_id in ids:
                self.stepper.drive(execution_id, wait=False)
