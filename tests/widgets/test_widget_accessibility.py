"""Accessibility checks with axe-core, in Chromium: `widget_page(...).assert_accessible()` and the gallery's
"Check accessibility".

The built-in finance widgets pass at "serious" and above in every data scenario they have; a look-alike with the
faults a screen reader meets (tests/fixtures/lookalikes/widget-icon-only-controls, copied to
`_IDE/Lookalikes/BalanceTile/`: a logo image without alt text and an icon-only button without a name) fails, naming
the rule, impact, element and help link; the gallery lists the same violations. axe-core itself is the pinned npm
release, checked byte for byte against the pins offline and against the registry with `npm ci`.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from smartplans.testing import solution_from_demo
from tests.helpers.paths import FIXTURES
from tests.helpers.pinned import (
    assert_lock_names_no_registry_host,
    assert_manifest_lock_and_pins_agree,
    assert_nothing_unpinned,
    assert_shipped_with_sha256,
    npm_ci,
    read_json,
)
from widgets.accessibility import AXE_ROOT, AXE_SCRIPT, IMPACTS, axe_file, load_pins
from widgets.data_scenarios import for_widget
from widgets.manifests import scan
from widgets.vendor import pinned_paths

WIP = "OperateFinance.WipWidget"
AGED = "OperateFinance.AgedDebtWidget"
FAULTY = "Lookalike.BalanceTile"
MATTER = "3c000000-0000-4000-8000-000000000001"
AXE_VERSION = "4.14.1"


@pytest.fixture(scope="module")
def solution(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("a11y") / "solution"
    solution_from_demo(root)
    shutil.copytree(FIXTURES / "lookalikes" / "widget-icon-only-controls", root / "_IDE" / "Lookalikes" / "BalanceTile")
    return root


@pytest.fixture(autouse=True)
def _use_solution(request, solution):
    request.node.add_marker(pytest.mark.operate_solution(str(solution)))


def builtin_scenarios() -> list[tuple[str, str]]:
    """Every (widget, scenario) the built-in finance widgets have: the built-in scenarios and their folders' own."""
    manifests = scan(None)
    return [(w, name) for w in (WIP, AGED) for name in for_widget(manifests.get(w))[0]]


# -- the built-in widgets pass -------------------------------------------------------------------------------------
def test_the_built_in_widgets_have_the_scenarios_checked_here():
    found = builtin_scenarios()
    assert {"ok", "empty", "pms-error", "slow", "timeout", "forbidden"} <= {s for _, s in found}
    assert {w for w, _ in found} == {WIP, AGED}


@pytest.mark.parametrize(("widget", "scenario"), builtin_scenarios())
def test_built_in_widget_has_no_serious_violation_in_scenario(operate, widget_page, widget, scenario):
    page = widget_page(widget, scenario=scenario)
    result = page.assert_accessible(impact="serious")
    assert result["version"] == AXE_VERSION
    state = page.page.locator(".op-widget-body > div").get_attribute("data-state")
    assert state and state != "loading", "checked before the widget showed its result"


@pytest.mark.parametrize(("locale", "currency"), [("en-GB", "GBP"), ("en-US", "USD"), ("fr-FR", "EUR")])
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("widget", [WIP, AGED])
def test_built_in_widget_has_no_serious_violation_in_each_mode(widget_page, widget, locale, currency, viewport):
    page = widget_page(widget, scenario="ok", locale=locale, currency=currency, viewport=viewport)
    page.assert_accessible(impact="serious")


def test_aged_debt_with_a_bucket_opened_has_no_serious_violation(widget_page):
    page = widget_page(AGED, scenario="ok")
    page.page.locator(".of-bucket button").first.click()
    page.page.locator(".of-bucket-invoices").wait_for()
    page.assert_accessible()


@pytest.mark.parametrize("scenario", sorted({s for _, s in builtin_scenarios()}))
def test_the_demo_portal_page_has_no_serious_violation(portal_page, scenario):
    page = portal_page(for_widget(None)[0][scenario].get("workItem", MATTER), scenario=scenario)  # the scenario's
    assert page.page.locator(f'section[data-widget="{WIP}"]').count() == 1
    assert page.page.locator(f'section[data-widget="{AGED}"]').count() == 1
    page.assert_accessible()


