"""Visual workflows whose actions have no generated script: the code is generated at load from each
action's template, as the platform generates it on publish (smartplans/action_templates.py).

The proof of the generator is the real Demo 01 export (tests/fixtures/official/forum2024-02-S3/export):
its three workflows hold both each action's configuration and the script the platform generated from
it; the templates of its custom actions are in the same repository (IDE/Demo01). End to end, sharedo_ide's
ApiDemoWF action runs unmodified from a workflow in the API shape and POSTs through the proxy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, jsonify, request

from emulator.app import create_app
from emulator.kernel.jsonfile import load as load_json
from emulator.settings import Settings
from emulator.solution.loading import load_solution
from smartplans.action_templates import Template, TemplateError, expand
from smartplans.plans import PlanError, visual_plan
from smartplans.workflow_actions import ActionTypes, action_types, ide_actions
from tests.conftest import START, Api, client_token
from tests.helpers.loopback import serving
from tests.helpers.paths import FIXTURES

OFFICIAL = FIXTURES / "official"
DEMO01_EXPORT = OFFICIAL / "forum2024-02-S3" / "export" / "data"
DEMO01_IDE = OFFICIAL / "forum2024-02-S3" / "IDE"  # the IDE root the export's manifests name (/_ideFiles/Demo01/...)
API_DEMO_WF = OFFICIAL / "sharedo_ide" / "LinkedServiceAndProxy" / "IDE" / "ApiDemoWF"
FIXTURE = FIXTURES / "solutions" / "ide-actions"
V1 = "/api/v1/public/workItem"
EXECUTING = "/api/executionengine/plans/executing"
TASK = "a1000000-0000-4000-8000-000000000001"
TOKEN = "A-REAL-API-TOKEN"  # sharedo_ide DemoApi/ApiTokenHandler.cs


def demo01_types() -> ActionTypes:
    found = action_types(DEMO01_IDE)
    assert not found.problems
    return found


def demo01_workflows() -> list[Path]:
    found = sorted(DEMO01_EXPORT.glob("visual-workflow-*.json"))
    assert len(found) == 3
    return found


def generated_blocks() -> list[tuple[str, str, dict, dict, str]]:
    """(workflow, action type, configuration, connections, the platform's GeneratedScript) for every action."""
    out = []
    for path in demo01_workflows():
        doc = load_json(path)
        scripts = {s["VisualPlanStepActionId"]: s["GeneratedScript"] for s in doc["Scripts"]}
        for action in doc["Actions"]:
            out.append(
                (
                    path.name,
                    action["ActionSystemName"],
                    json.loads(action["Configuration"]),
                    json.loads(action["Connections"]),
                    scripts[action["Id"]],
                )
            )
    return out


# -- the generator against the platform's own output ---------------------------------------------
def test_every_generated_script_of_the_real_export_is_reproduced():
    types = demo01_types()
    blocks = generated_blocks()
    assert len(blocks) == 21
    assert {kind for _, kind, *_ in blocks} == {
        "startStep",
        "loadData",
        "ifBlock",
        "LogVariables",
        "UpdateAttribute",
        "PMSBalanceAction",
        "PMSOnboardingAction",
        "RiskAction",
    }
    for workflow, kind, configuration, connections, script in blocks:
        got = expand(types.types[kind].template, configuration, connections).code
        assert got == script.replace("\r\n", "\n"), f"{workflow}: {kind}"


def test_a_workflow_without_its_scripts_compiles_to_the_same_plan():
    types = demo01_types()
    for path in demo01_workflows():
        doc = load_json(path)
        published = visual_plan(path.stem, doc, types=types)
        generated = visual_plan(path.stem, {**doc, "Scripts": []}, types=types)
        assert generated.source == published.source, path.name


def test_an_error_in_generated_code_names_the_template_line():
    types = demo01_types()
    path = next(p for p in demo01_workflows() if "Risk" in p.name)
    plan = visual_plan(path.stem, {**load_json(path), "Scripts": []}, types=types)
    line = next(i for i, text in enumerate(plan.source.splitlines(), 1) if 'follow("risk-high")' in text)
    assert plan.locate(line).endswith("_IDE/Demo01/RiskAction/RiskAction-template.js line 23")
    source_line = (DEMO01_IDE / "Demo01" / "RiskAction" / "RiskAction-template.js").read_text().splitlines()[22]
    assert 'follow("risk-high")' in source_line


# -- directives ---------------------------------------------------------------------------------
def gen(text: str, configuration: dict | None = None, connections: dict | None = None) -> list[str]:
    code = expand(Template("T-template.js", text), configuration or {}, connections or {}).code
    lines = code.splitlines()
    assert lines[0] == "{" and lines[-1] == "};"
    return [line.removeprefix("\t") for line in lines[1:-1]]


def test_references_take_the_configuration_s_values():
    text = (
        'let a = "$model.Configuration.folio";\nlet b = $model.Configuration.amount;;\n'
        'let c = "$model.Configuration.none;";'
    )
    assert gen(text, {"folio": "F-1", "amount": 10.27}) == ['let a = "F-1";', "let b = 10.27;", 'let c = "";']
    assert gen("let x = $model.Connections;;", connections={}) == ["let x = {};"]
    assert gen('go("$model.Connections.next.step");', connections={"next": {"step": "s2"}}) == ['go("s2");']


def test_if_else_and_null_tests():
    text = "\n".join(
        [
            "// $ifNotNull.Configuration.v",
            "a;",
            "// $else",
            "b;",
            "// $endif;",
            "// $ifNull.Configuration.v",
            "c;",
            "// $endif",
            "    // $if.Configuration.flag",
            "d;",
            "    // $endif",
        ]
    )
    assert gen(text, {"v": "x", "flag": True}) == ["a;", "d;"]
    assert gen(text, {"v": None, "flag": False}) == ["b;", "c;"]
    assert gen(text, {"v": "", "flag": 0}) == ["a;"]  # "" is not null: templates test it again in code


def test_has_tests_lists_and_connections():
    text = "// $if.Model.Configuration.has-items\nitems;\n// $endif\n// $if.Connections.has-done\ndone;\n// $endif"
    assert gen(text, {"items": [1]}, {"done": {"step": "x"}}) == ["items;", "done;"]
    assert gen(text, {"items": []}, {}) == []


def test_each_repeats_with_current():
    text = "\n".join(
        [
            "// $each.Model.Configuration.people",
            'hello("$current.name", $current.age);',
            "// $each.Current.tags",
            "tag($current);",
            "// $endeach",
            "// $endeach",
        ]
    )
    people = [{"name": "Ann", "age": 40, "tags": ["a", "b"]}, {"name": "Bo", "age": 3, "tags": []}]
    assert gen(text, {"people": people}) == ['hello("Ann", 40);', "tag(a);", "tag(b);", 'hello("Bo", 3);']
    assert gen(text, {}) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a;\n// $ifNotNull.Configuration.x\nb;", "T-template.js line 2: `$ifNotNull.Configuration.x` is never closed"),
        ("// $else\n", "T-template.js line 1: `$else` without an open `$if`"),
        ("// $each.Configuration.x\n// $endif", "T-template.js line 2: `$endif` without an open `$if`"),
        ("// $endeach", "T-template.js line 1: `$endeach` without an open `$each`"),
        ("// $if\n// $endif", "T-template.js line 1: `$if` needs a path"),
        ("// $ifNotNull.Nothing.x\n// $endif", "a path starts at Configuration, Connections"),
        ("a;\nlog($current.name);", "T-template.js line 2: `$current` is only there inside `$each`"),
        (
            "// $ifNotNull.Configuration.v\nlet myVar = 1;\n// $else\nlet myVar = 2;\n// $endif",
            "T-template.js line 4: `myVar` is declared in both branches of the `$ifNotNull.Configuration.v` at line 1 "
            "(first at line 2)",
        ),
    ],
)
def test_template_errors_name_the_file_and_line(text, message):
    with pytest.raises(TemplateError) as caught:
        expand(Template("T-template.js", text), {"x": [1]}, {})
    assert message in str(caught.value)


