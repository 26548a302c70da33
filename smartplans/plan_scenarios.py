"""Declarative scenarios (`*.scenario.yaml`), for implementors who do not write Python.

    name: An approved payment reaches the PMS
    given:
      work_items:
        - {id: payment, type: payment-request, title: Searches, parent: 3c000000-..., attributes: {amount: "120.00"}}
    when:
      - move: {work_item: payment, to: payment-request-submitted}
      - move: {work_item: payment, to: payment-request-approved}
    then:
      executions: [{plan: payment-approved, state: STOPPED, logs_include: ["disbursement"]}]
      pms_received: [{method: POST, path: "/api/matters/PMS-260102/disbursements", body: {amount: 120.0}}]

`{{payment}}` in any string is the id of the work item named `payment` in `given`. A failing scenario
names the YAML line of the expectation that failed and shows what happened instead. (The widget gallery's named
data scenarios are another thing: widgets/data_scenarios.py.)
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# `operate` below is smartplans.testing.Operate: testing.py runs scenarios with its harness, and this module
# does not import it back (not even for the type), so the two stay one way round.
Operate = Any


class PlanScenarioError(Exception):
    """A scenario that failed or cannot run; `line` is the YAML line it is about."""

    def __init__(self, message: str, line: int | None, trace: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.trace = trace


class Node(dict):
    """A YAML mapping that remembers the line it started on, and each key's line."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return getattr(self, "key_lines", {}).get(key, self.line)


class Items(list):
    line: int = 0


