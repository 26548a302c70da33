"""Visual snapshots as a widget developer meets them: test files run by a child pytest (pytester) against a
solution with a look-alike balance tile, in Debian's Chromium. Baselines are written with
--operate-update-snapshots, a changed pixel fails with expected/actual/diff images, tolerances let tiny
changes pass, a missing baseline fails saying so, and two runs give the same bytes."""

from __future__ import annotations

import re
import shutil
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from smartplans.testing import solution_from_demo
from tests.helpers.processes import operate
from widgets.snapshots import capture, compare

MATTER = "3c000000-0000-4000-8000-000000000001"
TILE = Path(__file__).parent.parent / "fixtures" / "lookalikes" / "widget-snapshot-tile" / "Tile"
BAR = (0x33, 0x66, 0x99)  # the tile's default bar colour


@pytest.fixture
def solution(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    root = solution_from_demo(tmp_path / "solution")
    shutil.copytree(TILE, root / "_IDE" / "Acme" / "Tile")
    request.node.add_marker(pytest.mark.operate_solution(str(root)))  # for the tests run in this process
    return root


def child_tests(cases: dict[str, tuple[str, dict, dict]]) -> str:
    """A user's test file: one test per case, `name: (fixture call, config, assert_snapshot options)`."""
    lines = [f'MATTER = "{MATTER}"', ""]
    for test, (call, config, options) in cases.items():
        opener = {
            "widget": f'widget_page("Acme.Tile", work_item=MATTER, config={config!r})',
            "widget-in-modes": 'widget_page("Acme.Tile", work_item=MATTER, locale="fr-FR", viewport="phone")',
            "portal": "portal_page(MATTER)",
        }[call]
        snapshot = options.pop("name", "tile")
        lines += [
            f"def test_{test}(widget_page, portal_page):",
            f"    page = {opener}",
            '    if page.page.locator(".acme-search").count():',
            '        page.page.focus(".acme-search")  # the caret must not show',
            f"    page.assert_snapshot({snapshot!r}, **{options!r})",
            "",
        ]
    return "\n".join(lines)


def run(pytester: pytest.Pytester, solution: Path, cases: dict, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_tile=child_tests({k: (c, dict(cfg), dict(o)) for k, (c, cfg, o) in cases.items()}))
    return pytester.runpytest_subprocess(
        "--rootdir", str(pytester.path), "--operate-solution", str(solution), "-p", "no:cacheprovider", *args
    )


BASELINE = {"tile": ("widget", {}, {"threshold": 0.0})}


def write_baseline(pytester: pytest.Pytester, solution: Path) -> Path:
    result = run(pytester, solution, BASELINE, "--operate-update-snapshots")
    result.assert_outcomes(passed=1)
    return pytester.path / "__snapshots__" / "test_tile" / "tile.png"


def failure_paths(output: str) -> dict[str, Path]:
    found = dict(re.findall(r"^\s*(expected|actual|diff):\s+(\S+\.png)\s*$", output, re.M))
    return {kind: Path(path) for kind, path in found.items()}


def rgb(path_or_bytes: Path | bytes) -> np.ndarray:
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    with Image.open(BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def test_update_writes_a_baseline_and_the_same_widget_then_passes_with_identical_bytes(pytester, solution):
    baseline = write_baseline(pytester, solution)
    assert baseline.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = rgb(baseline)
    assert image.shape[1] < 600  # the widget's section (its chrome and the tile), not the 1280px page
    assert (np.all(image == BAR, axis=2)).sum() == 200 * 8  # the bar, solid: its transition was held still
    first = baseline.read_bytes()

    again = run(pytester, solution, BASELINE)  # a second browser, a fresh emulator: no tolerance at all
    again.assert_outcomes(passed=1)
    assert not (pytester.path / "snapshot-failures").exists()

    baseline.unlink()  # and written afresh by a third run: the very same bytes
    write_baseline(pytester, solution)
    assert baseline.read_bytes() == first


def test_a_changed_pixel_fails_with_expected_actual_and_a_diff_image(pytester, solution):
    baseline = write_baseline(pytester, solution)
    css = solution / "_IDE" / "Acme" / "Tile" / "Tile.css"
    css.write_text(css.read_text().replace("width: 200px", "width: 190px"), "utf-8")  # the bar 10px shorter

    result = run(pytester, solution, BASELINE)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "snapshot 'tile' differs from its baseline: 80 of" in output  # 10 x 8 pixels
    assert "max_diff_pixels=0, threshold=0.0" in output and "--operate-update-snapshots" in output
    paths = failure_paths(output)
    assert set(paths) == {"expected", "actual", "diff"}
    folder = pytester.path / "snapshot-failures" / "test_tile" / "test_tile"
    assert paths == {kind: folder / f"tile-{kind}.png" for kind in ("expected", "actual", "diff")}
    assert paths["expected"].read_bytes() == baseline.read_bytes()  # the baseline is left as it was

    expected, actual, diff = rgb(paths["expected"]), rgb(paths["actual"]), rgb(paths["diff"])
    bar = np.argwhere(np.all(expected == BAR, axis=2))
    top, left = bar.min(axis=0)
    bottom, right = bar.max(axis=0)
    red = np.argwhere(np.all(diff == (255, 0, 0), axis=2))
    assert len(red) == 80
    assert red[:, 0].min() == top and red[:, 0].max() == bottom  # exactly the bar's last ten columns
    assert red[:, 1].min() == right - 9 and red[:, 1].max() == right
    assert np.all(actual[top : bottom + 1, right - 9 : right + 1] == (255, 255, 255))
    unchanged = diff[0:top, :]  # the rest: the expected image faded to light grey
    assert unchanged.min() >= 200 and np.all(unchanged[..., 0] == unchanged[..., 2])
    assert left >= 0

    rerun = run(pytester, solution, BASELINE, "--operate-update-snapshots")  # an intended change: rewrite
    rerun.assert_outcomes(passed=1)
    assert np.all(rgb(baseline) == actual)
    run(pytester, solution, BASELINE).assert_outcomes(passed=1)
    assert not paths["diff"].exists()  # a passing run leaves no stale failure images


def test_max_diff_pixels_and_threshold_let_a_tiny_change_pass(pytester, solution):
    write_baseline(pytester, solution)
    nearly = {"barColour": "#33669a"}  # one step of blue: a colour distance far below 0.2
    dot = {"dot": True}  # a 2 x 2 red dot inside the tile
    result = run(
        pytester,
        solution,
        {
            "nearly_the_colour": ("widget", nearly, {}),  # threshold 0.2, Playwright's default
            "nearly_the_colour_strict": ("widget", nearly, {"threshold": 0.0}),
            "a_dot_allowed": ("widget", dot, {"max_diff_pixels": 4}),
            "a_dot_too_many": ("widget", dot, {"max_diff_pixels": 3}),
        },
    )
    outcomes = {line.split("::")[1].split()[0]: line.split()[0] for line in result.outlines if "::test_" in line}
    result.assert_outcomes(passed=2, failed=2)
    output = result.stdout.str()
    assert "snapshot 'tile' differs from its baseline: 1600 of" in output  # the whole bar, at threshold 0
    assert re.search(r"differs from its baseline: 4 of \d+ pixels differ \(max_diff_pixels=3", output)
    assert {k: v for k, v in outcomes.items() if v == "FAILED"} == {
        "test_nearly_the_colour_strict": "FAILED",
        "test_a_dot_too_many": "FAILED",
    }


def test_a_missing_baseline_is_written_and_the_test_fails_saying_so(pytester, solution):
    result = run(pytester, solution, BASELINE)
    result.assert_outcomes(failed=1)
    baseline = pytester.path / "__snapshots__" / "test_tile" / "tile.png"
    assert f"snapshot 'tile' had no baseline: wrote {baseline} from this run" in result.stdout.str()
    assert "--operate-update-snapshots to write missing baselines" in result.stdout.str()
    assert baseline.is_file()
    run(pytester, solution, BASELINE).assert_outcomes(passed=1)  # the next run compares with it


def test_a_portal_page_snapshot_and_one_baseline_per_mode(pytester, solution):
    cases = {
        "portal": ("portal", {}, {"name": "matter-portal", "threshold": 0.0}),
        "modes": ("widget-in-modes", {}, {"threshold": 0.0}),  # one baseline per mode, named after it
    }
    run(pytester, solution, cases, "--operate-update-snapshots").assert_outcomes(passed=2)
    snapshots = pytester.path / "__snapshots__" / "test_tile"
    assert sorted(p.name for p in snapshots.iterdir()) == ["matter-portal.png", "tile-fr-FR-phone.png"]
    assert rgb(snapshots / "matter-portal.png").shape[1] > 600
    run(pytester, solution, cases).assert_outcomes(passed=2)


def test_operate_test_writes_baselines_with_update_snapshots_and_fails_on_a_change(solution):
    (solution / "tests" / "test_tile_look.py").write_text(child_tests({"tile": ("widget", {}, {})}), "utf-8")
    written = operate("test", str(solution), "-q", "--update-snapshots")
    assert written.returncode == 0, written.stdout + written.stderr
    baseline = solution / "tests" / "__snapshots__" / "test_tile_look" / "tile.png"
    assert baseline.is_file()
    assert operate("test", str(solution), "-q").returncode == 0

    css = solution / "_IDE" / "Acme" / "Tile" / "Tile.css"
    css.write_text(css.read_text().replace("#d0d7de", "#ff0000"), "utf-8")  # the tile's border turns red
    changed = operate("test", str(solution), "-q")
    assert changed.returncode == 1
    assert "snapshot 'tile' differs from its baseline" in changed.stdout
    diff = solution / "snapshot-failures" / "test_tile_look" / "test_tile" / "tile-diff.png"
    assert f"diff:     {diff}" in changed.stdout and diff.is_file()


def test_two_tabs_of_the_same_widget_capture_the_same_bytes(solution, widget_page):
    first = widget_page("Acme.Tile", work_item=MATTER)
    second = widget_page("Acme.Tile", work_item=MATTER)
    second.page.focus(".acme-search")
    assert capture(first) == capture(second)


def test_a_snapshot_name_must_be_a_file_name(widget_page):
    page = widget_page("OperateFinance.WipWidget", work_item=MATTER)
    with pytest.raises(ValueError, match=r"a snapshot name is letters, digits.*'\.\./escape'"):
        page.assert_snapshot("../escape")


def test_the_threshold_is_pixelmatch_colour_distance():
    def png(colour: tuple[int, int, int]) -> bytes:
        buffer = BytesIO()
        Image.new("RGB", (3, 2), colour).save(buffer, "PNG")
        return buffer.getvalue()

    black, white = png((0, 0, 0)), png((255, 255, 255))
    # black to white: a YIQ distance of 0.5053 * 255² = 32857, between 0.96² and 0.97² of pixelmatch's 35215
    assert compare(black, white, 0.96).differing == 6
    assert compare(black, white, 0.97).differing == 0
    assert compare(png((100, 100, 100)), png((104, 100, 100)), 0.0).differing == 6
    assert compare(png((100, 100, 100)), png((104, 100, 100)), 0.05).differing == 0
    grown = compare(black, _sized(4, 2), 0.2)  # a column more: its two pixels differ, and the sizes
    assert grown.size_note == "expected an image 3x2 px, received 4x2 px" and grown.differing == 2


def _sized(width: int, height: int) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (width, height), (0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()
