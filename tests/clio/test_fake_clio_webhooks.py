"""Webhooks in the fake Clio Manage, seen from a receiver: a real HTTP endpoint on 127.0.0.1 gets the
handshake, confirms it, and then gets signed deliveries when records change. Every answer the fake's API
gives here is checked against Clio's own OpenAPI document (tests/helpers/clio_openapi.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest

from emulator.kernel.clock import Clock, parse_instant
from emulator.kernel.http_server import WsgiServer
from pms_adapters.fakes.clio import seed
from pms_adapters.fakes.clio.app import create_app
from pms_adapters.fakes.clio.models import ClioBackend
from tests.conftest import START
from tests.helpers import clio_openapi
from tests.helpers.clio_openapi import Conformance

RETRIES = (0.01, 0.01)  # three attempts in all, a moment apart


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return "handshake" if "x-hook-secret" in self.headers else self.json["meta"]["event"]


@dataclass
class Receiver:
    """A webhook endpoint: records every request; echoes `X-Hook-Secret` unless the path is in `no_echo`;
    answers a path's scripted statuses in turn (then 200)."""

    base: str = ""
    requests: list[Received] = field(default_factory=list)
    no_echo: set[str] = field(default_factory=set)
    scripts: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        path = environ["PATH_INFO"]
        with self.lock:
            self.requests.append(Received(path, headers, body))
            script = self.scripts.get(path) or []
            status = script.pop(0) if script else 200
        answer = [("Content-Type", "text/plain")]
        if "x-hook-secret" in headers and path not in self.no_echo:
            answer.append(("X-Hook-Secret", headers["x-hook-secret"]))
        start_response(f"{status} Whatever", answer)
        return [b"ok"]

    def url(self, path: str) -> str:
        return self.base + path

    def to(self, path: str, event: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path and (event is None or r.event == event)]


@pytest.fixture(scope="module")
def endpoint():
    """One server for the module (stopping one takes cheroot half a second); each test gets a fresh `Receiver`."""
    current = {"receiver": Receiver()}
    server = WsgiServer(lambda environ, start: current["receiver"](environ, start), "127.0.0.1", 0, threads=4)
    current["base"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield current
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def receiver(endpoint):
    endpoint["receiver"] = Receiver(base=endpoint["base"])
    return endpoint["receiver"]


class Fake:
    """The fake Clio in process, called through httpx's WSGI transport with one user's token."""

    def __init__(self, clock: Clock, **options: Any) -> None:
        self.conformance = Conformance()
        self.backend = ClioBackend(clock, matters=30, rate_limit=10**6, webhook_retry_delays=RETRIES, **options)
        app = create_app(self.backend, observer=self.conformance)
        token = self.backend.issue_token(min(self.backend.users))["access_token"]
        self.http = httpx.Client(
            transport=httpx.WSGITransport(app=app),
            base_url="http://clio.test/api/v4",
            headers={"Authorization": f"Bearer {token}"},
        )

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def hook(self, url: str, **data: Any) -> dict[str, Any]:
        """Create a webhook; return it (every field) once its handshake has settled."""
        made = self.call("POST", "/webhooks.json", json={"data": {"url": url, "fields": "id,etag", **data}})
        assert made.status_code == 201, made.json()
        self.settle()
        return self.show(made.json()["data"]["id"])

    def show(self, webhook_id: int) -> dict[str, Any]:
        every = "id,etag,url,fields,shared_secret,model,status,events,expires_at,created_at,updated_at,user"
        shown = self.call("GET", f"/webhooks/{webhook_id}.json", params={"fields": every})
        assert shown.status_code == 200, shown.json()
        return shown.json()["data"]

    def settle(self) -> None:
        assert self.backend.wait_for_webhooks(), "webhook requests still queued"

    def staged_matter(self) -> dict[str, Any]:
        return next(m for m in self.backend.matters.values() if m["practice_area"] and m["matter_stage"])

    def other_stage(self, matter: dict[str, Any]) -> str:
        area = str(matter["practice_area"]["id"])
        current = self.backend.matters[matter["id"]]["matter_stage"]["id"]
        stages = self.backend.matter_stages.values()
        return next(s["name"] for s in stages if s["practice_area_id"] == area and s["id"] != current)

    def close(self) -> None:
        self.backend.close()
        self.http.close()


@pytest.fixture
def fakes(clock):
    """Build fakes (`allow_insecure_webhooks=True` unless told otherwise: the receiver is http on loopback);
    at the end, every answer of each must have conformed to Clio's document."""
    made: list[Fake] = []

    def make(**options: Any) -> Fake:
        made.append(Fake(clock, **{"allow_insecure_webhooks": True, **options}))
        return made[-1]

    yield make
    for fake in made:
        fake.close()
    for fake in made:
        assert fake.conformance.problems == [], "answers that do not conform to Clio's OpenAPI document"
        assert fake.conformance.seen > 0


@pytest.fixture
def fake(fakes):
    return fakes()


def verified(received: Received, secret: str) -> dict[str, Any]:
    """What a receiver does before it trusts a delivery: the hex HMAC-SHA256 of the raw body under the secret."""
    expected = hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["x-hook-signature"], expected), "bad X-Hook-Signature"
    return received.json


