"""After `pip install operate-toolkit` with no extras, every command works or says in one line what to install.

The child processes here cannot import the packages an extra brings: a `sitecustomize.py` on their
PYTHONPATH puts a finder first on `sys.meta_path` that answers ModuleNotFoundError for them, as an
environment without them does.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers.paths import ROOT

EXTRA_PACKAGES = ("pytest", "_pytest", "xdist", "playwright", "freezegun", "schemathesis", "aiosmtpd")

SITECUSTOMIZE = '''
import os
import sys

_GONE = {m for m in os.environ.get("OPERATE_TEST_NOT_INSTALLED", "").split(",") if m}


class _NotInstalled:
    """Answers as the import system does for a package that is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _GONE:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
'''


@pytest.fixture
def without(tmp_path):
    """run(*argv, missing=(...), cwd=) -> CompletedProcess: `python *argv` in an environment without them."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)

    def run(*argv: str, missing: tuple[str, ...], cwd: Path = ROOT, background: bool = False):
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
            "OPERATE_TEST_NOT_INSTALLED": ",".join(missing),
        }
        env.pop("PYTEST_XDIST_WORKER", None)
        if background:
            return subprocess.Popen(
                [sys.executable, *argv], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)

    return run


def test_the_demo_serves_without_the_extras(without, tmp_path):
    """`pip install operate-toolkit` then `operate serve --demo`: the pages and the widget gallery answer."""
    server = without(
        "-m", "emulator.cli", "serve", "--demo", "--port", "0", "--data-dir", str(tmp_path / "d"),
        missing=EXTRA_PACKAGES, background=True,
    )  # fmt: skip
    banner: list[str] = []
    try:
        url = ""
        for line in server.stdout:
            banner.append(line)
            url = url or next(iter(re.findall(r"ready on (http://127\.0\.0\.1:\d+)", line)), "")
            if line.strip().startswith("clock:"):
                break
        assert url, "".join(banner)
        for page in ("/", "/widgets", "/plans"):
            answer = httpx.get(url + page, timeout=30)
            assert answer.status_code == 200, (page, answer.text[:300])
    finally:
        server.send_signal(signal.SIGTERM)
        rest = server.communicate(timeout=30)[0]
    assert server.returncode == 0
    assert "Traceback" not in "".join(banner) + rest


def test_the_blocker_really_blocks(without):
    probe = without("-c", "import pytest", missing=("pytest",))
    assert probe.returncode == 1 and "ModuleNotFoundError: No module named 'pytest'" in probe.stderr


def test_operate_test_without_pytest_says_what_to_install(without, tmp_path):
    made = without("-m", "emulator.cli", "init", str(tmp_path / "mine"), missing=EXTRA_PACKAGES)
    assert made.returncode == 0, made.stderr
    tested = without("-m", "emulator.cli", "test", str(tmp_path / "mine"), missing=EXTRA_PACKAGES)
    assert tested.returncode == 2
    assert tested.stderr == "operate test needs pytest: pip install 'operate-toolkit[test]'\n"
    assert tested.stdout == ""


def test_every_command_answers_without_the_extras(without, tmp_path):
    """`--help` of every command and subcommand, a plan run and an import of the pytest plugins' modules'
    neighbours: nothing reaches for a package an extra brings."""
    script = (
        "import sys\n"
        "from emulator.cli import build_parser, main\n"
        "parser = build_parser()\n"
        "sub = next(a for a in parser._actions if a.dest == 'command')\n"
        "failed = []\n"
        "for name, command in sub.choices.items():\n"
        "    chains = [[name]] + [[name, s] for a in command._actions if a.dest == 'pms_command' for s in a.choices]\n"
        "    for chain in chains:\n"
        "        try:\n"
        "            main([*chain, '--help'])\n"
        "        except SystemExit as exc:\n"
        "            if exc.code not in (0, None):\n"
        "                failed.append(chain)\n"
        "print('FAILED', failed)\n"
    )
    helped = without("-c", script, missing=EXTRA_PACKAGES)
    assert helped.returncode == 0 and "FAILED []" in helped.stdout, helped.stdout[-2000:] + helped.stderr[-2000:]
    plan = tmp_path / "hello.js"
    plan.write_text('function main(ev, ctx, log) { log.Information("hello"); }\nreturn { main: main };\n')
    ran = without(
        "-m", "emulator.cli", "run", str(plan), "--demo", "--data-dir", str(tmp_path / "d"), missing=EXTRA_PACKAGES
    )
    assert ran.returncode == 0 and "Information: hello" in ran.stdout, ran.stdout + ran.stderr


def test_the_browser_fixtures_without_playwright_say_what_to_install(without, tmp_path):
    made = without("-m", "emulator.cli", "init", str(tmp_path / "mine"), missing=("playwright",))
    assert made.returncode == 0, made.stderr
    (tmp_path / "mine" / "tests" / "test_widget.py").write_text(
        "def test_the_wip_widget(widget_page):\n"
        '    widget_page("OperateFinance.WipWidget", work_item="3c000000-0000-4000-8000-000000000001")\n'
    )
    (tmp_path / "mine" / "tests" / "wip.scenario.yaml").write_text(
        "name: The WIP widget\nthen:\n  pages:\n    - widget: OperateFinance.WipWidget\n"
    )
    tested = without("-m", "emulator.cli", "test", str(tmp_path / "mine"), missing=("playwright",))
    output = tested.stdout + tested.stderr
    assert tested.returncode == 1, output
    line = "a browser fixture (widget_page, portal_page) needs playwright: pip install 'operate-toolkit[browser]'"
    assert line in output
    scenario = "wip.scenario.yaml:3: a scenario's `pages` needs playwright: pip install 'operate-toolkit[browser]'"
    assert scenario in output
    assert "Traceback" not in output and "ModuleNotFoundError" not in output
    assert re.search(r"\b1 failed, 1 passed\b.*\b1 error\b", output), output  # the plain test still runs


def test_the_testing_benchmark_without_xdist_says_what_to_install(without):
    ran = without("-m", "benchmarks", "testing", missing=("xdist",))
    assert ran.returncode == 1
    assert ran.stderr == (
        "benchmarks: testing: could not measure: python -m benchmarks testing needs pytest-xdist: "
        "pip install -e '.[test]'\n"
    )
    assert "Traceback" not in ran.stdout
