"""Sign-in as on a tenant: the flows replayed as the vendor's samples run them (tests/fixtures/official/
sharedo-auth-samples and sharedo_api_samples/time): the vue-spa code flow with the secret in the body, the
implicit SPAs' fragment token, the ASP.NET time-entry app's OIDC code flow without PKCE (form_post, a
validated id_token), PKCE for a public client, and the refusals RFC 6749 asks for."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from emulator.app import create_app
from emulator.settings import Settings
from emulator.solution.loading import SolutionError
from tests.conftest import Api
from tests.helpers.oidc import (
    SPA_ORIGIN,
    SPA_REPLY,
    TIME_APP,
    WIP,
    boot_of,
    harness_sign_in,
    hidden,
    query_of,
    sign_in,
    solution_with,
)
from tests.helpers.paths import FIXTURES

OFFICIAL = FIXTURES / "official"


def sample(path: str) -> str:
    return (OFFICIAL / path).read_text("utf-8")


def fragment_of(location: str) -> dict[str, str]:
    """As implicit.js reads the hash: split on & and =, values percent-decoded."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


def vue_spa_authorize_url(client_id: str = "vue-spa", state: str = "/tasks") -> str:
    """authcode.js redirectToLogin(), character for character (the raw space in scope included)."""
    assert 'url += "&scope=sharedo offline_access";' in sample(
        "sharedo-auth-samples/authCode/vue-spa/service/authcode.js"
    )
    return (
        f"/connect/authorize?client_id={client_id}&scope=sharedo offline_access&response_type=code"
        f"&redirect_uri={quote(SPA_REPLY, safe='')}&state={quote(state, safe='')}"
    )


def vue_spa_token_body(code: str) -> str:
    """authcode.js receiveCode()'s body, built the same way (string concatenation, secret in the body)."""
    source = sample("sharedo-auth-samples/authCode/vue-spa/service/authcode.js")
    assert '"&grant_type=authorization_code" +' in source and '"&client_secret=" + settings.clientSecret +' in source
    return (
        "client_id=vue-spa&client_secret=vue-secret&grant_type=authorization_code&scope=sharedo+offline_access"
        f"&redirect_uri={quote(SPA_REPLY, safe='')}&code={code}"
    )


FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


# -- discovery ------------------------------------------------------------------------------------
def test_discovery_lists_the_endpoints_the_oidc_libraries_read(oidc_app):
    doc = oidc_app.test_client().get("/.well-known/openid-configuration").json
    issuer = doc["issuer"]
    assert issuer == "http://localhost"
    for key, path in {
        "authorization_endpoint": "/connect/authorize",
        "token_endpoint": "/connect/token",
        "userinfo_endpoint": "/connect/userinfo",
        "end_session_endpoint": "/connect/endsession",
        "revocation_endpoint": "/connect/revocation",
        "jwks_uri": "/.well-known/openid-configuration/jwks",
    }.items():
        assert doc[key] == issuer + path
    assert {"code", "token"} <= set(doc["response_types_supported"])
    assert doc["code_challenge_methods_supported"] == ["plain", "S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = oidc_app.test_client().get(doc["jwks_uri"].removeprefix(issuer)).json["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]


