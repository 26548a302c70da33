"""Replay the official mobile app's API calls against the real emulator.

The app's agent files (sharedo-sample-mobile-app `src/agents/*.js`) and the mobile-core files they call
(`fetchWrapper.js`, `profile.js`, `typesTree.js`, vendored unmodified) run in V8. A stand-in `fetch`
records each request exactly as `fetchWrapper.js` builds it (method, URL, headers, body); the test sends
it to the Flask app and hands the answer back to the same JS, so the agents' own code (`response.rows`,
`response.availableTransitions`, the chronology mapper) parses what the emulator says.

The call list is read from the JS itself: every API URL written in the vendored files is either replayed
here or listed in OUT_OF_SCOPE with its reason, so a call nobody covered fails `test_every_call_is_covered`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from py_mini_racer import MiniRacer

from emulator.app import create_app
from emulator.settings import Settings
from tests.conftest import CLIENT_PERSON, OPEN_MATTER, START, SUPPLIER_ORG, user_token
from tests.helpers.paths import FIXTURES

OFFICIAL = FIXTURES / "official"
APP = OFFICIAL / "sharedo-sample-mobile-app"
CORE = OFFICIAL / "sharedo-mobile-core"
TENANT = "https://tenant.example"
USER = "priya.shah"
PRIYA = "1a000000-0000-4000-8000-000000000001"
P256DH = base64.b64encode(bytes([4]) + bytes(range(1, 65))).decode()  # a browser's key: 65 bytes, as btoa sends it

BY_DOCUMENTS = "replayed by tests/workitems/test_documents.py (the mobile app's agent)"

# URL templates the vendored JS writes (see `api_urls`) that this file does not replay, and why.
OUT_OF_SCOPE = {  # each replayed, by the same agent code, in the file named
    "/api/v1/public/workItem/findByQuery": (
        "replayed from these agents by tests/workitems/test_find_by_query_filters.py"
    ),
    "/api/v1/public/workItem/{}/relatedDocuments/": BY_DOCUMENTS,
    "/api/v1/public/workItem/{}/relatedDocuments/{}": BY_DOCUMENTS,
    "/api/v1/public/workItem/{}/repositories{}": BY_DOCUMENTS,
    "api/v1/public/workItem/{}/relatedDocuments{}": BY_DOCUMENTS,
    "/api/v1/public/document/{}/url": BY_DOCUMENTS,
    "{}/connect/token": "sign-in: the code flow and refresh are replayed by tests/identity/test_oidc.py",
    "/connect/authorize": "sign-in: the browser's redirect is replayed by tests/identity/test_oidc.py",
    "{}/connect/revocation": "sign-in: revocation is replayed by tests/identity/test_oidc.py",
}

# -- running the vendored ES modules in V8 ------------------------------------------------------------

# Browser APIs the files touch that V8 lacks: `fetch` (recorded), `URL` (only `new URL(url, base).href`),
# `localStorage` and `window`, and a stand-in for the `moment` import (the mapper imports it, never calls it).
HOST_JS = r"""
var window = {};
var __store = {};
var localStorage = {
  getItem: k => (k in __store ? __store[k] : null),
  setItem: (k, v) => { __store[k] = String(v); },
  removeItem: k => { delete __store[k]; },
};
class URL {
  constructor(url, base) {
    if (/^\w+:\/\//.test(url)) { this.href = url; return; }
    const m = /^(\w+:\/\/[^/]+)(\/.*)?$/.exec(base);
    const dir = (m[2] || "/").replace(/[^/]*$/, "");
    this.href = m[1] + (url.startsWith("/") ? url : dir + url);
  }
}
var __calls = [];
function fetch(url, request) {
  return new Promise((resolve, reject) => {
    __calls.push({ url, request, resolve, reject });
  });
}
function __answer(i, status, statusText, text) {
  const body = () => new Promise((res, rej) => { try { res(JSON.parse(text)); } catch (e) { rej(String(e)); } });
  __calls[i].resolve({
    ok: status >= 200 && status < 300, status, statusText,
    json: body, text: () => Promise.resolve(text), blob: () => Promise.resolve(text),
  });
}
var __modules = {}, __cache = {};
function __require(id) {
  if (!(id in __cache)) {
    const exports = {};
    __cache[id] = exports;
    __modules[id](exports);
  }
  return __cache[id];
}
var __results = {};
function __run(key, fn) {
  __results[key] = { done: false };
  Promise.resolve().then(fn).then(
    value => { __results[key] = { done: true, value: value === undefined ? null : value }; },
    error => { __results[key] = { done: true, error: String(error) }; });
}
"""

IMPORT_DEFAULT = re.compile(r"^\s*import\s+(\w+)\s+from\s+[\"']([^\"']+)[\"'];?", re.M)
IMPORT_NAMED = re.compile(r"^\s*import\s*\{([^}]*)\}\s*from\s+[\"']([^\"']+)[\"'];?", re.M)
EXPORT_LIST = re.compile(r"^\s*export\s*\{([^}]*)\};?", re.M)
EXPORT_DECL = re.compile(r"^(\s*)export\s+((?:async\s+)?function|const|let|class)\s+(\w+)", re.M)


def _module_js(module_id: str, source: str, resolve) -> str:
    """One ES module as a function of its exports; imports become `__require` of resolved ids."""
    exported: list[str] = []

    def named(m: re.Match) -> str:
        names = ", ".join(n.strip() for n in m.group(1).split(",") if n.strip())
        return f"const {{ {names} }} = __require({json.dumps(resolve(module_id, m.group(2)))});"

    def decl(m: re.Match) -> str:
        exported.append(m.group(3))
        return f"{m.group(1)}{m.group(2)} {m.group(3)}"

    body = IMPORT_NAMED.sub(named, source)
    body = IMPORT_DEFAULT.sub(
        lambda m: f"const {m.group(1)} = __require({json.dumps(resolve(module_id, m.group(2)))}).default;", body
    )
    body = EXPORT_LIST.sub(lambda m: f"Object.assign(__exports, {{ {m.group(1).strip()} }});", body)
    body = EXPORT_DECL.sub(decl, body)
    body = re.sub(r"^export\s+default\s+", "__exports.default = ", body, flags=re.M)
    tail = "".join(f"\n__exports.{n} = {n};" for n in exported)
    return f"__modules[{json.dumps(module_id)}] = function (__exports) {{\n{body}{tail}\n}};\n"


def _resolve(importer: str, spec: str) -> str:
    if spec in ("@sharedo/mobile-core", "moment"):
        return spec
    if spec.startswith("@/"):
        path = "app/src/" + spec[2:]
    else:
        parts = importer.split("/")[:-1]
        for piece in spec.split("/"):
            if piece == "..":
                parts.pop()
            elif piece != ".":
                parts.append(piece)
        path = "/".join(parts)
    return path if path.endswith(".js") else path + ".js"


def _sources() -> dict[str, Path]:
    files = {f"app/{p.relative_to(APP).as_posix()}": p for p in APP.rglob("*.js")}
    files |= {f"core/{p.relative_to(CORE).as_posix()}": p for p in CORE.rglob("*.js")}
    return files


class MobileApp:
    """The vendored JS in one V8 context, its `fetch` answered by the emulator's Flask app."""

