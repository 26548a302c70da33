"""The package as it is published: its licence, its changelog, a wheel holding every file the product
serves, and that wheel serving the demo and running a plan in a fresh venv of each supported Python."""

from __future__ import annotations

import html
import json
import re
import time
import zipfile

import httpx
import pytest

from tests.helpers.installed import (
    ROOT,
    ServedFrom,
    built_wheel,
    find_python,
    package_files,
    pyproject,
    supported_versions,
    venv_with,
)

CLIENT = "2b000000-0000-4000-8000-000000000001"  # the demo's Northgate Logistics (emulator/demo_solution)
FEE_EARNER = "1a000000-0000-4000-8000-000000000001"  # priya.shah
SEEDED_MATTER = "3c000000-0000-4000-8000-000000000001"
# The pages of the README's walk, and the widget pages (scenario links are not followed: a scenario is chosen
# by a page, not by a crawl).
PAGES = (
    "/",
    "/workitems",
    "/events",
    "/executions",
    "/plans",
    "/clock",
    "/pms",
    "/settings/integrations",
    "/widgets",
    "/widgets/OperateFinance.WipWidget",
    "/widgets/OperateFinance.AgedDebtWidget",
    f"/portal/{SEEDED_MATTER}?user=priya.shah",
    f"/workitems/{SEEDED_MATTER}",
    "/_emulator/fidelity",
)
ASSET = re.compile(r"""(?:src|href)="(/(?:_harness|_web|_ideFiles)/[^"?#]+\.\w+)|"(/_ideFiles/[^"?#]+)\"""")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    return built_wheel(tmp_path_factory)[0]


def test_the_project_is_apache_2_licensed_and_keeps_the_vendored_mit_licences(wheel):
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert (
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text and "END OF TERMS AND CONDITIONS" in text
    )
    project = pyproject()["project"]
    assert project["license"] == "Apache-2.0"
    assert {"Homepage", "Source", "Issues", "Changelog", "Documentation"} <= set(project["urls"])
    assert {"Framework :: Flask", "Framework :: Pytest"} <= set(project["classifiers"])
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        fields = archive.read(metadata).decode("utf-8").split("\n\n", 1)[0]
    assert "License-Expression: Apache-2.0" in fields.splitlines()
    vendored = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "widgets/static/vendor").glob("*/LICENSE"))
    assert len(vendored) == len(json.loads((ROOT / "widgets/static/vendor/pins.json").read_text())["packages"])
    for licence in ["LICENSE", *vendored]:
        assert f"License-File: {licence}" in fields.splitlines(), licence
        assert any(n.endswith(f".dist-info/licenses/{licence}") for n in names), licence
    for licence in vendored:  # also beside the files they cover, where the host page serves them from
        assert licence in names, licence


def test_the_changelog_says_what_the_product_offers_in_keep_a_changelog_form():
    text = (ROOT / "CHANGELOG.md").read_text("utf-8")
    version = pyproject()["project"]["version"]
    assert text.startswith("# Changelog\n") and "keepachangelog.com" in text and "semver.org" in text
    sections = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert sections[:2] == ["Unreleased", version], sections
    released = text.split(f"## [{version}]", 1)[1]
    assert re.match(r" - \d{4}-\d{2}-\d{2}\n", released), released[:40]
    assert "### Added" in released
    for offer in ("operate serve", "SmartPlans", "widget", "demo PMS", "Clio", "operate import", "pytest"):
        assert offer in released, offer
    assert re.search(rf"^\[{re.escape(version)}\]: \S+", text, re.M) and re.search(r"^\[Unreleased\]: \S+", text, re.M)


def test_the_wheel_holds_every_file_of_the_packages_and_the_served_docs(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [path for path in package_files() if path not in names]
    assert not missing, f"not in the wheel (pyproject's package-data): {missing}"
    assert any(n.endswith(".data/data/share/operate-toolkit/fidelity.md") for n in names), "docs/fidelity.md"
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "scripts/"))]


