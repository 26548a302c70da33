"""`operate test --record-from ID` and `operate test --coverage`, run as commands in a child process."""

from __future__ import annotations

from emulator.app import create_app
from emulator.settings import Settings
from smartplans.testing import solution_from_demo, trigger
from tests.conftest import START, Api, client_token
from tests.helpers.processes import operate
from tests.helpers.recorded_plans import INCEPT, MATTER


def ran_once(tmp_path):
    """A solution whose plan ran once in the data dir `tmp_path/data`; the execution's id."""
    root = solution_from_demo(tmp_path / "solution", {"incept": INCEPT}, [trigger("incept", phases=["matter-open"])])
    app = create_app(Settings(data_dir=tmp_path / "data", solution=root, clock="virtual", clock_start=START))
    try:
        api = Api(app, client_token(app))
        assert (
            api.put(f"/api/v1/public/workItem/{MATTER}/phase", {"toPhaseSystemName": "matter-open"}).status_code == 200
        )
        (execution,) = api.get(f"/api/executionengine/plans/executing?plan=incept&sharedoId={MATTER}").json
    finally:
        app.extensions["operate"].close()
    return root, execution["id"]


def test_record_from_saves_the_execution_and_operate_test_replays_it(tmp_path):
    root, execution_id = ran_once(tmp_path)
    saved = operate("test", str(root), "--record-from", execution_id, "--data-dir", str(tmp_path / "data"))
    assert saved.returncode == 0, saved.stderr
    path = root / "tests" / "recorded" / f"incept-{execution_id[:8]}.scenario.yaml"
    assert f"wrote {path}" in saved.stdout and path.is_file()
    replayed = operate("test", str(root), "-q")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "1 passed" in replayed.stdout


def test_record_from_says_what_is_wrong(tmp_path):
    root, _ = ran_once(tmp_path)
    unknown = operate("test", str(root), "--record-from", "nope", "--data-dir", str(tmp_path / "data"))
    assert unknown.returncode == 2 and "no plan execution 'nope'" in unknown.stderr
    empty = operate("test", str(root), "--record-from", "nope", "--data-dir", str(tmp_path / "nothing"))
    assert empty.returncode == 2 and "holds no state" in empty.stderr


def test_coverage_writes_the_reports_into_the_solution_and_prints_the_table(tmp_path):
    root, execution_id = ran_once(tmp_path)
    assert (
        operate("test", str(root), "--record-from", execution_id, "--data-dir", str(tmp_path / "data")).returncode == 0
    )
    covered = operate("test", str(root), "--coverage", "--coverage-fail-under", "50")
    assert covered.returncode == 0, covered.stdout + covered.stderr
    assert (root / "coverage" / "lcov.info").read_text().count("SF:plans/incept.js") == 1
    assert (root / "coverage" / "cobertura.xml").is_file()
    assert "plans/incept.js" in covered.stdout and "plan coverage" in covered.stdout
    lonely = operate("test", str(root), "--coverage-fail-under", "50")
    assert lonely.returncode == 2 and "--coverage-fail-under goes with --coverage" in lonely.stderr
