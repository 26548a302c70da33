"""`operate serve` as a person runs it: a real process on a loopback port."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

READY = re.compile(r"ready on (http://127\.0\.0\.1:\d+)")


class Served:
    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emulator.cli",
                "serve",
                "--demo",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.banner: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.banner.append(line)
            match = READY.search(line)
            if match:
                self.url = match.group(1)
                for _ in range(3):
                    self.banner.append(self.process.stdout.readline())
                return
        self.process.kill()
        raise AssertionError(f"serve did not start: {self.banner} {self.process.stderr.read()}")

    def client(self) -> httpx.Client:
        token = httpx.post(
            f"{self.url}/connect/token",
            data={"grant_type": "client_credentials", "scope": "sharedo"},
            auth=("demo-client", "demo-secret"),
            timeout=10,
        ).json()["access_token"]
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=10)
        finally:
            self.process.stdout.close()
            self.process.stderr.close()


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
    from .test_cli import operate

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
        exported = operate("export", "-", "--demo", "--data-dir", str(tmp_path / "d"))
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
    from .test_cli import operate

    result = operate("export", "-", "--demo", "--data-dir", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "holds no state" in result.stderr
    assert not (tmp_path / "nothing").exists()


def test_a_second_emulator_on_a_held_data_dir_in_one_process_is_refused_until_the_first_closes(tmp_path):
    from emulator.core import Emulator
    from emulator.datadir import DataDirInUse
    from emulator.settings import Settings

    first = Emulator(Settings(data_dir=tmp_path, demo=True, command="a notebook"))
    with pytest.raises(DataDirInUse, match=rf"in use by PID {os.getpid()} \(a notebook\)"):
        Emulator(Settings(data_dir=tmp_path, demo=True))
    first.close()
    Emulator(Settings(data_dir=tmp_path, demo=True)).close()
