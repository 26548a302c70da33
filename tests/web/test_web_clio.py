"""Settings > Integrations in a real browser (Debian's chromium): an administrator connects Clio through
the fake Clio's own sign-in page (Allow Access; Deny leaves it unconnected with the reason), syncs one case
by a pasted Clio URL and sees the result in the pop-up, syncs all cases and finds the CSV in the Outbox;
a user who is no administrator cannot turn the nightly sync on. The demo solution, the fake on loopback."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers.web_support import connect_clio_in_browser, importable, sign_in_browser

WAIT_MS = 15_000


def test_an_administrator_connects_clio_and_syncs_one_case_then_all_cases(operate, harness_page, clio):
    page = sign_in_browser(harness_page, "priya.shah", "/settings/integrations")
    connect_clio_in_browser(page, harness_page.base_url)
    page.wait_for_url(f"{harness_page.base_url}/settings/integrations")
    assert page.inner_text("#clio-firm") == "Harbourvale LLP"
    assert "Connected as Priya Shah" in page.inner_text("#clio-connected")

    matter = importable(operate, clio)
    page.click("#clio-sync summary")
    page.fill("#clio-matter", f"https://app.clio.com/nc/#/matters/{matter['id']}/info")
    page.click("#clio-sync-one")
    result = page.wait_for_selector("#clio-result [data-result]", timeout=WAIT_MS)
    assert result.inner_text() == "imported"
    assert matter["display_number"] in page.inner_text("#clio-result")
    page.click("#clio-result >> text=Open the Operate matter")
    assert str(matter["id"]) in page.inner_text("body")  # the integration ID is on the Operate matter

    page.goto(f"{harness_page.base_url}/settings/integrations")
    page.click("#clio-sync summary")
    page.click("#clio-sync-all")
    assert "has started" in page.inner_text("#web-flash")
    for _ in range(60):  # the run goes on in the server; the page shows it when it is done
        page.goto(f"{harness_page.base_url}/settings/integrations")
        if "done" in page.inner_text("#clio-runs tbody tr:first-child"):
            break
        page.wait_for_timeout(250)
    assert "imported" in page.inner_text("#clio-runs tbody tr:first-child")
    page.goto(f"{harness_page.base_url}/outbox")
    assert "Clio sync results" in page.inner_text("#outbox")
    with page.expect_download() as download:
        page.click("#outbox .web-attachment")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("clio_id,display_number,result,reason,operate_work_item_id")
    assert f"{matter['id']},{matter['display_number']},unchanged" in text  # synced once already, not twice


def test_deny_leaves_clio_unconnected_and_says_why(operate, harness_page, clio):
    page = sign_in_browser(harness_page, "priya.shah", "/settings/integrations")
    connect_clio_in_browser(page, harness_page.base_url, decision="Deny")
    assert "access was denied in Clio" in page.inner_text("body")
    page.goto(f"{harness_page.base_url}/settings/integrations")
    assert page.get_attribute("#clio", "data-state") == "not-connected"


def test_only_an_administrator_turns_the_nightly_sync_on(operate, harness_page, clio):
    page = sign_in_browser(harness_page, "daniel.okafor", "/settings/integrations")
    page.click("#clio form[action$='/nightly'] button")
    assert "403" in page.inner_text("#web-flash") and "core.integrations.manage" in page.inner_text("#web-flash")
    assert page.inner_text("#clio-nightly") == "off"


def matter_runs(clio) -> int:
    return sum(1 for r in clio.sync.runs(500)["rows"] if r["kind"] == "matter")


def test_deny_returns_to_settings_integrations_with_the_reason(operate, harness_page, clio):
    page = sign_in_browser(harness_page, "priya.shah", "/settings/integrations")
    connect_clio_in_browser(page, harness_page.base_url, decision="Deny")
    page.wait_for_url(f"{harness_page.base_url}/settings/integrations")  # where Allow returns too
    assert "Clio is not connected: access was denied in Clio" in page.inner_text("#web-flash")
    assert page.get_attribute("#clio", "data-state") == "not-connected"
    assert page.is_visible("#clio-connect")  # a person can try again from here
    assert "Choose Clio" not in page.inner_text("#clio")  # nothing to choose: Clio is the one integration offered


def test_a_reload_after_individual_case_shows_the_result_again_and_syncs_nothing(operate, harness_page, clio):
    page = sign_in_browser(harness_page, "priya.shah", "/settings/integrations")
    connect_clio_in_browser(page, harness_page.base_url)
    page.wait_for_url(f"{harness_page.base_url}/settings/integrations")
    matter = importable(operate, clio)
    page.click("#clio-sync summary")
    page.fill("#clio-matter", str(matter["id"]))
    page.click("#clio-sync-one")
    page.wait_for_selector("#clio-result [data-result]", timeout=WAIT_MS)
    assert matter_runs(clio) == 1
    assert "/clio/sync" not in page.url  # redirected after the POST: the address is a page, not the form's action

    page.reload()
    page.wait_for_load_state()
    assert page.inner_text("#clio-result [data-result]") in ("imported", "unchanged", "updated")
    assert matter["display_number"] in page.inner_text("#clio-result")
    assert matter_runs(clio) == 1  # the reload synced nothing
    page.click("#clio-result >> text=Close")
    page.wait_for_url(f"{harness_page.base_url}/settings/integrations")
    assert not page.is_visible("#clio-result")


def test_a_matter_skipped_for_an_unmapped_stage_links_to_its_work_item(operate, harness_page, clio):
    page = sign_in_browser(harness_page, "priya.shah", "/settings/integrations")
    connect_clio_in_browser(page, harness_page.base_url)
    page.wait_for_url(f"{harness_page.base_url}/settings/integrations")
    matter = next(
        m
        for m in clio.fake.matters.values()
        if m is importable_or_none(operate, clio, m)
        and clio.fake.practice_areas[m["practice_area"]["id"]]["name"] == "Estate Planning"
    )
    stage = clio.fake.matter_stages[matter["matter_stage"]["id"]]["name"] if matter["matter_stage"] else None
    try:
        page.click("#clio-sync summary")
        page.fill("#clio-matter", str(matter["id"]))
        page.click("#clio-sync-one")
        assert page.inner_text("#clio-result [data-result]") == "imported"
        page.click("#clio-result >> text=Open the Operate matter")
        page.wait_for_url(re.compile(r".*/workitems/[0-9a-f-]+$"))
        work_item = page.url.rsplit("/", 1)[1]

        clio.fake.set_stage(matter["id"], "Funded")  # a stage the demo maps to no phase
        page.goto(f"{harness_page.base_url}/settings/integrations")
        page.click("#clio-sync summary")
        page.fill("#clio-matter", str(matter["id"]))
        page.click("#clio-sync-one")
        assert page.inner_text("#clio-result [data-result]") == "skipped"
        assert "'Funded' is not mapped" in page.inner_text("#clio-result")
        assert page.get_attribute("#clio-result >> text=Open the Operate matter", "href") == f"/workitems/{work_item}"

        page.goto(f"{harness_page.base_url}/settings/integrations")
        page.click("#clio-runs tbody tr:first-child >> text=each matter")
        row = page.locator("#clio-results tr[data-result=skipped]")
        assert row.count() == 1
        row.locator("a").click()
        page.wait_for_url(f"{harness_page.base_url}/workitems/{work_item}")
        assert str(matter["id"]) in page.inner_text("body")
    finally:
        if stage:
            clio.fake.set_stage(matter["id"], stage)


def importable_or_none(operate, clio, matter: dict) -> dict | None:
    """The matter when the seed's rules import it as it stands (see importable), else None."""
    mapping = clio.mappings.get()
    area = clio.fake.practice_areas.get((matter.get("practice_area") or {}).get("id"))
    stage = clio.fake.matter_stages.get((matter.get("matter_stage") or {}).get("id"))
    client = clio.fake.contacts[matter["client"]["id"]]
    ok = (
        area
        and area["name"] in mapping["practiceAreas"]
        and (stage is None or stage["name"] in mapping["stages"])
        and matter.get("responsible_attorney")
        and any(p["name"] == "Personal" for p in client["phone_numbers"])
    )
    return matter if ok else None
