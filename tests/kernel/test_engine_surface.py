"""The execution engine's surface as real tenant code uses it (issue: real tenant code runs unmodified).

- `helperScripts` name the platform's helper libraries (StringHelpers, PhaseHelpers), then IDE files;
- one broken action, template or workflow marks only its workflow: the rest loads and runs;
- `BuildTask()...Save()` on the builder, `WithActionPlan()...Build().Save()`, `.OnReminderDue(step).At(n).Minutes`;
- `POST /api/sharedo/{id}/phase/jumpTo` and `GET /api/featureframework/flags/{feature}/{type}/enabledPhases`;
- what is not emulated is named: a plan global's member, an `/api/` route; `/_emulator/fidelity` lists them.

The look-alikes in tests/fixtures/lookalikes/ run unmodified: in process (the `operate` fixture), through
`operate run` and through `operate serve` (a real server process).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.plans import script_plan, visual_plan
from smartplans.workflow_actions import action_types, ide_actions, platform_helpers
from tests.conftest import OPEN_MATTER, START
from tests.helpers.paths import FIXTURES
from tests.helpers.processes import Served

LOOKALIKES = FIXTURES / "lookalikes"
HELPERS = LOOKALIKES / "action-helpers"
BROKEN = LOOKALIKES / "action-broken-template"
MATTER = "f0100000-0000-4000-8000-000000000001"  # action-helpers: a followup-matter in fu-intake
TASK = "b0100000-0000-4000-8000-000000000001"  # action-broken-template: a task in progress
EXECUTING = "/api/executionengine/plans/executing"
BROKEN_TEMPLATE_LINE = "_IDE/Notes/SaveNote/SaveNote-template.js line 6"
FIDELITY = "see /_emulator/fidelity"


# -- the look-alike of a real action with named helper libraries --------------------------------------
@pytest.mark.operate_solution(HELPERS)
def test_an_action_naming_platform_helper_libraries_runs_unmodified(operate):
    assert operate.emulator.smartplans.problems == []
    operate.move(MATTER, "fu-triage")

    (execution,) = operate.executions(plan="follow-up")
    logs = operate.logs(execution)
    assert execution["state"] == "WAITING", logs  # the reminder is still to come
    task_id = execution["ctx"]["followUpTaskId"]
    # StringHelpers: the title from a text with {{reference}} and {{workItemId}} placeholders
    assert f"main Information: Created follow-up task {task_id}: Follow up FU-1 ({MATTER})" in logs
    task = operate.work_item(task_id)
    assert task["workItem"]["title"] == f"Follow up FU-1 ({MATTER})"
    assert task["workItem"]["parentSharedoId"] == MATTER
    # BuildTask()...DueOn(..).OnReminderDue("remind").At(30).Minutes.Save(): the reminder is on the task
    assert task["aspectData"]["task"]["dueDateTime"].startswith("2026-01-07T09:00:00")
    assert task["aspectData"]["task"]["reminders"] == [
        {"reminderDateTime": "2026-01-07T08:30:00.0000000Z", "offset": 30, "offsetMetric": "Minutes"}
    ]
    # PhaseHelpers and enabledPhases: FollowUps is on in fu-open only; jumpTo got there with no transition
    assert 'checkPhase Information: FollowUps is on in ["fu-open"] of followup-matter; the item is in fu-triage' in logs
    assert f"checkPhase Information: Jumped {MATTER} to fu-open" in logs
    assert operate.work_item(MATTER)["workItem"]["phaseSystemName"] == "fu-open"
    jumps = [e for e in operate.events("sharedo-phase-changed") if e["Data"]["toPhase"] == "fu-open"]
    assert [(e["Data"]["sharedoId"], e["Data"]["fromPhase"]) for e in jumps] == [(MATTER, "fu-triage")]

    operate.advance("PT47H29M")  # one minute before the reminder
    assert operate.executions(plan="follow-up")[0]["state"] == "WAITING"
    operate.advance("PT1M")
    (execution,) = operate.executions(plan="follow-up")
    assert execution["state"] == "STOPPED"
    remind = next(s for s in execution["steps"] if s["systemName"] == "remind")
    assert remind["dueAt"] == "2026-01-07T08:30:00.000Z"
    assert f"remind Information: Reminder: follow-up task {task_id} is due in 30 minutes" in operate.logs(execution)


def make_ide(root: Path, helpers: list[str]) -> Path:
    """An IDE folder with one action naming `helpers`, and a file of the solution's own beside it."""
    folder = root / "_IDE" / "Tools" / "Act"
    folder.mkdir(parents=True)
    (folder / "Act-template.js").write_text("log.Information(Mine.hello());\n")
    (root / "_IDE" / "Lib").mkdir()
    (root / "_IDE" / "Lib" / "MyHelpers.js").write_text("var Mine = { hello: function () { return 'hi'; } };\n")
    manifest = {"systemName": "Act", "templateScript": "/_ideFiles/Tools/Act/Act-template.js", "helperScripts": helpers}
    (folder / "Act.wf-action.json").write_text(json.dumps(manifest))
    return root / "_IDE"


