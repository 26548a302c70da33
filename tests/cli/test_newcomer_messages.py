"""What a newcomer reads when something is missing: a folder that is not a solution, a solution with no users,
a plan run from outside plans/, a matter with no estimated fees."""

from __future__ import annotations

import pytest

from emulator.solution.loading import SolutionError, load_solution
from tests.helpers.pms_push import both, push  # noqa: F401 - `both` is the served emulator + demo PMS fixture
from tests.helpers.processes import Served, operate


def test_an_empty_folder_is_not_a_solution(tmp_path):
    empty = tmp_path / "my-solution"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a solution part")
    refused = operate("serve", "--solution", str(empty), "--port", "0", "--data-dir", str(tmp_path / "data"))
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr
    assert lines[0].startswith(f"operate: cannot load the solution: {empty}: not a solution: it holds none of ")
    assert "operate.toml, worktypes, roles" in lines[0] and "operate init DIR" in lines[0]
    with pytest.raises(SolutionError, match="not a solution"):
        load_solution(empty)


def test_a_solution_with_no_users_says_so_in_the_banner(tmp_path):
    solution = tmp_path / "bare"
    solution.mkdir()
    (solution / "operate.toml").write_text('[solution]\nname = "Bare"\n')
    served = Served(tmp_path / "data", "--solution", str(solution), demo=False)
    try:
        banner = "".join(served.banner)
        assert "(solution: Bare" in banner
        assert "users to impersonate" not in banner
        assert "any user above" not in banner
        assert "no user to sign in as: the solution has none" in banner
    finally:
        assert served.stop() == 0


def test_a_demo_banner_still_names_its_users(tmp_path):
    served = Served(tmp_path / "data")
    try:
        banner = "".join(served.banner)
        assert "users to impersonate: daniel.okafor" in banner and "sign in as any user above" in banner
    finally:
        assert served.stop() == 0


def test_operate_run_names_the_plan_file_as_given(tmp_path):
    elsewhere = tmp_path / "drafts"
    elsewhere.mkdir()
    (elsewhere / "bad.js").write_text(
        'function main(ev, ctx, log) {\n  log.Information("starting");\n  throw new Error("boom");\n}\n'
        "return { main: main };\n"
    )
    ran = operate("run", "drafts/bad.js", "--demo", "--data-dir", "data", cwd=tmp_path)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "at main (drafts/bad.js:3:" in ran.stdout
    assert "in drafts/bad.js, step 'main'" in ran.stdout
    assert "plans/bad.js" not in ran.stdout


def test_push_actual_fees_says_when_a_matter_has_no_estimate(both):  # noqa: F811
    url, pms_url, em = both
    no_estimate = "3c000000-0000-4000-8000-000000000002"  # MAT-00002 = PMS-260102
    em.workitems.set_attributes(no_estimate, {"estimatedFees": None}, None)
    assert em.finance.fees(no_estimate)["percentOfEstimate"] is None
    result = push("push-actual-fees", url, pms_url)
    assert result.returncode == 0, result.stderr
    assert "None" not in result.stdout
    line = next(x for x in result.stdout.splitlines() if "MAT-00002 = PMS-260102" in x)
    assert line.endswith("(no estimated fees to compare with)"), line
    assert "% of estimate)" in result.stdout  # the matters that have one still show their share
