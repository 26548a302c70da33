"""The hook through which another pytest plugin checks more of a `*.scenario.yaml`'s `then` section.

The plan scenarios (plan_scenarios.py) know work items, executions, events and what the PMS received; a page in
a browser is the widgets' business. widgets.testing implements this hook to add `pages` (a widget or a portal
opened after the `when` steps: text, accessibility, visual snapshots), so this package never imports a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

# check(runner, value, then): `runner` offers `op` (the Operate harness), `sub(value)` ({{alias}} substitution)
# and `item_id(name, line)`; `value` is the key's YAML value (mappings and lists remember their `line`); a check
# that finds a fault raises plan_scenarios.PlanScenarioError naming the YAML line.
ThenCheck = Callable[[Any, Any, Any], None]


@pytest.hookspec
def pytest_operate_scenario_checks(item: pytest.Item) -> dict[str, ThenCheck] | None:
    """`then` keys this plugin checks in the scenario `item` is running, each with its check (run after the
    built-in checks, in the order given), or None."""