def test_the_same_name_in_separate_blocks_of_two_branches_is_fine():
    text = "// $ifNotNull.Configuration.v\n{\n  let a = 1;\n}\n// $else\nlet a = 2;\n// $endif"
    assert gen(text, {"v": 1}) == ["{", "  let a = 1;", "}"]


def test_each_over_something_that_is_not_a_list():
    with pytest.raises(TemplateError, match=r"line 1: `\$each.Configuration.x` needs a list"):
        expand(Template("T-template.js", "// $each.Configuration.x\n// $endeach"), {"x": "abc"}, {})


# -- end to end: a solution whose workflows use IDE actions --------------------------------------
def demo_api() -> Flask:
    """sharedo_ide's DemoApi (TransactionController.cs, ApiTokenHandler.cs), keyed by the route's id.
    The sample keys its list by a `workItemId` parameter that the route never fills, so every work item
    shares one list there; this fake keys by `{id}` as the sample clearly means to."""
    app = Flask("demo-api")
    app.received = []  # type: ignore[attr-defined]
    data: dict[str, list[dict]] = {}

    @app.route("/api/transactions/<id>", methods=["GET", "POST"])
    def transactions(id: str):
        app.received.append(  # type: ignore[attr-defined]
            {
                "method": request.method,
                "path": request.path,
                "auth": request.headers.get("X-Custom-Auth"),
                "json": request.get_json(silent=True),
            }
        )
        if request.headers.get("X-Custom-Auth") != TOKEN:
            return jsonify({}), 401
        rows = data.setdefault(id, [])
        if request.method == "POST":
            rows.append(request.get_json())
            return jsonify({})
        return jsonify({"rows": rows[-5:], "totalRowCount": len(rows), "balance": sum(r["delta"] for r in rows)})

    return app


