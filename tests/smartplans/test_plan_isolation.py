"""A plan's faults stay inside its own execution (issue: SmartPlans isolation). Each test is a fault a
hostile plan found; the runtime must end that execution with a reason and go on serving the others."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import OPEN_MATTER, START, Api, client_token
from tests.helpers.isolation_plans import HOSTILE, ORDINARY


@pytest.fixture
def run_plan(tmp_path):
    """Serve a solution with `plan` (and the ordinary plan) triggered on attribute changes; set an attribute."""
    made = []

    def run(plan: str, before=None) -> tuple:
        plans = {"hostile": plan, "ordinary": ORDINARY}
        triggers = [trigger(name, "attribute-changed") for name in plans]
        root = solution_from_demo(tmp_path / f"s{len(made)}", plans, triggers)
        settings = Settings(data_dir=tmp_path / f"d{len(made)}", solution=root, clock="virtual", clock_start=START)
        app = create_app(settings)
        made.append(app)
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        if before is not None:
            before(app.extensions["operate"])
        response = api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": "1"})
        assert response.status_code in (200, 201, 204), response.json
        em = app.extensions["operate"]
        return em, {e["planSystemName"]: e for e in em.smartplans.executions(None, None, None)}

    yield run
    for app in made:
        app.extensions["operate"].close()


def test_a_ctx_nested_too_deeply_errors_its_execution_with_the_reason(run_plan):
    em, runs = run_plan(
        """
function main(ev, ctx, log) {
  var deep = {}, cur = deep;
  for (var i = 0; i < 5000; i++) { cur.a = {}; cur = cur.a; }
  ctx.deep = deep;
}
return { main: main };
"""
    )
    assert runs["hostile"]["state"] == "ERRORED"
    assert "nested too deeply" in runs["hostile"]["lastErrored"]
    assert runs["ordinary"]["state"] == "STOPPED" and runs["ordinary"]["ctx"]["reference"] == "MAT-00002"
    em.smartplans.resume()  # nothing of the failed one is left to trip a restart
    assert em.smartplans.execution(runs["hostile"]["id"])["state"] == "ERRORED"


def test_logging_or_stringifying_a_timer_builder_schedules_nothing(run_plan):
    em, runs = run_plan(
        """
function main(ev, ctx, log) {
  var later = trigger.SubProcess("later").In(2);
  log.Information("builder: " + JSON.stringify(later) + " " + Object.keys(later).length);
  log.Information(later);
  later.Days;
  later.Days;  // one builder, one timer
}
function later(ev, ctx, log) { log.Information("later ran"); }
return { main: main, later: later };
"""
    )
    hostile = em.smartplans.execution(runs["hostile"]["id"])
    waiting = [s for s in hostile["steps"] if s["systemName"] == "later"]
    assert len(waiting) == 1 and waiting[0]["state"] == "WAITING"
    em.clock.advance(timedelta(days=2))
    assert em.smartplans.execution(runs["hostile"]["id"])["state"] == "STOPPED"


def test_every_after_commit_callback_runs_when_one_raises(tmp_path):
    from emulator.core import SCHEMA
    from emulator.kernel.store import Store

    store = Store(tmp_path / "s.db", SCHEMA)
    ran: list[str] = []

    def broken() -> None:
        ran.append("broken")
        raise RuntimeError("a subscriber's bug")

    store.on_commit(broken)
    store.on_commit(lambda: ran.append("wake-up"))
    with pytest.raises(RuntimeError, match="a subscriber's bug"), store.transaction() as tx:
        tx.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
    assert ran == ["broken", "wake-up"]
    store.close()


def test_import_delivers_its_backlog_after_the_clock_is_restored(tmp_path):
    """A snapshot whose events are past its dispatcher cursor: the plans they start see the snapshot's time."""
    plans = {"stamp": 'function main(ev, ctx, log) { ctx.at = DateTime.Now.ToString("o"); }\nreturn { main: main };'}
    root = solution_from_demo(tmp_path / "s", plans, [trigger("stamp", "attribute-changed")])
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        em.clock.advance(timedelta(days=10))
        api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": "1"})
        snapshot = json.loads(json.dumps(em.export()))
        tables = snapshot["tables"]
        for name in ("plan_executions", "execution_steps", "step_logs", "runtime_triggers", "jobs"):
            tables[name]["rows"] = []  # as if the server had stopped before delivering the events
        meta = tables["meta"]["rows"]
        tables["meta"]["rows"] = [r for r in meta if r[0] != "dispatcher.cursor"] + [["dispatcher.cursor", "0"]]
        saved = next(r[1] for r in meta if r[0] == "clock.virtualNow")
        em.reset()  # back to START
        api.post("/api/_emulator/import", snapshot)
        stamped = [e for e in em.smartplans.executions(None, None, "stamp")]
        assert stamped and all(e["ctx"]["at"][:16] == saved[:16] for e in stamped), (saved, stamped)
    finally:
        em.close()


