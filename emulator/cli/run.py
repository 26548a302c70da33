"""`operate run`: one SmartPlan run against the state in --data-dir as if a business event had started it;
its log lines and final ctx are printed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.jsonfile import JsonFileError, load
from .common import add_state_args, open_emulator

if TYPE_CHECKING:
    from smartplans.plans import Plan


HELP = "run one SmartPlan against the emulator's state and print its log and final ctx"
DESCRIPTION = (
    "Run a plan file as if a business event had started it: its sharedo.http calls reach "
    "the state in --data-dir (as the ee-app client), its log lines and final ctx are printed. "
    "Exit status 1 when the execution errors."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_args(parser)
    parser.add_argument(
        "plan",
        type=Path,
        help="the plan file: a script plan (.js: steps, then `return { main: main }`) or a visual workflow (.json, "
        "export or API shape; actions without a GeneratedScript are generated from their templates in the "
        "solution's _IDE/ or the built-ins)",
    )
    parser.add_argument("--event", default="sharedo-phase-changed", help="event type (default: sharedo-phase-changed)")
    parser.add_argument(
        "--data", type=Path, metavar="FILE", help="JSON file with the event's Data (or the whole event)"
    )
    parser.add_argument("--step", default="main", help="entry step (default: main)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input variable in ctx; repeatable (workItemId defaults to Data.sharedoId)",
    )


class _Refused(Exception):
    """The options cannot be used; the message is the one line to print (exit status 2)."""


def run(args: argparse.Namespace) -> int:
    try:
        data = _event_data(args)
        inputs = _inputs(args, data)
    except _Refused as exc:
        print(f"operate run: {exc}", file=sys.stderr)
        return 2
    # The plans' runtime (V8) and the app are imported only when a plan runs: `operate --help` stays quick.
    from smartplans.plans import PlanError

    from ..app import create_app

    em = open_emulator(args)
    try:
        create_app(emulator=em)
        try:
            plan = _plan_file(args.plan, em.solution.ide_root)
            em.smartplans.add_plan(plan)
        except PlanError as exc:
            print(f"operate run: {exc}", file=sys.stderr)
            return 2
        ev = {"eventType": args.event, "Data": data}
        execution_id = em.smartplans.start(plan.system_name, args.step, ev, inputs)
        execution = em.smartplans.execution(execution_id)
        for step in execution["steps"]:
            for line in em.smartplans.step_log(execution_id, step["id"]):
                print(f"{line['logTime']} [{step['systemName']}] {line['logLevel']}: {line['logMessage']}")
        print(f"state: {execution['state']}")
        print("ctx: " + json.dumps(execution["ctx"], indent=2, ensure_ascii=False))
        return 1 if execution["state"] == "ERRORED" else 0
    finally:
        em.close()


def _event_data(args: argparse.Namespace) -> dict:
    """The event's Data: --data holds it, or the whole event with it under "Data"."""
    event: dict = {}
    if args.data is not None:
        try:
            event = json.loads(args.data.read_text("utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise _Refused(f"cannot read {args.data}: {exc}") from None
        if not isinstance(event, dict):
            raise _Refused(f"{args.data}: expected a JSON object (the event's Data)")
    return event.get("Data", event)


def _inputs(args: argparse.Namespace, data: dict) -> dict:
    """The ctx the plan starts with: workItemId from the event, then each --set NAME=VALUE."""
    inputs: dict = {"workItemId": data.get("sharedoId")} if data.get("sharedoId") else {}
    for pair in args.set:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise _Refused(f"--set takes NAME=VALUE, not {pair!r}")
        inputs[name] = value
    return inputs


def _plan_file(path: Path, ide_root: Path | None) -> Plan:
    """A script plan (`.js`), or a visual workflow (`.json`, export or API shape) whose actions' code is
    generated from their templates: the solution's IDE actions and the built-ins."""
    from smartplans.plans import PlanError, script_plan, visual_plan
    from smartplans.workflow_actions import action_types

    from ..solution.loading import workflow_name

    if path.suffix.lower() != ".json":
        return script_plan(path.stem, path, where=path.as_posix())  # errors name the file as it was given
    try:
        doc = load(path)
    except JsonFileError as exc:
        raise PlanError(str(exc)) from None
    return visual_plan(workflow_name(doc, path), doc, types=action_types(ide_root), where=str(path))
