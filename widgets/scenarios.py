"""Named data scenarios for previewing and testing widgets (as Storybook has stories).

A scenario sets the stage through the same parts the tests use: the work item, the signed-in user and
the demo PMS fake behind a linked service (its fault switches and its books). The built-in ones are in
`scenarios.json`; a widget folder adds or overrides them in `<Name>.scenarios.json`. Choosing a
scenario replaces the fake's faults, so moving from `pms-error` back to `ok` heals the PMS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from emulator.jsonfile import JsonFileError, get_ci, load

from .manifests import SCENARIOS_SUFFIX, Manifest

BUILTIN_FILE = Path(__file__).parent / "scenarios.json"
KEYS = {"title", "description", "workItem", "user", "attributes", "pmsFaults", "pmsMatter", "service"}
FAULT_KEYS = {"route", "method", "delaySeconds", "status", "malformed", "times"}


class ScenarioError(ValueError):
    """A scenario that cannot be applied; says which scenario, which key and why."""


@dataclass
class Applied:
    """What a page renders with once a scenario has set the stage."""

    name: str | None
    work_item: str | None
    user: str | None
    notes: list[str] = field(default_factory=list)


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        doc = load(path)
    except JsonFileError as exc:
        raise ScenarioError(str(exc)) from None
    scenarios = get_ci(doc, "scenarios") if isinstance(doc, dict) else None
    if not isinstance(scenarios, dict):
        raise ScenarioError(f'{path}: expected {{"scenarios": {{"<name>": {{...}}}}}}')
    for name, body in scenarios.items():
        if not isinstance(body, dict):
            raise ScenarioError(f"{path}: scenario {name!r} must be an object")
        unknown = set(body) - KEYS
        if unknown:
            raise ScenarioError(f"{path}: scenario {name!r}: unknown key(s) {sorted(unknown)}; known: {sorted(KEYS)}")
    return scenarios


def builtin() -> dict[str, dict[str, Any]]:
    return _read(BUILTIN_FILE)


def for_widget(manifest: Manifest | None) -> dict[str, dict[str, Any]]:
    """The built-in scenarios, then the widget folder's own (`<Name>.scenarios.json`), which win."""
    out = builtin()
    if manifest is None:
        return out
    stem = manifest.path.name[: -len(".widget.json")] if manifest.kind == "widget" else manifest.path.stem
    own = next((p for p in manifest.path.parent.iterdir() if p.name.lower() == (stem + SCENARIOS_SUFFIX).lower()), None)
    if own is not None:
        out.update(_read(own))
    return out


def _user_lacking(em: Any, permission: str, scenario: str) -> str:
    for _, person in sorted(em.identity.users.items()):
        if permission not in em.identity.user_permissions(person):
            return person["userName"]
    raise ScenarioError(
        f"scenario {scenario!r}: no user lacks {permission!r}; add one to ods/people.json "
        f'(a person with isUser, a userName and "permissions" that leave it out)'
    )


def _fake(em: Any, service: str | None, scenario: str) -> Any:
    fakes = em.linked_services.fakes
    if service is None:
        service = next(iter(fakes), None)
    backend = fakes.get(service) if service else None
    if backend is None:
        raise ScenarioError(
            f"scenario {scenario!r} drives a PMS fake, but linked service {service!r} has none; "
            f'set fake = "demo" on it in operate.toml'
        )
    return backend


def _apply_faults(backend: Any, faults: Any, scenario: str) -> None:
    from pms_adapters.demo.models import DemoPmsError

    if not isinstance(faults, list):
        raise ScenarioError(f"scenario {scenario!r}: pmsFaults must be a list")
    for i, fault in enumerate(faults):
        where = f"scenario {scenario!r}: pmsFaults[{i}]"
        if not isinstance(fault, dict) or set(fault) - FAULT_KEYS:
            raise ScenarioError(f"{where}: an object with keys from {sorted(FAULT_KEYS)}")
        try:
            backend.add_fault(
                fault.get("route", ""),
                fault.get("method", "*"),
                delay=fault.get("delaySeconds"),
                status=fault.get("status"),
                malformed=bool(fault.get("malformed", False)),
                times=fault.get("times"),
            )
        except DemoPmsError as exc:
            raise ScenarioError(f"{where}.{exc.field or 'route'}: {exc.message}") from None


