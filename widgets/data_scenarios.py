"""Named data scenarios for previewing and testing widgets (as Storybook has stories).

A scenario sets the stage through the same parts the tests use: the work item, the signed-in user and
the demo PMS fake behind a linked service (its fault switches and its books). The built-in ones are in
`scenarios.json`; a widget folder adds or overrides them in `<Name>.scenarios.json`. (A plan's given / when /
then test in `*.scenario.yaml` is another thing: smartplans/plan_scenarios.py.)

A scenario belongs to the page that chose it: applying one gives it a fresh scenario key
(emulator/kernel/scenario_keys.py) and sets the fake's faults for that key only. The page's host script
sends the key on its calls through the linked-service proxy (widgets/static/host/scenario-key.js), so two
tabs, or two tests, with different scenarios each see their own, and plans and pages with no scenario see
the PMS as it is. `pmsMatter` and `attributes` are data, not faults: they are written to the shared books
and work item (idempotently), as a plan would write them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from emulator.kernel.errors import ApiError
from emulator.kernel.jsonfile import JsonFileError, get_ci, load
from emulator.kernel.scenario_keys import new_key
from emulator.workitem_reads import WorkItemReads

from .manifests import SCENARIOS_SUFFIX, Manifest

BUILTIN_FILE = Path(__file__).parent / "scenarios.json"
KEYS = {"title", "description", "workItem", "user", "attributes", "pmsFaults", "pmsMatter", "service"}
FAULT_KEYS = {"route", "method", "delaySeconds", "status", "malformed", "times"}


class DataScenarioError(ValueError):
    """A scenario that cannot be applied; says which scenario, which key and why."""


@dataclass
class Applied:
    """What a page renders with once a scenario has set the stage."""

    name: str | None
    work_item: str | None
    user: str | None
    notes: list[str] = field(default_factory=list)
    key: str | None = None  # the page's scenario key, when the scenario drives a demo PMS fake


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        doc = load(path)
    except JsonFileError as exc:
        raise DataScenarioError(str(exc)) from None
    scenarios = get_ci(doc, "scenarios") if isinstance(doc, dict) else None
    if not isinstance(scenarios, dict):
        raise DataScenarioError(f'{path}: expected {{"scenarios": {{"<name>": {{...}}}}}}')
    for name, body in scenarios.items():
        if not isinstance(body, dict):
            raise DataScenarioError(f"{path}: scenario {name!r} must be an object")
        unknown = set(body) - KEYS
        if unknown:
            raise DataScenarioError(
                f"{path}: scenario {name!r}: unknown key(s) {sorted(unknown)}; known: {sorted(KEYS)}"
            )
    return scenarios


def builtin() -> dict[str, dict[str, Any]]:
    return _read(BUILTIN_FILE)


def for_widget(manifest: Manifest | None) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The built-in scenarios, then the widget folder's own (`<Name>.scenarios.json`), which win; and the
    problem with the widget's file, if any (the built-in ones still serve, the page shows the problem)."""
    out = builtin()
    if manifest is None:
        return out, None
    stem = manifest.path.name[: -len(".widget.json")] if manifest.kind == "widget" else manifest.path.stem
    own = next((p for p in manifest.path.parent.iterdir() if p.name.lower() == (stem + SCENARIOS_SUFFIX).lower()), None)
    if own is not None:
        try:
            out.update(_read(own))
        except DataScenarioError as exc:
            return out, str(exc)
    return out, None


MATTER_KEYS = {"operateId", "title", "feeEarner", "clientId", "clientName", "estimatedFees", "referenceAttribute"}


@dataclass
class _Plan:
    """A scenario checked in full, so applying it cannot fail half-way."""

    work_item: str
    user: str | None
    backend: Any
    faults: list[dict[str, Any]]
    matter: dict[str, Any] | None
    attributes: dict[str, Any]
    notes: list[str]


