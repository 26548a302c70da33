"""Widget code coverage (`--operate-widget-cov`): which lines and functions of the widgets' own scripts ran in
Chromium, read from V8 through the DevTools protocol, in LCOV under each file's `_IDE/` path (a built-in widget's
under its path in the package), merged across xdist workers.

Run as a user runs it: pytest itself on a solution's widget tests (pytester, in a child process), with a look-alike
widget (tests/fixtures/lookalikes/widget-coverage-banner) whose warning branch one test never takes.
"""

from __future__ import annotations

import shutil
import textwrap

import pytest

from smartplans.testing import solution_from_demo
from tests.helpers.paths import FIXTURES
from widgets.widget_coverage import file_coverage

BANNER = FIXTURES / "lookalikes" / "widget-coverage-banner"
BANNER_FILE = "_IDE/CoverageBanner/CoverageBanner.js"
WIP_FILE = "widgets/builtin/OperateFinance/WipWidget/WipWidget.js"

PLAIN_BANNER = """
    def test_the_banner_shows_its_heading(widget_page):
        page = widget_page("Lookalike.CoverageBanner")
        assert "Matter" in page.text()
"""
WARNING_BANNER = """
    def test_the_banner_warns_when_configured(widget_page):
        page = widget_page("Lookalike.CoverageBanner", config={"warnWhenOverdue": True})
        assert "Overdue" in page.text()
"""
WIP = """
    def test_the_wip_widget_shows_the_matter(widget_page):
        page = widget_page("OperateFinance.WipWidget", scenario="ok")
        page.assert_no_console_errors()
"""


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    root = tmp_path_factory.mktemp("wcov") / "solution"
    solution_from_demo(root)
    shutil.copytree(BANNER, root / "_IDE" / "CoverageBanner")
    return root


def run(pytester, solution, tests: dict[str, str], *args: str):
    pytester.makepyfile(**{name: textwrap.dedent(source) for name, source in tests.items()})
    return pytester.runpytest_subprocess("--operate-solution", str(solution), "-p", "no:cacheprovider", *args)


def lcov_records(path) -> dict[str, dict[str, list[str]]]:
    """SF -> {"DA": {line: hits}, "FNDA": [...], ...} of an LCOV file."""
    records: dict = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("SF:"):
            current = records.setdefault(line[3:], {"DA": {}, "FNDA": {}, "other": []})
        elif current is not None and line.startswith("DA:"):
            number, hits = line[3:].split(",")
            current["DA"][int(number)] = int(hits)
        elif current is not None and line.startswith("FNDA:"):
            calls, name = line[5:].split(",", 1)
            current["FNDA"][name] = int(calls)
        elif current is not None:
            current["other"].append(line)
    return records


def line_of(text: str) -> int:
    """The number of the banner's line that holds `text`."""
    lines = (BANNER / "CoverageBanner.js").read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def test_an_untaken_branch_is_uncovered_under_its_ide_path_and_the_builtin_widget_under_the_package(pytester, solution):
    result = run(pytester, solution, {"test_banner": PLAIN_BANNER, "test_wip": WIP}, "--operate-widget-cov")
    result.assert_outcomes(passed=2)

    records = lcov_records(pytester.path / "coverage" / "widget-lcov.info")
    banner = records[BANNER_FILE]["DA"]
    assert banner[line_of('self.warning("Overdue')] == 0  # the branch never taken
    assert banner[line_of("if (self.options.warnWhenOverdue)")] == 1  # the condition itself ran
    assert banner[line_of("self.heading(self.options.title")] == 1
    assert banner[line_of("$.extend({ title")] == 1
    assert banner[line_of('namespace("Lookalike")')] == 1
    assert banner[line_of('this.heading("")')] == 0  # onDestroy: never called
    assert banner[line_of('this.heading("")') + 1] == 0  # and its closing `};` with it
    assert line_of("a comment line") not in banner and line_of("Look-alike fixture") not in banner
    functions = records[BANNER_FILE]["FNDA"]
    assert functions["Lookalike.CoverageBanner.loadAndBind"] == 1
    assert functions["Lookalike.CoverageBanner.onDestroy"] == 0

    wip = records[WIP_FILE]["DA"]
    assert any(wip.values()), wip
    assert "widgets/builtin/OperateFinance/Common/FinanceCommon.js" in records
    # Only the widgets' files: not the harness's own scripts, not the vendored libraries.
    assert all(p.startswith(("_IDE/", "widgets/builtin/")) for p in records), sorted(records)

    result.stdout.fnmatch_lines(["*widget coverage*", f"{BANNER_FILE}*", f"{WIP_FILE}*", "wrote *widget-lcov.info"])


def test_coverage_merges_across_xdist_workers(pytester, solution):
    tests = {"test_plain": PLAIN_BANNER, "test_warning": WARNING_BANNER}
    result = run(pytester, solution, tests, "--operate-widget-cov", "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=2)

    banner = lcov_records(pytester.path / "coverage" / "widget-lcov.info")[BANNER_FILE]["DA"]
    assert banner[line_of('self.warning("Overdue')] == 1  # taken by one worker only
    assert banner[line_of("self.heading(self.options.title")] == 2  # summed over both
    assert banner[line_of('this.heading("")')] == 0


def test_the_directory_can_be_chosen(pytester, solution):
    result = run(
        pytester, solution, {"test_banner": PLAIN_BANNER}, "--operate-widget-cov", "--operate-widget-cov-dir", "out"
    )
    result.assert_outcomes(passed=1)
    assert BANNER_FILE in lcov_records(pytester.path / "out" / "widget-lcov.info")


def test_without_the_switch_nothing_is_collected(pytester, solution):
    result = run(pytester, solution, {"test_banner": PLAIN_BANNER})
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "coverage").exists()
    assert "widget coverage" not in result.stdout.str()


def test_nested_ranges_override_and_offsets_count_utf16_units():
    """V8's ranges for a source, read without a browser: the innermost range holding a line's code gives its count,
    and offsets count UTF-16 units (the `€` before is one, the emoji two: counted as characters or bytes, the
    ranges would miss their lines)."""
    source = 'var s = "€😀 // not a comment";\nif (s) {\n  go();\n} else {\n  stop();\n}\n/* a\n comment */\n'
    lines = source.split("\n")
    starts = [sum(len(x.encode("utf-16-le")) // 2 + 1 for x in lines[:i]) for i in range(len(lines))]
    script = {"startOffset": 0, "endOffset": starts[-1], "count": 1}
    else_block = {"startOffset": starts[3] + 7, "endOffset": starts[5] + 1, "count": 0}  # its `{` to its `}`
    found = file_coverage("_IDE/X/x.js", source, [{"functionName": "", "ranges": [script, else_block]}])
    assert found.lines == {1: 1, 2: 1, 3: 1, 4: 1, 5: 0, 6: 0}  # `} else {` ran; comment lines are not code
    assert found.functions == {}  # the script's top level is not a function

    just_stop = {"startOffset": starts[4] + 2, "endOffset": starts[4] + 9, "count": 0}  # `stop();`, to the unit
    found = file_coverage("_IDE/X/x.js", source, [{"functionName": "", "ranges": [script, just_stop]}])
    assert found.lines[5] == 0 and found.lines[4] == found.lines[6] == 1
