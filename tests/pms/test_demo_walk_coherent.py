"""The demo is one firm end to end: after the README's walk (a matter created and opened through the API, a
matter opened in the demo PMS, the clock moved, Clio connected through the fake's own sign-in page, one case
and then all cases synced), no plan execution is ERRORED, and every Clio matter imported open is in the demo
PMS with the fee earner who is its responsible attorney in Clio.

The fake Clio firm (pms_adapters/fakes/clio/seed.py), the demo solution's people (emulator/demo_solution/ods) and the
demo PMS's fee earners (pms_adapters/fakes/demo_pms/seed.py) describe the same people; this is what breaks
when they drift.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from pms_adapters.fakes.demo_pms.app import create_app as create_pms

V1 = "/api/v1/public/workItem"
CLIO = "/api/_emulator/integrations/clio"
EXECUTING = "/api/executionengine/plans/executing"
NORTHGATE = "2b000000-0000-4000-8000-000000000001"
PRIYA = "1a000000-0000-4000-8000-000000000001"
README_MATTER = "1180000003"  # the README's `operate sync clio --matter https://app.clio.com/nc/#/matters/1180000003`


def connect_as_priya(operate, clio) -> None:
    """Integrate with Clio as the README says: the authorize URL, the fake's page, Allow Access, the callback."""
    api = operate.api("priya.shah")
    authorize = api.post(f"{CLIO}/connect", {"returnTo": "/settings/integrations"}).json["authorizeUrl"]
    with httpx.Client(trust_env=False, timeout=30) as browser:
        page = browser.get(authorize)
        assert page.status_code == 200 and "Allow Access" in page.text
        user = re.search(r'name="user_id" value="(\d+)"', page.text) or re.search(r'value="(\d+)"', page.text)
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        query = {k: v for k, v in httpx.URL(authorize).params.items()}
        answer = browser.post(
            urlsplit(authorize)._replace(query="").geturl(),
            data={**query, **form, "user_id": user.group(1), "decision": "allow"},
        )
    back = urlsplit(answer.headers["Location"])
    assert operate.app.test_client().get(f"{back.path}?{back.query}").status_code in (200, 302)
    assert api.get(CLIO).json["state"] == "connected"


def test_the_readme_walk_leaves_nothing_errored_and_the_pms_has_the_clio_matters_with_their_fee_earners(operate, clio):
    api = operate.api()
    # The API walk: a matter for a client, with a fee earner, opened; matter-inception sends it to the PMS.
    created = api.post(
        V1,
        {
            "workItem": {"sharedoTypeSystemName": "matter-commercial", "title": "Acme v Widgets"},
            "participants": [
                {"roleSystemName": "client", "odsId": NORTHGATE},
                {"roleSystemName": "fee-earner", "odsId": PRIYA},
            ],
        },
    )
    assert created.status_code == 201, created.json
    opened = created.json["workItem"]["id"]
    assert api.put(f"{V1}/{opened}/phase", {"toPhaseSystemName": "matter-open"}).status_code == 200

    # Work in the PMS: a matter opened there reaches Operate within a minute on the clock.
    pms = create_pms(operate.pms).test_client()
    incepted = pms.post(
        "/api/matters/incept",
        json={"title": "Tulloch - probate", "feeEarner": "daniel.okafor", "clientId": "CLI-0003",
              "practiceArea": "private-client"},
        headers={"X-API-Key": "demo-pms-key"},
    )  # fmt: skip
    assert incepted.status_code in (200, 201), incepted.json
    operate.advance("PT1M")
    operate.advance("PT20M")

    # Clio: connect, Individual Case (the README's matter), then All Cases.
    connect_as_priya(operate, clio)
    priya = operate.api("priya.shah")
    one = priya.post(f"{CLIO}/sync", {"mode": "matter", "matter": f"https://app.clio.com/nc/#/matters/{README_MATTER}"})
    assert one.status_code == 200 and one.json["result"]["result"] == "imported", one.json
    run = priya.post(f"{CLIO}/sync", {"mode": "all", "wait": True}).json
    assert run["state"] == "done" and run["counts"]["imported"] > 10, run
    operate.advance("PT20M")  # the messages and documents pushes run
    operate.advance("P1D")

    errored = api.get(f"{EXECUTING}?state=ERRORED").json
    assert [(e["planSystemName"], e["lastErrored"]) for e in errored] == []
    assert len(api.get(f"{EXECUTING}?plan=matter-inception&state=STOPPED").json) > 10

    # Every Clio matter imported open went to the PMS with its responsible attorney as the fee earner.
    earners = {e.operate_ods_id: e.code for e in operate.pms.fee_earners.values()}
    results = priya.get(f"{CLIO}/runs/{run['id']}/results").json["rows"] + [one.json["result"]]
    incepted_from_clio = 0
    for row in results:
        if row["result"] != "imported":
            continue
        item = api.get(f"{V1}/{row['workItemId']}").json["workItem"]
        if item["phaseSystemName"] != "matter-open":
            continue
        participants = api.get(f"/api/v2/public/workItem/{row['workItemId']}/participants").json
        (fee_earner,) = [p["odsId"] for p in participants if p["participantRoleType"] == "fee-earner"]
        (matter,) = operate.pms.find_matters(operate_id=row["workItemId"])
        assert matter.fee_earner == earners[fee_earner], (row["displayNumber"], matter.fee_earner)
        incepted_from_clio += 1
    assert incepted_from_clio > 10
