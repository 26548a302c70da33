"""`pages` in a `*.scenario.yaml`'s `then`: after the `when` steps, open a widget (or a work item's portal) in
Chromium and check what a person would see: text, accessibility, and a visual snapshot. Nothing to write in Python.

    then:
      pages:
        - widget: Acme.Tile          # or `portal: matter`: a work item's whole portal page
          work_item: matter          # a work item from `given` (or an id)
          locale: fr-FR              # modes, as widget_page takes them (widgets/modes.py)
          currency: EUR
          viewport: phone
          shows: ["1 647,50 €"]      # text the widget (the portal area) shows
          accessible: serious        # axe-core at this impact and above; `true` means serious
          snapshot: tile             # or {name: tile, max_diff_pixels: 10, threshold: 0.1, selector, mask, ...}

A page also takes `scenario` (a gallery data scenario), `user`, and for a widget `config` and `mode`, or for a
portal `page`. Each page has a browser context of its own (1280 × 900 unless its viewport says otherwise), the
same as the `widget_page` fixture's, so a baseline written by one serves both. Baselines are kept beside the
scenario: `__snapshots__/<file>.scenario/<name>[-<modes>].png`; `operate test --update-snapshots` writes them.
An error in the page's console panel fails the step (an uncaught exception, a widget that failed to load or bind)
unless `allow_console_errors: true`; a failed call (which a PMS fault in `given` brings on purpose) and an error
the widget shows its user (`$ui.showError`) never do. A failure names the YAML line it is about.
"""

from __future__ import annotations

from typing import Any

import pytest

from emulator.extras import MissingExtra
from smartplans.plan_scenarios import PlanScenarioError

from .accessibility import IMPACTS
from .browser import browser, harness_tab, open_portal, open_widget
from .modes import ModeError, check

OPENING = ("scenario", "user", "locale", "currency", "viewport")  # what both kinds of page take
WIDGET_KEYS = {"widget", "work_item", "config", "mode", *OPENING}
PORTAL_KEYS = {"portal", "page", *OPENING}
CHECKS = ("shows", "accessible", "snapshot", "allow_console_errors")
SNAPSHOT_OPTIONS = {"name", "max_diff_pixels", "threshold", "selector", "mask", "full_page"}
# console panel sources that are not the page throwing: a failed call (a PMS fault in `given` brings one on purpose)
# and an error the widget itself shows its user
EXPECTED_SOURCES = {"$ajax", "aspect host", "$ui.showError"}


def _line(value: Any, default: int | None) -> int | None:
    return getattr(value, "line", None) or default


def check_pages(item: pytest.Item, runner: Any, pages: Any, then: Any) -> None:
    """Open and check each page in turn; the first that does not hold fails the scenario at its line."""
    if not isinstance(pages, list):
        raise PlanScenarioError("`pages` is a list of pages, each `widget: ID` or `portal: WORK_ITEM`", then.line)
    try:  # playwright is the `browser` extra: without it, one line says what to install
        browser(item.config, "a scenario's `pages`")
    except MissingExtra as exc:
        raise PlanScenarioError(str(exc), then.line_of("pages")) from None
    for spec in pages:
        line = _line(spec, _line(pages, then.line))
        opening = _opening(runner, spec, line)
        with harness_tab(item.config, runner.op, item) as blank:
            try:
                _check(runner, spec, opening, blank)
            except (AssertionError, pytest.fail.Exception) as exc:
                raise PlanScenarioError(f"{opening['what']}: {_message(exc)}", _fault_line(spec, exc, line)) from None