def _convert(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = Node()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key, value in node.value:
            k = _convert(key)
            out[k] = _convert(value)
            out.key_lines[k] = key.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        items = Items(_convert(v) for v in node.value)
        items.line = node.start_mark.line + 1
        return items
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def load_scenario(path: Path) -> Node:
    try:
        root = yaml.compose(path.read_text("utf-8-sig"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PlanScenarioError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", mark.line + 1 if mark else None
        ) from None
    data = _convert(root) if root is not None else None
    if not isinstance(data, Node):
        raise PlanScenarioError("a scenario is a mapping with given / when / then", 1)
    if "replay" in data:  # an execution saved as a test (smartplans/recordings.py)
        unknown = set(data) - {"name", "description", "replay"}
        if unknown:
            raise PlanScenarioError(
                f"a replay scenario has name, description and replay; not {sorted(unknown)}", data.line
            )
        return data
    unknown = set(data) - {"name", "description", "given", "when", "then"}
    if unknown:
        raise PlanScenarioError(f"unknown section(s) {sorted(unknown)}; use name, given, when, then", data.line)
    return data


def _line(value: Any, default: int | None) -> int | None:
    return getattr(value, "line", None) or default


@dataclass
class Scenario:
    path: Path
    data: Node

    @property
    def name(self) -> str:
        return str(self.data.get("name") or self.path.name.removesuffix(".scenario.yaml"))

    def run(self, operate: Operate, checks: Mapping[str, Callable[[Any, Any, Any], None]] | None = None) -> None:
        """Given, when, then; `checks` are more `then` keys with their checks (scenario_hooks.py: `pages`)."""
        if "replay" in self.data:
            self._replay(operate)
            return
        aliases: dict[str, str] = {}
        runner = _Runner(operate, aliases, checks or {})
        runner.given(self.data.get("given") or Node())
        for step in self.data.get("when") or Items():
            runner.when(step)
        then = self.data.get("then")
        if then is None:
            raise PlanScenarioError(
                "a scenario needs a `then` section saying what should have happened", self.data.line
            )
        runner.then(then)

    def _replay(self, operate: Operate) -> None:
        """Each recorded step against the plan as it is now, its calls answered from the recording."""
        from .recordings import RecordingError, replay_recording, report

        replay = self.data["replay"]
        if not isinstance(replay, dict):
            raise PlanScenarioError("`replay` is a mapping (plan, ev, steps)", _line(replay, self.data.line))
        try:
            diffs = replay_recording(operate.emulator.smartplans, replay)
        except RecordingError as exc:
            raise PlanScenarioError(str(exc), self.data.line_of("replay")) from None
        if diffs:
            raise PlanScenarioError(
                "the plan no longer does what the recorded execution did",
                self.data.line_of("replay"),
                report(diffs, len(replay["steps"])),
            )


class _Runner:
    def __init__(
        self, operate: Operate, aliases: dict[str, str], checks: Mapping[str, Callable[[Any, Any, Any], None]]
    ) -> None:
        self.op = operate
        self.aliases = aliases
        self.checks = checks  # other plugins' `then` keys, checked after THEN_CHECKS

    # -- helpers ------------------------------------------------------------------------------------
    def sub(self, value: Any) -> Any:
        """`{{name}}` in strings becomes the id of the work item called `name` in `given`."""
        if isinstance(value, str):
            return re.sub(r"\{\{\s*([\w-]+)\s*\}\}", lambda m: self.aliases.get(m.group(1), m.group(0)), value)
        if isinstance(value, dict):
            return {k: self.sub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.sub(v) for v in value]
        return value

    def item_id(self, name: Any, line: int | None) -> str:
        if not isinstance(name, str):
            raise PlanScenarioError("work_item must name a work item from `given` or be an id", line)
        return self.aliases.get(name, self.sub(name))

    def fail(self, message: str, line: int | None) -> None:
        raise PlanScenarioError(message, line, self.op.describe())

    # -- given --------------------------------------------------------------------------------------
    def given(self, given: Any) -> None:
        """Make the work items, PMS faults and mocks the scenario starts from, in that order."""
        if not isinstance(given, dict):
            raise PlanScenarioError("`given` is a mapping (work_items, pms_faults, mocks)", _line(given, None))
        unknown = set(given) - {"work_items", "pms_faults", "mocks"}
        if unknown:
            raise PlanScenarioError(f"`given` has unknown key(s) {sorted(unknown)}", _line(given, None))
        for spec in given.get("work_items") or []:
            self._given_work_item(spec, _line(spec, _line(given, None)))
        for fault in given.get("pms_faults") or []:
            self._given_pms_fault(fault, _line(fault, None))
        self._given_mocks(given.get("mocks") or {})

    def _given_work_item(self, spec: Any, line: int | None) -> None:
        """Create one work item (moved through its `phases`), remembering its id under its `id` alias."""
        if not isinstance(spec, dict) or "type" not in spec or "title" not in spec:
            raise PlanScenarioError(
                "each work item needs type and title (and may have id, parent, participants, attributes, phases)",
                line,
            )
        try:
            item = self.op.create_work_item(
                spec["type"],
                self.sub(spec["title"]),
                parent=self.item_id(spec["parent"], line) if spec.get("parent") else None,
                participants=self.sub(spec.get("participants")),
                attributes=self.sub(spec.get("attributes")),
            )
            for phase in spec.get("phases") or []:
                self.op.move(item["id"], phase)
        except AssertionError as exc:
            raise PlanScenarioError(f"given: {exc}", line) from None
        if spec.get("id"):
            self.aliases[str(spec["id"])] = item["id"]

    def _given_pms_fault(self, fault: Any, line: int | None) -> None:
        """Make the demo PMS fail one route the way the scenario says."""
        if self.op.pms is None:
            raise PlanScenarioError("pms_faults needs a demo-pms linked service", line)
        try:
            self.op.pms.add_fault(
                fault["route"],
                fault.get("method", "*"),
                delay=fault.get("delay"),
                status=fault.get("status"),
                malformed=bool(fault.get("malformed")),
                times=fault.get("times"),
            )
        except Exception as exc:
            raise PlanScenarioError(f"pms_faults: {exc}", line) from None

    def _given_mocks(self, mocks: Any) -> None:
        """Answer the plans' host calls and replace plan steps as the scenario's `mocks` say."""
        for mock in mocks.get("host_calls") or []:
            self.op.mock_host_call(
                mock.get("method", "*"),
                self.sub(mock["url"]),
                status=mock.get("status", 200),
                body=self.sub(mock.get("body")),
                never_answers=bool(mock.get("never_answers")),
                times=mock.get("times"),
            )
        for mock in mocks.get("steps") or []:
            self.op.mock_step(mock["plan"], mock["step"], ctx=self.sub(mock.get("ctx")), error=mock.get("error"))

    # -- when ---------------------------------------------------------------------------------------
    def when(self, step: Any) -> None:
        line = _line(step, None)
        if not isinstance(step, dict) or len(step) != 1:
            raise PlanScenarioError("each `when` step is one of: move, api, event, advance, set_attributes", line)
        ((kind, args),) = step.items()
        try:
            if kind == "move":
                self.op.move(self.item_id(args["work_item"], line), args["to"], args.get("reason"))
            elif kind == "set_attributes":
                self.op.set_attributes(self.item_id(args["work_item"], line), self.sub(args["values"]))
            elif kind == "advance":
                self.op.advance(str(args))
            elif kind == "event":
                self.op.raise_event(args["type"], **self.sub(args.get("data") or {}))
            elif kind == "api":
                client = self.op.api(args.get("as"), client=args.get("client", "demo-client"))
                response = client.request(
                    str(args.get("method", "GET")).upper(), self.sub(args["path"]), json=self.sub(args.get("body"))
                )
                expected = args.get("expect_status")
                if expected is not None and response.status_code != expected:
                    self.fail(
                        f"{args.get('method', 'GET')} {self.sub(args['path'])} answered "
                        f"{response.status_code}, expected {expected}: {response.get_data(as_text=True)}",
                        line,
                    )
            else:
                raise PlanScenarioError(
                    f"unknown `when` step {kind!r}; use move, api, event, advance, set_attributes", line
                )
        except (KeyError, TypeError) as exc:
            raise PlanScenarioError(f"`{kind}` step is missing {exc}", line) from None
        except AssertionError as exc:
            self.fail(f"`{kind}` step failed: {exc}", line)
        except ValueError as exc:
            raise PlanScenarioError(f"`{kind}` step: {exc}", line) from None

    # -- then ---------------------------------------------------------------------------------------
    def then(self, then: Any) -> None:
        """Check each expectation, in the order of THEN_CHECKS and then the plugins' checks (`pages`); the first
        that does not hold fails the scenario."""
        if not isinstance(then, dict):
            raise PlanScenarioError("`then` is a mapping", _line(then, None))
        known = set(self.THEN_CHECKS) | set(self.checks)
        unknown = set(then) - known
        if unknown:
            hint = "" if self.checks or "pages" not in unknown else " (`pages` needs the operate_widgets plugin)"
            raise PlanScenarioError(
                f"`then` has unknown key(s) {sorted(unknown)}; use {sorted(known)}{hint}", then.line
            )
        for key, check in self.THEN_CHECKS.items():
            check(self, then.get(key), then)
        for key, check in self.checks.items():
            if key in then:
                check(self, then[key], then)

    def _then_executions(self, specs: Any, then: Node) -> None:
        for spec in specs or []:
            self._execution(spec, _line(spec, then.line))

    def _then_no_executions(self, wanted: Any, then: Node) -> None:
        if not wanted:
            return
        found = self.op.executions()
        if found:
            self.fail(f"expected no executions, found {[(e['planSystemName'], e['state']) for e in found]}", then.line)

    def _then_phases(self, phases: Any, then: Node) -> None:
        for name, phase in (phases or {}).items():
            actual = self.op.work_item(self.item_id(name, then.line))["workItem"]["phaseSystemName"]
            if actual != phase:
                self.fail(f"{name} is in {actual!r}, expected {phase!r}", _line(phases, then.line))

    def _then_attributes(self, attributes: Any, then: Node) -> None:
        for name, values in (attributes or {}).items():
            item_id = self.item_id(name, then.line)
            for attr, want in values.items():
                got = self.op.attribute(item_id, attr)
                if not _matches(got, self.sub(want)):
                    self.fail(f"{name}.{attr} is {got!r}, expected {want!r}", _line(values, then.line))

    def _then_events(self, specs: Any, then: Node) -> None:
        for spec in specs or []:
            line = _line(spec, then.line)
            data = self.sub(spec.get("data") or {})
            if not any(
                all(_matches(e["Data"].get(k), v) for k, v in data.items()) for e in self.op.events(spec["type"])
            ):
                self.fail(f"no {spec['type']} event with {data}", line)

    def _then_pms_received(self, specs: Any, then: Node) -> None:
        for spec in specs or []:
            line = _line(spec, then.line)
            method, path = str(spec.get("method", "POST")).upper(), self.sub(spec["path"])
            body = self.sub(spec.get("body") or {})
            found = [
                r
                for r in self.op.pms_requests(method, path)
                if all(_matches((r.get("body") or {}).get(k), v) for k, v in body.items())
            ]
            count = spec.get("count", 1)
            if len(found) != count:
                self.fail(
                    f"expected the PMS to receive {count} × {method} {path} with {body}, it received {len(found)}", line
                )

    # `then`'s keys, each with its check, in the order they are checked
    THEN_CHECKS: dict[str, Callable[[_Runner, Any, Node], None]] = {
        "executions": _then_executions,
        "no_executions": _then_no_executions,
        "phases": _then_phases,
        "attributes": _then_attributes,
        "events": _then_events,
        "pms_received": _then_pms_received,
    }

    def _execution(self, spec: Any, line: int | None) -> None:
        if not isinstance(spec, dict) or "plan" not in spec:
            raise PlanScenarioError("each expected execution names its plan", line)
        sharedo = self.item_id(spec["on"], line) if spec.get("on") else None
        found = self.op.executions(plan=spec["plan"], sharedo_id=sharedo)
        count = spec.get("count", 1)
        if len(found) != count:
            self.fail(f"expected {count} execution(s) of {spec['plan']!r}, found {len(found)}", line)
        for ex in found:
            if spec.get("state") and ex["state"] != spec["state"]:
                self.fail(
                    f"{spec['plan']} is {ex['state']}, expected {spec['state']}"
                    + (f" ({ex['lastErrored']})" if ex["lastErrored"] else ""),
                    spec.line_of("state"),
                )
            logs = "\n".join(self.op.logs(ex))
            for text in spec.get("logs_include") or []:
                if self.sub(text) not in logs:
                    self.fail(f"{spec['plan']}'s log has no line containing {text!r}", spec.line_of("logs_include"))
            for key, want in (spec.get("ctx") or {}).items():
                if not _matches(ex["ctx"].get(key), self.sub(want)):
                    self.fail(
                        f"{spec['plan']}'s ctx.{key} is {ex['ctx'].get(key)!r}, expected {want!r}", spec.line_of("ctx")
                    )


def _matches(actual: Any, expected: Any) -> bool:
    """Equality, except that a string with `*` is a glob over the actual value's text."""
    if isinstance(expected, str) and "*" in expected:
        return actual is not None and fnmatch.fnmatchcase(str(actual), expected)
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and isinstance(actual, (int, float, str)):
        try:
            return float(actual) == float(expected)
        except ValueError:
            return False
    return actual == expected
