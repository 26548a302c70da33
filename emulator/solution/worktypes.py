"""Work types in the real export's shape: phase plans, transitions, roles, and inheritance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..kernel.jsonfile import get_ci
from .references import ReferenceFormat, ReferenceGeneratorError, parse_reference_generator


class WorkTypeError(ValueError):
    pass


@dataclass(frozen=True)
class Phase:
    system_name: str
    name: str
    description: str
    icon_class: str
    is_start: bool
    is_open: bool
    is_removed: bool
    display_order: int

    def to_json(self) -> dict[str, Any]:
        return {
            "systemName": self.system_name,
            "name": self.name,
            "description": self.description,
            "iconClass": self.icon_class,
            "isStart": self.is_start,
            "isOpen": self.is_open,
            "isRemoved": self.is_removed,
        }


@dataclass(frozen=True)
class Transition:
    system_name: str
    from_phase: str
    to_phase: str
    name: str
    is_optimum_path: bool
    is_user_driven: bool
    reason_is_mandatory: bool


@dataclass
class WorkType:
    system_name: str
    parent: str | None
    name: str
    short_name: str
    description: str
    icon_class: str
    is_abstract: bool
    is_active: bool
    declared_path: str | None
    has_own_plan: bool
    own_phases: list[Phase] = field(default_factory=list)
    own_transitions: list[Transition] = field(default_factory=list)
    own_roles: list[dict[str, Any]] = field(default_factory=list)
    key_dates: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    reference_generator: Any = None  # the export's ReferenceGenerator, or None; see references.py
    # Features switched on for the type: feature system name → the phases where it is on (None: every phase).
    features: dict[str, tuple[str, ...] | None] = field(default_factory=dict)


def _b(value: Any, default: bool = False) -> bool:
    return default if value is None else bool(value)


def _features(doc: dict[str, Any], source: str) -> dict[str, tuple[str, ...] | None]:
    """`"Features": [{"SystemName": "<feature>", "EnabledPhases": ["<phase>", ...]}]` on a work type [inferred:
    the shape is the emulator's own; a tenant keeps per-type features in its modeller]. No EnabledPhases (or null)
    means every phase of the type. What `GET /api/featureframework/flags/{feature}/{type}/enabledPhases` answers."""
    raw = get_ci(doc, "Features")
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise WorkTypeError(f'{source}: "Features" must be a list of {{"SystemName", "EnabledPhases"}} objects')
    out: dict[str, tuple[str, ...] | None] = {}
    for i, entry in enumerate(raw):
        name = get_ci(entry, "SystemName") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise WorkTypeError(f"{source}: Features[{i}].SystemName is required")
        phases = get_ci(entry, "EnabledPhases")
        if phases is not None and (not isinstance(phases, list) or not all(isinstance(x, str) for x in phases)):
            raise WorkTypeError(f"{source}: Features[{i}].EnabledPhases must be a list of phase system names")
        out[name] = None if phases is None else tuple(phases)
    return out


def parse_worktype(doc: dict[str, Any], source: str) -> WorkType:
    if not isinstance(doc, dict):
        raise WorkTypeError(f"{source}: a work type file must hold a JSON object")
    base = get_ci(doc, "BaseSharedo")
    if not isinstance(base, dict) or not get_ci(base, "SystemName"):
        raise WorkTypeError(f"{source}: BaseSharedo.SystemName is required")
    sn = get_ci(base, "SystemName")
    phases = [_phase(p) for p in (get_ci(doc, "Phases") or [])]
    for i, p in enumerate(phases):
        if not p.system_name:
            raise WorkTypeError(f"{source}: Phases[{i}].SystemName is required")
    return WorkType(
        system_name=sn,
        parent=get_ci(base, "ParentSystemName") or None,
        name=get_ci(base, "Name") or sn,
        short_name=get_ci(base, "ShortName") or "",
        description=get_ci(base, "Description") or "",
        icon_class=get_ci(base, "IconClass") or "",
        is_abstract=_b(get_ci(base, "IsAbstract")),
        is_active=_b(get_ci(base, "IsActive"), True),
        declared_path=get_ci(base, "SystemNamePath") or None,
        has_own_plan=bool(get_ci(doc, "PhasePlan")) or bool(phases),
        own_phases=phases,
        own_transitions=[_transition(t) for t in (get_ci(doc, "PhaseTransitions") or [])],
        own_roles=list(get_ci(doc, "SharedoTypeRoles") or []),
        key_dates=list(get_ci(doc, "KeyDateAssociations") or []),
        raw=doc,
        reference_generator=get_ci(doc, "ReferenceGenerator"),
        features=_features(doc, source),
    )


def _phase(p: Any) -> Phase:
    """One of the export's `Phases`; a phase is open and not the start unless it says otherwise."""
    return Phase(
        system_name=get_ci(p, "SystemName"),
        name=get_ci(p, "Name") or get_ci(p, "SystemName"),
        description=get_ci(p, "Description") or "",
        icon_class=get_ci(p, "IconClass") or "",
        is_start=_b(get_ci(p, "IsStart")),
        is_open=_b(get_ci(p, "IsOpen"), True),
        is_removed=_b(get_ci(p, "IsRemoved")),
        display_order=int(get_ci(p, "DisplayOrder") or 0),
    )


def _transition(t: Any) -> Transition:
    """One of the export's `PhaseTransitions`; without a system name it is called `<from>-to-<to>`."""
    from_phase, to_phase = get_ci(t, "FromPhaseSystemName"), get_ci(t, "ToPhaseSystemName")
    return Transition(
        system_name=get_ci(t, "SystemName") or f"{from_phase}-to-{to_phase}",
        from_phase=from_phase,
        to_phase=to_phase,
        name=get_ci(t, "Name") or "",
        is_optimum_path=_b(get_ci(t, "IsOptimumPath")),
        is_user_driven=_b(get_ci(t, "IsUserDriven"), True),
        reason_is_mandatory=_b(get_ci(t, "ReasonIsMandatory")),
    )


class WorkTypes:
    """The loaded types, with inheritance resolved once at load so lookups are dictionary reads."""

    def __init__(self, types: list[WorkType]) -> None:
        self._types: dict[str, WorkType] = {}
        for t in types:
            if t.system_name in self._types:
                raise WorkTypeError(f"work type {t.system_name!r} is defined twice")
            self._types[t.system_name] = t
        self._plan_owner: dict[str, WorkType] = {}
        self._ancestry: dict[str, list[str]] = {}
        for sn in self._types:
            self._ancestry[sn] = self._walk(sn)
        for sn in self._types:
            owner = next((self._types[a] for a in self._ancestry[sn] if self._types[a].has_own_plan), None)
            if owner is not None:
                self._check_plan(owner)
                self._plan_owner[sn] = owner
        own_formats: dict[str, ReferenceFormat | None] = {}
        for t in self._types.values():
            try:
                own_formats[t.system_name] = parse_reference_generator(
                    t.reference_generator, t.system_name, repr(t.system_name)
                )
            except ReferenceGeneratorError as exc:
                raise WorkTypeError(f"work type {exc}") from None
        # the nearest type that has a ReferenceGenerator decides (references.py: inherited [inferred])
        self._reference: dict[str, ReferenceFormat | None] = {
            sn: next(
                (own_formats[a] for a in self._ancestry[sn] if self._types[a].reference_generator is not None), None
            )
            for sn in self._types
        }

    def _walk(self, sn: str) -> list[str]:
        chain, seen = [], set()
        current: str | None = sn
        while current:
            if current in seen:
                raise WorkTypeError(f"work type {sn!r}: ParentSystemName forms a loop at {current!r}")
            if current not in self._types:
                raise WorkTypeError(f"work type {chain[-1]!r}: parent {current!r} is not defined")
            seen.add(current)
            chain.append(current)
            current = self._types[current].parent
        return chain

    @staticmethod
    def _check_plan(owner: WorkType) -> None:
        names = {p.system_name for p in owner.own_phases}
        starts = [p for p in owner.own_phases if p.is_start]
        if owner.own_phases and len(starts) != 1:
            raise WorkTypeError(
                f"work type {owner.system_name!r}: exactly one phase must have IsStart (found {len(starts)})"
            )
        for t in owner.own_transitions:
            for end in (t.from_phase, t.to_phase):
                if end not in names:
                    raise WorkTypeError(
                        f"work type {owner.system_name!r}: transition {t.system_name!r} names unknown phase {end!r}"
                    )

    def __contains__(self, sn: object) -> bool:
        return sn in self._types

    def __iter__(self):
        return iter(self._types.values())

    def get(self, sn: str) -> WorkType | None:
        return self._types.get(sn)

    def ancestors(self, sn: str) -> list[str]:
        """The type itself first, then its parent, up to the root."""
        return self._ancestry[sn]

    def path(self, sn: str) -> str:
        declared = self._types[sn].declared_path
        return declared or "/" + "/".join(reversed(self._ancestry[sn]))

    def is_derived_from(self, sn: str, ancestor: str) -> bool:
        return sn in self._ancestry and ancestor in self._ancestry[sn]

    def phases(self, sn: str) -> list[Phase]:
        owner = self._plan_owner.get(sn)
        return sorted(owner.own_phases, key=lambda p: p.display_order) if owner else []

    def phase(self, sn: str, phase_sn: str) -> Phase | None:
        return next((p for p in self.phases(sn) if p.system_name == phase_sn), None)

    def start_phase(self, sn: str) -> Phase | None:
        return next((p for p in self.phases(sn) if p.is_start), None)

    def transitions_from(self, sn: str, phase_sn: str) -> list[Transition]:
        owner = self._plan_owner.get(sn)
        return [t for t in owner.own_transitions if t.from_phase == phase_sn] if owner else []

    def enabled_phases(self, sn: str, feature: str) -> list[str]:
        """The phases of a type where a feature is on: the nearest type (itself, then its ancestors) that lists
        the feature decides; a feature none lists is on in no phase. Feature names match in any letter case."""
        for owner in self.ancestors(sn):
            found = {k.lower(): v for k, v in self._types[owner].features.items()}.get(feature.lower(), False)
            if found is False:
                continue
            names = [p.system_name for p in self.phases(sn)]
            return names if found is None else [p for p in names if p in found]
        return []

    def reference_format(self, sn: str) -> ReferenceFormat | None:
        """How new items of the type get their reference, if a ReferenceGenerator says (references.py)."""
        return self._reference.get(sn)

    def roles(self, sn: str) -> dict[str, dict[str, Any]]:
        """Roles allowed on a type: its own and every ancestor's, the nearest definition winning."""
        out: dict[str, dict[str, Any]] = {}
        for a in reversed(self._ancestry[sn]):
            for r in self._types[a].own_roles:
                role = get_ci(r, "ParticipantRoleSystemName")
                if role:
                    out[role] = r
        return out
