"""The portal's bindings, files and styles that real widgets use, each with a look-alike run unmodified in Chromium:
`nativeDropZone` (a real drop event with a DataTransfer holding Files), the `_api` cookie read by widgets that call
`fetch`, Bootstrap 3 (dropdown, alert, `.hidden`, modal), `/_pluginFiles/` and plugin configuration widgets.

The look-alikes (tests/fixtures/lookalikes/: widget-upload-dropzone, widget-fetch-api-cookie, widget-bootstrap-menu
copied to `_IDE/Lookalikes/<Name>/`, plugin-config-widget copied to `_plugins/LookalikePlugin/`) are written for this
project after patterns in public third-party Operate code; each script's header names the pattern."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from smartplans.testing import solution_from_demo
from tests.helpers.paths import FIXTURES

LOOKALIKES = FIXTURES / "lookalikes"
MATTER = "3c000000-0000-4000-8000-000000000001"
MATTER_TITLE = "Estate of Arthur Ellison (deceased) - probate"
USER = "priya.shah"
PLUGIN = "LookalikePlugin"


def bindings_solution(root: Path) -> Path:
    solution_from_demo(root)
    for folder, name in (
        ("widget-upload-dropzone", "UploadDropZone"),
        ("widget-fetch-api-cookie", "FetchApiCookie"),
        ("widget-bootstrap-menu", "BootstrapMenu"),
    ):
        shutil.copytree(LOOKALIKES / folder, root / "_IDE" / "Lookalikes" / name)
    shutil.copytree(LOOKALIKES / "plugin-config-widget", root / "_plugins" / PLUGIN)
    (root / "_plugins" / "Other").mkdir()
    (root / "_plugins" / "Other" / "secret.txt").write_text("another plugin's file", encoding="utf-8")
    (root / "_plugins" / "Broken").mkdir()
    (root / "_plugins" / "Broken" / "configuration.json").write_text("[1, 2]", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def solution(tmp_path_factory) -> Path:
    return bindings_solution(tmp_path_factory.mktemp("bindings") / "solution")


@pytest.fixture(autouse=True)
def _use_solution(request, solution):
    request.node.add_marker(pytest.mark.operate_solution(str(solution)))


DROP = """([selector, files, type]) => {
    const transfer = new DataTransfer();
    for (const [name, text, mime] of files) transfer.items.add(new File([text], name, {type: mime}));
    const target = document.querySelector(selector);
    const event = new DragEvent(type || "drop", {dataTransfer: transfer, bubbles: true, cancelable: true});
    target.dispatchEvent(event);
    return {prevented: event.defaultPrevented, classes: target.className};
}"""


def drop(page, selector: str, files: list[tuple[str, str, str]], kind: str = "drop") -> dict:
    return page.page.evaluate(DROP, [selector, files, kind])


# -- nativeDropZone -------------------------------------------------------------------------------------------
def test_files_dropped_on_a_native_drop_zone_reach_the_observable_array_and_upload(operate, widget_page):
    page = widget_page("Lookalikes.UploadDropZone", work_item=MATTER, user=USER)
    over = drop(page, ".upload-drop-area", [("will.pdf", "x", "application/pdf")], "dragenter")
    assert over["prevented"] and "dragover" in over["classes"].split()  # the zone accepts the drag and shows it
    dropped = drop(
        page, ".upload-drop-area", [("will.pdf", "%PDF-1.4 will", "application/pdf"), ("notes.txt", "hi", "text/plain")]
    )
    assert dropped["prevented"] and "dragover" not in dropped["classes"].split()
    queue = page.page.locator(".upload-queue .upload-name")
    assert queue.all_inner_texts() == ["will.pdf", "notes.txt"]
    assert page.page.evaluate("window.__operate.widgets.p0.files().map(f => f instanceof File && f.size)") == [13, 2]
    page.page.locator(".upload-button").click()
    page.page.wait_for_function("() => document.querySelectorAll('.upload-done li').length === 2", timeout=5000)
    names = {d.get("name") or d.get("title") for d in operate.emulator.documents.related(MATTER)}
    assert {"will.pdf", "notes.txt"} <= names
    assert any("2 file(s) dropped: will.pdf" in e["text"] for e in page.harness_log("debug"))
    page.assert_no_console_errors()


def test_native_drop_zone_options_form_calls_back_with_accepted_files_and_names_the_refused(widget_page):
    page = widget_page("Lookalikes.UploadDropZone", work_item=MATTER, user=USER)
    over = drop(page, ".pdf-drop-area", [("a.pdf", "x", "application/pdf")], "dragenter")
    assert "is-over" in over["classes"].split()  # the hoverClass option
    drop(page, ".pdf-drop-area", [("bill.PDF", "x", "application/pdf"), ("photo.png", "x", "image/png")])
    assert page.page.inner_text(".pdf-note") == "bill.PDF"
    warnings = [e["text"] for e in page.harness_log("warning")]
    assert any("not accepted (.pdf): photo.png" in w for w in warnings), warnings
    assert page.page.locator(".upload-queue li").count() == 0  # the other zone's observable got nothing


def test_a_file_dropped_beside_the_drop_zones_keeps_the_page_and_is_named(widget_page):
    page = widget_page("Lookalikes.UploadDropZone", work_item=MATTER, user=USER)
    result = drop(page, ".op-page-head", [("stray.txt", "x", "text/plain")])
    assert result["prevented"]  # the browser does not leave the page to open the file
    assert any("outside every drop zone" in e["text"] for e in page.harness_log("warning"))


# -- the _api cookie -----------------------------------------------------------------------------------------
def api_cookies(page) -> list[dict]:
    return [c for c in page.page.context.cookies() if c["name"] == "_api"]


def test_a_widget_calling_fetch_with_the_api_cookie_token_gets_the_work_item(widget_page):
    page = widget_page("Lookalikes.FetchApiCookie", work_item=MATTER, user=USER)
    page.page.wait_for_selector(".fetched-title strong:has-text('Estate')", timeout=5000)
    assert page.page.inner_text(".fetched-title strong") == MATTER_TITLE
    token = page.page.evaluate("JSON.parse(document.getElementById('operate-boot').textContent).session.token")
    cookies = {c["path"]: c for c in api_cookies(page)}
    assert set(cookies) == {"/widgets", "/portal"}  # as narrow as works: the harness's pages only
    for cookie in cookies.values():
        assert cookie["value"] == token
        assert cookie["sameSite"] == "Strict" and cookie["httpOnly"] is False and cookie["secure"] is False
    assert page.page.evaluate("document.cookie").count("_api=") == 1
    page.assert_no_console_errors()


def test_the_api_cookie_is_renewed_with_the_page_token(widget_page):
    page = widget_page("Lookalikes.FetchApiCookie", work_item=MATTER, user=USER)
    before = page.page.evaluate("Lookalikes.FetchApiCookie.readToken()")
    fresh = page.page.evaluate(f"fetch('/_harness/session?user={USER}').then(r => r.json())")
    assert fresh["token"] and fresh["token"] != before
    assert page.page.evaluate("Lookalikes.FetchApiCookie.readToken()") == fresh["token"]


def test_the_portal_page_sets_the_api_cookie_for_its_own_path(operate):
    client = operate.app.test_client()
    response = client.get(f"/portal/{MATTER}?user={USER}")
    assert response.status_code == 200
    set_cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("_api=") and "Path=/portal" in c and "SameSite=Strict" in c for c in set_cookies)
    assert not any("HttpOnly" in c for c in set_cookies if c.startswith("_api="))


def test_a_widget_page_on_another_origin_path_does_not_see_the_api_cookie(widget_page):
    page = widget_page("Lookalikes.FetchApiCookie", work_item=MATTER, user=USER)
    page.page.goto(page.base_url + "/api/_emulator/openapi.json")
    assert "_api=" not in page.page.evaluate("document.cookie")


# -- Bootstrap 3 -------------------------------------------------------------------------------------------------
def test_bootstrap_dropdown_alert_hidden_and_modal_behave_as_on_the_portal(widget_page):
    page = widget_page("Lookalikes.BootstrapMenu", work_item=MATTER, user=USER)
    p = page.page
    menu = p.locator(".actions-menu .dropdown-menu")
    assert not menu.is_visible()  # a closed menu, not an open bullet list
    p.locator(".actions-menu .dropdown-toggle").click()
    assert menu.is_visible()
    menu.locator("a", has_text="Copy").click()
    assert p.inner_text(".chosen span") == "copied"
    assert not menu.is_visible()  # Bootstrap closes the menu on the next click
    details = p.locator(".details")
    assert not details.is_visible()  # Bootstrap's `.hidden`
    p.locator(".details-toggle").click()
    assert details.is_visible()
    p.locator(".alert .close").click()
    p.wait_for_selector(".alert", state="detached", timeout=3000)  # data-dismiss="alert"
    p.locator(".actions-menu .dropdown-toggle").click()
    p.locator(".archive-item").click()
    modal = p.locator(".archive-modal")
    modal.wait_for(state="visible", timeout=3000)
    assert p.locator(".modal-backdrop").count() == 1
    p.locator(".archive-confirm").click()
    modal.wait_for(state="hidden", timeout=3000)
    assert p.inner_text(".chosen span") == "archived"
    assert p.evaluate("typeof jQuery.fn.modal === 'function' && jQuery.fn.dropdown.Constructor.VERSION") == "3.4.1"
    assert page.offsite_requests() == []
    page.assert_no_console_errors()


def test_the_harness_chrome_keeps_its_look_with_bootstrap_present(widget_page, tmp_path):
    page = widget_page("Lookalikes.BootstrapMenu", work_item=MATTER, user=USER)
    p = page.page
    style = p.evaluate(
        """() => {
        const css = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
        return {
            h1: css("h1", "fontSize"), body: css("body", "fontSize"), console: css("#op-console", "position"),
            consoleBg: css("#op-console", "backgroundColor"), nav: css(".op-nav", "display"),
            navLink: css(".op-nav a", "color"), label: css(".op-controls label", "fontWeight")
        };
    }"""
    )
    assert style == {
        "h1": "18.9px",
        "body": "14px",
        "console": "fixed",
        "consoleBg": "rgb(17, 24, 39)",
        "nav": "flex",
        "navLink": "rgb(255, 255, 255)",
        "label": "400",
    }
    p.screenshot(path=str(tmp_path / "bootstrap-harness.png"), full_page=True)


# -- /_pluginFiles and plugin configuration widgets ---------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/_pluginFiles/LookalikePlugin/ui/Settings.js",
        "/_pluginFiles/lookalikeplugin/UI/settings.JS",  # any letter case after the prefix, as /_ideFiles
        "/_pluginFiles/LookalikePlugin/configuration.json",
    ],
)
def test_plugin_files_are_served_in_any_letter_case(operate, path):
    response = operate.app.test_client().get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/_pluginFiles/LookalikePlugin/../Other/secret.txt",
        "/_pluginFiles/LookalikePlugin/%2e%2e/Other/secret.txt",
        "/_pluginFiles/LookalikePlugin/..%2f..%2foperate.toml",
        "/_pluginFiles/LookalikePlugin",
        "/_pluginFiles/LookalikePlugin/ui",
        "/_pluginFiles/Nobody/ui/Settings.js",
        "/_pluginFiles/..%2f_IDE/Lookalikes/FetchApiCookie/FetchApiCookie.js",
    ],
)
def test_plugin_files_never_leave_the_plugins_own_folder(operate, path):
    response = operate.app.test_client().get(path)
    assert response.status_code == 404
    assert "plugin file" in response.get_json()["title"]


def test_a_plugin_configuration_widget_is_loaded_validated_and_saved(operate, widget_page):
    page = widget_page("LookalikePlugin.Settings", user=USER)
    p = page.page
    url = p.locator("#lookalike-base-url")
    save = p.locator("#op-plugin-save")
    assert (
        url.input_value() == "https://search.example.test/api"
    )  # load(config) from _plugins/<Plugin>/configuration.json
    assert "configuration.json" in p.inner_text(".op-plugin-source")
    assert save.is_enabled()
    url.fill("")
    assert save.is_disabled()  # validationErrorCount() > 0
    assert "1 validation error" in p.inner_text(".op-plugin-status")
    p.locator("#lookalike-page-size").fill("500")
    assert "2 validation error" in p.inner_text(".op-plugin-status")
    url.fill("https://other.example.test/search")
    p.locator("#lookalike-page-size").fill("50")
    assert save.is_enabled()
    save.click()
    p.wait_for_selector(".op-plugin-status:has-text('Saved')", timeout=5000)
    expected = {
        "baseUrl": "https://other.example.test/search",
        "pageSize": 50,
        "entityTypes": ["person", "organisation"],
    }
    assert json.loads(p.inner_text("#op-plugin-config")) == expected
    stored = operate.app.test_client().get(f"/_harness/plugins/{PLUGIN}/configuration").get_json()
    assert stored == {"plugin": PLUGIN, "configuration": expected, "source": "stored"}
    page.assert_no_console_errors()
    again = widget_page("LookalikePlugin.Settings", user=USER)  # the stored configuration is what load() gets next
    assert again.page.locator("#lookalike-base-url").input_value() == "https://other.example.test/search"
    assert again.page.inner_text(".op-plugin-source") == "(stored)"


def test_the_gallery_offers_the_plugin_configuration_widget(operate):
    html = operate.app.test_client().get("/widgets").get_data(as_text=True)
    assert "LookalikePlugin.Settings" in html
    assert "<code>/_pluginFiles/LookalikePlugin/ui</code> · configures plugin <code>LookalikePlugin</code>" in html


@pytest.mark.parametrize(
    ("body", "message"),
    [("[1]", "as an object, not list"), ("null", "not nothing"), ("{NaN}", "not JSON"), ('{"a": NaN}', "not JSON")],
)
def test_storing_a_plugin_configuration_that_is_no_object_is_a_named_400(operate, body, message):
    response = operate.app.test_client().put(
        f"/_harness/plugins/{PLUGIN}/configuration", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert message in response.get_json()["title"]


def test_a_broken_plugin_configuration_file_is_named(operate):
    response = operate.app.test_client().get("/_harness/plugins/Broken/configuration")
    assert response.status_code == 400
    assert "configuration.json" in response.get_json()["title"] and "JSON object" in response.get_json()["title"]


def test_editing_a_plugin_file_is_seen_by_live_reload(operate, solution):
    client = operate.app.test_client()
    before = client.get("/_harness/changes").get_json()["stamp"]
    script = solution / "_plugins" / PLUGIN / "ui" / "Settings.js"
    stat = script.stat()
    try:
        os.utime(script, (stat.st_atime, before + 60))
        assert client.get("/_harness/changes").get_json()["stamp"] == before + 60
    finally:
        os.utime(script, (stat.st_atime, stat.st_mtime))


def test_the_configuration_of_a_plugin_the_solution_lacks_is_a_named_404(operate):
    client = operate.app.test_client()
    for response in (
        client.get("/_harness/plugins/Nobody/configuration"),
        client.put("/_harness/plugins/Nobody/configuration", data="{}", content_type="application/json"),
    ):
        assert response.status_code == 404
        title = response.get_json()["title"]
        assert "no plugin 'Nobody'" in title and "LookalikePlugin" in title
    assert client.get("/_harness/plugins/lookalikeplugin/configuration").status_code == 200  # any letter case


def test_a_plugin_folder_that_links_out_of_the_solution_is_no_plugin(tmp_path):
    """`_plugins/Elsewhere` a link to a folder outside the solution serves no file, so it is no plugin either: its
    configuration can be neither read nor stored, and the 404 does not list it."""
    from emulator.app import create_app
    from emulator.settings import Settings

    root = bindings_solution(tmp_path / "solution")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "configuration.json").write_text('{"secret": "outside the solution"}', encoding="utf-8")
    (root / "_plugins" / "Elsewhere").symlink_to(outside, target_is_directory=True)
    app = create_app(Settings(data_dir=tmp_path / "state", solution=root))
    try:
        client = app.test_client()
        for response in (
            client.get("/_harness/plugins/Elsewhere/configuration"),
            client.put("/_harness/plugins/Elsewhere/configuration", data="{}", content_type="application/json"),
        ):
            assert response.status_code == 404
            assert "Elsewhere" not in response.get_json()["title"].split("plugins:")[1]
    finally:
        app.extensions["operate"].close()
