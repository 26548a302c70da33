"""Visual workflows as a real tenant exports them, run end to end through the public API.

The solution is tests/fixtures/solutions/visual: the S6 "Demo 01" example (operate-surface §5.5)
as exported visual workflows, whose steps are the actions' GeneratedScript blocks (see the
comment at the top of each workflows/*.json file for where each block comes from). The PMS is a
small recording fake of the S6 demo's financials API (sharedo-tech/forum2024-02-S3
PMSApi/MatterFinancialsController.cs) served on a real loopback port and reached through the
`demo01` linked service, as the real block reaches it: `POST /api/proxy/demo01/_/api/matter/{ref}/financials`.
"""

from __future__ import annotations

import json
import shutil

import pytest
from flask import Flask, jsonify, request

from emulator.app import create_app
from emulator.kernel.jsonfile import load as load_json
from emulator.settings import Settings
from tests.conftest import START, Api, client_token, executions
from tests.helpers.loopback import serving
from tests.helpers.paths import FIXTURES

FIXTURE = FIXTURES / "solutions" / "visual"
V1 = "/api/v1/public/workItem"
EXECUTING = "/api/executionengine/plans/executing"

BALANCE = "demo01-pms-balance"
CLOSURE = "demo01-matter-closure"

MATTER = "d0000000-0000-4000-8000-000000000001"  # demo01PmsReference PMS-7001
TASK_UNDER_MATTER = "d0000000-0000-4000-8000-000000000002"  # no reference of its own
STANDALONE_TASK = "d0000000-0000-4000-8000-000000000003"  # no parent, no reference
TASK_WITH_OWN_REF = "d0000000-0000-4000-8000-000000000004"  # PMS-7001-B, under MATTER

API_KEY = "abcd1234"  # the S6 demo's key (its readme)


def fake_pms() -> Flask:
    """The S6 demo PMS's financials API, recording what it is sent."""
    app = Flask("fake-pms")
    app.received = []  # type: ignore[attr-defined]
    app.balances = {}  # type: ignore[attr-defined]

    @app.route("/api/matter/<reference>/financials", methods=["GET", "POST"])
    def financials(reference: str):
        app.received.append(  # type: ignore[attr-defined]
            {
                "method": request.method,
                "path": request.path,
                "apiKey": request.headers.get("X-API-Key"),
                "json": request.get_json(silent=True),
            }
        )
        if request.headers.get("X-API-Key") != API_KEY:
            return jsonify({"error": "no or wrong API key"}), 401
        if reference == "PMS-BROKEN":
            return jsonify({"error": "ledger locked"}), 500
        balance = app.balances.get(reference, 0)  # type: ignore[attr-defined]
        if request.method == "POST":
            balance += request.get_json()["delta"]
            app.balances[reference] = balance  # type: ignore[attr-defined]
        return jsonify({"balance": balance})

    return app


@pytest.fixture
def pms():
    app = fake_pms()
    with serving(app) as url:
        app.url = url  # type: ignore[attr-defined]
        yield app


@pytest.fixture
def make_api(tmp_path, pms):
    """Build the app from a copy of the fixture (its base_url pointed at the fake PMS); `edit` may
    change the copied workflow documents first."""
    made = []

    def make(edit=None) -> Api:
        root = tmp_path / f"solution{len(made)}"
        shutil.copytree(FIXTURE, root)
        toml = root / "operate.toml"
        text = toml.read_text("utf-8")
        assert 'base_url = "http://127.0.0.1:9"' in text
        toml.write_text(text.replace('base_url = "http://127.0.0.1:9"', f'base_url = "{pms.url}"'), "utf-8")
        if edit is not None:
            for path in (root / "workflows").glob("*.json"):
                doc = load_json(path)
                edit(doc)
                path.write_text(json.dumps(doc), "utf-8")
        app = create_app(
            Settings(data_dir=tmp_path / f"data{len(made)}", solution=root, clock="virtual", clock_start=START)
        )
        made.append(app)
        return Api(app, client_token(app), renew=lambda: client_token(app))

    yield make
    for app in made:
        app.extensions["operate"].close()