def test_helper_names_are_the_platform_s_libraries_then_ide_files(tmp_path):
    assert {"StringHelpers", "PhaseHelpers"} <= set(platform_helpers())
    found = ide_actions(
        make_ide(tmp_path / "a", ["StringHelpers", "phasehelpers", "MyHelpers", "/_ideFiles/Lib/MyHelpers.js"])
    )
    assert not found.problems
    names = [h.name for h in found.types["Act"].helper_scripts]
    assert names == [
        "platform helper StringHelpers (smartplans/helpers/StringHelpers.js)",
        "platform helper PhaseHelpers (smartplans/helpers/PhaseHelpers.js)",
        "_IDE/Lib/MyHelpers.js",
        "_IDE/Lib/MyHelpers.js",
    ]

    found = ide_actions(make_ide(tmp_path / "b", ["DateHelpers"]))
    (problem,) = found.problems.values()
    assert "_IDE/Tools/Act/Act.wf-action.json: helper script 'DateHelpers' is not one of the platform's" in problem
    assert "PhaseHelpers, StringHelpers" in problem and "nor a file in the IDE folder" in problem


HELPER_CALLS = """
let id = ctx.workItemId;
log.Information([StringHelpers.isNullOrEmpty(""), StringHelpers.isNullOrWhiteSpace("  "), StringHelpers.padLeft(7, 3),
  StringHelpers.join("-", ["a", null, "", "b"]), StringHelpers.format("{{x.y}}!", {x: {y: "deep"}}),
  StringHelpers.format("ctx {{workItemId}} {{missing}}.")].join(" | "));
log.Information("on: " + PhaseHelpers.isFeatureEnabled("FollowUps", id) + " in " + PhaseHelpers.getCurrentPhase(id));
PhaseHelpers.jumpToPhase(id, "fu-open", "because");
log.Information("on: " + PhaseHelpers.isFeatureEnabled("FollowUps", id) + " in " + PhaseHelpers.getCurrentPhase(id));
try { PhaseHelpers.jumpToPhase(id, "nowhere"); } catch (e) { log.Information(e.message); }
"""


@pytest.mark.operate_solution(HELPERS)
def test_every_function_of_the_helper_libraries(operate, tmp_path):
    ide = make_ide(tmp_path, ["StringHelpers", "PhaseHelpers"])
    (ide / "Tools" / "Act" / "Act-template.js").write_text(HELPER_CALLS)
    doc = {"steps": [{"systemName": "main", "isStart": True, "actions": [{"actionSystemName": "Act"}]}]}
    operate.emulator.smartplans.add_plan(visual_plan("helper-calls", doc, types=action_types(ide)))
    started = operate.emulator.smartplans.start(
        "helper-calls", ev={"Data": {"sharedoId": MATTER}}, inputs={"workItemId": MATTER}
    )
    execution = operate.emulator.smartplans.execution(started)
    assert execution["state"] == "STOPPED", execution["lastErrored"]
    assert operate.logs(execution) == [
        f"main Information: true | true | 007 | a-b | deep! | ctx {MATTER} .",
        "main Information: on: false in fu-intake",
        "main Information: on: true in fu-open",
        f"main Information: PhaseHelpers: POST /api/sharedo/{MATTER}/phase/jumpTo answered BadRequest: "
        + json.dumps(
            {
                "status": 400,
                "title": "toPhaseSystemName: work type 'followup-matter' has no phase 'nowhere'",
                "errors": [
                    {"field": "toPhaseSystemName", "message": "work type 'followup-matter' has no phase 'nowhere'"}
                ],
            },
            separators=(",", ":"),
        ),
    ]


