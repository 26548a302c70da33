"""Aspect widgets on the harness's aspect host, and a widget that totals descendants with findByQuery's
`includeFields`, run unmodified in Chromium.

The look-alikes (tests/fixtures/lookalikes/aspect-lifecycle and widget-descendants-totals, copied to
`_IDE/Lookalikes/<Name>/`) are written for this project after patterns in public third-party Operate code;
each script's header names the pattern. The vendor's own aspect samples run in tests/widgets/test_widgets_tenant.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smartplans.testing import solution_from_demo
from tests.helpers.paths import FIXTURES

LOOKALIKES = FIXTURES / "lookalikes"
MATTER = "3c000000-0000-4000-8000-000000000002"  # MAT-00002: TSK-00001 (done), TSK-00002 (in progress) below
DONE_TASK = "4d000000-0000-4000-8000-000000000001"
OPEN_TASK = "4d000000-0000-4000-8000-000000000002"
ASPECT = "Lookalikes.AspectLifecycle"


def aspects_solution(root: Path) -> Path:
    solution_from_demo(root)
    for folder, name in (("aspect-lifecycle", "AspectLifecycle"), ("widget-descendants-totals", "DescendantsTotals")):
        shutil.copytree(LOOKALIKES / folder, root / "_IDE" / "Lookalikes" / name)
    return root


@pytest.fixture(scope="module")
def solution(tmp_path_factory) -> Path:
    return aspects_solution(tmp_path_factory.mktemp("aspects") / "solution")


@pytest.fixture(autouse=True)
def _use_solution(request, solution):
    request.node.add_marker(pytest.mark.operate_solution(str(solution)))


def calls(page, method: str) -> list[str]:
    """The URLs of every `method` request the page sends from now on."""
    seen: list[str] = []
    page.page.on("request", lambda r: seen.append(r.url) if r.method == method else None)
    return seen


def status(page, text: str) -> str:
    """Wait until the aspect host's status line says `text`; return all of it."""
    page.page.wait_for_function(
        "t => (document.getElementById('op-aspect-status').textContent || '').includes(t)", arg=text, timeout=5000
    )
    return page.page.locator("#op-aspect-status").inner_text()


def lifecycle(page) -> list[str]:
    return page.widget().locator(".lifecycle-log li").all_inner_texts()


def test_aspect_shares_the_host_title_observable_and_save_runs_the_lifecycle_in_order(operate, widget_page):
    before = operate.work_item(MATTER)["workItem"]
    page = widget_page(ASPECT, work_item=MATTER, mode="aspect")
    widget = page.widget()
    assert widget.locator(".lifecycle-title").input_value() == before["title"]  # _host.model.title()
    assert widget.locator(".lifecycle-reference").inner_text() == "MAT-00002"  # _host.model.reference()
    puts = calls(page, "PUT")
    widget.locator(".lifecycle-title").fill("Purchase of 14 Mill Lane - completion")
    widget.locator(".lifecycle-note").fill("  searches back  ")
    page.page.locator("#op-aspect-save").click()
    status(page, "Saved")
    title = "Purchase of 14 Mill Lane - completion"
    assert lifecycle(page) == [f"onBeforeSave: {title}", f"onSave: {title}", f"onAfterSave: {title}"]
    assert [p.split("127.0.0.1", 1)[1].split("/", 1)[1] for p in puts] == [f"api/v1/public/workItem/{MATTER}"]
    saved = operate.work_item(MATTER)
    assert saved["workItem"]["title"] == title  # the shared observable went back in the envelope
    assert saved["aspectData"]["formBuilder"]["formData"]["lifecycleNote"] == "searches back"  # trimmed before save
    assert widget.locator(".lifecycle-saved").inner_text() == saved["workItem"]["updatedDate"]  # model refreshed
    steps = [e["step"] for e in page.page.evaluate("__operate.aspects.journal")]
    assert steps == ["onBeforeSave", "onSave", "PUT", "onAfterSave"]
    page.assert_no_console_errors()


