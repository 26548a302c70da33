"""SmartPlans end to end: an event through the public API starts a plan in real V8."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import (
    ENQUIRY_MATTER,
    OPEN_MATTER,
    START,
    SUBMITTED_PAYMENT,
    Api,
    client_token,
    events_of,
    executions,
)

V1 = "/api/v1/public/workItem"


def phase_trigger(plan: str, work_type: str, phases: list[str], step: str = "main") -> dict:
    return trigger(plan, work_type=work_type, phases=phases, step=step)


@pytest.fixture
def make_app(tmp_path):
    made = []

    def make(plans: dict[str, str], triggers: list[dict] = (), toml: str = "") -> tuple:
        root = solution_from_demo(tmp_path / f"solution{len(made)}", plans, triggers, toml=toml)
        app = create_app(
            Settings(data_dir=tmp_path / f"data{len(made)}", solution=root, clock="virtual", clock_start=START)
        )
        made.append(app)
        return app, Api(app, client_token(app), renew=lambda: client_token(app)), app.extensions["operate"]

    yield make
    for app in made:
        app.extensions["operate"].close()


def log_of(api, execution):
    lines = []
    for step in execution["steps"]:
        lines += api.get(f"/api/executionengine/plans/executing/{execution['id']}/steps/{step['id']}/log").json
    return lines


APPROVE = """
function main(ev, ctx, log) {
  log.Information("approved " + ctx.workItemId);
  var item = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);
  ctx.reference = item.body.workItem.reference;
  ctx.status = item.status;
  var saved = sharedo.http.post("/api/v1/public/workItem/" + ctx.workItemId + "/attributes/sentToPms/",
                                {value: "yes"});
  ctx.saved = saved.success;
  trigger.SubProcess("finish").Now();
}
function finish(ev, ctx, log) { log.Information("done with " + ctx.reference); }
return { main: main, finish: finish };
"""


def test_a_phase_change_starts_the_plan_which_reads_and_writes_through_the_api(make_app):
    app, api, em = make_app(
        {"approve": APPROVE}, [phase_trigger("approve", "payment-request", ["payment-request-approved"])]
    )
    response = api.put(f"{V1}/{SUBMITTED_PAYMENT}/phase", {"toPhaseSystemName": "payment-request-approved"})
    assert response.status_code == 200
    (execution,) = executions(api)
    assert execution["state"] == "STOPPED" and execution["planSystemName"] == "approve"
    assert execution["sharedoId"] == SUBMITTED_PAYMENT and execution["sharedoReference"] == "PR-00001"
    assert execution["ctx"] == {"workItemId": SUBMITTED_PAYMENT, "reference": "PR-00001", "status": "OK", "saved": True}
    assert [s["systemName"] for s in execution["steps"]] == ["main", "finish"]
    assert [line["logMessage"] for line in log_of(api, execution)] == [
        f"approved {SUBMITTED_PAYMENT}",
        "done with PR-00001",
    ]
    assert api.get(f"{V1}/{SUBMITTED_PAYMENT}/attributes/sentToPms").json["value"] == "yes"
    changed = events_of(api, "attribute-changed")
    assert len(changed) == 1  # the POST ran once, though the step ran three times (two replays)


def test_only_matching_events_start_plans(make_app):
    app, api, em = make_app(
        {"approve": APPROVE}, [phase_trigger("approve", "payment-request", ["payment-request-approved"])]
    )
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    api.post(f"{V1}/{SUBMITTED_PAYMENT}/attributes/x", {"value": "1"})
    assert executions(api) == []


def test_triggers_match_derived_types(make_app):
    plan = "function main(ev, ctx, log) { log.Information(ev.Data.sharedoTypeSystemName); }\nreturn {main: main};"
    app, api, em = make_app({"any-matter": plan}, [phase_trigger("any-matter", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    assert [line["logMessage"] for line in log_of(api, execution)] == ["matter-private-client"]


def test_timers_wait_on_the_one_clock(make_app):
    plan = """
    function main(ev, ctx, log) { trigger.SubProcess("chase").In(3).Days; log.Information("waiting"); }
    function chase(ev, ctx, log) { log.Warning("chasing at " + DateTime.Now.ToString("o")); }
    return { main: main, chase: chase };
    """
    app, api, em = make_app({"chaser": plan}, [phase_trigger("chaser", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    assert execution["state"] == "WAITING"
    assert execution["steps"][1]["dueAt"] == "2026-01-08T09:00:00.000Z"
    api.post("/api/_emulator/clock", {"advance": "P2D"})
    assert executions(api)[0]["state"] == "WAITING"
    api.post("/api/_emulator/clock", {"advance": "P1D"})
    (execution,) = executions(api)
    assert execution["state"] == "STOPPED"
    assert log_of(api, execution)[-1] == {
        "logTime": "2026-01-08T09:00:00.000Z",
        "logLevel": "Warning",
        "logMessage": "chasing at 2026-01-08T09:00:00.0000000Z",
    }


def test_an_endless_loop_is_stopped_at_the_cpu_limit_and_others_carry_on(make_app):
    loop = "function main(ev, ctx, log) { while (true) {} }\nreturn {main: main};"
    fine = "function main(ev, ctx, log) { log.Information('fine'); }\nreturn {main: main};"
    app, api, em = make_app(
        {"loop": loop, "fine": fine},
        [phase_trigger("loop", "matter", ["matter-open"]), phase_trigger("fine", "matter", ["matter-open"])],
        toml="[plans.loop]\ncpu_seconds = 0.2\n",
    )
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    by_plan = {e["planSystemName"]: e for e in executions(api)}
    assert by_plan["loop"]["state"] == "ERRORED"
    assert "CPU-time limit of 0.2 s" in by_plan["loop"]["lastErrored"]
    assert by_plan["fine"]["state"] == "STOPPED"
    assert api.get("/api/_emulator/health").status_code == 200


def test_a_memory_bomb_is_stopped_at_the_heap_limit(make_app):
    bomb = (
        "function main(ev, ctx, log) { var a = []; while (true) { a.push(new Array(100000).fill(1)); } }\n"
        "return {main: main};"
    )
    fine = "function main(ev, ctx, log) { ctx.ok = true; }\nreturn {main: main};"
    app, api, em = make_app(
        {"bomb": bomb, "fine": fine},
        [phase_trigger("bomb", "matter", ["matter-open"]), phase_trigger("fine", "matter", ["matter-open"])],
        toml="[plans.bomb]\nheap_mb = 32\n",
    )
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    by_plan = {e["planSystemName"]: e for e in executions(api)}
    assert by_plan["bomb"]["state"] == "ERRORED" and "heap limit of 32 MB" in by_plan["bomb"]["lastErrored"]
    assert by_plan["fine"]["state"] == "STOPPED" and by_plan["fine"]["ctx"]["ok"] is True


def test_a_thrown_error_names_the_plan_file_and_line(make_app):
    plan = (
        "function main(ev, ctx, log) {\n  log.Information('before');\n  throw new Error('no PMS reference');\n}\n"
        "return {main: main};"
    )
    app, api, em = make_app({"thrower": plan}, [phase_trigger("thrower", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    assert execution["state"] == "ERRORED"
    assert execution["lastErrored"] == "no PMS reference (plans/thrower.js, step 'main')"
    lines = log_of(api, execution)
    assert lines[0]["logMessage"] == "before"
    assert lines[-1]["logLevel"] == "Error" and "plans/thrower.js:3" in lines[-1]["logMessage"]
    assert "operate-host.js" not in lines[-1]["logMessage"]


def test_a_syntax_error_names_the_plan_file_and_line(make_app):
    plan = "function main(ev, ctx, log) {\n  var = 1;\n}\nreturn {main: main};"
    app, api, em = make_app({"broken": plan}, [phase_trigger("broken", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    assert execution["state"] == "ERRORED"
    assert "plans/broken.js:2" in execution["lastErrored"] and "SyntaxError" in execution["lastErrored"]


def test_a_failed_call_can_be_retried_without_resending_what_succeeded(make_app):
    plan = """
    function main(ev, ctx, log) {
      sharedo.http.post("/api/v1/public/workItem/" + ctx.workItemId + "/comments", {comment: "sending"});
      var ref = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId + "/attributes/pmsReference");
      if (!ref.success) throw "PMS reference missing: " + ref.status;
      ctx.pmsReference = ref.body.value;
    }
    return { main: main };
    """
    app, api, em = make_app({"send": plan}, [phase_trigger("send", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    assert execution["state"] == "ERRORED"
    assert execution["lastErrored"] == "PMS reference missing: NotFound (plans/send.js, step 'main')"
    api.post(f"{V1}/{ENQUIRY_MATTER}/attributes/pmsReference", {"value": "PMS-9"})
    step = execution["steps"][0]
    retried = api.post(f"/api/executionengine/plans/executing/{execution['id']}/steps/{step['id']}/retry")
    assert retried.status_code == 200, retried.json
    assert retried.json["state"] == "STOPPED" and retried.json["ctx"]["pmsReference"] == "PMS-9"
    assert retried.json["steps"][0]["attempts"] == 2
    comments = api.get(f"{V1}/{ENQUIRY_MATTER}/comments").json
    assert comments["totalRows"] == 1  # the POST before the failure was not sent again
    again = api.post(f"/api/executionengine/plans/executing/{execution['id']}/steps/{step['id']}/retry")
    assert again.status_code == 409


def test_time_randomness_and_guids_are_exact_across_replays(make_app):
    plan = """
    function main(ev, ctx, log) {
      var before = [Guid.NewGuid().ToString(), Math.random(), new Date().toISOString(), Date.now()];
      sharedo.http.get("/api/security/userInfo");
      var after = [Guid.NewGuid().ToString(), Math.random()];
      ctx.before = before; ctx.after = after;
    }
    return { main: main };
    """
    app, api, em = make_app({"det": plan}, [phase_trigger("det", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    before, after = execution["ctx"]["before"], execution["ctx"]["after"]
    assert execution["state"] == "STOPPED"
    assert before[2] == "2026-01-05T09:00:00.000Z" and before[3] == 1767603600000
    assert before[0] != after[0] and before[1] != after[1]
    assert len(before[0]) == 36 and before[0][14] == "4"


def test_plans_call_as_ee_app_which_can_be_refused(make_app):
    plan = """
    function main(ev, ctx, log) {
      ctx.who = sharedo.http.get("/api/security/userInfo").body.clientId;
      ctx.reset = sharedo.http.post("/api/_emulator/reset", {}).status;
      ctx.outside = sharedo.http.get("https://example.com/steal").status;
    }
    return { main: main };
    """
    app, api, em = make_app({"who": plan}, [phase_trigger("who", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    assert execution["ctx"] == {
        "workItemId": ENQUIRY_MATTER,
        "who": "ee-app",
        "reset": "Forbidden",
        "outside": "Forbidden",
    }


def test_a_runtime_trigger_resumes_the_execution_on_a_phase(make_app):
    plan = """
    function main(ev, ctx, log) {
      trigger.CreateForSharedo(ctx.workItemId).Execute("whenClosed").OnPhase("matter-closed");
    }
    function whenClosed(ev, ctx, log) { log.Information("closed"); }
    return { main: main, whenClosed: whenClosed };
    """
    app, api, em = make_app({"watch": plan}, [phase_trigger("watch", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    assert executions(api)[0]["state"] == "WAITING"
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-closed"})
    (execution,) = executions(api)
    assert execution["state"] == "STOPPED" and log_of(api, execution)[-1]["logMessage"] == "closed"


def test_build_task_saves_a_task_and_on_complete_runs_a_step(make_app):
    plan = """
    function main(ev, ctx, log) {
      ctx.taskId = actions.sharedo.BuildTask()
        .OfType("task").WithTitle(sharedo.buildString("Chase {{workItemId}}"))
        .ForSharedo(ctx.workItemId)
        .DueOn(actions.sharedo.AddWorkingDays(DateTime.Now, 5))
        .OnComplete("taskDone")
        .Build().Save();
    }
    function taskDone(ev, ctx, log) { log.Information("task done " + ctx.taskId); }
    return { main: main, taskDone: taskDone };
    """
    app, api, em = make_app({"tasker": plan}, [phase_trigger("tasker", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    task_id = execution["ctx"]["taskId"]
    task = api.get(f"{V1}/{task_id}").json
    assert task["workItem"]["title"] == f"Chase {ENQUIRY_MATTER}"
    assert task["workItem"]["parentSharedoId"] == ENQUIRY_MATTER
    assert task["aspectData"]["task"]["dueDateTime"] == "2026-01-12T09:00:00.0000000Z"  # Monday + 5 working days
    assert execution["state"] == "WAITING"
    api.put(f"{V1}/{task_id}/phase", {"toPhaseSystemName": "task-done"})
    (execution,) = executions(api)
    assert execution["state"] == "STOPPED" and log_of(api, execution)[-1]["logMessage"] == f"task done {task_id}"


def test_cancel_stops_a_waiting_execution_and_its_timers(make_app):
    plan = (
        "function main(ev, ctx, log) { trigger.SubProcess('later').In(1).Hours; }\n"
        "function later(ev, ctx, log) { log.Information('should not run'); }\nreturn {main: main, later: later};"
    )
    app, api, em = make_app({"waiter": plan}, [phase_trigger("waiter", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    cancelled = api.post(f"/api/executionengine/visualmodeller/plans/executing/{execution['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["state"] == "STOPPED"
    api.post("/api/_emulator/clock", {"advance": "PT2H"})
    (execution,) = executions(api)
    assert [s["state"] for s in execution["steps"]] == ["COMPLETED", "CANCELLED"]
    assert api.post(f"/api/executionengine/plans/executing/{execution['id']}/cancel").status_code == 409


def test_monitoring_routes_errors(make_app):
    app, api, em = make_app({})
    base = "/api/executionengine/plans/executing"
    assert api.get(f"{base}/00000000-0000-4000-8000-000000000000").status_code == 404
    assert api.get(f"{base}?state=SLEEPING").status_code == 400
    assert api.post(f"{base}/x/steps/y/retry").status_code == 404
    assert api.get(f"{base}/x/steps/y/log").status_code == 404


def test_plan_files_edited_on_disk_are_picked_up_without_a_restart(make_app):
    app, api, em = make_app(
        {"edit": "function main(ev, ctx, log) { ctx.v = 1; }\nreturn {main: main};"},
        [phase_trigger("edit", "matter", ["matter-open", "matter-closed"])],
    )
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    path = em.smartplans.plans["edit"].path
    path.write_text("function main(ev, ctx, log) { ctx.v = 2; }\nreturn {main: main};")
    import os

    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-closed"})
    assert [e["ctx"]["v"] for e in executions(api)] == [1, 2]


def test_a_restart_resumes_waiting_timers(tmp_path):
    plan = (
        "function main(ev, ctx, log) { trigger.SubProcess('b').In(1).Days; }\n"
        "function b(ev, ctx, log) { ctx.b = true; }\nreturn {main: main, b: b};"
    )
    root = solution_from_demo(tmp_path / "sol", {"p": plan}, [phase_trigger("p", "matter", ["matter-open"])])
    settings = Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START)
    app = create_app(settings)
    api = Api(app, client_token(app))
    api.put(f"{V1}/{OPEN_MATTER}/phase", {"toPhaseSystemName": "matter-closed"})
    api.put(f"{V1}/{OPEN_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    app.extensions["operate"].close()
    again = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual"))
    em = again.extensions["operate"]
    em.clock.advance(timedelta(days=2))
    (execution,) = em.smartplans.executions()
    assert execution["state"] == "STOPPED" and execution["ctx"]["b"] is True
    em.close()


def test_a_redelivered_event_starts_no_second_execution(make_app):
    """At-least-once delivery: a crash after the plan ran but before the cursor moved redelivers the event."""
    plan = (
        "function main(ev, ctx, log) { sharedo.http.post('/api/v1/public/workItem/' + ctx.workItemId + "
        "'/comments', {comment: 'once'}); }\nreturn {main: main};"
    )
    app, api, em = make_app({"once": plan}, [phase_trigger("once", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    with em.store.transaction() as tx:
        em.store.set_meta(tx, "dispatcher.cursor", "0")  # as if the process died before recording progress
    em.dispatcher.drain()
    assert len(executions(api)) == 1
    assert api.get(f"{V1}/{ENQUIRY_MATTER}/comments").json["totalRows"] == 1


def test_submitted_time_starts_a_plan_filtered_by_state(make_app):
    plan = (
        "function main(ev, ctx, log) { log.Information(ev.Data.toState + ' ' + ev.Data.durationSeconds); }\n"
        "return {main: main};"
    )
    trigger = {
        "TriggerType": "event",
        "TriggerSubType": "time-entry-state-changed",
        "SharedoTypeSystemName": "matter",
        "TriggerMeta": json.dumps({"StatesSystemNames": ["submitted"]}),
        "PlanSystemName": "time",
        "StepSystemName": "main",
    }
    app, api, em = make_app({"time": plan}, [trigger])
    entry = api.post(
        "/api/v2/public/time/entry",
        {
            "sharedoId": OPEN_MATTER,
            "odsId": "1a000000-0000-4000-8000-000000000001",
            "durationSeconds": 600,
            "segments": [{"id": "activity", "timeCodeId": "A101"}, {"id": "narrative", "segmentValue": "call"}],
        },
    ).json
    assert executions(api) == []  # created as a draft: not a submission
    api.post(f"/api/v2/public/time/entry/{entry['id']}/submit")
    (execution,) = executions(api)
    assert [line["logMessage"] for line in log_of(api, execution)] == ["submitted 600"]


def test_an_emulator_without_its_app_errors_a_plans_host_call_saying_how_to_give_it_one(tmp_path):
    """The domain never builds the app (that would import the composition root back): library use is
    `create_app(emulator=em)`, and forgetting it is an execution error that says so, not a hang or a 500."""
    from emulator.app import create_app
    from emulator.core import Emulator
    from smartplans.testing import mount_demo_pms

    em = Emulator(Settings(data_dir=tmp_path, demo=True, clock="virtual", clock_start=START))
    mount_demo_pms(em)
    em.workitems.change_phase(ENQUIRY_MATTER, {"toPhaseSystemName": "matter-open"}, None)
    (execution,) = em.smartplans.executions(plan="matter-inception")
    assert execution["state"] == "ERRORED" and "create_app(emulator=em)" in execution["lastErrored"]
    create_app(emulator=em)
    em.workitems.change_phase(ENQUIRY_MATTER, {"toPhaseSystemName": "matter-closed"}, None)
    em.workitems.change_phase(ENQUIRY_MATTER, {"toPhaseSystemName": "matter-open"}, None)
    latest = em.smartplans.executions(plan="matter-inception")[-1]
    assert latest["state"] == "STOPPED", latest["lastErrored"]
    assert em.workitems.attributes(ENQUIRY_MATTER)["pmsReference"].startswith("PMS-26")
    em.close()


def test_a_retry_never_resends_a_write_that_succeeded_even_after_a_handled_failure(make_app):
    """A handled 404, then a successful POST, then a failure: the retry replays the POST, not resends it."""
    plan = """
    function main(ev, ctx, log) {
      var missing = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId + "/attributes/nothing");
      log.Information("optional attribute: " + missing.status);
      sharedo.http.post("/api/v1/public/workItem/" + ctx.workItemId + "/comments", {comment: "posted once"});
      var ref = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId + "/attributes/pmsReference");
      if (!ref.success) throw "no reference yet";
    }
    return { main: main };
    """
    app, api, em = make_app({"p": plan}, [phase_trigger("p", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    api.post(f"{V1}/{ENQUIRY_MATTER}/attributes/pmsReference", {"value": "PMS-1"})
    step = execution["steps"][0]["id"]
    retried = api.post(f"/api/executionengine/plans/executing/{execution['id']}/steps/{step}/retry").json
    assert retried["state"] == "STOPPED"
    assert api.get(f"{V1}/{ENQUIRY_MATTER}/comments").json["totalRows"] == 1


def test_a_retry_later_replays_the_step_at_its_first_time(make_app):
    """A step that writes DateTime.Now and then fails still replays exactly when retried an hour later."""
    plan = """
    function main(ev, ctx, log) {
      sharedo.http.post("/api/v1/public/workItem/" + ctx.workItemId + "/comments",
                        {comment: "at " + DateTime.Now.ToString("o")});
      var ref = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId + "/attributes/pmsReference");
      if (!ref.success) throw "no reference yet";
    }
    return { main: main };
    """
    app, api, em = make_app({"p": plan}, [phase_trigger("p", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    api.post("/api/_emulator/clock", {"advance": "PT1H"})
    api.post(f"{V1}/{ENQUIRY_MATTER}/attributes/pmsReference", {"value": "PMS-1"})
    step = execution["steps"][0]["id"]
    retried = api.post(f"/api/executionengine/plans/executing/{execution['id']}/steps/{step}/retry").json
    assert retried["state"] == "STOPPED", retried["lastErrored"]
    comments = api.get(f"{V1}/{ENQUIRY_MATTER}/comments").json
    assert comments["totalRows"] == 1 and comments["rows"][0]["comment"] == "at 2026-01-05T09:00:00.0000000Z"


def test_text_that_cannot_be_recorded_is_never_sent(make_app):
    plan = """
    function main(ev, ctx, log) {
      var r = sharedo.http.post("/api/v1/public/workItem/" + ctx.workItemId + "/comments",
                                {comment: "Fee agreed \\ud83d"});
      ctx.status = r.status;
    }
    return { main: main };
    """
    app, api, em = make_app({"p": plan}, [phase_trigger("p", "matter", ["matter-open"])])
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = executions(api)
    assert execution["state"] == "STOPPED" and execution["ctx"]["status"] == "BadRequest"
    assert api.get(f"{V1}/{ENQUIRY_MATTER}/comments").json["totalRows"] == 0
    em.smartplans.resume()  # nothing half-done is left for a restart to send
    assert api.get(f"{V1}/{ENQUIRY_MATTER}/comments").json["totalRows"] == 0


@pytest.mark.parametrize(
    "call, words",
    [
        ("trigger.SubProcess('b').In(1e7).Days;", "is not a usable date"),
        ("trigger.SubProcess('b').On(new Date('not a date'));", "the date is not valid"),
        ("trigger.CreateForSharedo(ctx.workItemId).Execute('b').OnPhase();", "a phase system name is required"),
    ],
)
def test_an_unusable_trigger_errors_the_execution_and_other_plans_still_run(make_app, call, words):
    bad = f"function main(ev, ctx, log) {{ {call} }}\nfunction b(ev, ctx, log) {{}}\nreturn {{main: main, b: b}};"
    fine = "function main(ev, ctx, log) { ctx.ran = true; }\nreturn {main: main};"
    app, api, em = make_app(
        {"bad": bad, "fine": fine},
        [phase_trigger("bad", "matter", ["matter-open"]), phase_trigger("fine", "matter", ["matter-open"])],
    )
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    by_plan = {e["planSystemName"]: e for e in executions(api)}
    assert by_plan["bad"]["state"] == "ERRORED" and words in by_plan["bad"]["lastErrored"]
    assert by_plan["fine"]["state"] == "STOPPED" and by_plan["fine"]["ctx"]["ran"] is True


def test_a_401_from_a_service_behind_the_proxy_is_not_sent_again(make_app):
    app, api, em = make_app(
        {
            "p": "function main(ev, ctx, log) { ctx.s = sharedo.http.post("
            "'/api/proxy/demo-pms/_/api/matters', {}).status; }\nreturn {main: main};"
        },
        [phase_trigger("p", "matter", ["matter-open"])],
    )
    backend = em.linked_services.fakes["demo-pms"]
    em.linked_services.services["demo-pms"].api_key = "wrong-key"  # the PMS will answer 401
    em.linked_services.add(
        em.linked_services.services["demo-pms"],
        __import__("httpx").WSGITransport(
            app=__import__("pms_adapters.fakes.demo_pms.app", fromlist=["create_app"]).create_app(backend)
        ),
    )
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = [e for e in executions(api) if e["planSystemName"] == "p"]
    assert execution["ctx"]["s"] == "Unauthorized"
    assert len(backend.requests("POST", "/api/matters")) == 1


def test_reset_waits_for_the_dispatcher_and_nothing_is_lost(tmp_path):
    """Under serve, a reset while the worker delivers must not write back an old cursor."""
    import threading

    from emulator.core import Emulator
    from smartplans.testing import solution_from_demo

    em = Emulator(Settings(data_dir=tmp_path / "d", solution=solution_from_demo(tmp_path / "s"), inline_dispatch=False))
    entered, release, seen = threading.Event(), threading.Event(), []

    def slow(event):
        seen.append(event.event_type)
        if len(seen) == 1:
            entered.set()
            release.wait(10)

    em.dispatcher.subscribe("slow", slow)
    em.start_background()
    em.workitems.set_attributes(OPEN_MATTER, {"a": "1"}, None)
    em.workitems.set_attributes(OPEN_MATTER, {"b": "1"}, None)
    assert entered.wait(10)
    resetter = threading.Thread(target=em.reset)
    resetter.start()
    release.set()
    resetter.join(10)
    em.workitems.change_phase(ENQUIRY_MATTER, {"toPhaseSystemName": "matter-open"}, None)
    for _ in range(200):
        if "sharedo-phase-changed" in seen:
            break
        __import__("time").sleep(0.05)
    em.close()
    assert seen[-1] == "sharedo-phase-changed"  # the first event after the reset was delivered
    assert em.dispatcher is not None


def test_a_plans_token_that_ran_out_on_the_clock_is_renewed_once_but_a_pms_401_is_not_sent_again(make_app):
    """One 401 policy (smartplans.in_process_http.renewing_once): the emulator's own 401 renews ee-app's token;
    a 401 from a PMS behind the proxy is that system's answer, and the call is not sent again."""
    import dataclasses

    import httpx

    from pms_adapters.fakes.demo_pms.app import create_app as create_pms
    from smartplans.testing import mount_demo_pms

    plan = """
    function main(ev, ctx, log) {
      var first = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);
      trigger.SubProcess("later").In(3).Days;
      ctx.first = first.status;
    }
    function later(ev, ctx, log) {
      ctx.after = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId).status;
      ctx.pms = sharedo.http.get("/api/proxy/demo-pms/_/api/suppliers").status;
    }
    return { main: main, later: later };
    """
    app, api, em = make_app({"renews": plan}, [phase_trigger("renews", "matter", ["matter-open"])])
    pms = mount_demo_pms(em)
    api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "matter-open"})
    # the proxy now sends a key the PMS (still expecting its own) refuses with 401
    wrong_key = dataclasses.replace(em.linked_services.services["demo-pms"], api_key="a-key-the-pms-refuses")
    em.linked_services.add(wrong_key, httpx.WSGITransport(app=create_pms(pms, api_key="demo-pms-key")))
    api.post("/api/_emulator/clock", {"advance": "P3D"})  # ee-app's 15-minute token ran out long ago
    (execution,) = executions(api)
    assert execution["state"] == "STOPPED", execution["lastErrored"]
    assert execution["ctx"]["first"] == "OK" and execution["ctx"]["after"] == "OK"
    assert execution["ctx"]["pms"] == "Unauthorized"
    assert len(pms.requests("GET", "/api/suppliers")) == 1
