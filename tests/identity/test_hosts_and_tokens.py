"""No token for another site or a foreign host (docs/security.md, "Who we defend against"): the emulator answers
only to loopback names and operate.toml's [server] allowed_hosts (DNS rebinding), and hands a user's token only
to its own pages (Sec-Fetch-Site / Origin)."""

from __future__ import annotations

import json
import re
import shutil
from urllib.parse import quote

import httpx
import pytest

from emulator.app import create_app
from emulator.settings import Settings
from emulator.solution.loading import SolutionError, demo_solution_path
from tests.conftest import START, Api
from tests.helpers.loopback import serving
from tests.helpers.oidc import SPA_ORIGIN

WIP = "OperateFinance.WipWidget"
SESSION = "/_harness/session?user=hannah.whitfield"


def test_a_foreign_host_gets_no_token_and_is_told_how_to_allow_it(app):
    for base in ("http://attacker.example", "http://attacker.example:8000", "http://127.0.0.1.nip.io:80"):
        refused = app.test_client().get(SESSION, base_url=base)
        assert refused.status_code == 403, base
        text = refused.get_data(as_text=True)
        assert "token" not in text.lower() and "allowed_hosts" in text and "[server]" in text
    api = app.test_client().get("/api/_emulator/health", base_url="http://attacker.example")
    assert api.status_code == 403 and "allowed_hosts" in api.json["title"]
    widget = app.test_client().get(f"/widgets/{WIP}?user=hannah.whitfield", base_url="http://rebind.example")
    assert widget.status_code == 403 and b"operate-boot" not in widget.data
    for base in (
        "http://localhost",
        "http://127.0.0.1:9",
        "http://127.7.0.1",
        "http://[::1]:8000",
        "http://a.localhost",
    ):
        assert app.test_client().get(SESSION, base_url=base).status_code == 200, base


def test_over_a_real_socket_the_host_header_decides(app):
    with serving(app) as url, httpx.Client(base_url=url, trust_env=False) as client:
        assert client.get(SESSION).status_code == 200
        refused = client.get(SESSION, headers={"Host": "attacker.example"})
        assert refused.status_code == 403 and "allowed_hosts" in refused.text and 'token"' not in refused.text


def _solution(tmp_path, server: str):
    root = tmp_path / "sol"
    shutil.copytree(demo_solution_path(), root)
    with (root / "operate.toml").open("a", encoding="utf-8") as f:
        f.write(f"\n[server]\n{server}\n")
    return root


def test_operate_toml_allows_more_host_names_and_a_typo_is_named_at_load(tmp_path):
    root = _solution(tmp_path, 'allowed_hosts = ["devbox.example.test", ".lan.example"]')
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    try:
        for base, status in (
            ("http://devbox.example.test:8000", 200),
            ("http://lan.example", 200),
            ("http://pc7.lan.example", 200),
            ("http://evil-lan.example", 403),
            ("http://devbox.example.test.evil.example", 403),
        ):
            assert app.test_client().get(SESSION, base_url=base).status_code == status, base
    finally:
        app.extensions["operate"].close()
    bad = _solution(tmp_path / "b", 'allowed_hosts = ["http://devbox:8000"]')
    with pytest.raises(SolutionError, match=r"allowed_hosts entry 'http://devbox:8000' is not a host name"):
        create_app(Settings(data_dir=tmp_path / "d2", solution=bad))


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port on this machine
        {"Origin": "http://localhost:8200"},  # a registered SPA's origin: CORS would let it read the answer
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},
    ],
)
def test_another_origins_request_gets_no_token(app, headers):
    refused = app.test_client().get(SESSION, headers=headers)
    assert refused.status_code == 403 and "only to its own pages" in refused.json["title"]
    assert "token" not in json.dumps({k: v for k, v in refused.json.items() if k != "title"})
    page = app.test_client().get(f"/widgets/{WIP}?user=hannah.whitfield", headers=headers)
    assert page.status_code == 403 and b"operate-boot" not in page.data
    assert f'href="/widgets/{WIP}?user=hannah.whitfield"'.encode() in page.data  # open it here, on purpose
    assert "_api=" not in page.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {"Origin": "http://localhost"}],
)
def test_the_emulators_own_pages_curl_and_tests_get_a_token(app, headers):
    answer = app.test_client().get(SESSION, headers=headers)
    assert answer.status_code == 200
    me = Api(app, answer.json["token"]).get("/api/security/userInfo").json
    assert me["userName"] == "hannah.whitfield"


def test_a_page_on_another_loopback_origin_obtains_no_token_in_chromium(oidc_app, spa_browser):
    """The registered SPA's origin (http://localhost:8200, answered with CORS for the API) asks the served
    emulator for Hannah's token, as a script on any page there could."""
    with serving(oidc_app) as emulator:
        context = spa_browser.new_context()
        try:
            page_html = "<!doctype html><html><body>a page on another loopback origin</body></html>"
            context.route(f"{SPA_ORIGIN}/**", lambda route: route.fulfill(body=page_html, content_type="text/html"))
            page = context.new_page()
            page.goto(f"{SPA_ORIGIN}/")
            got = page.evaluate(
                """async (url) => {
                    try {
                        const r = await fetch(url);
                        return { status: r.status, body: await r.text() };
                    } catch (e) { return { status: 0, body: String(e) }; }
                }""",
                f"{emulator}{SESSION}",
            )
            assert got["status"] != 200 and '"token"' not in got["body"], got
            # the emulator's own page, in the same browser, still gets its token
            own = context.new_page()
            own.goto(f"{emulator}/widgets?x=1")
            mine = own.evaluate("async (p) => (await fetch(p)).status", SESSION)
            assert mine == 200
            preview = context.new_page()
            preview.goto(f"{emulator}/widgets/{quote(WIP)}?user=hannah.whitfield&scenario=ok")
            boot = json.loads(preview.locator("#operate-boot").text_content())
            assert boot["session"]["user"] == "hannah.whitfield" and boot["session"]["token"]
            assert re.search(r"\S", boot["session"]["token"])
        finally:
            context.close()


def test_a_link_from_another_origin_opens_the_preview_only_when_the_person_says_so(oidc_app, spa_browser):
    with serving(oidc_app) as emulator:
        context = spa_browser.new_context()
        try:
            target = f"{emulator}/widgets/{WIP}?user=hannah.whitfield&scenario=ok"
            framed = f'<a id="go" href="{target}">preview</a><iframe id="f" src="{target}"></iframe>'
            context.route(f"{SPA_ORIGIN}/**", lambda route: route.fulfill(body=framed, content_type="text/html"))
            page = context.new_page()
            page.goto(f"{SPA_ORIGIN}/")
            frame = page.frame_locator("#f")
            assert "Open this page here?" in frame.locator("h1").text_content()  # framed by another site: no token
            page.click("#go")
            page.wait_for_url(target)
            assert page.locator("h1").text_content() == "Open this page here?"
            assert page.locator("#operate-boot").count() == 0
            page.get_by_role("link", name=re.compile("on the emulator")).click()  # on purpose: same-origin
            page.wait_for_selector("#operate-boot", state="attached")
            boot = json.loads(page.locator("#operate-boot").text_content())
            assert boot["session"]["user"] == "hannah.whitfield"
        finally:
            context.close()
