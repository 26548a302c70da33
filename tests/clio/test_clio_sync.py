"""The Clio integration as the seed describes it, against the in-process fake Clio on the virtual clock:
connect over OAuth, first and later syncs with their windows, upsert by integration ID, the required fields,
stage mapping, Individual Case, the nightly run and who may turn it on, pushes of messages and documents
(never twice, also when the answer to a step is lost), and the faults (429, 5xx, a revoked grant).
Every answer the fake gives is checked against Clio's OpenAPI document."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx
import pytest

from emulator.app import create_app
from emulator.kernel.clock import parse_instant
from emulator.settings import Settings
from tests.conftest import START
from tests.helpers.clio_sync import CLIO, api_as, connect, expected_outcome, imported_matter
from tests.helpers.mail import solution_with_mail, start_smtp
from tests.helpers.paths import ROOT
from tests.helpers.web_support import sign_in


def items_by_clio_id(em) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    with em.store.read() as conn:
        for row in conn.execute("SELECT work_item_id, value FROM attributes WHERE name='clioIntegrationId'"):
            out.setdefault(int(row["value"]), []).append(row["work_item_id"])
    return out


def test_connect_shows_user_and_firm_and_keeps_the_tokens_out_of_everything_shown(env):
    app, em = env
    status, page = connect(app)
    assert status == 200 and b"Clio is connected" in page and b"Harbourvale LLP" in page
    shown = api_as(app, "priya.shah").get(CLIO).json
    assert shown["state"] == "connected" and shown["firm"] == "Harbourvale LLP"
    assert shown["user"] == {"name": "Priya Shah", "email": "priya.shah@harbourvale.example"}
    assert shown["connectedBy"] == "priya.shah"
    [token] = [t.access_token for t in em.clio.fake.tokens.values()]
    exported = json.dumps(em.export())
    events = json.dumps(api_as(app, "priya.shah").get("/api/_emulator/events?rowsPerPage=500").json)
    for text in (json.dumps(shown), exported, events, page.decode()):
        assert token not in text
    assert "integration_secrets" not in em.export()["tables"]


def test_deny_and_a_forged_state_leave_it_not_connected_with_the_reason(env):
    app, em = env
    status, page = connect(app, decision="deny")
    assert status == 400 and b"access was denied in Clio" in page
    forged = app.test_client().get("/integrations/clio/callback?code=abc&state=not-ours")
    assert forged.status_code == 400 and b"does not belong to a connect started here" in forged.data
    assert api_as(app, "priya.shah").get(CLIO).json["state"] == "not-connected"


def test_only_an_administrator_connects_or_turns_the_nightly_sync_on(env):
    app, _ = env
    daniel = api_as(app, "daniel.okafor")
    assert daniel.post(f"{CLIO}/connect", {}).status_code == 403
    refused = daniel.put(f"{CLIO}/nightly", {"enabled": True})
    assert refused.status_code == 403 and "core.integrations.manage" in refused.json["title"]
    assert daniel.get(CLIO).json["nightly"] is False  # the setting is shown to who may sync
    priya = api_as(app, "priya.shah")
    assert priya.put(f"{CLIO}/nightly", {"enabled": True}).json["nightly"] is True
    assert priya.put(f"{CLIO}/nightly", {"enabled": "yes"}).status_code == 400


def test_first_sync_imports_the_last_ten_years_by_the_rules_and_a_second_sync_duplicates_nothing(env):
    app, em = env
    connect(app)
    priya = api_as(app, "priya.shah")
    run = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert run["state"] == "done" and run["first"] is True
    window = em.clock.now().replace(year=em.clock.now().year - 10)  # ten calendar years
    assert parse_instant(run["windowFrom"]) == window.replace(microsecond=window.microsecond // 1000 * 1000)
    rows = {r["clioId"]: r for r in priya.get(f"{CLIO}/runs/{run['id']}/results").json["rows"]}
    in_window = {m["id"]: m for m in em.clio.fake.matters.values() if parse_instant(m["updated_at"]) > window}
    assert set(rows) == set(in_window) and len(in_window) < len(em.clio.fake.matters)  # some are older
    for clio_id, matter in in_window.items():
        expected = expected_outcome(em, matter)
        got = rows[clio_id]
        assert got["result"] == expected.split(":")[0], (clio_id, got, expected)
        if ":" in expected:
            assert expected.split(": ")[1] in got["reason"], got
    imported = {i for i, r in rows.items() if r["result"] == "imported"}
    assert imported and set(items_by_clio_id(em)) == imported
    # The matter carries its integration ID, client and attorney; its phase is the mapped stage's.
    some = next(iter(imported))
    item = priya.get(f"/api/v1/public/workItem/{rows[some]['workItemId']}").json
    attrs = priya.get(f"/api/v1/public/workItem/{rows[some]['workItemId']}/attributes").json
    assert str(some) in json.dumps(attrs)
    assert item["workItem"]["reference"] == em.clio.fake.matters[some]["display_number"]

    again = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert again["first"] is False
    assert parse_instant(again["windowFrom"]) > em.clock.now() - timedelta(days=31)
    assert all(len(ids) == 1 for ids in items_by_clio_id(em).values())


def test_a_later_sync_takes_only_the_last_thirty_days_and_a_stage_change_moves_the_phase(env):
    app, em = env
    connect(app)
    priya = api_as(app, "priya.shah")
    first = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    rows = priya.get(f"{CLIO}/runs/{first['id']}/results").json["rows"]
    imported = [r for r in rows if r["result"] == "imported"]
    target = next(r for r in imported if em.clio.fake.matters[r["clioId"]]["matter_stage"] is not None)
    matter = em.clio.fake.matters[target["clioId"]]
    area = matter["practice_area"]["id"]
    stages = [s["name"] for s in em.clio.fake.matter_stages.values() if s["practice_area_id"] == str(area)]
    mapping = em.clio.mappings.get()["stages"]
    current = priya.get(f"/api/v1/public/workItem/{target['workItemId']}").json["workItem"]["phaseSystemName"]
    new_stage = next(s for s in stages if s in mapping and mapping[s] != current)
    em.clock.advance(timedelta(days=1))
    em.clio.fake.set_stage(target["clioId"], new_stage)
    last_event = em.stream.last_number()

    later = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    later_rows = priya.get(f"{CLIO}/runs/{later['id']}/results").json["rows"]
    assert [r["clioId"] for r in later_rows if r["result"] == "updated"] == [target["clioId"]]
    recent = {m["id"] for m in em.clio.fake.matters.values()
              if parse_instant(m["updated_at"]) > em.clock.now() - timedelta(days=30)}  # fmt: skip
    assert {r["clioId"] for r in later_rows} == recent
    item = priya.get(f"/api/v1/public/workItem/{target['workItemId']}").json["workItem"]
    assert item["phaseSystemName"] == mapping[new_stage]
    events = em.stream.after(last_event)
    moved = [e for e in events if e.event_type == "sharedo-phase-changed" and e.data["sharedoId"] == item["id"]]
    assert moved and moved[0].data["toPhase"] == mapping[new_stage]


def test_an_unmapped_stage_skips_the_matter_with_its_name(env):
    app, em = env
    connect(app)
    priya = api_as(app, "priya.shah")
    funded = next(s for s in em.clio.fake.matter_stages.values() if s["name"] == "Funded")
    matter = next(m for m in em.clio.fake.matters.values() if m["matter_stage"] and m["responsible_attorney"])
    em.clio.fake.matters[matter["id"]]["practice_area"] = {"id": int(funded["practice_area_id"])}
    em.clio.fake.set_stage(matter["id"], "Funded")
    result = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": str(matter["id"])}).json["result"]
    assert result["result"] == "skipped" and "'Funded' is not mapped to an Operate phase" in result["reason"]


def test_individual_case_takes_an_id_or_a_pasted_url_and_says_what_happened(env):
    app, em = env
    connect(app)
    priya = api_as(app, "priya.shah")
    matter = next(m for m in em.clio.fake.matters.values() if expected_outcome(em, m) == "imported")
    url = f"https://app.clio.com/nc/#/matters/{matter['id']}/info"
    first = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": url}).json
    assert first["result"]["result"] == "imported" and first["result"]["clioId"] == matter["id"]
    again = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": matter["id"]}).json
    assert again["result"]["result"] == "unchanged"
    missing = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": "999"}).json
    assert missing["result"]["result"] == "failed" and "Clio has no matter 999" in missing["result"]["reason"]
    bad = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": "matters/abc"})
    assert bad.status_code == 400 and "integration ID" in bad.json["title"]
    assert items_by_clio_id(em) == {matter["id"]: [first["result"]["workItemId"]]}


def test_the_nightly_sync_runs_at_21_15_utc_only_when_turned_on(env):
    app, em = env
    connect(app)
    priya = api_as(app, "priya.shah")
    em.clock.set(START.replace(hour=21, minute=14))
    em.clock.advance(timedelta(minutes=2))
    assert priya.get(f"{CLIO}/runs").json["totalRows"] == 0  # off by default
    priya.put(f"{CLIO}/nightly", {"enabled": True})
    em.clock.advance(timedelta(days=1))
    [run] = priya.get(f"{CLIO}/runs").json["rows"]
    assert run["kind"] == "nightly" and run["state"] == "done" and run["started"].endswith("21:15:00.000Z")


def test_sync_refuses_without_a_connection_and_a_revoked_grant_says_to_reconnect(env):
    app, em = env
    priya = api_as(app, "priya.shah")
    refused = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True})
    assert refused.status_code == 409 and "not connected" in refused.json["title"]
    connect(app)
    em.clio.fake.revoke_tokens()
    run = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert run["state"] == "failed"
    status = priya.get(CLIO).json
    assert status["state"] == "disconnected" and "connect Clio again" in status["message"]


def test_an_expired_token_is_refreshed_once_and_the_sync_goes_on(env):
    app, em = env
    connect(app)
    before = {t.access_token for t in em.clio.fake.tokens.values()}
    em.clio.fake.expire_tokens()
    run = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert run["state"] == "done" and run["counts"]["imported"] > 0
    with em.store.read() as conn:
        stored = conn.execute("SELECT access_token FROM integration_secrets").fetchone()[0]
    assert stored not in before  # the new token was stored


def test_429_is_waited_out_on_the_virtual_clock_and_5xx_retried(env):
    app, em = env
    connect(app)
    em.clio.fake.rate_limit = 2  # two calls a minute: every page waits for the window to reopen
    em.clio.fake.switches.fail_next = 2
    started = em.clock.now()
    run = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert run["state"] == "done" and run["counts"]["imported"] > 0
    assert em.clock.now() - started >= timedelta(seconds=60)  # the waits moved the virtual clock


def test_a_clio_that_keeps_failing_fails_the_run_with_a_clear_error(env):
    app, em = env
    connect(app)
    em.clio.fake.switches.fail_next = 100
    run = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert run["state"] == "failed" and "503" in run["error"]
    assert items_by_clio_id(em) == {}


def test_bad_data_from_clio_skips_that_matter_and_the_sync_goes_on(env):
    app, em = env
    connect(app)
    fake = em.clio.fake
    window = em.clock.now() - timedelta(days=3650)
    good = [
        m
        for m in fake.matters.values()
        if expected_outcome(em, m) == "imported" and parse_instant(m["updated_at"]) > window
    ]
    broken_client, broken_date = good[0], good[1]
    fake.matters[broken_client["id"]]["client"] = None
    fake.matters[broken_date["id"]]["matter_stage_updated_at"] = "last tuesday"
    run = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    rows = {r["clioId"]: r for r in api_as(app, "priya.shah").get(f"{CLIO}/runs/{run['id']}/results").json["rows"]}
    assert rows[broken_client["id"]]["result"] in ("skipped", "failed")
    assert rows[broken_date["id"]]["result"] == "skipped" and "last tuesday" in rows[broken_date["id"]]["reason"]
    assert run["state"] == "done" and run["counts"]["imported"] == len(good) - 2


def test_mappings_are_edited_by_an_administrator_and_checked(env):
    app, _ = env
    priya, daniel = api_as(app, "priya.shah"), api_as(app, "daniel.okafor")
    assert daniel.put(f"{CLIO}/mappings", {"stages": {"Intake": "matter-open"}}).status_code == 403
    wrong = priya.put(f"{CLIO}/mappings", {"stages": {"Intake": "no-such-phase"}})
    assert wrong.status_code == 400 and "Intake" in wrong.json["title"]
    saved = priya.put(f"{CLIO}/mappings", {"stages": {"Intake": "matter-open", "intake": "matter-enquiry"}}).json
    assert saved["stages"] == {"Intake": "matter-open", "intake": "matter-enquiry"}  # case-sensitive
    assert saved["practiceAreas"]["Family"] == "matter-private-client"  # the other table untouched


class LoseAnswers(httpx.BaseTransport):
    """Clio receives the request but its answer never arrives (a crash or a cut line between the steps)."""

    def __init__(self, inner: httpx.BaseTransport, method: str, path_part: str, times: int = 1) -> None:
        self.inner, self.method, self.path_part, self.times = inner, method, path_part, times

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.times and request.method == self.method and self.path_part in request.url.path:
            self.times -= 1
            response.read()
            raise httpx.ReadError("the answer was lost", request=request)
        return response


def test_messages_go_to_communications_every_two_minutes_never_twice_even_when_an_answer_is_lost(env):
    app, em = env
    clio_id, item_id = imported_matter(app, em)
    daniel = api_as(app, "daniel.okafor")
    assert (
        daniel.post(
            f"/api/v1/public/workItem/{item_id}/comments", {"comment": "Your hearing is on the 9th."}
        ).status_code
        == 201
    )
    inner = em.clio.connection.http._transport
    em.clio.connection.http._transport = LoseAnswers(inner, "POST", "/communications")
    em.clock.advance(timedelta(minutes=2))  # the POST reached Clio; its answer did not come back
    em.clio.connection.http._transport = inner
    em.clock.advance(timedelta(minutes=2))  # looks first, finds it, does not send again
    em.clock.advance(timedelta(minutes=2))
    sent = [c for c in em.clio.fake.communications.values() if c["matter"]["id"] == clio_id]
    assert len(sent) == 1
    [message] = sent
    assert message["subject"] == "Case Status Message" and message["body"] == "Your hearing is on the 9th."
    assert message["senders"][0]["name"] == "Daniel Okafor" and message["senders"][0]["type"] == "User"
    client = em.clio.fake.matters[clio_id]["client"]["id"]
    assert message["receivers"][0]["id"] == client


def test_documents_upload_in_three_steps_every_twenty_minutes_never_twice_even_when_an_answer_is_lost(env):
    app, em = env
    clio_id, item_id = imported_matter(app, em)
    priya = api_as(app, "priya.shah")
    content = b"%PDF-1.4 the engagement letter"
    uploaded = app.test_client().post(
        f"/api/v1/public/workItem/{item_id}/relatedDocuments",
        headers={"Authorization": f"Bearer {em.identity.issue('operate-portal', 'priya.shah')}"},
        data={"file": (io.BytesIO(content), "engagement.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code in (200, 201), uploaded.data
    inner = em.clio.connection.http._transport
    em.clio.connection.http._transport = LoseAnswers(inner, "PUT", "/_fake/s3/")
    em.clock.advance(timedelta(minutes=20))
    em.clio.connection.http._transport = inner
    em.clock.advance(timedelta(minutes=20))
    em.clock.advance(timedelta(minutes=20))
    docs = [d for d in em.clio.fake.documents.values() if d["matter"]["id"] == clio_id]
    assert len(docs) == 1 and docs[0]["latest_document_version"]["fully_uploaded"]
    assert em.clio.fake.download(docs[0]["id"])[0] == content
    assert priya.get(CLIO).json["pendingPushes"] == []


@pytest.fixture
def smtp():
    controller, server = start_smtp()  # a real SMTP server (aiosmtpd) on loopback
    yield server
    controller.stop()


def test_all_cases_mails_whoever_triggered_it_a_csv_of_every_matter_attempted(tmp_path, smtp):
    solution = solution_with_mail(tmp_path, f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}')
    app = create_app(Settings(data_dir=tmp_path / "data", solution=solution, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        connect(app)
        daniel = api_as(app, "daniel.okafor")  # any user who may sync; the CSV goes to whoever triggered it
        run = daniel.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
        results = daniel.get(f"{CLIO}/runs/{run['id']}/results").json["rows"]
        [mail] = smtp.received
        assert mail["To"] == "daniel.okafor@harbourvale.example"
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_content_type() == "text/csv"
        rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
        assert len(rows) == len(results) == sum(run["counts"].values())
        assert {r["result"] for r in rows} == {"imported", "skipped"}
        skipped = next(r for r in rows if r["result"] == "skipped")
        assert skipped["reason"] and skipped["display_number"]
        assert {int(r["clio_id"]) for r in rows} == {r["clioId"] for r in results}
        outbox = daniel.get("/api/_emulator/outbox").json["rows"]
        assert outbox[0]["delivery"] == "sent" and outbox[0]["attachments"][0]["fileName"].endswith(".csv")
        # Individual Case shows its result in the pop-up and mails nothing.
        daniel.post(f"{CLIO}/sync", {"mode": "matter", "matter": results[0]["clioId"]})
        assert len(smtp.received) == 1
    finally:
        em.close()


def test_a_stage_change_records_a_status_update_to_the_client(env):
    app, em = env
    clio_id, item_id = imported_matter(app, em)
    matter = em.clio.fake.matters[clio_id]
    area = matter["practice_area"]["id"]
    mapping = em.clio.mappings.get()["stages"]
    current = em.clio.fake.matter_stages[matter["matter_stage"]["id"]]["name"] if matter["matter_stage"] else None
    new_stage = next(
        s["name"]
        for s in em.clio.fake.matter_stages.values()
        if s["practice_area_id"] == str(area) and s["name"] in mapping and s["name"] != current
    )
    em.clock.advance(timedelta(hours=1))
    em.clio.fake.set_stage(clio_id, new_stage)
    result = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "matter", "matter": clio_id}).json["result"]
    assert result["result"] == "updated" and new_stage in result["reason"] and "client notified" in result["reason"]
    [note] = (
        api_as(app, "priya.shah")
        .get(f"/api/_emulator/outbox?kind=client-notification&workItemId={item_id}")
        .json["rows"]
    )
    client = em.clio.fake.contacts[matter["client"]["id"]]
    assert note["to"] == [client["primary_email_address"]] and new_stage in note["body"]


def test_the_finance_widgets_linked_service_reaches_the_synced_firm_on_the_connection(env):
    app, em = env
    priya = api_as(app, "priya.shah")
    before = priya.get("/api/proxy/clio/_/api/v4/users/who_am_i.json")
    assert before.status_code == 502 and "connect Clio" in before.json["title"]  # no grant yet: nothing sent
    clio_id, item_id = imported_matter(app, em)
    proxied = priya.get(f"/api/proxy/clio/_/api/v4/matters/{clio_id}.json?fields=id,display_number")
    assert proxied.status_code == 200 and proxied.json["data"]["id"] == clio_id
    # The adapter the finance widgets' figures come from, on the same firm and grant.
    wip = em.linked_services.adapter("clio").wip(str(clio_id))
    unbilled = [a for a in em.clio.fake.activities.values() if a["matter"]["id"] == clio_id and not a["billed"]]
    assert (wip.total > 0) == bool(unbilled)
    em.clio.fake.expire_tokens()  # the proxy refreshes once on the connection and stores the new grant
    assert priya.get(f"/api/proxy/clio/_/api/v4/matters/{clio_id}.json").status_code == 200


def test_disconnect_revokes_the_grant_at_clio_and_forgets_it_here(env):
    app, em = env
    connect(app)
    [token] = [t for t in em.clio.fake.tokens.values()]
    status = api_as(app, "priya.shah").post(f"{CLIO}/disconnect", {}).json
    assert status["state"] == "not-connected" and status["user"] is None
    assert token.revoked  # /oauth/deauthorize was called with it
    with em.store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM integration_secrets").fetchone()[0] == 0
    assert api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "all", "wait": True}).status_code == 409


def test_the_required_fields_are_configurable_an_email_instead_of_a_mobile(env):
    app, em = env
    connect(app)
    no_mobile = next(m for m in em.clio.fake.matters.values() if expected_outcome(em, m) == "skipped: no mobile phone")
    priya = api_as(app, "priya.shah")
    skipped = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": no_mobile["id"]}).json["result"]
    assert skipped["result"] == "skipped" and "no mobile phone" in skipped["reason"]
    em.clio.settings.client_contact = "email"  # operate.toml: client_contact = "email"
    imported = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": no_mobile["id"]}).json["result"]
    assert imported["result"] == "imported"


def test_hostile_text_from_clio_is_text_on_the_pages(env):
    app, em = env
    connect(app)
    hostile = "<img src=x onerror=alert(1)>"
    matter = next(m for m in em.clio.fake.matters.values() if expected_outcome(em, m) == "imported")
    em.clio.fake.matters[matter["id"]]["description"] = hostile
    result = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "matter", "matter": matter["id"]}).json
    run, item = result["id"], result["result"]["workItemId"]
    browser = app.test_client()
    sign_in(browser, "priya.shah")  # the run's results and the outbox are for a signed-in user
    for path in (f"/settings/integrations/clio/runs/{run}", f"/workitems/{item}", "/settings/integrations", "/outbox"):
        page = browser.get(path)
        assert page.status_code == 200 and "<img src=x" not in page.get_data(as_text=True), path
    assert "&lt;img src=x onerror=alert(1)&gt;" in app.test_client().get(f"/workitems/{item}").get_data(as_text=True)


def test_the_csv_does_not_let_clio_data_become_a_spreadsheet_formula(env):
    app, em = env
    connect(app)
    matter = next(m for m in em.clio.fake.matters.values() if expected_outcome(em, m) == "imported")
    em.clio.fake.matters[matter["id"]]["display_number"] = '=HYPERLINK("http://evil.example","x")'
    result = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "matter", "matter": matter["id"]}).json
    text = api_as(app, "priya.shah").get(f"{CLIO}/runs/{result['id']}/results.csv").get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["display_number"] == '\'=HYPERLINK("http://evil.example","x")'


# -- found by a hostile review -------------------------------------------------------------------------------


def test_the_proxy_reads_clios_api_on_the_firms_grant_and_nothing_else(env):
    app, em = env
    connect(app)
    daniel = api_as(app, "daniel.okafor")  # may use the proxy, is no administrator
    assert daniel.post("/api/proxy/clio/_/oauth/deauthorize", {}).status_code == 403
    assert daniel.post("/api/proxy/clio/_/api/v4/communications.json", {"data": {}}).status_code == 403
    assert not any(t.revoked for t in em.clio.fake.tokens.values())
    assert daniel.get("/api/proxy/clio/_/api/v4/users/who_am_i.json").status_code == 200


def test_two_pushes_at_once_send_a_message_once(env):
    import threading

    app, em = env
    clio_id, item_id = imported_matter(app, em)
    api_as(app, "daniel.okafor").post(f"/api/v1/public/workItem/{item_id}/comments", {"comment": "Hello"})
    em.clio.fake.switches.latency_seconds = 0.05
    threads = [threading.Thread(target=em.clio.pushes.push_messages) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len([c for c in em.clio.fake.communications.values() if c["matter"]["id"] == clio_id]) == 1


def test_a_first_sync_that_imports_nothing_stays_the_first_and_a_long_gap_loses_nothing(env):
    app, em = env
    connect(app)
    priya = api_as(app, "priya.shah")
    saved = em.clio.mappings.get()
    priya.put(f"{CLIO}/mappings", {"practiceAreas": {"Nothing": "matter-commercial"}})
    empty = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert empty["counts"]["imported"] == 0
    priya.put(f"{CLIO}/mappings", {"practiceAreas": saved["practiceAreas"]})
    first = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert first["first"] is True and first["counts"]["imported"] > 0
    em.clock.advance(timedelta(days=45))  # no sync for 45 days: the next one reaches back to the last one
    later = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert parse_instant(later["windowFrom"]) < parse_instant(first["started"])


def test_a_run_on_an_old_grant_does_not_mark_a_new_connection_disconnected(env):
    app, em = env
    connect(app)
    old = em.clio.connection._tokens()
    connect(app)  # connecting again hands the old grant back to Clio
    assert any(t.revoked for t in em.clio.fake.tokens.values() if t.access_token == old.access_token)
    em.clio.connection.mark_disconnected(old)
    assert api_as(app, "priya.shah").get(CLIO).json["state"] == "connected"


class Rewrite(httpx.BaseTransport):
    """Clio answering something unusable (not JSON, or pointing the client at another host)."""

    def __init__(self, inner: httpx.BaseTransport, edit) -> None:
        self.inner, self.edit = inner, edit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.edit(request, self.inner.handle_request(request))


def test_an_unusable_or_misdirecting_answer_fails_the_run_with_the_reason_and_sends_nothing_away(env):
    app, em = env
    connect(app)
    inner = em.clio.connection.http._transport
    seen: list[str] = []

    def html(request, response):
        seen.append(request.url.host)
        if "/matters" in request.url.path:
            return httpx.Response(200, text="<html>maintenance</html>", headers={"Content-Type": "text/html"})
        return response

    em.clio.connection.http._transport = Rewrite(inner, html)
    run = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert run["state"] == "failed" and "not JSON" in run["error"]

    def elsewhere(request, response):
        seen.append(request.url.host)
        if "/matters" in request.url.path:
            body = json.loads(response.read())
            body["meta"]["paging"]["next"] = "https://evil.example/api/v4/matters.json?page_token=x"
            return httpx.Response(200, json=body)
        return response

    em.clio.connection.http._transport = Rewrite(inner, elsewhere)
    run = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert run["state"] == "failed" and "points away from Clio" in run["error"]
    assert "evil.example" not in seen
    assert api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "all", "wait": True}).status_code == 200


def test_a_mapping_edit_reaches_an_imported_matter_when_it_is_synced_again(env):
    app, em = env
    clio_id, item_id = imported_matter(app, em)
    priya = api_as(app, "priya.shah")
    stage = em.clio.fake.matter_stages[em.clio.fake.matters[clio_id]["matter_stage"]["id"]]["name"]
    phase = priya.get(f"/api/v1/public/workItem/{item_id}").json["workItem"]["phaseSystemName"]
    other = next(p for p in ("matter-open", "matter-enquiry") if p != phase)
    priya.put(f"{CLIO}/mappings", {"stages": {**em.clio.mappings.get()["stages"], stage: other}})
    result = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": clio_id}).json["result"]
    assert result["result"] == "updated"
    assert priya.get(f"/api/v1/public/workItem/{item_id}").json["workItem"]["phaseSystemName"] == other


@pytest.mark.parametrize("bad", ["²", "١٢٣", "matters/²", "9" * 5000])
def test_an_integration_id_is_ascii_digits(env, bad):
    app, _ = env
    connect(app)
    answer = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "matter", "matter": bad})
    assert answer.status_code == 400 and "integration ID" in answer.json["title"]


@pytest.mark.parametrize("where", ["/\t/evil.example/", "//evil.example", "/\\evil.example", "/x\n"])
def test_return_to_is_a_path_here(env, where):
    app, _ = env
    answer = api_as(app, "priya.shah").post(f"{CLIO}/connect", {"returnTo": where})
    assert answer.status_code == 400 and "returnTo" in answer.json["title"]


def test_all_cases_started_in_the_background_answers_with_its_own_run(env):
    import time

    app, em = env
    connect(app)
    priya = api_as(app, "priya.shah")
    started = priya.post(f"{CLIO}/sync", {"mode": "all"})
    assert started.status_code == 202 and started.json["kind"] == "all"
    for _ in range(200):  # bounded: the run ends in well under a second here
        run = priya.get(f"{CLIO}/runs/{started.json['id']}").json
        if run["state"] != "running":
            break
        time.sleep(0.05)
    assert run["state"] == "done" and run["counts"]["imported"] > 0


def test_an_imported_matter_whose_new_stage_is_unmapped_is_skipped_and_keeps_its_work_item(env):
    app, em = env
    connect(app)
    priya = api_as(app, "priya.shah")
    matter = next(
        m
        for m in em.clio.fake.matters.values()
        if expected_outcome(em, m) == "imported"
        and em.clio.fake.practice_areas[m["practice_area"]["id"]]["name"] == "Estate Planning"
    )
    first = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": str(matter["id"])}).json["result"]
    assert first["result"] == "imported" and first["workItemId"]
    em.clock.advance(timedelta(days=1))
    em.clio.fake.set_stage(matter["id"], "Funded")  # Estate Planning's last stage, which the demo maps to nothing

    one = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": str(matter["id"])}).json["result"]
    assert one["result"] == "skipped" and "'Funded' is not mapped" in one["reason"]
    assert one["workItemId"] == first["workItemId"]  # the work item is still there: the row links to it
    run = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    rows = {r["clioId"]: r for r in priya.get(f"{CLIO}/runs/{run['id']}/results").json["rows"]}
    assert rows[matter["id"]]["result"] == "skipped" and rows[matter["id"]]["workItemId"] == first["workItemId"]
    never = [r for r in rows.values() if r["result"] == "skipped" and r["clioId"] not in items_by_clio_id(em)]
    assert never and all(r["workItemId"] is None for r in never)  # never imported: nothing to link to
    text = priya.get(f"{CLIO}/runs/{run['id']}/results.csv").get_data(as_text=True)
    assert f"{matter['id']},{matter['display_number']},skipped," in text and first["workItemId"] in text


def test_the_docs_say_a_later_sync_reaches_back_to_the_last_one_after_a_long_gap():
    """What test_a_first_sync_that_imports_nothing_stays_the_first_and_a_long_gap_loses_nothing shows, said where
    people read of the windows: the README's Clio section and docs/solution-format.md."""

    root = ROOT
    readme = " ".join((root / "README.md").read_text("utf-8").split())
    assert "syncs of the last 30 days (or back to the last sync of all cases, when that was longer ago)" in readme
    format_doc = " ".join((root / "docs" / "solution-format.md").read_text("utf-8").split())
    assert "later syncs: the last 30 days, or back to the start of the last completed" in format_doc