def test_an_exported_generated_script_gets_the_helper_libraries_it_names(operate):
    script = "{ log.Information(StringHelpers.format('note for {{workItemId}}')); };"
    doc = {
        "VisualPlan": {"SystemName": "exported-notes"},
        "Steps": [{"SystemName": "main", "IsStart": True}],
        "Actions": [{"Id": "a1", "VisualPlanStepSystemName": "main", "Order": 0, "ActionSystemName": "SaveNote"}],
        "Scripts": [{"VisualPlanStepActionId": "a1", "GeneratedScript": script}],
    }
    operate.emulator.smartplans.add_plan(visual_plan("exported-notes", doc))
    started = operate.emulator.smartplans.start("exported-notes", inputs={"workItemId": OPEN_MATTER})
    execution = operate.emulator.smartplans.execution(started)
    assert operate.logs(execution) == [f"main Information: note for {OPEN_MATTER}"], execution["lastErrored"]


# -- one broken workflow marks only itself --------------------------------------------------------------
@pytest.mark.operate_solution(BROKEN)
def test_a_broken_template_marks_only_its_workflow_and_says_where(operate):
    engine = operate.emulator.smartplans
    assert sorted(engine.plans) == ["log-done"] and sorted(engine.broken) == ["save-note"]
    (problem,) = engine.problems
    assert "workflow 'save-note' is broken and does not run: workflows/save-note.json" in problem
    assert BROKEN_TEMPLATE_LINE in problem and "Invalid left-hand side in assignment" in problem

    operate.move(TASK, "task-done")
    (ran,) = operate.executions(plan="log-done")
    assert ran["state"] == "STOPPED" and operate.logs(ran) == [f"main Information: task {TASK} is done"]
    (failed,) = operate.executions(plan="save-note")  # the trigger is not silent: its start fails, saying why
    assert failed["state"] == "ERRORED"
    assert "workflow 'save-note' is broken and did not load" in failed["lastErrored"]
    assert BROKEN_TEMPLATE_LINE in failed["lastErrored"]
    assert any(BROKEN_TEMPLATE_LINE in line for line in operate.logs(failed))

    client = operate.app.test_client()
    home = client.get("/").get_data(as_text=True)
    assert "Load problems (1)" in home and "save-note" in home and BROKEN_TEMPLATE_LINE in home
    plans = client.get("/plans").get_data(as_text=True)
    assert 'id="broken-save-note"' in plans and BROKEN_TEMPLATE_LINE in plans and "log-done" in plans
    page = client.get("/plans/save-note")
    assert page.status_code == 409 and BROKEN_TEMPLATE_LINE in page.get_data(as_text=True)


def test_an_unreadable_workflow_file_or_trigger_is_marked_not_fatal(tmp_path):
    root = tmp_path / "solution"
    shutil.copytree(BROKEN, root)
    (root / "workflows" / "half-written.json").write_text('{"systemName": "half-written", "steps": [')
    (root / "triggers" / "odd.json").write_text('{"TriggerSubType": 5}')
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        engine = app.extensions["operate"].smartplans
        assert sorted(engine.broken) == ["half-written", "save-note"] and "log-done" in engine.plans
        assert any("half-written.json" in p and "line 1" in p for p in engine.problems)
        assert any(p.startswith("trigger not loaded: ") and "odd.json" in p for p in engine.problems)
    finally:
        app.extensions["operate"].close()


def test_a_broken_workflow_fixed_on_disk_runs_on_its_next_start(tmp_path):
    root = tmp_path / "solution"
    shutil.copytree(BROKEN, root)
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        em = app.extensions["operate"]
        flow = root / "workflows" / "save-note.json"
        doc = json.loads(flow.read_text())
        doc["steps"][0]["actions"][0] = {
            "actionSystemName": "script",
            "config": {"script": "log.Information('fixed');"},
        }
        flow.write_text(json.dumps(doc))
        execution = em.smartplans.execution(em.smartplans.start("save-note", ev={"Data": {"sharedoId": TASK}}))
        assert execution["state"] == "STOPPED", execution["lastErrored"]
        assert "save-note" in em.smartplans.plans and not em.smartplans.broken
    finally:
        app.extensions["operate"].close()


