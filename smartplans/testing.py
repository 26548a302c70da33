"""The pytest plugin for event-to-workflow tests (entry point `pytest11: operate`).

    def test_payment_reaches_the_pms(operate):
        operate.move(PAYMENT_ID, "payment-request-approved")
        operate.assert_execution("payment-approved", state="STOPPED")
        operate.assert_pms_received("POST", "/api/matters/PMS-260102/disbursements")

The `operate` fixture is an in-process emulator with the solution loaded (`--operate-solution DIR`,
the `operate_solution` ini option or marker, else the demo), a virtual clock, inline dispatch (a call
returns when every plan it set off has settled) and the demo PMS mounted in process. One emulator is
built per solution per test process and reset between tests in a few milliseconds; it uses no
fixed port and no shared file, so it is safe under `pytest -n auto`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from .coverage.plugin import CoveragePlugin
from .coverage.plugin import add_options as add_coverage_options
from .in_process_http import renewing_once

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # a Monday morning: every run starts here
DEMO_PMS_SERVICE = "demo-pms"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("operate", "operate-toolkit: event-to-workflow tests")
    group.addoption(
        "--operate-solution",
        metavar="DIR",
        default=None,
        help="solution folder the `operate` fixture loads (default: the demo solution)",
    )
    parser.addini("operate_solution", "solution folder the `operate` fixture loads (relative to the ini file)")
    add_coverage_options(group)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import scenario_hooks

    pluginmanager.add_hookspecs(scenario_hooks)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "operate_solution(path): load this solution folder in the `operate` fixture")
    if config.getoption("--operate-cov"):
        emulators = lambda: [h.emulator for h in config.stash.get(_HARNESSES, {}).values()]  # noqa: E731
        source = _configured_solution(config) or config.invocation_params.dir
        config.pluginmanager.register(CoveragePlugin(config, emulators, source), "operate-coverage")


def trigger(
    plan: str,
    event_type: str = "sharedo-phase-changed",
    work_type: str | None = "matter",
    *,
    phases: list[str] | None = None,
    states: list[str] | None = None,
    step: str = "main",
    data_fields: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An execution-engine trigger in the real export's shape (TriggerMeta and PlanMeta as JSON strings)."""
    meta: dict[str, Any] = {}
    if phases:
        meta["PhasesSystemNames"] = phases
    if states:
        meta["StatesSystemNames"] = states
    return {
        "Id": f"trigger-{plan}-{event_type}",
        "TriggerType": "event",
        "TriggerSubType": event_type,
        "SharedoTypeSystemName": work_type,
        "TriggerMeta": json.dumps(meta),
        "PlanSystemName": plan,
        "StepSystemName": step,
        "Active": True,
        "PlanMeta": json.dumps({"dataFields": data_fields or {"workItemId": "ev.Data.sharedoId"}}),
    }


def solution_from_demo(
    root: Path,
    plans: dict[str, str] | None = None,
    triggers: list[dict[str, Any]] = (),
    *,
    examples: bool = False,
    toml: str = "",
) -> Path:
    """A copy of the demo solution at `root` with these plans (`{name: source}`) and triggers; without
    the demo's finance examples unless `examples=True`. Returns `root`."""
    import shutil

    from emulator.solution.loading import demo_solution_path

    shutil.copytree(demo_solution_path(), root)
    config = root / "operate.toml"
    text = config.read_text("utf-8")
    if not examples:
        text = text.replace('include = ["pkg:smartplans/examples"]', "")
    config.write_text(text + ("\n" + toml if toml else ""), "utf-8")
    for folder in ("plans", "triggers", "tests"):
        (root / folder).mkdir(exist_ok=True)
    for name, source in (plans or {}).items():
        (root / "plans" / f"{name}.js").write_text(source, "utf-8")
    for i, doc in enumerate(triggers):
        (root / "triggers" / f"trigger-{i}.json").write_text(json.dumps(doc, indent=2), "utf-8")
    return root


def mount_demo_pms(emulator: Any) -> Any:
    """The demo PMS backend behind the `demo-pms` linked service, in process and on the emulator's
    clock (the demo mounts it itself: `fake = "demo"`); None when the solution has no such service."""
    if DEMO_PMS_SERVICE not in emulator.linked_services.services:
        return None
    return emulator.linked_services.fakes.get(DEMO_PMS_SERVICE) or emulator.linked_services.mount_demo(
        DEMO_PMS_SERVICE, emulator.clock
    )


