"""What the web-page tests share: a demo solution with a timer plan and a plan that sends secrets,
signing in through the emulator's own sign-in the way a person does, and connecting Clio in the browser."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from smartplans.testing import solution_from_demo, trigger

XSS = "<img src=x onerror=alert(1)>"
CLIENT_ORG = "2b000000-0000-4000-8000-000000000001"  # Northgate Logistics
FEE_EARNER = "1a000000-0000-4000-8000-000000000001"  # Priya Shah
TASK = "4d000000-0000-4000-8000-000000000003"  # a seeded task, not started
CHASER = """
function main(ev, ctx, log) { log.Information("chasing in 20 minutes"); trigger.SubProcess("chase").In(20).Minutes; }
function chase(ev, ctx, log) { log.Warning("chased at " + DateTime.Now.ToString("o")); ctx.chased = true; }
return { main: main, chase: chase };
"""
LEAKY = """
function main(ev, ctx, log) {
  var secrets = { apiKey: "s3cret-api-key", password: "hunter2-pass" };
  var res = sharedo.http.post("/api/proxy/demo-pms/_/api/matters", secrets);
  ctx.accessToken = "ctx-secret-token";
  log.Information("the PMS said " + res.statusCode);
}
return { main: main };
"""


def web_solution(root: Path) -> Path:
    """The demo with its finance plans, plus `chaser` (a 20-minute timer when a task starts) and `leaky`
    (sends credentials in a body when a task is created)."""
    return solution_from_demo(
        root,
        {"chaser": CHASER, "leaky": LEAKY},
        [
            trigger("chaser", work_type="task", phases=["task-in-progress"]),
            trigger("leaky", "sharedo-created", work_type="task"),
        ],
        examples=True,
    )


@pytest.fixture(scope="session")
def web_solution_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return web_solution(tmp_path_factory.mktemp("web") / "solution")


@pytest.fixture(autouse=True)
def _use_web_solution(request: pytest.FixtureRequest, web_solution_dir: Path) -> None:
    """One emulator for the module's tests (the plugin keeps one per solution, reset between tests)."""
    request.node.add_marker(pytest.mark.operate_solution(str(web_solution_dir)))


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert found, f"no hidden {name} in the page"
    return html.unescape(found.group(1))


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in_browser(harness_page, user: str, next_path: str):
    """In the browser, as a person does: the sign-in link, then the user's button on the emulator's sign-in page."""
    page = harness_page.page
    page.goto(f"{harness_page.base_url}/_harness/signin?next={quote(next_path, safe='')}")
    page.get_by_role("button", name=re.compile(user)).click()
    page.wait_for_url(harness_page.base_url + next_path)
    assert f"Signed in to the emulator as {user}" in page.inner_text("nav")
    return page


def sign_in(client, user: str, next_path: str = "/"):
    """The harness's sign-in, as a person clicks through it: the sign-in page, pick a user, back."""
    start = client.get(f"/_harness/signin?next={quote(next_path, safe='')}")
    assert start.status_code == 302, start.text
    page = client.get(start.location)
    form = {"csrf": hidden(page.text, "csrf"), "request": hidden(page.text, "request"), "user": user}
    back = client.post("/account/login", data=form)
    assert back.status_code == 302, back.text
    done = client.get(back.location)
    assert done.status_code == 302 and done.location == next_path
    return client.get(next_path)


def connect_clio_in_browser(page, base_url: str, decision: str = "Allow Access") -> None:
    page.goto(f"{base_url}/settings/integrations")
    page.click("#clio-connect")
    page.wait_for_url(re.compile(r".*/oauth/authorize.*"))
    assert "Allow Access" in page.content()
    page.get_by_role("button", name=decision).click()
    page.wait_for_load_state()


def importable(operate, clio) -> dict:
    """A fake matter the seed's rules import (attorney an Operate user, client with a mobile, mapped area and stage)."""
    mapping = clio.mappings.get()
    for matter in clio.fake.matters.values():
        area = clio.fake.practice_areas.get((matter.get("practice_area") or {}).get("id"))
        stage = clio.fake.matter_stages.get((matter.get("matter_stage") or {}).get("id"))
        client = clio.fake.contacts[matter["client"]["id"]]
        if (
            area
            and area["name"] in mapping["practiceAreas"]
            and (stage is None or stage["name"] in mapping["stages"])
            and matter.get("responsible_attorney")
            and any(p["name"] == "Personal" for p in client["phone_numbers"])
        ):
            return matter
    raise AssertionError("the fake firm has no importable matter")
