"""The TypeScript declarations shipped for plan authors say exactly what the runtime provides."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from smartplans.runtime import Runtime

DTS = resources.files("smartplans").joinpath("operate-globals.d.ts").read_text("utf-8")
# Members JS objects have that a declaration need not list.
JS_ONLY = {"toISOString", "toJSON", "toString", "valueOf"}


def declared_members(interface: str) -> set[str]:
    """Member names of one interface (or of a nested object type, `Outer.inner`)."""
    outer, _, inner = interface.partition(".")
    match = re.search(rf"interface {re.escape(outer)}(?:<[^>]*>)? \{{(.*?)\n\}}", DTS, re.S)
    assert match, f"{outer} is not declared"
    body = match.group(1)
    if inner:
        body = re.search(rf"{inner}: \{{(.*?)\n  \}};", body, re.S).group(1)
    body = re.sub(r"/\*\*.*?\*/", "", body, flags=re.S)
    names = set()
    for line in body.splitlines():
        m = re.match(r"\s*(?:readonly )?([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\s*[?(:]", line)
        if m:
            names.add(m.group(1))
    return names


@pytest.fixture(scope="module")
def runtime_globals():
    runtime = Runtime()
    yield runtime.globals()
    runtime.close()


def test_every_global_is_declared(runtime_globals):
    declared = set(re.findall(r"^declare const (\w+):", DTS, re.M))
    assert declared == set(runtime_globals["globals"])


@pytest.mark.parametrize(
    "interface",
    [
        "OperateLog",
        "OperateTrigger",
        "OperateSharedo",
        "OperateHttp",
        "OperateActions.sharedo",
        "OperateDateTimeStatic",
        "OperateDateTime",
        "OperateGuidStatic",
        "OperateGuid",
        "OperateTaskBuilder",
        "OperateActionPlanBuilder",
        "OperateActionPlanItemBuilder",
        "OperateCallToActionBuilder",
    ],
)
def test_declarations_match_the_runtime(runtime_globals, interface):
    provided = set(runtime_globals[interface]) - JS_ONLY
    declared = declared_members(interface) - JS_ONLY
    assert declared == provided, (
        f"{interface}: declared only {declared - provided}, provided only {provided - declared}"
    )


def test_the_demo_solution_points_editors_at_the_declarations():
    import json

    from emulator.solution.loading import demo_solution_path

    config = json.loads((demo_solution_path() / "jsconfig.json").read_text())
    assert config["compilerOptions"]["checkJs"] is True
    included = [p for p in config["include"] if p.endswith("operate-globals.d.ts")]
    assert included and (demo_solution_path() / included[0]).resolve().is_file()