@pytest.fixture
def api(make_api):
    return make_api()


# -- helpers --------------------------------------------------------------------------------------
def step_log(api: Api, execution: dict, step: dict) -> list[str]:
    response = api.get(f"{EXECUTING}/{execution['id']}/steps/{step['id']}/log")
    assert response.status_code == 200, response.json
    return [line["logMessage"] for line in response.json]


def logs_by_step(api: Api, execution: dict) -> list[tuple[str, list[str]]]:
    return [(step["systemName"], step_log(api, execution, step)) for step in execution["steps"]]


def set_phase(api: Api, item_id: str, phase: str) -> None:
    response = api.put(f"{V1}/{item_id}/phase", {"toPhaseSystemName": phase})
    assert response.status_code == 200, response.json


def attribute(api: Api, item_id: str, name: str):
    response = api.get(f"{V1}/{item_id}/attributes/{name}")
    assert response.status_code == 200, response.json
    return response.json["value"]


def explain(execution: dict, api: Api) -> str:
    """What went wrong, for assertion messages: state, error and every step's log."""
    return json.dumps(
        {"state": execution["state"], "lastErrored": execution["lastErrored"], "logs": logs_by_step(api, execution)},
        indent=1,
    )


def only_execution(api: Api, plan: str, sharedo_id: str) -> dict:
    found = executions(api, plan=plan, sharedoId=sharedo_id)
    assert len(found) == 1, found
    return found[0]


def pms_posts(pms: Flask) -> list[dict]:
    return [r for r in pms.received if r["method"] == "POST"]  # type: ignore[attr-defined]


# -- the S6 "Demo 01" workflow ----------------------------------------------------------------------
def test_the_task_s_own_reference_is_sent_to_the_pms(api, pms):
    set_phase(api, TASK_WITH_OWN_REF, "task-done")

    execution = only_execution(api, BALANCE, TASK_WITH_OWN_REF)
    assert execution["state"] == "STOPPED", explain(execution, api)
    assert execution["planType"] == "visualWorkflow"
    assert [s["systemName"] for s in execution["steps"]] == ["main", "refFromCurrent", "sendTx", "finish"]
    assert all(s["state"] == "COMPLETED" for s in execution["steps"])
    assert execution["ctx"]["workItemId"] == TASK_WITH_OWN_REF
    assert execution["ctx"]["pmsReference"] == "PMS-7001-B"

    assert pms_posts(pms) == [
        {
            "method": "POST",
            "path": "/api/matter/PMS-7001-B/financials",
            "apiKey": API_KEY,
            "json": {"delta": 500},
        }
    ]
    logs = dict(logs_by_step(api, execution))
    assert "PMS API Call success - offset PMS-7001-B by 500" in logs["sendTx"]
    assert logs["finish"] == [f'workItemId: "{TASK_WITH_OWN_REF}"', 'pmsReference: "PMS-7001-B"']


def test_a_task_without_a_reference_uses_its_matter_s(api, pms):
    set_phase(api, TASK_UNDER_MATTER, "task-done")

    execution = only_execution(api, BALANCE, TASK_UNDER_MATTER)
    assert execution["state"] == "STOPPED", explain(execution, api)
    assert [s["systemName"] for s in execution["steps"]] == [
        "main",
        "refFromCurrent",
        "refFromClosest",
        "sendTx",
        "finish",
    ]
    assert execution["ctx"]["pmsReference"] == "PMS-7001"
    (post,) = pms_posts(pms)
    assert post["path"] == "/api/matter/PMS-7001/financials" and post["json"] == {"delta": 500}
    assert pms.balances == {"PMS-7001": 500}
    # Each step's host calls ran once, though steps replay: one graph query in each lookup step.
    calls = {s["systemName"]: s["hostCalls"] for s in execution["steps"]}
    assert calls == {"main": 0, "refFromCurrent": 1, "refFromClosest": 1, "sendTx": 1, "finish": 0}


