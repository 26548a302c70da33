"""The `operate` commands other than serve: import a real export, export and load snapshots."""

from __future__ import annotations

import json

from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import Api, client_token
from tests.helpers.exports import build_package
from tests.helpers.paths import ROOT
from tests.helpers.processes import operate


def test_import_a_real_export_then_serve_it(tmp_path):
    package = build_package(tmp_path / "export-Demo 01-2024-02-20T14_17_26.zip")
    result = operate("import", str(package), str(tmp_path / "demo01"))
    assert result.returncode == 0, result.stderr
    assert "operate serve --solution" in result.stdout
    assert (tmp_path / "demo01" / "IMPORT-REPORT.md").is_file()

    app = create_app(Settings(data_dir=tmp_path / "data", solution=tmp_path / "demo01"))
    api = Api(app, client_token(app))
    em = app.extensions["operate"]
    types = {t.system_name for t in em.solution.worktypes}
    assert {"demo01-matter", "demo01-task"} <= types
    for type_sn, phase in (("demo01-task", "task-not-started"), ("demo01-matter", "demo01-matter-open")):
        created = api.post("/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": type_sn, "title": "x"}})
        assert created.status_code == 201, created.json
        assert created.json["workItem"]["phaseSystemName"] == phase  # demo01-task inherits the built-in task plan
    assert em.solution.triggers and em.solution.workflows
    widget = app.test_client().get("/_ideFiles/Demo01/PMSWidget/PMSWidget.js")
    assert widget.status_code == 200 and b"PMSWidget" in widget.data
    em.close()


def test_import_refuses_what_is_not_a_package(tmp_path):
    bogus = tmp_path / "not-a-zip.zip"
    bogus.write_text("hello")
    result = operate("import", str(bogus), str(tmp_path / "out"))
    assert result.returncode == 2 and "operate import:" in result.stderr
    assert not (tmp_path / "out").exists()


def test_export_and_load_round_trip(tmp_path):
    data = tmp_path / "state"
    app = create_app(Settings(data_dir=data, demo=True))
    api = Api(app, client_token(app))
    created = api.post("/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": "task", "title": "saved"}})
    item_id = created.json["workItem"]["id"]
    app.extensions["operate"].close()

    snapshot = tmp_path / "snap.json"
    assert operate("export", "--demo", "--data-dir", str(data), str(snapshot)).returncode == 0
    assert item_id in snapshot.read_text()

    other = tmp_path / "other"
    result = operate("load", "--demo", "--data-dir", str(other), str(snapshot))
    assert result.returncode == 0, result.stderr
    app = create_app(Settings(data_dir=other, demo=True))
    assert Api(app, client_token(app)).get(f"/api/v1/public/workItem/{item_id}").status_code == 200
    app.extensions["operate"].close()

    snapshot.write_text(json.dumps({"format": "nope"}))
    bad = operate("load", "--demo", "--data-dir", str(other), str(snapshot))
    assert bad.returncode == 2 and "not a snapshot" in bad.stderr


def test_readme_test_command_is_what_ci_runs():
    root = ROOT
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    blocks = [b.split("```")[0].strip() for b in readme.split("```sh\n")[1:3]]
    demo, test = blocks
    assert "operate serve --demo" in demo and "pip install" in demo
    assert test in ci.splitlines()


def test_run_a_plan_from_the_terminal(tmp_path):
    plan = tmp_path / "look.js"
    plan.write_text(
        "function main(ev, ctx, log) {\n"
        "  var item = sharedo.http.get('/api/v1/public/workItem/' + ctx.workItemId);\n"
        "  log.Information('Matter ' + item.body.workItem.reference + ' for ' + ctx.who);\n"
        "  ctx.phase = item.body.workItem.phaseSystemName;\n}\nreturn { main: main };\n"
    )
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"sharedoId": "3c000000-0000-4000-8000-000000000002", "toPhase": "matter-open"}))
    result = operate(
        "run", str(plan), "--demo", "--data-dir", str(tmp_path / "d"), "--data", str(event), "--set", "who=me"
    )
    assert result.returncode == 0, result.stderr
    assert "[main] Information: Matter MAT-00002 for me" in result.stdout
    assert "state: STOPPED" in result.stdout and '"phase": "matter-open"' in result.stdout