def test_a_workflow_broken_by_a_missing_helper_runs_once_the_helper_is_added(tmp_path):
    """The user adds the helper file the action names (the workflow file is untouched): the next start must see
    it, as an edit of a loaded workflow's template is seen, without a restart."""
    root = tmp_path / "solution"
    shutil.copytree(BROKEN, root)
    folder = root / "_IDE" / "Notes" / "SaveNote"
    template = folder / "SaveNote-template.js"
    template.write_text(
        'log.Information("Note: " + NoteHelpers.note(ctx.workItemId));\n', encoding="utf-8"
    )  # a sound template, with a helper of the solution's own
    manifest = folder / "SaveNote.wf-action.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('["StringHelpers"]', '["NoteHelpers"]'))
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        em = app.extensions["operate"]
        assert "helper script 'NoteHelpers'" in em.smartplans.broken["save-note"].reason
        (folder / "NoteHelpers.js").write_text(
            "var NoteHelpers = { note: function (id) { return 'for ' + id; } };\n", encoding="utf-8"
        )
        started = em.smartplans.start("save-note", ev={"Data": {"sharedoId": TASK}}, inputs={"workItemId": TASK})
        execution = em.smartplans.execution(started)
        assert execution["state"] == "STOPPED", execution["lastErrored"]
        assert operate_logs(em, execution) == [f"main Information: Note: for {TASK}"]
    finally:
        app.extensions["operate"].close()


def operate_logs(em, execution: dict) -> list[str]:
    return [
        f"{s['systemName']} {line['logLevel']}: {line['logMessage']}"
        for s in execution["steps"]
        for line in em.smartplans.step_log(execution["id"], s["id"])
    ]


# -- builders as real actions call them -------------------------------------------------------------
def run_script(operate, tmp_path: Path, name: str, body: str, extra_steps: str = "") -> dict:
    """A script plan of `body` as its main step, run once against the demo's open matter."""
    path = tmp_path / f"{name}.js"
    steps = "main: main, remind: remind" if extra_steps else "main: main"
    path.write_text(f"function main(ev, ctx, log) {{\n{body}\n}}\n{extra_steps}\nreturn {{ {steps} }};\n")
    operate.emulator.smartplans.add_plan(script_plan(name, path))
    execution_id = operate.emulator.smartplans.start(name, ev={"Data": {"sharedoId": OPEN_MATTER}})
    return operate.emulator.smartplans.execution(execution_id)


def test_task_builders_save_on_themselves_and_time_reminders(operate, tmp_path):
    body = f"""
    var m = "{OPEN_MATTER}";
    ctx.plain = actions.sharedo.BuildTask().WithTitle("plain").ForSharedo(m).Save();
    ctx.planned = actions.sharedo.BuildTask().WithTitle("planned").ForSharedo(m)
        .WithActionPlan().WithTitle("Checklist").AddItem(actions.sharedo.BuildActionPlanItem().WithDescription("one"))
        .Build().Save();
    ctx.direct = actions.sharedo.BuildTask().WithTitle("direct").ForSharedo(m)
        .WithActionPlan().WithTitle("Steps").AddItem(actions.sharedo.BuildActionPlanItem().WithDescription("two")).Save();
    ctx.reminded = actions.sharedo.BuildTask().WithTitle("reminded").ForSharedo(m).DueOn(DateTime.Now.AddDays(1))
        .OnReminderDue("remind").At(2).Hours.WithPriorityId(3).Save();
    """
    remind = 'function remind(ev, ctx, log) { log.Information("reminder for " + ctx.reminded); }'
    execution = run_script(operate, tmp_path, "builders", body, remind)
    assert execution["state"] == "WAITING", execution["lastErrored"]
    ctx = execution["ctx"]
    titles = {
        key: operate.work_item(ctx[key])["workItem"]["title"] for key in ("plain", "planned", "direct", "reminded")
    }
    assert titles == {"plain": "plain", "planned": "planned", "direct": "direct", "reminded": "reminded"}
    assert operate.work_item(ctx["planned"])["aspectData"]["actionPlan"]["title"] == "Checklist"
    assert operate.work_item(ctx["direct"])["aspectData"]["actionPlan"]["items"][0]["description"] == "two"
    reminded = operate.work_item(ctx["reminded"])["aspectData"]["task"]
    assert reminded["reminders"] == [
        {"reminderDateTime": "2026-01-06T07:00:00.0000000Z", "offset": 2, "offsetMetric": "Hours"}
    ]
    assert reminded["priorityId"] == 3  # the chain goes on after the unit
    operate.advance("PT22H")
    execution = operate.emulator.smartplans.execution(execution["id"])
    assert execution["state"] == "STOPPED"
    assert f"remind Information: reminder for {ctx['reminded']}" in operate.logs(execution)