def _open_pms_matter(em: Any, backend: Any, work_item: str, spec: Any, scenario: str) -> str:
    """Open the work item's matter in the PMS (idempotent on the Operate id) and link it by attribute."""
    from pms_adapters.demo.models import DemoPmsError

    if not isinstance(spec, dict):
        raise ScenarioError(f"scenario {scenario!r}: pmsMatter must be an object")
    try:
        matter, _ = backend.open_matter(
            operate_id=spec.get("operateId", work_item),
            title=str(spec.get("title") or em.workitems.get(work_item).title),
            fee_earner=str(spec.get("feeEarner", "")),
            client_id=spec.get("clientId"),
            client_name=spec.get("clientName"),
            estimated_fees=Decimal(str(spec["estimatedFees"])) if "estimatedFees" in spec else None,
        )
    except DemoPmsError as exc:
        raise ScenarioError(f"scenario {scenario!r}: pmsMatter.{exc.field}: {exc.message}") from None
    em.workitems.set_attributes(work_item, {spec.get("referenceAttribute", "pmsReference"): matter.reference}, None)
    return matter.reference


def default_user(em: Any, work_item: str | None) -> str | None:
    """The work item's primary owner when that person is a user (who would look at it), else the first user."""
    if work_item and em.workitems.find(work_item) is not None:
        roles = em.workitems.participants(work_item)
        owners = [p["odsId"] for p in roles if p.get("participantRoleType") == "primary-owner"]
        for person in em.identity.users.values():
            if person.get("id") in owners:
                return person["userName"]
    return next((em.identity.users[k]["userName"] for k in sorted(em.identity.users)), None)


def default_work_item(em: Any) -> str | None:
    """The first work item of the seed (the demo's first matter), for pages opened with none named."""
    with em.store.read() as conn:
        row = conn.execute("SELECT id FROM work_items ORDER BY created, id LIMIT 1").fetchone()
    return row["id"] if row else None


def apply(
    em: Any,
    scenarios: dict[str, dict[str, Any]],
    name: str | None,
    *,
    work_item: str | None = None,
    user: str | None = None,
    service: str | None = None,
) -> Applied:
    """Set the stage for `name` (None: leave the state as it is). Explicit `work_item` / `user` win."""
    if not name:
        work_item = work_item or default_work_item(em)
        return Applied(None, work_item, user or default_user(em, work_item))
    scenario = scenarios.get(name)
    if scenario is None:
        raise ScenarioError(f"no scenario {name!r}; this widget has: {', '.join(scenarios)}")
    work_item = work_item or scenario.get("workItem") or default_work_item(em)
    if work_item is None or em.workitems.find(work_item) is None:
        raise ScenarioError(f"scenario {name!r}: work item {work_item!r} is not in this solution")
    wanted = scenario.get("user")
    if user is None and isinstance(wanted, dict):
        user = _user_lacking(em, str(wanted.get("lacking")), name)
    elif user is None and wanted:
        user = str(wanted)
    if user is not None and user.lower() not in em.identity.users:
        raise ScenarioError(f"scenario {name!r}: no user {user!r}; users: {', '.join(sorted(em.identity.users))}")
    user = em.identity.users[user.lower()]["userName"] if user else default_user(em, work_item)
    notes: list[str] = []
    drives_pms = "pmsFaults" in scenario or "pmsMatter" in scenario
    backend = None
    try:
        backend = _fake(em, scenario.get("service") or service, name)
    except ScenarioError:
        if drives_pms:
            raise
    if backend is not None:
        backend.clear_faults()
        _apply_faults(backend, scenario.get("pmsFaults", []), name)
    if "pmsMatter" in scenario:
        reference = _open_pms_matter(em, backend, work_item, scenario["pmsMatter"], name)
        notes.append(f"PMS matter {reference} linked to the work item")
    attributes = scenario.get("attributes")
    if attributes:
        if not isinstance(attributes, dict):
            raise ScenarioError(f"scenario {name!r}: attributes must be an object of name: string")
        try:
            em.workitems.set_attributes(work_item, attributes, None)
        except Exception as exc:  # the model's own 400 names the attribute
            raise ScenarioError(f"scenario {name!r}: attributes: {exc}") from None
    return Applied(name, work_item, user, notes)


def describe(scenarios: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """For the gallery: name, title and description of each scenario."""
    return [
        {"name": n, "title": s.get("title") or n, "description": s.get("description") or ""}
        for n, s in scenarios.items()
    ]
