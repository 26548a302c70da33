"""`operate init DIR --from-demo`: start from a copy of the demo solution, which serves and runs where it is put."""

from __future__ import annotations

import json
import shutil

from tests.helpers.processes import Served, operate

OPENED_MATTER = "3c000000-0000-4000-8000-000000000010"  # MAT-00010, an enquiry with a client and a fee earner


def test_a_copy_of_the_demo_serves_and_runs_a_plan(tmp_path):
    made = operate("init", str(tmp_path / "made"), "--from-demo")
    assert made.returncode == 0, made.stderr
    assert "copied the demo solution into" in made.stdout
    copy = tmp_path / "elsewhere" / "my-solution"
    shutil.copytree(tmp_path / "made", copy)  # nothing in it points back at the package's source tree
    assert "Demo law firm" in (copy / "operate.toml").read_text()
    for include in json.loads((copy / "jsconfig.json").read_text())["include"]:
        if "*" not in include:
            assert (copy / include).is_file(), include  # the editor finds the plans' types

    served = Served(tmp_path / "data", "--solution", str(copy), demo=False)
    try:
        assert "(solution: Demo law firm" in "".join(served.banner)
        with served.client() as client:
            found = client.post(
                "/api/v1/public/workItem/findByQuery",
                json={"search": {"types": {"includeTypesDerivedFrom": ["matter"]}}, "enrich": [{"path": "reference"}]},
            )
            assert found.status_code == 200 and found.json()["totalCount"] >= 10, found.text
            page = client.get("/plans")
            assert page.status_code == 200 and "matter-inception" in page.text  # the included example plans
    finally:
        assert served.stop() == 0

    (copy / "plans").mkdir()
    (copy / "plans" / "hello.js").write_text(
        'function main(ev, ctx, log) {\n  var item = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);\n'
        '  log.Information("hello " + item.body.workItem.reference);\n}\nreturn { main: main };\n'
    )
    (tmp_path / "event.json").write_text(json.dumps({"sharedoId": OPENED_MATTER}))
    ran = operate(
        "run", str(copy / "plans" / "hello.js"), "--solution", str(copy), "--data", str(tmp_path / "event.json"),
        "--data-dir", str(tmp_path / "run-data"),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "hello MAT-00010" in ran.stdout and "state: STOPPED" in ran.stdout


def test_init_from_demo_refuses_a_folder_that_is_not_empty(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    refused = operate("init", str(target), "--from-demo")
    assert refused.returncode == 2
    expected = f"operate init: {target} already exists and is not an empty folder; choose a new one"
    assert refused.stderr.strip() == expected
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