def test_a_reminder_without_a_due_date_says_so(operate, tmp_path):
    execution = run_script(
        operate,
        tmp_path,
        "no-due",
        'actions.sharedo.BuildTask().WithTitle("x").OnReminderDue("main").At(5).Minutes.Save();',
    )
    assert execution["state"] == "ERRORED"
    assert "OnReminderDue(..) needs DueOn(..)" in execution["lastErrored"]


# -- what is not emulated, named --------------------------------------------------------------------
def test_a_missing_member_of_a_plan_global_is_named_in_the_step_log(operate, tmp_path):
    execution = run_script(operate, tmp_path, "missing-builder", "actions.sharedo.BuildEmail().To('x').Save();")
    assert execution["state"] == "ERRORED"
    assert execution["lastErrored"].startswith(f"not emulated: actions.sharedo.BuildEmail — {FIDELITY}")
    (line,) = [line for line in operate.logs(execution) if "Error" in line]
    assert f"not emulated: actions.sharedo.BuildEmail — {FIDELITY}" in line

    execution = run_script(
        operate, tmp_path, "missing-on-builder", 'actions.sharedo.BuildTask().WithTitle("t").WithColour("red");'
    )
    assert execution["state"] == "ERRORED"
    assert f"not emulated: actions.sharedo.BuildTask().WithColour — {FIDELITY}" in execution["lastErrored"]

    execution = run_script(operate, tmp_path, "missing-trigger", 'trigger.SubProcess("main").Later();')
    assert f"not emulated: trigger.SubProcess(..).Later — {FIDELITY}" in execution["lastErrored"]


def test_probes_of_plan_globals_still_work_and_are_noted_once(operate, tmp_path):
    body = """
    ctx.probe = typeof sharedo.http.options === "undefined" && typeof sharedo.http.options === "undefined";
    ctx.has = ("get" in sharedo.http) && !("options" in sharedo.http) && typeof log.Information === "function";
    ctx.json = JSON.stringify(sharedo.context) + JSON.stringify(Object.keys(trigger));
    ctx.isDate = DateTime.Now instanceof DateTime;
    """
    execution = run_script(operate, tmp_path, "probes", body)
    assert execution["state"] == "STOPPED", execution["lastErrored"]
    assert execution["ctx"] == {
        "probe": True,
        "has": True,
        "json": '{}["SubProcess","CreateForSharedo"]',
        "isDate": True,
    }
    assert operate.logs(execution) == [
        f"main Warning: not emulated: sharedo.http.options (read as undefined) — {FIDELITY}"
    ]


def test_an_api_route_the_emulator_lacks_answers_404_naming_it(operate, tmp_path):
    response = operate.api().get("/api/v1/public/workItem/x/somethingElse")
    assert response.status_code == 404
    assert response.json["title"] == f"no route GET /api/v1/public/workItem/x/somethingElse: not emulated — {FIDELITY}"
    execution = run_script(
        operate,
        tmp_path,
        "missing-route",
        'var r = sharedo.http.post("/api/nothing/here", {}); log.Information(r.status + " " + r.body.title);',
    )
    assert operate.logs(execution) == [
        f"main Information: NotFound no route POST /api/nothing/here: not emulated — {FIDELITY}"
    ]


def test_the_fidelity_page_needs_no_sign_in(operate):
    client = operate.app.test_client()
    page = client.get("/_emulator/fidelity")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<h2>Execution engine (plans and workflow actions)</h2>" in html
    assert "<td><code>POST /api/sharedo/{id}/phase/jumpTo</code></td><td>emulated</td>" in html
    raw = client.get("/_emulator/fidelity", headers={"Accept": "text/markdown"})
    assert raw.mimetype == "text/markdown" and raw.get_data(as_text=True).startswith("# Fidelity")


