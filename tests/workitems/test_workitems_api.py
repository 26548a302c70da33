import pytest

from tests.conftest import CLIENT_PERSON, ENQUIRY_MATTER, OPEN_MATTER, SUPPLIER_ORG, events_of, new_matter

V1 = "/api/v1/public/workItem"


def test_create_returns_the_work_item_in_its_start_phase(api):
    response = api.post(
        V1,
        {
            "workItem": {
                "sharedoTypeSystemName": "matter-private-client",
                "title": "Smith purchase",
                "description": "Freehold",
            },
            "aspectData": {"matterDetails": {"value": 250000}},
            "keyDates": {"kd-instruction-date": "2026-01-05"},
            "participants": [{"roleSystemName": "client", "odsId": CLIENT_PERSON}],
        },
    )
    assert response.status_code == 201
    wi = response.json["workItem"]
    assert wi["sharedoTypeSystemName"] == "matter-private-client"
    assert wi["phaseSystemName"] == "matter-enquiry"  # inherited from the abstract matter type
    assert wi["reference"].startswith("MAT-") and wi["referenceIsUserProvided"] is False
    assert wi["createdDate"] == "2026-01-05T09:00:00.000Z"
    got = api.get(f"{V1}/{wi['id']}").json
    assert got["aspectData"] == {"matterDetails": {"value": 250000}}
    assert got["keyDates"] == {"kd-instruction-date": "2026-01-05T00:00:00.000Z"}
    parts = api.get(f"/api/v2/public/workItem/{wi['id']}/participants").json
    assert [(p["participantRoleType"], p["odsId"], p["odsName"]) for p in parts] == [
        ("client", CLIENT_PERSON, "Margaret Ellison")
    ]


def test_generated_references_do_not_collide_with_seeded_ones(api):
    seeded = {
        r["data"]["reference"]
        for r in api.post(
            f"{V1}/findByQuery", {"search": {"page": {"rowsPerPage": 100}}, "enrich": [{"path": "reference"}]}
        ).json["results"]
    }
    assert "MAT-00001" in seeded
    refs = {new_matter(api)["reference"] for _ in range(3)}
    assert len(refs) == 3 and not refs & seeded


def test_create_binds_keys_case_insensitively_and_takes_a_parent(api):
    response = api.post(
        V1,
        {
            "ParentSharedoId": OPEN_MATTER,
            "WorkItem": {"SharedoTypeSystemName": "task", "Title": "Chase searches", "Reference": "T-1"},
        },
    )
    assert response.status_code == 201, response.json
    wi = response.json["workItem"]
    assert (wi["parentSharedoId"], wi["reference"], wi["referenceIsUserProvided"]) == (OPEN_MATTER, "T-1", True)


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({}, "workItem", "required"),
        ({"workItem": {"title": "x"}}, "workItem.sharedoTypeSystemName", "required"),
        ({"workItem": {"sharedoTypeSystemName": "matter-private-client"}}, "workItem.title", "required"),
        (
            {"workItem": {"sharedoTypeSystemName": "spaceship", "title": "x"}},
            "workItem.sharedoTypeSystemName",
            "unknown work type",
        ),
        ({"workItem": {"sharedoTypeSystemName": "matter", "title": "x"}}, "workItem.sharedoTypeSystemName", "abstract"),
        ({"workItem": {"sharedoTypeSystemName": "task", "title": 42}}, "workItem.title", "expected a string"),
        ({"workItem": "task"}, "workItem", "expected an object"),
        (
            {"workItem": {"sharedoTypeSystemName": "task", "title": "x"}, "parentSharedoId": "nope"},
            "parentSharedoId",
            "GUID",
        ),
        (
            {
                "workItem": {"sharedoTypeSystemName": "task", "title": "x"},
                "parentSharedoId": "00000000-0000-4000-8000-000000000000",
            },
            "parentSharedoId",
            "no work item",
        ),
        (
            {
                "workItem": {"sharedoTypeSystemName": "task", "title": "x"},
                "participants": [{"roleSystemName": "client", "odsId": CLIENT_PERSON}],
            },
            "participants[0].roleSystemName",
            "no role",
        ),
        (
            {"workItem": {"sharedoTypeSystemName": "task", "title": "x"}, "participants": {"a": 1}},
            "participants",
            "expected an array",
        ),
        (
            {
                "workItem": {"sharedoTypeSystemName": "matter-commercial", "title": "x"},
                "keyDates": {"kd-instruction-date": "soon"},
            },
            "keyDates.kd-instruction-date",
            "ISO 8601",
        ),
        (
            {
                "workItem": {"sharedoTypeSystemName": "matter-commercial", "title": "x"},
                "keyDates": {"kd-made-up": "2026-01-01"},
            },
            "keyDates.kd-made-up",
            "no key date",
        ),
        (
            {"workItem": {"sharedoTypeSystemName": "task", "title": "x"}, "aspectData": {"task": 5}},
            "aspectData.task",
            "must be an object",
        ),
        ({"workItem": {"sharedoTypeSystemName": "task", "title": "x" * 401}}, "workItem.title", "longer than"),
        ([1, 2], "(body)", "expected an object"),
    ],
)
def test_bad_create_bodies_get_a_400_naming_the_field(api, body, field, words):
    response = api.post(V1, body)
    assert response.status_code == 400, response.json
    assert any(e["field"] == field and words in e["message"] for e in response.json["errors"]), response.json
    assert field in response.json["title"] or response.json["errors"][0]["field"] == field
    assert events_of(api) == []


