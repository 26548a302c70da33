"""Signing in by OpenID Connect as the vendor's samples do: clients of the samples' kinds in a demo solution,
the sign-in page a person picks a user on, an authorize answer's query, and the harness's own code-flow
sign-in with the boot data of the page it lands on."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from emulator.solution.loading import demo_solution_path
from tests.helpers.web_support import hidden

SPA_ORIGIN = "http://localhost:8200"  # where the samples' SPAs are served
SPA_REPLY = "http://localhost:8200/oAuthReply"  # the samples' settings.js redirectUri
TIME_APP = "https://localhost:7100"
WIP = "OperateFinance.WipWidget"  # a built-in widget the harness's sign-in lands on
CLIENTS = f"""
[clients.vue-spa]
secret = "vue-secret"
grants = ["authorization_code", "refresh_token"]
redirect_uris = ["{SPA_REPLY}"]

[clients.implicit-spa]
grants = ["implicit"]
redirect_uris = ["{SPA_REPLY}"]

[clients.time-entry]
secret = "time-secret"
grants = ["authorization_code", "refresh_token"]
redirect_uris = ["{TIME_APP}/api/oidc"]
post_logout_redirect_uris = ["{TIME_APP}/"]

[clients.mobile]
grants = ["authorization_code", "refresh_token"]
redirect_uris = ["{SPA_REPLY}"]
"""


def solution_with(tmp_path: Path, extra: str = CLIENTS) -> Path:
    sol = tmp_path / "sol"
    shutil.copytree(demo_solution_path(), sol)
    with (sol / "operate.toml").open("a") as f:
        f.write(extra)
    return sol


def sign_in(browser, authorize_url: str, user: str, **extra: str):
    """What a person does: open the authorize URL, see the sign-in page, pick a user."""
    page = browser.get(authorize_url)
    assert page.status_code == 200 and "no passwords" in page.text, page.text[:500]
    form = {"csrf": hidden(page.text, "csrf"), "request": hidden(page.text, "request"), "user": user, **extra}
    return browser.post("/account/login", data=form)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def boot_of(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="operate-boot">(.*?)</script>', html, re.S)
    assert found, "no boot data on the page"
    return json.loads(found.group(1))


def harness_sign_in(browser, user: str, next_path: str):
    start = browser.get(f"/_harness/signin?next={quote(next_path, safe='')}")
    assert start.status_code == 302 and start.location.startswith("/connect/authorize?")
    asked = query_of(start.location)
    assert asked["client_id"] == "operate-portal" and asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == "http://localhost/_harness/callback"
    back = sign_in(browser, start.location, user)
    assert back.status_code == 302 and back.location.startswith("http://localhost/_harness/callback?code=")
    return browser.get(back.location)
