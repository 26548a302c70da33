"""Plans for the tests of plans kept apart in the one warm V8 context: an ordinary plan that reads its work item,
and what a hostile plan may try to leave running or swapped after its step (each a plan's main body)."""

from __future__ import annotations

ORDINARY = """
function main(ev, ctx, log) {
  var item = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);
  ctx.reference = item.body.workItem.reference;
  log.Information("ordinary " + ctx.reference);
}
return { main: main };
"""


HOSTILE = {
    "a promise callback that never ends": "Promise.resolve().then(function () { for (;;) {} }); ctx.queued = true;",
    "mini-racer's timer": "__timer_manager.setTimeout(function () { for (;;) {} }, 1);",
    "Atomics.waitAsync": (
        "var a = new Int32Array(new SharedArrayBuffer(4));"
        " Atomics.waitAsync(a, 0, 0, 10).value.then(function () { for (;;) {} });"
    ),
    "a fake sharedo.http": (
        "sharedo.http.get = function () {"
        ' return {success: true, status: "OK", body: {workItem: {reference: "FAKE"}}}; };'
    ),
    "a broken JSON.stringify": 'JSON.stringify = function () { return "{"; }; JSON.parse = function () { return {}; };',
    "a rebound global": 'sharedo = {http: {get: function () { return {body: {workItem: {reference: "FAKE"}}}; }}};',
    "a polluted Object.prototype": (
        "Object.prototype.toJSON = function () { return 'x'; }; Array.prototype.push = null;"
        " delete Array.prototype.map; String.prototype.indexOf = function () { return 0; };"
    ),
    "buffers left on the global object": (
        "for (var i = 0; i < 4; i++) globalThis['leak' + i] = new ArrayBuffer(8 << 20);"
    ),
}