    def __init__(self, app, token: str) -> None:
        self.client = app.test_client()
        self.requests: list[dict[str, Any]] = []
        self.mr = MiniRacer()
        self.mr.eval(HOST_JS)
        for module_id, path in _sources().items():
            self.mr.eval(_module_js(module_id, path.read_text("utf-8"), _resolve))
        self.mr.eval(
            """
            __modules["moment"] = e => { e.default = () => { throw new Error("moment is not loaded"); }; };
            __modules["@sharedo/mobile-core"] = e => {
              e.SharedoFetch = __require("core/src/infra/fetchWrapper.js").default;
              e.SharedoProfile = __require("core/src/infra/profile.js").default;
              e.SharedoTypesTree = __require("core/src/infra/typesTree.js").default;
            };
            __modules["core/src/plugin.js"] = __modules["@sharedo/mobile-core"];
            """
        )
        self.mr.eval(
            f"""
            __require("core/src/app/settings.js").override({{ api: "{TENANT}", identity: "{TENANT}/identity" }});
            __require("core/src/infra/authcode.js").auth.accessToken = {json.dumps(token)};
            var agents = __require("app/src/agents/index.js");
            var mappers = {{
              chronology: __require("app/src/util/mappers/chronologyMapper.js"),
              participantType: __require("app/src/util/mappers/participantTypeMapper.js"),
              location: __require("app/src/util/mappers/locationMapper.js"),
            }};
            var core = __require("@sharedo/mobile-core");
            """
        )
        self._answered = 0
        self._keys = 0

    def call(self, expression: str) -> Any:
        """Run one agent call (a JS expression giving a promise) to its end; its value, or raise."""
        self._keys += 1
        key = f"k{self._keys}"
        self.mr.eval(f"__run({json.dumps(key)}, () => {expression});")
        while self._pump():
            pass
        result = json.loads(self.mr.eval(f"JSON.stringify(__results[{json.dumps(key)}])"))
        assert result["done"], f"{expression} never settled"
        if "error" in result:
            raise AgentRejected(result["error"], self.requests[-1] if self.requests else None)
        return result["value"]

