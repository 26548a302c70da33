"""Which Pythons the product supports, said once, and kept true: the README's line, `requires-python` and
the classifiers agree, and the code uses nothing newer than the oldest of them (vermin: a static check that
knows when each module, member, argument and syntax arrived). Running on each version is
tests/cli/test_packaging.py's `test_the_wheel_serves_the_demo_and_runs_a_plan_on_python`."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers.installed import ROOT, classifier_versions, pyproject, readme_versions, supported_versions

PRODUCT = ("emulator", "smartplans", "widgets", "pms_adapters", "benchmarks", "scripts")


def test_the_readme_says_the_supported_versions_once_and_pyproject_agrees():
    said = readme_versions()
    assert len(said) == 1, f"the README names the supported Pythons once, as 'Python 3.10, ... or 3.x': {said}"
    versions = said[0]
    assert versions == classifier_versions(), (versions, classifier_versions())
    assert pyproject()["project"]["requires-python"] == f">={versions[0]}"
    assert pyproject()["tool"]["ruff"]["target-version"] == "py" + versions[0].replace(".", "")
    assert not re.search(r"Python 3\.\d+ or (newer|later|above)", (ROOT / "README.md").read_text("utf-8"))


def test_the_product_uses_nothing_newer_than_its_oldest_python():
    oldest = supported_versions()[0]
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from vermin import main; sys.argv[0] = 'vermin'; sys.exit(main())"]
        + [f"--target={oldest}-", "--violations", "--eval-annotations", "--pessimistic", "--no-config-file"]
        + ["--format", "parsable", "--no-make-paths-absolute", *PRODUCT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # parsable: file:line:column:py2:py3:feature for each use; a last line with the minimum versions
    violations = [line for line in result.stdout.splitlines() if re.match(r"[^:]+:\d+:", line)]
    assert not violations, f"needs a Python newer than {oldest}:\n" + "\n".join(violations)
    assert result.returncode == 0, result.stdout + result.stderr
