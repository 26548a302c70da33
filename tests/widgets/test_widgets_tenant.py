"""Real tenant widgets, unmodified: the official MIT samples in tests/fixtures/official (see its README
for repos and commits) dropped into a solution's `_IDE/`, run on the harness page in a real browser."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smartplans.testing import solution_from_demo
from tests.helpers.paths import FIXTURES

OFFICIAL = FIXTURES / "official"
DEMO01 = OFFICIAL / "forum2024-02-S3" / "IDE" / "Demo01"
ASPECTS = OFFICIAL / "sharedo_ide" / "SampleIdeAspects"
MATTER = "3c000000-0000-4000-8000-000000000001"
PMS_REF = "PMS-260101"  # the demo PMS starts its financials ledger at 1000 for this reference

# Demo 01's widgets call the linked service `demo01`; here it is the demo PMS, which serves that contract.
DEMO01_SERVICE = """
[linked_services.demo01]
base_url = "http://127.0.0.1:8766"
auth = "api-key"
api_key_header = "X-API-Key"
api_key = "demo-pms-key"
fake = "demo"
"""


def tenant_solution(root: Path) -> Path:
    solution_from_demo(root, toml=DEMO01_SERVICE)
    shutil.copytree(DEMO01, root / "_IDE" / "Demo01")
    shutil.copytree(ASPECTS, root / "_IDE" / "AspectDemos")  # their manifests say /_ideFiles/AspectDemos/...
    return root


@pytest.fixture(scope="module")
def tenant(tmp_path_factory) -> Path:
    return tenant_solution(tmp_path_factory.mktemp("tenant") / "solution")


@pytest.fixture
def demo01(operate):
    return operate.emulator.linked_services.fakes["demo01"]


@pytest.fixture(autouse=True)
def _use_tenant(request, tenant):
    request.node.add_marker(pytest.mark.operate_solution(str(tenant)))


def test_pms_widget_runs_unmodified_findbyquery_then_proxy(operate, demo01, widget_page):
    operate.set_attributes(MATTER, {"demo01PmsReference": PMS_REF})
    page = widget_page("Demo01.PMSWidget", work_item=MATTER)
    text = page.widget().inner_text()
    assert PMS_REF in text
    assert f"Current PMS Balance\n£{demo01.financials(PMS_REF) / 100:.2f}" in text  # the widget's own format
    assert demo01.requests("GET", f"/api/matter/{PMS_REF}/financials")
    page.assert_no_console_errors()


def test_pms_widget_buttons_post_deltas_through_the_proxy(operate, demo01, widget_page):
    operate.set_attributes(MATTER, {"demo01PmsReference": PMS_REF})
    page = widget_page("Demo01.PMSWidget", work_item=MATTER)
    before = demo01.financials(PMS_REF)
    page.page.locator(".Demo01-PMSWidget .btn", has_text="£5").first.click()
    page.page.wait_for_function(f"() => document.body.innerText.includes('£{(before + 500) / 100:.2f}')", timeout=5000)
    posts = demo01.requests("POST", f"/api/matter/{PMS_REF}/financials")
    assert [r["body"] for r in posts] == [{"delta": 5}]
    assert demo01.financials(PMS_REF) == before + 500


def test_pms_widget_onboards_a_matter_and_writes_the_reference_back(operate, demo01, widget_page):
    enquiry = "3c000000-0000-4000-8000-000000000010"
    page = widget_page("Demo01.PMSWidget", work_item=enquiry)
    assert "No PMS reference configured yet" in page.widget().inner_text()
    page.page.locator(".btn", has_text="Onboard in PMS").click()
    page.page.wait_for_function("() => document.body.innerText.includes('PMS Reference')", timeout=5000)
    reference = operate.attribute(enquiry, "demo01PmsReference")
    assert reference and reference in page.widget().inner_text()
    assert demo01.requests("POST", "/api/matter")[0]["body"]["priority"] == 10


def test_audit_blade_opens_with_ribbon_and_bindings(operate, demo01, widget_page):
    operate.set_attributes(MATTER, {"demo01PmsReference": PMS_REF})
    page = widget_page("Demo01.PMSWidget", work_item=MATTER)
    page.page.locator(".btn", has_text="Inspect audit").click()
    blade = page.page.locator('.op-blade[data-panel="Demo01.PMSAuditBlade"]')
    blade.wait_for(timeout=5000)
    page.page.wait_for_selector(".op-blade table.standard-list tbody tr", timeout=5000)
    rows = blade.locator("tbody tr")
    audit = demo01.financials_audit(PMS_REF)
    assert rows.count() == len(audit)
    assert "Audit trail" in blade.inner_text()  # widgetChrome binding
    assert "£" in rows.first.inner_text()  # currency binding
    blade.locator("button", has_text="Close").click()  # ribbon component → $ui.stacks.cancel
    assert page.page.locator(".op-blade").count() == 0
    page.assert_no_console_errors()


def test_designer_widget_edits_the_placement_configuration(operate, widget_page):
    page = widget_page("Demo01.RiskWidget", work_item=MATTER, config={"todoMessage": "first"})
    assert "first" in page.widget().inner_text()
    page.page.locator("#op-configure").click()
    designer = page.page.locator(".op-designer")
    designer.locator("input#todo").fill("")
    designer.locator("button", has_text="Apply").click()
    assert "1 validation error" in designer.inner_text()  # validationErrorCount blocks the apply
    designer.locator("input#todo").fill("Check conflicts first")
    with page.page.expect_navigation():
        designer.locator("button", has_text="Apply").click()
    page.wait_bound()
    assert "Check conflicts first" in page.widget().inner_text()  # getModel() round-tripped into configuration
    assert "todoMessage" in page.page.url


def test_aspect_widget_gets_host_model_and_save_honours_validation(operate, widget_page):
    page = widget_page("AspectDemos.Aspect02_CustomForm", work_item=MATTER, mode="aspect")
    ranges = page.page.locator("input[type=range]")
    ranges.nth(0).fill("6")
    ranges.nth(1).fill("6")  # 36 > the manifest's threshold of 30 (the code's default is 100)
    assert "Risk is too high" in page.widget().inner_text()
    page.page.locator("#op-aspect-save").click()
    page.page.wait_for_selector(".op-toast", timeout=3000)
    assert "Save is blocked" in page.page.locator(".op-toasts").inner_text()
    assert "formBuilder" not in operate.work_item(MATTER).get("aspectData", {})
    ranges.nth(1).fill("5")  # 30: within the threshold
    page.page.locator("#op-aspect-save").click()
    page.page.wait_for_selector(".op-toast:has-text('Saved')", timeout=5000)
    saved = operate.work_item(MATTER)["aspectData"]["formBuilder"]["formData"]
    assert {k: int(v) for k, v in saved.items()} == {"risk": 6, "probability": 5}


def test_due_date_aspect_reacts_to_a_ui_event_and_clears_its_timer_on_destroy(widget_page):
    page = widget_page("AspectDemos.Aspect01_DueDateVisualiser", work_item=MATTER, mode="aspect")
    publish = "due => $ui.events.publish('Sharedo.Core.Case.Aspect.Tasks.DueDateChanged', {dueDateTime: due})"
    page.page.evaluate(f"({publish})(new Date(Date.now() - 60000).toISOString())")
    message = page.widget().locator(".overdue")
    assert message.inner_text() == "Time is up!"
    page.page.evaluate(f"({publish})(new Date(Date.now() + 2 * 3600 * 1000).toISOString())")
    assert page.widget().locator(".timeYet").inner_text() == "You still have 2 hours"
    cleared = page.page.evaluate(
        "() => { var n = 0, clear = window.clearInterval; window.clearInterval = id => { n++; clear(id); };"
        " __operate.destroy(); return n; }"
    )
    assert cleared == 1  # onDestroy ran and stopped the sample's one-second interval
    assert page.console_errors() == []
