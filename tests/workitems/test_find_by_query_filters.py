"""findByQuery as the vendor's samples call it: every filter they send changes the rows, and every enrich value
they read is one they can parse.

The samples' files are in tests/fixtures/official/ unmodified. The JavaScript clients run in V8 with their
imports bound to a recorder, so the body sent is the one the file builds. The C# clients' bodies are read from
their anonymous objects and serialised as System.Text.Json's web defaults do (camelCase), and also as written
(PascalCase). The pages that read the answer (Tasks.vue) run in V8 too, with `new Date(...)` and all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from py_mini_racer import MiniRacer

from tests.conftest import OPEN_MATTER, Api, user_token
from tests.helpers.paths import FIXTURES

FIND = "/api/v1/public/workItem/findByQuery"
OFFICIAL = FIXTURES / "official"
FILING = OFFICIAL / "sharedo_api_samples/documents/filing/Filing.App/Sharedo/WorkItemSearches.cs"
MY_MATTERS = OFFICIAL / "sharedo_api_samples/time/entry/app/Sharedo/MyMattersApi.cs"
AUTH = OFFICIAL / "sharedo-auth-samples"
MOBILE = OFFICIAL / "sharedo-sample-mobile-app/src/agents"

PRIYA = "1a000000-0000-4000-8000-000000000001"  # priya.shah: primary owner of MAT-00001/3/4/6/9/11
DANIEL = "1a000000-0000-4000-8000-000000000002"  # daniel.okafor: primary owner of MAT-00002/5/7/8/10/12
TOM = "1a000000-0000-4000-8000-000000000004"  # tom.becker: owns no matter; fee earner on MAT-00001
OWEN = "1a000000-0000-4000-8000-000000000006"  # Owen Pritchard, client on MAT-00002 and MAT-00010
USERS = {PRIYA: "priya.shah", DANIEL: "daniel.okafor", TOM: "tom.becker"}


# -- the C# samples: their anonymous request objects, read as data ------------------------------------------


_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+)|(?P<name>[A-Za-z_]\w*)|(?P<punct>[{}\[\]=,]))')


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text) and text[pos:].strip():
        m = _TOKEN.match(text, pos)
        assert m, f"cannot read C# at {text[pos : pos + 40]!r}"
        out.append(m.group(m.lastgroup))
        pos = m.end()
    return out


def _csharp_value(tokens: list[str], at: int, env: dict[str, Any], camel: bool) -> tuple[Any, int]:
    """One C# expression of the kinds the samples' request objects use: `new { A = .. }`, `new[] { .. }`,
    literals and names (method parameters, class fields)."""
    tok = tokens[at]
    if tok == "new" and tokens[at + 1] == "{":
        out, at = {}, at + 2
        while tokens[at] != "}":
            name, eq = tokens[at], tokens[at + 1]
            assert eq == "=", f"expected '=' after {name}"
            value, at = _csharp_value(tokens, at + 2, env, camel)
            out[name[0].lower() + name[1:] if camel else name] = value
            at += 1 if tokens[at] == "," else 0
        return out, at + 1
    if tok == "new" and tokens[at + 1 : at + 4] == ["[", "]", "{"]:
        items, at = [], at + 4
        while tokens[at] != "}":
            value, at = _csharp_value(tokens, at, env, camel)
            items.append(value)
            at += 1 if tokens[at] == "," else 0
        return items, at + 1
    if tok.startswith('"'):
        return json.loads(tok), at + 1
    if tok.lstrip("-").isdigit():
        return int(tok), at + 1
    if tok in ("true", "false"):
        return tok == "true", at + 1
    assert tok in env, f"the sample's request names {tok!r}; bind it"
    return env[tok], at + 1


def _object_after(source: str, marker: str) -> str:
    """The text of the `new { ... }` that follows `marker`, braces balanced."""
    start = source.index("new", source.index(marker))
    depth, i = 0, source.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        if depth == 0:
            return source[start : i + 1]
        i += 1


def csharp_request(path: Path, method: str, camel: bool = True, **params: Any) -> dict[str, Any]:
    """The body a sample method posts, with its parameters bound to `params`."""
    source = path.read_text(encoding="utf-8-sig")
    env = dict(params)
    fields = re.search(r"object\[\] EnrichmentFields = (new\[\].*?});", source, re.S)
    if fields:
        env["EnrichmentFields"] = _csharp_value(_tokens(fields.group(1)), 0, {}, camel)[0]
    body = source[source.index(f" {method}(") :]
    marker = "searchRequest = " if "searchRequest = " in body else "JsonContent.Create("
    value, _ = _csharp_value(_tokens(_object_after(body, marker)), 0, env, camel)
    return value


# -- the JavaScript samples: run in V8, their imports bound to a recorder ----------------------------------------

_IMPORT = re.compile(r"^import\s+(?:(?P<default>\w+)|\{(?P<names>[^}]*)\})\s+from\s+['\"][^'\"]+['\"];?\s*$", re.M)


def _module(source: str, bindings: dict[str, str]) -> str:
    """An ES module as a function returning its default export; each import is bound to a JS expression."""
    names = []
    for m in _IMPORT.finditer(source):
        names += [m.group("default")] if m.group("default") else [n.strip() for n in m.group("names").split(",")]
    missing = [n for n in names if n not in bindings]
    assert not missing, f"bind the module's imports {missing}"
    body = _IMPORT.sub("", source).replace("export default", "__default =")
    declared = "".join(f"var {n} = {bindings[n]};\n" for n in names)
    return f"(function () {{ var __default;\n{declared}{body}\n; return __default; }})()"


RECORDER = """
var __calls = [];
function __record(url, body) { __calls.push({url: url, body: body}); return {then: function () {}}; }
"""


def js_request(path: Path, call: str, user_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """Run `call` on the module's default export; give back the (url, body) it posted."""
    profile = json.dumps({"userId": user_id})
    bindings = {
        "settings": json.dumps({"api": ""}),
        "post": "__record",
        "implicit": json.dumps({"auth": {"userId": user_id, "token": "t"}}),
        "profile": profile,
        "SharedoFetch": "{post: __record, get: __record}",
        "SharedoProfile": json.dumps({"profile": {"userId": user_id}}),
    }
    with MiniRacer() as js:
        js.eval(RECORDER)
        js.eval(f"var agent = {_module(path.read_text(encoding='utf-8'), bindings)}; agent.{call};")
        (sent,) = json.loads(js.eval("JSON.stringify(__calls)"))
    return sent["url"], sent["body"]