def test_the_cpu_limit_is_the_steps_across_its_replays(tmp_path):
    """Each host call runs the step again from its start; the limit must hold for the sum, not each run."""
    import time

    from py_mini_racer import MiniRacer

    loop = "(function (n) { var x = 0; for (var i = 0; i < n; i++) { x = (x + i * 7) % 1000003; } return x; })"
    with MiniRacer() as mr:  # calibrate on this machine: how many iterations make about 40 ms
        n, took = 100_000, 0.0
        while took < 0.02 and n < 10**9:
            n *= 2
            started = time.perf_counter()
            mr.eval(f"{loop}({n})")
            took = time.perf_counter() - started
        n = int(n * 0.04 / took)
    calls = 25  # the longest single run is ~1 s (25 × 40 ms), under the 2 s limit; all of them ~13 s
    plan = f"""
var spin = {loop};
function main(ev, ctx, log) {{
  for (var k = 0; k < {calls}; k++) {{ spin({n}); sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId); }}
  ctx.done = true;
}}
return {{ main: main }};
"""
    root = solution_from_demo(tmp_path / "s", {"spinner": plan}, [trigger("spinner", "attribute-changed")])
    (root / "operate.toml").write_text((root / "operate.toml").read_text() + "\n[plans.spinner]\ncpu_seconds = 2\n")
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": "1"})
        run = em.smartplans.executions(None, None, "spinner")[0]
        assert run["state"] == "ERRORED", run
        assert "CPU-time limit of 2 s, spent across" in run["lastErrored"]  # each run alone stayed under 2 s
    finally:
        em.close()


@pytest.mark.parametrize("schedule", ['trigger.SubProcess("main").Now();', 'trigger.SubProcess("main").In(0).Minutes;'])
def test_a_plan_that_schedules_itself_forever_stops_at_its_step_limit(tmp_path, schedule):
    plan = f"function main(ev, ctx, log) {{ ctx.n = (ctx.n || 0) + 1; {schedule} }}\nreturn {{ main: main }};"
    plans = {"forever": plan, "ordinary": ORDINARY}
    root = solution_from_demo(tmp_path / "s", plans, [trigger(p, "attribute-changed") for p in plans])
    config = root / "operate.toml"
    config.write_text(config.read_text().replace("[limits]", "[limits]\nsteps_per_execution = 40"))
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": "1"})
        em.clock.advance(timedelta(minutes=5))  # the timer form runs every due timer, in order
        run = em.smartplans.executions(None, None, "forever")[0]
        assert run["state"] == "ERRORED", run["state"]
        assert "reached its limit of 40 steps" in run["lastErrored"] and "steps_per_execution" in run["lastErrored"]
        assert run["ctx"]["n"] == 39  # the 40th step asked for a 41st and was refused
        assert len(em.smartplans.execution(run["id"])["steps"]) == 40
        assert em.smartplans.executions(None, None, "ordinary")[0]["state"] == "STOPPED"
    finally:
        em.close()