    def _pump(self) -> bool:
        pending = json.loads(
            self.mr.eval(
                f"JSON.stringify(__calls.slice({self._answered}).map(c => "
                "({ url: c.url, method: c.request.method, headers: c.request.headers, body: c.request.body })))"
            )
        )
        for sent in pending:
            url = urlsplit(sent["url"])
            assert f"{url.scheme}://{url.netloc}" == TENANT, f"the app called {sent['url']}, off the tenant"
            target = url.path + (f"?{url.query}" if url.query else "")
            response = self.client.open(
                target, method=sent["method"], headers=sent["headers"], data=sent.get("body") or None
            )
            text = response.get_data(as_text=True)
            self.requests.append({**sent, "path": url.path, "status": response.status_code, "text": text})
            self.mr.eval(
                f"__answer({self._answered}, {response.status_code}, {json.dumps(response.status)}, "
                f"{json.dumps(text)});"
            )
            self._answered += 1
        return bool(pending)

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]


class AgentRejected(Exception):
    """The agent's promise rejected (the app would show an error); says which request and what came back."""

    def __init__(self, error: str, request: dict[str, Any] | None) -> None:
        where = f" after {request['method']} {request['path']} → {request['status']} {request['text'][:200]}"
        super().__init__(error + (where if request else ""))
        self.request = request


@pytest.fixture
def mobile(app) -> Iterator[MobileApp]:
    m = MobileApp(app, user_token(app, USER))
    m.call("core.SharedoProfile.loadProfile()")  # what the app does first, after sign-in
    yield m
    m.mr.close()


# -- the call list, from the JS --------------------------------------------------------------------------
def string_literals(source: str) -> Iterator[str]:
    """The string and template literals of a JS file, comments skipped, each `${...}` given as `{}`."""
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
        elif source.startswith("/*", i):
            i = source.find("*/", i + 2)
            i = n if i < 0 else i + 2
        elif ch in "'\"`":
            out, i = [], i + 1
            while i < n and source[i] != ch:
                if source[i] == "\\":
                    out.append(source[i : i + 2])
                    i += 2
                elif ch == "`" and source.startswith("${", i):
                    depth, i = 1, i + 2
                    while i < n and depth:
                        depth += {"{": 1, "}": -1}.get(source[i], 0)
                        i += 1
                    out.append("{}")
                else:
                    out.append(source[i])
                    i += 1
            i += 1
            yield "".join(out)
        else:
            i += 1


def api_urls() -> set[str]:
    """Every API URL the vendored files write: what the app can call."""
    found = set()
    for path in _sources().values():
        for text in string_literals(path.read_text("utf-8")):
            if "/api/" in text or text.startswith("api/") or "/connect/" in text:
                found.add(text)
    return found


def _template_regex(template: str) -> re.Pattern:
    """A URL template as the path it matches: `${settings.api}` and a missing leading slash resolve to the
    tenant root; a `{}` stuck to the last segment is the query string."""
    t = template[2:] if template.startswith("{}/api/") else template
    t = "/" + t if t.startswith("api/") else t
    if t.endswith("{}") and not t.endswith("/{}"):
        t = t[:-2]
    return re.compile("[^/?]+".join(re.escape(part) for part in t.split("{}")) + "/?$")


def called(templates: set[str], requests: list[dict[str, Any]]) -> set[str]:
    """The templates some request matched."""
    return {t for t in templates if any(_template_regex(t).match(r["path"]) for r in requests)}


def new_task(m: MobileApp, title: str = "Call the client back") -> str:
    """As `NewTask.vue` does it: create under a matter, then take ownership."""
    body = {
        "ParentSharedoId": OPEN_MATTER,
        "workItem": {"sharedoTypeSystemName": "task", "title": title, "reference": None, "description": "<p>x</p>"},
        "aspectData": {"task": {"dueDateTime": "2026-01-09T17:00:00Z"}},
    }
    created = m.call(f"agents.tasks.create({json.dumps(body)})")
    m.call(f"agents.tasks.takeOwnership({json.dumps(created['workItem']['id'])})")
    return created["workItem"]["id"]


# -- the replays -------------------------------------------------------------------------------------------
def replay_profile_and_user_info(mobile: MobileApp) -> None:
    """mobile-core `profile.js` reads userInfo; `Profile.vue` reads the v2 user's availability and contacts."""
    profile = json.loads(mobile.mr.eval("JSON.stringify(core.SharedoProfile.profile)"))
    assert profile["userId"] == PRIYA and profile["name"] == "Priya Shah"
    # `TimeEntryList.vue` offers a new entry with `core.time.create`, `TimeEntryForm.vue` delete with `core.time.delete`
    assert {"core.sharedo.read", "core.time.create", "core.time.delete"} <= set(profile["globalPermissions"])
    me = mobile.call("agents.profile.get()")
    assert mobile.last["path"] == f"/api/v2/public/users/{PRIYA}"
    assert me["availabilitySystemName"] == "available"
    assert [c["contactValue"] for c in me["aspectData"]["contactDetails"]] == ["priya.shah@harbourvale.example"]
    assert me["aspectData"]["contactDetails"][0]["contactTypeSystemName"] == "email"


