"""`pages` in a `*.scenario.yaml`'s `then` (widgets/scenario_pages.py), as an implementor meets it: `operate test`
in its own process on a copy of the demo solution, Debian's Chromium behind it. A page opened after the `when`
steps shows the state they left (an approved payment reaches the WIP widget), its snapshot baselines are written by
`--update-snapshots` beside the scenario and a changed pixel fails naming the YAML line and the diff image, and
each mistake in a page (a typo, a mode, a widget that is not there, an accessibility fault, a page that throws)
fails at its line."""

from __future__ import annotations

import re
import shutil
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from smartplans.testing import solution_from_demo
from tests.helpers.paths import FIXTURES
from tests.helpers.processes import operate

MATTER = "3c000000-0000-4000-8000-000000000002"  # MAT-00002, PMS-260102: 7.00 of unbilled disbursements
PAYMENT = "5e000000-0000-4000-8000-000000000001"  # a 245.00 counsel's fee on it, waiting for approval
NBSP = "\u00a0"
THROWER_JS = """namespace("Acme");
Acme.Thrower = function (element, configuration, baseModel) { this.ready = true; };
Acme.Thrower.prototype.loadAndBind = function () { setTimeout(function () { throw new Error("ledger said no"); }); };
"""


@pytest.fixture
def solution(tmp_path: Path) -> Path:
    root = solution_from_demo(tmp_path / "solution", examples=True)  # the payment-approved plan
    shutil.copytree(FIXTURES / "lookalikes" / "widget-snapshot-tile" / "Tile", root / "_IDE" / "Acme" / "Tile")
    shutil.copytree(FIXTURES / "lookalikes" / "widget-icon-only-controls", root / "_IDE" / "Lookalikes" / "BalanceTile")
    thrower = root / "_IDE" / "Acme" / "Thrower"
    thrower.mkdir(parents=True)
    (thrower / "Thrower.js").write_text(THROWER_JS, "utf-8")
    (thrower / "Thrower.widget.json").write_text(
        '{"id": "Acme.Thrower", "designer": {"title": "Thrower"}, "scripts": ["/_ideFiles/Acme/Thrower/Thrower.js"]}',
        "utf-8",
    )
    return root


def scenario(solution: Path, name: str, text: str) -> Path:
    path = solution / "tests" / f"{name}.scenario.yaml"
    path.write_text(text, "utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


def failures(output: str) -> dict[str, str]:
    """`scenario file stem -> its failure line` from `operate test -q`'s report."""
    found = re.findall(r"^\S+/tests/([\w-]+)\.scenario\.yaml:(\d+): (.*)$", output, re.M)
    return {stem: f"{line}: {message}" for stem, line, message in found}


def test_a_page_shows_what_the_when_steps_left(solution):
    page = f"""  pages:
    - widget: OperateFinance.WipWidget
      work_item: {MATTER}
      shows: "Unbilled disbursements\\n£{{amount}}"
"""
    scenario(solution, "before", "name: Before the approval\nthen:\n" + page.replace("{amount}", "7.00"))
    scenario(
        solution,
        "after",
        "name: After the approval\n"
        f"when:\n  - move: {{work_item: {PAYMENT}, to: payment-request-approved}}\n"
        "then:\n" + page.replace("{amount}", "252.00"),
    )
    wrong = scenario(solution, "wrong", "name: Not yet approved\nthen:\n" + page.replace("{amount}", "252.00"))
    result = operate("test", str(solution), "-q")
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"\b1 failed, 2 passed\b", result.stdout), result.stdout
    assert failures(result.stdout)["wrong"].startswith(
        f"{line_of(wrong, 'shows:')}: widget OperateFinance.WipWidget: "
        "does not show 'Unbilled disbursements\\n£252.00'; it shows:"
    )
    assert "Unbilled disbursements\n£7.00" in result.stdout  # what it did show, under the failure


