"""`--operate-widget-cov`: which lines and functions of the widgets' own scripts ran in Chromium.

Playwright for Python has no `page.coverage`, so each harness page opens a DevTools session and starts V8's precise
coverage (`Profiler.startPreciseCoverage`, call counts, block granularity) before its first navigation; the counts
are taken (`Profiler.takePreciseCoverage`, which also resets them) before every later navigation and before the
browser context closes, and summed. Only the widget files are kept: scripts served at `/_ideFiles/...` (the
solution's `_IDE/` laid over the built-in widgets) and `/_pluginFiles/...` (the solution's `_plugins/`), each mapped
back to the file on disk and reported by its path in the solution (`_IDE/Folder/File.js`) or, for a built-in widget,
in the package (`widgets/builtin/...`). The harness's own scripts and the vendored libraries are left out.

V8's block ranges become line hits the way v8-to-istanbul (c8) reads them: a line takes the count of the innermost
range that holds all of its code, so a nested range overrides the one around it, and a block that starts after the
line's first statement (the `{` of an `if` that never took its then-arm) does not mark the line with the condition
missed, as a per-line minimum would. Leading and trailing blanks are left out of a line's code, and so are the `)`,
`;` and `,` that end a line such as `});` (the closing brace of a callback never called is missed with it). Blank
and comment-only lines are not lines of code and are not counted (c8 counts them; the plan coverage does not, and
the two share their reports). Functions are V8's own, with their call counts. Branch arms are not reported:
V8 leaves out a block whose count equals its parent's, so the arms it lists are not all the arms there are.

The data and reports are the plan coverage's (smartplans/coverage/data.py, reports.py): `widget-lcov.info` and a
terminal table, merged across xdist workers the same way (`MergedAcrossWorkers`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from smartplans.coverage.data import RUN_FOLDER, CoverageData, FileCoverage
from smartplans.coverage.plugin import MergedAcrossWorkers
from smartplans.coverage.reports import lcov, table

LCOV_FILE = "widget-lcov.info"  # beside the plan coverage's lcov.info, so both switches in one run keep both
WORKER_KEY = "operate_widget_coverage"
PACKAGE_ROOT = Path(__file__).resolve().parent  # the built-in widgets are reported by their path in the package
_SERVED = re.compile(r"^/(_ideFiles|_pluginFiles)/(.+)$")


def add_options(group: Any) -> None:
    group.addoption(
        "--operate-widget-cov",
        action="store_true",
        default=False,
        help="measure which lines and functions of the widgets' own scripts ran in Chromium (V8 coverage)",
    )
    group.addoption(
        "--operate-widget-cov-dir",
        metavar="DIR",
        default=RUN_FOLDER,
        help=f"where --operate-widget-cov writes {LCOV_FILE} (default: coverage, in the current folder)",
    )


# -- V8's ranges to lines -------------------------------------------------------------------------------------
def code_lines(source: str) -> list[tuple[int, int, int]]:
    """(line number, start, end) of each line holding code, as UTF-16 offsets (V8's) of its first and one past its
    last non-blank character. A line holding only comments is not code; strings are read so a `//` or `/*` in one
    starts nothing. Regular expression literals are read as code (a quote in one could mislead the scan)."""
    out: list[tuple[int, int, int]] = []
    offset = 0
    in_block = False
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        has_code, i, quote = False, 0, ""
        while i < len(line):
            ch, nxt = line[i], line[i + 1 : i + 2]
            if in_block:
                if ch == "*" and nxt == "/":
                    in_block, i = False, i + 1
            elif quote:
                if ch == "\\":
                    i += 1
                elif ch == quote:
                    quote = ""
            elif ch == "/" and nxt == "/":
                break
            elif ch == "/" and nxt == "*":
                in_block, i = True, i + 1
            elif not ch.isspace():
                has_code = True
                if ch in "'\"`":
                    quote = ch
            i += 1
        if has_code:
            # `});` closing a callback belongs to the callback: the call's `)` and `;` after it are left out
            code = line.strip().rstrip(";,)") or line.strip()[:1]
            start = offset + _units(line[: len(line) - len(line.lstrip())])
            out.append((number, start, start + _units(code)))
        offset += _units(line)
    return out


def _units(text: str) -> int:
    """Length in UTF-16 code units: V8's offsets count those, not characters or bytes."""
    return len(text.encode("utf-16-le")) // 2


def file_coverage(path: str, source: str, functions: list[dict[str, Any]]) -> FileCoverage:
    """One script's `Profiler.takePreciseCoverage` entry (its `functions`) as line hits and function calls."""
    source = source.removeprefix("\ufeff")  # the browser drops a byte-order mark before V8 sees the text
    ranges = [(r["startOffset"], r["endOffset"], r["count"]) for f in functions for r in f["ranges"]]
    found = FileCoverage(path)
    for number, start, end in code_lines(source):
        holding = [r for r in ranges if r[0] <= start and end <= r[1]]
        if holding:  # the innermost: the shortest, and of equal ones the later listed (V8 lists outer first)
            found.lines[number] = min(reversed(holding), key=lambda r: r[1] - r[0])[2]
    starts = _line_starts(source)
    total = _units(source)
    for f in functions:
        first = f["ranges"][0]
        if not f["functionName"] and first["startOffset"] == 0 and first["endOffset"] >= total:
            continue  # the script's own top level
        line = _line_of(starts, first["startOffset"])
        name = f["functionName"] or f"(anonymous_{line})"
        found.functions[(name, line)] = found.functions.get((name, line), 0) + first["count"]
    return found


def _line_starts(source: str) -> list[int]:
    starts, offset = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(offset)
        offset += _units(line)
    return starts or [0]


def _line_of(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset)


# -- which files are the widgets' -----------------------------------------------------------------------------
def widget_file(url: str, ide_roots: list[Path], solution_root: Path) -> tuple[str, Path] | None:
    """(reported path, file on disk) of a script the page loaded, when it is a widget file; None otherwise."""
    from emulator.solution.idefiles import find_case_insensitive
    from emulator.solution.pluginfiles import plugin_file

    match = _SERVED.match(unquote(urlsplit(url).path))
    if match is None:
        return None
    kind, relative = match.groups()
    if kind == "_pluginFiles":
        found = plugin_file(solution_root, relative)
        roots = [solution_root]
    else:
        found = next((hit for root in ide_roots if (hit := find_case_insensitive(root, relative)) is not None), None)
        roots = [solution_root, PACKAGE_ROOT.parent]
    if found is None:
        return None
    found = found.resolve()
    for root in roots:
        if found.is_relative_to(root.resolve()):
            return found.relative_to(root.resolve()).as_posix(), found
    return found.as_posix(), found


# -- collecting in the browser --------------------------------------------------------------------------------
_COLLECTOR = pytest.StashKey["WidgetCoveragePlugin"]()


class _Watched:
    """A browser context whose pages are measured, and where its widget files come from."""

    def __init__(self, ide_roots: list[Path], solution_root: Path) -> None:
        self.ide_roots = ide_roots
        self.solution_root = solution_root
        self.sessions: dict[int, Any] = {}  # id(page) -> its DevTools session, coverage started


class WidgetCoveragePlugin(MergedAcrossWorkers):
    worker_key = WORKER_KEY

    def __init__(self, config: pytest.Config) -> None:
        super().__init__(config)
        self.watched: dict[int, _Watched] = {}  # id(browser context) -> what it serves
        self.written: Path | None = None

    def watch(self, context: Any, operate: Any) -> None:
        emulator = operate.emulator
        self.watched[id(context)] = _Watched(list(emulator.ide_roots), Path(emulator.solution.root))

    def before_navigation(self, page: Any) -> None:
        """Start measuring a page of a watched context, or take what its current document ran."""
        watched = self.watched.get(id(page.context))
        if watched is None:
            return
        session = watched.sessions.get(id(page))
        if session is None:
            session = page.context.new_cdp_session(page)
            session.send("Profiler.enable")
            session.send("Profiler.startPreciseCoverage", {"callCount": True, "detailed": True})
            watched.sessions[id(page)] = session
        else:
            self._take(watched, session)

    def closing(self, context: Any) -> None:
        """Take what every page of the context ran, before it closes."""
        watched = self.watched.pop(id(context), None)
        if watched is None:
            return
        for page in context.pages:
            session = watched.sessions.get(id(page))
            if session is not None and not page.is_closed():
                self._take(watched, session)

    def _take(self, watched: _Watched, session: Any) -> None:
        result = session.send("Profiler.takePreciseCoverage")
        for script in result["result"]:
            mapped = widget_file(script["url"], watched.ide_roots, watched.solution_root)
            if mapped is None:
                continue
            path, disk = mapped
            source = disk.read_text(encoding="utf-8", errors="replace")
            self.data.add(CoverageData({path: file_coverage(path, source, script["functions"])}))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.handed_on():
            return
        out = self.config.invocation_params.dir / self.config.getoption("--operate-widget-cov-dir")
        out.mkdir(parents=True, exist_ok=True)
        self.written = out / LCOV_FILE
        self.written.write_text(lcov(self.data), encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        nothing = "no widget script of the solution ran in a browser (nothing to report)"
        text = table(self.data, branches=False)
        self.summarise(terminalreporter, "widget coverage", nothing, text, [self.written] if self.written else [])


def configure(config: pytest.Config) -> None:
    """Register the collector when --operate-widget-cov is given; without it nothing is measured."""
    if config.getoption("--operate-widget-cov", False):
        plugin = WidgetCoveragePlugin(config)
        config.stash[_COLLECTOR] = plugin
        config.pluginmanager.register(plugin, "operate-widget-coverage")


def watch(config: pytest.Config, context: Any, operate: Any) -> None:
    """What the harness_page fixture calls on a new browser context: its pages are measured."""
    plugin = config.stash.get(_COLLECTOR, None)
    if plugin is not None:
        plugin.watch(context, operate)


def closing(config: pytest.Config, context: Any) -> None:
    """What the harness_page fixture calls before closing the context: take what its pages ran."""
    plugin = config.stash.get(_COLLECTOR, None)
    if plugin is not None:
        plugin.closing(context)


def before_navigation(config: pytest.Config, page: Any) -> None:
    """What HarnessPage.open calls before it navigates: measure the page if its context is watched."""
    plugin = config.stash.get(_COLLECTOR, None)
    if plugin is not None:
        plugin.before_navigation(page)