@pytest.fixture
def api_server():
    app = demo_api()
    with serving(app) as url:
        app.url = url  # type: ignore[attr-defined]
        yield app


def ide_solution(root: Path, base_url: str) -> Path:
    shutil.copytree(FIXTURE, root)
    shutil.copytree(API_DEMO_WF, root / "_IDE" / "ApiDemoWF")
    toml = root / "operate.toml"
    toml.write_text(toml.read_text("utf-8").replace("http://127.0.0.1:9", base_url), "utf-8")
    return root


@pytest.fixture
def make_api(tmp_path, api_server):
    made = []

    def make(edit=None) -> Api:
        root = ide_solution(tmp_path / f"solution{len(made)}", api_server.url)
        if edit is not None:
            edit(root)
        app = create_app(
            Settings(data_dir=tmp_path / f"data{len(made)}", solution=root, clock="virtual", clock_start=START)
        )
        made.append(app)
        return Api(app, client_token(app), renew=lambda: client_token(app))

    yield make
    for app in made:
        app.extensions["operate"].close()


def finish_task(api: Api, item: str = TASK) -> None:
    response = api.put(f"{V1}/{item}/phase", {"toPhaseSystemName": "task-done"})
    assert response.status_code == 200, response.json


def execution_of(api: Api, plan: str, item: str = TASK) -> dict:
    response = api.get(f"{EXECUTING}?plan={plan}&sharedoId={item}")
    assert response.status_code == 200, response.json
    (execution,) = response.json
    return execution


def logs(api: Api, execution: dict) -> dict[str, list[str]]:
    out = {}
    for step in execution["steps"]:
        response = api.get(f"{EXECUTING}/{execution['id']}/steps/{step['id']}/log")
        out[step["systemName"]] = [line["logMessage"] for line in response.json]
    return out


