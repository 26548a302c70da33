"""The import of the real "Demo 01" export (tests/fixtures/official/forum2024-02-S3/export, unmodified) tells the
whole truth: its participant roles are imported, the report names every section the emulator drops and every
mandatory dependency the package lacks, and work items get the references the export's ReferenceGenerator says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.app import create_app
from emulator.kernel import jsonfile
from emulator.settings import Settings
from emulator.solution.importer import REPORT_FILE, import_package
from emulator.solution.loading import SolutionError, load_solution
from tests.conftest import START, Api, client_token
from tests.helpers.exports import REAL, WORKTYPE, Entries, build_package, demo_entries, real_entries

ROLES_WITH_LOCATIONS = [
    "attorney",
    "client",
    "contributor",
    "delegated-by",
    "originator",
    "owner",
    "primary-owner",
    "reader",
]
LOCATION_TYPES_STEP = "cebbb95e-f559-44d4-bca0-b11c00eb807f"  # the 'participant-location-types' option set
CORE_READ_STEP = "92352492-a339-4a31-aa15-b11c00eb807f"  # the 'core.read' permission
PERSON = "1a000000-0000-4000-8000-0000000000a1"


def without_steps(entries: Entries, *step_ids: str) -> Entries:
    """The export as if those steps had not been ticked: gone from ExportedSteps and from data/."""
    manifest = jsonfile.loads(entries["manifest.json"], "manifest.json")
    gone = [s for s in manifest["ExportedSteps"] if s["Id"] in step_ids]
    assert len(gone) == len(step_ids)
    manifest["ExportedSteps"] = [s for s in manifest["ExportedSteps"] if s["Id"] not in step_ids]
    out = {k: v for k, v in entries.items() if k not in {"data/" + s["StorageFilename"] for s in gone}}
    out["manifest.json"] = json.dumps(manifest).encode()
    return out


@pytest.fixture
def real_zip(tmp_path: Path) -> Path:
    return build_package(tmp_path / "export-Demo 01-2024-02-20T14_17_26.zip", real_entries())


def serve(tmp_path: Path, solution: Path):
    """The emulator on an imported solution, with one ODS person to be a participant."""
    (solution / "ods").mkdir(exist_ok=True)
    person = {"id": PERSON, "firstName": "Ada", "surname": "Client", "isActive": True}
    (solution / "ods" / "people.json").write_text(json.dumps([person]), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "state", solution=solution, clock="virtual", clock_start=START)
    app = create_app(settings)
    return app, Api(app, client_token(app))


# ---------------------------------------------------------------------------------------------- roles


def test_real_export_roles_are_imported_in_the_role_and_category_shape(real_zip: Path, tmp_path: Path) -> None:
    report = import_package(real_zip, tmp_path / "s")
    roles = report.imported["roles"]
    assert len(roles) == 19 and "roles/client.json" in roles and "roles/matter-supervisor.json" in roles
    assert not [e for e, _ in report.skipped if "participant-role" in e]
    real = REAL / "data/participant-role-client-6d20e637-e0c7-47f0-a261-b11c00eb807f.json"
    assert (tmp_path / "s/roles/client.json").read_bytes() == real.read_bytes()

    solution = load_solution(tmp_path / "s")
    assert len(solution.roles) == 19
    assert solution.roles["client"]["Name"] == "Client"
    assert solution.roles["client"]["ParticipantRoleCategorySystemName"] == "matter-team"


def test_real_export_roles_name_the_participants_of_a_work_item(real_zip: Path, tmp_path: Path) -> None:
    import_package(real_zip, tmp_path / "s")
    app, api = serve(tmp_path, tmp_path / "s")
    try:
        body = {
            "workItem": {"sharedoTypeSystemName": "matter-private-client-general", "title": "Estate of A. Client"},
            "participants": [{"roleSystemName": "client", "odsId": PERSON}],
        }
        created = api.post("/api/v1/public/workItem", body)
        assert created.status_code == 201, created.json
        parts = api.get(f"/api/v2/public/workItem/{created.json['workItem']['id']}/participants").json
        assert [(p["participantRoleType"], p["participantRoleTypeName"]) for p in parts] == [("client", "Client")]
        assert parts[0]["participantRoleCategorySystemName"] == "matter-team"
        refused = api.post(
            "/api/v1/public/workItem",
            {**body, "participants": [{"roleSystemName": "not-a-role", "odsId": PERSON}]},
        )
        assert refused.status_code == 400 and "not-a-role" in json.dumps(refused.json)
    finally:
        app.extensions["operate"].close()


def test_category_alone_names_the_role_category(tmp_path: Path) -> None:
    """A role whose Role object lacks the category key still gets it from the Category object."""
    role = {"Role": {"SystemName": "demo01-client", "Name": "Client"}, "Category": {"SystemName": "matter-team"}}
    entries = demo_entries()
    entries["data/participant-role-demo01-client-5b0c2a10-0003-4c1e-9a51-000000000003.json"] = json.dumps(role).encode()
    import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    solution = load_solution(tmp_path / "s")
    assert solution.roles["demo01-client"]["ParticipantRoleCategorySystemName"] == "matter-team"


# ---------------------------------------------------------------------------------------------- dropped sections


def test_report_names_every_section_each_work_type_drops(real_zip: Path, tmp_path: Path) -> None:
    report = import_package(real_zip, tmp_path / "s")
    general = report.dropped["worktypes/matter-private-client-general.json"]
    for section in ("Menus", "MenuItems", "RoleMenus", "Aspects", "SharedoTypeRolePermissions", "DynamicMenus"):
        assert section in general
    matter = report.dropped["worktypes/matter.json"]
    for section in ("SyncRules", "Aspects", "RoleMenus", "SharedoTypeRolePermissions"):
        assert section in matter
    assert any(s.startswith("TitleGenerator") for s in matter)
    assert "SyncRules" in report.dropped["worktypes/task.json"]
    for dropped in report.dropped.values():  # what the emulator reads, and empty sections, are not listed
        assert not {"BaseSharedo", "Phases", "PhaseTransitions", "SharedoTypeRoles", "ReferenceGenerator"} & set(
            dropped
        )
        assert "UiOperations" not in dropped or dropped is report.dropped["worktypes/task-search.json"]
    assert "KeyDateAssociations" not in general  # read: key dates are checked on create
    assert report.dropped["roles/client.json"] == ["AllowedRoles", "LocationTypes"]

    md = (tmp_path / "s" / REPORT_FILE).read_text(encoding="utf-8")
    dropped_part = md.split("## Dropped sections", 1)[1].split("## Missing dependencies", 1)[0]
    line = next(ln for ln in dropped_part.splitlines() if "`worktypes/matter-private-client-general.json`" in ln)
    assert "Menus" in line and "MenuItems" in line and "RoleMenus" in line
    text = report.summary()
    assert "Dropped sections" in text and "worktypes/matter.json: " in text and "SyncRules" in text


def test_report_groups_files_that_drop_the_same_sections(real_zip: Path, tmp_path: Path) -> None:
    import_package(real_zip, tmp_path / "s")
    md = (tmp_path / "s" / REPORT_FILE).read_text(encoding="utf-8")
    lines = [ln for ln in md.splitlines() if ln.endswith(": AllowedRoles, LocationTypes")]
    assert len(lines) == 1
    assert all(f"`roles/{name}.json`" in lines[0] for name in ROLES_WITH_LOCATIONS)
    assert sum("roles/" in ln for ln in md.split("## Dropped sections")[1].splitlines()) == 2


def test_a_reference_generator_that_is_not_emulated_is_listed_as_dropped(tmp_path: Path) -> None:
    entries = demo_entries()
    doc = json.loads(entries[WORKTYPE])
    doc["ReferenceGenerator"] = {"SystemName": "demo01-matter", "Mode": "generator", "GeneratorSystemName": "my-own"}
    entries[WORKTYPE] = json.dumps(doc).encode()
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert report.dropped["worktypes/demo01-matter.json"] == [
        "ReferenceGenerator (reference generator 'my-own' is not emulated (only 'core-configurable-reference'))"
    ]


def test_other_kinds_report_the_sections_their_readers_skip(tmp_path: Path) -> None:
    entries = demo_entries()
    wf = "data/visual-workflow-demo01-task-done-to-pms-5b0c2a10-0006-4c1e-9a51-000000000006.json"
    form = "data/form-builder-demo01pms-5b0c2a10-0004-4c1e-9a51-000000000004.json"
    doc = jsonfile.loads(entries[wf], wf)
    doc["PublishedVersions"] = [{"Version": 3}]
    doc["PublishedSteps"] = []  # empty: nothing dropped
    entries[wf] = json.dumps(doc).encode()
    doc = jsonfile.loads(entries[form], form)
    doc["Sections"] = [{"Title": "Details"}]
    entries[form] = json.dumps(doc).encode()
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert report.dropped["workflows/demo01-task-done-to-pms.json"] == ["PublishedVersions"]
    assert report.dropped["forms/demo01pms.json"] == ["Sections"]
    assert report.dropped["roles/demo01-client.json"] == ["AllowedOdsTypes"]
    assert (
        "worktypes/demo01-matter.json" not in report.dropped
        and "triggers/demo01-task-done-to-pms.json" not in report.dropped
    )


# ---------------------------------------------------------------------------------------------- dependencies


def test_report_of_the_whole_real_export_has_no_missing_dependency(real_zip: Path, tmp_path: Path) -> None:
    report = import_package(real_zip, tmp_path / "s")
    assert report.missing == []
    md = (tmp_path / "s" / REPORT_FILE).read_text(encoding="utf-8")
    assert "every mandatory dependency in manifest.json is in the package" in md


def test_report_lists_each_missing_mandatory_dependency_once_with_who_needs_it(tmp_path: Path) -> None:
    entries = without_steps(real_entries(), LOCATION_TYPES_STEP, CORE_READ_STEP)
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")

    by_name = {(m.kind, m.name): m for m in report.missing}
    assert set(by_name) == {("option-set", "participant-location-types"), ("permission", "core.read")}
    locations = by_name["option-set", "participant-location-types"]
    assert sorted(locations.needed_by) == [f"roles/{n}.json" for n in ROLES_WITH_LOCATIONS]
    assert locations.reasons == ["Participant role has location types specified"]
    core_read = by_name["permission", "core.read"]  # task-search names it six times: listed once
    names = ("matter", "matter-private-client", "matter-private-client-general", "task", "task-search")
    expected = [f"worktypes/{n}.json" for n in (*names, "task-search-duplicate")]
    assert sorted(core_read.needed_by) == sorted(expected)

    md = (tmp_path / "s" / REPORT_FILE).read_text(encoding="utf-8")
    missing_part = md.split("## Missing dependencies", 1)[1]
    assert "option-set `participant-location-types`" in missing_part and "`roles/reader.json`" in missing_part
    assert "permission `core.read`" in missing_part
    text = report.summary()
    assert "Missing mandatory dependencies (2)" in text and "option-set 'participant-location-types'" in text


def test_dependency_with_no_package_step_is_missing(tmp_path: Path) -> None:
    entries = demo_entries()
    manifest = json.loads(entries["manifest.json"])
    manifest["ExportedSteps"][0]["Dependencies"] = {
        "Recommended": [
            {"PackageStepId": None, "Dependency": {"SystemName": "list-view", "Selector": {"SystemName": "x"}}}
        ],
        "Mandatory": [
            {
                "PackageStepId": None,
                "Dependency": {
                    "SystemName": "sharedo-type",
                    "Reason": "Work type parent",
                    "Description": "The 'matter' work type",
                    "Selector": {"SystemName": "matter"},
                },
            },
            {"PackageStepId": "5b0c2a10-0003-4c1e-9a51-000000000003", "Dependency": {"SystemName": "participant-role"}},
        ],
    }
    manifest["ExportedSteps"][1]["Dependencies"] = "broken"
    entries["manifest.json"] = json.dumps(manifest).encode()
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert [(m.kind, m.name, m.needed_by) for m in report.missing] == [
        ("sharedo-type", "matter", ["worktypes/demo01-matter.json"])
    ]
    assert ("manifest.json", "ExportedSteps[1].Dependencies is not {Mandatory: [...]}; not checked") in report.warnings


# ---------------------------------------------------------------------------------------------- references


def test_work_items_created_after_import_get_the_generated_reference(real_zip: Path, tmp_path: Path) -> None:
    """matter: `{shortname}.{createddate}.{sequence}` (yy, 5 digits), inherited by the concrete
    matter-private-client-general (ShortName PC.G); task: `{typename}/{sequence}` (8 digits)."""
    import_package(real_zip, tmp_path / "s")
    app, api = serve(tmp_path, tmp_path / "s")
    try:

        def create(type_sn: str, **extra: str) -> dict:
            response = api.post(
                "/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": type_sn, "title": "t", **extra}}
            )
            assert response.status_code == 201, response.json
            return response.json["workItem"]

        assert create("matter-private-client-general")["reference"] == "PC.G.26.00001"
        assert create("matter-private-client-general")["reference"] == "PC.G.26.00002"
        assert create("matter-private-client-general", reference="MY-OWN")["reference"] == "MY-OWN"
        task = create("task")
        assert task["reference"] == "Task/00000001"
        assert api.get(f"/api/v1/public/workItem/{task['id']}").json["workItem"]["reference"] == "Task/00000001"
        assert create("task-search-duplicate")["reference"] == "Duplicate search/00000002"  # task's sequence
    finally:
        app.extensions["operate"].close()


def test_a_generated_reference_already_taken_moves_on_to_the_next_number(real_zip: Path, tmp_path: Path) -> None:
    import_package(real_zip, tmp_path / "s")
    app, api = serve(tmp_path, tmp_path / "s")
    try:
        body = {"workItem": {"sharedoTypeSystemName": "task", "title": "t", "reference": "Task/00000001"}}
        assert api.post("/api/v1/public/workItem", body).status_code == 201
        body["workItem"].pop("reference")
        assert api.post("/api/v1/public/workItem", body).json["workItem"]["reference"] == "Task/00000002"
    finally:
        app.extensions["operate"].close()


def test_a_broken_generator_config_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    entries = demo_entries()
    doc = json.loads(entries[WORKTYPE])
    doc["ReferenceGenerator"] = {
        "Mode": "generator",
        "GeneratorSystemName": "core-configurable-reference",
        "GeneratorConfig": '{"formatMask": "{sequence}", ',
    }
    entries[WORKTYPE] = json.dumps(doc).encode()
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert any("GeneratorConfig is not JSON" in text for _, text in report.warnings)
    with pytest.raises(SolutionError, match=r"'demo01-matter': ReferenceGenerator.GeneratorConfig is not JSON"):
        load_solution(tmp_path / "s")


def test_reference_mask_tokens_ignore_case_and_unknown_tokens_stay() -> None:
    from datetime import datetime, timezone

    from emulator.solution.references import parse_reference_generator

    doc = {
        "Mode": "generator",
        "GeneratorSystemName": "core-configurable-reference",
        "GeneratorConfig": {
            "formatMask": "{ShortName}-{createdDate}-{parentref}-{SEQUENCE}",
            "loadSharedoType": {"defaultShortNameIfNotSet": "GEN"},
            "loadCreatedDate": {"format": "yyyy-MM-dd"},
        },
    }
    fmt = parse_reference_generator(doc, "demo", "test")
    assert fmt is not None
    when = datetime(2026, 3, 7, 23, 30, tzinfo=timezone.utc)
    assert fmt.render(short_name="", type_name="Demo", created=when, sequence=42) == "GEN-2026-03-07-{parentref}-42"
    plain = parse_reference_generator({**doc, "GeneratorConfig": '{"formatMask": "{createddate}"}'}, "d", "t")
    assert plain is not None and not plain.uses_sequence
    assert plain.render(short_name="", type_name="", created=when, sequence=1) == "20260307"