# -- the handshake and a signed delivery ------------------------------------------------------------
def test_the_receiver_echoes_the_secret_then_gets_a_signed_matter_update(fake, receiver):
    matter = fake.staged_matter()
    made = fake.call(
        "POST",
        "/webhooks.json",
        params={"fields": "id,status,model,events,expires_at"},
        json={
            "data": {
                "url": receiver.url("/clio"),
                "model": "matter",
                "events": ["updated"],
                "fields": "id,etag,description,matter_stage{id,name}",
            }
        },
    )
    assert made.status_code == 201, made.json()
    assert made.json()["data"]["status"] == "pending"  # not enabled until the handshake succeeds
    assert made.json()["data"]["events"] == ["updated"] and made.json()["data"]["model"] == "matter"
    assert parse_instant(made.json()["data"]["expires_at"]) == START + timedelta(days=3)
    fake.settle()

    [handshake] = receiver.to("/clio")
    hook = fake.show(made.json()["data"]["id"])
    assert hook["status"] == "enabled"
    assert handshake.headers["x-hook-secret"] == hook["shared_secret"]
    assert handshake.json == {"webhook_id": hook["id"]}

    changed = fake.call("PATCH", f"/matters/{matter['id']}.json", json={"data": {"description": "Offer accepted"}})
    assert changed.status_code == 200
    fake.backend.set_stage(matter["id"], stage := fake.other_stage(matter))
    fake.settle()

    first, second = receiver.to("/clio", "updated")
    body = verified(first, hook["shared_secret"])
    assert body["meta"] == {"event": "updated", "webhook_id": hook["id"]}
    assert body["data"]["id"] == matter["id"] and body["data"]["description"] == "Offer accepted"
    assert body["data"]["etag"] == changed.headers["ETag"]
    later = verified(second, hook["shared_secret"])
    assert later["data"]["matter_stage"]["name"] == stage
    assert later["data"]["etag"] == fake.backend.matters[matter["id"]]["etag"]
    assert list(later["data"]) == ["id", "etag", "description", "matter_stage"]

    tampered = Received(second.path, second.headers, second.body.replace(b"Offer", b"Offar"))
    with pytest.raises(AssertionError, match="bad X-Hook-Signature"):
        verified(tampered, hook["shared_secret"])
    assert [(d.event, d.status, d.url) for d in fake.backend.deliveries] == [
        ("handshake", 200, receiver.url("/clio")),
        ("updated", 200, receiver.url("/clio")),
        ("updated", 200, receiver.url("/clio")),
    ]


def test_a_receiver_that_does_not_echo_activates_later_with_the_secret(fake, receiver):
    receiver.no_echo.add("/later")
    hook = fake.hook(receiver.url("/later"), model="matter", events=["updated"])
    assert hook["status"] == "pending"
    matter = fake.staged_matter()
    fake.backend.set_stage(matter["id"], fake.other_stage(matter))
    fake.settle()
    assert receiver.to("/later", "updated") == []  # a pending webhook delivers nothing

    secret = receiver.to("/later", "handshake")[0].headers["x-hook-secret"]
    activate = f"/webhooks/{hook['id']}/activate"
    missing = fake.call("PUT", activate)
    assert missing.status_code == 400 and "X-Hook-Secret" in missing.json()["error"]["message"]
    wrong = fake.call("PUT", activate, headers={"X-Hook-Secret": "guess"})
    assert wrong.status_code == 422 and "does not match" in wrong.json()["error"]["message"]
    assert fake.show(hook["id"])["status"] == "pending"
    done = fake.call("PUT", activate + ".json", headers={"X-Hook-Secret": secret}, params={"fields": "id,status"})
    assert done.status_code == 200 and done.json()["data"] == {"id": hook["id"], "status": "enabled"}
    assert fake.call("PUT", "/webhooks/1/activate", headers={"X-Hook-Secret": secret}).status_code == 404

    fake.backend.set_stage(matter["id"], fake.other_stage(matter))
    fake.settle()
    [delivery] = receiver.to("/later", "updated")
    assert verified(delivery, secret)["data"]["id"] == matter["id"]