def test_the_api_demo_action_posts_through_the_proxy(make_api, api_server):
    api = make_api()
    finish_task(api)

    execution = execution_of(api, "api-demo-tx")
    log = logs(api, execution)
    assert execution["state"] == "STOPPED", json.dumps([execution, log], indent=1)
    assert [s["systemName"] for s in execution["steps"]] == ["main", "finish"]
    assert f"Tx against:{TASK}" in log["main"]
    assert "Response was OK!" in log["main"]
    posts = [r for r in api_server.received if r["method"] == "POST"]
    assert posts == [
        {
            "method": "POST",
            "path": f"/api/transactions/{TASK}",
            "auth": TOKEN,
            "json": {"folio": "F-1027", "delta": 10.27},
        }
    ]
    # What the ApiDemo widget then reads through the proxy.
    listed = api.get(f"/api/proxy/custom/_/api/transactions/{TASK}")
    assert listed.status_code == 200
    assert listed.json == {"rows": [{"folio": "F-1027", "delta": 10.27}], "totalRowCount": 1, "balance": 10.27}


def test_the_api_demo_action_fails_the_step_when_the_api_refuses(make_api, api_server):
    def wrong_token(root: Path) -> None:
        toml = root / "operate.toml"
        toml.write_text(toml.read_text("utf-8").replace(TOKEN, "NOT-THE-TOKEN"), "utf-8")

    api = make_api(wrong_token)
    finish_task(api)
    execution = execution_of(api, "api-demo-tx")
    assert execution["state"] == "ERRORED"
    assert "Response status was Unauthorized" in logs(api, execution)["main"]
    error = api.get(f"{EXECUTING}/{execution['id']}").json["lastErrored"]
    assert "Not a success response" in json.dumps(error)


def test_a_template_with_if_and_each_runs_end_to_end(make_api):
    api = make_api()
    finish_task(api)
    execution = execution_of(api, "review")
    log = logs(api, execution)
    assert execution["state"] == "STOPPED", json.dumps([execution, log], indent=1)
    assert [s["systemName"] for s in execution["steps"]] == ["main", "notify"]
    assert log["main"] == [
        "check conflicts weighs 2",
        "check identity weighs 3",
        "strict review by Compliance: score 5",
    ]
    assert execution["ctx"]["reviewed"] == "Compliance:5"
    assert log["notify"] == ["Current value of reviewed is:Compliance:5", "Current value of score is:5"]


def test_the_same_template_with_other_configuration_takes_the_other_branches(make_api):
    def reconfigure(root: Path) -> None:
        path = root / "workflows" / "review.json"
        doc = load_json(path)
        action = doc["steps"][0]["actions"][0]
        action["config"] = {
            "reviewer": None,
            "strict": False,
            "outputVariable": None,
            "checks": [{"name": "aml", "weight": 7}],
        }
        action["connections"] = {}
        path.write_text(json.dumps(doc), "utf-8")

    api = make_api(reconfigure)
    finish_task(api)
    execution = execution_of(api, "review")
    assert [s["systemName"] for s in execution["steps"]] == ["main", "finish"]
    assert logs(api, execution)["main"] == ["check aml weighs 7", "no output variable"]
    assert execution["ctx"]["score"] == 7 and "reviewed" not in execution["ctx"]


# -- load errors, never a silent drop ------------------------------------------------------------
def load_error(tmp_path: Path, edit) -> str:
    """Why the broken workflow is marked broken. The solution still loads: one broken workflow marks only
    itself (DESIGN decision 12), the other workflow of the fixture is loaded."""
    root = ide_solution(tmp_path / "solution", "http://127.0.0.1:9")
    edit(root)
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        engine = app.extensions["operate"].smartplans
        assert len(engine.broken) == 1, engine.problems
        assert len(engine.plans) == 1 and not set(engine.plans) & set(engine.broken)
        return "\n".join(engine.problems)
    finally:
        app.extensions["operate"].close()


