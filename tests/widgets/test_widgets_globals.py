"""The portal globals third-party widgets reach beyond the vendor's samples, in a real browser: the
`Sharedo` namespace with stand-ins for the portal's own components, `$ui.widgets` (load another widget by
id, list, lock, destroy), `$ui.stacks.lock`, `$ui.util.dispose`, `$ui.errorHandling`, `baseModel.id`,
every failed fetch / XHR / plain `$.ajax` call in the console panel, and a named line for anything of
`Sharedo`, `$ui` or `$ajax` the emulator lacks. The widgets are look-alikes of public tenant code
(tests/fixtures/lookalikes/), run unmodified."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from smartplans.testing import solution_from_demo
from tests.helpers.loopback import serving
from tests.helpers.paths import FIXTURES
from widgets.page_boot import sharedo_globals

LOOKALIKES = FIXTURES / "lookalikes"
MATTER = "3c000000-0000-4000-8000-000000000001"
NO_TOKEN = {"tokenCookie": "no-such-cookie"}  # the widget finds no token, so the API answers 401
FIDELITY = "/_emulator/fidelity"


@pytest.fixture(scope="module")
def lookalike_solution(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("globals") / "solution"
    solution_from_demo(root)
    for kind, folder in [
        ("widget-sharedo-probe", "SharedoProbe"),
        ("widget-ui-widgets", "UiWidgets"),
        ("widget-plain-calls", "PlainCalls"),
    ]:
        shutil.copytree(LOOKALIKES / kind, root / "_IDE" / folder)
    return root


@pytest.fixture(autouse=True)
def _use_lookalikes(request, lookalike_solution):
    request.node.add_marker(pytest.mark.operate_solution(str(lookalike_solution)))


def errors(page) -> list[str]:
    return [e["text"] for e in page.harness_log("error")]


def matter_title(operate) -> str:
    return operate.emulator.workitems.find(MATTER).title


# -- Sharedo ---------------------------------------------------------------------------------------------
def test_sharedo_probe_widget_draws_stand_ins_and_loads_the_action_plan(operate, widget_page):
    page = widget_page("Lookalike.SharedoProbe", work_item=MATTER)
    widget = page.widget()
    base_id = page.page.evaluate("document.querySelector('.lookalike-sharedo-probe').parentElement.id")
    assert base_id, "the widget's element carries its baseModel.id"
    map_box = page.page.locator(f"#{base_id}_map")
    assert map_box.locator('[data-standin="Sharedo.UI.Framework.Components.Map.Container"]').inner_text() == (
        "Stand-in: Sharedo.UI.Framework.Components.Map.Container (the portal's own component is not emulated here)"
    )
    assert map_box.locator('[data-standin="Sharedo.UI.Framework.Components.Map"]').count() == 1
    checklist = page.page.locator(f"#{base_id}_checklist")
    assert checklist.locator(".op-chrome-title").inner_text() == "Checklist"  # coreConfiguration.withChrome/title
    assert checklist.locator('[data-standin="Sharedo.Core.Case.Widgets.ActionPlan"]').count() == 1
    text = widget.inner_text()
    assert "Checklist loaded: yes" in text  # the created callback got the widget (updateActionPlan)
    assert "Form builder save wrapped: yes" in text
    warnings = [e["text"] for e in page.harness_log("warning")]
    for name in ["Map.Container", "Components.Map", "Widgets.ActionPlan"]:
        assert any(name in w and "stand-in" in w for w in warnings), (name, warnings)
    page.assert_no_console_errors()


STAND_INS = [  # every component of widgets/sharedo-globals.json, by name
    "Sharedo.UI.Framework.Components.Map",
    "Sharedo.UI.Framework.Components.Map.Container",
    "Sharedo.Core.Case.Widgets.ActionPlan",
    "Sharedo.Core.Case.Widgets.AddressPicker",
    "Sharedo.Core.Case.Widgets.TaskList",
    "Sharedo.Core.Case.FormBuilder.Widgets.Standard",
    "Sharedo.Core.Case.FormBuilder.Widgets.Aspect",
]


def test_every_stand_in_renders_a_labelled_placeholder_and_says_which(widget_page):
    assert sorted(STAND_INS) == sorted(sharedo_globals()["components"])
    page = widget_page("Lookalike.SharedoProbe", work_item=MATTER)
    for name in STAND_INS:
        made = page.page.evaluate(
            """(name) => {
                const box = document.createElement("div");
                box.className = "stand-in-test";
                document.querySelector(".op-portal").appendChild(box);
                const Component = name.split(".").reduce((node, part) => node[part], window);
                const made = new Component(box, {}, { id: "x" });
                return [box.querySelector("[data-standin]").dataset.standin, made instanceof Component];
            }""",
            name,
        )
        assert made == [name, True]
        assert any(e["text"].startswith(f"stand-in: {name} (") for e in page.harness_log("warning"))
    page.assert_no_console_errors()


def test_a_wrapped_form_builder_save_runs_and_its_promise_resolves(operate, widget_page):
    page = widget_page("Lookalike.SharedoProbe", work_item=MATTER)
    page.page.locator(".probe-save").click()
    page.page.wait_for_function("() => document.body.innerText.includes('Form saved event: received')", timeout=5000)
    assert page.page.evaluate("Lookalike.formBuilderWraps") == 1
    assert page.page.locator('[data-standin="Sharedo.Core.Case.FormBuilder.Widgets.Standard"]').count() == 1
    assert any("FormBuilder.Widgets.Standard.save() does nothing here" in e["text"] for e in page.harness_log("info"))
    page.assert_no_console_errors()


def test_a_widgets_own_namespace_under_sharedo_extends_the_global(operate, widget_page):
    page = widget_page("Lookalike.SharedoProbe", work_item=MATTER)
    kinds = page.page.evaluate(
        """() => [typeof Sharedo.Lookalike.Helpers.elementId, typeof Sharedo.Core.Case.Widgets.ActionPlan,
                  typeof Sharedo.Core.Case.FormBuilder.Widgets.Standard.prototype.save,
                  namespace("Sharedo.Core.Case") === Sharedo.Core.Case]"""
    )
    assert kinds == ["function", "function", "function", True]


# -- $ui.widgets, $ui.stacks, $ui.util, $ui.errorHandling, baseModel.id -------------------------------------
def test_load_widget_by_id_lists_it_and_destroy_widget_calls_on_destroy(operate, widget_page):
    page = widget_page("Lookalike.WidgetHost", work_item=MATTER)
    host = page.page.locator(".lookalike-widget-host")
    assert f"Work item: {matter_title(operate)}" in host.inner_text()
    base_id = host.locator(".host-base-id span").inner_text()
    card = page.page.locator(f"#{base_id}_children .lookalike-child-card")
    assert card.locator(".child-label").inner_text() == "first child"
    assert card.locator(".child-parent-id").inner_text() == base_id  # configuration reached the child
    assert card.locator(".child-system-name").inner_text() == "Lookalike.ChildCard"  # baseModel.systemName
    child_id = card.locator(".child-base-id").inner_text()
    assert child_id and child_id != base_id
    assert page.page.locator(f"#{child_id} .lookalike-child-card").count() == 1  # its element is #base.id
    assert page.page.locator(f"#{base_id}_children_0 .op-chrome-title").inner_text() == "Child card"
    assert "Widgets on the page: 2 (1 child card)" in host.inner_text()

    page.page.locator(".host-remove").click()
    page.page.wait_for_function("() => document.querySelectorAll('.lookalike-child-card').length === 0", timeout=5000)
    assert "Destroyed: first child" in host.inner_text()  # the child's onDestroy ran
    assert page.page.evaluate("$ui.widgets.instances().length") == 1
    page.assert_no_console_errors()


def test_destroying_a_widget_destroys_what_it_loaded_and_dispose_ends_its_subscriptions(operate, widget_page):
    page = widget_page("Lookalike.WidgetHost", work_item=MATTER, config={"childLabels": ["one", "two"]})
    assert page.page.locator(".lookalike-child-card").count() == 2
    page.page.evaluate(
        "$ui.widgets.destroyWidget($ui.widgets.instances().find(w => w instanceof Lookalike.WidgetHost))"
    )
    assert page.page.locator(".lookalike-child-card").count() == 0
    assert sorted(page.page.evaluate("Lookalike.hostEvents")) == ["one", "two"]  # children went first
    page.page.evaluate("$ui.events.publish('lookalike.child.destroyed', 'after')")
    assert "after" not in page.page.evaluate("Lookalike.hostEvents")  # $ui.util.dispose ended the subscription
    assert page.page.evaluate("$ui.widgets.instances().length") == 0
    page.assert_no_console_errors()


def test_a_widget_loaded_into_a_taken_container_replaces_it_and_a_handle_can_be_destroyed_while_loading(
    operate, widget_page
):
    page = widget_page("Lookalike.WidgetHost", work_item=MATTER)
    base_id = page.page.locator(".host-base-id span").inner_text()
    page.page.evaluate(
        f"""() => new Promise((done) => $ui.widgets.loadWidget("Lookalike.ChildCard", "#{base_id}_children_0",
                {{ withChrome: false }}, {{ label: "second child" }}, done))"""
    )
    cards = page.page.locator(".lookalike-child-card .child-label")
    assert cards.all_inner_texts() == ["second child"]
    assert "Destroyed: first child" in page.page.locator(".host-destroyed").inner_text()  # onDestroy of the old one

    page.page.evaluate(
        f"""() => {{
            const box = "#{base_id}_children_0";
            const handle = $ui.widgets.loadWidget("Lookalike.ChildCard", box, {{}}, {{ label: "gone" }});
            $ui.widgets.destroyWidget(handle);
            return handle.ready;
        }}"""
    )
    page.page.wait_for_function("() => document.querySelectorAll('.lookalike-child-card').length === 0", timeout=5000)
    assert page.page.evaluate("$ui.widgets.instances().length") == 1
    page.assert_no_console_errors()


def test_widget_lock_and_stack_lock_show_a_busy_state(operate, widget_page):
    page = widget_page("Lookalike.WidgetHost", work_item=MATTER, config={"stayBusy": True})
    locked = page.page.locator(".op-widget-body[data-locked]")
    assert locked.count() == 1 and locked.get_attribute("aria-busy") == "true"
    page.page.evaluate("$ui.widgets.unlock($ui.widgets.instances().find(w => w instanceof Lookalike.WidgetHost))")
    assert page.page.locator("[data-locked]").count() == 0

    page.page.locator(".host-blade").click()
    blade = page.page.locator('.op-blade[data-panel="Lookalike.BusyBlade"]')
    blade.wait_for(timeout=5000)
    page.page.wait_for_selector('.op-blade[data-locked="true"]', timeout=5000)
    assert blade.get_attribute("data-lock-reason") == "Loading matter"
    page.page.wait_for_function(
        f"() => document.querySelector('.blade-title').textContent === {json.dumps(matter_title(operate))}",
        timeout=5000,
    )
    page.page.evaluate("$ui.events.publish('lookalike.blade.release')")
    assert blade.get_attribute("data-locked") is None
    page.assert_no_console_errors()


def test_error_handling_shows_the_widgets_message(operate, widget_page):
    page = widget_page("Lookalike.WidgetHost", work_item=MATTER, config={"sharedoId": None})
    assert "WidgetHost: no sharedo id provided" in errors(page)
    assert "WidgetHost: no sharedo id provided" in page.page.locator("#op-toasts").inner_text()


def test_load_widget_of_an_unknown_widget_names_it_in_place(operate, widget_page):
    page = widget_page("Lookalike.WidgetHost", work_item=MATTER)
    page.page.evaluate("$ui.widgets.loadWidget('Framework.Widgets.Comments', '.host-children', {withChrome: false})")
    assert page.page.locator('.host-children [data-standin="Framework.Widgets.Comments"]').count() == 1
    assert f"not emulated: Framework.Widgets.Comments \u2014 see {FIDELITY}" in errors(page)


@pytest.mark.parametrize("widget_id", ["constructor", "__proto__", "toString", "Lookalike.hasOwnProperty"])
def test_load_widget_with_the_name_of_an_object_member_is_an_unknown_widget(operate, widget_page, widget_id):
    """An id such as `constructor` or `__proto__` names no widget: it must not pick up what every object
    inherits (and then fail with a message about `undefined`, or resolve as if something loaded)."""
    page = widget_page("Lookalike.WidgetHost", work_item=MATTER)
    state = page.page.evaluate(
        """async (id) => {
            const h = $ui.widgets.loadWidget(id, '.host-children', {withChrome: false});
            return await new Promise(res => h.ready.then(() => res('resolved'), () => res('rejected')));
        }""",
        widget_id,
    )
    assert state == "rejected"
    assert page.page.locator(".host-children [data-standin]").get_attribute("data-standin") == widget_id
    assert errors(page) == [f"not emulated: {widget_id} \u2014 see {FIDELITY}"]


# -- every failed call, and pending ones ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "widget, via", [("Lookalike.FetchOnly", "fetch"), ("Lookalike.PlainAjax", "$.ajax")], ids=["fetch", "jquery"]
)
def test_a_widgets_only_call_failing_with_401_is_an_error_when_the_page_is_bound(widget_page, widget, via):
    page = widget_page(widget, work_item=MATTER, config=NO_TOKEN)
    assert "could not load" in page.widget().inner_text()
    wanted = f"{via} GET /api/v1/public/workItem/{MATTER} failed: 401"
    assert any(e.startswith(wanted) for e in errors(page)), errors(page)
    assert page.page.locator("#op-console-count").inner_text() != "0 errors"


def test_a_network_error_of_xhr_is_an_error_line(widget_page):
    page = widget_page("Lookalike.PlainAjax", work_item=MATTER, config={**NO_TOKEN, "url": "http://127.0.0.1:9/x"})
    wanted = "$.ajax GET http://127.0.0.1:9/x failed: network error"
    assert any(e.startswith(wanted) for e in errors(page)), errors(page)
    page.page.evaluate(
        """() => new Promise((done) => {
            const xhr = new XMLHttpRequest();
            xhr.open("POST", "/api/v1/public/workItem/findByQuery");
            xhr.onloadend = done;
            xhr.send("{}");
        })"""
    )
    wanted = "XMLHttpRequest POST /api/v1/public/workItem/findByQuery failed: 401"
    assert any(e.startswith(wanted) for e in errors(page)), errors(page)


class Held:
    """A real loopback server that answers only when the test lets it (CORS open, as a PMS might be)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.seen = threading.Event()

    def __call__(self, environ, start_response):
        self.seen.set()
        self.release.wait(15)
        start_response("200 OK", [("Content-Type", "application/json"), ("Access-Control-Allow-Origin", "*")])
        return [json.dumps({"title": "held answer"}).encode()]