@pytest.mark.parametrize("what", list(HOSTILE))
def test_a_hostile_plan_cannot_hurt_a_later_ordinary_one(tmp_path, what):
    hostile = f"function main(ev, ctx, log) {{ {HOSTILE[what]} }}\nreturn {{ main: main }};"
    leftovers = 'Object.keys(globalThis).filter(function (k) { return k.indexOf("leak") === 0; }).length'
    marker = 'log.Information("ordinary "'
    checker = ORDINARY.replace(marker, f"ctx.leftovers = {leftovers};\n  {marker}")
    plans = {"hostile": hostile, "ordinary": checker}
    root = solution_from_demo(tmp_path / "s", plans, [trigger(p, "attribute-changed") for p in plans])
    config = root / "operate.toml"
    config.write_text(config.read_text().replace("cpu_seconds = 5", "cpu_seconds = 1"))
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        for value in ("1", "2"):  # the second round runs after whatever the first hostile run left behind
            api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": value})
        ordinary = em.smartplans.executions(None, None, "ordinary")
        assert len(ordinary) == 2
        for run in ordinary:
            assert run["state"] == "STOPPED", run["lastErrored"]
            assert run["ctx"]["reference"] == "MAT-00002" and run["ctx"]["leftovers"] == 0
        for run in em.smartplans.executions(None, None, "hostile"):
            assert run["state"] in ("STOPPED", "ERRORED")  # its own fault, ended either way
    finally:
        em.close()


@pytest.mark.parametrize(
    "allocate",
    [
        "for (var i = 0; i < 8; i++) kept.push(new ArrayBuffer(128 << 20));",
        "kept.push(new Float64Array(20 * 1000 * 1000));",
        "var b = new ArrayBuffer(40 << 20); kept.push(b, b.slice(0));",
        "kept.push(new Uint8Array(new ArrayBuffer(60 << 20)).map(function (x) { return x; }));",
    ],
)
def test_array_buffers_count_against_the_heap_limit(run_plan, allocate):
    em, runs = run_plan(f"function main(ev, ctx, log) {{ var kept = []; {allocate} }}\nreturn {{ main: main }};")
    assert runs["hostile"]["state"] == "ERRORED"
    assert "array buffers passed its heap limit of 64 MB" in runs["hostile"]["lastErrored"]
    assert runs["ordinary"]["state"] == "STOPPED"


def test_buffers_within_the_limit_work_as_usual(run_plan):
    em, runs = run_plan(
        "function main(ev, ctx, log) { var a = new Uint8Array(new ArrayBuffer(16)); a[3] = 7;"
        " var b = new Float32Array(1000); ctx.sum = a[3] + b.length + a.subarray(2).length; }\nreturn { main: main };"
    )
    assert runs["hostile"]["state"] == "STOPPED" and runs["hostile"]["ctx"]["sum"] == 7 + 1000 + 14


def test_each_recorded_host_call_is_sent_to_v8_once_so_a_step_costs_linear_in_its_calls(run_plan):
    calls = 60
    em, runs = run_plan(
        f"function main(ev, ctx, log) {{ var n = 0; for (var i = 0; i < {calls}; i++) {{"
        ' n += sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId).body.workItem.reference.length; }'
        " ctx.n = n; }\nreturn { main: main };"
    )
    assert runs["hostile"]["state"] == "STOPPED" and runs["hostile"]["ctx"]["n"] == calls * len("MAT-00002")
    runtime = em.smartplans.runtime
    before = runtime.recorded_sent
    em.smartplans.resume()  # nothing left to run: sends nothing
    assert runtime.recorded_sent == before
    # what the hostile (60 calls) and the ordinary plan (1 call) sent, each recorded call once: not 60 × 61 / 2
    assert before == calls + 1


def test_recording_a_host_call_writes_that_call_only_not_the_whole_list_again(run_plan):
    calls, written = 60, []

    def watch(em):  # every statement the store runs, with its values: what a step writes to the file
        em.store._conn.set_trace_callback(lambda sql: sql.startswith(("INSERT", "UPDATE")) and written.append(sql))

    em, runs = run_plan(
        f"function main(ev, ctx, log) {{ for (var i = 0; i < {calls}; i++) {{"
        ' sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId); } }\nreturn { main: main };',
        before=watch,
    )
    em.store._conn.set_trace_callback(None)
    assert runs["hostile"]["state"] == "STOPPED" and runs["hostile"]["steps"][0]["hostCalls"] == calls
    with em.store.read() as conn:
        one_call = max(len(r[0]) + len(r[1]) for r in conn.execute("SELECT request, response FROM step_calls"))
    # each call written once (rewriting the list each time would write 60 × 61 / 2 calls' worth)
    assert sum(len(sql) for sql in written) < 3 * (calls + 1) * one_call


