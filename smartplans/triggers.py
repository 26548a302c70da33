"""Execution-engine triggers in the real export's shape, matched against business events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.kernel.events import Event
from emulator.kernel.jsonfile import get_ci
from emulator.solution.worktypes import WorkTypes


class TriggerError(ValueError):
    pass


def _json_field(doc: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """TriggerMeta and PlanMeta come as JSON strings in exports; objects are accepted too."""
    value = get_ci(doc, key)
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        raise TriggerError(f"{where}: {key} is not JSON: {str(value)[:80]!r}") from None
    if not isinstance(parsed, dict):
        raise TriggerError(f"{where}: {key} must be a JSON object")
    return parsed


@dataclass
class Trigger:
    id: str
    source: str
    event_type: str
    work_type: str | None
    plan: str
    step: str
    meta: dict[str, Any] = field(default_factory=dict)
    data_fields: dict[str, str] = field(default_factory=dict)
    active: bool = True
    sharedo_id: str | None = None

    def matches(self, event: Event, types: WorkTypes, event_types: dict[str, Any] | None = None) -> bool:
        if not self.active or event.event_type != self.event_type:
            return False
        data = event.data
        if self.sharedo_id and str(data.get("sharedoId", "")).lower() != self.sharedo_id.lower():
            return False
        if self.work_type:
            event_type_sn = data.get("sharedoTypeSystemName")
            if (
                not event_type_sn
                or event_type_sn not in types
                or not types.is_derived_from(event_type_sn, self.work_type)
            ):
                return False
        kind = (event_types or {}).get(event.event_type)
        if kind is not None and kind.trigger_meta and kind.trigger_meta_field:
            wanted = self.meta.get(kind.trigger_meta)
            return not (wanted and data.get(kind.trigger_meta_field) not in wanted)
        phases = self.meta.get("PhasesSystemNames")
        return not (phases and data.get("toPhase") not in phases)


def parse_trigger(doc: Any, source: str) -> Trigger:
    if not isinstance(doc, dict):
        raise TriggerError(f"{source}: a trigger file holds one JSON object")
    kind = get_ci(doc, "TriggerType") or "event"
    if kind != "event":
        raise TriggerError(f"{source}: TriggerType {kind!r} is not emulated (only 'event')")
    event_type = get_ci(doc, "TriggerSubType")
    plan = get_ci(doc, "PlanSystemName")
    for key, value in (("TriggerSubType", event_type), ("PlanSystemName", plan)):
        if not value:
            raise TriggerError(f"{source}: {key} is required")
    plan_meta = _json_field(doc, "PlanMeta", source)
    data_fields = plan_meta.get("dataFields") or {}
    if not isinstance(data_fields, dict) or not all(isinstance(v, str) for v in data_fields.values()):
        raise TriggerError(
            f"{source}: PlanMeta.dataFields must map variable names to expressions like ev.Data.sharedoId"
        )
    return Trigger(
        id=str(get_ci(doc, "Id") or Path(source).stem),
        source=source,
        event_type=event_type,
        work_type=get_ci(doc, "SharedoTypeSystemName") or None,
        plan=plan,
        step=get_ci(doc, "StepSystemName") or "main",
        meta=_json_field(doc, "TriggerMeta", source),
        data_fields=data_fields,
        active=get_ci(doc, "Active") is not False,
        sharedo_id=get_ci(doc, "SharedoId") or None,
    )


def evaluate_field(expression: str, ev: dict[str, Any]) -> Any:
    """`ev.Data.sharedoId`-style paths over the event, as PlanMeta.dataFields writes them."""
    parts = expression.strip().split(".")
    if not parts or parts[0] != "ev":
        raise TriggerError(f"dataFields expression {expression!r} must start with 'ev.'")
    value: Any = ev
    for part in parts[1:]:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