def _text(value: Any, where: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DataScenarioError(f"{where} must be a non-empty string")
    return value


def _user_lacking(em: Any, permission: Any, scenario: str) -> str:
    permission = _text(permission, f"scenario {scenario!r}: user.lacking", required=True)
    for _, person in sorted(em.identity.users.items()):
        if permission not in em.identity.user_permissions(person):
            return person["userName"]
    raise DataScenarioError(
        f"scenario {scenario!r}: no user lacks {permission!r}; add one to ods/people.json "
        f'(a person with isUser, a userName and "permissions" that leave it out)'
    )


def _fake(em: Any, service: Any, scenario: str) -> Any:
    service = _text(service, f"scenario {scenario!r}: service")
    fakes = em.linked_services.fakes
    name = service or next(iter(fakes), None)
    backend = fakes.get(name) if name else None
    if backend is None:
        where = f"linked service {name!r}" if name else "no linked service"
        raise DataScenarioError(
            f"scenario {scenario!r} drives a PMS fake, but {where} has one "
            f'(set fake = "demo" on a [linked_services.<name>] in operate.toml)'
        )
    from pms_adapters.fakes.demo_pms.models import DemoPmsBackend

    if not isinstance(backend, DemoPmsBackend):  # a fake Clio has switches of its own, not the demo's faults
        raise DataScenarioError(
            f"scenario {scenario!r} drives the demo PMS fake, but linked service {name!r} is served by another "
            f"fake ({type(backend).__name__}); drive it in library mode (a fake Clio: its switches)"
        )
    return backend


def _check_faults(backend: Any, faults: Any, scenario: str) -> list[dict[str, Any]]:
    from pms_adapters.fakes.demo_pms.models import DemoPmsError

    if not isinstance(faults, list):
        raise DataScenarioError(f"scenario {scenario!r}: pmsFaults must be a list")
    checked = []
    for i, fault in enumerate(faults):
        where = f"scenario {scenario!r}: pmsFaults[{i}]"
        if not isinstance(fault, dict) or set(fault) - FAULT_KEYS:
            raise DataScenarioError(f"{where}: an object with keys from {sorted(FAULT_KEYS)}")
        args = {
            "route": fault.get("route", ""),
            "method": fault.get("method", "*"),
            "delay": fault.get("delaySeconds"),
            "status": fault.get("status"),
            "malformed": fault.get("malformed", False),
            "times": fault.get("times"),
        }
        try:
            backend.check_fault(**args)
        except DemoPmsError as exc:
            raise DataScenarioError(f"{where}.{exc.field or 'route'}: {exc.message}") from None
        checked.append(args)
    return checked


def _check_matter(spec: Any, scenario: str, own: bool) -> dict[str, Any]:
    where = f"scenario {scenario!r}: pmsMatter"
    if not isinstance(spec, dict) or set(spec) - MATTER_KEYS:
        raise DataScenarioError(f"{where} must be an object with keys from {sorted(MATTER_KEYS)}")
    if not own:
        raise DataScenarioError(
            f"scenario {scenario!r} opens a PMS matter for its own work item; open it without choosing another"
        )
    for key in ("operateId", "title", "clientId", "clientName", "referenceAttribute"):
        _text(spec.get(key), f"{where}.{key}")
    _text(spec.get("feeEarner"), f"{where}.feeEarner", required=True)
    if not (spec.get("clientId") or spec.get("clientName")):
        raise DataScenarioError(f"{where}: clientId or clientName is required")
    fees = spec.get("estimatedFees")
    if fees is not None:
        try:
            if isinstance(fees, bool) or not Decimal(str(fees)).is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise DataScenarioError(f"{where}.estimatedFees must be an amount, like 2500.00") from None
    return spec


def _check_attributes(attributes: Any, scenario: str) -> dict[str, Any]:
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in attributes.items()
    ):
        raise DataScenarioError(f"scenario {scenario!r}: attributes must be an object of name: string (or null)")
    return attributes


def _choose_user(em: Any, user: Any, wanted: Any, work_item: str | None, scenario: str | None) -> str | None:
    where = f"scenario {scenario!r}: " if scenario else ""
    if user is None and isinstance(wanted, dict):
        user = _user_lacking(em, wanted.get("lacking"), scenario or "")
    elif user is None and wanted is not None:
        user = _text(wanted, f"{where}user")
    if user is None:
        return default_user(em, work_item)
    if not isinstance(user, str) or user.lower() not in em.identity.users:
        users = ", ".join(sorted(em.identity.users)) or "none"
        raise DataScenarioError(f"{where}no user {str(user)[:60]!r}; users: {users}")
    return em.identity.users[user.lower()]["userName"]