def test_a_store_from_before_host_calls_were_rows_keeps_its_recorded_calls(tmp_path):
    import sqlite3

    from emulator.core import SCHEMA
    from emulator.kernel.store import Store

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for number, script in enumerate(SCHEMA.migrations[:4], start=1):
        conn.executescript(f"BEGIN;{script};PRAGMA user_version={number};COMMIT;")
    conn.execute(
        "INSERT INTO plan_executions VALUES ('e1','p','P','script','RUNNING','t',NULL,NULL,NULL,NULL,'{}','{}',NULL)"
    )
    recorded = [
        {"request": {"method": "GET", "url": "/a"}, "response": {"success": True, "body": "x"}},
        {"request": {"method": "POST", "url": "/b"}, "response": {"success": True}, "refetch": True},
    ]
    conn.execute(
        "INSERT INTO execution_steps VALUES ('s1','e1',1,'main','QUEUED',NULL,NULL,NULL,0,NULL,?)",
        (json.dumps(recorded),),
    )
    conn.execute("INSERT INTO step_logs VALUES ('s1', 1, 't', 'Information', 'kept')")
    conn.commit()
    conn.close()
    store = Store(path, SCHEMA)
    with store.read() as db:
        rows = [tuple(r) for r in db.execute("SELECT * FROM step_calls ORDER BY idx")]
        columns = [r[1] for r in db.execute("PRAGMA table_info(execution_steps)")]
        logs = db.execute("SELECT log_message FROM step_logs").fetchall()
    store.close()
    assert rows == [
        ("s1", 0, '{"method":"GET","url":"/a"}', '{"success":true,"body":"x"}', 0),
        ("s1", 1, '{"method":"POST","url":"/b"}', '{"success":true}', 1),
    ]
    assert "recorded" not in columns and [r[0] for r in logs] == ["kept"]


def test_a_step_is_charged_for_its_own_heap_not_other_plans_or_earlier_garbage():
    from smartplans.runtime import Limits, PlanLoadError, Runtime

    fill = "for (var i = 0; i < {n}; i++) {name}.push(new Array(1024).fill(i + 0.5));"  # n × 8 KB
    runtime = Runtime()
    try:
        # another plan holding ~40 MB from its load, and a step that allocates ~37 MB of its 64 MB each run
        runtime.load(
            "big", "var big = [];" + fill.format(n=5000, name="big") + "\nreturn { main: function () {} };", "big.js"
        )
        step = "function main(ev, ctx) { var a = [];" + fill.format(n=4500, name="a") + " ctx.n = a.length; }"
        runtime.load("heavy", step + "\nreturn { main: main };", "heavy.js")
        payload = {"ev": {}, "ctx": {}, "recorded": [], "now": 0, "seed": 1}
        results = [runtime.run_step("heavy", "main", payload, Limits()) for _ in range(4)]
        assert [(r.status, r.ctx.get("n")) for r in results] == [("completed", 4500)] * 4, [r.error for r in results]
        # the other plan's own step is not charged for what it holds since its load either
        assert runtime.run_step("big", "main", payload, Limits(heap_mb=8)).status == "completed"
        runtime.load(
            "bomb",
            "function main() { var a = [];" + fill.format(n=10**7, name="a") + " }\nreturn { main: main };",
            "b.js",
        )
        assert runtime.run_step("bomb", "main", payload, Limits()).error["limit"] == "heap"
        with pytest.raises(PlanLoadError, match="heap limit"):  # and while a plan loads
            runtime.load("loads-a-bomb", "var a = [];" + fill.format(n=10**7, name="a") + "\nreturn {};", "l.js")
        assert runtime.run_step("heavy", "main", payload, Limits()).status == "completed"
    finally:
        runtime.close()