def edit_review(change):
    def edit(root: Path) -> None:
        path = root / "workflows" / "review.json"
        doc = load_json(path)
        change(doc["steps"][0]["actions"][0])
        path.write_text(json.dumps(doc), "utf-8")

    return edit


def test_an_action_with_no_script_and_no_template_is_a_load_error(tmp_path):
    message = load_error(tmp_path, edit_review(lambda action: action.update(actionSystemName="NoSuchAction")))
    assert "workflows/review.json: step 'main', action 'Run the checks' (NoSuchAction)" in message
    assert "no GeneratedScript" in message and "'startStep'" in message


def test_an_unclosed_endif_is_a_load_error_at_the_template_line(tmp_path):
    def edit(root: Path) -> None:
        template = root / "_IDE" / "Checks" / "ReviewAction" / "ReviewAction-template.js"
        template.write_text(template.read_text("utf-8").replace("// $endif\nlet score", "let score"), "utf-8")

    message = load_error(tmp_path, edit)
    assert "workflows/review.json: step 'main', action 'Run the checks' (ReviewAction)" in message
    assert "_IDE/Checks/ReviewAction/ReviewAction-template.js line 3: `$ifNotNull.Configuration.reviewer`" in message


def test_generated_code_that_does_not_compile_is_a_load_error_at_the_template_line(tmp_path):
    def edit(root: Path) -> None:
        template = root / "_IDE" / "Checks" / "ReviewAction" / "ReviewAction-template.js"
        text = template.read_text("utf-8").replace("ctx.score = score;", "let score = 1;")  # declared twice now
        template.write_text(text, "utf-8")

    message = load_error(tmp_path, edit)
    assert "workflows/review.json: step 'main', action 'Run the checks' (ReviewAction)" in message
    assert "_IDE/Checks/ReviewAction/ReviewAction-template.js line 22" in message
    assert "Identifier 'score' has already been declared" in message


def test_a_manifest_whose_template_is_elsewhere_says_so(tmp_path):
    def edit(root: Path) -> None:
        shutil.move(root / "_IDE" / "ApiDemoWF", root / "_IDE" / "Samples")

    message = load_error(tmp_path, edit)
    assert "_IDE/Samples/ApiDemoWF.wf-action.json: /_ideFiles/ApiDemoWF/ApiDemoWF-template.js is not a file" in message
    assert "Samples/ApiDemoWF-template.js is beside the manifest" in message


def test_two_manifests_with_one_system_name(tmp_path):
    def edit(root: Path) -> None:
        shutil.copytree(root / "_IDE" / "ApiDemoWF", root / "_IDE" / "Copy")

    assert "action 'ApiDemoWF' is also defined by _IDE/ApiDemoWF/ApiDemoWF.wf-action.json" in load_error(tmp_path, edit)


def test_a_configuration_that_is_not_json(tmp_path):
    message = load_error(tmp_path, edit_review(lambda action: action.update(config="{not json")))
    assert "step 'main', action 'Run the checks': Configuration is not JSON" in message


def test_the_solution_s_own_actions_are_listed_by_system_name(tmp_path):
    root = ide_solution(tmp_path / "solution", "http://127.0.0.1:9")
    found = ide_actions(load_solution(root).ide_root)
    assert sorted(found.types) == ["ApiDemoWF", "ReviewAction"] and not found.problems
    assert found.types["ApiDemoWF"].template.name == "_IDE/ApiDemoWF/ApiDemoWF-template.js"
    with pytest.raises(PlanError, match="no GeneratedScript"):
        visual_plan(
            "x",
            {"steps": [{"systemName": "main", "actions": [{"actionSystemName": "ApiDemoWF"}]}]},
            types=ActionTypes(),
        )


