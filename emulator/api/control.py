"""`/api/_emulator/...`: the emulator's own control surface (health, clock, events, state)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, jsonify, request

from ..kernel.binding import Fields
from ..kernel.clock import ClockModeError, ClockRangeError, iso, parse_duration, parse_instant
from ..kernel.errors import ApiError, invalid
from ..kernel.store import SnapshotError
from .common import body, caller, int_arg

if TYPE_CHECKING:  # built by create_app (emulator/app.py)
    from ..core import Emulator
    from ..kernel.clock import Clock


def blueprint(emulator: Emulator) -> Blueprint:
    """The control routes over `emulator` itself: reset, export and import act on the whole of its state at once
    (the store, the documents' files, the clock and the timers, with the dispatcher paused), which is the
    Emulator's own job; health, the clock and the events read its parts."""
    bp = Blueprint("control", __name__, url_prefix="/api/_emulator")

    @bp.get("/health")
    def health():
        return jsonify(
            {
                "status": "ok",
                "solution": emulator.solution.name,
                "clock": clock_json(emulator.clock),
                "lastEventNumber": emulator.stream.last_number(),
                "dispatcherCursor": emulator.dispatcher.cursor,
            }
        )

    @bp.get("/clock")
    def get_clock():
        caller()
        return jsonify({**clock_json(emulator.clock), "pending": emulator.scheduler.pending()})

    @bp.post("/clock")
    def move_clock():
        caller("emulator.control")
        f = Fields(body())
        advance = f.string("advance", max_length=50)
        moment = f.string("set", max_length=50)
        if (advance is None) == (moment is None) and not f.errors:
            f.error("(body)", 'give exactly one of {"advance": "PT2M"} or {"set": "2026-01-05T09:00:00Z"}')
        f.raise_if_errors()
        clock = emulator.clock
        try:
            if advance is not None:
                try:
                    delta = parse_duration(advance)
                except ValueError as exc:
                    raise invalid("advance", str(exc)) from None
                clock.advance(delta)
            else:
                try:
                    target = parse_instant(moment or "")
                except ValueError as exc:
                    raise invalid("set", str(exc)) from None
                clock.set(target)
        except ClockModeError as exc:
            raise ApiError(409, str(exc)) from None
        except ClockRangeError as exc:
            raise invalid("advance" if advance is not None else "set", str(exc)) from None
        return jsonify(clock_json(emulator.clock))

    @bp.get("/events")
    def events():
        caller("core.sharedo.read")  # what the events describe: work items (docs/security.md)
        after = int_arg("after", 0, minimum=0, maximum=2**62)
        limit = int_arg("limit", 1000, maximum=10_000)
        sharedo = request.args.get("sharedoId") or None
        found = emulator.stream.after(after, limit=limit, sharedo_id=sharedo)
        return jsonify({"events": [e.to_json() for e in found], "lastEventNumber": emulator.stream.last_number()})

    @bp.get("/events/catalogue")
    def catalogue():
        caller()
        return jsonify(
            [
                {
                    "eventType": e.event_type,
                    "status": e.status,
                    "description": e.description,
                    "data": ["sharedoId", "sharedoTypeSystemName", *e.data],
                }
                for e in emulator.event_types.values()
            ]
        )

    @bp.post("/reset")
    def reset():
        caller("emulator.control")
        emulator.reset()
        return jsonify({"status": "reset", "clock": clock_json(emulator.clock)})

    @bp.get("/export")
    def export():
        caller("emulator.control")
        return jsonify(emulator.export())

    @bp.post("/import")
    def import_():
        caller("emulator.control")
        try:
            emulator.import_snapshot(body())
        except SnapshotError as exc:
            raise ApiError(400, str(exc), [{"field": "(body)", "message": str(exc)}]) from None
        return jsonify({"status": "imported", "lastEventNumber": emulator.stream.last_number()})

    return bp


def clock_json(clock: Clock) -> dict[str, Any]:
    return {"mode": clock.mode, "now": iso(clock.now())}