def _opening(runner: Any, spec: Any, line: int | None) -> dict[str, Any]:
    """What to open, checked before any browser work: one of widget / portal, known keys, known modes."""
    if not isinstance(spec, dict) or ("widget" in spec) == ("portal" in spec):
        raise PlanScenarioError("each page is `widget: ID` or `portal: WORK_ITEM` (one of the two)", line)
    keys = WIDGET_KEYS if "widget" in spec else PORTAL_KEYS
    unknown = set(spec) - keys - set(CHECKS)
    if unknown:
        raise PlanScenarioError(
            f"a {'widget' if 'widget' in spec else 'portal'} page has unknown key(s) {sorted(unknown)}; "
            f"use {sorted(keys | set(CHECKS))}",
            line,
        )
    options = {key: runner.sub(spec[key]) for key in OPENING if spec.get(key) not in (None, "")}
    if "widget" in spec:
        if spec.get("work_item"):
            options["work_item"] = runner.item_id(spec["work_item"], line)
        options.update({key: runner.sub(spec[key]) for key in ("config", "mode") if spec.get(key) is not None})
        if "config" in options and not isinstance(options["config"], dict):
            raise PlanScenarioError("a widget page's `config` is a mapping (the widget's configuration)", line)
        what = f"widget {spec['widget']}"
    else:
        options["work_item"] = runner.item_id(spec["portal"], line)
        if spec.get("page"):
            options["page_name"] = runner.sub(spec["page"])
        what = f"the portal of {spec['portal']}"
    try:
        for kind in ("locale", "currency", "viewport"):
            check(kind, options.get(kind))
    except ModeError as exc:
        raise PlanScenarioError(f"{what}: {exc}", spec.line_of(kind)) from None
    return {
        "what": what,
        "options": options,
        "shows": [runner.sub(text) for text in _texts(spec.get("shows"), spec)],
        "impact": _impact(spec) if spec.get("accessible") else None,
        "snapshot": _snapshot(spec) if spec.get("snapshot") else None,
    }


def _check(runner: Any, spec: Any, opening: dict[str, Any], blank: Any) -> None:
    options = dict(opening["options"])
    if "widget" in spec:
        page = open_widget(blank, str(spec["widget"]), **options)
    else:
        page = open_portal(blank, options.pop("work_item"), **options)
    if not spec.get("allow_console_errors"):  # first: a widget that did not load makes the other checks moot
        errors = _thrown(page)
        if errors:
            raise _At(spec.line, f"the page threw: {errors} (`allow_console_errors: true` lets a page throw)")
    for wanted in opening["shows"]:
        shown = page.text()
        if wanted not in shown:
            raise _At(spec.line_of("shows"), f"does not show {wanted!r}; it shows:\n{shown[:1500]}")
    if opening["impact"]:
        try:
            page.assert_accessible(impact=opening["impact"])
        except AssertionError as exc:
            raise _At(spec.line_of("accessible"), str(exc)) from None
    if opening["snapshot"]:
        name, options = opening["snapshot"]
        try:
            page.assert_snapshot(name, **options)
        except pytest.fail.Exception as exc:
            raise _At(spec.line_of("snapshot"), _message(exc)) from None
        except (ValueError, TypeError) as exc:  # a bad name or option value: the scenario's fault
            raise PlanScenarioError(f"`snapshot`: {exc}", spec.line_of("snapshot")) from None


def _thrown(page: Any) -> list[str]:
    """The errors of the page's console panel but failed calls and errors a widget shows on purpose: uncaught
    exceptions and rejections, a widget that failed to load or bind, a subscriber that threw."""
    page.page.evaluate("() => new Promise(done => setTimeout(done))")  # a throw the widget's timers queued lands first
    return [f"{e['source']}: {e['text']}" for e in page.harness_log("error") if e["source"] not in EXPECTED_SOURCES]


class _At(AssertionError):
    """A failed check with the YAML line of the key it is about."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _fault_line(spec: Any, exc: BaseException, default: int | None) -> int | None:
    return getattr(exc, "line", None) or getattr(spec, "line", None) or default


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "msg", None) or exc)


def _texts(shows: Any, spec: Any) -> list[str]:
    if shows is None:
        return []
    if isinstance(shows, str):
        return [shows]
    if isinstance(shows, list) and all(isinstance(t, str) for t in shows):
        return shows
    raise PlanScenarioError("`shows` is a text or a list of texts", spec.line_of("shows"))


def _impact(spec: Any) -> str:
    value = spec["accessible"]
    impact = "serious" if value is True else value
    if impact not in IMPACTS:
        raise PlanScenarioError(
            f"`accessible` is true or an impact ({', '.join(IMPACTS)}), not {value!r}", spec.line_of("accessible")
        )
    return impact


def _snapshot(spec: Any) -> tuple[str, dict[str, Any]]:
    value = spec["snapshot"]
    if isinstance(value, str):
        return value, {}
    if not isinstance(value, dict) or "name" not in value or set(value) - SNAPSHOT_OPTIONS:
        raise PlanScenarioError(
            f"`snapshot` is a name, or a mapping with name and any of {sorted(SNAPSHOT_OPTIONS - {'name'})}",
            spec.line_of("snapshot"),
        )
    options = {k: v for k, v in value.items() if k != "name"}
    return str(value["name"]), options
