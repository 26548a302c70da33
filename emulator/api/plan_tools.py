"""`/api/_emulator/executions/<id>/...`: the implementor's tools over a plan execution (not Operate's API).

- `GET .../recording`: the execution as a replay scenario (YAML), to keep as a regression test;
  `POST .../recording` saves it in the solution, at tests/recorded/<plan>-<id>.scenario.yaml (emulator.control).
- `GET .../steps/<step_id>/snapshots`: the step replayed from its recorded answers, with the ctx as it stood when
  each host call was made and as the step left it.
- `POST .../steps/<step_id>/rerun` `{ctx?, ev?}`: the step run again, as a new execution linked to this one,
  with the ctx and event data given (the originals by default); the answer has the new run and, side by side,
  what each run did (calls, ctx, logs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify

from smartplans.recordings import RecordingError, file_name, recording_of, to_yaml
from smartplans.reruns import RerunError, rerun_step, step_snapshots

from ..kernel.binding import Fields
from ..kernel.errors import ApiError, invalid
from .common import READ_WORK, UPDATE_WORK, body, caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from smartplans.executions import SmartPlans

    from ..kernel.clock import Clock
    from ..kernel.store import Store

PREFIX = "/api/_emulator/executions/<execution_id>"


def blueprint(smartplans: SmartPlans, store: Store, clock: Clock, solution_root: Path) -> Blueprint:
    """The tools over `smartplans`' executions (read from `store`); a saved recording goes under `solution_root`."""
    bp = Blueprint("plan_tools", __name__, url_prefix=PREFIX)

    def document(execution_id: str) -> dict:
        try:
            return recording_of(store, execution_id)
        except RecordingError as exc:  # the title is the reason (no such run; a run with nothing to replay)
            raise ApiError(404 if str(exc).startswith("no plan execution") else 409, str(exc)) from None

    @bp.get("/recording")
    def recording(execution_id: str):
        caller(READ_WORK)
        doc = document(execution_id)
        text = to_yaml(doc, clock.now())
        name = Path(file_name(doc)).name
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(text, mimetype="application/yaml", headers=disposition)

    @bp.post("/recording")
    def save(execution_id: str):
        caller("emulator.control")
        doc = document(execution_id)
        relative = file_name(doc)
        target = solution_root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_yaml(doc, clock.now()), encoding="utf-8")
        return jsonify({"path": relative, "name": doc["name"]}), 201

    @bp.get("/steps/<step_id>/snapshots")
    def snapshots(execution_id: str, step_id: str):
        caller(READ_WORK)
        try:
            return jsonify(step_snapshots(smartplans, store, execution_id, step_id))
        except RerunError as exc:
            raise ApiError(exc.status, str(exc)) from None

    @bp.post("/steps/<step_id>/rerun")
    def rerun(execution_id: str, step_id: str):
        caller(UPDATE_WORK)
        f = Fields(body(required=False), fold_case=False)
        f.raise_if_errors()
        unknown = sorted(set(f.names()) - {"ctx", "ev"})
        if unknown:
            raise invalid(unknown[0], "a rerun takes ctx and ev (each a whole JSON object), nothing else")
        try:
            done = rerun_step(smartplans, store, execution_id, step_id, ctx=f.raw("ctx"), ev=f.raw("ev"))
        except RerunError as exc:
            raise ApiError(exc.status, str(exc)) from None
        new = smartplans.execution(done.execution_id)
        return jsonify({"execution": new, "original": done.original, "rerun": done.rerun}), 201

    return bp