# -- bad input --------------------------------------------------------------------------------------
RECEIVER = "https://hooks.firm.example/clio"
FIELDS_1000 = "id" + ",id" * 330 + ",etag" + ",id"  # exactly 1000 characters


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"model": "matter", "fields": "id"}, "data.url is required"),
        ({"url": RECEIVER, "fields": "id"}, "data.model is required"),
        ({"url": RECEIVER, "model": "matter"}, "data.fields is required"),
        ({"url": "ftp://hooks.firm.example/x", "model": "matter", "fields": "id"}, "must be an http or https URL"),
        ({"url": "hooks.firm.example", "model": "matter", "fields": "id"}, "must be an http or https URL"),
        ({"url": RECEIVER, "model": "matter", "fields": FIELDS_1000 + ",x"}, "1002 characters; at most 1000"),
        ({"url": RECEIVER, "model": "matter", "fields": "id,nonsense"}, "data.fields: 'nonsense' is not a field"),
        ({"url": RECEIVER, "model": "invoice", "fields": "id"}, "data.model 'invoice' is not one of"),
        ({"url": RECEIVER, "model": 11, "fields": "id"}, "data.model '11' is not one of"),
        ({"url": RECEIVER, "model": "matter", "fields": "id", "events": ["archived"]}, "'archived' is not an event"),
        ({"url": RECEIVER, "model": "activity", "fields": "id", "events": ["matter_closed"]}, "not an event of act"),
        ({"url": RECEIVER, "model": "clio_payments_payment", "fields": "id", "events": ["deleted"]}, "not an event"),
        ({"url": RECEIVER, "model": "matter", "fields": "id", "events": []}, "data.events must be a list"),
        ({"url": RECEIVER, "model": "matter", "fields": "id", "expires_at": "soon"}, "must be an ISO 8601"),
        (
            {
                "url": RECEIVER,
                "model": "matter",
                "fields": "id",
                "expires_at": (START + timedelta(days=32)).isoformat(),
            },
            "at most 31 days from now",
        ),
        (
            {
                "url": RECEIVER,
                "model": "matter",
                "fields": "id",
                "expires_at": (START - timedelta(hours=1)).isoformat(),
            },
            "must be in the future",
        ),
    ],
)
def test_a_bad_webhook_is_refused_naming_what_is_wrong_and_nothing_is_kept(fake, data, message):
    refused = fake.call("POST", "/webhooks.json", json={"data": data})
    assert refused.status_code == 422, refused.json()
    assert message in refused.json()["error"]["message"]
    assert fake.call("GET", "/webhooks.json").json()["data"] == []
    assert fake.backend.deliveries == []


def test_http_urls_need_the_allowance_and_the_limits_hold_at_their_edges(fakes, clock):
    strict = fakes(allow_insecure_webhooks=False)
    http = {"url": "http://127.0.0.1:9/clio", "model": "matter", "fields": "id"}
    refused = strict.call("POST", "/webhooks.json", json={"data": http})
    assert refused.status_code == 422 and "must be an https URL" in refused.json()["error"]["message"]
    assert "allow_insecure_webhooks" in refused.json()["error"]["message"]
    assert strict.call("POST", "/webhooks.json", json={"url": RECEIVER}).status_code == 400  # no {"data": ...}

    edge = {"url": RECEIVER, "model": 1, "fields": FIELDS_1000, "expires_at": (START + timedelta(days=31)).isoformat()}
    assert len(FIELDS_1000) == 1000
    made = strict.call("POST", "/webhooks.json", json={"data": edge}, params={"fields": "id,model,expires_at"})
    assert made.status_code == 201, made.json()
    assert made.json()["data"]["model"] == "matter"  # the numeric id is the model's
    assert parse_instant(made.json()["data"]["expires_at"]) == START + timedelta(days=31)
    hook_id = made.json()["data"]["id"]
    too_far = strict.call(
        "PATCH", f"/webhooks/{hook_id}.json", json={"data": {"expires_at": (START + timedelta(days=40)).isoformat()}}
    )
    assert too_far.status_code == 422 and "31 days" in too_far.json()["error"]["message"]
    assert strict.call("GET", "/webhooks/1.json").status_code == 404
    assert strict.call("PATCH", "/webhooks/1.json", json={"data": {}}).status_code == 404
    assert strict.call("DELETE", "/webhooks/1.json").status_code == 404


