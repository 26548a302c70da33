import json

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from emulator.solution.loading import SolutionError, demo_solution_path, load_solution
from tests.conftest import Api, client_token


def write(root, rel, content):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


def worktype(sn, parent=None, phases=None, transitions=(), roles=(), abstract=False):
    doc = {
        "BaseSharedo": {"SystemName": sn, "ParentSystemName": parent, "Name": sn.title(), "IsAbstract": abstract},
        "PhasePlan": {"SystemName": f"{sn}-plan"} if phases else None,
        "Phases": [{"SystemName": p, "Name": p, "IsStart": i == 0, "IsOpen": True} for i, p in enumerate(phases or [])],
        "PhaseTransitions": [
            {"SystemName": f"{a}-{b}", "FromPhaseSystemName": a, "ToPhaseSystemName": b} for a, b in transitions
        ],
        "SharedoTypeRoles": [{"ParticipantRoleSystemName": r} for r in roles],
    }
    return doc


def test_demo_solution_loads_with_inherited_phase_plans():
    solution = load_solution(demo_solution_path())
    types = solution.worktypes
    assert types.get("matter").is_abstract
    assert [p.system_name for p in types.phases("matter-commercial")] == [p.system_name for p in types.phases("matter")]
    assert types.path("matter-private-client") == "/matter/matter-private-client"
    assert types.is_derived_from("matter-commercial", "matter")
    assert any("approved" in p.system_name for p in types.phases("payment-request"))
    assert {"client", "fee-earner"} <= set(types.roles("matter-private-client"))
    assert len(solution.seed) >= 12 and len(solution.people) >= 8


def test_a_folder_with_bom_and_comments_loads(tmp_path):
    write(tmp_path, "operate.toml", '[solution]\nname = "Mine"\n')
    text = "\ufeff// exported\n" + json.dumps(
        worktype("case", phases=["case-new", "case-done"], transitions=[("case-new", "case-done")])
    )
    write(tmp_path, "worktypes/case.json", text)
    write(tmp_path, "worktypes/case-sub.json", worktype("case-sub", parent="case"))
    solution = load_solution(tmp_path)
    assert solution.name == "Mine"
    assert solution.worktypes.start_phase("case-sub").system_name == "case-new"
    assert solution.worktypes.path("case-sub") == "/case/case-sub"


@pytest.mark.parametrize(
    "files, words",
    [
        ({"worktypes/a.json": "{nope"}, "a.json: line 1"),
        ({"worktypes/a.json": {"Phases": []}}, "BaseSharedo.SystemName is required"),
        ({"worktypes/a.json": worktype("a", parent="ghost")}, "parent 'ghost' is not defined"),
        ({"worktypes/a.json": worktype("a", phases=["x", "y"], transitions=[("x", "z")])}, "unknown phase 'z'"),
        ({"worktypes/a.json": worktype("a", parent="b"), "worktypes/b.json": worktype("b", parent="a")}, "loop"),
        (
            {
                "worktypes/a.json": worktype("a", phases=["x"], roles=["judge"]),
                "roles/client.json": {"SystemName": "client"},
            },
            "names participant role 'judge'",
        ),
        ({"operate.toml": "[solution\nname="}, "operate.toml"),
        ({"seed/workitems.json": {"not": "a list"}}, "expected a JSON array"),
    ],
)
def test_a_broken_solution_says_which_file_and_what(tmp_path, files, words):
    for rel, content in files.items():
        write(tmp_path, rel, content)
    with pytest.raises(SolutionError, match=words.replace("(", r"\(")):
        load_solution(tmp_path)


def test_a_bad_seed_entry_names_its_index(tmp_path):
    write(tmp_path, "worktypes/case.json", worktype("case", phases=["case-new"]))
    write(
        tmp_path,
        "seed/workitems.json",
        [
            {"workItem": {"sharedoTypeSystemName": "case", "title": "ok"}},
            {"workItem": {"sharedoTypeSystemName": "ghost", "title": "bad"}},
        ],
    )
    with pytest.raises(SolutionError, match=r"seed/workitems.json\[1\]: .*unknown work type 'ghost'"):
        create_app(Settings(data_dir=tmp_path / "data", solution=tmp_path))


def test_ide_files_are_served_case_insensitively(tmp_path):
    write(tmp_path, "worktypes/case.json", worktype("case", phases=["case-new"]))
    write(tmp_path, "_IDE/Demo/Designer/Widget.js", "namespace('Demo');")
    write(tmp_path, "_IDE/Demo/Widget.widget.json", '{"id": "Demo.Widget"}')
    app = create_app(Settings(data_dir=tmp_path / "data", solution=tmp_path))
    client = app.test_client()
    js = client.get("/_ideFiles/Demo/designer/widget.js")
    assert js.status_code == 200 and js.data == b"namespace('Demo');"
    assert js.mimetype == "application/javascript"
    assert client.get("/_ideFiles/Demo/Widget.widget.json").json == {"id": "Demo.Widget"}
    assert client.get("/_ideFiles/Demo/../../operate.toml").status_code == 404
    assert client.get("/_ideFiles/Demo/missing.js").status_code == 404
    app.extensions["operate"].close()


def test_an_empty_solution_serves_identity_and_refuses_unknown_types(tmp_path):
    app = create_app(Settings(data_dir=tmp_path))
    api = Api(app, client_token(app))
    response = api.post("/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": "rocket", "title": "x"}})
    assert response.status_code == 400 and "unknown work type" in response.json["title"]
    task = api.post("/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": "task", "title": "built in"}})
    assert task.status_code == 201 and task.json["workItem"]["phaseSystemName"] == "task-not-started"
    app.extensions["operate"].close()


def test_state_persists_across_restarts_of_the_same_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path, demo=True)
    app = create_app(settings)
    api = Api(app, client_token(app))
    created = api.post("/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": "task", "title": "keep me"}})
    app.extensions["operate"].close()
    again = create_app(settings)
    api = Api(again, client_token(again))
    assert api.get(f"/api/v1/public/workItem/{created.json['workItem']['id']}").json["workItem"]["title"] == "keep me"
    assert api.get("/api/_emulator/events").json["lastEventNumber"] == 1
    again.extensions["operate"].close()
    fresh = create_app(Settings(data_dir=tmp_path, demo=True, fresh=True))
    api = Api(fresh, client_token(fresh))
    assert api.get(f"/api/v1/public/workItem/{created.json['workItem']['id']}").status_code == 404
    fresh.extensions["operate"].close()
