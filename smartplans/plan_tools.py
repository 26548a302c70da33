"""The implementor's tools over stored executions, as the emulator's API serves them (emulator/api/plan_tools.py):
an execution as a replay test, a step's ctx call by call, a step rerun with edited input. The composition root
builds one over the engine, the store and the clock and hands it to the API, which imports nothing of SmartPlans.
Each method raises a PlanToolError (smartplans/replay.py) whose `status` is the HTTP answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .recordings import file_name, recording_of, to_yaml
from .reruns import rerun_step, step_snapshots


@dataclass(frozen=True)
class SavedTest:
    text: str  # the scenario file, YAML with its header
    path: str  # where it goes in the solution: tests/recorded/<plan>-<id>.scenario.yaml
    name: str


class PlanTools:
    def __init__(self, smartplans: Any, store: Any, clock: Any) -> None:
        self.smartplans, self.store, self.clock = smartplans, store, clock

    def recording(self, execution_id: str) -> SavedTest:
        doc = recording_of(self.store, execution_id)
        return SavedTest(to_yaml(doc, self.clock.now()), file_name(doc), doc["name"])

    def snapshots(self, execution_id: str, step_id: str) -> dict[str, Any]:
        return step_snapshots(self.smartplans, self.store, execution_id, step_id)

    def rerun(self, execution_id: str, step_id: str, *, ctx: Any = None, ev: Any = None) -> dict[str, Any]:
        """The new execution (as the execution engine's API shows one) and the step's two runs side by side."""
        done = rerun_step(self.smartplans, self.store, execution_id, step_id, ctx=ctx, ev=ev)
        return {
            "execution": self.smartplans.execution(done.execution_id),
            "original": done.original,
            "rerun": done.rerun,
        }