def test_every_done_task_is_billed_once(api, pms):
    set_phase(api, TASK_WITH_OWN_REF, "task-done")
    set_phase(api, TASK_UNDER_MATTER, "task-done")
    set_phase(api, TASK_WITH_OWN_REF, "task-in-progress")  # not a task-done: starts nothing

    assert [e["state"] for e in executions(api, plan=BALANCE)] == ["STOPPED", "STOPPED"]
    assert [p["path"] for p in pms_posts(pms)] == [
        "/api/matter/PMS-7001-B/financials",
        "/api/matter/PMS-7001/financials",
    ]
    assert pms.balances == {"PMS-7001-B": 500, "PMS-7001": 500}


def test_no_reference_anywhere_logs_and_ends_without_calling_the_pms(api, pms):
    set_phase(api, STANDALONE_TASK, "task-done")

    execution = only_execution(api, BALANCE, STANDALONE_TASK)
    assert execution["state"] == "STOPPED", explain(execution, api)
    assert [s["systemName"] for s in execution["steps"]] == ["main", "refFromCurrent", "refFromClosest", "noReference"]
    assert execution["ctx"]["pmsReference"] is None
    assert pms.received == []
    logs = dict(logs_by_step(api, execution))
    assert logs["noReference"] == [
        f"No PMS reference on work item {STANDALONE_TASK} or its matter - nothing sent to the PMS",
        f'workItemId: "{STANDALONE_TASK}"',
        "pmsReference: null",
    ]


STRING_THROW = 'throw "Failed to update matter balance in PMS. API returned \'" + httpResult.status + "\'";'
ERROR_THROW = 'throw new Error("Failed to update matter balance in PMS. API returned \'" + httpResult.status + "\'");'


def throw_an_error_object(doc: dict) -> None:
    """The same block, throwing `new Error(..)` instead of the template's string."""
    for script in doc["Scripts"]:
        script["GeneratedScript"] = script["GeneratedScript"].replace(STRING_THROW, ERROR_THROW)


@pytest.mark.parametrize("thrown", ["a string (as the real template does)", "an Error object"])
def test_a_block_that_throws_errors_the_execution_and_names_the_workflow_and_step(make_api, pms, thrown):
    api = make_api(throw_an_error_object if thrown == "an Error object" else None)
    assert api.post(f"{V1}/{STANDALONE_TASK}/attributes/demo01PmsReference", {"value": "PMS-BROKEN"}).status_code == 200
    set_phase(api, STANDALONE_TASK, "task-done")

    execution = only_execution(api, BALANCE, STANDALONE_TASK)
    assert execution["state"] == "ERRORED", explain(execution, api)
    assert [(s["systemName"], s["state"]) for s in execution["steps"]] == [
        ("main", "COMPLETED"),
        ("refFromCurrent", "COMPLETED"),
        ("sendTx", "ERRORED"),
    ]
    assert len(pms_posts(pms)) == 1  # sent once, not once per replay
    message = "Failed to update matter balance in PMS. API returned 'InternalServerError'"
    assert message in execution["lastErrored"]
    error_line = step_log(api, execution, execution["steps"][-1])[-1]
    assert message in error_line
    named = execution["lastErrored"] + "\n" + error_line
    assert f"workflows/{BALANCE}.js" in named and "sendTx" in named, (
        f"EMULATOR PROBLEM: when a generated block throws {thrown}, the failure does not name the "
        f"workflow file and the step: lastErrored={execution['lastErrored']!r}, error log line={error_line!r}"
    )