def _plan(em: Any, scenario: dict[str, Any], name: str, work_item: str | None, user: str | None, service: Any) -> _Plan:
    notes: list[str] = []
    wanted = _text(scenario.get("workItem"), f"scenario {name!r}: workItem")
    own = work_item is None or work_item == wanted  # pmsMatter may only open the scenario's own work item
    if work_item is None and wanted is not None and em.workitems.find(wanted) is None:
        if "pmsMatter" in scenario:
            raise DataScenarioError(f"scenario {name!r}: its work item {wanted!r} is not in this solution")
        notes.append(f"the scenario's work item {wanted} is not in this solution; showing the first work item")
        wanted = None
    chosen = work_item or wanted or default_work_item(em)
    if chosen is None or em.workitems.find(chosen) is None:
        raise DataScenarioError(f"scenario {name!r}: work item {chosen!r} is not in this solution")
    chosen = em.workitems.find(chosen).id
    drives_pms = "pmsFaults" in scenario or "pmsMatter" in scenario
    backend = None
    try:
        backend = _fake(em, scenario.get("service") or (service if isinstance(service, str) else None), name)
    except DataScenarioError:
        if drives_pms:
            raise
    faults = _check_faults(backend, scenario.get("pmsFaults", []), name) if backend is not None else []
    matter = _check_matter(scenario["pmsMatter"], name, own) if "pmsMatter" in scenario else None
    attributes = _check_attributes(scenario.get("attributes") or {}, name)
    chosen_user = _choose_user(em, user, scenario.get("user"), chosen, name)
    return _Plan(chosen, chosen_user, backend, faults, matter, attributes, notes)


def _open_pms_matter(em: Any, backend: Any, work_item: str, spec: dict[str, Any], scenario: str) -> str:
    """Open the work item's matter in the PMS (idempotent on the Operate id); its reference."""
    from pms_adapters.fakes.demo_pms.models import DemoPmsError

    try:
        matter, _ = backend.open_matter(
            operate_id=spec.get("operateId", work_item),
            title=str(spec.get("title") or em.workitems.get(work_item).title),
            fee_earner=str(spec["feeEarner"]),
            client_id=spec.get("clientId"),
            client_name=spec.get("clientName"),
            estimated_fees=Decimal(str(spec["estimatedFees"])) if spec.get("estimatedFees") is not None else None,
        )
    except DemoPmsError as exc:
        raise DataScenarioError(f"scenario {scenario!r}: pmsMatter.{exc.field}: {exc.message}") from None
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
    return WorkItemReads(em.store).first_created()


def apply(
    em: Any,
    scenarios: dict[str, dict[str, Any]],
    name: str | None,
    *,
    work_item: str | None = None,
    user: str | None = None,
    service: str | None = None,
) -> Applied:
    """Set the stage for `name` (None: leave the state as it is). Explicit `work_item` / `user` win.
    Everything is checked first, so a scenario that cannot be applied changes nothing. The PMS faults are
    set for a new scenario key (`Applied.key`): only calls that carry it see them."""
    if work_item is not None:
        found = em.workitems.find(work_item)
        if found is None:
            raise DataScenarioError(f"no work item {work_item[:80]!r} in this solution")
        work_item = found.id
    if not name:
        work_item = work_item or default_work_item(em)
        return Applied(None, work_item, _choose_user(em, user, None, work_item, None))
    scenario = scenarios.get(name)
    if scenario is None:
        raise DataScenarioError(f"no scenario {name!r}; there are: {', '.join(scenarios)}")
    plan = _plan(em, scenario, name, work_item, user, service)
    # Each step is one transaction, in the order that can still refuse (the PMS's own rules, then the
    # model's), so a refusal leaves the earlier state: the faults are replaced last.
    attributes = dict(plan.attributes)
    if plan.matter is not None:  # idempotent in the PMS; its reference is stored with the other attributes
        reference = _open_pms_matter(em, plan.backend, plan.work_item, plan.matter, name)
        attributes[plan.matter.get("referenceAttribute", "pmsReference")] = reference
        plan.notes.append(f"PMS matter {reference} linked to the work item")
    if attributes:
        try:
            em.workitems.set_attributes(plan.work_item, attributes, None)
        except ApiError as exc:  # the model's own 400 names the attribute
            raise DataScenarioError(f"scenario {name!r}: attributes: {exc.title}") from None
    key = None
    if plan.backend is not None:  # this page's faults only (none for `ok`): the shared ones stay as they are
        key = new_key()
        plan.backend.set_scenario_faults(key, plan.faults)
    return Applied(name, plan.work_item, plan.user, plan.notes, key)


def describe(scenarios: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """For the gallery: name, title and description of each scenario."""
    return [
        {"name": n, "title": s.get("title") or n, "description": s.get("description") or ""}
        for n, s in scenarios.items()
    ]