def test_executions_one_event_starts_take_turns_so_a_self_scheduling_one_holds_up_no_other(tmp_path):
    busy = (
        'function main(ev, ctx, log) { ctx.n = (ctx.n || 0) + 1; if (ctx.n < 400) trigger.SubProcess("main").Now(); }'
        "\nreturn { main: main };"
    )
    plans = {"busy": busy, "ordinary": ORDINARY}  # busy's trigger comes first: before, it ran all 400 steps first
    root = solution_from_demo(tmp_path / "s", plans, [trigger(name, "attribute-changed") for name in plans])
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root))  # the wall clock: end times differ
    try:
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        assert api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": "1"}).status_code < 300
        runs = {e["planSystemName"]: e for e in app.extensions["operate"].smartplans.executions(None, None, None)}
        assert runs["busy"]["state"] == runs["ordinary"]["state"] == "STOPPED"  # inline: both settled on return
        assert runs["busy"]["ctx"]["n"] == 400 and runs["ordinary"]["ctx"]["reference"] == "MAT-00002"
        assert runs["ordinary"]["endTime"] < runs["busy"]["endTime"]
    finally:
        app.extensions["operate"].close()


def test_a_promise_callback_queued_between_replays_cannot_poison_later_plans(run_plan):
    plan = (
        "function main(ev, ctx, log) { var a = sharedo.http.get('/api/v1/public/workItem/' + ctx.workItemId);"
        " if (!globalThis.__seen) { Promise.resolve().then(function () { for (;;) {} }); }"
        " var b = sharedo.http.get('/api/v1/public/workItem/' + ctx.workItemId); ctx.ok = a.success && b.success; }"
        "\nreturn { main: main };"
    )
    em, runs = run_plan(plan)
    assert runs["ordinary"]["state"] == "STOPPED", (runs["ordinary"]["lastErrored"], runs["hostile"]["lastErrored"])


@pytest.mark.timeout(120)  # without the fix this hangs: fail instead
def test_a_spinning_callback_between_replays_never_hangs_the_runtime(run_plan):
    """On a loaded machine every run is "long" and is followed by a collection and heap statistics, which
    have no time limit; between replays they would wait for ever on a callback the step left spinning.
    Measuring after every run (as on a loaded machine) must still end with the hostile plan stopped."""

    def every_run_is_long(em) -> None:
        em.smartplans.runtime.heavy_run_seconds = 0.0

    plan = (
        "function main(ev, ctx, log) { var a = sharedo.http.get('/api/v1/public/workItem/' + ctx.workItemId);"
        " Promise.resolve().then(function () { for (;;) {} });"
        " var b = sharedo.http.get('/api/v1/public/workItem/' + ctx.workItemId); ctx.ok = a.success && b.success; }"
        "\nreturn { main: main };"
    )
    em, runs = run_plan(plan, before=every_run_is_long)
    assert runs["hostile"]["state"] == "ERRORED"
    assert runs["ordinary"]["state"] == "STOPPED", runs["ordinary"]["lastErrored"]


TAMPER = {
    "a builder's prototype": (
        "Object.getPrototypeOf(actions.sharedo.BuildTask()).WithTitle = function () {"
        ' this._task.title = "FAKE"; return this; };'
        " Object.getPrototypeOf(actions.sharedo.BuildActionPlan()).stash = [];"
    ),
    "Guid's values": 'Object.getPrototypeOf(Guid.Empty).ToString = function () { return "FAKE"; };',
    "Date.prototype": 'Date.prototype.toISOString = function () { return "FAKE"; };',
}