# -- from the terminal ---------------------------------------------------------------------------
def operate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emulator.cli", *args], capture_output=True, text=True, timeout=60)


def test_operate_run_runs_a_workflow_that_uses_ide_actions(tmp_path):
    root = ide_solution(tmp_path / "solution", "http://127.0.0.1:9")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"sharedoId": TASK}))
    state = ["--solution", str(root), "--data-dir", str(tmp_path / "d")]
    result = operate("run", str(root / "workflows" / "review.json"), *state, "--data", str(event))
    assert result.returncode == 0, result.stderr
    assert "[main] Information: check identity weighs 3" in result.stdout
    assert "[notify] Information: Current value of score is:5" in result.stdout
    assert "state: STOPPED" in result.stdout and '"reviewed": "Compliance:5"' in result.stdout

    broken = tmp_path / "broken.json"
    doc = load_json(root / "workflows" / "review.json")
    doc["steps"][0]["actions"][0]["actionSystemName"] = "NoSuchAction"
    broken.write_text(json.dumps(doc))
    result = operate("run", str(broken), *state)
    assert result.returncode == 2
    assert f"operate run: {broken}: step 'main'" in result.stderr and "(NoSuchAction)" in result.stderr


def test_a_broken_manifest_matters_only_to_the_workflows_that_need_it(tmp_path, make_api):
    def add_broken(root: Path) -> None:
        (root / "_IDE" / "Broken").mkdir()
        (root / "_IDE" / "Broken" / "Broken.wf-action.json").write_text('{ "systemName": "Broken", ')

    api = make_api(add_broken)  # loads: no workflow uses it
    finish_task(api)
    assert execution_of(api, "review")["state"] == "STOPPED"

    def use_unknown(root: Path) -> None:
        add_broken(root)
        edit_review(lambda action: action.update(actionSystemName="Missing"))(root)

    message = load_error(tmp_path / "again", use_unknown)
    assert "(Missing)" in message and "_IDE/Broken/Broken.wf-action.json" in message


# -- shapes a hand-edited or generated file can take: each a clear error, never a drop or a traceback --
def step(sn: str = "main", actions=None) -> dict:
    return {"systemName": sn, "actions": actions if actions is not None else []}


LOG = {"actionSystemName": "script", "name": "say", "config": {"script": "log.Information('hi');"}}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([1, 2], "a visual workflow is a JSON object"),
        ({"VisualPlan": "oops", "Steps": [step()]}, '"VisualPlan" must be an object'),
        ({"steps": []}, "the workflow has no steps"),
        ({"steps": [step()], "variables": 5}, '"variables" must be a list'),
        ({"steps": [{"systemName": "main", "actions": {"a": LOG}}]}, "step 'main': \"actions\" must be a list"),
        ({"steps": [step("a-b"), step("a_b")]}, "steps 'a-b' and 'a_b' would be the same function a_b"),
        ({"steps": [step(), step()]}, "two steps are called 'main'"),
        ({"steps": [step("delete")]}, "step system name 'delete' is a JavaScript word or a global"),
        ({"steps": [step("trigger")]}, "step system name 'trigger' is a JavaScript word or a global"),
        ({"Steps": [step()], "Actions": {"x": 1}}, '"Actions" must be a list'),
        ({"Steps": [step()], "Actions": [7]}, "Actions[0] is not an object"),
        (
            {
                "Steps": [step()],
                "Actions": [{"Id": "a1", "VisualPlanStepSystemName": "Main", "ActionSystemName": "script"}],
            },
            "action 'a1': its VisualPlanStepSystemName 'Main' is not a step (['main'])",
        ),
        (
            {"Steps": [step()], "Actions": [{"Id": "a1", "VisualPlanStepSystemName": "main", "Order": "2"}]},
            "action 'a1': Order must be a number, not '2'",
        ),
        ({"Steps": [step()], "Scripts": [{"VisualPlanStepActionId": "a1", "GeneratedScript": {"x": 1}}]}, "Scripts[0]"),
        (
            {"steps": [step(actions=[{**LOG, "config": {"deep": json.loads("[" * 100 + "]" * 100)}}])]},
            "Configuration deep",
        ),
    ],
)
def test_malformed_workflows_are_load_errors(doc, message):
    with pytest.raises(PlanError) as caught:
        visual_plan("wf", doc, types=action_types(None))
    assert message in str(caught.value) and str(caught.value).startswith("workflows/wf.json")