# -- the routes workflow actions call ---------------------------------------------------------------
def test_jump_to_goes_past_the_transition_rules_for_whoever_may_jump(operate):
    ee_app = operate.api(client="ee-app").post(
        f"/api/sharedo/{OPEN_MATTER}/phase/jumpTo", {"toPhaseSystemName": "matter-closed"}
    )
    assert ee_app.status_code == 403 and "core.admin.jumptophase" in json.dumps(ee_app.json)

    api = operate.api()
    for body in (
        {"toPhaseSystemName": "matter-closed"},
        {"phaseSystemName": "matter-open", "reason": "reopened"},
        {"phase": "matter-open"},
    ):
        response = api.post(f"/api/sharedo/{OPEN_MATTER}/phase/jumpTo", body)
        assert response.status_code == 200, response.json
    assert response.json == {"systemName": "matter-open", "name": "Open", "moved": False}
    changes = [
        (e["Data"]["fromPhase"], e["Data"]["toPhase"], e["Data"]["reason"])
        for e in operate.events("sharedo-phase-changed")
    ]
    assert changes[-2:] == [("matter-open", "matter-closed", None), ("matter-closed", "matter-open", "reopened")]

    refused = api.post(f"/api/sharedo/{OPEN_MATTER}/phase/jumpTo", {"toPhaseSystemName": "no-such-phase"})
    assert refused.status_code == 400 and "has no phase 'no-such-phase'" in json.dumps(refused.json)
    empty = api.post(f"/api/sharedo/{OPEN_MATTER}/phase/jumpTo", {"reason": "x"})
    assert empty.status_code == 400 and "the phase to jump to is required" in json.dumps(empty.json)


@pytest.mark.operate_solution(HELPERS)
def test_enabled_phases_come_from_the_work_type_s_features(operate):
    api = operate.api()
    flags = "/api/featureframework/flags"
    assert api.get(f"{flags}/FollowUps/followup-matter/enabledPhases").json == ["fu-open"]
    assert api.get(f"{flags}/followups/followup-matter/enabledPhases").json == ["fu-open"]
    assert api.get(f"{flags}/Billing/followup-matter/enabledPhases").json == []
    missing = api.get(f"{flags}/FollowUps/no-such-type/enabledPhases")
    assert missing.status_code == 404 and "no-such-type" in json.dumps(missing.json)
    assert operate.app.test_client().get(f"{flags}/FollowUps/followup-matter/enabledPhases").status_code == 401


# -- from the terminal: operate run and operate serve -------------------------------------------------
def operate_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emulator.cli", *args], capture_output=True, text=True, timeout=90)


def test_operate_run_runs_the_lookalike_action_unmodified(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"sharedoId": MATTER}))
    result = operate_cli(
        "run", str(HELPERS / "workflows" / "follow-up.json"), "--solution", str(HELPERS),
        "--data-dir", str(tmp_path / "d"), "--data", str(event),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        "[main] Information: Created follow-up task" in result.stdout and f"Follow up FU-1 ({MATTER})" in result.stdout
    )
    assert f"[checkPhase] Information: Jumped {MATTER} to fu-open" in result.stdout
    assert "state: WAITING" in result.stdout  # the reminder is two days off


def test_operate_run_in_a_solution_with_a_broken_workflow(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"sharedoId": TASK}))
    state = ["--solution", str(BROKEN), "--data-dir", str(tmp_path / "d"), "--data", str(event)]
    result = operate_cli("run", str(BROKEN / "workflows" / "log-done.json"), *state)
    assert result.returncode == 0, result.stderr
    assert f"[main] Information: task {TASK} is done" in result.stdout
    result = operate_cli("run", str(BROKEN / "workflows" / "save-note.json"), *state)
    assert result.returncode == 2 and BROKEN_TEMPLATE_LINE in result.stderr


def test_operate_run_names_what_a_plan_reached_for_that_is_not_emulated(tmp_path):
    plan = tmp_path / "mailer.js"
    plan.write_text("function main(ev, ctx, log) { actions.sharedo.BuildEmail().Send(); }\nreturn { main: main };\n")
    result = operate_cli("run", str(plan), "--demo", "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 1
    assert f"[main] Error: not emulated: actions.sharedo.BuildEmail — {FIDELITY}" in result.stdout
    assert "state: ERRORED" in result.stdout


def serving(solution: Path, data_dir: Path) -> Served:
    """`operate serve --solution DIR` on the virtual clock, in its own process."""
    return Served(
        data_dir, "--solution", str(solution), "--virtual-clock", "--clock-start", "2026-01-05T09:00:00Z", demo=False
    )


def settled(client: httpx.Client, plan: str, state: str) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = client.get(f"{EXECUTING}?plan={plan}").json()
        if found and found[0]["state"] == state:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"{plan} did not reach {state}: {found}")


