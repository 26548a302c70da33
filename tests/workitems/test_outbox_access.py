"""Who reads the outbox (docs/security.md): a message is for its recipients and for holders of emulator.control,
so an attachment is no way round the permission its content needs. And the event stream needs
core.sharedo.read, the permission that reads what its events describe."""

from __future__ import annotations

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import START, Api, client_token, user_token
from tests.helpers.clio_sync import CLIO, api_as, connect
from tests.helpers.web_support import sign_in

OUTBOX = "/api/_emulator/outbox"


@pytest.fixture
def synced(tmp_path):
    """Daniel (a user who may sync) ran All Cases: the results CSV was mailed to him."""
    app = create_app(Settings(data_dir=tmp_path / "data", demo=True, clock="virtual", clock_start=START))
    connect(app)
    run = api_as(app, "daniel.okafor").post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    yield app, run
    app.extensions["operate"].close()


def test_a_read_only_user_reads_the_sync_results_neither_by_the_run_nor_as_an_outbox_attachment(synced):
    app, run = synced
    daniel, tom, hannah = (api_as(app, u) for u in ("daniel.okafor", "tom.becker", "hannah.whitfield"))
    [message] = daniel.get(OUTBOX).json["rows"]
    url = message["attachments"][0]["url"]
    assert daniel.get(url).status_code == 200  # the recipient
    assert hannah.get(url).status_code == 200  # emulator.control: the person running the emulator

    assert tom.get(f"{CLIO}/runs/{run['id']}/results.csv").status_code == 403
    refused = tom.get(url)
    assert refused.status_code == 403 and "for its recipients" in refused.json["title"]
    assert tom.get(f"{OUTBOX}/{message['id']}").status_code == 403
    listed = tom.get(OUTBOX).json
    assert listed == {"totalRows": 0, "rows": []}


def test_the_outbox_page_shows_a_user_only_the_mail_sent_to_them(synced):
    app, _ = synced
    [message] = api_as(app, "daniel.okafor").get(OUTBOX).json["rows"]
    browser = app.test_client()
    page = sign_in(browser, "tom.becker", "/outbox")
    assert page.status_code == 200 and message["subject"] not in page.text
    attachment = browser.get(f"/outbox/{message['id']}/attachments/{message['attachments'][0]['id']}")
    assert attachment.status_code == 403

    daniel = app.test_client()
    assert message["subject"] in sign_in(daniel, "daniel.okafor", "/outbox").text


def test_the_event_stream_needs_the_permission_to_read_work_items(app):
    assert Api(app, user_token(app, "tom.becker")).get("/api/_emulator/events").status_code == 200
    assert Api(app, client_token(app)).get("/api/_emulator/events").status_code == 200
    # operate-portal's own permissions are none: a token of that client without a user reads no events
    bare = app.extensions["operate"].identity.issue("operate-portal", None)
    response = Api(app, bare).get("/api/_emulator/events")
    assert response.status_code == 403 and "core.sharedo.read" in response.json["title"]