def test_run_exits_1_when_the_plan_errors_and_2_on_bad_arguments(tmp_path):
    plan = tmp_path / "bad.js"
    plan.write_text("function main(ev, ctx, log) {\n  throw new Error('stop here');\n}\nreturn { main: main };\n")
    result = operate("run", str(plan), "--demo", "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 1
    assert "state: ERRORED" in result.stdout and f"{plan.as_posix()}:2" in result.stdout  # the file as given
    assert operate("run", str(plan), "--demo", "--set", "novalue").returncode == 2
    missing = operate("run", str(tmp_path / "nope.js"), "--demo", "--data-dir", str(tmp_path / "d"))
    assert missing.returncode == 2 and "nope.js" in missing.stderr


def test_the_readme_first_plan_runs_as_written(tmp_path):
    import re
    import shutil

    from emulator.solution.loading import demo_solution_path

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Your first SmartPlan", 1)[1].split("\n## ", 1)[0]
    blocks = dict(re.findall(r"```(js|json)\n(.*?)```", section, re.S))
    solution = tmp_path / "my-solution"
    shutil.copytree(demo_solution_path(), solution)
    (solution / "plans").mkdir()
    (solution / "triggers").mkdir()
    plan = solution / "plans" / "chase-pms-reference.js"
    plan.write_text(blocks["js"])
    (solution / "triggers" / "chase.json").write_text(blocks["json"])
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"sharedoId": "3c000000-0000-4000-8000-000000000002", "toPhase": "matter-open"}))
    result = operate(
        "run", str(plan), "--solution", str(solution), "--data-dir", str(tmp_path / "d"), "--data", str(event)
    )
    assert result.returncode == 0, result.stderr
    assert "Matter is PMS-260102 in the PMS" in result.stdout and "state: STOPPED" in result.stdout


def test_the_readme_testing_examples_are_the_shipped_ones():
    """The README shows the scenario and test that `smartplans/examples/tests` runs, so both stay true."""
    import re

    root = ROOT
    readme = (root / "README.md").read_text()
    scenario = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    assert scenario == (root / "smartplans/examples/tests/opened-matter.scenario.yaml").read_text()
    shipped = [p.read_text() for p in sorted((root / "smartplans/examples/tests").glob("test_*.py"))]
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    for python in blocks:
        code = python.strip().replace('"5e000000-0000-4000-8000-000000000001"', "PAYMENT")
        assert any(code in text for text in shipped), f"README block not in smartplans/examples/tests:\n{code}"


def test_init_writes_a_solution_that_works_after_a_copy(tmp_path):
    import shutil

    written = operate("init", str(tmp_path / "made"))
    assert written.returncode == 0, written.stderr
    moved = tmp_path / "elsewhere" / "my-firm"
    shutil.copytree(tmp_path / "made", moved)  # as a person copies a folder to start their own
    config = json.loads((moved / "jsconfig.json").read_text())
    for include in config["include"]:
        if "*" not in include:
            assert (moved / include).is_file(), include  # the editor finds the plans' types
    assert list((moved / "plans").glob("*.js")) and (moved / "types" / "operate-globals.d.ts").is_file()
    tested = operate("test", str(moved), "-q")
    assert tested.returncode == 0 and "1 passed" in tested.stdout, tested.stdout + tested.stderr
    assert "\x1b[" not in tested.stdout + tested.stderr  # not a terminal: no colour codes
    again = operate("init", str(moved))
    assert again.returncode == 2 and "not an empty folder" in again.stderr


def test_test_on_a_folder_without_tests_says_where_tests_go(tmp_path):
    (tmp_path / "plans").mkdir()
    result = operate("test", str(tmp_path))
    assert result.returncode == 5
    assert (
        f"put test_*.py files (the `operate` fixture) or *.scenario.yaml files in {tmp_path / 'tests'}" in result.stderr
    )
