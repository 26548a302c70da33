import base64
from datetime import timedelta

import pytest

from tests.conftest import OPEN_MATTER, Api, client_token, user_token


def token_response(app, data, auth=("demo-client", "demo-secret"), headers=None):
    return app.test_client().post("/connect/token", data=data, auth=auth, headers=headers)


def test_client_credentials_by_basic_auth_and_by_form_fields(app):
    basic = token_response(app, {"grant_type": "client_credentials", "scope": "sharedo"})
    assert basic.status_code == 200
    assert basic.json["token_type"] == "Bearer" and basic.json["expires_in"] == 900
    assert "refresh_token" not in basic.json
    form = token_response(
        app,
        {
            "grant_type": "client_credentials",
            "scope": "sharedo",
            "client_id": "demo-client",
            "client_secret": "demo-secret",
        },
        auth=None,
    )
    assert form.status_code == 200 and form.json["access_token"] != basic.json["access_token"]


@pytest.mark.parametrize(
    "data, auth, status, error",
    [
        ({"grant_type": "client_credentials", "scope": "sharedo"}, ("demo-client", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "sharedo"}, ("nobody", "x"), 401, "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "sharedo"}, None, 401, "invalid_client"),
        ({"scope": "sharedo"}, ("demo-client", "demo-secret"), 400, "invalid_request"),
        ({"grant_type": "password", "scope": "sharedo"}, ("demo-client", "demo-secret"), 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "openid"}, ("demo-client", "demo-secret"), 400, "invalid_scope"),
        (
            {"grant_type": "Impersonate.Specified", "scope": "sharedo"},
            ("demo-client", "demo-secret"),
            400,
            "invalid_request",
        ),
        (
            {"grant_type": "Impersonate.Specified", "scope": "sharedo", "impersonate_user": "nobody"},
            ("demo-client", "demo-secret"),
            400,
            "invalid_grant",
        ),
        (
            {"grant_type": "refresh_token", "refresh_token": "forged"},
            ("demo-client", "demo-secret"),
            400,
            "invalid_grant",
        ),
    ],
)
def test_token_errors_follow_rfc_6749(app, data, auth, status, error):
    response = token_response(app, data, auth=auth)
    assert response.status_code == status
    assert response.json["error"] == error
    assert response.json["error_description"]


def test_malformed_basic_header_is_invalid_client(app):
    response = app.test_client().post(
        "/connect/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!not-base64"}
    )
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_ee_app_cannot_get_a_token_over_http(app):
    response = token_response(app, {"grant_type": "client_credentials", "scope": "sharedo"}, auth=("ee-app", ""))
    assert response.status_code == 401


def test_every_api_route_needs_a_bearer_token(app):
    anonymous = Api(app, None)
    for method, path in [
        ("GET", f"/api/v1/public/workItem/{OPEN_MATTER}"),
        ("GET", "/api/security/userInfo"),
        ("POST", "/api/v1/public/workItem/findByQuery"),
        ("GET", "/api/_emulator/events"),
        ("POST", "/api/ods/_search"),
        ("POST", "/api/_emulator/reset"),
    ]:
        response = anonymous.request(method, path, json={})
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "bearer token" in response.json["title"]
    assert anonymous.get("/api/_emulator/health").status_code == 200


def test_a_forged_token_is_401(app):
    response = Api(app, "not-a-real-token").get(f"/api/v1/public/workItem/{OPEN_MATTER}")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_tokens_expire_on_the_emulator_clock(app, em):
    api = Api(app, client_token(app))
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}").status_code == 200
    em.clock.advance(timedelta(seconds=899))
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}").status_code == 200
    em.clock.advance(timedelta(seconds=2))
    assert api.get(f"/api/v1/public/workItem/{OPEN_MATTER}").status_code == 401


def test_user_info_for_a_client_token(api):
    info = api.get("/api/security/userInfo").json
    assert info["isAuthenticated"] is True and info["clientId"] == "demo-client"
    assert info["userId"] is None and info["userName"] is None
    assert "core.sharedo.update" in info["globalPermissions"]


def test_impersonation_gives_the_users_identity_and_a_refresh_token(app):
    response = token_response(
        app,
        {
            "grant_type": "Impersonate.Specified",
            "scope": "sharedo",
            "impersonate_user": "Priya.Shah",
            "impersonate_provider": "idsrv",
        },
    )
    assert response.status_code == 200
    info = Api(app, response.json["access_token"]).get("/api/security/userInfo").json
    assert (info["userName"], info["fullName"], info["provider"]) == ("priya.shah", "Priya Shah", "idsrv")
    assert info["userId"] == "1a000000-0000-4000-8000-000000000001"

    refresh = response.json["refresh_token"]
    renewed = token_response(app, {"grant_type": "refresh_token", "refresh_token": refresh})
    assert renewed.status_code == 200
    assert Api(app, renewed.json["access_token"]).get("/api/security/userInfo").json["userName"] == "priya.shah"
    reused = token_response(app, {"grant_type": "refresh_token", "refresh_token": refresh})
    assert reused.status_code == 400 and reused.json["error"] == "invalid_grant"