@pytest.mark.parametrize(
    "widget, via", [("Lookalike.FetchOnly", "fetch"), ("Lookalike.PlainAjax", "$.ajax")], ids=["fetch", "jquery"]
)
def test_a_pending_call_holds_the_bound_mark_until_it_settles(widget_page, widget, via):
    held = Held()
    with serving(held) as url:
        page = widget_page(widget, work_item=MATTER, config={**NO_TOKEN, "url": url + "/slow"}, wait=False)
        assert held.seen.wait(10)
        page.page.wait_for_timeout(300)  # far beyond the page's quiet window
        assert page.page.evaluate("document.documentElement.dataset.operateBound") is None
        assert f"{via} GET {url}/slow" in page.page.evaluate("Object.values(window.__operate.inflight)")
        held.release.set()
        page.wait_bound()
    assert "held answer" in page.widget().inner_text()
    page.assert_no_console_errors()


# -- not emulated, by name; probes are silent ------------------------------------------------------------------
def test_calling_what_the_emulator_lacks_names_it_once_with_a_link(widget_page):
    page = widget_page("Lookalike.SharedoProbe", work_item=MATTER)
    page.page.evaluate(
        """() => {
            try { $ui.foo.bar(1); } catch (e) {}
            $ui.foo.bar(2);
            $ajax.getOnce("/api/countries");
            new Sharedo.UI.Framework.Components.Gantt(document.querySelector('.probe-form-host'));
            $ui.pageContext.frameworkId();
            $ui.pageContext.user.displayName();
        }"""
    )
    lines = errors(page)
    for name in [
        "$ui.foo.bar",
        "$ajax.getOnce",
        "Sharedo.UI.Framework.Components.Gantt",
        "$ui.pageContext.frameworkId",
        "$ui.pageContext.user.displayName",
    ]:
        assert lines.count(f"not emulated: {name} \u2014 see {FIDELITY}") == 1, (name, lines)
    assert page.page.evaluate("window.__operate.notEmulated['$ui.foo.bar']") == 2
    link = page.page.locator("#op-console-lines li", has_text="$ui.foo.bar").locator("a")
    assert link.get_attribute("href") == FIDELITY
    assert page.page.locator('[data-standin="Sharedo.UI.Framework.Components.Gantt"]').inner_text() == (
        "Not emulated: Sharedo.UI.Framework.Components.Gantt"
    )
    assert page.page_errors == []


