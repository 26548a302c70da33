"""`operate serve` as a person runs it: a real process on a loopback port."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.helpers.paths import ROOT
from tests.helpers.processes import Served, operate


def test_serve_prints_the_url_and_the_demo_credentials(tmp_path):
    served = Served(tmp_path)
    try:
        banner = "".join(served.banner)
        assert "demo-client / demo-secret" in banner and "priya.shah" in banner
        assert httpx.get(f"{served.url}/api/_emulator/health", timeout=10).json()["status"] == "ok"
        with served.client() as client:
            assert client.get("/api/security/userInfo").json()["clientId"] == "demo-client"
    finally:
        assert served.stop() == 0


def test_kill_9_loses_no_committed_change_and_no_event(tmp_path):
    served = Served(tmp_path)
    with served.client() as client:
        ids = []
        for i in range(20):
            response = client.post(
                "/api/v1/public/workItem", json={"workItem": {"sharedoTypeSystemName": "task", "title": f"task {i}"}}
            )
            assert response.status_code == 201
            ids.append(response.json()["workItem"]["id"])
        last = ids[-1]
        assert (
            client.put(
                f"/api/v1/public/workItem/{last}/phase", json={"toPhaseSystemName": "task-in-progress"}
            ).status_code
            == 200
        )
    served.stop(signal.SIGKILL)

    again = Served(tmp_path)
    try:
        with again.client() as client:
            for item_id in ids:
                assert client.get(f"/api/v1/public/workItem/{item_id}").status_code == 200
            assert client.get(f"/api/v1/public/workItem/{last}/phase").json()["systemName"] == "task-in-progress"
            events = client.get("/api/_emulator/events?after=0").json()["events"]
            assert [e["eventType"] for e in events].count("sharedo-created") == 20
            assert events[-1]["eventType"] == "sharedo-phase-changed"
            assert [e["number"] for e in events] == list(range(1, 22))
    finally:
        again.stop()


def test_a_busy_port_is_a_clear_error(tmp_path):
    served = Served(tmp_path / "a")
    try:
        port = served.url.rsplit(":", 1)[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "emulator.cli",
                "serve",
                "--demo",
                "--port",
                port,
                "--data-dir",
                str(tmp_path / "b"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port 0" in result.stderr
    finally:
        served.stop()


def test_virtual_clock_over_http(tmp_path):
    served = Served(tmp_path, "--virtual-clock", "--clock-start", "2026-03-01T08:00:00Z")
    try:
        with served.client() as client:
            assert client.get("/api/_emulator/clock").json()["now"] == "2026-03-01T08:00:00.000Z"
            moved = client.post("/api/_emulator/clock", json={"advance": "PT2M"}).json()
            assert moved["now"] == "2026-03-01T08:02:00.000Z"
    finally:
        served.stop()


@pytest.mark.parametrize(
    "args, words",
    [
        ([], "usage: operate"),
        (["serve", "--help"], "--data-dir"),
        (["import", "--help"], "export package"),
    ],
)
def test_help_helps(args, words):
    result = subprocess.run([sys.executable, "-m", "emulator.cli", *args], capture_output=True, text=True, timeout=30)
    assert words in result.stdout


def test_serve_without_a_solution_says_what_to_pass(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "serve", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ},
    )
    assert result.returncode == 2 and "--demo or --solution" in result.stderr


def test_serve_with_a_broken_solution_names_the_file(tmp_path):
    (tmp_path / "sol" / "worktypes").mkdir(parents=True)
    (tmp_path / "sol" / "worktypes" / "x.json").write_text("{broken")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator.cli",
            "serve",
            "--solution",
            str(tmp_path / "sol"),
            "--data-dir",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "x.json: line 1" in result.stderr


def test_one_process_per_data_dir_a_second_is_refused_naming_the_first_and_export_reads_a_copy(tmp_path):

    served = Served(tmp_path / "d")
    try:
        with served.client() as client:
            created = client.post(
                "/api/v1/public/workItem", json={"workItem": {"sharedoTypeSystemName": "task", "title": "kept"}}
            )
            assert created.status_code == 201
        plan = tmp_path / "plan.js"
        plan.write_text("function main(ev, ctx, log) { log.Information('hi'); }\nreturn { main: main };\n")
        holder = f"in use by PID {served.process.pid} (operate serve, {served.url})"
        snapshot = tmp_path / "snapshot.json"
        snapshot.write_text("{}")
        for args in (
            ("run", str(plan), "--demo"),
            ("serve", "--demo", "--port", "0"),
            ("load", str(snapshot), "--demo"),
        ):
            second = operate(*args, "--data-dir", str(tmp_path / "d"))
            assert second.returncode == 2, (args, second.stdout, second.stderr)
            assert holder in second.stderr and "Traceback" not in second.stderr, second.stderr
        exported = operate("export", "-", "--demo", "--data-dir", "d", cwd=tmp_path)  # relative, as people type it
        assert exported.returncode == 0, exported.stderr
        assert "consistent copy" in exported.stderr
        titles = [row[2] for row in json.loads(exported.stdout)["tables"]["work_items"]["rows"]]
        assert "kept" in titles
        with served.client() as client:  # the server went on untouched
            assert client.get(f"/api/v1/public/workItem/{created.json()['workItem']['id']}").status_code == 200
    finally:
        served.stop(signal.SIGKILL)
    # the OS let go of the lock with the process: the data dir is usable again
    after = operate("run", str(plan), "--demo", "--data-dir", str(tmp_path / "d"))
    assert after.returncode == 0, after.stderr


def test_export_of_a_data_dir_with_no_state_is_refused(tmp_path):

    result = operate("export", "-", "--demo", "--data-dir", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "holds no state" in result.stderr
    assert not (tmp_path / "nothing").exists()


def test_a_second_emulator_on_a_held_data_dir_in_one_process_is_refused_until_the_first_closes(tmp_path):
    from emulator.core import Emulator
    from emulator.kernel.datadir import DataDirInUse
    from emulator.settings import Settings

    first = Emulator(Settings(data_dir=tmp_path, demo=True, command="a notebook"))
    with pytest.raises(DataDirInUse, match=rf"in use by PID {os.getpid()} \(a notebook\)"):
        Emulator(Settings(data_dir=tmp_path, demo=True))
    first.close()
    Emulator(Settings(data_dir=tmp_path, demo=True)).close()


def _readme_calls() -> list[tuple[str, str, dict | None]]:
    """The README's create-and-open block as (method, path, body), bodies exactly as written."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("Create a matter for a client", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    calls = []
    for command in re.split(r"\n(?=curl )", block.strip()):
        body = re.search(r"-d '(.*?)'", command, re.S)
        url = re.search(r"http://127\.0\.0\.1:8765(\S+?)'?(?:\s|$)", command)
        method = "PUT" if "-X PUT" in command else ("POST" if body else "GET")
        calls.append((method, url.group(1).rstrip("'"), json.loads(body.group(1)) if body else None))
    return calls