# -- what stops deliveries ---------------------------------------------------------------------------
def test_delete_stops_deliveries(fake, receiver):
    gone = fake.hook(receiver.url("/gone"), model="matter")
    kept = fake.hook(receiver.url("/kept"), model="matter")
    assert gone["status"] == kept["status"] == "enabled"
    deleted = fake.call("DELETE", f"/webhooks/{gone['id']}.json")
    assert deleted.status_code == 204
    assert fake.call("GET", f"/webhooks/{gone['id']}.json").status_code == 404

    matter = fake.staged_matter()
    fake.backend.set_stage(matter["id"], fake.other_stage(matter))
    fake.settle()
    assert len(receiver.to("/kept", "updated")) == 1
    assert receiver.to("/gone", "updated") == []
    listed = fake.call("GET", "/webhooks.json").json()["data"]
    assert [w["id"] for w in listed] == [kept["id"]]


def test_expiry_on_the_fake_s_clock_stops_deliveries_and_extending_it_resumes_them(fake, receiver, clock):
    short = fake.hook(receiver.url("/short"), model="matter")
    long = fake.hook(receiver.url("/long"), model="matter", expires_at=(START + timedelta(days=10)).isoformat())
    assert parse_instant(short["expires_at"]) == START + timedelta(days=3)
    matter = fake.staged_matter()

    clock.advance(timedelta(days=3))
    fake.backend.set_stage(matter["id"], fake.other_stage(matter))
    fake.settle()
    assert receiver.to("/short", "updated") == []
    assert len(receiver.to("/long", "updated")) == 1

    extended = fake.call(
        "PATCH",
        f"/webhooks/{short['id']}.json",
        json={"data": {"expires_at": (clock.now() + timedelta(days=5)).isoformat()}},
        headers={"If-Match": fake.show(short["id"])["etag"]},
        params={"fields": "id,expires_at,status"},
    )
    assert extended.status_code == 200 and extended.json()["data"]["status"] == "enabled"
    fake.backend.set_stage(matter["id"], fake.other_stage(matter))
    fake.settle()
    assert len(receiver.to("/short", "updated")) == 1 and len(receiver.to("/long", "updated")) == 2
    assert long["id"] != short["id"]


def test_failures_are_retried_a_bounded_number_of_times_and_410_suspends(fake, receiver):
    receiver.scripts["/flaky"] = [503]
    receiver.scripts["/down"] = [500] * 10
    flaky = fake.hook(receiver.url("/flaky"), model="matter")  # the handshake eats the 503, then succeeds
    assert flaky["status"] == "enabled"
    down = fake.hook(receiver.url("/down"), model="matter")
    gone = fake.hook(receiver.url("/gone"), model="matter")
    receiver.scripts["/gone"] = [410]

    matter = fake.staged_matter()
    fake.call("PATCH", f"/matters/{matter['id']}.json", json={"data": {"description": "first"}})
    fake.settle()
    attempts = [(d.url.rsplit("/", 1)[1], d.event, d.attempt, d.status) for d in fake.backend.deliveries]
    assert ("flaky", "handshake", 1, 503) in attempts and ("flaky", "handshake", 2, 200) in attempts
    # /down answers 500 to its handshake three times and is never enabled: nothing is delivered to it
    assert [a for a in attempts if a[0] == "down"] == [("down", "handshake", n, 500) for n in (1, 2, 3)]
    assert len(receiver.to("/down")) == 3
    assert fake.show(down["id"])["status"] == "pending"
    assert [a for a in attempts if a[0] == "gone" and a[1] == "updated"] == [("gone", "updated", 1, 410)]
    assert fake.show(gone["id"])["status"] == "suspended"

    receiver.scripts["/flaky"] = [502, 502, 502, 502]
    fake.call("PATCH", f"/matters/{matter['id']}.json", json={"data": {"description": "second"}})
    fake.settle()
    tries = [d for d in fake.backend.deliveries if d.url.endswith("/flaky") and d.event == "updated"]
    assert [(d.attempt, d.status) for d in tries] == [(1, 200), (1, 502), (2, 502), (3, 502)]  # then given up
    assert len(receiver.to("/gone", "updated")) == 1  # a suspended webhook gets nothing more