def test_save_is_refused_while_validation_errors_remain_and_nothing_is_sent(operate, widget_page):
    before = operate.work_item(MATTER)
    page = widget_page(ASPECT, work_item=MATTER, mode="aspect")
    puts = calls(page, "PUT")
    page.widget().locator(".lifecycle-note").fill("ok")  # shorter than the manifest's minimumNoteLength of 3
    page.page.locator("#op-aspect-save").click()
    text = status(page, "Save is blocked")
    assert text == f"Save is blocked: 1 validation error(s) ({ASPECT}: 1); nothing was sent"
    assert "Save is blocked" in page.page.locator(".op-toasts").inner_text()
    assert lifecycle(page) == [f"onBeforeSave: {before['workItem']['title']}"]  # no onSave, no onAfterSave
    assert puts == [] and operate.work_item(MATTER) == before
    page.widget().locator(".lifecycle-title").fill("")  # two problems now
    page.page.locator("#op-aspect-save").click()
    assert "Save is blocked: 2 validation error(s)" in status(page, "2 validation")
    page.widget().locator(".lifecycle-title").fill("Retitled")
    page.widget().locator(".lifecycle-note").fill("long enough")
    page.page.locator("#op-aspect-save").click()
    status(page, "Saved")
    assert operate.work_item(MATTER)["workItem"]["title"] == "Retitled"


def test_reload_fetches_the_work_item_again_and_calls_on_reload(operate, widget_page):
    page = widget_page(ASPECT, work_item=MATTER, mode="aspect")
    api = operate.api()
    changed = api.put(
        f"/api/v1/public/workItem/{MATTER}",
        {
            "workItem": {"title": "Changed elsewhere"},
            "aspectData": {"formBuilder": {"formData": {"lifecycleNote": "x1"}}},
        },
    )
    assert changed.status_code == 200, changed.json
    assert page.widget().locator(".lifecycle-title").input_value() != "Changed elsewhere"
    gets = calls(page, "GET")
    page.page.locator("#op-aspect-reload").click()
    status(page, "Reloaded")
    assert any(url.endswith(f"/api/v1/public/workItem/{MATTER}") for url in gets)
    assert page.widget().locator(".lifecycle-title").input_value() == "Changed elsewhere"  # same observable, refreshed
    assert page.widget().locator(".lifecycle-note").input_value() == "x1"  # onReload read the new aspectData
    assert lifecycle(page) == ["onReload: Changed elsewhere"]
    api.put(f"/api/v1/public/workItem/{MATTER}", {"workItem": {"title": "Changed again"}})
    page.page.evaluate("() => __operate.widgets.p0._host.blade.reload()")  # the form's own reload, as code calls it
    page.page.wait_for_function("() => document.querySelectorAll('.lifecycle-log li').length === 2", timeout=5000)
    assert lifecycle(page)[-1] == "onReload: Changed again"


def test_a_refused_put_is_shown_and_on_after_save_does_not_run(operate, widget_page):
    page = widget_page(ASPECT, work_item=MATTER, mode="aspect")
    page.widget().locator(".lifecycle-title").fill("x" * 5000)  # longer than a title may be: the API says 400
    page.widget().locator(".lifecycle-note").fill("a good note")
    page.page.locator("#op-aspect-save").click()
    text = status(page, "Save failed")
    assert text.startswith(f"Save failed: PUT /api/v1/public/workItem/{MATTER} answered HTTP 400")
    assert [line.split(":")[0] for line in lifecycle(page)] == ["onBeforeSave", "onSave"]
    assert "lifecycleNote" not in str(operate.work_item(MATTER)["aspectData"])


def test_descendants_totals_widget_sums_every_task_below_with_include_fields(operate, widget_page):
    grandchild = operate.api().post(
        "/api/v1/public/workItem",
        {"parentSharedoId": OPEN_TASK, "workItem": {"sharedoTypeSystemName": "task", "title": "Chase the searches"}},
    )
    assert grandchild.status_code == 201, grandchild.json
    operate.set_attributes(DONE_TASK, {"estimatedFees": "250"})
    operate.set_attributes(OPEN_TASK, {"estimatedFees": "400"})
    operate.set_attributes(grandchild.json["workItem"]["id"], {"estimatedFees": "50"})
    page = widget_page("Lookalikes.DescendantsTotals", work_item=MATTER)
    widget = page.widget()
    assert widget.locator(".totals-heading").inner_text().startswith("MAT-00002 ")
    assert widget.locator(".totals-total").inner_text() == "Total: 700 over 3 item(s)"  # the closed task counts too
    rows = widget.locator(".totals-items tr").all_inner_texts()
    assert any("Chase the searches" in r and "Not started" in r and "50" in r for r in rows)
    assert any("Done" in r and "250" in r for r in rows)
    page.assert_no_console_errors()