@pytest.mark.parametrize("version", supported_versions())
def test_the_wheel_serves_the_demo_and_runs_a_plan_on_python(version, wheel, tmp_path):
    """In a fresh venv of that Python: `operate serve --demo` (a solution with [integrations.clio]) answers
    every page of the walk with every file those pages load, serves each host, vendored and built-in widget
    file byte for byte, runs matter-inception to STOPPED, and `operate init` writes a solution."""
    python, looked_at = find_python(version)
    if python is None:  # the issue allows this skip only: no interpreter of that version on this machine
        pytest.skip(f"no working Python {version} here (tried: {', '.join(looked_at) or 'nothing found'})")
    started = time.monotonic()
    bin_dir = venv_with(python, wheel, tmp_path / "venv")
    print(f"Python {version}: venv with the wheel in {time.monotonic() - started:.1f} s")  # for the report
    served = ServedFrom(bin_dir, tmp_path / "work")
    try:
        assert any(line.lstrip().startswith("fake Clio: http://127.0.0.1:") for line in served.lines), served.lines
        with httpx.Client(base_url=served.url, timeout=60) as client:
            assets: set[str] = set()
            for page in PAGES:
                response = client.get(page)
                assert response.status_code == 200, (page, response.status_code, response.text[:500])
                assets |= {a or b for a, b in ASSET.findall(response.text)}
            assert "Clio" in client.get("/settings/integrations").text
            _sign_in(client, "priya.shah")  # the walk's first step; then the pages as she sees them
            for page in ("/", "/pms", "/outbox", "/settings/integrations", f"/workitems/{SEEDED_MATTER}"):
                response = client.get(page)
                assert response.status_code == 200 and "priya.shah" in response.text, (page, response.text[:500])
            for asset in sorted(assets):
                assert client.get(asset).status_code == 200, asset
            for url, path in _static_files():
                response = client.get(url)
                assert response.status_code == 200 and response.content == path.read_bytes(), url
            _run_matter_inception(client, served)
    finally:
        served.stop()
    init = tmp_path / "work" / "new-solution"
    from tests.helpers.installed import run

    run([str(bin_dir / "operate"), "init", str(init)], cwd=tmp_path / "work")
    assert (init / "types" / "operate-globals.d.ts").read_text("utf-8") == (
        ROOT / "smartplans" / "operate-globals.d.ts"
    ).read_text("utf-8")


def _static_files():
    """(URL, source file) for every file the widget host page and the web pages load from the package."""
    for path in sorted((ROOT / "widgets/static/host").iterdir()):
        yield f"/_harness/{path.name}", path
    for package in json.loads((ROOT / "widgets/static/vendor/pins.json").read_text("utf-8"))["packages"]:
        for entry in [*package["files"], package["license_file"]]:
            yield (
                f"/_harness/vendor/{package['package']}/{entry['path']}",
                (ROOT / "widgets/static/vendor" / package["package"] / entry["path"]),
            )
    for path in sorted((ROOT / "emulator/web/static").iterdir()):
        yield f"/_web/{path.name}", path
    builtin = ROOT / "widgets/builtin"
    for path in sorted(p for p in builtin.rglob("*") if p.is_file()):
        yield f"/_ideFiles/{path.relative_to(builtin).as_posix()}", path


def _sign_in(client: httpx.Client, user: str) -> None:
    """The emulator's own sign-in as a person clicks through it: the sign-in page, pick a user, back."""
    start = client.get("/_harness/signin?next=/")
    assert start.status_code == 302, start.text
    page = client.get(start.headers["location"]).text
    form = {name: _hidden(page, name) for name in ("csrf", "request")}
    back = client.post("/account/login", data={**form, "user": user})
    assert back.status_code == 302, back.text
    done = client.get(back.headers["location"])
    assert done.status_code == 302 and done.headers["location"] == "/", done.text


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert found, f"no hidden {name} in the sign-in page"
    return html.unescape(found.group(1))


def _run_matter_inception(client: httpx.Client, served: ServedFrom) -> None:
    token = client.post(
        "/connect/token",
        data={"grant_type": "client_credentials", "scope": "sharedo"},
        auth=("demo-client", "demo-secret"),
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post(
        "/api/v1/public/workItem",
        headers=headers,
        json={
            "workItem": {"sharedoTypeSystemName": "matter-commercial", "title": "Acme v Widgets"},
            "participants": [
                {"roleSystemName": "client", "odsId": CLIENT},
                {"roleSystemName": "fee-earner", "odsId": FEE_EARNER},
            ],
            # as a .NET client writes an instant: seven fractional digits (Python 3.10 parses 3 or 6 itself)
            "keyDates": {"kd-limitation-date": "2026-03-02T09:30:00.1234567Z"},
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["keyDates"] == {"kd-limitation-date": "2026-03-02T09:30:00.123Z"}
    item = created.json()["workItem"]
    opened = client.put(
        f"/api/v1/public/workItem/{item['id']}/phase", headers=headers, json={"toPhaseSystemName": "matter-open"}
    )
    assert opened.status_code < 300, opened.text
    reference = client.get(f"/api/v1/public/workItem/{item['id']}", headers=headers).json()["workItem"]["reference"]
    ended = served.wait_for(re.compile(rf"^execution matter-inception on {re.escape(reference)}: (\w+)"))
    assert ended.group(1) == "STOPPED", served.lines
    page = client.get(f"/workitems/{item['id']}")  # its executions, as the walk's step 4 reads them
    assert page.status_code == 200 and "matter-inception" in page.text and "STOPPED" in page.text, page.text[-3000:]