def test_a_url_off_this_machine_is_never_called(fake, receiver):
    remote = fake.hook("https://hooks.firm.example/clio", model="matter")
    local = fake.hook(receiver.url("/local"), model="matter")
    assert remote["status"] == "pending" and local["status"] == "enabled"
    [refused] = [d for d in fake.backend.deliveries if d.webhook_id == remote["id"]]
    assert refused.status is None and refused.event == "handshake"
    assert refused.error.startswith("refused: hooks.firm.example is not a loopback address")


# -- what fires ------------------------------------------------------------------------------------
def test_fields_are_the_watch_list_for_updates_after_the_first(fake, receiver):
    described = fake.hook(receiver.url("/description"), model="matter", events=["updated"], fields="id,description")
    staged = fake.hook(receiver.url("/stage"), model="matter", events=["updated"], fields="id,matter_stage")
    matter = fake.staged_matter()
    fake.backend.set_stage(matter["id"], fake.other_stage(matter))  # first sight: both fire, whatever changed
    fake.backend.set_stage(matter["id"], fake.other_stage(matter))  # only the stage watcher
    fake.backend.update_matter(matter["id"], {"description": "Watched words"}, None)  # only the description's
    fake.settle()
    assert [verified(r, described["shared_secret"])["data"] for r in receiver.to("/description", "updated")] == [
        {"id": matter["id"], "description": matter["description"]},
        {"id": matter["id"], "description": "Watched words"},
    ]
    assert len(receiver.to("/stage", "updated")) == 2
    assert staged["fields"] == "id,matter_stage"


def test_matter_status_events_and_every_model_the_fake_changes(fake, receiver):
    closed = fake.hook(receiver.url("/closed"), model="matter", events=["matter_closed"])
    activities = fake.hook(receiver.url("/activity"), model=2, events=["created", "updated"], fields="id,billed")
    messages = fake.hook(receiver.url("/communication"), model="communication", fields="id,subject")
    documents = fake.hook(receiver.url("/document"), model="document", fields="id,name,deleted_at")
    bills = fake.hook(receiver.url("/bill"), model="bill", fields="id,state,balance")
    open_matter = next(m for m in fake.backend.matters.values() if m["status"] == "Open")
    pending = next(m for m in fake.backend.matters.values() if m["status"] != "Closed" and m is not open_matter)

    fake.call("PATCH", f"/matters/{open_matter['id']}.json", json={"data": {"status": "closed"}})
    fake.call("PATCH", f"/matters/{pending['id']}.json", json={"data": {"status": "pending"}})
    matter_ref = {"id": open_matter["id"]}
    entry = fake.call(
        "POST",
        "/activities.json",
        json={"data": {"type": "TimeEntry", "date": "2026-01-05", "quantity": 3600, "matter": matter_ref}},
    )
    assert entry.status_code == 201, entry.json()
    message = fake.call(
        "POST",
        "/communications.json",
        json={
            "data": {
                "subject": "Your case",
                "body": "News",
                "type": "EmailCommunication",
                "received_at": START.isoformat(),
                "matter": matter_ref,
            }
        },
    )
    assert message.status_code == 201, message.json()
    document = fake.call(
        "POST", "/documents.json", json={"data": {"name": "letter.pdf", "parent": {**matter_ref, "type": "Matter"}}}
    )
    assert document.status_code == 201, document.json()
    assert fake.call("DELETE", f"/documents/{document.json()['data']['id']}.json").status_code == 204
    bill = fake.backend.bill_matter(open_matter["id"], issued_at=START.date(), activities=[entry.json()["data"]["id"]])
    fake.backend.update_bill(bill["id"], state="paid", paid=bill["total"])
    fake.settle()

    [closing] = receiver.to("/closed")[1:]
    assert verified(closing, closed["shared_secret"]) == {
        "data": {"id": open_matter["id"], "etag": fake.backend.matters[open_matter["id"]]["etag"]},
        "meta": {"event": "matter_closed", "webhook_id": closed["id"]},
    }
    events = {}
    for path, hook in (("/activity", activities), ("/communication", messages), ("/document", documents)):
        events[path] = [(r.event, verified(r, hook["shared_secret"])["data"]) for r in receiver.to(path)[1:]]
    events["/bill"] = [(r.event, verified(r, bills["shared_secret"])["data"]) for r in receiver.to("/bill")[1:]]
    entry_id, document_id = entry.json()["data"]["id"], document.json()["data"]["id"]
    assert events["/activity"] == [
        ("created", {"id": entry_id, "billed": False}),
        ("updated", {"id": entry_id, "billed": True}),
    ]
    assert events["/communication"] == [("created", {"id": message.json()["data"]["id"], "subject": "Your case"})]
    assert [(e, d["id"], d["deleted_at"] is not None) for e, d in events["/document"]] == [
        ("created", document_id, False),
        ("deleted", document_id, True),
    ]
    assert events["/bill"] == [
        ("created", {"id": bill["id"], "state": "awaiting_payment", "balance": bill["total"]}),
        ("updated", {"id": bill["id"], "state": "paid", "balance": 0.0}),
    ]