def test_a_user_without_a_permission_gets_403_naming_it(app):
    paralegal = Api(app, user_token(app, "tom.becker"))
    assert paralegal.get(f"/api/v1/public/workItem/{OPEN_MATTER}").status_code == 200
    response = paralegal.put(f"/api/v1/public/workItem/{OPEN_MATTER}/phase", {"toPhaseSystemName": "matter-closed"})
    assert response.status_code == 403
    assert "tom.becker" in response.json["title"] and "core.sharedo.update" in response.json["title"]
    created = paralegal.post("/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": "task", "title": "t"}})
    assert created.status_code == 403
    assert paralegal.post("/api/_emulator/reset").status_code == 403


def test_revocation_ends_a_token(app):
    token = client_token(app)
    client = app.test_client()
    assert (
        client.post("/connect/revocation", data={"token": token}, auth=("demo-client", "demo-secret")).status_code
        == 200
    )
    assert Api(app, token).get("/api/security/userInfo").status_code == 401


def test_solution_clients_come_from_operate_toml(tmp_path):
    from emulator.app import create_app
    from emulator.settings import Settings

    (tmp_path / "sol").mkdir()
    (tmp_path / "sol" / "operate.toml").write_text(
        '[clients.portal]\nsecret = "s3"\ngrants = ["client_credentials"]\npermissions = ["core.sharedo.read"]\n'
    )
    app = create_app(Settings(data_dir=tmp_path / "data", solution=tmp_path / "sol"))
    auth = base64.b64encode(b"portal:s3").decode()
    response = app.test_client().post(
        "/connect/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {auth}"}
    )
    assert response.status_code == 200
    info = Api(app, response.json["access_token"]).get("/api/security/userInfo").json
    assert info["globalPermissions"] == ["core.sharedo.read"]
    app.extensions["operate"].close()


def test_impersonate_fixed_uses_the_user_the_client_names(tmp_path):
    import shutil

    from emulator.app import create_app
    from emulator.settings import Settings
    from emulator.solution.loading import demo_solution_path

    sol = tmp_path / "sol"
    shutil.copytree(demo_solution_path(), sol)
    with (sol / "operate.toml").open("a") as f:
        f.write(
            '\n[clients.outlook]\nsecret = "o"\ngrants = ["Impersonate.Fixed"]\nuser = "hannah.whitfield"\n'
            "permissions = []\n"
        )
    app = create_app(Settings(data_dir=tmp_path / "data", solution=sol))
    response = token_response(app, {"grant_type": "Impersonate.Fixed", "scope": "sharedo"}, auth=("outlook", "o"))
    assert response.status_code == 200
    info = Api(app, response.json["access_token"]).get("/api/security/userInfo").json
    assert info["userName"] == "hannah.whitfield" and info["clientId"] == "outlook"
    refused = token_response(app, {"grant_type": "client_credentials", "scope": "sharedo"}, auth=("outlook", "o"))
    assert refused.status_code == 400 and refused.json["error"] == "unauthorized_client"
    app.extensions["operate"].close()


def test_a_secret_that_is_not_ascii_is_a_wrong_secret_not_a_server_error(app):
    client = app.test_client()
    form = {"grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "dëmo-sécret"}
    response = client.post("/connect/token", data=form)
    assert response.status_code == 401 and response.json["error"] == "invalid_client"
    basic = base64.b64encode("demo-client:sécret".encode()).decode()
    response = client.post(
        "/connect/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_a_client_cannot_revoke_another_clients_token(tmp_path):
    from emulator.app import create_app
    from emulator.settings import Settings

    (tmp_path / "sol").mkdir()
    (tmp_path / "sol" / "operate.toml").write_text(
        '[clients.other]\nsecret = "s3"\ngrants = ["client_credentials"]\npermissions = ["core.sharedo.read"]\n'
    )
    app = create_app(Settings(data_dir=tmp_path / "data", solution=tmp_path / "sol"))
    try:
        victim = client_token(app)  # demo-client's
        revoked = app.test_client().post("/connect/revocation", data={"token": victim}, auth=("other", "s3"))
        assert revoked.status_code == 200  # RFC 7009: the answer does not tell whether the token existed
        assert Api(app, victim).get("/api/security/userInfo").status_code == 200  # still works
        own = app.test_client().post("/connect/token", data={"grant_type": "client_credentials"}, auth=("other", "s3"))
        token = own.json["access_token"]
        assert (
            app.test_client().post("/connect/revocation", data={"token": token}, auth=("other", "s3")).status_code
            == 200
        )
        assert Api(app, token).get("/api/security/userInfo").status_code == 401
    finally:
        app.extensions["operate"].close()


def test_a_token_that_ran_out_with_a_clock_move_says_so_in_the_401(tmp_path):
    from emulator.app import create_app
    from emulator.settings import Settings
    from tests.conftest import START

    app = create_app(Settings(data_dir=tmp_path / "d", demo=True, clock="virtual", clock_start=START))
    try:
        token = client_token(app)
        control = Api(app, token)
        assert control.post("/api/_emulator/clock", {"advance": "P2D"}).status_code == 200
        response = Api(app, token).get("/api/security/userInfo")
        assert response.status_code == 401
        title = response.json["title"]
        assert (
            "expired on the emulator's clock at 2026-01-05T09:15:00" in title and "the clock is now 2026-01-07" in title
        )
        unknown = Api(app, "no-such-token").get("/api/security/userInfo")
        assert unknown.status_code == 401 and "unknown" in unknown.json["title"]
    finally:
        app.extensions["operate"].close()