def replay_comments_list_and_post(mobile: MobileApp) -> None:
    """`CommentList.vue`: `rows` (newest first), `totalRows`, and per row `userId, userFullName, created,
    isPrivate, comment`; `WorkItemDetail.vue` counts with `{totalRows}` of a one-row page."""
    for text in ("<p>First</p>", "<p>Second</p>"):
        mobile.call(f"agents.comments.post({json.dumps(OPEN_MATTER)}, {json.dumps(text)})")
        assert mobile.last["method"] == "POST" and json.loads(mobile.last["body"]) == {"comment": text}
    page = mobile.call(f"agents.comments.get({json.dumps(OPEN_MATTER)}, 1, 10)")
    assert mobile.last["path"].endswith("/comments") and "startPage=1&rowsPerPage=10" in mobile.last["url"]
    assert page["totalRows"] == 2 and [r["comment"] for r in page["rows"]] == ["<p>Second</p>", "<p>First</p>"]
    row = page["rows"][0]
    assert row["userId"] == PRIYA and row["userFullName"] == "Priya Shah" and row["isPrivate"] is False
    assert row["created"].startswith("2026-01-05T09:00")
    assert mobile.call(f"agents.comments.get({json.dumps(OPEN_MATTER)}, 1, 1)")["totalRows"] == 2


def replay_chronology_through_the_apps_mapper(mobile: MobileApp) -> None:
    """`ChronologyList.vue` pages by `totalRows` and passes `rows` to `toChronologyListItems`, which keeps
    the POI types it knows (comment, milestone, ...) and reads `title, notes, poiTypeIcon, userFullName`."""
    mobile.call(f"agents.comments.post({json.dumps(OPEN_MATTER)}, '<p>Spoke to the client</p>')")
    mobile.call(f"agents.phases.setFor({json.dumps(OPEN_MATTER)}, 'matter-closed', 'Work done')")
    result = mobile.call(
        f"agents.chronology.get({json.dumps(OPEN_MATTER)}, 1, 10)"
        ".then(r => ({ totalRows: r.totalRows, raw: JSON.parse(JSON.stringify(r.rows)),"
        " items: mappers.chronology.toChronologyListItems(r.rows) }))"
    )
    query = mobile.last["url"].split("?", 1)[1]
    assert query == "rowsPerPage=10&startPage=1&endPage=1&includeCaseOnlyParticipant=false&includeChildren=true"
    assert result["totalRows"] == 2
    milestone, comment = result["items"]
    assert milestone["title"] == "Moved to Closed" and milestone["notes"] is None  # the mapper hides them
    assert [r["poiSystemName"] for r in result["raw"]] == ["milestone", "comment"]
    assert result["raw"][0]["notes"] == "Work done" and result["raw"][1]["isPrivate"] is False
    assert comment["title"] == "Comment added" and comment["notes"] is None  # the mapper hides comment notes
    assert comment["userFullName"] == "Priya Shah" and comment["poiTypeIcon"] and comment["created"]


def replay_phase_info_and_change(mobile: MobileApp) -> None:
    """`phasesAgent.getFor` returns `availableTransitions`; `WorkItemDetail.vue` shows the user-driven ones
    by `name` and moves with `toPhaseSystemName`; `tasksAgent` has the same two calls."""
    transitions = mobile.call(f"agents.phases.getFor({json.dumps(OPEN_MATTER)})")
    assert {t["toPhaseSystemName"] for t in transitions if t["isUserDriven"]} == {"matter-closed"}
    assert all(t["name"] for t in transitions)
    task_id = new_task(mobile)
    info = mobile.call(f"agents.tasks.getPhaseInfo({json.dumps(task_id)})")
    assert info["systemName"] == "task-not-started" and info["availableTransitions"]
    moved = mobile.call(f"agents.tasks.setPhase({json.dumps(task_id)}, 'task-in-progress', 'Started')")
    assert json.loads(mobile.last["body"]) == {
        "toPhaseSystemName": "task-in-progress",
        "reasonText": "Started",
        "description": "From Mobile",
    }
    assert moved["systemName"] == "task-in-progress"


