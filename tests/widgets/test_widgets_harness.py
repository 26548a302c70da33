"""The harness as a widget developer uses it: drop a folder into `_IDE/`, preview, edit, reload; see
errors on the page; add scenarios. Each test builds its own small solution and drives a real browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartplans.testing import solution_from_demo

MATTER = "3c000000-0000-4000-8000-000000000001"

HELLO_MANIFEST = {
    "id": "Acme.Hello",
    "priority": 6000,
    "designer": {"title": "Hello", "icon": "fa-smile-o", "defaultConfigurationJson": '{"greeting": "Hello"}'},
    "scripts": ["/_ideFiles/Acme/Hello/Hello.js"],
    "styles": ["/_ideFiles/Acme/Hello/Hello.css"],
    "templates": ["/_ideFiles/Acme/Hello/Hello.html"],
}
HELLO_JS = """namespace("Acme");
Acme.Hello = function (element, configuration, baseModel) {
    var self = this;
    var options = $.extend(true, {}, { greeting: "?" }, configuration);
    self.greeting = ko.observable(options.greeting);
    self.title = ko.observable("");
};
Acme.Hello.prototype.loadAndBind = function () {
    var self = this;
    $ajax.get("/api/v1/public/workItem/" + $ui.pageContext.sharedoId()).then(function (item) {
        self.title(item.workItem.title);
    });
};
"""
BROKEN_MANIFEST = {"id": "Acme.Broken", "scripts": ["/_ideFiles/Acme/Broken/Broken.js"], "templates": []}
BROKEN_JS = """namespace("Acme");
Acme.Broken = function () {};
Acme.Broken.prototype.loadAndBind = function () {
    $ajax.get("/api/v1/public/workItem/00000000-0000-4000-8000-00000000dead");
    throw new Error("the widget's own bug");
};
"""


def write(root: Path, files: dict[str, str | dict]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2) if isinstance(content, dict) else content, "utf-8")


@pytest.fixture
def solution(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    root = solution_from_demo(tmp_path / "solution")
    write(
        root,
        {
            "_IDE/Acme/Hello/Hello.widget.json": HELLO_MANIFEST,
            "_IDE/Acme/Hello/Hello.js": HELLO_JS,
            "_IDE/Acme/Hello/Hello.css": ".hello { color: rgb(1, 2, 3); }",
            "_IDE/Acme/Hello/Hello.html": '<p class="hello"><span data-bind="text: greeting"></span> v1</p>'
            '<p class="title" data-bind="text: title"></p>',
            "_IDE/Acme/Broken/Broken.widget.json": BROKEN_MANIFEST,
            "_IDE/Acme/Broken/Broken.js": BROKEN_JS,
        },
    )
    request.node.add_marker(pytest.mark.operate_solution(str(root)))
    return root


def test_a_dropped_in_widget_renders_with_its_configuration_styles_and_data(solution, widget_page):
    page = widget_page("Acme.Hello", work_item=MATTER, config={"greeting": "Good morning"})
    hello = page.page.locator(".hello")
    assert hello.inner_text() == "Good morning v1"
    assert hello.evaluate("e => getComputedStyle(e).color") == "rgb(1, 2, 3)"  # the manifest's stylesheet
    assert page.page.locator(".title").inner_text() == "Estate of Arthur Ellison (deceased) - probate"
    page.assert_no_console_errors()


def test_the_manifest_default_configuration_applies(solution, widget_page):
    page = widget_page("Acme.Hello", work_item=MATTER)
    assert page.page.locator(".hello").inner_text() == "Hello v1"


def test_an_edited_file_shows_on_reload_without_a_restart(solution, widget_page):
    page = widget_page("Acme.Hello", work_item=MATTER)
    html = solution / "_IDE/Acme/Hello/Hello.html"
    html.write_text(html.read_text().replace("v1", "v2"), "utf-8")
    manifest = solution / "_IDE/Acme/Hello/Hello.widget.json"
    manifest.write_text(json.dumps({**HELLO_MANIFEST, "designer": {"defaultConfigurationJson": '{"greeting": "Hi"}'}}))
    page.page.reload()
    page.wait_bound()
    assert page.page.locator(".hello").inner_text() == "Hi v2"


def test_live_reload_reloads_the_page_when_a_file_changes(solution, harness_page):
    page = harness_page.open(f"/widgets/Acme.Hello?workItem={MATTER}&live=1")
    js = solution / "_IDE/Acme/Hello/Hello.js"
    js.write_text(js.read_text().replace("ko.observable(options.greeting)", 'ko.observable("Reloaded")'), "utf-8")
    page.page.wait_for_function("() => document.querySelector('.hello')?.innerText === 'Reloaded v1'", timeout=8000)


def test_errors_and_failed_calls_show_in_the_page_console(solution, widget_page):
    page = widget_page("Acme.Broken", work_item=MATTER)
    lines = [e["text"] for e in page.harness_log("error")]
    assert any("the widget's own bug" in line for line in lines), lines
    assert any("GET /api/v1/public/workItem/00000000-0000-4000-8000-00000000dead failed: 404" in line for line in lines)
    panel = page.page.locator("#op-console")
    assert "the widget's own bug" in panel.inner_text()
    assert page.page.locator("#op-console-count").get_attribute("data-errors") == str(len(lines))
    assert page.page.locator(".op-problem").count() == 1  # shown in the widget's place too


def test_a_widget_without_its_constructor_says_so(solution, widget_page):
    write(solution, {"_IDE/Acme/Broken/Broken.js": "namespace('Acme'); Acme.NotBroken = function () {};"})
    page = widget_page("Acme.Broken", work_item=MATTER)
    problem = page.page.locator(".op-problem").inner_text()
    assert "no constructor Acme.Broken" in problem and "manifest id must name it" in problem


def test_missing_files_a_manifest_names_are_reported_and_the_rest_runs(solution, widget_page):
    manifest = {
        **HELLO_MANIFEST,
        "scripts": ["/_ideFiles/Acme/Hello/Missing.js", *HELLO_MANIFEST["scripts"]],
        "menuTemplates": ["/_ideFiles/Acme/Hello/HelloMenu.html"],  # as a real sample's manifest does
    }
    write(solution, {"_IDE/Acme/Hello/Hello.widget.json": manifest})
    page = widget_page("Acme.Hello", work_item=MATTER)
    assert page.page.locator(".hello").inner_text() == "Hello v1"
    log = [(e["level"], e["text"]) for e in page.harness_log()]
    assert ("error", "script /_ideFiles/Acme/Hello/Missing.js could not be loaded") in log
    assert any(level == "warning" and "HelloMenu.html could not be loaded (404)" in text for level, text in log)


def test_a_scenario_that_cannot_apply_changes_nothing(solution, operate, harness_page):
    operate.pms.add_fault("/api/matters/*", status=503)  # what the state was before
    bad = {
        "half": {"pmsFaults": [{"route": "/api/**", "status": 502}, {"route": "/api/**", "status": 200}]},
        "types": {"pmsFaults": [{"route": "/api/**", "delaySeconds": "abc"}]},
        "fees": {"pmsMatter": {"feeEarner": "PS", "clientName": "X", "estimatedFees": "lots"}},
        "attrs": {"pmsFaults": [{"route": "/api/**", "status": 502}], "attributes": ["x"]},
        "earner": {
            "workItem": "3c000000-0000-4000-8000-000000000010",  # not in the PMS yet: the PMS refuses fee earner ZZ
            "pmsMatter": {"feeEarner": "ZZ", "clientName": "X"},
            "pmsFaults": [{"route": "/a", "status": 500}],
        },
    }
    write(solution, {"_IDE/Acme/Hello/Hello.scenarios.json": {"scenarios": bad}})
    for name in bad:
        response = harness_page.page.goto(f"{harness_page.base_url}/widgets/Acme.Hello?scenario={name}")
        assert response.status == 400, name
        assert f"scenario {name!r}" in harness_page.page.inner_text("body"), name
        assert [(f.route, f.status) for f in operate.pms.faults()] == [("/api/matters/*", 503)], name
    assert operate.attribute(MATTER, "pmsReference") == "PMS-260101"


def test_a_broken_scenario_file_still_lets_the_widget_preview(solution, widget_page):
    write(solution, {"_IDE/Acme/Hello/Hello.scenarios.json": {"scenarios": [1, 2]}})
    page = widget_page("Acme.Hello", work_item=MATTER, scenario="ok")
    assert page.page.locator(".hello").inner_text() == "Hello v1"
    assert "Hello.scenarios.json" in page.page.locator(".op-banner-error").first.inner_text()


def test_a_broken_portal_file_is_reported_and_the_server_keeps_serving(solution, harness_page):
    write(solution, {"portals/broken.json": '{"Portals": [ , }', "portals/latin1.json": "x"})
    (solution / "portals/latin1.json").write_bytes(
        b'{"Portals": [{"SharedoTypeSystemName": "matter", "Title": "\xa3"}]}'
    )
    page = harness_page.open(f"/portal/{MATTER}")
    banners = " ".join(page.page.locator(".op-banner-error").all_inner_texts())
    assert "broken.json: line 1" in banners and "latin1.json: not UTF-8 text (byte 0xa3" in banners
    assert page.page.locator('section[data-widget="OperateFinance.WipWidget"]').count() == 1  # the demo's portal


def test_errors_inside_promise_callbacks_and_errors_buried_in_chatter_still_count(solution, widget_page):
    js = """namespace("Acme");