# -- UpdateAttribute, a delayed startStep, isNull --------------------------------------------------
def test_closing_a_matter_marks_it_then_checks_its_pms_link_two_days_later(api, pms):
    set_phase(api, MATTER, "matter-closed")

    execution = only_execution(api, CLOSURE, MATTER)
    assert execution["state"] == "WAITING", explain(execution, api)
    assert [(s["systemName"], s["state"]) for s in execution["steps"]] == [
        ("main", "COMPLETED"),
        ("checkPmsLink", "WAITING"),
    ]
    assert execution["steps"][1]["dueAt"] == "2026-01-07T09:00:00.000Z"
    # UpdateAttribute wrote through POST .../attributes/demo01ClosureStatus/ (trailing slash)
    assert attribute(api, MATTER, "demo01ClosureStatus") == "pending since 2026-01-05"
    assert dict(logs_by_step(api, execution))["main"] == [
        f"Attribute demo01ClosureStatus of {MATTER} set to 'pending since 2026-01-05'"
    ]

    assert api.post("/api/_emulator/clock", {"advance": "P1D"}).status_code == 200
    execution = only_execution(api, CLOSURE, MATTER)
    assert execution["state"] == "WAITING" and execution["steps"][1]["state"] == "WAITING"
    assert attribute(api, MATTER, "demo01ClosureStatus") == "pending since 2026-01-05"

    assert api.post("/api/_emulator/clock", {"advance": "P1D"}).status_code == 200
    execution = only_execution(api, CLOSURE, MATTER)
    assert execution["state"] == "STOPPED", explain(execution, api)
    assert [s["systemName"] for s in execution["steps"]] == ["main", "checkPmsLink", "finish"]
    assert execution["steps"][1]["startTime"] == "2026-01-07T09:00:00.000Z"
    # the variable's DefaultValue ("closed-in-pms") is what the second UpdateAttribute writes
    assert attribute(api, MATTER, "demo01ClosureStatus") == "closed-in-pms"
    assert dict(logs_by_step(api, execution))["finish"] == [
        f'workItemId: "{MATTER}"',
        'closedOn: "2026-01-05"',
        'pmsReference: "PMS-7001"',
    ]
    assert pms.received == []


def test_is_null_follows_its_outlet_and_skips_the_rest_of_its_step(api, pms):
    created = api.post(V1, {"workItem": {"sharedoTypeSystemName": "demo01-matter", "title": "Not yet in the PMS"}})
    assert created.status_code == 201, created.json
    matter = created.json["workItem"]["id"]
    set_phase(api, matter, "matter-closed")
    assert api.post("/api/_emulator/clock", {"advance": "P2D"}).status_code == 200

    execution = only_execution(api, CLOSURE, matter)
    assert execution["state"] == "STOPPED", explain(execution, api)
    # not checkPmsLink's own UpdateAttribute and startStep as well: one finish, one final value
    assert [s["systemName"] for s in execution["steps"]] == ["main", "checkPmsLink", "noPmsLink", "finish"]
    assert attribute(api, matter, "demo01ClosureStatus") == "closed-no-pms-link"
    assert "The matter has no PMS reference" in dict(logs_by_step(api, execution))["checkPmsLink"]


def test_load_data_reads_a_key_date_by_the_path_real_plans_use(api, pms):
    # A real tenant's plan (AlterspectiveSharedoIDE _Workflow/iCare-Matters-Advice-Loop-V2.json)
    # maps `workitem.keyDates.<key date type>.taskDueDate.date.utc.value` to a /Date Time variable.
    set_phase(api, MATTER, "matter-closed")
    assert api.post("/api/_emulator/clock", {"advance": "P2D"}).status_code == 200

    execution = only_execution(api, CLOSURE, MATTER)
    assert execution["state"] == "STOPPED", explain(execution, api)
    assert execution["ctx"]["matterTypePath"] == "/matter/demo01-matter"
    assert str(execution["ctx"]["instructionDate"] or "").startswith("2026-01-02"), (
        "EMULATOR PROBLEM: the graph query resolves workitem.keyDates.kd-instruction-date.taskDueDate.date.utc.value "
        f"to {execution['ctx']['instructionDate']!r}; the matter's kd-instruction-date is 2026-01-02"
    )