def replay_new_task_detail_edit_and_internal_routes(mobile: MobileApp) -> None:
    """`NewTask.vue` creates then takes ownership; `WorkItemDetail.vue` reads `workItem.*`,
    `aspectData.task.dueDateTime`, the permissions list and `participantActions`; `EditWorkItem.vue`
    saves through the internal aspects route with each aspect as a JSON string."""
    task_id = new_task(mobile)
    owners = [
        p
        for p in mobile.call(f"agents.participants.getParticipantsFor({json.dumps(task_id)})")
        if p["participantRoleType"] == "primary-owner"
    ]
    assert [p["odsId"] for p in owners] == [PRIYA]
    task = mobile.call(f"agents.tasks.getTask({json.dumps(task_id)})")
    assert task["workItem"]["title"] == "Call the client back" and task["workItem"]["titleIsUserProvided"] is True
    assert task["workItem"]["reference"] and task["aspectData"]["task"]["dueDateTime"] == "2026-01-09T17:00:00Z"
    permissions = mobile.call(f"agents.tasks.getPermissions({json.dumps(task_id)})")
    assert {"core.sharedo.update", "core.sharedo.progress.milestone"} <= set(permissions)  # edit and move phase
    assert mobile.call(f"agents.tasks.getActions({json.dumps(task_id)})") == []
    assert mobile.call(f"agents.tasks.getTaskActions({json.dumps(task_id)})") == []

    task["workItem"]["title"] = "Call the client back today"
    task["aspectData"]["task"]["dueDateTime"] = "2026-01-06T12:00:00Z"
    mobile.call(f"agents.workItems.save({json.dumps(task_id)}, {json.dumps(task)})")
    sent = json.loads(mobile.last["body"])
    assert mobile.last["path"] == f"/api/aspects/sharedos/{task_id}" and isinstance(sent["aspectData"]["task"], str)
    again = mobile.call(f"agents.matters.get({json.dumps(task_id)})")
    assert again["workItem"]["title"] == "Call the client back today"
    assert again["aspectData"]["task"]["dueDateTime"] == "2026-01-06T12:00:00Z"

    again["workItem"]["description"] = "<p>changed</p>"
    saved = mobile.call(f"agents.tasks.saveTask({json.dumps(task_id)}, {json.dumps(again)})")
    assert mobile.last["method"] == "PUT" and saved["workItem"]["description"] == "<p>changed</p>"


def replay_participants_contacts_and_locations(mobile: MobileApp) -> None:
    """`Participants.vue`: v2 participants, then the ODS v1 record at `{participantType}s` (people,
    organisations) for `contactDetails`, then location ids and each location through `locationMapper`."""
    parts = mobile.call(f"agents.participants.getParticipantsFor({json.dumps(OPEN_MATTER)})")
    assert parts and all(p["participantRoleCategorySystemName"] and p["odsName"] for p in parts)
    assert {p["participantType"] for p in parts} <= {"person", "organisation"}
    for ods_id, kind in ((CLIENT_PERSON, "person"), (SUPPLIER_ORG, "organisation")):
        entity = mobile.mr.eval(f"mappers.participantType.toOdsEntityType({json.dumps(kind)})")
        details = mobile.call(f"agents.participants.get({json.dumps(entity)}, {json.dumps(ods_id)})")
        assert mobile.last["path"] == f"/api/public/v1/{entity}/{ods_id}" and mobile.last["status"] == 200
        assert details["contactDetails"] and details["contactDetails"][0]["contactValue"]
        assert details["contactDetails"][0]["contactTypeSystemName"] == "email"
        ids = mobile.call(f"agents.participants.getLocationsFor({json.dumps(ods_id)})")
        assert len(ids) == 1
        location = mobile.call(
            f"agents.participants.getLocation({json.dumps(ids[0])}).then(mappers.location.fromParticipantLocation)"
        )
        assert location["addressLine1"] and location["town"] and location["postCode"]
    assert entity == "organisations"


def replay_types_tree_through_mobile_core(mobile: MobileApp) -> None:
    """mobile-core `SharedoTypesTree.load()` then `isDerivedFrom` and `find`, walking `children`."""
    result = mobile.call(
        "core.SharedoTypesTree.load().then(t => ({"
        " commercial: t.isDerivedFrom('matter-commercial', ['matter']),"
        " task: t.isDerivedFrom('task', ['matter']),"
        " found: t.find('matter-private-client').systemName }))"
    )
    assert mobile.last["path"] == "/api/v2/public/types/tree"
    assert result == {"commercial": True, "task": False, "found": "matter-private-client"}


