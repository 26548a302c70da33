"""The harness's sign-in cookie names a user only as a note: who is signed in comes from the tokens the server
issued (docs/security.md, "The pages, sign-in and tokens")."""

from __future__ import annotations

import json
from datetime import timedelta

from werkzeug.http import parse_cookie

from tests.conftest import Api
from tests.helpers.oidc import WIP, boot_of, harness_sign_in


def cookie_of(browser) -> str:
    """The sign-in cookie's value as the browser holds it (unquoted), to put in another browser."""
    raw = browser.get_cookie("operate.harness").value
    return parse_cookie(f"operate.harness={raw}")["operate.harness"]


FORGED = json.dumps({"at": "bogus", "rt": "bogus", "user": "hannah.whitfield"})


def test_a_forged_sign_in_cookie_signs_no_one_in_on_a_virtual_clock(app):
    browser = app.test_client()
    browser.set_cookie("operate.harness", FORGED)
    page = browser.get(f"/widgets/{WIP}?scenario=ok")
    assert page.status_code == 200
    assert "Signed in to the emulator as hannah.whitfield" not in page.text and ">Sign in</a>" in page.text
    assert boot_of(page.text)["session"]["user"] != "hannah.whitfield"
    outbox = browser.get("/outbox")  # a page that wants a signed-in user
    assert "hannah.whitfield" not in outbox.text


def test_a_real_sign_in_survives_a_clock_jump_but_not_its_sign_out(app):
    browser = app.test_client()
    harness_sign_in(browser, "tom.becker", f"/widgets/{WIP}?scenario=ok")
    kept = cookie_of(browser)
    app.extensions["operate"].clock.advance(timedelta(days=60))  # past the access and the refresh token
    page = browser.get(f"/widgets/{WIP}?scenario=ok")
    assert "Signed in to the emulator as tom.becker" in page.text  # a time travel is no sign-out
    token = boot_of(page.text)["session"]["token"]
    assert Api(app, token).get("/api/security/userInfo").json["userName"] == "tom.becker"

    # the cookie as it was before the jump: its refresh token was used up by the renewal
    replay = app.test_client()
    replay.set_cookie("operate.harness", kept)
    assert json.loads(kept)["user"] == "tom.becker"
    assert "Signed in to the emulator as" not in replay.get(f"/widgets/{WIP}?scenario=ok").text

    current = cookie_of(browser)
    browser.get("/_harness/signout")
    app.extensions["operate"].clock.advance(timedelta(days=60))
    after = app.test_client()
    after.set_cookie("operate.harness", current)  # a copy kept from before the sign-out
    assert "Signed in to the emulator as" not in after.get(f"/widgets/{WIP}?scenario=ok").text
