"""`/api/_emulator/executions/<id>/...`: the implementor's tools over a plan execution (not Operate's API), served
from the PlanTools the composition root hands in (smartplans/plan_tools.py).

- `GET .../recording`: the execution as a replay scenario (YAML), to keep as a regression test;
  `POST .../recording` saves it in the solution, at tests/recorded/<plan>-<id>.scenario.yaml (emulator.control).
- `GET .../steps/<step_id>/snapshots`: the step replayed from its recorded answers, with the ctx as it stood when
  each host call was made and as the step left it.
- `POST .../steps/<step_id>/rerun` `{ctx?, ev?}`: the step run again, as a new execution linked to this one,
  with the ctx and event given (the originals by default); the answer has the new run and, side by side,
  what each run of the step did (calls, ctx, logs).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Blueprint, Response, jsonify

from ..kernel.binding import Fields
from ..kernel.errors import ApiError, invalid
from .common import READ_WORK, UPDATE_WORK, body, caller

if TYPE_CHECKING:  # built with its parts by create_app (emulator/app.py)
    from smartplans.plan_tools import PlanTools

PREFIX = "/api/_emulator/executions/<execution_id>"
DEMO_KEEPS_NONE = (
    "the demo solution is the package's own folder: download the test instead (GET this path), "
    "or copy the demo with `operate init DIR --from-demo` and serve that"
)
T = TypeVar("T")


def answered(work: Callable[[], T]) -> T:
    """The tool's answer, or its PlanToolError as the HTTP error it names (a ValueError with a `status`)."""
    try:
        return work()
    except ValueError as exc:
        raise ApiError(getattr(exc, "status", 400), str(exc)) from None


def blueprint(tools: PlanTools, solution_root: Path | None) -> Blueprint:
    """The tools over the stored executions; a saved recording goes under `solution_root` (None: the demo, whose
    folder is the package's own, keeps none: download the test instead)."""
    bp = Blueprint("plan_tools", __name__, url_prefix=PREFIX)

    @bp.get("/recording")
    def recording(execution_id: str):
        caller(READ_WORK)
        saved = answered(lambda: tools.recording(execution_id))
        disposition = {"Content-Disposition": f'attachment; filename="{Path(saved.path).name}"'}
        return Response(saved.text, mimetype="application/yaml", headers=disposition)

    @bp.post("/recording")
    def save(execution_id: str):
        caller("emulator.control")
        if solution_root is None:
            raise ApiError(409, DEMO_KEEPS_NONE)
        saved = answered(lambda: tools.recording(execution_id))
        target = solution_root / saved.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(saved.text, encoding="utf-8")
        return jsonify({"path": saved.path, "name": saved.name}), 201

    @bp.get("/steps/<step_id>/snapshots")
    def snapshots(execution_id: str, step_id: str):
        caller(READ_WORK)
        return jsonify(answered(lambda: tools.snapshots(execution_id, step_id)))

    @bp.post("/steps/<step_id>/rerun")
    def rerun(execution_id: str, step_id: str):
        caller(UPDATE_WORK)
        f = Fields(body(required=False), fold_case=False)
        f.raise_if_errors()
        unknown = sorted(set(f.names()) - {"ctx", "ev"})
        if unknown:
            raise invalid(unknown[0], "a rerun takes ctx and ev (each a whole JSON object), nothing else")
        given: dict[str, Any] = {"ctx": f.raw("ctx"), "ev": f.raw("ev")}
        return jsonify(answered(lambda: tools.rerun(execution_id, step_id, **given))), 201

    return bp