# -- an introduced fault fails -------------------------------------------------------------------------------------
def test_an_image_without_alt_and_a_button_without_a_name_fail_naming_rule_impact_element_and_help(widget_page):
    page = widget_page(FAULTY, work_item=MATTER)
    assert page.page.locator(".balance-title").inner_text()  # the widget loaded and bound its data
    with pytest.raises(AssertionError) as failed:
        page.assert_accessible()
    message = str(failed.value)
    assert "2 accessibility violation(s) at impact 'serious' or above" in message
    assert f"axe-core {AXE_VERSION}" in message
    image = re.search(r"^- image-alt \((\w+)\): (.+) — (\S+)\n    at (.+)$", message, re.M)
    button = re.search(r"^- button-name \((\w+)\): (.+) — (\S+)\n    at (.+)$", message, re.M)
    assert image and button, message
    assert image[1] == "critical" and button[1] == "critical"
    assert image[3].startswith("https://dequeuniversity.com/rules/axe/4.14/image-alt")
    assert button[3].startswith("https://dequeuniversity.com/rules/axe/4.14/button-name")
    target, snippet = image[4].split(": ", 1)  # axe's shortest unique selector, then the element's markup
    assert page.page.locator(target).get_attribute("class") == "balance-logo"
    assert snippet.startswith('<img class="balance-logo" width="24" height="24" src="data:image/svg+xml,')
    target, snippet = button[4].split(": ", 1)
    assert page.page.locator(target).get_attribute("class") == "balance-refresh"
    assert snippet.startswith('<button type="button" class="balance-refresh"')
    assert snippet.endswith('><i class="fa fa-refresh"></i></button>')
    page.assert_no_console_errors()


def test_the_same_widget_passes_once_the_image_has_alt_text_and_the_button_a_name(widget_page):
    page = widget_page(FAULTY, work_item=MATTER)
    page.page.evaluate(
        """() => {
        document.querySelector(".balance-logo").setAttribute("alt", "Demo PMS");
        document.querySelector(".balance-refresh").setAttribute("aria-label", "Refresh");
    }"""
    )
    page.assert_accessible(impact="minor")


def test_the_options_choose_the_threshold_and_the_rules(widget_page):
    page = widget_page(FAULTY, work_item=MATTER)
    with pytest.raises(AssertionError, match="at impact 'critical' or above"):
        page.assert_accessible(impact="critical")
    with pytest.raises(AssertionError) as only:
        page.assert_accessible(rules=["image-alt"])
    assert "image-alt" in str(only.value) and "button-name" not in str(only.value)
    with pytest.raises(AssertionError) as one_off:
        page.assert_accessible(disable="image-alt")
    assert "button-name" in str(one_off.value) and "image-alt" not in str(one_off.value)
    page.assert_accessible(disable=["image-alt", "button-name"])
    page.assert_accessible(include=".op-page-head h1")  # a context without the widget: nothing to report
    with pytest.raises(AssertionError, match=r"in the whole page of .*\n- image-alt \(critical\)"):
        page.assert_accessible(include=None, rules="image-alt")


def test_bad_options_say_what_is_allowed(widget_page):
    page = widget_page(WIP, scenario="ok")
    with pytest.raises(ValueError, match="impact must be one of minor, moderate, serious, critical"):
        page.assert_accessible(impact="high")
    with pytest.raises(ValueError, match="rules must be a rule id or a list of axe rule ids"):
        page.assert_accessible(rules=[3])
    with pytest.raises(AssertionError, match="nothing to check: no element matches '.no-such'"):
        page.assert_accessible(include=".no-such")


def test_axe_is_not_on_the_page_a_widget_boots_in(widget_page):
    page = widget_page(WIP, scenario="ok")
    assert page.page.evaluate("typeof window.axe") == "undefined"
    assert not [u for u in page.requests if "/_harness/axe/" in u]
    page.assert_accessible()
    assert [u for u in page.requests if u.endswith(AXE_SCRIPT)]  # injected by the fixture, from the harness
    assert page.offsite_requests() == []


# -- the gallery shows a widget's violations --------------------------------------------------------------------
def check_in_gallery(page, widget: str, scenario: str = "") -> tuple:
    card = page.page.locator(f'.op-card[data-widget="{widget}"]')
    card.locator(".op-a11y-scenario").select_option(scenario)
    card.locator(".op-a11y-run").click()
    page.page.wait_for_selector(f'.op-card[data-widget="{widget}"] .op-a11y-run:not([disabled])')
    return card, card.locator(".op-a11y-status").inner_text()


def test_the_gallery_lists_the_violations_of_the_faulty_widget(harness_page):
    page = harness_page.open("/widgets", wait=False)
    card, status = check_in_gallery(page, FAULTY)
    assert status == f"2 violations (axe-core {AXE_VERSION})"
    rows = card.locator(".op-a11y-violations > li")
    assert {rows.nth(i).get_attribute("data-rule") for i in range(rows.count())} == {"image-alt", "button-name"}
    image = card.locator('.op-a11y-violations > li[data-rule="image-alt"]')
    assert image.get_attribute("data-impact") == "critical"
    assert "image-alt (critical): Images must have alternative text" in image.inner_text()
    assert 'class="balance-logo"' in image.locator(".op-a11y-node").inner_text()
    assert image.locator("a").get_attribute("href").startswith("https://dequeuniversity.com/rules/axe/4.14/image-alt")
    button = card.locator('.op-a11y-violations > li[data-rule="button-name"]')
    assert "balance-refresh" in button.locator(".op-a11y-node").inner_text()
    assert page.page.locator("iframe").count() == 0  # the off-screen preview is gone once checked
    assert page.page.evaluate("typeof window.axe") == "undefined"  # injected into the preview only