@pytest.mark.parametrize("what", list(TAMPER))
def test_a_plan_cannot_change_the_host_objects_a_later_plan_builds(tmp_path, what):
    """The host's builders, Guid values and Date are shared by every plan in the context: what one step
    changes on their prototypes must not reach the next plan (it could fake or collect that plan's data)."""
    checker = (
        "function main(ev, ctx, log) {"
        ' ctx.title = actions.sharedo.BuildTask().WithTitle("mine").Build().task.title;'
        ' ctx.stash = "stash" in actions.sharedo.BuildActionPlan();'
        " ctx.guid = Guid.Empty.ToString(); ctx.date = new Date(0).toISOString(); }\nreturn { main: main };"
    )
    hostile = f"function main(ev, ctx, log) {{ {TAMPER[what]} }}\nreturn {{ main: main }};"
    plans = {"hostile": hostile, "ordinary": checker}
    root = solution_from_demo(tmp_path / "s", plans, [trigger(p, "attribute-changed") for p in plans])
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        for value in ("1", "2"):  # the second round runs after whatever the first hostile run left behind
            api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": value})
        ordinary = em.smartplans.executions(None, None, "ordinary")
        assert len(ordinary) == 2
        for run in ordinary:
            assert run["state"] == "STOPPED", run["lastErrored"]
            assert {k: run["ctx"][k] for k in ("title", "stash", "guid", "date")} == {
                "title": "mine",
                "stash": False,
                "guid": "00000000-0000-0000-0000-000000000000",
                "date": "1970-01-01T00:00:00.000Z",
            }
    finally:
        em.close()


def test_what_a_plan_s_top_level_code_changes_is_undone_before_any_step_runs(tmp_path):
    """A plan's top-level code runs when it is loaded, outside any step: what it changes on the shared built-ins
    and host objects, or leaves on the global object, must be gone before another plan's step runs."""
    hostile = (
        "Object.getPrototypeOf(actions.sharedo.BuildTask()).WithTitle = function () {"
        ' this._task.title = "FAKE"; return this; };'
        ' String.prototype.trim = function () { return "FAKE"; }; globalThis.planted = 1;'
        "\nfunction main(ev, ctx, log) { }\nreturn { main: main };"
    )
    checker = (
        "function main(ev, ctx, log) {"
        ' ctx.title = actions.sharedo.BuildTask().WithTitle("mine").Build().task.title;'
        ' ctx.trim = " x ".trim(); ctx.planted = typeof planted; }\nreturn { main: main };'
    )
    plans = {"hostile": hostile, "ordinary": checker}
    root = solution_from_demo(tmp_path / "s", plans, [trigger("ordinary", "attribute-changed")])
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        em.smartplans.runtime.load("hostile-again", hostile, "plans/hostile.js")  # as a reload after an edit does
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": "1"})
        (run,) = em.smartplans.executions(None, None, "ordinary")
        assert run["state"] == "STOPPED", run["lastErrored"]
        assert {k: run["ctx"][k] for k in ("title", "trim", "planted")} == {
            "title": "mine",
            "trim": "x",
            "planted": "undefined",
        }
    finally:
        em.close()


BREAKS_BUILT_INS = {
    "delete globalThis.Object": "delete globalThis.Object;",
    "delete Array, Error and Promise": "delete globalThis.Array; delete globalThis.Error; delete globalThis.Promise;",
    "a rebound global Object": "Object = function () {}; globalThis.JSON2 = 1;",
    "Array.prototype.push replaced, then frozen": (
        "Array.prototype.push = function () { return 42; }; Object.freeze(Array.prototype);"
    ),
    "a frozen Object.prototype": "Object.freeze(Object.prototype);",
    "non-configurable properties on built-in prototypes": (
        "Object.defineProperty(Array.prototype, 'evil', { value: 1 });"
        " Reflect.defineProperty(Object.prototype, 'evil', { value: 2 });"
        " Object.defineProperty(Date.prototype, 'evil', { get: function () { return 3; } });"
    ),
    "a prototype swapped": "Object.setPrototypeOf(Array.prototype, null); Error.prototype.__proto__ = null;",
    "a descriptor made read-only": "Object.defineProperty(String.prototype, 'trim', { writable: false });",
    "a global function declared by indirect eval": "(0, eval)('function Array() { return 1; }');",
    "a promise callback that deletes Object": "Promise.resolve().then(function () { delete globalThis.Object; });",
}
INTRINSICS_AS_BEFORE = """
function main(ev, ctx, log) {
  var a = []; a.push(1, 2);
  ctx.seen = {
    push: a.length, object: typeof Object, array: Array.isArray(a), error: new Error("e").message,
    promise: typeof Promise, frozen: [Object.isFrozen(Object.prototype), Object.isFrozen(Array.prototype)],
    evil: [typeof [].evil, typeof ({}).evil, typeof new Date(0).evil],
    protos: Object.getPrototypeOf(Array.prototype) === Object.prototype &&
      Object.getPrototypeOf(Error.prototype) === Object.prototype,
    trim: Object.getOwnPropertyDescriptor(String.prototype, "trim").writable
  };
  function Mine() {} Mine.prototype.toString = function () { return "mine"; };  // assignment still shadows
  ctx.seen.mine = String(new Mine());
}
return { main: main };
"""
AS_BEFORE = {
    "push": 2,
    "object": "function",
    "array": True,
    "error": "e",
    "promise": "function",
    "frozen": [False, False],
    "evil": ["undefined", "undefined", "undefined"],
    "protos": True,
    "trim": True,
    "mine": "mine",
}


