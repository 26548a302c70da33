"""Accessibility checks of widgets with axe-core, in the page: `widget_page(...).assert_accessible()`.

axe-core is test tooling, not a portal library: it is never on the host page a widget boots in (a tenant does not
load it either). It is shipped here from a pinned npm release (MPL-2.0, its LICENSE beside it) under
``widgets/static/axe/`` with ``pins.json``, ``package.json`` and ``package-lock.json``; the harness serves its pinned
files, offline, at ``/_harness/axe/<package>/<path>``, and only the fixture (:func:`run_axe`) or the gallery's
"Check accessibility" button injects it into a page. ``tests/widgets/test_widget_accessibility.py`` checks the bytes
against the pins offline and against the registry with ``npm ci``.

What is checked: by default the portal area of the page (``.op-portal``: every placed widget with its chrome), not
the harness's own toolbars and console around it, so that a violation names the widget's markup. Page-level rules
(one ``main``, a ``title``) are axe's business only when the whole page is the context, so they do not apply here.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort

from .vendor import PinnedFolder

AXE_ROOT: Path = Path(__file__).resolve().parent / "static" / "axe"
"""The pinned axe-core release, its licences, ``pins.json`` and the npm manifest and lock."""

URL_PREFIX = "/_harness/axe/"
AXE_SCRIPT = URL_PREFIX + "axe-core/axe.min.js"
"""The URL the fixture and the gallery inject (relative to the emulator's origin)."""

IMPACTS: tuple[str, ...] = ("minor", "moderate", "serious", "critical")
"""axe's impact levels, least to most severe: ``impact="serious"`` reports serious and critical violations."""

DEFAULT_CONTEXT = ".op-portal"
MAX_NODES_LISTED = 10  # per rule in a failure message; the count says how many there were

bp = Blueprint("accessibility", __name__)


AXE = PinnedFolder(AXE_ROOT)


def load_pins() -> list[dict[str, Any]]:
    """axe-core's pins (`widgets/static/axe/pins.json`)."""
    return AXE.load_pins()


def axe_file(package: str, path: str) -> Path | None:
    """The shipped file for `package`/`path`, or None unless it is pinned (so nothing else is reachable)."""
    return AXE.file(package, path)


@bp.get(URL_PREFIX + "<package>/<path:path>")
def axe_asset(package: str, path: str) -> Response:
    found = axe_file(package, path)
    if found is None:
        abort(404)
    mime = "application/javascript" if found.suffix == ".js" else (mimetypes.guess_type(found.name)[0] or "text/plain")
    return Response(found.read_bytes(), mimetype=mime, headers={"Cache-Control": "public, max-age=86400"})


def _threshold(impact: str) -> int:
    if impact not in IMPACTS:
        raise ValueError(f"impact must be one of {', '.join(IMPACTS)} (the least severe reported), not {impact!r}")
    return IMPACTS.index(impact)


def _rule_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, set)) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{name} must be a rule id or a list of axe rule ids (e.g. 'image-alt'), not {value!r}")
    return sorted(value)


RUN = """async ([include, only, disable]) => {
    if (!window.axe) throw new Error("axe-core was not injected into the page");
    const context = include === null ? document : {include: [include]};
    if (include !== null && !document.querySelector(include)) return {missing: include};
    const options = {resultTypes: ["violations"]};
    if (only.length) options.runOnly = {type: "rule", values: only};
    if (disable.length) options.rules = Object.fromEntries(disable.map(id => [id, {enabled: false}]));
    const result = await window.axe.run(context, options);
    return {version: window.axe.version, violations: result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({target: n.target, html: n.html, impact: n.impact,
                                  summary: n.failureSummary}))}))};
}"""


def run_axe(
    page: Any,
    base_url: str,
    *,
    include: str | None = DEFAULT_CONTEXT,
    rules: Any = None,
    disable: Any = None,
) -> dict[str, Any]:
    """Inject the pinned axe-core into a Playwright page (from the harness, offline) and run it.

    Returns ``{"version": ..., "violations": [...]}``: each violation's rule ``id``, ``impact``, ``help``,
    ``helpUrl`` and ``nodes`` (``target`` selectors, ``html`` snippet, ``summary``). ``include`` is a CSS selector
    (None: the whole document); ``rules`` runs only those rule ids, ``disable`` turns rule ids off.
    """
    only, off = _rule_list("rules", rules), _rule_list("disable", disable)
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(url=base_url + AXE_SCRIPT)
    result = page.evaluate(RUN, [include, only, off])
    if "missing" in result:
        raise AssertionError(f"nothing to check: no element matches {include!r} on {page.url}")
    return result


def at_or_above(violations: list[dict[str, Any]], impact: str) -> list[dict[str, Any]]:
    """The violations whose impact is ``impact`` or more severe."""
    floor = _threshold(impact)
    return [v for v in violations if IMPACTS.index(v.get("impact") or "minor") >= floor]


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation: rule id, impact, help text and URL, then each element's selector and snippet."""
    lines: list[str] = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:MAX_NODES_LISTED]:
            target = " ".join(" >>> ".join(t) if isinstance(t, list) else t for t in node["target"])
            snippet = " ".join(node["html"].split())
            lines.append(f"    at {target}: {snippet[:300]}")
        if len(v["nodes"]) > MAX_NODES_LISTED:
            lines.append(f"    … and {len(v['nodes']) - MAX_NODES_LISTED} more elements")
    return "\n".join(lines)


def assert_accessible(
    page: Any,
    base_url: str,
    *,
    impact: str = "serious",
    include: str | None = DEFAULT_CONTEXT,
    rules: Any = None,
    disable: Any = None,
) -> dict[str, Any]:
    """Fail with every axe violation at ``impact`` or above; return axe's result when there is none."""
    _threshold(impact)
    result = run_axe(page, base_url, include=include, rules=rules, disable=disable)
    found = at_or_above(result["violations"], impact)
    if found:
        where = "the whole page" if include is None else repr(include)
        raise AssertionError(
            f"{len(found)} accessibility violation(s) at impact {impact!r} or above in {where} of {page.url} "
            f"(axe-core {result['version']}):\n{describe(found)}"
        )
    return result