def vue_page_rows(path: Path, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Mount a sample's Tasks.vue page on `answer` (what its agent's promise gives) and read its rows."""
    script = re.search(r"<script>(.*?)</script>", path.read_text(encoding="utf-8"), re.S).group(1)
    agent = "{getMyTasks: function () { return {then: function (f) { f(ANSWER); }}; }}".replace(
        "ANSWER", json.dumps(answer)
    )
    with MiniRacer() as js:
        js.eval(f"var page = {_module(script, {'tasksAgent': agent})};")
        return json.loads(js.eval("var vm = page.data(); page.mounted.call(vm); JSON.stringify(vm.tasks)"))


def as_user(app, user_id: str) -> Api:
    return Api(app, user_token(app, USERS[user_id]))


def post(api: Api, url: str, body: Any) -> dict[str, Any]:
    response = api.post(url, body)
    assert response.status_code == 200, response.json
    return response.json


def refs(answer: dict[str, Any]) -> list[str]:
    return [r["data"]["reference"] for r in answer["results"]]


# -- A8: the time-entry app's "my matters" --------------------------------------------------------------------


@pytest.mark.parametrize("camel", [True, False], ids=["wire-camelCase", "source-PascalCase"])
def test_my_matters_are_the_owners_open_matters_and_two_owners_differ(api, camel):
    priya = post(api, FIND, csharp_request(MY_MATTERS, "GetUserMatters", camel, userId=PRIYA))
    daniel = post(api, FIND, csharp_request(MY_MATTERS, "GetUserMatters", camel, userId=DANIEL))
    assert sorted(refs(priya)) == ["MAT-00001", "MAT-00003", "MAT-00004", "MAT-00006", "MAT-00011"]
    assert sorted(refs(daniel)) == ["MAT-00002", "MAT-00005", "MAT-00007", "MAT-00010", "MAT-00012"]
    assert priya["totalCount"] == 5  # MAT-00009 is Priya's too, but closed: IncludeClosed false
    assert all(set(r["data"]) == {"reference", "title"} and r["data"]["title"] for r in priya["results"])
    assert post(api, FIND, csharp_request(MY_MATTERS, "GetUserMatters", camel, userId=TOM))["totalCount"] == 0


def test_my_matters_sort_by_updated_date_descending(api):
    body = csharp_request(MY_MATTERS, "GetUserMatters", userId=DANIEL)
    assert refs(post(api, FIND, body))[0] != "MAT-00002"
    assert api.post("/api/_emulator/clock", {"advance": "P90D"}).status_code == 200  # past every seed date
    api.put(f"/api/v1/public/workItem/{OPEN_MATTER}", {"workItem": {"title": "Pritchard - touched"}})
    assert refs(post(api, FIND, body))[0] == "MAT-00002"


def test_secondary_scope_is_the_owner_in_another_role(api):
    scope = {"ownerIds": [TOM], "primary": False, "secondary": True}
    search = {"types": {"includeTypesDerivedFrom": ["matter"]}, "ownership": {"myScope": scope}}
    assert refs(post(api, FIND, {"search": search, "enrich": [{"path": "reference"}]})) == ["MAT-00001"]
    scope["primary"] = True
    both = post(api, FIND, {"search": {"ownership": {"myScope": scope}}, "enrich": [{"path": "reference"}]})
    assert sorted(refs(both)) == ["MAT-00001", "TSK-00001", "TSK-00005"]
    scope.update(primary=False, secondary=False)
    assert post(api, FIND, {"search": {"ownership": {"myScope": scope}}})["totalCount"] == 0


def test_scope_without_owner_ids_is_the_callers(app, api):
    body = {"search": {"ownership": {"myScope": {"primary": True}}}, "enrich": [{"path": "reference"}]}
    assert sorted(refs(post(as_user(app, TOM), FIND, body))) == ["TSK-00001", "TSK-00005"]
    assert post(api, FIND, body)["totalCount"] == 0  # plain client credentials: no user, nothing owned


def test_owner_ids_must_be_guids(api):
    response = api.post(FIND, {"search": {"ownership": {"myScope": {"ownerIds": [PRIYA, "priya"]}}}})
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "search.ownership.myScope.ownerIds[1]"


# -- A10: the SPAs' and the Outlook plugin's "my tasks" ---------------------------------------------------------


SPAS = [
    ("implicit/vue-spa/service/tasksAgent.js", "getMyTasks()", "implicit/vue-spa/modules/Tasks.vue"),
    ("implicit/react-spa/model/agents/tasksAgent.js", f"getMyTasks({json.dumps(TOM)})", None),
    ("authCode/vue-spa/service/tasksAgent.js", "getMyTasks()", "authCode/vue-spa/modules/Tasks.vue"),
]


@pytest.mark.parametrize("agent, call, page", SPAS, ids=["implicit-vue", "implicit-react", "authCode-vue"])
def test_spa_my_tasks_rows_show_a_due_date_new_date_parses(app, agent, call, page):
    url, body = js_request(AUTH / agent, call, user_id=TOM)
    answer = post(as_user(app, TOM), url, body)
    assert sorted(refs(answer)) == ["TSK-00001", "TSK-00005"]  # Tom's two tasks, done one included
    (due_path,) = [p["path"] for p in body["enrich"] if p["path"].startswith("taskDueDate")]
    due = {r["data"]["reference"]: r["data"][due_path] for r in answer["results"]}
    with MiniRacer() as js:
        epoch = {ref: js.eval(f"new Date({json.dumps(value)}).getTime()") for ref, value in due.items()}
    assert epoch == {"TSK-00001": 1768582800000, "TSK-00005": 1774026000000}  # 2026-01-16T17:00Z, 2026-03-20T17:00Z
    if page:
        rows = vue_page_rows(AUTH / page, answer)
        assert {r["reference"] for r in rows} == {"TSK-00001", "TSK-00005"}
        assert all(r["due"] != "Invalid Date" and "2026" in r["due"] for r in rows), rows
    other = post(as_user(app, DANIEL), *js_request(AUTH / agent, call.replace(TOM, DANIEL), user_id=DANIEL))
    assert sorted(refs(other)) == ["TSK-00002", "TSK-00004"]


def test_spa_due_date_without_a_task_due_date_is_null_not_a_broken_date(app, api):
    url, body = js_request(AUTH / "implicit/vue-spa/service/tasksAgent.js", "getMyTasks()", user_id=TOM)
    task = "4d000000-0000-4000-8000-000000000005"
    assert api.put(f"/api/v1/public/workItem/{task}", {"aspectData": {"task": {"dueDateTime": ""}}}).status_code == 200
    rows = {r["data"]["reference"]: r["data"] for r in post(as_user(app, TOM), url, body)["results"]}
    assert rows["TSK-00005"]["taskDueDate.date"] is None


def test_outlook_plugin_task_list_reads_a_dotnet_date_time(api):
    # GetWorkItemRequest.ForType("task").EnrichWith(...) serialised with Newtonsoft's camelCase resolver:
    # Paging(50, 1), GetWorkItemTypes.IncludeTypeAndDescendants, GetWorkItemPhases' defaults.
    models = AUTH / "authCode/outlookPlugin/Sharedo.Api/Services/Models"
    assert "Paging(50, 1)" in (models / "GetWorkItemSearchRequest.cs").read_text(encoding="utf-8-sig")
    assert "IncludeClosed = false;" in (models / "GetWorkItemPhases.cs").read_text(encoding="utf-8-sig")
    due_path = re.search(r'JsonProperty\("([^"]+)"\)', (models / "GetWorkItemResponseResultData.cs").read_text())[1]
    body = {
        "search": {
            "page": {"rowsPerPage": 50, "page": 1},
            "types": {"includeTypes": ["task"], "includeTypesDerivedFrom": ["task"]},
            "phase": {"includeOpen": True, "includeClosed": False, "includeRemoved": False},
        },
        "enrich": [{"path": p} for p in ("reference", "title", due_path)],
    }
    answer = post(api, FIND, body)
    assert answer["totalCount"] == 4  # TSK-00001 is done
    for row in answer["results"]:
        value = row["data"]["taskDueDate.date.utc.value"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value), value


# -- A11: the mobile app ------------------------------------------------------------------------------------------


def test_mobile_my_tasks_with_type_names_this_solution_lacks(app):
    url, body = js_request(MOBILE / "tasksAgent.js", "getMyTasks(20, 1)", user_id=DANIEL)
    assert "change-request" in body["search"]["types"]["includeTypes"]  # not a type of the demo solution
    answer = post(as_user(app, DANIEL), url, body)
    assert refs(answer) == ["TSK-00002", "TSK-00004"]  # sort dueDate ascending: 6 March, 27 March
    row = answer["results"][0]["data"]
    assert row["taskDueDate.date.local.value"].startswith("2026-03-06T17:00:00")
    assert row["roles.primary-owner.ods.name"] == "Daniel Okafor"
    assert row["roles.primary-owner.participantType.iconClass"] == "fa-user"
    assert row["type.name"] and row["phase.name"] and row["documents!1.title"] is None


def test_mobile_my_matters_and_free_text_search(app):
    api = as_user(app, PRIYA)
    url, body = js_request(MOBILE / "mattersAgent.js", "list(1, 10)", user_id=PRIYA)
    matters = post(api, url, body)
    titles = [r["data"]["title"] for r in matters["results"]]
    assert titles == sorted(titles) and matters["totalCount"] == 5  # open and enquiry, not the closed MAT-00009
    assert {r["data"]["roles.primary-owner.ods.name"] for r in matters["results"]} == {"Priya Shah"}
    url, body = js_request(MOBILE / "searchAgent.js", 'run("pritchard")')
    found = post(api, url, body)
    assert "MAT-00002" in refs(found) and all("pritchard" in r["data"]["title"].lower() for r in found["results"])


# -- A7: the Filing app's searches ----------------------------------------------------------------------------------


def filing(api: Api, method: str, camel: bool = True, **params: Any) -> list[str]:
    answer = post(api, "/api/v1/public/workitem/findByQuery", csharp_request(FILING, method, camel, **params))
    for r in answer["results"]:  # what WorkItemSearches.Search reads
        assert r["data"]["id"] == r["id"] and r["data"]["phase.systemName"] and r["data"]["type.systemName"]
    return sorted(r["data"]["reference"] for r in answer["results"])


@pytest.mark.parametrize("camel", [True, False], ids=["wire-camelCase", "source-PascalCase"])
def test_filing_client_searches(api, camel):
    assert filing(api, "FindByIds", camel, workItemIds=[OPEN_MATTER]) == ["MAT-00002"]
    assert filing(api, "FindMattersByTitle", camel, title="Pritchard") == ["MAT-00002", "MAT-00010"]
    assert filing(api, "FindMattersByReference", camel, reference="MAT-00002") == ["MAT-00002"]
    assert filing(api, "FindMattersByClientId", camel, clientId=OWEN) == ["MAT-00002", "MAT-00010"]
    assert filing(api, "FindMattersByClientName", camel, clientName="ellison") == ["MAT-00001", "MAT-00008"]
    assert filing(api, "FindMattersByClientName", camel, clientName="Tulloch") == ["MAT-00006", "MAT-00012"]
    assert filing(api, "FindMattersByAttribute", camel, key="pmsReference", value="PMS-260102") == ["MAT-00002"]


def test_filing_roles_with_post_code(api):
    by_post_code = "FindMattersByRolesWithPostCode"
    assert filing(api, by_post_code, roles=["client"], postCode="HG2 7QT") == ["MAT-00001", "MAT-00008"]
    assert filing(api, by_post_code, roles=["client"], postCode="hg27qt") == ["MAT-00001", "MAT-00008"]
    assert filing(api, by_post_code, roles=["client"], postCode="HG4") == ["MAT-00002", "MAT-00010"]
    assert filing(api, by_post_code, roles=["other-side"], postCode="LS6 2DX") == ["MAT-00006"]
    assert filing(api, by_post_code, roles=["client"], postCode="LS6 2DX") == []  # Graham is the other side
    assert filing(api, by_post_code, roles=["client", "other-side"], postCode="DN4") == ["MAT-00004"]


def test_filing_email_search_over_any_role(api):
    assert filing(api, "FindMattersByEmail", email="Owen.Pritchard@example.com") == ["MAT-00002", "MAT-00010"]
    assert filing(api, "FindMattersByEmail", email="accounts@northgate.example") == ["MAT-00003", "MAT-00004"]
    assert filing(api, "FindMattersByEmail", email="nobody@example.com") == []
    with_role = {
        "search": {
            "advancedRoles": [
                {
                    "roles": ["other-side"],
                    "contactDetails": [{"contactType": "email", "value": "graham.tulloch@example.net"}],
                }
            ]
        },
        "enrich": [{"path": "reference"}],
    }
    assert refs(post(api, FIND, with_role)) == ["MAT-00006"]
    with_role["search"]["advancedRoles"][0]["contactDetails"][0]["contactType"] = "mobile"
    assert post(api, FIND, with_role)["totalCount"] == 0


def test_filing_document_expectations_of_a_type_the_solution_lacks_match_nothing(api):
    assert filing(api, "FindDocumentExpectationForMatter", workItemId=OPEN_MATTER) == []
    body = csharp_request(FILING, "FindDocumentExpectationForMatter", workItemId=OPEN_MATTER)
    body["search"]["types"]["includeTypes"] = ["task"]  # the same graph search over a type the demo has
    assert sorted(refs(post(api, FIND, body))) == ["TSK-00001", "TSK-00002"]


# -- what the server refuses, and what it documents as ignored --------------------------------------------------------


@pytest.mark.parametrize(
    "search, field",
    [
        ({"ownership": {"myScope": {"ownerId": PRIYA}}}, "search.ownership.myScope.ownerId"),
        ({"ownership": {"mine": True}}, "search.ownership.mine"),
        ({"roles": [{"role": "client", "subjectIds": [OWEN]}]}, "search.roles[0].subjectIds"),
        ({"advancedRoles": [{"postcode": "HG2", "town": "Harrogate"}]}, "search.advancedRoles[0].town"),
        (
            {"advancedRoles": [{"contactDetails": [{"contactType": "email", "email": "x"}]}]},
            "search.advancedRoles[0].contactDetails[0].email",
        ),
        ({"advancedRoles": [{}]}, "search.advancedRoles[0]"),
        (
            {"advancedRoles": [{"contactDetails": [{"contactType": "email"}]}]},
            "search.advancedRoles[0].contactDetails[0].value",
        ),
        ({"dates": {"created": {"after": "2026-01-01"}}}, "search.dates.created.after"),
        ({"graph": {"ancestorIds": [], "depth": 1}}, "search.graph.depth"),
        ({"freeText": {"input": "x", "wildcardStart": "yes"}}, "search.freeText.wildcardStart"),
    ],
)
def test_an_unknown_or_malformed_member_is_a_400_naming_it(api, search, field):
    response = api.post(FIND, {"search": search})
    assert response.status_code == 400, response.json
    assert field in [e["field"] for e in response.json["errors"]], response.json
    assert field in response.json["title"]


def test_the_400_lists_what_the_level_takes(api):
    response = api.post(FIND, {"Search": {"Ownership": {"MyScope": {"OwnerIDs": [PRIYA], "Tertiary": True}}}})
    assert response.status_code == 400
    (error,) = response.json["errors"]
    assert error["field"] == "search.ownership.myScope.Tertiary"  # known members by their documented names
    assert "ownerIds, primary, secondary" in error["message"]


def test_members_a_tenant_takes_but_the_emulator_cannot_honour_are_accepted(api):
    from emulator.query import IGNORED

    free = {"freeText": {"input": "pritchard", "wildcardStart": False, "wildCardEnd": True}}
    graph = {"graph": {"ancestorIds": [OPEN_MATTER], "includeRelated": True}}
    assert "MAT-00002" in refs(post(api, FIND, {"search": free, "enrich": [{"path": "reference"}]}))
    assert "TSK-00002" in refs(post(api, FIND, {"search": graph, "enrich": [{"path": "reference"}]}))
    assert IGNORED["search.freeText"].keys() == {"wildcardStart", "wildCardEnd"}


def test_the_openapi_document_describes_exactly_the_members_the_server_takes(app):
    from emulator.query import IGNORED, MEMBERS

    doc = app.test_client().get("/api/_emulator/openapi.json").get_json()
    schemas = doc["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    described: dict[str, set[str]] = {}

    def walk(schema: dict[str, Any], level: str) -> None:
        schema = resolve(schema)
        if schema.get("type") == "array":
            walk(schema["items"], f"{level}[]")
            return
        if schema.get("type") != "object" or "properties" not in schema:
            return
        assert schema.get("additionalProperties") is False, f"{level or 'the body'} must refuse unknown members"
        described[level] = set(schema["properties"])
        for name, sub in schema["properties"].items():
            walk(sub, f"{level}.{name}".lstrip("."))

    walk(schemas["FindByQuery"], "")
    expected = {level: set(names) | set(IGNORED.get(level, {})) for level, names in MEMBERS.items()}
    assert described == expected
