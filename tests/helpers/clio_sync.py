"""The Clio sync as a user drives it, in process: an emulator on the demo with the fake Clio firm (the fixture
`env`, each of the fake's answers checked against Clio's OpenAPI document), the user's API calls, the connect
through Clio's consent page, what the seed's rules say of a matter, and one matter imported."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import ApiClient
from tests.conftest import START
from tests.helpers.clio_openapi import Conformance

CLIO = "/api/_emulator/integrations/clio"


@pytest.fixture
def env(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "data", demo=True, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    conformance = Conformance()
    em.clio.observers.append(conformance)
    yield app, em
    em.close()
    assert conformance.problems == [], "answers that do not conform to Clio's OpenAPI document"


def api_as(app, user: str) -> ApiClient:
    """The user's calls, each with a fresh token (the tests move the clock by days)."""
    em = app.extensions["operate"]
    return ApiClient(app, lambda renew=False: f"Bearer {em.identity.issue('operate-portal', user)}")


def connect(app, decision: str = "allow", user: str = "priya.shah") -> tuple[int, bytes]:
    """The browser's part: "Integrate with Clio" → Clio's page → Allow (or Deny) → the callback."""
    em = app.extensions["operate"]
    started = api_as(app, user).post(f"{CLIO}/connect", {})
    assert started.status_code == 200, started.json
    url = urlsplit(started.json["authorizeUrl"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    fake = em.clio.fake_app.test_client()
    page = fake.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and b"Allow" in page.data
    answer = fake.post(
        "/oauth/authorize", data={**query, "user_id": str(min(em.clio.fake.users)), "decision": decision}
    )
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    callback = app.test_client().get(f"{back.path}?{back.query}")
    return callback.status_code, callback.data


def expected_outcome(em, matter: dict) -> str:
    """What the seed's rules say of one fake matter, worked out from the fake's own records."""
    fake, mapping = em.clio.fake, em.clio.mappings.get()
    area = fake.practice_areas.get((matter.get("practice_area") or {}).get("id"))
    if area is None:
        return "skipped: the matter has no practice area"
    stage = fake.matter_stages.get((matter.get("matter_stage") or {}).get("id"))
    if stage is not None and stage["name"] not in mapping["stages"]:
        return "skipped: stage"
    if matter.get("responsible_attorney") is None:
        return "skipped: the matter has no responsible attorney"
    client = fake.contacts[matter["client"]["id"]]
    if not any(p["name"] in ("Mobile", "Personal") for p in client["phone_numbers"]):
        return "skipped: no mobile phone"
    return "imported"


def imported_matter(app, em) -> tuple[int, str]:
    connect(app)
    matter = next(m for m in em.clio.fake.matters.values() if expected_outcome(em, m) == "imported")
    result = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "matter", "matter": matter["id"]}).json
    return matter["id"], result["result"]["workItemId"]