def test_one_role_one_holder_unless_the_type_allows_more(api):
    response = api.post(
        V1,
        {
            "workItem": {"sharedoTypeSystemName": "matter-commercial", "title": "x"},
            "participants": [
                {"roleSystemName": "primary-owner", "odsId": CLIENT_PERSON},
                {"roleSystemName": "primary-owner", "odsId": "1a000000-0000-4000-8000-000000000002"},
            ],
        },
    )
    assert response.status_code == 400
    assert "can hold only one" in response.json["title"]


@pytest.mark.parametrize(
    "raw, words",
    [(b"{not json", "not valid JSON"), (b"", "empty"), (b"\xff\xfe", "not UTF-8"), (b"[1,", "not valid JSON")],
)
def test_malformed_bodies_are_400_with_a_reason(api, raw, words):
    response = api.request("POST", V1, data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert words in response.json["title"]


def test_bodies_over_5_mb_are_413(api):
    big = b'{"workItem": {"title": "' + b"x" * (5 * 1024 * 1024 + 10) + b'"}}'
    response = api.request("POST", V1, data=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "5 MB" in response.json["title"]


def test_get_unknown_or_malformed_id_is_404(api):
    assert api.get(f"{V1}/00000000-0000-4000-8000-000000000000").status_code == 404
    response = api.get(f"{V1}/not-a-guid")
    assert response.status_code == 404 and "not-a-guid" in response.json["title"]


def test_routes_answer_with_and_without_trailing_slash_and_in_lower_case(api):
    assert api.get(f"{V1}/{OPEN_MATTER}/").status_code == 200
    assert api.get(f"/api/v1/public/workitem/{OPEN_MATTER}").status_code == 200
    assert api.post("/api/v1/public/workitem/findbyquery/", {"search": {}}).status_code == 200
    assert api.post(f"{V1}/", {"workItem": {"sharedoTypeSystemName": "task", "title": "t"}}).status_code == 201


def test_unknown_route_and_wrong_method_are_json(api):
    missing = api.get("/api/v1/public/nothing-here")
    assert missing.status_code == 404 and "no route" in missing.json["title"]
    wrong = api.request("PATCH", f"{V1}/{OPEN_MATTER}")
    assert wrong.status_code == 405 and "PATCH" in wrong.json["title"]


def test_update_changes_given_fields_merges_aspect_data_and_raises_one_event(api):
    wi = new_matter(api, aspectData={"matterDetails": {"a": 1, "b": 2}})
    response = api.put(
        f"{V1}/{wi['id']}",
        {
            "workItem": {"title": "New title"},
            "aspectData": {"matterDetails": {"b": 3}},
            "keyDates": {"kd-instruction-date": "2026-02-01T10:00:00Z"},
        },
    )
    assert response.status_code == 200
    assert response.json["workItem"]["title"] == "New title"
    assert response.json["workItem"]["description"] is None
    assert response.json["aspectData"] == {"matterDetails": {"a": 1, "b": 3}}
    updated = events_of(api, "sharedo-updated")
    assert [e["Data"]["changedFields"] for e in updated] == [
        ["title", "aspectData.matterDetails", "keyDates.kd-instruction-date"]
    ]
    api.put(f"{V1}/{wi['id']}", {"workItem": {"title": "New title"}})
    assert len(events_of(api, "sharedo-updated")) == 1  # nothing changed, nothing raised


def test_update_refuses_a_type_change_and_bad_values(api):
    assert api.put(f"{V1}/{OPEN_MATTER}", {"workItem": {"sharedoTypeSystemName": "task"}}).status_code == 400
    response = api.put(f"{V1}/{OPEN_MATTER}", {"workItem": {"title": ""}})
    assert response.status_code == 400 and response.json["errors"][0]["field"] == "workItem.title"
    assert api.put(f"{V1}/00000000-0000-4000-8000-000000000000", {"workItem": {"title": "x"}}).status_code == 404


def test_phase_shows_available_transitions(api):
    phase = api.get(f"{V1}/{ENQUIRY_MATTER}/phase").json
    assert phase["systemName"] == "matter-enquiry" and phase["isOpen"] is True
    assert {t["toPhaseSystemName"] for t in phase["availableTransitions"]} == {
        "matter-open",
        "matter-closed",
        "matter-removed",
    }
    assert all(
        {"name", "isOptimumPath", "isUserDriven", "toPhaseIconClass"} <= set(t) for t in phase["availableTransitions"]
    )


def test_phase_change_moves_and_raises_the_event(api):
    response = api.put(
        f"{V1}/{ENQUIRY_MATTER}/phase",
        {"toPhaseSystemName": "matter-open", "description": "Instructed", "reasonText": "Engaged"},
    )
    assert response.status_code == 200
    assert response.json == {"systemName": "matter-open", "name": "Open"}
    assert api.get(f"{V1}/{ENQUIRY_MATTER}").json["workItem"]["phaseSystemName"] == "matter-open"
    (event,) = events_of(api, "sharedo-phase-changed")
    assert event["Data"] == {
        "sharedoId": ENQUIRY_MATTER,
        "sharedoTypeSystemName": "matter-private-client",
        "fromPhase": "matter-enquiry",
        "toPhase": "matter-open",
        "reason": "Engaged",
    }


def test_an_illegal_transition_is_400_naming_the_legal_ones(api):
    response = api.put(f"{V1}/{OPEN_MATTER}/phase", {"toPhaseSystemName": "matter-enquiry"})
    assert response.status_code == 400
    assert "legal transitions: ['matter-closed']" in response.json["title"]
    unknown = api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {"toPhaseSystemName": "on-the-moon"})
    assert unknown.status_code == 400 and "unknown phase" in unknown.json["title"]
    assert api.put(f"{V1}/{ENQUIRY_MATTER}/phase", {}).status_code == 400
    assert events_of(api) == []


def test_attributes_set_read_clear(api):
    base = f"{V1}/{OPEN_MATTER}/attributes"
    assert api.get(base).json["pmsReference"] == "PMS-260102"
    assert api.post(f"{base}/riskRating/", {"value": "high"}).json == {"name": "riskRating", "value": "high"}
    assert api.get(f"{base}/riskRating").json == {"name": "riskRating", "value": "high"}
    assert api.post(f"{base}/riskRating", {"value": None}).json == {"name": "riskRating", "value": None}
    assert api.get(f"{base}/riskRating").status_code == 404
    assert [e["Data"]["newValue"] for e in events_of(api, "attribute-changed")] == ["high", None]


def test_attributes_put_a_map(api):
    response = api.put(f"{V1}/{OPEN_MATTER}/attributes", {"a": "1", "b": "2"})
    assert response.status_code == 200 and response.json["a"] == "1" and response.json["b"] == "2"
    assert len(events_of(api, "attribute-changed")) == 2


@pytest.mark.parametrize("body, field", [({"value": 5}, "value"), ({}, "value"), ({"value": ["x"]}, "value")])
def test_bad_attribute_values_are_400(api, body, field):
    response = api.post(f"{V1}/{OPEN_MATTER}/attributes/x", body)
    assert response.status_code == 400 and response.json["errors"][0]["field"] == field


def test_participants_add_and_remove(api):
    base = f"/api/v2/public/workItem/{OPEN_MATTER}/participants"
    before = api.get(base).json
    added = api.post(base, {"roleSystemName": "other-side", "odsId": SUPPLIER_ORG})
    assert added.status_code == 201
    assert added.json["odsType"] == "organisation" and added.json["participantRoleTypeName"]
    assert len(api.get(base).json) == len(before) + 1
    assert api.post(base, {"roleSystemName": "other-side", "odsId": SUPPLIER_ORG}).status_code == 409
    bad_role = api.post(base, {"roleSystemName": "judge", "odsId": SUPPLIER_ORG})
    assert bad_role.status_code == 400 and "no role" in bad_role.json["title"]
    no_ods = api.post(base, {"roleSystemName": "other-side", "odsId": "00000000-0000-4000-8000-000000000000"})
    assert no_ods.status_code == 400 and no_ods.json["errors"][0]["field"] == "odsId"
    assert api.delete(f"{base}/{added.json['id']}").status_code == 204
    assert api.delete(f"{base}/{added.json['id']}").status_code == 404
    assert [e["eventType"] for e in events_of(api)] == ["participant-added", "participant-removed"]


def test_comments_and_chronology(api):
    base = f"{V1}/{OPEN_MATTER}"
    assert api.post(f"{base}/comments", {"comment": "Called the client"}).status_code == 201
    assert api.post(f"{base}/comments", {"comment": ""}).status_code == 400
    page = api.get(f"{base}/comments?startPage=1&rowsPerPage=10").json
    assert page["totalRows"] == 1 and page["rows"][0]["comment"] == "Called the client"
    assert page["rows"][0]["userFullName"] == "demo-client" and page["rows"][0]["userId"] is None
    assert api.get(f"{base}/comments?rowsPerPage=lots").status_code == 400
    api.put(f"{base}/phase", {"toPhaseSystemName": "matter-closed"})
    chron = api.get(f"{base}/chronology?rowsPerPage=10&startPage=1").json
    assert [c["poiSystemName"] for c in chron["rows"]] == ["milestone", "comment"]


def test_chronology_can_include_children(api):
    task = api.post(
        V1, {"parentSharedoId": OPEN_MATTER, "workItem": {"sharedoTypeSystemName": "task", "title": "t"}}
    ).json["workItem"]
    own = api.get(f"{V1}/{OPEN_MATTER}/chronology").json
    with_children = api.get(f"{V1}/{OPEN_MATTER}/chronology?includeChildren=true").json
    assert own["totalRows"] == 0
    assert [c["sharedoId"] for c in with_children["rows"]] == [task["id"]]