class ApiClient:
    """The emulator's HTTP API in process, as one caller: a client, or a user through impersonation.

    `token_for(renew=False)` gives the `Authorization` value (None: send none). Like Operate's own sample
    clients, a 401 renews the token once and the call is made again, so a test that moves the virtual
    clock past a token's expiry goes on working."""

    def __init__(self, app: Any, token_for: Any) -> None:
        self.client = app.test_client()
        self._token_for = token_for

    def _open(self, method: str, path: str, json: Any, headers: dict | None, authorization: str | None, kw: dict):
        sent = {"Authorization": authorization} if authorization else {}
        sent.update(headers or {})
        return self.client.open(path, method=method, json=json, headers=sent, **kw)

    def request(self, method: str, path: str, json: Any = None, headers: dict | None = None, **kw: Any) -> Any:
        return renewing_once(
            lambda authorization: self._open(method, path, json, headers, authorization, kw),
            lambda renew: self._token_for(renew=renew),
            lambda response: response.status_code == 401,
        )

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)


class Operate:
    """One emulator for one solution; `reset()` between tests. What tests call is documented per method."""

    def __init__(self, data_dir: Path, solution: Path | None, coverage: bool = False) -> None:
        from emulator.app import create_app
        from emulator.context import emulator_of
        from emulator.settings import Settings

        settings = Settings(
            data_dir=data_dir,
            demo=solution is None,
            solution=solution,
            clock="virtual",
            clock_start=START,
            fresh=True,
            coverage=coverage,
        )
        self.app = create_app(settings)
        self.emulator = emulator_of(self.app)
        self.clock = self.emulator.clock
        self.pms = self._mount_demo_pms()
        self._tokens: dict[tuple[str, str | None], str] = {}

    def _mount_demo_pms(self) -> Any:
        return mount_demo_pms(self.emulator)

    def reset(self) -> None:
        """Back to the solution's seed, the start time, no mocks, fresh PMS books. Tokens are kept."""
        self.emulator.reset()
        self.emulator.smartplans.mocks.clear()
        if self.pms is not None:
            self.pms.reset()

    def close(self) -> None:
        self.emulator.close()

    # -- calling the API ----------------------------------------------------------------------------
    def _token(self, client_id: str, user: str | None, renew: bool = False) -> str:
        key = (client_id, user)
        if renew or key not in self._tokens:
            self._tokens[key] = self.emulator.identity.issue(client_id, user)
        return f"Bearer {self._tokens[key]}"

    def api(self, user: str | None = None, *, client: str = "demo-client") -> ApiClient:
        """Call any API as a user (`api("priya.shah")`), as a client, or as the workflow engine
        (`api(client="ee-app")`), with the permissions each has."""
        if user is not None and user.lower() not in self.emulator.identity.users:
            raise ValueError(f"no user {user!r}; users: {sorted(self.emulator.identity.users)}")
        return ApiClient(self.app, lambda renew=False: self._token(client, user, renew))

    def _ok(self, response: Any, what: str, status: tuple[int, ...] = (200, 201, 204)) -> Any:
        if response.status_code not in status:
            raise AssertionError(f"{what} was refused: {response.status_code} {response.get_data(as_text=True)}")
        return response.json if response.data else None

    def create_work_item(
        self,
        type_system_name: str,
        title: str,
        *,
        parent: str | None = None,
        participants: dict[str, str] | list[dict[str, str]] | None = None,
        attributes: dict[str, str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Create through the public API; `participants` may be `{role: odsId}`. Returns `workItem`."""
        if isinstance(participants, dict):
            participants = [{"roleSystemName": r, "odsId": o} for r, o in participants.items()]
        body: dict[str, Any] = {
            "workItem": {"sharedoTypeSystemName": type_system_name, "title": title},
            "participants": participants or [],
            **extra,
        }
        if parent:
            body["parentSharedoId"] = parent
        item = self._ok(self.api().post("/api/v1/public/workItem", body), f"creating {type_system_name}")["workItem"]
        if attributes:
            self.set_attributes(item["id"], attributes)
        return item

    def move(self, work_item_id: str, phase: str, reason: str | None = None) -> None:
        """Change phase through the public API (raising `sharedo-phase-changed`)."""
        self._ok(
            self.api().put(
                f"/api/v1/public/workItem/{work_item_id}/phase", {"toPhaseSystemName": phase, "reasonText": reason}
            ),
            f"moving {work_item_id} to {phase}",
        )

    def set_attributes(self, work_item_id: str, values: dict[str, str | None]) -> None:
        self._ok(self.api().put(f"/api/v1/public/workItem/{work_item_id}/attributes", values), "setting attributes")

    def work_item(self, work_item_id: str) -> dict[str, Any]:
        return self._ok(self.api().get(f"/api/v1/public/workItem/{work_item_id}"), f"reading {work_item_id}")

    def attribute(self, work_item_id: str, name: str) -> str | None:
        return self.emulator.workitems.attributes(work_item_id).get(name)

    def raise_event(self, event_type: str, **data: Any) -> int:
        """Append a business event directly (no API call behind it) and dispatch it; returns its number."""
        with self.emulator.store.transaction() as tx:
            number = self.emulator.stream.append(tx, event_type, data)
        return number

    # -- time -----------------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, by: timedelta | str) -> datetime:
        """Move the virtual clock; every timer and cron job due in between runs, in order, first."""
        from emulator.kernel.clock import parse_duration

        return self.clock.advance(parse_duration(by) if isinstance(by, str) else by)

    # -- reading what happened ------------------------------------------------------------------------
    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [
            e.to_json()
            for e in self.emulator.stream.after(0, limit=100_000)
            if event_type is None or e.event_type == event_type
        ]

    def executions(
        self, plan: str | None = None, state: str | None = None, sharedo_id: str | None = None
    ) -> list[dict[str, Any]]:
        return self.emulator.smartplans.executions(state, sharedo_id, plan)

    def logs(self, execution: dict[str, Any] | str) -> list[str]:
        """Step log lines of an execution as `"<step> <Level>: <message>"`."""
        ex = self.emulator.smartplans.execution(execution if isinstance(execution, str) else execution["id"])
        return [
            f"{s['systemName']} {line['logLevel']}: {line['logMessage']}"
            for s in ex["steps"]
            for line in self.emulator.smartplans.step_log(ex["id"], s["id"])
        ]

    def pms_requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """What the demo PMS received (`path` ending in `*` matches a prefix)."""
        if self.pms is None:
            raise AssertionError(f"this solution has no {DEMO_PMS_SERVICE!r} linked service, so no PMS fake")
        return self.pms.requests(method, path)

    # -- replacing what a plan reaches for -------------------------------------------------------------
    def mock_host_call(
        self,
        method: str,
        url: str,
        *,
        status: int = 200,
        body: Any = None,
        never_answers: bool = False,
        times: int | None = None,
    ) -> Any:
        """Answer a plan's `sharedo.http` call (URL glob) without making it; `never_answers` gives it a
        timeout (504 GatewayTimeout) at once, for testing what a plan does when a system hangs."""
        from .mocks import HostCallMock

        mock = HostCallMock(method, url, status, body, never_answers, times)
        self.emulator.smartplans.mocks.host_calls.append(mock)
        return mock

    def mock_step(self, plan: str, step: str, *, ctx: dict[str, Any] | None = None, error: str | None = None) -> Any:
        """Skip a step's code: it completes with `ctx` merged in, or fails with `error`."""
        from .mocks import StepMock

        mock = StepMock(plan, step, dict(ctx or {}), error)
        self.emulator.smartplans.mocks.steps[(plan, step)] = mock
        return mock

    # -- assertions that say what happened instead -------------------------------------------------------
    def describe(self) -> str:
        """The event stream, every execution with its steps and logs, and what the PMS received."""
        lines = ["events:"]
        lines += [f"  #{e['number']} {e['eventType']} {json.dumps(e['Data'], sort_keys=True)}" for e in self.events()]
        lines.append("executions:")
        for ex in self.executions():
            lines.append(
                f"  {ex['planSystemName']} [{ex['state']}] on {ex['sharedoId']}"
                + (f" — {ex['lastErrored']}" if ex["lastErrored"] else "")
            )
            for step in ex["steps"]:
                lines.append(f"    step {step['systemName']}: {step['state']}")
            lines += [f"      {line}" for line in self.logs(ex)]
            lines.append(f"    ctx: {json.dumps(ex['ctx'], sort_keys=True)}")
        if self.pms is not None:
            lines.append("the PMS received:")
            lines += [
                f"  {r['method']} {r['path']} {json.dumps(r.get('body'))} -> {r.get('status')}"
                for r in self.pms.requests()
            ]
        return "\n".join(lines)

    def assert_execution(
        self, plan: str, state: str = "STOPPED", *, sharedo_id: str | None = None, count: int = 1
    ) -> dict[str, Any]:
        """Exactly `count` executions of `plan` (on `sharedo_id`), all in `state`; returns the last."""
        found = self.executions(plan=plan, sharedo_id=sharedo_id)
        if len(found) != count or any(e["state"] != state for e in found):
            seen = [(e["planSystemName"], e["state"]) for e in found]
            raise AssertionError(
                f"expected {count} execution(s) of {plan!r} in {state}, found {seen}\n" + self.describe()
            )
        return found[-1]

    def assert_pms_received(self, method: str, path: str, body: Any = None, *, count: int = 1) -> list[dict]:
        """Exactly `count` requests to the PMS with this method and path (and, when given, these body keys)."""
        found = self.pms_requests(method, path)
        if body is not None:
            found = [
                r
                for r in found
                if isinstance(r.get("body"), dict) and all(r["body"].get(k) == v for k, v in body.items())
            ]
        if len(found) != count:
            raise AssertionError(
                f"expected the PMS to receive {count} × {method} {path}"
                + (f" with {json.dumps(body)}" if body is not None else "")
                + f", it received {len(found)}\n"
                + self.describe()
            )
        return found

    def assert_event(self, event_type: str, **data: Any) -> dict[str, Any]:
        """At least one event of this type whose Data has these values; returns the first."""
        for event in self.events(event_type):
            if all(event["Data"].get(k) == v for k, v in data.items()):
                return event
        raise AssertionError(f"no {event_type} event with {data}\n" + self.describe())


def _configured_solution(config: pytest.Config) -> Path | None:
    option = config.getoption("--operate-solution")
    if option:
        return Path(option).resolve()
    ini = config.getini("operate_solution")
    if ini:
        base = config.inipath.parent if config.inipath else Path.cwd()
        return (base / ini).resolve()
    return None


def _solution_for(request: pytest.FixtureRequest) -> Path | None:
    marker = request.node.get_closest_marker("operate_solution")
    if marker is not None:
        return Path(marker.args[0]).resolve()
    return _configured_solution(request.config)


_HARNESSES = pytest.StashKey[dict]()


def harness(config: pytest.Config, solution: Path | None) -> Operate:
    """The one emulator for `solution` in this test process, reset for the caller."""
    import tempfile

    built = config.stash.setdefault(_HARNESSES, {})
    found = built.get(solution)
    if found is None:
        coverage = bool(config.getoption("--operate-cov", False))
        found = Operate(Path(tempfile.mkdtemp(prefix="operate-test-")), solution, coverage)
        built[solution] = found
    else:
        found.reset()
    return found


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The emulators close as the session ends, after what reads them there (plan coverage), and before an
    xdist worker reports itself finished: a worker still closing V8 contexts when the controller ends it would
    be interrupted mid-cleanup."""
    close_harnesses(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    close_harnesses(config)  # a session that never finished (an error in collection) still leaves no emulator


def close_harnesses(config: pytest.Config) -> None:
    import shutil

    built = config.stash.get(_HARNESSES, {})
    while built:
        _, found = built.popitem()
        data_dir = found.emulator.settings.data_dir
        found.close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def operate(request: pytest.FixtureRequest) -> Operate:
    """An emulator with the solution loaded and fresh state for this test (see the module docstring)."""
    return harness(request.config, _solution_for(request))


# -- declarative scenarios ---------------------------------------------------------------------------
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(".scenario.yaml"):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _scenario_solution(path: Path, config: pytest.Config) -> Path | None:
    """A scenario in `<solution>/tests/` runs against that solution; elsewhere, the configured one."""
    for folder in list(path.parents)[:3]:
        if (folder / "operate.toml").is_file():
            return folder.resolve()
    return _configured_solution(config)


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield ScenarioItem.from_parent(self, name=self.path.name.removesuffix(".scenario.yaml"))


class ScenarioItem(pytest.Item):
    def runtest(self) -> None:
        from .plan_scenarios import Scenario, load_scenario

        data = load_scenario(self.path)
        checks: dict = {}
        for found in reversed(self.config.hook.pytest_operate_scenario_checks(item=self)):  # registration order
            checks.update(found)
        Scenario(self.path, data).run(harness(self.config, _scenario_solution(self.path, self.config)), checks)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from .plan_scenarios import PlanScenarioError

        if isinstance(excinfo.value, PlanScenarioError):
            err = excinfo.value
            where = f"{self.path}:{err.line}" if err.line else str(self.path)
            return f"{where}: {err}" + (f"\n\nwhat happened:\n{err.trace}" if err.trace else "")
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"scenario: {self.name}"
