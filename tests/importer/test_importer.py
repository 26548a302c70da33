"""Tests for emulator.solution.importer: real solution-export packages, their quirks, and bad input."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from emulator.kernel import jsonfile
from emulator.solution.importer import REPORT_FILE, ImportReport, PackageError, import_package
from tests.helpers.exports import WORKTYPE, Entries, build_package, demo_entries
from tests.helpers.paths import FIXTURES

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

IDE_STEP = "5b0c2a10-0007-4c1e-9a51-000000000007"
TRIGGER = "data/execution-engine-trigger-5b0c2a10-0005-4c1e-9a51-000000000005.json"
IDE_DATA = "data/developer-ide-demo01-5b0c2a10-0007-4c1e-9a51-000000000007.json"
WF_ACTION = "files/a1f00000-0000-4000-8000-000000000001-PMSBalanceAction.wf-action.json"


def manifest_of(entries: Entries) -> dict:
    return json.loads(entries["manifest.json"])


def with_manifest(entries: Entries, manifest: dict) -> Entries:
    return {**entries, "manifest.json": json.dumps(manifest).encode()}


def minimal_manifest(**extra) -> dict:
    return {"Name": "Tiny", "CreatedBy": "me", "ExportedFrom": "x", "SharedoVersion": "7.6", **extra}


@pytest.fixture
def demo_zip(tmp_path: Path) -> Path:
    return build_package(tmp_path / "export-Demo 01-2024-02-20T14_17_26.zip")


# ---------------------------------------------------------------------------------------------- happy path


def test_demo_export_becomes_a_solution_folder(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "solution"
    report = import_package(demo_zip, target)

    assert isinstance(report, ImportReport)
    assert report.name == "Demo 01"
    assert report.target == target.absolute()
    assert report.imported == {
        "forms": ["forms/demo01pms.json"],
        "portals": ["portals/demo01-matter.json"],
        "roles": ["roles/demo01-client.json"],
        "triggers": ["triggers/demo01-task-done-to-pms.json"],
        "workflows": ["workflows/demo01-task-done-to-pms.json"],
        "worktypes": ["worktypes/demo01-matter.json", "worktypes/demo01-task.json"],
        "ide": [
            "_IDE/Demo01/PMSBalanceAction/PMSBalanceAction.wf-action.json",
            "_IDE/Demo01/PMSBalanceAction/PMSBalanceAction-template.js",
            "_IDE/Demo01/PMSWidget/PMSWidget.widget.json",
            "_IDE/Demo01/PMSWidget/PMSWidget.js",
            "_IDE/Demo01/RiskWidget/designer/RiskWidgetDesigner.js",
        ],
    }
    for items in report.imported.values():
        for rel in items:
            assert (target / rel).is_file(), rel
    assert report.warnings == []


def test_items_are_written_byte_for_byte(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "solution"
    import_package(demo_zip, target)
    src = demo_entries()
    assert (target / "worktypes/demo01-matter.json").read_bytes() == src[WORKTYPE]
    assert (target / "_IDE/Demo01/PMSBalanceAction/PMSBalanceAction.wf-action.json").read_bytes() == src[WF_ACTION]


def test_unused_kinds_are_listed_with_reasons(demo_zip: Path, tmp_path: Path) -> None:
    report = import_package(demo_zip, tmp_path / "solution")
    skipped = dict(report.skipped)
    assert set(skipped) == {"data/option-set-demo01-risk-5b0c2a10-0009-4c1e-9a51-000000000009.json"}
    assert "option sets" in skipped["data/option-set-demo01-risk-5b0c2a10-0009-4c1e-9a51-000000000009.json"]


def test_portal_definitions_are_imported_and_place_widgets(tmp_path: Path) -> None:
    """The real export's portal-worktype file (official sample, tests/fixtures/official) lands in portals/
    unchanged, loads with the solution, and places Demo 01's widget where the designer put it."""
    from emulator.solution.loading import load_solution
    from widgets.portals import parse_portal_document, portal_for

    real = next((FIXTURES / "official/forum2024-02-S3/export/data").glob("portal-worktype-*.json"))
    pkg = build_package(tmp_path / "p.zip", extra={f"data/{real.name}": real.read_bytes()})
    report = import_package(pkg, tmp_path / "s")
    written = tmp_path / "s/portals/matter-private-client-general.json"
    assert "portals/matter-private-client-general.json" in report.imported["portals"]
    assert written.read_bytes() == real.read_bytes()
    solution = load_solution(tmp_path / "s")
    portals = [p for path in solution.portal_files for p in parse_portal_document(jsonfile.load(path), str(path))]
    portal = portal_for(portals, ["matter-private-client-general", "matter-private-client", "matter"])
    assert portal is not None and portal.title == "MPC General portal"
    placed = {p.widget: p for p in portal.placements()}  # the first page: "default", the matter dashboard
    assert placed["Demo01.PMSWidget"].zone == "middle-top" and placed["Demo01.PMSWidget"].with_chrome
    assert placed["Demo01.PMSWidget"].title == "Demo 01 - PMS Information"
    assert placed["Demo01.RiskWidget"].zone == "right"
    assert placed["Demo01.RiskWidget"].configuration == {"todoMessage": "Customisable message goes here"}