def replay_time_entries_as_the_form_and_list_do(mobile: MobileApp) -> None:
    """`TimeEntryForm.vue`: categories (`name`, `systemName`), config (`startTimeMaxDaysAgo`,
    `endTimeMaxDaysInFuture`, `maxHours`), capture segments, new, get, update and submit (200 and no
    body: the agent reads them as text); `TimeEntryList.vue` reads `rows` with the entry's keys."""
    categories = mobile.call("agents.time.categories()")
    assert {"name", "systemName"} <= set(categories[0])
    config = mobile.call("agents.time.getConfiguration()")
    assert all(isinstance(config[k], int) for k in ("startTimeMaxDaysAgo", "endTimeMaxDaysInFuture", "maxHours"))
    capture = mobile.call(f"agents.time.capture('chargeable', {json.dumps(OPEN_MATTER)})")
    assert mobile.last["path"] == f"/api/v2/public/time/capture/chargeable/{OPEN_MATTER}"
    activity = next(s for s in capture["segments"] if s["captureType"] == "TimeCodeSet")
    assert activity["isMandatoryForEntry"] and {"id", "name", "children"} <= set(activity["timeCodes"][0])
    segments = [
        {
            "id": s["id"],
            "segmentValue": None if s["captureType"] == "TimeCodeSet" else "Drafted the letter",
            "timeCodeId": s["timeCodes"][0]["id"] if s["captureType"] == "TimeCodeSet" else None,
        }
        for s in capture["segments"]
    ]
    entry = {
        "sharedoId": OPEN_MATTER,
        "durationSeconds": 1800,
        "startDateTime": "2026-01-05T08:00:00Z",
        "endDateTime": "2026-01-05T08:30:00Z",
        "billingNotes": "Letter",
        "regenerateBillingNotes": False,
        "createdBySystem": False,
        "odsId": PRIYA,
        "timeCodeCategorySystemName": "chargeable",
        "segments": segments,
    }
    created = mobile.call(f"agents.time.new({json.dumps(entry)})")
    page = mobile.call(f"agents.time.listFor({json.dumps(OPEN_MATTER)}, 1, 99)")
    assert json.loads(mobile.last["body"]) == {"sharedoId": OPEN_MATTER, "rowsPerPage": 99, "startPage": 1}
    (row,) = page["rows"]
    assert row["id"] == created["id"] and row["stateSystemName"] == "draft" and row["odsId"] == PRIYA
    assert row["timekeeperName"] == "Priya Shah" and row["durationSeconds"] == 1800
    assert row["timeCode"] == "A101" and row["timeCodeDescription"] == "Plan and prepare"
    assert row["timeCodeCategoryId"] and row["timeCodeCategoryName"] == "Chargeable time"
    assert row["startDateTime"].startswith("2026-01-05T08:00") and row["billingNotes"] == "Letter"
    got = mobile.call(f"agents.time.get({json.dumps(created['id'])})")
    assert got["timeCodeCategorySystemName"] == "chargeable" and got["segments"][0]["timeCodeId"] == "A101"

    entry["durationSeconds"], entry["endDateTime"] = 2700, "2026-01-05T08:45:00Z"
    assert mobile.call(f"agents.time.update({json.dumps(created['id'])}, {json.dumps(entry)})") == ""
    assert mobile.last["status"] == 200 and mobile.last["method"] == "PUT"
    assert mobile.call(f"agents.time.submit({json.dumps(created['id'])})") == ""
    assert mobile.last["status"] == 200
    assert mobile.call(f"agents.time.get({json.dumps(created['id'])})")["stateSystemName"] == "submitted"

    draft = mobile.call(f"agents.time.new({json.dumps(entry)})")
    assert mobile.call(f"agents.time.delete({json.dumps(draft['id'])})") == ""
    assert mobile.last["method"] == "DELETE" and mobile.last["status"] == 200


def replay_bookmarks_as_on_a_tenant_with_the_feature(mobile: MobileApp) -> None:
    """`WorkItemDetail.vue` asks `{enabled}`, then `{bookmarked}`; its action sheet bookmarks and removes (the
    answer read as text); `BookmarkList.vue` lists `id`, `title`, `typeIcon` and opens the item by `id`."""
    assert mobile.call("agents.bookmarks.enabled()") == {"enabled": True}
    item = json.dumps(OPEN_MATTER)
    assert mobile.call(f"agents.bookmarks.isBookmarked({item})") == {"bookmarked": False}
    assert mobile.call("agents.bookmarks.get()") == []
    assert mobile.call(f"agents.bookmarks.bookmark({item})") == ""
    assert mobile.last["method"] == "POST" and mobile.last["status"] == 200
    assert mobile.call(f"agents.bookmarks.isBookmarked({item})") == {"bookmarked": True}
    (row,) = mobile.call("agents.bookmarks.get()")
    assert mobile.last["path"] == "/api/v2/public/my/workitems/bookmarked/2147483647"
    assert row["id"] == OPEN_MATTER and row["title"] == "Pritchard - purchase of 14 Mill Lane, Harrogate"
    assert row["typeIcon"] == "fa-user" and row["reference"] == "MAT-00002"
    assert mobile.call(f"agents.bookmarks.removeBookmark({item})") == ""
    assert mobile.last["method"] == "DELETE" and mobile.last["status"] == 200
    assert mobile.call(f"agents.bookmarks.isBookmarked({item})") == {"bookmarked": False}
    assert mobile.call("agents.bookmarks.get()") == []