def test_operate_serve_runs_the_lookalike_action_unmodified(tmp_path):
    served = serving(HELPERS, tmp_path / "d")
    try:
        assert "load problems" not in "".join(served.banner)
        with served.client() as client:
            moved = client.put(f"/api/v1/public/workItem/{MATTER}/phase", json={"toPhaseSystemName": "fu-triage"})
            assert moved.status_code == 200, moved.text
            execution = settled(client, "follow-up", "WAITING")
            assert client.get(f"/api/v1/public/workItem/{MATTER}").json()["workItem"]["phaseSystemName"] == "fu-open"
            task = client.get(f"/api/v1/public/workItem/{execution['ctx']['followUpTaskId']}").json()
            assert task["aspectData"]["task"]["reminders"][0]["reminderDateTime"] == "2026-01-07T08:30:00.0000000Z"
            assert client.post("/api/_emulator/clock", json={"advance": "P2D"}).status_code == 200
        with served.client() as client:  # a new token: the old one expired in those two days
            execution = settled(client, "follow-up", "STOPPED")
            remind = next(s for s in execution["steps"] if s["systemName"] == "remind")
            lines = client.get(f"{EXECUTING}/{execution['id']}/steps/{remind['id']}/log").json()
            assert [line["logMessage"] for line in lines] == [
                f"Reminder: follow-up task {task['workItem']['id']} is due in 30 minutes"
            ]
            flags = client.get("/api/featureframework/flags/FollowUps/followup-matter/enabledPhases")
            assert flags.json() == ["fu-open"]
            missing = client.get("/api/featureframework/flags")
            assert missing.status_code == 404 and "not emulated" in missing.json()["title"]
        page = httpx.get(f"{served.url}/_emulator/fidelity", timeout=10)  # no token
        assert page.status_code == 200 and "Execution engine" in page.text
    finally:
        served.stop()


def test_operate_serve_names_the_broken_workflow_and_runs_the_rest(tmp_path):
    served = serving(BROKEN, tmp_path / "d")
    try:
        banner = "".join(served.banner)
        assert "load problems (1;" in banner and "workflow 'save-note' is broken" in banner
        assert BROKEN_TEMPLATE_LINE in banner
        with served.client() as client:
            assert (
                client.put(f"/api/v1/public/workItem/{TASK}/phase", json={"toPhaseSystemName": "task-done"}).status_code
                == 200
            )
            assert settled(client, "log-done", "STOPPED")["planSystemName"] == "log-done"
            failed = settled(client, "save-note", "ERRORED")
            assert BROKEN_TEMPLATE_LINE in failed["lastErrored"]
        home = httpx.get(f"{served.url}/", timeout=10).text
        assert "Load problems (1)" in home and BROKEN_TEMPLATE_LINE in home
    finally:
        served.stop()


def test_a_plan_probing_thousands_of_missing_members_gets_a_bounded_log(operate, tmp_path):
    body = "for (var i = 0; i < 5000; i++) { var x = sharedo['probe' + i]; } ctx.done = true;"
    execution = run_script(operate, tmp_path, "many-probes", body)
    assert execution["state"] == "STOPPED", execution["lastErrored"]
    logs = operate.logs(execution)
    assert len(logs) <= 25, len(logs)
    assert logs[0] == f"main Warning: not emulated: sharedo.probe0 (read as undefined) — {FIDELITY}"
    assert "4980 more members" in logs[-1]


def test_a_plan_s_own_type_error_after_a_probe_is_not_blamed_on_the_probe(operate, tmp_path):
    body = "if (typeof sharedo.http.options === 'undefined') { ctx.probed = true; } var o = null; o.x = 1;"
    execution = run_script(operate, tmp_path, "own-bug", body)
    assert execution["state"] == "ERRORED"
    assert "not emulated" not in execution["lastErrored"], execution["lastErrored"]
    assert "Cannot set properties of null" in execution["lastErrored"]
    assert f"main Warning: not emulated: sharedo.http.options (read as undefined) — {FIDELITY}" in operate.logs(
        execution
    )


def test_a_helper_or_template_too_large_to_be_code_marks_its_action_broken(tmp_path):
    """A 300 MB file named as a helper (a data dump, a build artefact) is refused by size, naming it, rather
    than read into memory and compiled when the solution loads."""
    ide = make_ide(tmp_path, ["MyHelpers", "Huge"])
    with open(ide / "Lib" / "Huge.js", "wb") as f:
        f.truncate(300 * 1024 * 1024)
    (problem,) = ide_actions(ide).problems.values()
    assert "_IDE/Lib/Huge.js" in problem and "larger than" in problem and "MB" in problem


