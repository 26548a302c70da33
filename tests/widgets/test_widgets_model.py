"""The harness's model without a browser: manifests, portal placement rules, scenarios, served files."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from tests.helpers.paths import FIXTURES, ROOT
from widgets.data_scenarios import DataScenarioError, apply, builtin
from widgets.manifests import BUILTIN_IDE_ROOT, scan
from widgets.portals import Placement, PortalError, Viewer, names, parse_portal_document, placement_refusal
from widgets.vendor import SCRIPTS, STYLES, VENDOR_ROOT, load_pins

MATTER = "3c000000-0000-4000-8000-000000000001"


def row(**kw) -> dict:
    return {"Id": "r1", "Widget": "Acme.W", "Zone": "right", **kw}


def placement(**kw) -> Placement:
    doc = {"Portals": [{"Id": "p", "SharedoTypeSystemName": "matter"}], "Widgets": [row(**kw)]}
    return parse_portal_document(doc, "test.json")[0].placements()[0]


VIEWER = Viewer(["matter-commercial", "matter"], "matter-open", frozenset({"core.sharedo.read"}), "lawyer")


@pytest.mark.parametrize(
    "columns, refusal",
    [
        ({}, None),
        ({"RequirePermissionType": "None", "RequirePermission": None}, None),
        ({"RequirePermission": "core.admin.jumptophase"}, "needs the permission 'core.admin.jumptophase'"),
        ({"RequirePermission": "core.sharedo.read"}, None),
        ({"RequirePhaseList": "matter-enquiry,matter-closed"}, "shown only in phase matter-enquiry, matter-closed"),
        ({"RequirePhaseList": '["matter-open"]'}, None),
        ({"RequirePersonaList": "partner"}, "shown only to persona partner"),
        ({"MustBeTypesList": "matter"}, "shown only on type matter"),  # exact: the item is matter-commercial
        ({"MustBeTypesList": "matter-commercial"}, None),
        ({"MustNotBeTypesList": "matter-commercial"}, "not shown on type matter-commercial"),
        ({"MustBeSubTypesList": "matter"}, None),
        ({"MustBeSubTypesList": "task"}, "shown only on types derived from task"),
        ({"MustNotBeSubTypesList": "matter"}, "not shown on types derived from matter"),
        ({"RequireFeatureType": "Feature", "RequireFeature": "Bookmarks"}, None),  # features are not emulated
    ],
)
def test_placement_rules(columns, refusal):
    assert placement_refusal(placement(**columns), VIEWER) == refusal


def test_list_columns_take_every_spelling():
    assert names(None) == names("") == []
    assert names("a, b;c") == ["a", "b", "c"]
    assert names('["a", "b"]') == names(["a", "b"]) == ["a", "b"]


def test_configuration_json_is_parsed_and_a_bad_one_is_reported():
    assert placement(ConfigurationJson='{\r\n  "a": 1\r\n}').configuration == {"a": 1}
    assert placement(ConfigurationJson="").configuration == {}
    bad = placement(ConfigurationJson="{nope")
    assert bad.configuration == {} and "ConfigurationJson is not JSON" in bad.error
    assert "must be a JSON object" in placement(ConfigurationJson="[1]").error


def test_portal_documents_that_cannot_be_used_say_where():
    with pytest.raises(PortalError, match="Portals is empty"):
        parse_portal_document({"Portals": []}, "x.json")
    with pytest.raises(PortalError, match=r"Portals\[0\] needs SharedoTypeSystemName"):
        parse_portal_document({"Portals": [{}]}, "x.json")
    with pytest.raises(PortalError, match=r"Widgets\[0\]: the row needs Widget"):
        parse_portal_document({"Portals": [{"SharedoTypeSystemName": "m"}], "Widgets": [{"Zone": "x"}]}, "x.json")
    two = {"Portals": [{"Id": "a", "SharedoTypeSystemName": "m"}, {"Id": "b", "SharedoTypeSystemName": "n"}]}
    with pytest.raises(PortalError, match="is on no known page or portal"):
        parse_portal_document({**two, "Widgets": [row()]}, "x.json")


def test_builtin_widgets_are_found_and_a_solution_widget_of_the_same_id_wins(tmp_path):
    catalogue = scan(None)
    assert {"OperateFinance.WipWidget", "OperateFinance.AgedDebtWidget"} <= set(catalogue.manifests)
    assert catalogue.errors == []
    own = tmp_path / "_IDE" / "Mine"
    own.mkdir(parents=True)
    (own / "Wip.widget.json").write_text(json.dumps({"id": "OperateFinance.WipWidget", "scripts": []}))
    (own / "NoId.widget.json").write_text("{}")
    catalogue = scan(tmp_path / "_IDE")
    assert not catalogue.manifests["OperateFinance.WipWidget"].builtin
    assert catalogue.get("operatefinance.ageddebtwidget").builtin  # ids are matched loosely by case
    assert any("NoId.widget.json: the manifest needs an id" in e for e in catalogue.errors)


def test_builtin_widget_assets_all_exist_where_their_manifests_say():
    for manifest in scan(None).widgets():
        for url in manifest.scripts + manifest.styles + manifest.templates:
            assert url.startswith("/_ideFiles/"), url
            assert (BUILTIN_IDE_ROOT / url[len("/_ideFiles/") :]).is_file(), url


def test_scenarios_drive_the_pms_fake_and_the_user(operate):
    em = operate.emulator
    scenarios = builtin()
    applied = apply(em, scenarios, "pms-error")
    assert applied.work_item == MATTER and applied.user == "priya.shah"  # the matter's owner, a user
    assert [(f.route, f.status) for f in operate.pms.faults(applied.key)] == [("/api/**", 502)]
    assert operate.pms.faults() == []  # the page's own: plans and pages with no scenario see the PMS as it is
    ok = apply(em, scenarios, "ok")
    assert operate.pms.faults(ok.key) == [] and ok.key != applied.key  # each page its own key and faults
    assert [(f.route, f.status) for f in operate.pms.faults(applied.key)] == [("/api/**", 502)]
    assert apply(em, scenarios, "forbidden").user == "tom.becker"
    empty = apply(em, scenarios, "empty")
    reference = operate.attribute(empty.work_item, "pmsReference")
    assert reference and operate.pms.wip(reference)["total"] == 0
    assert apply(em, scenarios, "empty").notes[0] == f"PMS matter {reference} linked to the work item"  # idempotent
    with pytest.raises(DataScenarioError, match="no scenario 'nope'"):
        apply(em, scenarios, "nope")
    with pytest.raises(DataScenarioError, match=r"pmsFaults\[0\].status: status must be a 5xx"):
        apply(em, {"x": {"pmsFaults": [{"route": "/api/**", "status": 200}]}}, "x")
    with pytest.raises(DataScenarioError, match="no user lacks 'core.sharedo.read'"):
        apply(em, {"x": {"user": {"lacking": "core.sharedo.read"}}}, "x")


def test_served_libraries_are_the_pinned_bytes_and_the_page_loads_nothing_from_elsewhere(operate):
    client = operate.app.test_client()
    for entry in load_pins():
        for pinned in entry["files"]:
            response = client.get(f"/_harness/vendor/{entry['package']}/{pinned['path']}")
            assert response.status_code == 200, pinned["path"]
            assert hashlib.sha256(response.data).hexdigest() == pinned["sha256"], pinned["path"]
    assert client.get("/_harness/vendor/jquery/package.json").status_code == 404
    assert client.get("/_harness/vendor/jquery/../pins.json").status_code == 404
    page = client.get(f"/widgets/OperateFinance.WipWidget?workItem={MATTER}").get_data(as_text=True)
    for url in [*SCRIPTS, *STYLES]:
        assert f"/_harness/vendor/{url}" in page
        assert (VENDOR_ROOT / url).is_file()
    assert not re.search(r'(src|href)="(https?:)?//', page)  # no CDN, no other host


def test_session_gives_a_fresh_token_for_a_user(operate):
    client = operate.app.test_client()
    answer = client.get("/_harness/session?user=priya.shah").get_json()
    me = client.get("/api/security/userInfo", headers={"Authorization": f"Bearer {answer['token']}"}).get_json()
    assert me["userName"] == "priya.shah" and me["clientId"] == "operate-portal"
    bad = client.get("/_harness/session?user=nobody")
    assert bad.status_code == 404 and "no user 'nobody'" in bad.get_json()["title"]


def test_portal_page_reports_missing_widgets_and_unshown_ones(operate, tmp_path):
    from smartplans.testing import solution_from_demo

    root = solution_from_demo(tmp_path / "s")
    (root / "portals" / "portal-worktype-matter.json").write_text(
        json.dumps(
            {
                "Portals": [{"Id": "p", "SharedoTypeSystemName": "matter"}],
                "Widgets": [
                    row(Id="a", Widget="Nobody.Widget", Zone="middle-top"),
                    row(Id="b", Widget="OperateFinance.WipWidget", RequirePermission="core.admin.jumptophase"),
                    row(Id="c", Widget="OperateFinance.AgedDebtWidget", ConfigurationJson="{oops"),
                ],
            }
        )
    )
    from smartplans.testing import Operate

    other = Operate(tmp_path / "state", root)
    try:
        html = other.app.test_client().get(f"/portal/{MATTER}").get_data(as_text=True)
    finally:
        other.close()
    assert "widget &#39;Nobody.Widget&#39; is not in the solution" in html
    assert "not shown to priya.shah" in html and "needs the permission &#39;core.admin.jumptophase&#39;" in html
    assert "ConfigurationJson is not JSON" in html


def test_the_demo_portal_definition_is_a_real_shaped_export_document():
    doc = json.loads((ROOT / "emulator/demo_solution/portals/portal-worktype-matter.json").read_text())
    real = next((FIXTURES / "official/forum2024-02-S3/export/data").glob("portal-worktype-*.json"))
    real_doc = json.loads(real.read_text("utf-8"))
    assert set(doc) == set(real_doc)
    assert set(doc["Widgets"][0]) == set(real_doc["Widgets"][0])
    assert set(doc["Pages"][0]) == set(real_doc["Pages"][0])


@pytest.mark.parametrize(
    "manifest, message",
    [
        ({"id": "A.W", "designer": {"defaultConfigurationJson": "{bad"}}, "defaultConfigurationJson: line 1"),
        ({"id": "A.W", "designer": {"defaultConfigurationJson": "[1]"}}, "must be a JSON object"),
        ({"id": "A.W", "designer": "x"}, "designer must be an object"),
        ({"id": "A.W", "scripts": "x.js"}, "scripts must be a list of file paths"),
        ({"scripts": []}, "the manifest needs an id"),
        ([], "a widget manifest is a JSON object"),
    ],
)
def test_a_manifest_that_cannot_be_used_is_reported_with_its_file(tmp_path, manifest, message):
    folder = tmp_path / "_IDE" / "A"
    folder.mkdir(parents=True)
    (folder / "W.widget.json").write_text(json.dumps(manifest))
    catalogue = scan(tmp_path / "_IDE")
    assert "A.W" not in catalogue.manifests
    assert len(catalogue.errors) == 1 and "W.widget.json" in catalogue.errors[0] and message in catalogue.errors[0]


@pytest.mark.parametrize(
    "zone, column",
    [("top-menu", "top"), ("top", "top"), ("above-nav", "left"), ("nav", "left"), ("left-top", "left"),
     ("left-1", "left"), ("right", "right"), ("right-1", "right"), ("middle-top", "centre"), ("centre-top", "centre"),
     ("above-radar", "centre"), ("bottom", "centre"), ("made-up", "centre")],
)  # fmt: skip
def test_zones_of_real_exports_land_in_their_column(zone, column):
    from widgets.portals import column_for

    assert column_for(zone) == column


def test_a_row_on_an_unknown_page_is_a_problem_not_a_widget_on_every_page():
    doc = {
        "Portals": [{"Id": "p", "SharedoTypeSystemName": "matter"}],
        "Pages": [{"Id": "home", "PortalId": "p", "PageSystemName": "default"}],
        "Widgets": [row(PortalPageId="home"), row(Id="r2", Widget="Acme.Lost", PortalPageId="gone")],
    }
    portal = parse_portal_document(doc, "x.json")[0]
    assert [p.widget for p in portal.placements()] == ["Acme.W"]
    assert portal.problems == ["x.json: Widgets[1] (Acme.Lost): no page has Id 'gone'"]


def test_flags_and_lists_as_exports_spell_them():
    assert not placement(WithChrome="false").with_chrome and placement(WithChrome="True").with_chrome
    assert placement_refusal(placement(RequirePermission=["core.admin.jumptophase"]), VIEWER) is not None
    assert "NaN is not JSON" in placement(ConfigurationJson='{"a": NaN}').error


def test_an_ide_link_that_leads_out_of_the_folder_serves_nothing(operate, tmp_path):
    import os

    from emulator.solution.idefiles import find_case_insensitive

    root = tmp_path / "_IDE"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("no")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    (root / "ok.txt").write_text("yes")
    assert find_case_insensitive(root, "OK.TXT") == root / "ok.txt"
    assert find_case_insensitive(root, "link.txt") is None
