"""Nothing sent to the work-item routes is accepted and dropped: a member the route does not take is a 400
naming it (emulator/envelopes.py lists what each route takes); members it takes still work, in any case."""

from __future__ import annotations

import pytest

from emulator.envelopes import CREATE_MEMBERS, UPDATE_MEMBERS

V1 = "/api/v1/public/workItem"
TASK = "4d000000-0000-4000-8000-000000000002"  # TSK-00002, in progress under MAT-00002
MATTER = "3c000000-0000-4000-8000-000000000002"


def matter(**extra):
    return {"workItem": {"sharedoTypeSystemName": "matter-private-client", "title": "Envelope test"}, **extra}


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json["errors"]}


def test_create_with_top_level_attributes_is_refused_naming_the_member_and_the_route_to_use(operate):
    api = operate.api()
    before = len(operate.events("sharedo-created"))
    response = api.post(V1, matter(attributes={"pmsReference": "PMS-1"}))
    assert response.status_code == 400, response.json
    message = fields(response)["attributes"]
    assert "does not take 'attributes'" in message and "/attributes" in message
    assert len(operate.events("sharedo-created")) == before  # nothing was created


def test_update_with_attributes_is_refused_and_changes_nothing(operate):
    api = operate.api()
    response = api.put(f"{V1}/{TASK}", {"workItem": {"title": "Renamed"}, "attributes": {"priority": "1"}})
    assert response.status_code == 400, response.json
    assert "attributes" in fields(response)
    assert operate.work_item(TASK)["workItem"]["title"] != "Renamed"
    assert "priority" not in operate.emulator.workitems.attributes(TASK)


@pytest.mark.parametrize(
    "member, value, hint",
    [
        ("dueDate", "2026-02-01", "aspectData.task.dueDateTime"),
        ("phase", "task-done", "/phase"),
        ("participants", [], "/participants"),
        ("parentSharedoId", MATTER, "when it is created"),
        ("notes", "x", None),
        ("ATTRIBUTES", {}, "/attributes"),
    ],
)
def test_every_unknown_member_of_an_update_is_refused(operate, member, value, hint):
    response = operate.api().put(f"{V1}/{TASK}", {"workItem": {"title": "x"}, member: value})
    assert response.status_code == 400, response.json
    message = fields(response)[member]
    assert ", ".join(UPDATE_MEMBERS) in message
    if hint:
        assert hint in message


@pytest.mark.parametrize("member", ["id", "phase", "createdDate", "dueDate", "Attributes"])
def test_seed_only_and_unknown_members_of_a_create_are_refused(operate, member):
    response = operate.api().post(V1, matter(**{member: "2026-01-01"}))
    assert response.status_code == 400, response.json
    assert ", ".join(CREATE_MEMBERS) in fields(response)[member]


def test_unknown_workitem_members_are_refused_but_the_official_samples_typo_is_taken(operate):
    api = operate.api()
    bad = api.post(V1, {"workItem": {"sharedoTypeSystemName": "task", "title": "t", "dueDate": "2026-01-01"}})
    assert bad.status_code == 400 and "workItem.dueDate" in fields(bad)
    # S5's agent.js sends `referenecIsUserProvided`; it runs against tenants, so it runs here
    good = api.post(V1, {"workItem": {"sharedoTypeSystemName": "task", "title": "t", "referenecIsUserProvided": True}})
    assert good.status_code == 201, good.json


def test_what_a_client_read_can_be_sent_back_but_a_changed_read_only_member_is_refused(operate):
    api = operate.api()
    read = operate.work_item(TASK)
    read["workItem"]["title"] = "Raise enquiries today"
    echoed = api.put(f"{V1}/{TASK}", read)  # as the mobile app saves a task: what it read, edited
    assert echoed.status_code == 200, echoed.json
    assert echoed.json["workItem"]["title"] == "Raise enquiries today"

    read["workItem"]["phaseSystemName"] = "task-done"
    moved = api.put(f"{V1}/{TASK}", read)
    assert moved.status_code == 400
    assert "read-only" in fields(moved)["workItem.phaseSystemName"]
    assert operate.work_item(TASK)["workItem"]["phaseSystemName"] == "task-in-progress"


def test_members_bind_in_any_letter_case(operate):
    created = operate.api().post(
        V1, {"WorkItem": {"SharedoTypeSystemName": "task", "Title": "Cased"}, "ParentSharedoId": MATTER}
    )
    assert created.status_code == 201, created.json
    assert created.json["workItem"]["parentSharedoId"] == MATTER


def test_an_external_reference_is_taken_on_create_and_read_only_after(operate):
    api = operate.api()
    created = api.post(V1, {"workItem": {"sharedoTypeSystemName": "task", "title": "t", "externalReference": "X-1"}})
    assert created.status_code == 201, created.json
    read = operate.work_item(created.json["workItem"]["id"])
    assert read["workItem"]["externalReference"] == "X-1"
    assert api.put(f"{V1}/{read['workItem']['id']}", read).status_code == 200  # sent back unchanged: fine
    read["workItem"]["externalReference"] = "X-2"
    changed = api.put(f"{V1}/{read['workItem']['id']}", read)
    assert changed.status_code == 400 and "workItem.externalReference" in fields(changed)