def test_a_new_url_gets_a_new_handshake_and_a_stale_etag_is_refused(fake, receiver):
    hook = fake.hook(receiver.url("/old"), model="matter")
    stale = hook["etag"]
    moved = fake.call(
        "PATCH",
        f"/webhooks/{hook['id']}.json",
        json={"data": {"url": receiver.url("/new")}},
        headers={"If-Match": stale},
        params={"fields": "id,url,status"},
    )
    assert moved.status_code == 200 and moved.json()["data"]["status"] == "pending"
    fake.settle()
    [handshake] = receiver.to("/new", "handshake")
    now = fake.show(hook["id"])
    assert now["status"] == "enabled" and now["url"] == receiver.url("/new")
    assert handshake.headers["x-hook-secret"] == now["shared_secret"] != hook["shared_secret"]
    again = fake.call(
        "PATCH", f"/webhooks/{hook['id']}.json", json={"data": {"fields": "id"}}, headers={"If-Match": stale}
    )
    assert again.status_code == 412

    matter = fake.staged_matter()
    fake.backend.set_stage(matter["id"], fake.other_stage(matter))
    fake.settle()
    assert receiver.to("/old", "updated") == [] and len(receiver.to("/new", "updated")) == 1
    verified(receiver.to("/new", "updated")[0], now["shared_secret"])


def test_webhooks_list_with_fields_and_paging(fake, receiver):
    first = fake.hook(receiver.url("/one"), model="matter")
    second = fake.hook(receiver.url("/two"), model="contact", events=["created"], fields="id,name")
    listed = fake.call("GET", "/webhooks.json", params={"fields": "id,url,model,events,status,user{id,name}"})
    assert listed.status_code == 200
    owner = fake.backend.users[min(fake.backend.users)]
    assert listed.json()["data"] == [
        {"id": first["id"], "url": receiver.url("/one"), "model": "matter",
         "events": ["created", "updated", "deleted"], "status": "enabled",
         "user": {"id": owner["id"], "name": owner["name"]}},
        {"id": second["id"], "url": receiver.url("/two"), "model": "contact", "events": ["created"],
         "status": "enabled", "user": {"id": owner["id"], "name": owner["name"]}},
    ]  # fmt: skip
    page = fake.call("GET", "/webhooks.json", params={"limit": 1})
    assert page.json()["meta"]["records"] == 2 and "next" in page.json()["meta"]["paging"]
    assert [set(w) for w in page.json()["data"]] == [{"id", "etag"}]
    bad = fake.call("GET", "/webhooks.json", params={"fields": "id,secret"})
    assert bad.status_code == 400 and "'secret' is not a field of webhooks" in bad.json()["error"]["message"]
    assert seed.stamp(START) == first["created_at"]


def test_the_conformance_check_knows_the_activate_route_and_a_delete_s_404():
    """The reference's activate route is checked against the shape the fake infers; a DELETE's 404 against Error."""
    assert clio_openapi.problems("PUT", "/api/v4/webhooks/7/activate", 200, {"data": {"id": 7, "status": "on"}})
    assert clio_openapi.problems("PUT", "/api/v4/webhooks/7/activate", 200, {"data": {"id": 7}}) == []
    assert clio_openapi.problems("PUT", "/api/v4/webhooks/7/activate", 418, {}) != []
    assert clio_openapi.problems("DELETE", "/api/v4/webhooks/7.json", 404, {"error": "gone"}) != []
    assert (
        clio_openapi.problems("DELETE", "/api/v4/webhooks/7.json", 404, {"error": {"type": "x", "message": "y"}}) == []
    )