def replay_notifications_and_avatars_on(mobile: MobileApp) -> None:
    """A task the app creates and takes (`NewTask.vue`) notifies its new owner; `NotificationList.vue` reads
    `numberOfNewItems` and `notifications[]`, dismisses one and all; `NotificationSettings.vue` maps the settings
    and saves the push channel, reads `vapidPublicKey`, and `pushNotificationsService.js` registers the browser's
    subscription; `Profile.vue` shows `data:${mimeType};base64,${content}`."""
    user = json.dumps(PRIYA)
    assert mobile.call(f"agents.notifications.getFor({user})") == {"numberOfNewItems": 0, "notifications": []}
    task_id = new_task(mobile)
    listed = mobile.call(f"agents.notifications.getFor({user})")
    assert listed["numberOfNewItems"] == 1
    (note,) = listed["notifications"]
    assert note["title"] == "Task assigned to you" and note["sharedoTitle"] == "Call the client back"
    assert note["sharedoId"] == task_id and note["message"].endswith("Call the client back as Owner.")
    assert note["hasBeenDismissed"] is False and note["priorityName"] == "40" and note["createDateTime"]
    mobile.call(f"agents.notifications.dismiss({json.dumps(note['id'])}, {user})")
    assert mobile.last["method"] == "DELETE" and mobile.last["status"] == 200
    again = mobile.call(f"agents.notifications.getFor({user})")
    assert again["numberOfNewItems"] == 0 and again["notifications"][0]["hasBeenDismissed"] is True
    new_task(mobile, "Second call")
    assert mobile.call(f"agents.notifications.getFor({user})")["numberOfNewItems"] == 1
    mobile.call(f"agents.notifications.dismissAllFor({user})")
    assert mobile.call(f"agents.notifications.getFor({user})")["numberOfNewItems"] == 0

    categories = mobile.call("agents.notifications.getSettings()")
    assert categories[0]["name"] == "Work allocation"
    assert {"name": "A task is assigned to me", "active": True, "systemName": "task-assigned"} in categories[0][
        "settings"
    ]
    for setting in categories[0]["settings"]:
        setting["active"] = setting["systemName"] != "task-assigned"
    mobile.call(f"agents.notifications.saveSettings({json.dumps(categories)})")
    assert mobile.last["method"] == "PUT" and mobile.last["path"].endswith("/settings/push")
    saved = {s["systemName"]: s["active"] for s in mobile.call("agents.notifications.getSettings()")[0]["settings"]}
    assert saved == {"task-assigned": False, "participant-added": True}

    key = mobile.call("agents.notifications.getWebPushConfig()")["vapidPublicKey"]
    assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) == 65  # an uncompressed P-256 point
    subscription = {"endpoint": "https://push.example/send/abc", "p256dh": P256DH, "auth": "AAECAwQFBgcICQoLDA0ODw=="}
    mobile.call(f"agents.notifications.registerForWebPush({json.dumps(subscription)})")
    assert mobile.last["status"] == 200
    stored = mobile.client.application.extensions["operate"].notifications.subscriptions(PRIYA)
    assert [(s["endpoint"], s["p256dh"], s["auth"]) for s in stored] == [tuple(subscription.values())]

    avatar = mobile.call("agents.profile.getAvatar()")
    assert mobile.last["path"] == f"/api/v2/public/users/{PRIYA}/avatar"
    assert avatar["mimeType"] == "image/svg+xml" and b">PS</text>" in base64.b64decode(avatar["content"])


def replay_bookmarks_off_as_on_a_tenant_without_the_feature(mobile: MobileApp) -> None:
    """`WorkItemDetail.vue` asks `{enabled}` first and shows no bookmarking when it is false; the
    bookmark routes themselves answer 400, as a tenant with Bookmarks off does (Filing README)."""
    assert mobile.call("agents.bookmarks.enabled()") == {"enabled": False}
    for expression in (
        "agents.bookmarks.get()",
        f"agents.bookmarks.isBookmarked({json.dumps(OPEN_MATTER)})",
        f"agents.bookmarks.bookmark({json.dumps(OPEN_MATTER)})",
        f"agents.bookmarks.removeBookmark({json.dumps(OPEN_MATTER)})",
    ):
        with pytest.raises(AgentRejected):
            mobile.call(expression)
        assert mobile.last["status"] == 400 and "Bookmarks" in json.loads(mobile.last["text"])["title"]
    assert mobile.requests[-4]["path"] == "/api/v2/public/my/workitems/bookmarked/2147483647"