def test_probes_and_libraries_raise_no_false_alarm(widget_page):
    page = widget_page("Lookalike.SharedoProbe", work_item=MATTER)
    answers = page.page.evaluate(
        """async () => {
            const out = {};
            out.typeofAbsent = typeof $ui.nothingHere;
            out.inAbsent = "nothingHere" in $ui;
            out.chained = typeof Sharedo?.Core?.Case?.Nothing?.Deeper;
            out.json = JSON.stringify({ w: $ui.widgets, a: $ajax, u: $ui.util }).length > 0;
            out.koToJs = typeof ko.toJS({ ui: $ui.util, pc: $ui.pageContext });
            out.mapping = typeof ko.mapping.toJS($ui.pageContext);
            out.isObservable = ko.isObservable($ui.widgets) || ko.isObservable(Sharedo.Core);
            out.thenable = (await Promise.resolve($ui.util)) === $ui.util;
            out.clone = typeof _.cloneDeep($ajax.api);
            out.extend = typeof $.extend(true, {}, $ui.events, Sharedo.Core.Case);
            out.plain = $.isPlainObject($ui);
            out.string = String(Sharedo.Core) + Object.prototype.toString.call($ui);
            out.iterator = Sharedo.Core[Symbol.iterator] === undefined;
            out.keys = Object.keys(Sharedo).sort();
            out.each = $.map($ui.log, (v, k) => k).length > 0;
            const box = document.createElement("div");
            box.innerHTML = '<span data-bind="with: $ui.pageContext"><i data-bind="text: sharedoId"></i></span>';
            document.body.appendChild(box);
            ko.applyBindings({}, box);
            out.bound = box.querySelector("i").textContent;
            return out;
        }"""
    )
    assert answers["typeofAbsent"] == "function" and answers["inAbsent"] is False
    assert answers["chained"] == "function"
    assert answers["thenable"] is True and answers["isObservable"] is False and answers["plain"] is True
    assert answers["iterator"] is True and "Core" in answers["keys"] and "UI" in answers["keys"]
    assert answers["bound"] == MATTER
    assert page.page.evaluate("window.__operate.notEmulated") == {}
    page.assert_no_console_errors()