def test_operate_toml_names_the_solution(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "solution"
    import_package(demo_zip, target)
    toml = tomllib.loads((target / "operate.toml").read_text(encoding="utf-8"))
    stand_in = {  # the export's code calls /api/proxy/demo01/...: the demo PMS fake stands in (starter.py)
        "base_url": "http://127.0.0.1:8766",
        "auth": "api-key",
        "api_key_header": "X-API-Key",
        "api_key": "demo-pms-key",
        "fake": "demo",
    }
    assert toml == {"solution": {"name": "Demo 01"}, "linked_services": {"demo01": stand_in}}
    assert "# SharedoVersion: 7.6.1.0" in (target / "operate.toml").read_text(encoding="utf-8")


def test_operate_toml_escapes_awkward_names(tmp_path: Path) -> None:
    pkg = build_package(tmp_path / "p.zip", {"manifest.json": json.dumps({"Name": 'A "quoted"\\ name\t'}).encode()})
    import_package(pkg, tmp_path / "s")
    toml = tomllib.loads((tmp_path / "s/operate.toml").read_text(encoding="utf-8"))
    assert toml["solution"]["name"] == 'A "quoted"\\ name\t'


def test_import_report_file_and_summary(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "solution"
    report = import_package(demo_zip, target)
    md = (target / REPORT_FILE).read_text(encoding="utf-8")
    assert md.startswith("# Import report: Demo 01")
    assert "`worktypes/demo01-task.json`" in md
    assert "option-set-demo01-risk" in md and "not emulated" in md

    text = report.summary()
    assert 'Imported solution "Demo 01"' in text
    assert "worktypes: 2" in text and "ide: 5" in text
    assert text.index("worktypes:") < text.index("roles:") < text.index("ide:")
    assert "Skipped 1 entry:" in text
    assert "portals: 1" in text


def test_derived_worktype_keeps_null_phase_plan(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "solution"
    import_package(demo_zip, target)
    task = jsonfile.load(target / "worktypes/demo01-task.json")
    assert task["PhasePlan"] is None and task["BaseSharedo"]["ParentSystemName"] == "task"


def test_role_in_wrapper_object_is_named_by_inner_system_name(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "solution"
    import_package(demo_zip, target)
    role = jsonfile.load(target / "roles/demo01-client.json")
    assert role["ParticipantRole"]["Name"] == "Client"


def test_unknown_and_stray_entries_are_listed_not_dropped(tmp_path: Path) -> None:
    pkg = build_package(
        tmp_path / "p.zip",
        extra={
            "data/business-rule-demo01-x-5b0c2a10-0010-4c1e-9a51-000000000010.json": "{}",
            "data/notes.txt": "hello",
            "files/ffffffff-0000-4000-8000-000000000009-orphan.js": "//",
            "thumbs.db": b"\0",
        },
    )
    report = import_package(pkg, tmp_path / "s")
    skipped = dict(report.skipped)
    assert "unknown config kind" in skipped["data/business-rule-demo01-x-5b0c2a10-0010-4c1e-9a51-000000000010.json"]
    assert "not a .json file" in skipped["data/notes.txt"]
    assert "not named by manifest.json" in skipped["files/ffffffff-0000-4000-8000-000000000009-orphan.js"]
    assert "not part of the export format" in skipped["thumbs.db"]


def test_duplicate_system_name_is_skipped(tmp_path: Path) -> None:
    entries = demo_entries()
    entries["data/sharedo-type-demo01-matter-copy.json"] = entries[WORKTYPE]
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert report.imported["worktypes"] == ["worktypes/demo01-matter.json", "worktypes/demo01-task.json"]
    assert "duplicate system name 'demo01-matter'" in dict(report.skipped)["data/sharedo-type-demo01-matter-copy.json"]


def test_two_triggers_for_one_plan_both_kept(tmp_path: Path) -> None:
    entries = demo_entries()
    second = json.loads(entries[TRIGGER])
    second["TriggerMeta"] = '{"PhasesSystemNames":["task-cancelled"]}'
    entries["data/execution-engine-trigger-second.json"] = json.dumps(second).encode()
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert report.imported["triggers"] == [
        "triggers/demo01-task-done-to-pms.json",
        "triggers/demo01-task-done-to-pms-2.json",
    ]


def test_item_without_system_name_is_skipped(tmp_path: Path) -> None:
    pkg = build_package(
        tmp_path / "p.zip",
        extra={"data/form-builder-broken.json": '{"Form": {"Title": "no name"}}'},
    )
    report = import_package(pkg, tmp_path / "s")
    assert "no system name" in dict(report.skipped)["data/form-builder-broken.json"]


# ---------------------------------------------------------------------------------------------- quirks


def test_quirk_utf8_bom_in_manifest_and_data(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    entries = {k: (bom + v if k.endswith(".json") else v) for k, v in demo_entries().items()}
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert report.name == "Demo 01"
    assert len(report.imported["worktypes"]) == 2
    assert (tmp_path / "s/worktypes/demo01-matter.json").read_bytes().startswith(bom)  # unchanged


def test_quirk_comments_in_wf_action_and_data(tmp_path: Path) -> None:
    entries = demo_entries()
    assert b"// Node type system name" in entries[WF_ACTION]
    entries[IDE_DATA] = b"// exported IDE folder\n" + entries[IDE_DATA]
    entries[TRIGGER] = entries[TRIGGER].replace(b'"System": false', b'"System": false // not a system trigger')
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    action = tmp_path / "s/_IDE/Demo01/PMSBalanceAction/PMSBalanceAction.wf-action.json"
    assert jsonfile.load(action)["systemName"] == "PMSBalanceAction"
    assert b"// Node type" in action.read_bytes()
    assert report.imported["triggers"] == ["triggers/demo01-task-done-to-pms.json"]


def test_quirk_windows_backslashes_in_entry_names(tmp_path: Path) -> None:
    pkg = build_package(tmp_path / "p.zip", rename=lambda n: n.replace("/", "\\"))
    with zipfile.ZipFile(pkg) as zf:
        assert any("\\" in n for n in zf.namelist())
    report = import_package(pkg, tmp_path / "s")
    assert len(report.imported["ide"]) == 5
    assert report.skipped and all(e.startswith("data/") for e, _ in report.skipped)


def test_quirk_letter_case_differs_from_manifest(tmp_path: Path) -> None:
    def shout(name: str) -> str:
        folder, _, base = name.rpartition("/")
        return f"{folder.upper()}/{base.upper()}" if folder else name

    pkg = build_package(tmp_path / "p.zip", rename=shout)
    report = import_package(pkg, tmp_path / "s")
    # Names come from the manifest and the developer-ide data, not from the zip's spelling.
    assert "_IDE/Demo01/RiskWidget/designer/RiskWidgetDesigner.js" in report.imported["ide"]
    assert report.imported["worktypes"] == ["worktypes/demo01-matter.json", "worktypes/demo01-task.json"]


def test_quirk_manifest_spelled_differently(tmp_path: Path) -> None:
    pkg = build_package(tmp_path / "p.zip", rename=lambda n: "Manifest.JSON" if n == "manifest.json" else n)
    assert import_package(pkg, tmp_path / "s").name == "Demo 01"


def test_quirk_guid_file_name_without_zip_extension(tmp_path: Path) -> None:
    pkg = build_package(tmp_path / "3f2a9c4e-8d1b-4b7a-9e61-2c5d0f7a1b23")
    report = import_package(pkg, tmp_path / "s")
    assert report.name == "Demo 01" and len(report.imported["ide"]) == 5


def test_quirk_trigger_and_plan_meta_stay_json_strings(demo_zip: Path, tmp_path: Path) -> None:
    import_package(demo_zip, tmp_path / "s")
    trigger = jsonfile.load(tmp_path / "s/triggers/demo01-task-done-to-pms.json")
    assert trigger["TriggerMeta"] == '{"PhasesSystemNames":["task-done"]}'
    assert trigger["PlanMeta"] == '{"dataFields":{"workItemId":"ev.Data.sharedoId"}}'
    assert json.loads(trigger["TriggerMeta"]) == {"PhasesSystemNames": ["task-done"]}


def test_quirk_zip_of_the_export_folder(tmp_path: Path) -> None:
    pkg = build_package(tmp_path / "p.zip", rename=lambda n: "export-Demo 01/" + n)
    report = import_package(pkg, tmp_path / "s")
    assert report.name == "Demo 01" and len(report.imported["ide"]) == 5


def test_quirk_case_insensitive_keys(tmp_path: Path) -> None:
    entries = demo_entries()
    entries["manifest.json"] = entries["manifest.json"].replace(b'"Name": "Demo 01"', b'"name": "Demo 01"')
    entries[WORKTYPE] = entries[WORKTYPE].replace(b'"BaseSharedo"', b'"baseSharedo"')
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert report.name == "Demo 01"
    assert "worktypes/demo01-matter.json" in report.imported["worktypes"]


# ---------------------------------------------------------------------------------------------- IDE paths


def ide_package(tmp_path: Path, ide_doc: object, files: list[dict], *, step: bool = True) -> Path:
    """A package holding only a developer-ide data file and the given manifest Files[]."""
    manifest = minimal_manifest(Files=files)
    if step:
        manifest["ExportedSteps"] = [
            {
                "Id": IDE_STEP,
                "ExportProviderSystemName": "developer-ide",
                "StorageFilename": "developer-ide-x.json",
            }
        ]
    entries = {
        "manifest.json": json.dumps(manifest).encode(),
        "data/developer-ide-x.json": json.dumps(ide_doc).encode(),
    }
    for f in files:
        entries["files/" + f["StorageFilename"]] = b"content of " + f["OriginalFilename"].encode()
    return build_package(tmp_path / "p.zip", entries)


def a_file(n: int, original: str) -> dict:
    return {
        "Id": f"a1f00000-0000-4000-8000-00000000000{n}",
        "OriginalFilename": original,
        "StorageFilename": f"a1f00000-0000-4000-8000-00000000000{n}-{original.rsplit('/', 1)[-1]}",
        "StepId": IDE_STEP,
    }


def test_ide_flat_list_with_parent_ids(tmp_path: Path) -> None:
    doc = {
        "Items": [
            {"Id": "f1", "Name": "Acme", "Type": "Folder", "ParentId": None},
            {"Id": "f2", "Name": "Widgets", "Type": "Folder", "ParentId": "f1"},
            {"Id": "a1f00000-0000-4000-8000-000000000001", "Name": "W.js", "Type": "Js", "ParentId": "f2"},
        ]
    }
    report = import_package(ide_package(tmp_path, doc, [a_file(1, "W.js")]), tmp_path / "s")
    assert report.imported["ide"] == ["_IDE/Acme/Widgets/W.js"]
    assert (tmp_path / "s/_IDE/Acme/Widgets/W.js").read_bytes() == b"content of W.js"


def test_ide_path_recorded_on_the_node(tmp_path: Path) -> None:
    doc = [
        {
            "FileId": "a1f00000-0000-4000-8000-000000000001",
            "Name": "W.js",
            "Path": "/_ideFiles/Acme/Blades/W.js",
        }
    ]
    report = import_package(ide_package(tmp_path, doc, [a_file(1, "W.js")]), tmp_path / "s")
    assert report.imported["ide"] == ["_IDE/Acme/Blades/W.js"]


def test_ide_folder_path_on_a_parent_folder(tmp_path: Path) -> None:
    doc = {
        "Folder": {"Id": "f1", "Name": "Blades", "FolderPath": "/Acme"},
        "Files": [],
    }
    doc["Folder"]["Children"] = [{"Id": "a1f00000-0000-4000-8000-000000000001", "Name": "B.js"}]
    report = import_package(ide_package(tmp_path, doc, [a_file(1, "B.js")]), tmp_path / "s")
    assert report.imported["ide"] == ["_IDE/Acme/Blades/B.js"]


def test_ide_matched_by_unique_name_when_ids_differ(tmp_path: Path) -> None:
    doc = {"Id": "root", "Name": "Acme", "Children": [{"Id": "other-id", "Name": "x.JS"}]}
    report = import_package(ide_package(tmp_path, doc, [a_file(1, "x.js")]), tmp_path / "s")
    assert report.imported["ide"] == ["_IDE/Acme/x.JS"]


def test_ide_path_in_original_filename(tmp_path: Path) -> None:
    report = import_package(ide_package(tmp_path, {}, [a_file(1, "Acme\\Panels/P.panel.json")]), tmp_path / "s")
    assert report.imported["ide"] == ["_IDE/Acme/Panels/P.panel.json"]
    assert report.warnings == []


def test_ide_without_any_folder_is_kept_at_root_with_a_warning(tmp_path: Path) -> None:
    report = import_package(ide_package(tmp_path, {}, [a_file(1, "lost.js")], step=False), tmp_path / "s")
    assert report.imported["ide"] == ["_IDE/lost.js"]
    assert report.warnings and "no IDE folder recorded" in report.warnings[0][1]
    assert "Warnings (1):" in report.summary()


def test_files_of_other_export_steps_are_skipped(tmp_path: Path) -> None:
    f = a_file(1, "letter.docx") | {"StepId": "d0c00000-0000-4000-8000-000000000001"}
    manifest = minimal_manifest(
        Files=[f],
        ExportedSteps=[
            {
                "Id": f["StepId"],
                "ExportProviderSystemName": "document-template",
                "StorageFilename": "document-template-x.json",
            }
        ],
    )
    entries = {
        "manifest.json": json.dumps(manifest).encode(),
        "data/document-template-x.json": b"{}",
        "files/" + f["StorageFilename"]: b"PK",
    }
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert "document-template" in dict(report.skipped)["files/" + f["StorageFilename"]]
    assert "ide" not in report.imported


# ---------------------------------------------------------------------------------------------- bad input


def test_error_not_a_zip(tmp_path: Path) -> None:
    bogus = tmp_path / "export.zip"
    bogus.write_text("<html>Session expired</html>")
    with pytest.raises(PackageError, match="not a zip file"):
        import_package(bogus, tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_error_missing_package(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="does not exist"):
        import_package(tmp_path / "nope.zip", tmp_path / "s")


def test_an_unzipped_export_folder_imports_as_its_zip_does(demo_zip: Path, tmp_path: Path) -> None:
    """The vendor's samples ship their export unzipped; a folder holding manifest.json reads like the package."""
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(demo_zip) as zf:
        zf.extractall(folder)
    from_zip, from_folder = tmp_path / "a", tmp_path / "b"
    import_package(demo_zip, from_zip)
    import_package(folder, from_folder)
    written = sorted(p.relative_to(from_zip).as_posix() for p in from_zip.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(from_folder).as_posix() for p in from_folder.rglob("*") if p.is_file())
    assert "workflows" in {name.split("/")[0] for name in written}
    for name in written:
        if name != "IMPORT-REPORT.md":
            assert (from_zip / name).read_bytes() == (from_folder / name).read_bytes(), name


def test_error_a_folder_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "somewhere").mkdir()
    (tmp_path / "somewhere" / "notes.txt").write_text("not an export")
    with pytest.raises(PackageError, match=r"folder with no manifest\.json"):
        import_package(tmp_path / "somewhere", tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_error_no_manifest(tmp_path: Path) -> None:
    entries = {k: v for k, v in demo_entries().items() if k != "manifest.json"}
    with pytest.raises(PackageError, match=r"no manifest\.json") as err:
        import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert err.value.entry == "manifest.json"


def test_error_data_file_not_json_names_file_and_line(tmp_path: Path) -> None:
    entries = demo_entries()
    entries[TRIGGER] = b'{\n  "Id": "x",\n  "PlanSystemName": oops\n}'
    with pytest.raises(PackageError) as err:
        import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    message = str(err.value)
    assert TRIGGER in message and "not JSON" in message and "line 3" in message
    assert err.value.entry == TRIGGER


def test_error_manifest_not_json(tmp_path: Path) -> None:
    pkg = build_package(tmp_path / "p.zip", {"manifest.json": b'{"Name": "x",,}'})
    with pytest.raises(PackageError, match=r"manifest\.json is not JSON: .*line 1"):
        import_package(pkg, tmp_path / "s")


def test_error_manifest_names_missing_file(tmp_path: Path) -> None:
    entries = {k: v for k, v in demo_entries().items() if not k.endswith("-PMSWidget.js")}
    with pytest.raises(PackageError, match=r"Files\[3\] names files/.*PMSWidget\.js, which is not in the package"):
        import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert list(tmp_path.iterdir()) == [tmp_path / "p.zip"]  # no target, no temp folder left


def test_error_manifest_names_missing_data_file(tmp_path: Path) -> None:
    entries = {k: v for k, v in demo_entries().items() if k != WORKTYPE}
    with pytest.raises(PackageError, match=r"ExportedSteps\[0\] names .*sharedo-type-demo01-matter"):
        import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")


def test_error_manifest_file_without_storage_name(tmp_path: Path) -> None:
    pkg = build_package(
        tmp_path / "p.zip", {"manifest.json": json.dumps(minimal_manifest(Files=[{"Id": "x"}])).encode()}
    )
    with pytest.raises(PackageError, match=r"Files\[0\] has no StorageFilename"):
        import_package(pkg, tmp_path / "s")


@pytest.mark.parametrize("evil", ["../../x.js", "files/../../x.js", "..\\..\\x.js", "/etc/x.js", "C:/x.js"])
def test_error_zip_slip_entries_refused(tmp_path: Path, evil: str) -> None:
    pkg = build_package(tmp_path / "p.zip", extra={evil: "alert(1)"})
    with pytest.raises(PackageError, match="zip-slip") as err:
        import_package(pkg, tmp_path / "sub" / "s")
    assert err.value.entry == evil
    assert not (tmp_path / "x.js").exists() and not (tmp_path / "sub" / "s").exists()


def test_error_traversal_in_original_filename_refused(tmp_path: Path) -> None:
    pkg = ide_package(tmp_path, {}, [a_file(1, "../../evil.js")])
    with pytest.raises(PackageError, match="outside _IDE"):
        import_package(pkg, tmp_path / "s")
    assert not (tmp_path / "evil.js").exists()


def test_error_traversal_in_system_name_refused(tmp_path: Path) -> None:
    pkg = build_package(
        tmp_path / "p.zip",
        extra={"data/sharedo-type-evil.json": '{"BaseSharedo": {"SystemName": "../../evil"}}'},
    )
    with pytest.raises(PackageError, match="outside its folder"):
        import_package(pkg, tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_error_target_is_a_file(demo_zip: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(PackageError, match="not a folder"):
        import_package(demo_zip, tmp_path / "taken")


# ---------------------------------------------------------------------------------- target handling


def test_refuses_non_empty_target_without_overwrite(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "solution"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    with pytest.raises(PackageError, match="not empty.*without overwrite"):
        import_package(demo_zip, target)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]


def test_empty_target_folder_is_fine(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "solution"
    target.mkdir()
    import_package(demo_zip, target)
    assert (target / "operate.toml").is_file()


def test_overwrite_replaces_the_whole_folder(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "solution"
    target.mkdir()
    (target / "stale.json").write_text("{}")
    import_package(demo_zip, target, overwrite=True)
    assert not (target / "stale.json").exists()
    assert (target / "worktypes/demo01-matter.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "export-Demo 01-2024-02-20T14_17_26.zip",
        "solution",
    ]


def test_failed_overwrite_leaves_old_folder_untouched(tmp_path: Path) -> None:
    target = tmp_path / "solution"
    target.mkdir()
    (target / "old.json").write_text("{}")
    entries = demo_entries()
    entries[TRIGGER] = b"not json"
    with pytest.raises(PackageError):
        import_package(build_package(tmp_path / "p.zip", entries), target, overwrite=True)
    assert [p.name for p in target.iterdir()] == ["old.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip", "solution"]


def test_target_parents_are_created(demo_zip: Path, tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "solution"
    import_package(str(demo_zip), str(target))
    assert (target / "roles/demo01-client.json").is_file()


def test_an_entry_that_unpacks_past_the_limit_is_refused_by_name_and_nothing_is_written(tmp_path: Path) -> None:
    from emulator.solution.importer import MAX_ENTRY_BYTES

    entries = demo_entries()
    entries[WORKTYPE] = b" " * (MAX_ENTRY_BYTES + 1)  # deflates to ~65 KB: a small zip that unpacks to 64 MB+
    pkg = build_package(tmp_path / "bomb.zip", entries)
    assert pkg.stat().st_size < 1024 * 1024
    with pytest.raises(PackageError, match=f"entry {WORKTYPE} unpacks to more than 64 MB"):
        import_package(pkg, tmp_path / "s")
    assert not (tmp_path / "s").exists()
