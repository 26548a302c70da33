"""`operate init DIR`: a new solution folder that works where it is put, with nothing pointing back here.

It starts from the demo's work types, people, roles, seed and demo PMS (so there is something to run
against), adds a first plan, its trigger and a test, and copies the plans' type declarations into
`types/`, so the editor's `jsconfig.json` finds them wherever the folder is copied.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from .loading import demo_solution_path, read_config

KEPT_FROM_DEMO = ("worktypes", "ods", "roles", "seed", "forms", "portals", "README.md")

PLAN = """// A first SmartPlan: runs when a matter moves to matter-open (triggers/matter-opened.json).
// `operate run plans/matter-opened.js --data event.json` runs it from the terminal;
// `operate test .` runs tests/.
function main(ev, ctx, log) {
  var item = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);
  if (!item.success) throw new Error("cannot read work item " + ctx.workItemId + ": " + item.status);
  ctx.reference = item.body.workItem.reference;
  log.Information(ctx.reference + " was opened");
}

return { main: main };
"""

TRIGGER = {
    "Id": "trigger-matter-opened",
    "TriggerType": "event",
    "TriggerSubType": "sharedo-phase-changed",
    "SharedoTypeSystemName": "matter",
    "TriggerMeta": json.dumps({"PhasesSystemNames": ["matter-open"]}),
    "PlanSystemName": "matter-opened",
    "StepSystemName": "main",
    "Active": True,
    "PlanMeta": json.dumps({"dataFields": {"workItemId": "ev.Data.sharedoId"}}),
}

TEST = '''"""Run with `operate test .` (or `pytest tests --operate-solution .`)."""

ENQUIRY = "3c000000-0000-4000-8000-000000000010"  # MAT-00010 in seed/workitems.json, still an enquiry


def test_opening_a_matter_runs_the_plan(operate):
    operate.move(ENQUIRY, "matter-open")
    execution = operate.assert_execution("matter-opened", state="STOPPED", sharedo_id=ENQUIRY)
    assert execution["ctx"]["reference"] == "MAT-00010"
'''

TOML = """# A solution folder: see docs/solution-format.md in operate-toolkit.
[solution]
name = "{name}"

[limits]
cpu_seconds = 5     # per SmartPlan step
heap_mb = 64
steps_per_execution = 1000

# The demo finance system, served in process (`fake = "demo"`); point base_url at your PMS to leave it.
[linked_services.demo-pms]
base_url = "{base_url}"
auth = "api-key"
api_key_header = "X-API-Key"
api_key = "{key}"
timeout_seconds = 10
adapter = "demo"
fake = "demo"
"""

JSCONFIG = {
    "compilerOptions": {"checkJs": True, "allowJs": True, "noEmit": True, "target": "ES2017", "lib": ["ES2017"]},
    "include": ["plans/**/*.js", "types/operate-globals.d.ts"],
}


class ScaffoldError(ValueError):
    pass


def demo_pms_service() -> dict[str, Any]:
    """The demo PMS's linked service as the demo solution configures it (`base_url`, `api_key`): a new solution
    reaches the same demo PMS as the demo, read from the demo's operate.toml, so this area names no PMS package."""
    return read_config(demo_solution_path() / "operate.toml")["linked_services"]["demo-pms"]


def init_solution(target: Path, name: str | None = None) -> list[Path]:
    """Write a new solution into `target` (missing or empty); returns what was written."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not an empty folder; choose a new one")
    demo = demo_solution_path()
    target.mkdir(parents=True, exist_ok=True)
    for entry in KEPT_FROM_DEMO:
        source = demo / entry
        if source.is_dir():
            shutil.copytree(source, target / entry)
        elif source.is_file():
            shutil.copy2(source, target / entry)
    pms = demo_pms_service()
    files = {
        "operate.toml": TOML.format(
            name=(name or target.resolve().name).replace('"', "'"), base_url=pms["base_url"], key=pms["api_key"]
        ),
        "jsconfig.json": json.dumps(JSCONFIG, indent=2) + "\n",
        "plans/matter-opened.js": PLAN,
        "triggers/matter-opened.json": json.dumps(TRIGGER, indent=2) + "\n",
        "tests/test_matter_opened.py": TEST,
        "types/operate-globals.d.ts": resources.files("smartplans").joinpath("operate-globals.d.ts").read_text("utf-8"),
    }
    written = []
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        written.append(path)
    return written


def copy_demo(target: Path, name: str | None = None) -> list[Path]:
    """`operate init DIR --from-demo`: the demo solution as it ships (its `include` of the finance example
    plans, the demo PMS and the fake Clio firm), copied into `target` (missing or empty) to change at will.
    Its jsconfig.json points into this package's source tree; the copy's points at `types/`, written here."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not an empty folder; choose a new one")
    demo = demo_solution_path()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(demo, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    toml = target / "operate.toml"
    if name:
        quoted = name.replace('"', "'")
        toml.write_text(toml.read_text("utf-8").replace('name = "Demo law firm"', f'name = "{quoted}"', 1), "utf-8")
    (target / "jsconfig.json").write_text(json.dumps(JSCONFIG, indent=2) + "\n", "utf-8")
    types = target / "types" / "operate-globals.d.ts"
    types.parent.mkdir(parents=True, exist_ok=True)
    types.write_text(resources.files("smartplans").joinpath("operate-globals.d.ts").read_text("utf-8"), "utf-8")
    return sorted(p for p in target.rglob("*") if p.is_file())