def test_update_snapshots_writes_scenario_baselines_and_a_changed_pixel_fails_at_its_line(solution):
    path = scenario(
        solution,
        "look",
        f"""name: The tile and the matter's portal after an approval
when:
  - move: {{work_item: {PAYMENT}, to: payment-request-approved}}
then:
  pages:
    - widget: Acme.Tile
      work_item: {MATTER}
      shows: Client balance
      snapshot: {{name: tile, threshold: 0}}
    - portal: {MATTER}
      locale: fr-FR
      currency: EUR
      viewport: phone
      shows: ["252,00{NBSP}€"]
      accessible: true
      snapshot: matter
""",
    )
    written = operate("test", str(solution), "-q", "--update-snapshots")
    assert written.returncode == 0, written.stdout + written.stderr
    baselines = solution / "tests" / "__snapshots__" / "look.scenario"
    assert sorted(p.name for p in baselines.iterdir()) == ["matter-fr-FR-EUR-phone.png", "tile.png"]
    assert rgb(baselines / "matter-fr-FR-EUR-phone.png").shape[1] < 400  # the portal, on a phone
    assert operate("test", str(solution), "-q").returncode == 0  # a fresh browser and emulator: the same pixels

    css = solution / "_IDE" / "Acme" / "Tile" / "Tile.css"
    css.write_text(css.read_text().replace("width: 200px", "width: 190px"), "utf-8")  # the bar 10px shorter
    changed = operate("test", str(solution), "-q")
    assert changed.returncode == 1
    line = line_of(path, "snapshot: {name: tile")
    assert failures(changed.stdout)["look"].startswith(
        f"{line}: widget Acme.Tile: snapshot 'tile' differs from its baseline: 80 of"
    ), changed.stdout
    diff = solution / "snapshot-failures" / "look.scenario" / "look" / "tile-diff.png"
    assert f"diff:     {diff}" in changed.stdout
    assert np.all(rgb(diff) == (255, 0, 0), axis=2).sum() == 80  # the bar's last ten columns, red


def test_each_mistake_in_a_page_fails_at_its_line(solution):
    def page(name: str, body: str) -> Path:
        return scenario(solution, name, f"name: {name}\nthen:\n  pages:\n{body}")

    typo = page("typo", f"    - widget: Acme.Tile\n      work_item: {MATTER}\n      snapshto: tile\n")
    both = page("both", f"    - widget: Acme.Tile\n      portal: {MATTER}\n")
    mode = page("mode", "    - widget: Acme.Tile\n      locale: de-DE\n")
    missing = page("missing", "    - widget: Nope.Widget\n")
    faulty = page("faulty", "    - widget: Lookalike.BalanceTile\n      accessible: true\n")
    option = page("option", "    - widget: Acme.Tile\n      snapshot: {name: tile, tolerance: 3}\n")
    tolerance = page("tolerance", "    - widget: Acme.Tile\n      snapshot: {name: tile, threshold: 2}\n")
    throws = page("throws", "    - widget: Acme.Thrower\n")
    page("allowed", "    - widget: Acme.Thrower\n      allow_console_errors: true\n")

    result = operate("test", str(solution), "-q")
    assert re.search(r"\b8 failed, 1 passed\b", result.stdout), result.stdout + result.stderr
    found = failures(result.stdout)
    assert found["typo"].startswith(
        f"{line_of(typo, '- widget')}: a widget page has unknown key(s) ['snapshto']; use ["
    )
    assert (
        found["both"]
        == f"{line_of(both, '- widget')}: each page is `widget: ID` or `portal: WORK_ITEM` (one of the two)"
    )
    assert found["mode"] == (
        f"{line_of(mode, 'locale')}: widget Acme.Tile: locale must be one of en-GB, en-US, fr-FR, not 'de-DE' "
        "(the modes are in widgets/modes.json)"
    )
    assert found["missing"].startswith(
        f"{line_of(missing, '- widget')}: widget Nope.Widget: /widgets/Nope.Widget answered 404: 404 "
    )
    assert found["faulty"].startswith(
        f"{line_of(faulty, 'accessible')}: widget Lookalike.BalanceTile: "
        "2 accessibility violation(s) at impact 'serious'"
    )
    assert "image-alt" in result.stdout and "button-name" in result.stdout
    assert found["option"].startswith(f"{line_of(option, 'snapshot')}: `snapshot` is a name, or a mapping with name")
    assert found["tolerance"] == (
        f"{line_of(tolerance, 'snapshot')}: `snapshot`: assert_snapshot: threshold must be between 0 and 1 "
        "(a colour distance), not 2"
    )
    assert not (solution / "tests" / "__snapshots__").exists()  # no baseline written with a tolerance never met
    assert found["throws"].startswith(f"{line_of(throws, '- widget')}: widget Acme.Thrower: the page threw: ")
    assert "ledger said no" in found["throws"]


def test_without_the_widgets_plugin_a_page_says_what_it_needs(solution, pytester):
    scenario(solution, "needs", "name: needs\nthen:\n  pages:\n    - widget: Acme.Tile\n")
    result = pytester.runpytest_subprocess(
        str(solution / "tests"), "-p", "no:operate_widgets", "-p", "no:cacheprovider", "--rootdir", str(solution)
    )
    result.assert_outcomes(failed=1)
    assert "`then` has unknown key(s) ['pages']" in result.stdout.str()
    assert "(`pages` needs the operate_widgets plugin)" in result.stdout.str()


def rgb(path: Path) -> np.ndarray:
    with Image.open(BytesIO(path.read_bytes())) as image:
        return np.asarray(image.convert("RGB"))
