"""Every global a plan uses, driven from JavaScript in real V8 against the demo solution."""

from __future__ import annotations

import pytest

from smartplans.plans import Plan
from tests.conftest import ENQUIRY_MATTER, OPEN_MATTER, SUBMITTED_PAYMENT


@pytest.fixture
def run(app, em):
    """Run a snippet as the `main` step of a fresh plan; return the finished execution."""
    count = iter(range(1000))

    def run(body: str, *, steps: str = "", ev_data: dict | None = None) -> dict:
        name = f"snippet{next(count)}"
        source = f"function main(ev, ctx, log) {{\n{body}\n}}\n{steps}\nreturn {{ main: main{_names(steps)} }};"
        em.smartplans.add_plan(Plan(name, name, "script", source, f"plans/{name}.js"))
        execution_id = em.smartplans.start(
            name, "main", {"Data": ev_data or {"sharedoId": OPEN_MATTER}}, {"workItemId": OPEN_MATTER}
        )
        return em.smartplans.execution(execution_id)

    return run


def _names(steps: str) -> str:
    import re

    return "".join(f", {n}: {n}" for n in re.findall(r"function (\w+)\(", steps))


def logs(em, execution) -> list[tuple[str, str]]:
    out = []
    for step in execution["steps"]:
        out += [(line["logLevel"], line["logMessage"]) for line in em.smartplans.step_log(execution["id"], step["id"])]
    return out


def test_ctx_and_ev(run):
    ex = run("ctx.seen = ev.Data.sharedoId + '|' + ev.PlanExecutionId; ctx.input = ctx.workItemId;")
    assert ex["ctx"]["seen"] == f"{OPEN_MATTER}|{ex['id']}" and ex["ctx"]["input"] == OPEN_MATTER


def test_ctx_persists_across_steps(run):
    ex = run("ctx.n = 1; trigger.SubProcess('two').Now();", steps="function two(ev, ctx, log) { ctx.n += 1; }")
    assert ex["ctx"]["n"] == 2 and [s["systemName"] for s in ex["steps"]] == ["main", "two"]


def test_log_levels(run, em):
    ex = run("log.Information('i', 1); log.Warning({a: 1}); log.Error('e'); log.Debug('d');")
    assert logs(em, ex) == [("Information", "i 1"), ("Warning", '{"a":1}'), ("Error", "e"), ("Debug", "d")]


def test_trigger_on_and_in_units(run, em):
    ex = run(
        "trigger.SubProcess('a').On(DateTime.Now.AddHours(5)); trigger.SubProcess('b').In(90).Minutes;",
        steps="function a(ev, ctx, log) { ctx.a = DateTime.Now.ToString('o'); }\n"
        "function b(ev, ctx, log) { ctx.b = DateTime.Now.ToString('o'); }",
    )
    assert ex["state"] == "WAITING"
    assert [s["dueAt"] for s in ex["steps"][1:]] == ["2026-01-05T14:00:00.000Z", "2026-01-05T10:30:00.000Z"]
    em.clock.advance(__import__("datetime").timedelta(hours=6))
    done = em.smartplans.execution(ex["id"])
    assert done["state"] == "STOPPED"
    assert (done["ctx"]["a"], done["ctx"]["b"]) == ("2026-01-05T14:00:00.0000000Z", "2026-01-05T10:30:00.0000000Z")


def test_http_verbs_and_dotnet_status_names(run):
    ex = run(f"""
      var base = '/api/v1/public/workItem/{OPEN_MATTER}';
      ctx.get = sharedo.http.get(base).status;
      ctx.put = sharedo.http.put(base, {{workItem: {{description: 'from a plan'}}}}).status;
      ctx.post = sharedo.http.post(base + '/comments', {{comment: 'hi'}}).status;
      var added = sharedo.http.post('/api/v2/public/workItem/' + ctx.workItemId + '/participants',
                                    {{roleSystemName: 'other-side', odsId: '2b000000-0000-4000-8000-000000000007'}});
      var parts = '/api/v2/public/workItem/' + ctx.workItemId + '/participants/';
      ctx.del = sharedo.http.delete(parts + added.body.id).status;
      ctx.missing = sharedo.http.get('/api/v1/public/workItem/00000000-0000-4000-8000-000000000000').status;
      ctx.bad = sharedo.http.post(base + '/comments', {{}}).success;
    """)
    assert ex["ctx"] | {"workItemId": None} == {
        "workItemId": None,
        "get": "OK",
        "put": "OK",
        "post": "Created",
        "del": "NoContent",
        "missing": "NotFound",
        "bad": False,
    }


def test_set_phase_and_build_string(run, api):
    ex = run(
        "sharedo.setPhase(ctx.workItemId, 'matter-closed', false, 'done');"
        "ctx.text = sharedo.buildString('Closed {{workItemId}} ({{nested.x}}{{missing}})');",
        ev_data={"sharedoId": OPEN_MATTER},
    )
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}/phase").json["systemName"] == "matter-closed"
    assert ex["ctx"]["text"] == f"Closed {OPEN_MATTER} ()"


def test_set_phase_failure_throws(run):
    ex = run("sharedo.setPhase(ctx.workItemId, 'matter-enquiry');")
    assert ex["state"] == "ERRORED" and "sharedo.setPhase" in ex["lastErrored"] and "BadRequest" in ex["lastErrored"]