@pytest.mark.parametrize("what", list(BREAKS_BUILT_INS))
def test_a_step_that_breaks_built_ins_leaves_them_as_before_for_every_later_plan(tmp_path, what):
    """Deleting, freezing or redefining what every plan shares put every later execution of every plan in
    ERRORED until a restart (a reset did not heal it): after each step the built-ins are as they were."""
    hostile = f"function main(ev, ctx, log) {{ {BREAKS_BUILT_INS[what]} ctx.done = true; }}\nreturn {{ main: main }};"
    plans = {"hostile": hostile, "checker": INTRINSICS_AS_BEFORE, "ordinary": ORDINARY}
    root = solution_from_demo(tmp_path / "s", plans, [trigger(p, "attribute-changed") for p in plans])
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        for value in ("1", "2"):  # the second round runs after whatever the first hostile run left behind
            api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": value})
        for name in ("checker", "ordinary", "hostile"):  # the hostile plan's own second run too
            runs = em.smartplans.executions(None, None, name)
            assert len(runs) == 2 and all(r["state"] == "STOPPED" for r in runs), [r["lastErrored"] for r in runs]
        assert [r["ctx"]["seen"] for r in em.smartplans.executions(None, None, "checker")] == [AS_BEFORE] * 2
    finally:
        em.close()


def test_a_plan_whose_top_level_code_breaks_built_ins_does_not_load_and_others_run(tmp_path):
    breaks = "Object.freeze(Object.prototype);\nfunction main(ev, ctx, log) { ctx.done = true; }\nreturn {main: main};"
    plans = {"breaks": breaks, "checker": INTRINSICS_AS_BEFORE}
    root = solution_from_demo(tmp_path / "s", plans, [trigger(p, "attribute-changed") for p in plans])
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    em = app.extensions["operate"]
    try:
        api = Api(app, client_token(app), renew=lambda: client_token(app))
        api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": "1"})
        broken = em.smartplans.executions(None, None, "breaks")[0]
        assert broken["state"] == "ERRORED"
        assert "top-level code changed built-ins" in broken["lastErrored"]
        assert "Object.prototype was made non-extensible" in broken["lastErrored"]
        checker = em.smartplans.executions(None, None, "checker")[0]
        assert checker["state"] == "STOPPED" and checker["ctx"]["seen"] == AS_BEFORE
    finally:
        em.close()


def _bounded_solution(tmp_path, plans: dict[str, str], limits: str):
    root = solution_from_demo(tmp_path / "s", plans, [trigger(p, "attribute-changed") for p in plans])
    config = root / "operate.toml"
    config.write_text(config.read_text().replace("[limits]", "[limits]\n" + limits))
    app = create_app(Settings(data_dir=tmp_path / "d", solution=root, clock="virtual", clock_start=START))
    api = Api(app, client_token(app), renew=lambda: client_token(app))
    api.post(f"/api/v1/public/workItem/{OPEN_MATTER}/attributes/poke", {"value": "1"})
    return app, api


