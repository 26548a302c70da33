"""A slow PMS holds up no other plan: under serve, executions of other work items take their turns while
one waits on a host call, and one work item's executions keep their order and never overlap.

Checked by structure, not by timing: the PMS behind the proxy holds each call until a second is in
flight (or a deadline passes), so it sees whether two executions' calls were ever in flight at once.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.settings import Settings
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import ENQUIRY_MATTER, OPEN_MATTER

PLAN = """
function main(ev, ctx, log) {
  var r = sharedo.http.post("/api/proxy/demo-pms/_/api/hold",
    { matter: ev.Data.sharedoId, attribute: ev.Data.attributeName });
  ctx.status = r.status;
}
return { main: main };
"""
HOLD_SECONDS = 5.0  # how long a call waits for company; on an engine that runs one call at a time, all of it


class HoldingPms:
    """A PMS that answers a call that came alone only once another arrives (or after `hold` seconds), and
    records what was in flight when each call arrived."""

    def __init__(self, hold: float = HOLD_SECONDS, fixed: bool = False) -> None:
        self.hold, self.fixed = hold, fixed  # fixed: every call lasts `hold`, company or not
        self.lock = threading.Condition()
        self.in_flight: list[dict[str, Any]] = []
        self.seen: list[dict[str, Any]] = []  # each call: its body and the bodies in flight when it arrived
        self.ended: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(size) or b"{}")
        with self.lock:
            self.seen.append({"body": body, "beside": [dict(b) for b in self.in_flight]})
            arrived = len(self.seen)
            self.in_flight.append(body)
            self.lock.notify_all()
            deadline = time.monotonic() + self.hold
            while (self.fixed or (arrived == len(self.seen) and len(self.in_flight) < 2)) and (
                time.monotonic() < deadline
            ):
                self.lock.wait(deadline - time.monotonic())
            self.in_flight.remove(body)
            self.ended.append(body)
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b'{"ok": true}']


@pytest.fixture
def served(tmp_path: Path, request: Any):
    from emulator.app import create_app
    from emulator.core import Emulator

    root = solution_from_demo(tmp_path / "s", {"hold": PLAN}, [trigger("hold", "attribute-changed", "matter")])
    em = Emulator(Settings(data_dir=tmp_path / "d", solution=root, inline_dispatch=False))
    create_app(emulator=em)
    fixed = getattr(request, "param", None)
    pms = HoldingPms(fixed, fixed=True) if fixed else HoldingPms()
    service = em.linked_services.services["demo-pms"]
    em.linked_services.add(dataclasses.replace(service, base_url="http://pms.test"), httpx.WSGITransport(app=pms))
    em.start_background()
    yield em, pms
    em.close()


def _settled(em: Any, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [e for e in em.smartplans.executions() if e["state"] in ("STOPPED", "ERRORED")]
        if len(done) >= count:
            return done
        time.sleep(0.05)
    raise AssertionError(f"only {len(done)} of {count} executions settled within {timeout} s")


def test_executions_of_other_work_items_call_the_pms_while_one_waits(served):
    em, pms = served
    em.workitems.set_attributes(OPEN_MATTER, {"first": "1"}, None)
    em.workitems.set_attributes(ENQUIRY_MATTER, {"second": "1"}, None)
    done = _settled(em, 2)
    assert [e["state"] for e in done] == ["STOPPED", "STOPPED"], [e["lastErrored"] for e in done]
    assert [e["ctx"]["status"] for e in done] == ["Created", "Created"]
    # the second call arrived while the first was still waiting for its answer
    later = pms.seen[1]
    assert later["beside"], f"the PMS never had two calls in flight: {pms.seen}"
    assert {later["body"]["matter"], later["beside"][0]["matter"]} == {OPEN_MATTER, ENQUIRY_MATTER}


@pytest.mark.parametrize("served", [0.2], indirect=True)  # each call lasts 0.2 s: an overlap would show
def test_one_work_items_executions_keep_their_order_and_never_overlap(served):
    em, pms = served
    for name in ("a", "b", "c"):
        em.workitems.set_attributes(OPEN_MATTER, {name: "1"}, None)
    em.workitems.set_attributes(ENQUIRY_MATTER, {"other": "1"}, None)
    done = _settled(em, 4)
    assert all(e["state"] == "STOPPED" for e in done), [e["lastErrored"] for e in done]
    mine = [c for c in pms.seen if c["body"]["matter"] == OPEN_MATTER]
    assert [c["body"]["attribute"] for c in mine] == ["a", "b", "c"]  # in the order of the events
    for call in mine:  # none arrived while another of the same work item was in flight
        assert all(b["matter"] != OPEN_MATTER for b in call["beside"]), call
    assert [b["attribute"] for b in pms.ended if b["matter"] == OPEN_MATTER] == ["a", "b", "c"]


def test_the_bound_on_host_calls_in_flight_is_read_from_operate_toml(tmp_path: Path):
    from emulator.core import Emulator
    from emulator.solution.loading import SolutionError

    def with_bound(folder: Path, value: int) -> Path:
        root = solution_from_demo(folder)
        toml = root / "operate.toml"
        toml.write_text(toml.read_text("utf-8").replace("[limits]\n", f"[limits]\nhost_calls_in_flight = {value}\n"))
        return root

    em = Emulator(Settings(data_dir=tmp_path / "d", solution=with_bound(tmp_path / "s", 3)))
    assert em.smartplans.queue.max_workers == 3
    em.close()
    bad = with_bound(tmp_path / "bad", 0)
    with pytest.raises(SolutionError, match="host_calls_in_flight"):
        Emulator(Settings(data_dir=tmp_path / "d2", solution=bad))
