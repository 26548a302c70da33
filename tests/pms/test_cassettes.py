"""Cassettes: a firm's real PMS answers recorded once through the linked-service proxy, replayed offline.

The "real" PMS is a foreign ledger API this emulator knows nothing of (its own paths, its own key header, an
OAuth token endpoint, a session cookie), served on a loopback port. It is recorded through the proxy by a
plan's `sharedo.http` and by direct proxy calls, then stopped; the same plan and a widget in Chromium are then
answered from the cassette alone. The cassette holds no secret; an unrecorded request fails naming the
nearest recorded one; the size limits hold; a refresh records again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask, jsonify, request

from smartplans.testing import harness, solution_from_demo, trigger
from tests.helpers.loopback import serving
from tests.helpers.paths import FIXTURES

LEDGER_KEY = "ledger-key-7f3a9c2e51"  # the foreign API's key, injected by the proxy as X-Ledger-Key
CLIENT_SECRET = "ledger-client-secret-44b1"  # the OAuth client secret of the second service
ACCESS_TOKEN = "lat-91c2e7a0d6f84b35"  # the bearer token the foreign token endpoint hands out
SESSION = "sess-0e5d77a1c9"  # a session cookie it sets
MATTER = "3c000000-0000-4000-8000-000000000010"
BALANCE = "/ledger/v3/clients/C-104/balances"

PLAN = """
function main(ev, ctx, log) {
  var got = sharedo.http.get("/api/proxy/ledger/_/ledger/v3/clients/C-104/balances?currency=GBP");
  ctx.status = got.status;
  ctx.success = got.success;
  if (got.success) { ctx.outstanding = got.body.balances[0].outstanding; ctx.title = got.body.title; }
  else { ctx.problem = JSON.stringify(got.body); }
}
return { main: main };
"""


def foreign_ledger() -> Flask:
    """A firm's ledger API, unknown to the emulator: X-Ledger-Key on every call, or a bearer token from
    its own /oauth/token. It echoes the key in its answers and sets a session cookie (both must be redacted)."""
    app = Flask("foreign-ledger")
    app.config["outstanding"] = "1647.50"

    def allowed() -> bool:
        return (
            request.headers.get("X-Ledger-Key") == LEDGER_KEY
            or request.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"
        )

    @app.post("/oauth/token")
    def token():
        if request.authorization is None or request.authorization.password != CLIENT_SECRET:
            return jsonify(error="invalid_client"), 401
        return jsonify(access_token=ACCESS_TOKEN, token_type="Bearer", expires_in=3600)

    @app.get("/ledger/v3/clients/<ref>/balances")
    def balances(ref: str):
        if not allowed():
            return jsonify(fault={"code": "LEDGER-401", "text": "key missing"}), 401
        answer = jsonify(
            title=f"Ledger of {ref}",
            client={"ref": ref, "currency": request.args.get("currency")},
            balances=[{"kind": "unbilled", "outstanding": app.config["outstanding"]}],
            requestedWith=request.headers.get("X-Ledger-Key") or request.headers.get("Authorization"),
            accountNumber="GB29NWBK60161331926819",
        )
        answer.set_cookie("ledger_session", SESSION)
        return answer

    @app.get("/ledger/v3/pad")
    def pad():
        if not allowed():
            return jsonify(fault={"code": "LEDGER-401"}), 401
        return jsonify(pad="x" * int(request.args.get("n", "10")))

    return app


def toml(port: int, mode: str, small: bool = True) -> str:
    """The two services on the foreign ledger: `ledger` (key) and `ledger-oauth` (client credentials)."""
    ledger = (
        f'cassette = {{ path = "cassettes/ledger", mode = "{mode}" }}'
        if mode != "replay"
        else 'replay = "cassettes/ledger"'
    )
    text = f"""
[linked_services.ledger]
base_url = "http://127.0.0.1:{port}"
auth = "api-key"
api_key_header = "X-Ledger-Key"
api_key_env = "LEDGER_TEST_KEY"
redact = ["accountNumber"]
{ledger}

