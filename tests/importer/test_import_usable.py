"""An imported export is usable at once: `operate import EXPORT DIR && operate serve --solution DIR` gives users to
sign in as, a work item of each work type and a linked service for the export's widgets, with no hand edit.

The export is the real "Demo 01" one (tests/fixtures/official/forum2024-02-S3/export, MIT, unmodified), zipped as
the tenant gave it; its PMS widget (`Demo01.PMSWidget`) is driven in Chromium through a real `operate serve`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from emulator.app import create_app
from emulator.kernel import jsonfile
from emulator.settings import Settings
from emulator.solution.importer import REPORT_FILE, import_package
from emulator.solution.starter import toml_block
from tests.conftest import user_token
from tests.helpers.exports import build_package, real_entries
from tests.helpers.processes import Served

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

MATTER_PREVIEW = "5eed0000-0000-4000-8000-000000000001"


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    """`operate import` of the real export, as a user runs it."""
    package = build_package(tmp_path / "export-Demo 01-2024-02-20T14_17_26.zip", real_entries())
    result = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "import", str(package), str(tmp_path / "demo01")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "emulator.admin" in result.stdout and "linked service 'demo01'" in result.stdout
    return tmp_path / "demo01"


def test_a_fresh_import_serves_the_pms_widget_with_its_data_in_chromium(
    imported: Path, tmp_path: Path, operate_browser
) -> None:
    """The gallery offers the emulator's users and a work item per type; the PMS widget, opened from the gallery
    with nothing chosen, is signed in as the default user (no 401), and reaches the PMS stand-in through the proxy."""
    served = Served(tmp_path / "state", "--solution", str(imported), demo=False)
    context = operate_browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        assert "users to impersonate: emulator.admin, emulator.user" in "".join(served.banner)
        page = context.new_page()
        failed: list[str] = []
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(served.url + "/widgets")
        users = page.locator('select[name="user"] option').all_inner_texts()
        assert [u for u in users if u.startswith("emulator.")] == ["emulator.admin", "emulator.user"]
        items = page.locator('select[name="workItem"] option').all_inner_texts()
        assert "EMULATOR-1 · Matter - Private Client - General (emulator preview)" in items
        assert any(i.startswith("EMULATOR-2 · Task") for i in items)

        page.locator('.op-card[data-widget="Demo01.PMSWidget"] h2 a').click()
        page.wait_for_selector("html[data-operate-bound]", state="attached", timeout=15_000)
        assert page.locator('select[name="user"] option:checked').inner_text() == "emulator.admin"
        assert page.locator('select[name="workItem"] option:checked').inner_text().startswith("EMULATOR-1 ")
        widget = page.locator("section.op-widget").first
        assert "No PMS reference configured yet" in widget.inner_text()  # findByQuery answered, as the user

        widget.locator(".btn", has_text="Onboard in PMS").click()  # POST /api/proxy/demo01/_/api/matter
        page.wait_for_function("() => document.body.innerText.includes('Current PMS Balance')", timeout=5000)
        reference = widget.locator(".pms-value.emphasis").inner_text()
        assert re.fullmatch(r"PMS-\d+", reference)
        widget.locator(".btn", has_text="£10").first.click()  # POST .../financials {delta: 10}, balance back
        page.wait_for_function("() => document.body.innerText.includes('£10.00')", timeout=5000)
        assert page.locator("#op-console-count").inner_text() == "0 errors"
        assert failed == []
        token = httpx.post(
            served.url + "/connect/token",
            data={"grant_type": "client_credentials", "scope": "sharedo"},
            auth=("demo-client", "demo-secret"),
            timeout=10,
        ).json()["access_token"]
        attrs = httpx.get(  # the widget wrote the PMS reference back to the work item it opened on
            f"{served.url}/api/v1/public/workItem/{MATTER_PREVIEW}/attributes",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        assert attrs.get("demo01PmsReference") == reference

        page.goto(f"{served.url}/portal/{MATTER_PREVIEW}")  # the export's own portal places the widget
        page.wait_for_selector("html[data-operate-bound]", state="attached", timeout=15_000)
        placed = page.locator('section.op-widget[data-widget="Demo01.PMSWidget"]')
        assert "Demo 01 - PMS Information" in placed.inner_text() and reference in placed.inner_text()
        assert "£10.00" in placed.inner_text()
        assert failed == []
    finally:
        context.close()
        served.stop()


def test_the_import_adds_users_work_items_and_says_how_to_add_real_people(tmp_path: Path):
    package = build_package(tmp_path / "export.zip", real_entries())
    report = import_package(package, tmp_path / "s")
    people = jsonfile.load(tmp_path / "s/ods/people.json")
    by_user = {p["userName"]: p for p in people}
    assert set(by_user) == {"emulator.admin", "emulator.user"}
    assert by_user["emulator.admin"]["permissions"] == ["*"] and "permissions" not in by_user["emulator.user"]
    seed = jsonfile.load(tmp_path / "s/seed/workitems.json")
    types = [e["workItem"]["sharedoTypeSystemName"] for e in seed]
    assert types == ["matter-private-client-general", "task", "task-search-duplicate"]  # the portal's type first
    assert dict(report.starter.not_seeded)["matter"].startswith("abstract")
    assert report.added == ["ods/people.json", "seed/workitems.json"]

    md = (tmp_path / "s" / REPORT_FILE).read_text(encoding="utf-8")
    added = md.split("## Added for the emulator", 1)[1]
    assert "`emulator.admin`: an administrator holding every permission" in added
    assert "To add the tenant's real people, append them to `ods/people.json`" in added
    assert f"`{MATTER_PREVIEW}` `EMULATOR-1`: matter-private-client-general" in added
    assert "no item for `matter`: abstract" in added
    assert "- `demo01`, called by" in added and "`_IDE/Demo01/PMSWidget/PMSWidgetAgent.js`" in added


def test_the_emulator_users_hold_what_their_names_say(tmp_path: Path):
    package = build_package(tmp_path / "export.zip", real_entries())
    import_package(package, tmp_path / "s")
    app = create_app(Settings(data_dir=tmp_path / "state", solution=tmp_path / "s"))
    em = app.extensions["operate"]
    try:
        admin = em.identity.user_permissions(em.identity.users["emulator.admin"])
        user = em.identity.user_permissions(em.identity.users["emulator.user"])
        assert "*" in admin
        assert "core.linkedServices.proxy" in user and "emulator.control" not in user
        client = app.test_client()
        for name, status in (("emulator.admin", 200), ("emulator.user", 403)):
            token = user_token(app, name)
            answer = client.post("/api/_emulator/reset", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == status, (name, answer.json)
        token = user_token(app, "emulator.user")
        item = client.get(f"/api/v1/public/workItem/{MATTER_PREVIEW}", headers={"Authorization": f"Bearer {token}"})
        assert item.status_code == 200 and item.json["workItem"]["reference"] == "EMULATOR-1"
    finally:
        em.close()


def test_operate_toml_stands_in_for_each_linked_service_the_code_calls_with_a_comment(tmp_path: Path):
    package = build_package(tmp_path / "export.zip", real_entries())
    import_package(package, tmp_path / "s")
    text = (tmp_path / "s/operate.toml").read_text(encoding="utf-8")
    toml = tomllib.loads(text)
    assert list(toml["linked_services"]) == ["demo01"]
    assert toml["linked_services"]["demo01"]["fake"] == "demo"
    assert "added a stand-in for each: the emulator's demo PMS fake" in text
    assert "# called by _IDE/Demo01/PMSAuditBlade/PMSAuditBlade.js" in text
    assert "remove `fake`" in text


def test_an_export_that_calls_no_linked_service_gets_none(tmp_path: Path):
    entries = {k: v for k, v in real_entries().items() if not k.startswith(("files/", "data/visual-workflow"))}
    manifest = jsonfile.loads(entries["manifest.json"], "manifest.json")
    manifest["Files"] = []
    manifest["ExportedSteps"] = [
        s for s in manifest["ExportedSteps"] if not str(s.get("StorageFilename")).startswith("visual-workflow")
    ]
    entries["manifest.json"] = json.dumps(manifest).encode()
    report = import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    assert "linked_services" not in tomllib.loads((tmp_path / "s/operate.toml").read_text(encoding="utf-8"))
    assert report.starter.services == {}


def test_a_widget_page_on_a_solution_without_users_says_why_its_calls_fail(tmp_path: Path):
    """A hand-made solution with no people: the page names the missing users instead of leaving a bare 401."""
    solution = tmp_path / "bare"
    solution.mkdir()
    (solution / "operate.toml").write_text('[solution]\nname = "Bare"\n', encoding="utf-8")
    app = create_app(Settings(data_dir=tmp_path / "state", solution=solution))
    try:
        client = app.test_client()
        for path in ("/widgets", "/widgets/OperateFinance.WipWidget"):
            html = client.get(path).get_data(as_text=True)
            assert "No user to sign in as" in html and "ods/people.json" in html, path
    finally:
        app.extensions["operate"].close()


def test_a_reimport_keeps_the_people_and_work_items_put_in_the_folder(tmp_path: Path):
    """An export never carries people: re-importing a newer one over the folder keeps the real people someone
    added to ods/people.json (and the seed), instead of putting the emulator's two users back."""
    package = build_package(tmp_path / "export.zip", real_entries())
    import_package(package, tmp_path / "s")
    people = jsonfile.load(tmp_path / "s/ods/people.json")
    ada = {"id": "0b5e0000-0000-4000-8000-000000000001", "firstName": "Ada", "surname": "Lovelace", "isUser": True}
    people.append({**ada, "isActive": True, "userName": "ada.lovelace"})
    (tmp_path / "s/ods/people.json").write_text(json.dumps(people), encoding="utf-8")
    report = import_package(package, tmp_path / "s", overwrite=True)
    assert report.kept == ["ods/people.json", "seed/workitems.json"] and report.added == []
    assert [p["userName"] for p in jsonfile.load(tmp_path / "s/ods/people.json")][-1] == "ada.lovelace"
    md = (tmp_path / "s" / REPORT_FILE).read_text(encoding="utf-8")
    assert "Kept from the folder this import replaced" in md and "`ods/people.json` was kept" in md
    assert "kept from the folder it replaced: ods/people.json" in report.summary()


def test_control_characters_in_an_export_never_break_operate_toml(tmp_path: Path):
    """A manifest's provenance and a proxy-calling file's name are copied into operate.toml's comments: characters
    TOML refuses in a comment (U+0000-U+001F but tab, U+007F) must not make the written solution unloadable."""
    entries = real_entries()
    manifest = jsonfile.loads(entries["manifest.json"], "manifest.json")
    manifest["CreatedBy"] = "someone\u0001\u007f@example.test"
    entries["manifest.json"] = json.dumps(manifest).encode()
    import_package(build_package(tmp_path / "p.zip", entries), tmp_path / "s")
    text = (tmp_path / "s/operate.toml").read_text(encoding="utf-8")
    toml = tomllib.loads(text)
    assert toml["linked_services"]["demo01"]["fake"] == "demo"
    assert "# CreatedBy: someone\\u0001\\u007f@example.test" in text
    # a file of the export that calls a linked service, named with such characters, is named in a comment too
    block = toml_block({"demo01": ["_IDE/a\u007fb\nc.js"]}, lambda v: json.dumps(v))
    assert tomllib.loads(block)["linked_services"]["demo01"]["fake"] == "demo"
    assert "# called by _IDE/a\\u007fb\\u000ac.js" in block