@pytest.mark.parametrize(
    "body",
    [
        'throw "x".repeat(5 << 20);',
        'throw new Error("x".repeat(5 << 20));',
        'log.Information("x".repeat(5 << 20)); throw new Error("after a long line");',
    ],
)
def test_a_huge_error_or_log_line_is_stored_cut_to_its_limit_and_says_how_much_was_cut(tmp_path, body):
    """A step that threw 50 MB stored it whole (the DB grew by 317 MB; the executions list was 105 MB)."""
    plans = {"huge": f"function main(ev, ctx, log) {{ {body} }}\nreturn {{ main: main }};", "ordinary": ORDINARY}
    app, api = _bounded_solution(tmp_path, plans, "text_kb = 64")
    em = app.extensions["operate"]
    try:
        run = em.smartplans.executions(None, None, "huge")[0]
        assert run["state"] == "ERRORED"
        step = run["steps"][0]
        lines = em.smartplans.step_log(run["id"], step["id"])
        stored = [run["lastErrored"], step["error"]["message"], step["error"].get("stack") or ""]
        stored += [line["logMessage"] for line in lines]
        assert max(len(text) for text in stored) < 66 * 1024
        cut = [text for text in stored if "… [cut: " in text]
        assert cut and all("more characters; the limit is 65536 ([limits] text_kb" in text for text in cut)
        assert any(text.startswith(("xxxx", "Error: xxxx")) for text in cut)  # the start is kept
        listing = api.get("/api/executionengine/plans/executing")
        assert listing.status_code == 200 and len(listing.data) < 1024 * 1024
        assert em.smartplans.executions(None, None, "ordinary")[0]["state"] == "STOPPED"
    finally:
        em.close()


def test_a_step_that_logs_without_end_keeps_its_first_lines_and_says_how_many_it_dropped(tmp_path):
    """A step logging 1,000,000 lines ended ERRORED with the message "null"."""
    plan = 'function main(ev, ctx, log) { for (var i = 0; i < 200000; i++) log.Information("line " + i); }'
    plans = {"chatty": plan + "\nreturn { main: main };", "ordinary": ORDINARY}
    app, _ = _bounded_solution(tmp_path, plans, "log_lines_per_step = 500")
    em = app.extensions["operate"]
    try:
        run = em.smartplans.executions(None, None, "chatty")[0]
        assert run["state"] == "STOPPED", run["lastErrored"]
        lines = em.smartplans.step_log(run["id"], run["steps"][0]["id"])
        assert len(lines) == 501 and lines[499]["logMessage"] == "line 499"
        assert lines[-1]["logLevel"] == "Warning"
        assert lines[-1]["logMessage"] == (
            "199500 more log lines were dropped: a step keeps its first 500"
            " ([limits] log_lines_per_step in operate.toml)"
        )
    finally:
        em.close()


def test_a_step_that_leaves_a_ctx_over_its_limit_errors_naming_the_limit(tmp_path):
    plan = 'function main(ev, ctx, log) { ctx.blob = "x".repeat(5 << 20); }\nreturn { main: main };'
    app, _ = _bounded_solution(tmp_path, {"big": plan, "ordinary": ORDINARY}, "ctx_kb = 1024")
    em = app.extensions["operate"]
    try:
        run = em.smartplans.executions(None, None, "big")[0]
        assert run["state"] == "ERRORED"
        assert "left a ctx of 5120 KB, over its limit of 1024 KB ([limits] ctx_kb" in run["lastErrored"]
        with em.store.read() as conn:
            stored = conn.execute("SELECT length(ctx) FROM plan_executions WHERE id=?", (run["id"],)).fetchone()[0]
        assert stored < 1024
    finally:
        em.close()


def test_a_size_limit_that_is_not_a_whole_number_is_refused_naming_it(tmp_path):
    from emulator.solution.loading import SolutionError

    with pytest.raises(SolutionError, match=r"\[limits\] text_kb must be a whole number of at least 1, not 0"):
        _bounded_solution(tmp_path, {"ordinary": ORDINARY}, "text_kb = 0")