# -- the vue-spa authorization code sample ----------------------------------------------------------
def test_vue_spa_code_flow_token_refresh_and_revoke_as_the_sample_does(oidc_app):
    browser = oidc_app.test_client()
    reply = sign_in(browser, vue_spa_authorize_url(), "priya.shah")
    assert reply.status_code == 302 and reply.location.startswith(SPA_REPLY + "?")
    q = query_of(reply.location)
    assert q["state"] == "/tasks" and q["code"]

    spa = oidc_app.test_client()  # the SPA's fetch: no cookies of the identity server
    tokens = spa.post("/connect/token", data=vue_spa_token_body(q["code"]), headers=FORM)
    assert tokens.status_code == 200, tokens.json
    body = tokens.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["refresh_token"]
    assert "id_token" not in body  # no openid scope asked for
    me = Api(oidc_app, body["access_token"]).get("/api/security/userInfo").json  # profile.js loadProfile()
    assert me["fullName"] == "Priya Shah" and me["userName"] == "priya.shah" and me["clientId"] == "vue-spa"

    # getNewTokens(): refresh with the secret in the body; the old refresh token is spent
    refresh_body = (
        f"client_id=vue-spa&client_secret=vue-secret&grant_type=refresh_token&scope=sharedo+offline_access"
        f"&refresh_token={body['refresh_token']}"
    )
    renewed = spa.post("/connect/token", data=refresh_body, headers=FORM)
    assert renewed.status_code == 200 and renewed.json["access_token"] != body["access_token"]
    again = spa.post("/connect/token", data=refresh_body, headers=FORM)
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"

    # logout(): revoke both, with token_type_hint
    new = renewed.json
    for token, hint in ((new["access_token"], "access_token"), (new["refresh_token"], "refresh_token")):
        revoked = spa.post(
            "/connect/revocation",
            data=f"client_id=vue-spa&client_secret=vue-secret&token={token}&token_type_hint={hint}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert revoked.status_code == 200
    assert Api(oidc_app, new["access_token"]).get("/api/security/userInfo").status_code == 401
    dead = spa.post(
        "/connect/token",
        data=f"client_id=vue-spa&client_secret=vue-secret&grant_type=refresh_token&refresh_token={new['refresh_token']}",
        headers=FORM,
    )
    assert dead.status_code == 400 and dead.json["error"] == "invalid_grant"


def test_a_second_authorize_with_the_sign_in_cookie_skips_the_page_unless_prompt_login(oidc_app):
    browser = oidc_app.test_client()
    assert sign_in(browser, vue_spa_authorize_url(), "daniel.okafor").status_code == 302
    second = browser.get(vue_spa_authorize_url(state="/again"))
    assert second.status_code == 302 and query_of(second.location)["state"] == "/again"
    code = query_of(second.location)["code"]
    tokens = oidc_app.test_client().post("/connect/token", data=vue_spa_token_body(code), headers=FORM).json
    assert Api(oidc_app, tokens["access_token"]).get("/api/security/userInfo").json["userName"] == "daniel.okafor"
    forced = browser.get(vue_spa_authorize_url() + "&prompt=login")
    assert forced.status_code == 200 and "no passwords" in forced.text
    nobody = oidc_app.test_client().get(vue_spa_authorize_url() + "&prompt=none")
    assert nobody.status_code == 302 and query_of(nobody.location)["error"] == "login_required"


def test_the_user_name_as_password_or_none_and_a_wrong_password_is_refused(oidc_app):
    browser = oidc_app.test_client()
    page = browser.get(vue_spa_authorize_url())
    form = {"csrf": hidden(page.text, "csrf"), "request": hidden(page.text, "request")}
    wrong = browser.post("/account/login", data={**form, "username": "tom.becker", "password": "hunter2"})
    assert wrong.status_code == 400 and "the password is the user name, or nothing" in wrong.text
    unknown = browser.post("/account/login", data={**form, "username": "nobody"})
    assert unknown.status_code == 400 and "no user &#39;nobody&#39;" in unknown.text
    right = browser.post("/account/login", data={**form, "username": "tom.becker", "password": "tom.becker"})
    assert right.status_code == 302 and "code=" in right.location


def test_cancel_sends_access_denied_back_with_the_state(oidc_app):
    browser = oidc_app.test_client()
    page = browser.get(vue_spa_authorize_url(state="/x"))
    form = {"csrf": hidden(page.text, "csrf"), "request": hidden(page.text, "request"), "cancel": "1"}
    reply = browser.post("/account/login", data=form)
    assert reply.status_code == 302 and query_of(reply.location) == {
        "error": "access_denied",
        "error_description": "the user cancelled sign-in",
        "state": "/x",
    }


def test_the_sign_in_post_needs_its_csrf_token(oidc_app):
    browser = oidc_app.test_client()
    page = browser.get(vue_spa_authorize_url())
    request_field = hidden(page.text, "request")
    forged = oidc_app.test_client().post("/account/login", data={"request": request_field, "user": "priya.shah"})
    assert forged.status_code == 400 and "CSRF" in forged.text and "Location" not in forged.headers
    mismatched = browser.post("/account/login", data={"request": request_field, "user": "priya.shah", "csrf": "x"})
    assert mismatched.status_code == 400 and "Location" not in mismatched.headers
    assert page.headers["X-Frame-Options"] == "DENY"  # the page cannot be framed for a click-jack


# -- the implicit samples -------------------------------------------------------------------------
def test_implicit_flow_gives_a_fragment_token_as_the_spas_read_it(oidc_app):
    for path in ("implicit/vue-spa/service/implicit.js", "implicit/react-spa/OAuthHandler.js"):
        assert 'url += "&response_type=token"' in sample(f"sharedo-auth-samples/{path}")
    url = (
        f"/connect/authorize?client_id=implicit-spa&scope=sharedo&response_type=token"
        f"&redirect_uri={quote(SPA_REPLY, safe='')}&state={quote('/tasks', safe='')}"
    )
    reply = sign_in(oidc_app.test_client(), url, "hannah.whitfield")
    assert reply.status_code == 302 and reply.location.startswith(SPA_REPLY + "#")
    assert "?" not in reply.location  # nothing in the query: the token never reaches the SPA's server
    # receiveOAuthResponse(): split the hash on & and =; decodeURIComponent(state)
    pairs = dict(p.split("=", 1) for p in urlsplit(reply.location).fragment.split("&"))
    assert pairs["state"] == "%2Ftasks" and pairs["token_type"] == "Bearer"
    assert "refresh_token" not in pairs
    me = Api(oidc_app, pairs["access_token"]).get("/api/security/userInfo").json
    assert me["fullName"] == "Hannah Whitfield" and me["clientId"] == "implicit-spa"


def test_implicit_with_an_id_token_needs_a_nonce_and_carries_at_hash(oidc_app):
    base = (
        f"/connect/authorize?client_id=implicit-spa&scope=openid%20profile%20sharedo&response_type=id_token%20token"
        f"&redirect_uri={quote(SPA_REPLY, safe='')}&state=s1"
    )
    browser = oidc_app.test_client()
    missing = browser.get(base)
    assert missing.status_code == 302 and fragment_of(missing.location)["error"] == "invalid_request"
    reply = sign_in(browser, base + "&nonce=n-42", "priya.shah")
    got = fragment_of(reply.location)
    claims = verified_claims(oidc_app, got["id_token"])
    assert claims["nonce"] == "n-42" and claims["aud"] == "implicit-spa" and claims["name"] == "Priya Shah"
    digest = hashlib.sha256(got["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


# -- the ASP.NET time-entry sample (A8): OIDC code flow without PKCE ---------------------------------
def verified_claims(app, jwt: str) -> dict:
    """What ASP.NET's OpenIdConnect handler does with an id_token: find the key by kid in jwks_uri, check RS256."""
    client = app.test_client()
    doc = client.get("/.well-known/openid-configuration").json
    keys = client.get(urlsplit(doc["jwks_uri"]).path).json["keys"]
    head_b64, body_b64, sig_b64 = jwt.split(".")

    def unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    header = json.loads(unb64(head_b64))
    assert header["alg"] == "RS256"
    key = next(k for k in keys if k["kid"] == header["kid"])
    public = rsa.RSAPublicNumbers(int.from_bytes(unb64(key["e"]), "big"), int.from_bytes(unb64(key["n"]), "big"))
    public.public_key().verify(unb64(sig_b64), f"{head_b64}.{body_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    claims = json.loads(unb64(body_b64))
    assert claims["iss"] == doc["issuer"] and claims["exp"] > claims["iat"]
    return claims


def test_time_entry_app_oidc_code_flow_without_pkce_form_post_and_id_token(oidc_app):
    startup = sample("sharedo_api_samples/time/entry/app/Startup.cs")
    assert "o.UsePkce = false;" in startup and 'o.CallbackPath = "/api/oidc";' in startup
    assert "OpenIdConnectResponseMode.FormPost" in startup
    # ASP.NET's handler: scopes openid profile + the two the sample adds; a nonce; form_post; no code_challenge
    params = {
        "client_id": "time-entry",
        "redirect_uri": f"{TIME_APP}/api/oidc",
        "response_type": "code",
        "scope": "openid profile sharedo offline_access",
        "response_mode": "form_post",
        "nonce": "638000000000000000.abc",
        "state": "CfDJ8-opaque-state",
    }
    browser = oidc_app.test_client()
    posted = sign_in(browser, "/connect/authorize?" + urlencode(params), "priya.shah")
    assert posted.status_code == 200 and f'action="{TIME_APP}/api/oidc"' in posted.text
    code, state = hidden(posted.text, "code"), hidden(posted.text, "state")
    assert state == params["state"]

    backchannel = oidc_app.test_client()
    form = {
        "client_id": "time-entry",
        "client_secret": "time-secret",
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": f"{TIME_APP}/api/oidc",
    }
    tokens = backchannel.post("/connect/token", data=form)
    assert tokens.status_code == 200, tokens.json
    body = tokens.json
    claims = verified_claims(oidc_app, body["id_token"])
    assert claims["aud"] == "time-entry" and claims["nonce"] == params["nonce"]
    assert claims["sub"] == "1a000000-0000-4000-8000-000000000001" and claims["preferred_username"] == "priya.shah"
    me = Api(oidc_app, body["access_token"]).get("/api/security/userInfo").json
    assert me["userId"] == claims["sub"]  # the sample takes the userId from userInfo

    # TokenManager.GetNewAccessTokenAsync: refresh with no scope; RevokeTokensAsync: both, with the hint
    manager = sample("sharedo_api_samples/time/entry/app/Infrastructure/TokenManager.cs")
    assert '{ "grant_type", "refresh_token" },' in manager and '{"token_type_hint", tokenType}' in manager
    refreshed = backchannel.post(
        "/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": "time-entry",
            "client_secret": "time-secret",
        },
    )
    assert refreshed.status_code == 200 and refreshed.json["refresh_token"]
    for kind in ("access_token", "refresh_token"):
        revoke = {"client_id": "time-entry", "client_secret": "time-secret", "token": refreshed.json[kind]}
        assert backchannel.post("/connect/revocation", data={**revoke, "token_type_hint": kind}).status_code == 200
    assert Api(oidc_app, refreshed.json["access_token"]).get("/api/security/userInfo").status_code == 401

    # /api/logout then ends the identity session: the next authorize shows the page again
    out = browser.get(
        "/connect/endsession?"
        + urlencode({"id_token_hint": body["id_token"], "post_logout_redirect_uri": f"{TIME_APP}/", "state": "bye"})
    )
    assert out.status_code == 302 and out.location == f"{TIME_APP}/?state=bye"
    assert browser.get("/connect/authorize?" + urlencode(params)).status_code == 200


def test_outlook_plugin_userinfo_reads_the_sharedo_name_claims(oidc_app):
    source = sample("sharedo-auth-samples/authCode/outlookPlugin/Sharedo.Api/Security/TokenClient.cs")
    assert '{ "scope", "openid profile sharedo offline_access" },' in source
    url = (
        f"/connect/authorize?response_type=code&scope=openid%20profile%20sharedo%20offline_access&client_id=vue-spa"
        f"&redirect_uri={quote(SPA_REPLY, safe='')}&prompt=login&response_mode=form_post&state=s&nonce=n"
    )
    posted = sign_in(oidc_app.test_client(), url, "daniel.okafor")
    form = {
        "grant_type": "authorization_code",
        "redirect_uri": SPA_REPLY,
        "code": hidden(posted.text, "code"),
        "client_id": "vue-spa",
        "client_secret": "vue-secret",
    }
    tokens = oidc_app.test_client().post("/connect/token", data=form).json
    info = oidc_app.test_client().get(
        "/connect/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200
    model = sample("sharedo-auth-samples/authCode/outlookPlugin/Sharedo.Api/Security/Models/UserInfo.cs")
    for claim in re.findall(r'\[JsonProperty\("([^"]+)"\)\]', model):
        assert claim in info.json, claim
    assert info.json["sharedo/firstname"] == "Daniel" and info.json["sharedo/lastname"] == "Okafor"
    assert info.json["idp"] == "idsrv" and info.json["sub"] == "1a000000-0000-4000-8000-000000000002"


def test_userinfo_needs_the_openid_scope_and_a_user(oidc_app):
    browser = oidc_app.test_client()
    reply = sign_in(browser, vue_spa_authorize_url(), "priya.shah")
    tokens = (
        oidc_app.test_client()
        .post("/connect/token", data=vue_spa_token_body(query_of(reply.location)["code"]), headers=FORM)
        .json
    )
    no_openid = browser.get("/connect/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert no_openid.status_code == 403 and 'error="insufficient_scope"' in no_openid.headers["WWW-Authenticate"]
    assert browser.get("/connect/userinfo").status_code == 401


# -- PKCE -----------------------------------------------------------------------------------------
def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def mobile_code(app, challenge: str, method: str = "S256") -> str:
    url = (
        f"/connect/authorize?client_id=mobile&scope=sharedo%20offline_access&response_type=code"
        f"&redirect_uri={quote(SPA_REPLY, safe='')}&code_challenge={challenge}&code_challenge_method={method}"
    )
    return query_of(sign_in(app.test_client(), url, "priya.shah").location)["code"]


def redeem(app, code: str, **extra: str):
    form = {"grant_type": "authorization_code", "client_id": "mobile", "code": code, "redirect_uri": SPA_REPLY}
    return app.test_client().post("/connect/token", data={**form, **extra})


def test_pkce_s256_for_a_public_client_and_a_wrong_verifier_is_refused(oidc_app):
    verifier, challenge = pkce_pair()
    good = redeem(oidc_app, mobile_code(oidc_app, challenge), code_verifier=verifier)
    assert good.status_code == 200 and good.json["refresh_token"]
    wrong = redeem(oidc_app, mobile_code(oidc_app, challenge), code_verifier=pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json["error"] == "invalid_grant"
    assert "does not match" in wrong.json["error_description"]
    missing = redeem(oidc_app, mobile_code(oidc_app, challenge))
    assert missing.status_code == 400 and "code_verifier is required" in missing.json["error_description"]


def test_pkce_plain_and_a_verifier_without_a_challenge_is_refused(oidc_app):
    verifier = secrets.token_urlsafe(48)
    assert redeem(oidc_app, mobile_code(oidc_app, verifier, "plain"), code_verifier=verifier).status_code == 200
    browser = oidc_app.test_client()
    reply = sign_in(browser, vue_spa_authorize_url(), "priya.shah")
    body = vue_spa_token_body(query_of(reply.location)["code"]) + f"&code_verifier={verifier}"
    downgraded = browser.post("/connect/token", data=body, headers=FORM)
    assert downgraded.status_code == 400 and "no code_challenge" in downgraded.json["error_description"]


def test_a_public_client_must_send_a_code_challenge_and_cannot_use_client_credentials(oidc_app):
    url = (
        f"/connect/authorize?client_id=mobile&scope=sharedo&response_type=code&redirect_uri={quote(SPA_REPLY)}&state=z"
    )
    refused = oidc_app.test_client().get(url)
    assert refused.status_code == 302
    assert query_of(refused.location)["error"] == "invalid_request" and query_of(refused.location)["state"] == "z"
    cc = oidc_app.test_client().post("/connect/token", data={"grant_type": "client_credentials", "client_id": "mobile"})
    assert cc.status_code in (400, 401) and cc.json["error"] in ("unauthorized_client", "invalid_client")


# -- codes: single use, short-lived, bound ----------------------------------------------------------
def test_a_code_is_single_use_and_its_replay_revokes_what_it_gave(oidc_app):
    reply = sign_in(oidc_app.test_client(), vue_spa_authorize_url(), "priya.shah")
    body = vue_spa_token_body(query_of(reply.location)["code"])
    first = oidc_app.test_client().post("/connect/token", data=body, headers=FORM)
    assert first.status_code == 200
    replay = oidc_app.test_client().post("/connect/token", data=body, headers=FORM)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    assert "already used" in replay.json["error_description"]
    assert Api(oidc_app, first.json["access_token"]).get("/api/security/userInfo").status_code == 401


def test_a_code_expires_on_the_emulators_clock(oidc_app):
    reply = sign_in(oidc_app.test_client(), vue_spa_authorize_url(), "priya.shah")
    oidc_app.extensions["operate"].clock.advance(timedelta(seconds=301))
    late = oidc_app.test_client().post(
        "/connect/token", data=vue_spa_token_body(query_of(reply.location)["code"]), headers=FORM
    )
    assert late.status_code == 400 and "expired on the emulator's clock" in late.json["error_description"]


def test_a_code_is_bound_to_its_client_and_redirect_uri(oidc_app):
    def code() -> str:
        return query_of(sign_in(oidc_app.test_client(), vue_spa_authorize_url(), "priya.shah").location)["code"]

    other_uri = vue_spa_token_body(code()).replace(quote(SPA_REPLY, safe=""), quote("http://localhost:8200/x", safe=""))
    moved = oidc_app.test_client().post("/connect/token", data=other_uri, headers=FORM)
    assert moved.status_code == 400 and "redirect_uri" in moved.json["error_description"]
    stolen = {
        "grant_type": "authorization_code",
        "code": code(),
        "redirect_uri": SPA_REPLY,
        "client_id": "time-entry",
        "client_secret": "time-secret",
    }
    other = oidc_app.test_client().post("/connect/token", data=stolen)
    assert other.status_code == 400 and "another client" in other.json["error_description"]


# -- refusals that must not redirect ---------------------------------------------------------------
@pytest.mark.parametrize(
    "query, says",
    [
        (
            f"client_id=vue-spa&response_type=code&scope=sharedo&redirect_uri={quote('https://evil.example/cb')}",
            "not registered",
        ),
        (f"client_id=vue-spa&response_type=code&scope=sharedo&redirect_uri={quote(SPA_REPLY + '/')}", "not registered"),
        (f"client_id=nobody&response_type=code&scope=sharedo&redirect_uri={quote(SPA_REPLY)}", "no client"),
        ("client_id=vue-spa&response_type=code&scope=sharedo", "redirect_uri is required"),
        (f"response_type=code&scope=sharedo&redirect_uri={quote(SPA_REPLY)}", "client_id is required"),
    ],
)
def test_an_untrusted_redirect_is_an_error_page_never_a_redirect(oidc_app, query, says):
    page = oidc_app.test_client().get(f"/connect/authorize?{query}&state=s")
    assert page.status_code == 400 and "Location" not in page.headers
    assert page.mimetype == "text/html" and says in page.text


@pytest.mark.parametrize(
    "query, error",
    [
        ("client_id=vue-spa&response_type=code_id&scope=sharedo", "unsupported_response_type"),
        ("client_id=vue-spa&scope=sharedo", "invalid_request"),
        ("client_id=vue-spa&response_type=code&scope=sharedo%20admin", "invalid_scope"),
        ("client_id=vue-spa&response_type=code", "invalid_scope"),
        ("client_id=vue-spa&response_type=token&scope=sharedo", "unauthorized_client"),
        ("client_id=vue-spa&response_type=code&scope=sharedo&code_challenge=short", "invalid_request"),
    ],
)
def test_other_authorize_errors_go_back_to_the_client_with_the_state(oidc_app, query, error):
    response = oidc_app.test_client().get(f"/connect/authorize?{query}&redirect_uri={quote(SPA_REPLY)}&state=keep")
    assert response.status_code == 302
    where = urlsplit(response.location)
    got = {k: v[0] for k, v in parse_qs(where.query or where.fragment).items()}
    assert got["error"] == error and got["state"] == "keep" and got["error_description"]


def test_end_session_checks_post_logout_redirect_uri_as_authorize_does(oidc_app):
    client = oidc_app.test_client()
    bad = client.get(
        f"/connect/endsession?client_id=time-entry&post_logout_redirect_uri={quote('https://evil.example/')}"
    )
    assert bad.status_code == 400 and "Location" not in bad.headers and "not registered" in bad.text
    anonymous = client.get(f"/connect/endsession?post_logout_redirect_uri={quote(TIME_APP + '/')}")
    assert anonymous.status_code == 400 and "Location" not in anonymous.headers
    forged = client.get("/connect/endsession?id_token_hint=a.b.c")
    assert forged.status_code == 400
    plain = client.get("/connect/endsession")
    assert plain.status_code == 200 and "Signed out" in plain.text


def test_the_sign_in_page_escapes_user_names(tmp_path):
    sol = solution_with(tmp_path)
    people = json.loads((sol / "ods" / "people.json").read_text("utf-8"))
    people.append(
        {
            "id": "1a000000-0000-4000-8000-0000000000ee",
            "firstName": "<img src=x onerror=alert(1)>",
            "surname": "O'Brien & Co",
            "isUser": True,
            "userName": '"><script>alert(2)</script>',
        }
    )
    (sol / "ods" / "people.json").write_text(json.dumps(people), "utf-8")
    app = create_app(Settings(data_dir=tmp_path / "data", solution=sol))
    try:
        page = app.test_client().get(vue_spa_authorize_url())
        assert page.status_code == 200
        assert "<script>alert(2)" not in page.text and "<img src=x" not in page.text
        assert "&lt;img src=x onerror=alert(1)&gt; O&#39;Brien &amp; Co" in page.text
        assert 'value="&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in page.text
    finally:
        app.extensions["operate"].close()


# -- operate.toml -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, says",
    [
        ('[clients.x]\nsecret = "s"\nredirect_uris = "http://localhost/cb"\n', "redirect_uris must be a list"),
        ('[clients.x]\nsecret = "s"\nredirect_uris = ["localhost/cb"]\n', "must be an absolute http(s) URL"),
        ('[clients.x]\nsecret = "s"\nredirect_uris = ["http://localhost/cb#x"]\n', "without a #fragment"),
        ('[clients.x]\nsecret = "s"\nredirect_uri = ["http://localhost/cb"]\n', "unknown key 'redirect_uri'"),
        ('[clients.x]\nsecret = "s"\ngrants = ["password"]\n', "unknown grant 'password'"),
    ],
)
def test_client_keys_are_checked_when_the_solution_loads(tmp_path, extra, says):
    with pytest.raises(SolutionError, match=re.escape(says)):
        create_app(Settings(data_dir=tmp_path / "data", solution=solution_with(tmp_path, extra)))


def test_cors_lets_a_registered_origin_call_the_token_endpoint_and_the_api(oidc_app):
    client = oidc_app.test_client()
    preflight = client.options(
        "/api/security/userInfo",
        headers={
            "Origin": "http://localhost:8200",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:8200"
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization"
    other = client.post("/connect/token", data={}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


# -- in a browser: the vue-spa sample's own code, unmodified ----------------------------------------
SPA_FILES = OFFICIAL / "sharedo-auth-samples"
IMPORTS = {
    "vue": "/shim/vue.js",  # the only stand-in: authcode.js and router.js use vue's reactive() as a plain object
    **{
        f"/authCode/vue-spa/{name}": f"/authCode/vue-spa/{name}.js"  # vite resolves imports without ".js"
        for name in ("settings", "router", "service/authcode", "service/fetchWrapper")
    },
}


def spa_page(identity: str) -> str:
    env = {"IDENTITY": identity, "API": identity, "CLIENTID": "vue-spa", "CLIENTSECRET": "vue-secret"}
    return f"""<!doctype html><html><head><meta charset="utf-8">
<script>window.process = {{ env: {json.dumps(env)} }};</script>
<script type="importmap">{json.dumps({"imports": IMPORTS})}</script></head><body>
<script type="module">
import {{ auth, initialise, getNewTokens, logout }} from "/authCode/vue-spa/service/authcode.js";
import {{ profile, loadProfile }} from "/authCode/vue-spa/service/profile.js";
window.spa = {{ auth, profile, getNewTokens, logout }};
initialise().then(loadProfile).then(
    () => {{ document.body.dataset.signedIn = profile.name; }},
    (e) => {{ document.body.dataset.failed = String(e); }});
</script></body></html>"""


def test_the_vue_spa_sample_signs_in_through_the_page_in_a_browser(oidc_app, spa_browser):
    """The sample's authcode.js, profile.js, fetchWrapper.js, router.js and settings.js run as shipped, on the
    origin of its settings' redirectUri (served by the browser context, not a socket), against the served emulator."""
    from tests.helpers.loopback import serving

    with serving(oidc_app) as identity:
        context = spa_browser.new_context()
        try:

            def spa(route) -> None:
                path = urlsplit(route.request.url).path
                if path == "/shim/vue.js":
                    route.fulfill(body="export function reactive(o) { return o; }", content_type="text/javascript")
                elif path.endswith(".js") and (SPA_FILES / path.lstrip("/")).is_file():
                    route.fulfill(
                        body=(SPA_FILES / path.lstrip("/")).read_text("utf-8"), content_type="text/javascript"
                    )
                else:
                    route.fulfill(body=spa_page(identity), content_type="text/html")

            context.route(f"{SPA_ORIGIN}/**", spa)
            page = context.new_page()
            errors: list[str] = []
            diagnostics: list[str] = []  # what the network said, for a failure's message
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: diagnostics.append(f"{r.method} {r.url}: {r.failure}"))
            page.on("console", lambda m: diagnostics.append(m.text) if m.type == "error" else None)
            page.goto(f"{SPA_ORIGIN}/tasks")
            page.wait_for_url(f"{identity}/connect/authorize?**")
            assert "This is a local emulator, not a tenant." in page.inner_text("main")
            page.get_by_role("button", name="Priya Shah").click()
            page.wait_for_selector("body[data-signed-in], body[data-failed]", state="attached", timeout=15_000)
            assert page.evaluate("document.body.dataset.failed") is None, "\n".join(errors + diagnostics)
            assert page.evaluate("document.body.dataset.signedIn") == "Priya Shah"
            assert page.url == f"{SPA_ORIGIN}/tasks"  # router.setPath(state)
            first = page.evaluate("spa.auth.accessToken")
            renewed = page.evaluate("spa.getNewTokens()")
            assert renewed and renewed != first
            me = Api(oidc_app, renewed).get("/api/security/userInfo").json
            assert me["userName"] == "priya.shah" and me["clientId"] == "vue-spa"
            page.evaluate("spa.logout()")
            assert page.evaluate("spa.auth.accessToken") is None
            assert Api(oidc_app, renewed).get("/api/security/userInfo").status_code == 401
            assert not errors
        finally:
            context.close()


# -- the harness signs in through the flow ---------------------------------------------------------


def test_the_harness_signs_in_by_the_code_flow_and_its_pages_use_that_token(app):
    browser = app.test_client()
    done = harness_sign_in(browser, "tom.becker", f"/widgets/{WIP}?scenario=ok")
    assert done.status_code == 302 and done.location == f"/widgets/{WIP}?scenario=ok"
    page = browser.get(done.location)
    assert page.status_code == 200 and "Signed in to the emulator as tom.becker" in page.text
    session = boot_of(page.text)["session"]
    assert session["user"] == "tom.becker"
    me = Api(app, session["token"]).get("/api/security/userInfo").json
    assert me["userName"] == "tom.becker" and me["clientId"] == "operate-portal"
    assert me["globalPermissions"] == ["core.sharedo.read"]  # the user's own permissions apply
    # an explicit ?user= still wins (the tests' shortcut), with a token of its own
    other = boot_of(browser.get(f"/widgets/{WIP}?scenario=ok&user=priya.shah").text)["session"]
    assert other["user"] == "priya.shah" and other["token"] != session["token"]

    # the access token runs out on the clock: the page renews it with the refresh token from the sign-in
    app.extensions["operate"].clock.advance(timedelta(seconds=901))
    renewed = browser.get("/_harness/session?user=tom.becker")
    assert renewed.status_code == 200 and renewed.json["token"] != session["token"]
    assert Api(app, renewed.json["token"]).get("/api/security/userInfo").json["userName"] == "tom.becker"

    out = browser.get("/_harness/signout")
    assert out.status_code == 302 and out.location.startswith("/connect/endsession?")
    ended = browser.get(out.location)
    assert ended.status_code == 302 and ended.location == "http://localhost/widgets"
    assert Api(app, renewed.json["token"]).get("/api/security/userInfo").status_code == 401
    after = browser.get(f"/widgets/{WIP}?scenario=ok")
    assert "Signed in to the emulator" not in after.text and ">Sign in</a>" in after.text


def test_the_harness_sign_in_refuses_a_foreign_state_and_an_offsite_next(app):
    browser = app.test_client()
    done = harness_sign_in(browser, "priya.shah", "//evil.example/x")
    assert done.status_code == 302 and done.location == "/widgets"
    forged = app.test_client().get("/_harness/callback?code=x&state=y")
    assert forged.status_code == 400 and "state does not match" in forged.text


def test_signing_in_to_the_harness_in_a_browser(operate, harness_page):
    page = harness_page.page
    page.goto(f"{harness_page.base_url}/_harness/signin?next={quote(f'/widgets/{WIP}?scenario=ok', safe='')}")
    assert "This is a local emulator, not a tenant." in page.inner_text("main")
    page.get_by_role("button", name="Daniel Okafor").click()
    page.wait_for_url(f"{harness_page.base_url}/widgets/{WIP}?scenario=ok")
    harness_page.wait_bound()
    assert "Signed in to the emulator as daniel.okafor" in page.inner_text("nav")
    assert page.evaluate("JSON.parse(document.getElementById('operate-boot').textContent).session.user") == (
        "daniel.okafor"
    )
    assert "Total WIP" in harness_page.text()
    harness_page.assert_no_console_errors()
