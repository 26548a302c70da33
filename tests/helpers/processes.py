"""The `operate` command in its own process, as a person runs it: shared by the tests of every area that start it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def operate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`operate ARGS` as a person types it, in its own process; what it printed and its exit code."""
    return subprocess.run(
        [sys.executable, "-m", "emulator.cli", *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )


READY = re.compile(r"ready on (http://127\.0\.0\.1:\d+)")


class Served:
    """`operate serve` in its own process on a free loopback port (the demo unless `demo=False`, for
    `--solution DIR` among `extra`); `banner` holds what it printed up to its last line, the clock's."""

    def __init__(self, data_dir: Path, *extra: str, demo: bool = True) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator.cli", "serve", *(["--demo"] if demo else []), "--port", "0"]
            + ["--data-dir", str(data_dir), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.banner: list[str] = []
        self.url = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.banner.append(line)
            if match := READY.search(line):
                self.url = match.group(1)
            if self.url and line.strip().startswith("clock:"):
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