def test_the_readme_create_and_open_example_runs_and_serve_prints_each_ended_execution(tmp_path):
    served = Served(tmp_path / "d")
    try:
        with served.client() as client:
            item_id = None
            for method, path, body in _readme_calls():
                response = client.request(method, path.replace("$ID", str(item_id)), json=body)
                assert response.status_code < 300, (method, path, response.text)
                item_id = item_id or response.json()["workItem"]["id"]
            reference = client.get(f"/api/v1/public/workItem/{item_id}").json()["workItem"]["reference"]
            bare = client.post(
                "/api/v1/public/workItem",
                json={"workItem": {"sharedoTypeSystemName": "matter-commercial", "title": "x"}},
            ).json()["workItem"]
            client.put(f"/api/v1/public/workItem/{bare['id']}/phase", json={"toPhaseSystemName": "matter-open"})
            lines, deadline = [], time.monotonic() + 20
            while len([line for line in lines if line.startswith("execution ")]) < 2 and time.monotonic() < deadline:
                lines.append(served.process.stdout.readline())
        # Executions of different work items end in either order: one waiting on a host call holds up no other.
        ended = {line.split(" on ", 1)[1].split(":", 1)[0]: line for line in lines if line.startswith("execution ")}
        assert ended[reference].startswith(f"execution matter-inception on {reference}: STOPPED"), lines
        assert ended[bare["reference"]].startswith(
            f"execution matter-inception on {bare['reference']}: ERRORED: {bare['reference']} has no client participant"
        ), lines
        assert "matter-inception.js" in ended[bare["reference"]]  # where: the plan file
    finally:
        served.stop()


def test_pms_pushes_find_the_emulator_and_demo_pms_served_on_the_data_dir(tmp_path):

    served = Served(tmp_path / "d")
    try:
        assert any("operate pms push-actual-fees --data-dir" in line for line in served.banner), served.banner
        pushed = operate("pms", "push-suppliers", "--data-dir", str(tmp_path / "d"))
        assert pushed.returncode == 0, pushed.stderr
        assert "created 2, updated 3, unchanged 0, failed 0" in pushed.stdout, pushed.stdout
    finally:
        served.stop()


def test_a_data_dir_that_is_a_file_unreachable_or_corrupt_is_a_message_not_a_traceback(tmp_path):

    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "operate.db").write_bytes(b"this is not SQLite" * 100)
    for data_dir, said in (
        (a_file, "--data-dir"),
        (a_file / "below", "--data-dir"),
        (corrupt, "operate.db is not a state file this tool can read"),
    ):
        result = operate("serve", "--demo", "--port", "0", "--data-dir", str(data_dir))
        assert result.returncode == 2, (data_dir, result.stdout, result.stderr)
        assert result.stderr.startswith("operate serve: ") and said in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_version_and_a_description_for_every_command():
    from importlib.metadata import version

    from emulator.cli import build_parser

    result = subprocess.run([sys.executable, "-m", "emulator.cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"operate-toolkit {version('operate-toolkit')}"

    def commands(parser, path=()):
        for action in parser._subparsers._group_actions if parser._subparsers else []:
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from commands(sub, (*path, name))

    found = list(commands(build_parser()))
    assert len(found) >= 10
    undescribed = [" ".join(path) for path, sub in found if not sub.description]
    assert not undescribed, f"commands whose --help has no description: {undescribed}"