def test_builders_action_plan_and_call_to_action(run, api):
    ex = run("""
      var cta = actions.sharedo.BuildCallToAction().WithDisplay('Open the file').WithStyles('btn-primary').Build();
      var item = actions.sharedo.BuildActionPlanItem().WithDescription('Check ID').AddCheckbox().MarkRequired()
                   .WithOrder(1).WithCallToAction(cta).Build();
      ctx.cta = cta;
      ctx.saved = actions.sharedo.BuildActionPlan().ForSharedo(ctx.workItemId).WithTitle('Onboarding')
                   .AddItem(item).Build().Save();
      ctx.taskId = actions.sharedo.BuildTask().OfType('task').WithTitle('Chase').ForSharedo(ctx.workItemId)
                   .Assign('primary-owner').To('1a000000-0000-4000-8000-000000000002')
                   .WithActionPlan().WithTitle('Steps').AddItem(item).Build().Build().Save();
    """)
    assert ex["state"] == "STOPPED", ex["lastErrored"]
    assert ex["ctx"]["cta"]["Display"] == "Open the file" and ex["ctx"]["cta"]["Css"] == "btn-primary"
    plan = api.get(f"/api/v1/public/workItem/{OPEN_MATTER}").json["aspectData"]["actionPlan"]
    assert plan["title"] == "Onboarding" and plan["items"][0]["required"] is True
    task = api.get(f"/api/v1/public/workItem/{ex['ctx']['taskId']}").json
    assert task["aspectData"]["actionPlan"]["title"] == "Steps"
    owners = api.get(f"/api/v2/public/workItem/{ex['ctx']['taskId']}/participants").json
    assert [p["odsName"] for p in owners] == ["Daniel Okafor"]


def test_working_days_and_hours(run):
    ex = run(
        "ctx.fri = actions.sharedo.AddWorkingDays(DateTime.Parse('2026-01-09T10:00:00Z'), 1).ToString('o');"
        "ctx.back = actions.sharedo.AddWorkingDays(DateTime.Parse('2026-01-12T10:00:00Z'), -1).ToString('s');"
        "ctx.hours = actions.sharedo.AddWorkingHours(DateTime.Parse('2026-01-09T16:00:00Z'), 2).ToString('s');"
    )
    assert ex["ctx"]["fri"] == "2026-01-12T10:00:00.0000000Z"  # Friday + 1 working day = Monday
    assert ex["ctx"]["back"] == "2026-01-09T10:00:00"
    assert ex["ctx"]["hours"] == "2026-01-12T10:00:00"


def test_datetime(run):
    ex = run(
        "var d = DateTime.Parse('2026-02-28T23:30:00Z');"
        "ctx.r = [d.AddDays(1).ToString('yyyy-MM-dd'), d.AddMonths(1).Month, d.Year, d.DayOfWeek,"
        " DateTime.Now.ToString('o'), DateTime.UtcNow > d, d.AddMinutes(45).Hour, String(DateTime.TryParse('x'))];"
        "try { DateTime.Parse('not a date'); } catch (e) { ctx.err = e.message; }"
    )
    assert ex["ctx"]["r"] == ["2026-03-01", 3, 2026, 6, "2026-01-05T09:00:00.0000000Z", False, 0, "null"]
    assert "cannot read a date" in ex["ctx"]["err"]


def test_guid(run):
    ex = run(
        "var g = Guid.NewGuid(); ctx.g = g.ToString(); ctx.p = Guid.Parse('{ABCDEF01-2345-4678-9ABC-DEF012345678}')"
        ".ToString(); ctx.eq = Guid.Parse(ctx.p).Equals(ctx.p.toUpperCase()); ctx.empty = Guid.Empty.ToString();"
        "try { Guid.Parse('nope'); } catch (e) { ctx.err = e.message; }"
    )
    assert len(ex["ctx"]["g"]) == 36 and ex["ctx"]["p"] == "abcdef01-2345-4678-9abc-def012345678"
    assert ex["ctx"]["eq"] is True and ex["ctx"]["empty"] == "00000000-0000-0000-0000-000000000000"
    assert "not a GUID" in ex["ctx"]["err"]


def test_no_file_system_process_or_network(run):
    ex = run("ctx.types = [typeof require, typeof process, typeof fetch, typeof XMLHttpRequest, typeof setTimeout];")
    assert ex["ctx"]["types"] == ["undefined"] * 5


def test_an_enquiry_matter_is_a_fine_input_too(run):
    ex = run(
        "ctx.phase = sharedo.http.get('/api/v1/public/workItem/' + ev.Data.sharedoId + '/phase').body.systemName;",
        ev_data={"sharedoId": ENQUIRY_MATTER},
    )
    assert ex["ctx"]["phase"] == "matter-enquiry"


def test_payment_request_graph_read(run):
    ex = run(f"""var q = sharedo.http.post('/api/executionengine/graph/sharedo/query',
                {{entityType: 'payment-request', entityId: '{SUBMITTED_PAYMENT}', responseType: 'flat',
                  fields: [{{path: 'form-demo-finance.pmsReference'}},
                           {{path: 'ancestors!q?type=matter!1.reference'}}]}});
                ctx.data = q.body.data;""")
    assert ex["ctx"]["data"]["ancestors!q?type=matter!1.reference"] == "MAT-00002"