def test_a_half_written_trigger_or_a_workflow_defined_twice_marks_only_itself(tmp_path):
    """A trigger file that is not JSON (saved mid-edit) and a second workflow file with a system name already
    taken (a copy kept beside the original) are each marked, with the file named; the rest loads and runs."""
    root = tmp_path / "solution"
    shutil.copytree(BROKEN, root)
    (root / "triggers" / "half.json").write_text('{"TriggerSubType": ', encoding="utf-8")
    copy = json.loads((root / "workflows" / "log-done.json").read_text(encoding="utf-8"))
    (root / "workflows" / "log-done-copy.json").write_text(json.dumps(copy), encoding="utf-8")
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        engine = app.extensions["operate"].smartplans
        problems = engine.problems
        assert any(p.startswith("trigger not loaded: ") and "half.json" in p for p in problems), problems
        assert any("'log-done'" in p and "log-done-copy.json" in p and "defined twice" in p for p in problems)
        assert "log-done" not in engine.plans  # which of the two is meant is the user's to say
        page = app.test_client().get("/plans")
        assert page.status_code == 200 and "half.json" in page.get_data(as_text=True)
    finally:
        app.extensions["operate"].close()


@pytest.mark.parametrize("depth", [900, 5000])
def test_a_workflow_file_nested_too_deeply_marks_only_itself(tmp_path, depth):
    root = tmp_path / "solution"
    shutil.copytree(BROKEN, root)
    (root / "workflows" / "deep.json").write_text('{"steps": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        engine = app.extensions["operate"].smartplans
        assert "deep" in engine.broken and "log-done" in engine.plans
        assert "deep.json" in engine.broken["deep"].reason
        assert app.test_client().get("/plans").status_code == 200
    finally:
        app.extensions["operate"].close()


def test_hundreds_of_actions_naming_a_shared_helper_all_find_it(tmp_path):
    """300 actions each naming the solution's own `CommonHelpers` by bare name, in an IDE folder of 5,000 widget
    files: _IDE/ is walked once for them all, not once per name per manifest (that took over half a minute)."""
    ide = tmp_path / "_IDE"
    (ide / "Lib").mkdir(parents=True)
    (ide / "Lib" / "CommonHelpers.js").write_text("var Common = {};\n")
    for i in range(5000):
        folder = ide / "Widgets" / f"W{i // 50}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"part{i}.js").write_text("x")
    for i in range(300):
        folder = ide / "Actions" / f"A{i}"
        folder.mkdir(parents=True)
        (folder / f"A{i}-template.js").write_text("log.Information(1);\n")
        manifest = {
            "systemName": f"A{i}",
            "templateScript": f"/_ideFiles/Actions/A{i}/A{i}-template.js",
            "helperScripts": ["CommonHelpers", "StringHelpers"],
        }
        (folder / f"A{i}.wf-action.json").write_text(json.dumps(manifest))
    found = ide_actions(ide)
    assert not found.problems and len(found.types) == 300
    assert [h.name for h in found.types["A7"].helper_scripts][0] == "_IDE/Lib/CommonHelpers.js"


def test_ide_manifests_nested_too_deeply_are_listed_not_a_500(tmp_path):
    """A widget manifest or an action manifest of arrays nested thousands deep is a named load problem on the home
    page and the gallery; every page still answers."""
    root = tmp_path / "solution"
    shutil.copytree(BROKEN, root)
    deep = "[" * 5000 + "]" * 5000
    (root / "_IDE" / "Deep").mkdir()
    (root / "_IDE" / "Deep" / "Deep.widget.json").write_text(deep, encoding="utf-8")
    (root / "_IDE" / "Deep" / "Deep.wf-action.json").write_text(deep, encoding="utf-8")
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        client = app.test_client()
        for page in ("/", "/widgets", "/plans"):
            response = client.get(page)
            assert response.status_code == 200, page
        assert "Deep.widget.json" in client.get("/widgets").get_data(as_text=True)
        assert "nested too deeply" in client.get("/").get_data(as_text=True)
        assert "log-done" in app.extensions["operate"].smartplans.plans
    finally:
        app.extensions["operate"].close()