Acme.Hello = function () { this.greeting = ko.observable("hi"); this.title = ko.observable(""); };
Acme.Hello.prototype.loadAndBind = function () {
    var url = "/api/v1/public/workItem/" + $ui.pageContext.sharedoId();
    $ajax.get(url).then(function (item) { return item.nope.deeper; });
    $ui.showError(new Error("shown once"));
    for (var i = 0; i < 700; i++) $ui.log.debug("chatter " + i);
};
"""
    write(solution, {"_IDE/Acme/Hello/Hello.js": js})
    page = widget_page("Acme.Hello", work_item=MATTER)
    errors = [e["text"] for e in page.harness_log("error")]
    assert any("exception in a promise callback: Cannot read properties of undefined" in e for e in errors), errors
    assert any(e.startswith("shown once") for e in errors), errors
    with pytest.raises(AssertionError, match="console panel"):
        page.assert_no_console_errors()


def test_a_blade_that_breaks_can_still_be_closed(solution, widget_page):
    write(
        solution,
        {
            "_IDE/Acme/Blade/Blade.panel.json": {
                "id": "Acme.Blade",
                "width": 420,
                "scripts": ["/_ideFiles/Acme/Blade/B.js"],
            },
            "_IDE/Acme/Blade/B.js": "namespace('Acme'); Acme.Blade = function () { throw new Error('blade bug'); };",
        },
    )
    page = widget_page("Acme.Hello", work_item=MATTER)
    page.page.evaluate("() => { $ui.stacks.openPanel('Acme.Blade', {}); }")  # do not wait for the blade to close
    blade = page.page.locator('.op-blade[data-panel="Acme.Blade"]')
    blade.locator(".op-problem").wait_for(timeout=5000)
    assert blade.evaluate("e => e.style.width") == "420px"
    blade.locator(".op-blade-close").click()
    assert page.page.locator(".op-blade").count() == 0


def test_a_broken_manifest_is_listed_not_hidden(solution, harness_page):
    write(solution, {"_IDE/Acme/Bad/Bad.widget.json": '{"id": "Acme.Bad", "scripts": [}'})
    page = harness_page.open("/widgets", wait=False)
    banner = page.page.locator(".op-banner-error").first.inner_text()
    assert "Bad.widget.json" in banner and "line 1" in banner
    assert page.page.locator('.op-card[data-widget="Acme.Hello"]').count() == 1


def test_gallery_lists_solution_and_built_in_widgets_with_scenarios(solution, harness_page):
    page = harness_page.open("/widgets", wait=False)
    cards = page.page.locator(".op-card")
    ids = [cards.nth(i).get_attribute("data-widget") for i in range(cards.count())]
    assert {"Acme.Hello", "OperateFinance.WipWidget", "OperateFinance.AgedDebtWidget"} <= set(ids)
    wip = page.page.locator('.op-card[data-widget="OperateFinance.WipWidget"]')
    names = {a.get_attribute("data-scenario") for a in wip.locator(".op-scenario").all()}
    assert {"ok", "empty", "pms-error", "slow", "forbidden"} <= names
    page.page.select_option("select[name=user]", "hannah.whitfield")
    with page.page.expect_navigation():
        wip.locator('.op-scenario[data-scenario="ok"]').click()
    page.wait_bound()
    assert "user=hannah.whitfield" in page.page.url and "scenario=ok" in page.page.url
    assert page.page.evaluate("$ui.pageContext.user.username()") == "hannah.whitfield"


def test_a_widget_folder_adds_its_own_scenarios(
    solution, operate, widget_page
):  # solution first: it picks the emulator
    write(
        solution,
        {
            "_IDE/Acme/Hello/Hello.scenarios.json": {
                "scenarios": {
                    "vip": {
                        "title": "VIP client",
                        "workItem": "3c000000-0000-4000-8000-000000000002",
                        "user": "hannah.whitfield",
                        "attributes": {"clientTier": "VIP"},
                    }
                }
            }
        },
    )
    page = widget_page("Acme.Hello", scenario="vip")
    assert page.page.locator(".title").inner_text() == "Pritchard - purchase of 14 Mill Lane, Harrogate"
    assert page.page.evaluate("$ui.pageContext.user.username()") == "hannah.whitfield"
    assert operate.attribute("3c000000-0000-4000-8000-000000000002", "clientTier") == "VIP"


def test_bad_input_gets_a_page_that_says_what_is_wrong(solution, harness_page):
    cases = {
        "/widgets/Acme.Nope": (404, "no widget 'Acme.Nope'"),
        "/widgets/Acme.Hello?scenario=nope": (400, "no scenario 'nope'"),
        "/widgets/Acme.Hello?config=%7Bnot": (400, "config is not JSON"),
        "/widgets/Acme.Hello?config=%5B1%5D": (400, "config must be a JSON object"),
        "/widgets/Acme.Hello?user=nobody&scenario=ok": (400, "no user 'nobody'"),
        "/widgets/Acme.Hello?workItem=3c000000-0000-4000-8000-0000000000ff&scenario=ok": (400, "no work item"),
        "/portal/not-a-work-item": (404, "no work item 'not-a-work-item'"),
        "/widgets/Acme.Hello?user=nobody": (400, "no user 'nobody'"),  # no scenario: still checked
        "/widgets/Acme.Hello?config=%7B%22a%22%3ANaN%7D": (400, "NaN is not JSON"),
        "/widgets/Acme.Hello?config=" + "%5B" * 5000 + "%5D" * 5000: (400, "config is not JSON"),
        "/widgets/Acme.Hello?mode=portal": (400, "mode must be 'widget' or 'aspect'"),
        f"/widgets/OperateFinance.WipWidget?scenario=ok&config=%7B%22linkedService%22%3A%5B1%5D%7D&workItem={MATTER}": (
            200,
            "",
        ),
        f"/portal/{MATTER}?scenario=pms-error&page=nope": (400, "no portal page 'nope'"),
        "/portal/MAT-00001": (200, "Estate of Arthur Ellison"),  # by reference
    }
    for path, (status, message) in cases.items():
        response = harness_page.page.goto(harness_page.base_url + path)
        assert response.status == status, path
        assert message in harness_page.page.inner_text("body"), path
    write(solution, {"_IDE/Acme/Hello/Hello.scenarios.json": {"scenarios": {"x": {"colour": "red"}}}})
    response = harness_page.page.goto(harness_page.base_url + "/widgets/Acme.Hello")
    assert response.status == 200 and "unknown key(s) ['colour']" in harness_page.page.inner_text("body")
    response = harness_page.page.goto(harness_page.base_url + "/widgets/Acme.Hello?scenario=x")
    assert response.status == 400 and "unknown key(s) ['colour']" in harness_page.page.inner_text("body")