def test_the_gallery_shows_no_violations_for_the_wip_widget_in_a_scenario(harness_page):
    page = harness_page.open("/widgets", wait=False)
    card, status = check_in_gallery(page, WIP, "pms-error")
    assert status == f"No violations (axe-core {AXE_VERSION})"
    assert card.get_attribute("data-a11y-checked") == "pms-error"
    assert card.locator(".op-a11y-violations").is_hidden()


def test_the_gallery_says_when_the_preview_it_would_check_does_not_open(harness_page):
    page = harness_page.open("/widgets", wait=False)
    page.page.select_option("select[name=workItem]", MATTER)  # the "empty" scenario opens its own work item
    card, status = check_in_gallery(page, WIP, "empty")
    assert status.startswith("The preview did not open: 400 scenario 'empty' opens a PMS matter for its own work item")
    assert card.locator(".op-a11y-violations").is_hidden()


# -- the vendored axe-core is the pinned release ------------------------------------------------------------------
def test_pins_name_axe_core_its_version_and_licence():
    (entry,) = load_pins()
    assert (entry["package"], entry["version"], entry["license"]) == ("axe-core", AXE_VERSION, "MPL-2.0")
    assert entry["integrity"].startswith("sha512-")
    assert "MPL-2.0" in read_json(AXE_ROOT, "pins.json")["_about"]


def test_every_pinned_axe_file_is_shipped_with_its_sha256():
    assert_shipped_with_sha256(AXE_ROOT, load_pins(), lambda entry: [*entry["files"], *entry["license_files"]])


def test_nothing_unpinned_is_shipped_beside_axe():
    assert_nothing_unpinned(AXE_ROOT, load_pins())


def test_axe_ships_its_mpl_licence_and_banner():
    licence = (AXE_ROOT / "axe-core" / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("Mozilla Public License, version 2.0")
    assert "MIT License" in (AXE_ROOT / "axe-core" / "LICENSE-3RD-PARTY.txt").read_text(encoding="utf-8")
    script = (AXE_ROOT / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
    assert script.startswith(f"/*! axe v{AXE_VERSION}\n")
    assert "Mozilla Public\n * License, v. 2.0" in script[:500]


def test_axe_manifest_lock_and_pins_agree():
    lock_holds = "the lock must hold only axe-core (it has no dependencies)"
    assert_manifest_lock_and_pins_agree(AXE_ROOT, load_pins(), lock_holds)
    assert_lock_names_no_registry_host(AXE_ROOT)


@pytest.mark.parametrize(
    ("package", "path"),
    [
        ("axe-core", "../axe-core/LICENSE/../axe.min.js"),
        ("axe-core", "axe.js"),
        ("axe-core", "package.json"),
        ("..", "pins.json"),
        ("axe-core", "/etc/passwd"),
        ("jquery", "dist/jquery.min.js"),
    ],
)
def test_axe_file_refuses_unpinned_paths(package, path):
    assert axe_file(package, path) is None


def test_the_harness_serves_only_the_pinned_axe_files(operate):
    client = operate.app.test_client()
    script = client.get(AXE_SCRIPT)
    assert script.status_code == 200 and script.mimetype == "application/javascript"
    assert script.data == (AXE_ROOT / "axe-core" / "axe.min.js").read_bytes()
    assert client.get("/_harness/axe/axe-core/LICENSE").status_code == 200
    assert client.get("/_harness/axe/package.json").status_code == 404
    assert client.get("/_harness/axe/axe-core/axe.js").status_code == 404


def test_shipped_axe_is_byte_for_byte_the_registry_release(tmp_path):
    modules = npm_ci(AXE_ROOT, tmp_path)
    compared = 0
    for entry in load_pins():
        installed = modules / entry["package"]
        assert json.loads((installed / "package.json").read_text(encoding="utf-8"))["version"] == entry["version"]
        for path in pinned_paths(entry):
            assert (AXE_ROOT / entry["package"] / path).read_bytes() == (installed / path).read_bytes(), path
            compared += 1
    assert compared == 3  # axe.min.js, LICENSE, LICENSE-3RD-PARTY.txt


def test_impacts_are_axes_four_levels_in_order():
    assert IMPACTS == ("minor", "moderate", "serious", "critical")