[linked_services.ledger-oauth]
base_url = "http://127.0.0.1:{port}"
auth = "oauth2-client-credentials"
token_url = "http://127.0.0.1:{port}/oauth/token"
client_id = "operate"
client_secret_env = "LEDGER_TEST_SECRET"
cassette = {{ path = "cassettes/ledger-oauth", mode = "{"replay" if mode == "replay" else "record"}" }}
"""
    if small:
        text += f"""
[linked_services.ledger-small]
base_url = "http://127.0.0.1:{port}"
auth = "api-key"
api_key_header = "X-Ledger-Key"
api_key_env = "LEDGER_TEST_KEY"
cassette = {{ path = "cassettes/small", mode = "record", max_interaction_kb = 2, max_cassette_kb = 3 }}
"""
    return text


def with_lookalike(root: Path) -> Path:
    shutil.copytree(FIXTURES / "lookalikes" / "widget-ledger-balance", root / "_IDE" / "LedgerBalance")
    return root


def texts_of(folder: Path) -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[dict[str, Any]]:
    """The foreign ledger recorded through the proxy (a plan's sharedo.http, proxy calls), then stopped:
    the replay solution holds the cassettes and no key."""
    mp = pytest.MonkeyPatch()
    mp.setenv("LEDGER_TEST_KEY", LEDGER_KEY)
    mp.setenv("LEDGER_TEST_SECRET", CLIENT_SECRET)
    base = tmp_path_factory.mktemp("cassettes")
    ledger = foreign_ledger()
    plans = {"ledger-balance": PLAN}
    triggers = [trigger("ledger-balance", phases=["matter-open"])]
    try:
        with serving(ledger) as url:
            port = int(url.rsplit(":", 1)[1])
            recording = solution_from_demo(base / "recording", plans, triggers, toml=toml(port, "record"))
            operate = harness(pytestconfig, recording)
            operate.move(MATTER, "matter-open")
            run = operate.assert_execution("ledger-balance", state="STOPPED")
            api = operate.api()
            oauth = api.get("/api/proxy/ledger-oauth/_/ledger/v3/clients/C-7/balances?currency=EUR")
            operate.emulator.linked_services.forget_token("ledger-oauth")  # a new token for the next call
            oauth_again = api.get("/api/proxy/ledger-oauth/_/ledger/v3/clients/C-8/balances?currency=EUR")
            big = api.get("/api/proxy/ledger-small/_/ledger/v3/pad?n=3000")
            fits = api.get("/api/proxy/ledger-small/_/ledger/v3/pad?n=1400")
            overflows = api.get("/api/proxy/ledger-small/_/ledger/v3/pad?n=1500")
            # record mode: a request the cassette holds is answered from it, even once the ledger has changed
            ledger.config["outstanding"] = "99.00"
            again = api.get(f"/api/proxy/ledger/_{BALANCE}?currency=GBP")
            # refresh: the same request is sent again and recorded again
            operate.emulator.linked_services.use_cassette("ledger", "refresh")
            refreshed = api.get(f"/api/proxy/ledger/_{BALANCE}?currency=GBP")
            operate.emulator.linked_services.use_cassette("ledger", "record")
            ledger.config["outstanding"] = "1647.50"
            restored = api.get(f"/api/proxy/ledger/_{BALANCE}?currency=GBP")  # record mode: the refreshed answer
            operate.emulator.linked_services.use_cassette("ledger", "refresh")
            api.get(f"/api/proxy/ledger/_{BALANCE}?currency=GBP")
        mp.delenv("LEDGER_TEST_KEY")
        mp.delenv("LEDGER_TEST_SECRET")
        replaying = solution_from_demo(base / "replaying", plans, triggers, toml=toml(port, "replay", small=False))
        shutil.copytree(recording / "cassettes", replaying / "cassettes")
        yield {
            "recording": recording,
            "replaying": with_lookalike(replaying),
            "run": run,
            "oauth": oauth,
            "oauth_again": oauth_again,
            "big": big,
            "fits": fits,
            "overflows": overflows,
            "again": again,
            "refreshed": refreshed,
            "restored": restored,
            "port": port,
        }
    finally:
        mp.undo()


@pytest.fixture
def operate(request: pytest.FixtureRequest, recorded: dict[str, Any]) -> Any:
    """The plugin's emulator, on the replaying solution (the foreign ledger is stopped by now)."""
    return harness(request.config, recorded["replaying"])


def test_the_plan_called_the_foreign_ledger_through_the_proxy_while_recording(recorded):
    ctx = recorded["run"]["ctx"]
    assert ctx["success"] is True and ctx["outstanding"] == "1647.50" and ctx["title"] == "Ledger of C-104"
    files = list((recorded["recording"] / "cassettes" / "ledger").glob("*.json"))
    assert len(files) == 1
    record = json.loads(files[0].read_text("utf-8"))
    assert record["request"] == {
        "method": "GET",
        "path": BALANCE,
        "query": [["currency", "GBP"]],
        "bodyShape": None,
    }
    assert record["response"]["status"] == 200
    assert record["response"]["json"]["balances"] == [{"kind": "unbilled", "outstanding": "1647.50"}]
    assert record["response"]["headers"]["content-type"].startswith("application/json")


def test_the_cassettes_hold_no_secret(recorded):
    text = texts_of(recorded["recording"] / "cassettes")
    for secret in (LEDGER_KEY, CLIENT_SECRET, ACCESS_TOKEN, SESSION):
        assert secret not in text
    # ledger's `redact = ["accountNumber"]`; ledger-oauth names nothing, so its cassette keeps the number
    assert "GB29NWBK60161331926819" not in texts_of(recorded["recording"] / "cassettes" / "ledger")
    assert "ledger_session" not in text  # the whole Set-Cookie header is redacted
    records = [json.loads(p.read_text("utf-8")) for p in (recorded["recording"] / "cassettes").rglob("*.json")]
    (balance_file,) = (recorded["recording"] / "cassettes" / "ledger").glob("*.json")
    balance = json.loads(balance_file.read_text("utf-8"))
    assert balance["response"]["json"]["requestedWith"] == "[redacted]"  # the echoed key, by its value
    assert balance["response"]["json"]["accountNumber"] == "[redacted]"  # redact = ["accountNumber"]
    assert balance["response"]["headers"]["set-cookie"] == "[redacted]"
    assert not [r for r in records if r["request"]["path"] == "/oauth/token"]  # the token request is not recorded
    oauth = next(r for r in records if r["request"]["path"].endswith("C-7/balances"))
    assert oauth["response"]["json"]["requestedWith"] == "[redacted]"  # the bearer header echoed


def test_the_recording_answered_the_callers_as_the_service_did(recorded):
    assert recorded["oauth"].status_code == 200
    assert recorded["oauth_again"].status_code == 200  # the token came from the service, not a cassette
    assert recorded["oauth"].json["requestedWith"] == f"Bearer {ACCESS_TOKEN}"  # the caller sees the real answer


def test_record_mode_answers_a_recorded_request_from_the_cassette_and_refresh_records_it_again(recorded):
    assert recorded["again"].json["balances"][0]["outstanding"] == "1647.50"  # the cassette, not the ledger
    assert recorded["refreshed"].json["balances"][0]["outstanding"] == "99.00"  # sent again
    assert recorded["restored"].json["balances"][0]["outstanding"] == "99.00"  # and recorded again


def test_an_answer_over_the_interaction_limit_is_not_recorded_and_says_so(recorded):
    big = recorded["big"]
    assert big.status_code == 502
    title = big.json["title"]
    assert "cassette cassettes/small: the answer to GET /ledger/v3/pad?n=3000" in title
    assert "over max_interaction_kb = 2: not recorded" in title
    assert recorded["fits"].status_code == 200


def test_a_cassette_over_its_limit_is_not_written_and_says_so(recorded):
    over = recorded["overflows"]
    assert over.status_code == 502
    assert "would take the cassette to" in over.json["title"]
    assert "over max_cassette_kb = 3: not recorded" in over.json["title"]
    names = [p.name for p in (recorded["recording"] / "cassettes" / "small").glob("*.json")]
    assert len(names) == 1 and names[0].startswith("get-ledger-v3-pad-")


def test_the_plan_replays_from_the_cassette_with_the_ledger_stopped(recorded, operate):
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{recorded['port']}/ledger/v3/pad", timeout=2)
    operate.move(MATTER, "matter-open")
    ctx = operate.assert_execution("ledger-balance", state="STOPPED")["ctx"]
    assert ctx["success"] is True and ctx["title"] == "Ledger of C-104"
    assert ctx["outstanding"] == "1647.50"  # the last refresh's answer


def test_an_unrecorded_request_fails_naming_the_nearest_recorded_one(operate):
    got = operate.api().get("/api/proxy/ledger/_/ledger/v3/clients/C-105/balances?currency=GBP")
    assert got.status_code == 502
    title = got.json["title"]
    assert "replays the cassette cassettes/ledger, which has no recorded answer for " in title
    assert "GET /ledger/v3/clients/C-105/balances?currency=GBP" in title
    assert f"nearest recorded: GET {BALANCE}?currency=GBP" in title
    posted = operate.api().post(f"/api/proxy/ledger/_{BALANCE}", json={"amount": 1})
    assert posted.status_code == 502 and "no recorded answer for POST" in posted.json["title"]


def test_replay_needs_no_credentials_and_replays_the_oauth_service_too(operate):
    got = operate.api().get("/api/proxy/ledger-oauth/_/ledger/v3/clients/C-7/balances?currency=EUR")
    assert got.status_code == 200 and got.json["client"] == {"ref": "C-7", "currency": "EUR"}


def test_a_widget_in_chromium_shows_the_replayed_ledger(recorded, widget_page):
    page = widget_page("Lookalike.LedgerBalance", work_item=MATTER)
    text = page.widget().inner_text()
    assert "Ledger of C-104" in text and "1647.50" in text
    page.assert_no_console_errors()


def test_a_widgets_unrecorded_call_fails_loudly_in_the_console(recorded, widget_page):
    page = widget_page("Lookalike.LedgerBalance", work_item=MATTER, config={"client": "C-999"})
    assert "could not load: 502" in page.widget().inner_text()
    errors = [e["text"] for e in page.harness_log("error")]
    assert any("/api/proxy/ledger/_/ledger/v3/clients/C-999/balances" in e and "502" in e for e in errors), errors


def test_a_bad_cassette_setting_names_the_key(tmp_path):
    from emulator.linked_services import LinkedServiceError, parse_services

    def problem(table: dict[str, Any]) -> str:
        with pytest.raises(LinkedServiceError) as caught:
            parse_services({"linked_services": {"ledger": {"base_url": "http://127.0.0.1:1", **table}}})
        return str(caught.value)

    assert "cassette.mode must be one of ['replay', 'record', 'refresh'], not 'play'" in problem(
        {"cassette": {"mode": "play"}}
    )
    assert "set replay or cassette, not both" in problem({"replay": "c", "cassette": {"mode": "record"}})
    assert "cassette.max_cassette_kb must be a whole number" in problem({"cassette": {"max_cassette_kb": 0}})
    assert "redact must be a list" in problem({"redact": "Authorization"})
    assert problem({"cassette": {"paht": "x"}}).endswith(
        "unknown keys ['paht']; known: path, mode, max_interaction_kb, max_cassette_kb"
    )


@contextmanager
def operate_process(*args: str, env: dict[str, str]) -> Iterator[tuple[str, list[str], Any]]:
    """`operate ARGS --port 0` in a process of its own: its URL, the banner's lines and a proxy GET with a
    demo-client token; stopped with SIGTERM."""
    command = [sys.executable, "-m", "emulator.cli", *args, "--port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines: list[str] = []
        while not any("ready on" in line for line in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        served = next(line for line in lines if "ready on" in line).split("ready on ")[1].split()[0]
        token = httpx.post(
            f"{served}/connect/token",
            data={"grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "demo-secret"},
        ).json()["access_token"]

        def get(path: str, **params: str) -> httpx.Response:
            return httpx.get(f"{served}{path}", params=params, headers={"Authorization": f"Bearer {token}"})

        yield served, lines, get
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_operate_record_records_a_service_and_operate_serve_replays_it_with_the_service_stopped(tmp_path):
    ledger = foreign_ledger()
    with serving(ledger) as url:
        port = int(url.rsplit(":", 1)[1])
        text = toml(port, "replay", small=False).replace('replay = "cassettes/ledger"', 'require_permission = ""')
        root = solution_from_demo(tmp_path / "solution", toml=text)
        env = {**os.environ, "LEDGER_TEST_KEY": LEDGER_KEY, "LEDGER_TEST_SECRET": CLIENT_SECRET}
        data = ["--solution", str(root), "--data-dir", str(tmp_path / "data")]
        with operate_process("record", "ledger", *data, env=env) as (_, lines, get):
            assert f"recording linked service 'ledger' into {root / 'cassettes' / 'ledger'} (mode record)" in lines[0]
            got = get(f"/api/proxy/ledger/_{BALANCE}", currency="USD")
            assert got.status_code == 200 and got.json()["client"]["currency"] == "USD"
    files = list((root / "cassettes" / "ledger").glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text("utf-8"))["request"]["query"] == [["currency", "USD"]]
    assert LEDGER_KEY not in files[0].read_text("utf-8")
    config = root / "operate.toml"
    config.write_text(
        config.read_text("utf-8").replace(
            'require_permission = ""', 'require_permission = ""\nreplay = "cassettes/ledger"'
        ),
        "utf-8",
    )
    without_secrets = {k: v for k, v in env.items() if not k.startswith("LEDGER_TEST_")}
    with operate_process("serve", *data, env=without_secrets) as (_, _, get):
        replayed = get(f"/api/proxy/ledger/_{BALANCE}", currency="USD")
        assert replayed.status_code == 200 and replayed.json()["client"] == {"ref": "C-104", "currency": "USD"}
        missed = get(f"/api/proxy/ledger/_{BALANCE}", currency="EUR")
        assert missed.status_code == 502
        assert f"nearest recorded: GET {BALANCE}?currency=USD" in missed.json()["title"]


def test_an_adapter_meets_a_cassette_miss_as_a_pms_error_naming_the_nearest(tmp_path):
    from emulator.integrations.pms_parts import PMS_PARTS
    from emulator.linked_services import LinkedServices, parse_services
    from pms_adapters.base import PmsError

    folder = tmp_path / "cassettes" / "firm"
    folder.mkdir(parents=True)
    (folder / "get-api-matters-PMS-1.json").write_text(
        json.dumps(
            {
                "request": {"method": "GET", "path": "/api/matters/PMS-1", "query": [], "bodyShape": None},
                "response": {"status": 200, "headers": {}, "json": {"pmsReference": "PMS-1"}},
            }
        ),
        "utf-8",
    )
    config = {"linked_services": {"firm": {"base_url": "http://127.0.0.1:9", "adapter": "demo", "replay": str(folder)}}}
    services = LinkedServices(parse_services(config, PMS_PARTS.adapter_names), pms=PMS_PARTS, root=tmp_path)
    with pytest.raises(PmsError) as caught:
        services.adapter("firm").get_matter("PMS-2")
    assert "no recorded answer for GET /api/matters/PMS-2; nearest recorded: GET /api/matters/PMS-1" in str(
        caught.value
    )


def test_a_broken_cassette_file_is_named_not_a_500(operate, recorded):
    folder = recorded["replaying"] / "cassettes" / "ledger"
    broken = folder / "get-broken.json"
    broken.write_text('{"request": {"method": "GET"', "utf-8")
    try:
        got = operate.api().get("/api/proxy/ledger/_/ledger/v3/clients/C-404/balances")
    finally:
        broken.unlink()
    assert got.status_code == 502
    assert "cassette cassettes/ledger: get-broken.json is not a recorded request" in got.json["title"]