def test_a_misspelt_model_reference_is_a_template_error():
    for text in ("x = $model.Config.x;", "x = '$model.configuration.title';"):
        with pytest.raises(TemplateError, match=r"line 1: `\$model\.\w+` is neither \$model.Configuration"):
            expand(Template("T-template.js", text), {}, {})


def test_nested_each_cannot_generate_without_bound():
    text = "\n".join(["// $each.Configuration.items"] * 6 + ["x;"] + ["// $endeach"] * 6)
    with pytest.raises(TemplateError, match="passed 100000 lines"):
        expand(Template("T-template.js", text), {"items": list(range(20))}, {})


def test_line_numbers_count_what_v8_counts_as_lines():
    template = Template("T-template.js", "let t = `$model.Configuration.text`;\nlet u = 1;\nthrow new Error('here');\n")
    block = expand(template, {"text": "a\rb\rc"}, {})
    assert "\r" not in block.code  # a CR is a line to V8: written as one, so every count agrees
    line = next(i for i, text in enumerate(block.code.split("\n"), 1) if "throw" in text)
    assert line == 6 and block.template_line(line) == 3


def test_if_is_javascript_truth():
    text = "// $if.Configuration.v\nyes;\n// $else\nno;\n// $endif"
    assert [gen(text, {"v": v}) for v in ([], {}, "x", 0, "", None, False)] == [["yes;"]] * 3 + [["no;"]] * 4


def test_unusable_manifests_are_problems_not_crashes(tmp_path):
    root = tmp_path / "_IDE"
    (root / "A.wf-action.json").mkdir(parents=True)  # a folder of that name
    outside = tmp_path / "outside.wf-action.json"
    outside.write_text('{"systemName": "Out", "templateScript": "/_ideFiles/x.js"}')
    (root / "Link.wf-action.json").symlink_to(outside)
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "Pipe.wf-action.json")  # reading it would block for ever
    found = ide_actions(root)
    assert found.types == {}
    assert all("not a file inside the IDE folder" in problem for problem in found.problems.values())
    assert len(found.problems) == (3 if hasattr(os, "mkfifo") else 2)


def test_an_edited_template_or_workflow_is_picked_up_on_the_next_run(make_api, tmp_path):
    """As a script plan is: fix, and run again, without restarting the emulator."""
    api = make_api()
    root = tmp_path / "solution0"  # what make_api copied the fixture to
    template = root / "_IDE" / "Checks" / "ReviewAction" / "ReviewAction-template.js"
    template.write_text(template.read_text("utf-8").replace("weighs", "counts"), "utf-8")
    os.utime(template, (template.stat().st_mtime + 5, template.stat().st_mtime + 5))
    finish_task(api)
    assert logs(api, execution_of(api, "review"))["main"][0] == "check conflicts counts 2"

    workflow = root / "workflows" / "review.json"
    doc = load_json(workflow)
    doc["steps"][0]["actions"][0]["config"]["checks"] = [{"name": "sanctions", "weight": 1}]
    workflow.write_text(json.dumps(doc), "utf-8")
    os.utime(workflow, (workflow.stat().st_mtime + 5, workflow.stat().st_mtime + 5))
    second = "a1000000-0000-4000-8000-000000000002"
    finish_task(api, second)
    assert logs(api, execution_of(api, "review", second))["main"][0] == "check sanctions counts 1"