def replay_notifications_and_avatars_off(mobile: MobileApp) -> None:
    """Notifications and avatars are off on the emulated tenant: every call is a 400 with a message."""
    settings = [{"name": "General", "settings": [{"name": "Task", "active": True, "systemName": "task-assigned"}]}]
    for expression in (
        "agents.notifications.getSettings()",
        f"agents.notifications.saveSettings({json.dumps(settings)})",
        "agents.notifications.registerForWebPush({endpoint: 'https://push.example/1'})",
        "agents.notifications.getWebPushConfig()",
        f"agents.notifications.getFor({json.dumps(PRIYA)})",
        f"agents.notifications.dismiss('9d000000-0000-4000-8000-000000000001', {json.dumps(PRIYA)})",
        f"agents.notifications.dismissAllFor({json.dumps(PRIYA)})",
        "agents.profile.getAvatar()",
        f"agents.profile.getAvatar({json.dumps(PRIYA)})",
    ):
        with pytest.raises(AgentRejected):
            mobile.call(expression)
        assert mobile.last["status"] == 400, (expression, mobile.last)
        assert "switched off" in json.loads(mobile.last["text"])["title"]
    assert json.loads(mobile.requests[-8]["body"]) == [
        {"channelTypeSystemName": "push", "frequency": 5, "notificationTypeSystemName": "task-assigned"}
    ]


def test_lowercase_route_variants(app):
    """Clients write `workitem` and `workItem`, `WorkItem/.../Comments`: one route answers them all."""
    headers = {"Authorization": f"Bearer {user_token(app, USER)}"}
    for path in (f"/api/v1/public/workitem/{OPEN_MATTER}/comments", f"/api/v1/public/WorkItem/{OPEN_MATTER}/Comments"):
        got = app.test_client().get(path, headers=headers)
        assert got.status_code == 200 and got.json == {"totalRows": 0, "rows": []}, path


SCENARIOS = [
    replay_profile_and_user_info,
    replay_comments_list_and_post,
    replay_chronology_through_the_apps_mapper,
    replay_phase_info_and_change,
    replay_new_task_detail_edit_and_internal_routes,
    replay_participants_contacts_and_locations,
    replay_types_tree_through_mobile_core,
    replay_time_entries_as_the_form_and_list_do,
    replay_bookmarks_as_on_a_tenant_with_the_feature,
    replay_notifications_and_avatars_on,
]
# The same routes on a tenant with the features off (operate.toml [features] false): 400, as today's tenants.
FEATURES_OFF = [replay_bookmarks_off_as_on_a_tenant_without_the_feature, replay_notifications_and_avatars_off]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("replay_"))
def test_replay(scenario, mobile):
    scenario(mobile)


@pytest.fixture
def mobile_features_off(tmp_path) -> Iterator[MobileApp]:
    """The demo tenant with Bookmarks, Notifications and UserAvatars switched off in operate.toml."""
    from smartplans.testing import solution_from_demo

    root = solution_from_demo(tmp_path / "solution")
    toml = root / "operate.toml"
    text = toml.read_text("utf-8")
    for name in ("Bookmarks", "Notifications", "UserAvatars"):
        assert f"{name} = true" in text
        text = text.replace(f"{name} = true", f"{name} = false")
    toml.write_text(text, "utf-8")
    app = create_app(Settings(data_dir=tmp_path / "state", solution=root, clock="virtual", clock_start=START))
    m = MobileApp(app, user_token(app, USER))
    m.call("core.SharedoProfile.loadProfile()")
    yield m
    m.mr.close()
    app.extensions["operate"].close()


@pytest.mark.parametrize("scenario", FEATURES_OFF, ids=lambda f: f.__name__.removeprefix("replay_"))
def test_replay_with_the_features_switched_off(scenario, mobile_features_off):
    scenario(mobile_features_off)


def test_every_call_is_covered(app):
    """Each API URL in the vendored JS is replayed by a passing scenario or is out of scope with a reason.
    The scenarios run again here, each on the reset demo tenant, so this holds on its own (and under -n)."""
    urls = api_urls()
    assert len(urls) >= 40, sorted(urls)  # the parse found the app's calls
    stale = set(OUT_OF_SCOPE) - urls
    assert not stale, f"OUT_OF_SCOPE names URLs the JS no longer has: {sorted(stale)}"
    in_scope = urls - set(OUT_OF_SCOPE)
    passed: set[str] = set()
    failures: dict[str, str] = {}
    for scenario in SCENARIOS:
        app.extensions["operate"].reset()
        m = MobileApp(app, user_token(app, USER))
        try:
            m.call("core.SharedoProfile.loadProfile()")
            scenario(m)
        except (AssertionError, AgentRejected) as exc:
            failures[scenario.__name__] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        finally:
            m.mr.close()
        passed |= called(in_scope, m.requests)
    print(f"\nmobile app replay: {len(passed)} of {len(in_scope)} in-scope calls pass")
    for url in sorted(in_scope - passed):
        print(f"  not passing: {url}")
    for url, why in sorted(OUT_OF_SCOPE.items()):
        print(f"  out of scope: {url}: {why}")
    assert not failures, failures
    assert passed == in_scope, f"calls of the mobile app no passing replay made: {sorted(in_scope - passed)}"
