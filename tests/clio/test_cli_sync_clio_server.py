"""`operate sync clio --all` as the README walks it: `operate serve --demo` in one terminal (a real subprocess
here), Clio connected through the fake's own sign-in page, then the command from a second terminal.

What a person reads: with no server on the data dir, that no server is running there and how to start one
(not that the solution has no Clio); the progress as whole lines when the output is a file or a pipe, and
redrawn in place then finished with a newline on a terminal, the last one with the run's final counts; and a
results URL that opens as printed, in a browser or with curl, for that one run's CSV only.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

CLIO = "/api/_emulator/integrations/clio"
BOUND_LINES = 400  # lines `operate serve` prints before it is ready (a bound, not a time)
LATENCY = 0.4  # seconds each fake Clio answer takes: longer than a progress poll (0.5 s) over a page and its contacts
TIMEOUT = 300  # seconds a CLI subprocess may take (a bound for a hung child; no assertion is timed)


class Server:
    """`operate serve --demo --port 0` on a data dir; its output read on a thread so it never blocks."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator.cli", "serve", "--demo", "--data-dir", str(data), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self.url = self.clio = None
        for _ in range(BOUND_LINES):
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if found := re.search(r"ready on (http://127\.0\.0\.1:\d+)", line):
                self.url = found.group(1)
            if found := re.search(r"fake Clio: (http://127\.0\.0\.1:\d+)", line):
                self.clio = found.group(1)
            if line.lstrip().startswith("clock:"):
                break
        assert self.url and self.clio, "operate serve --demo did not start:\n" + "".join(self.lines)
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def token(self, user: str | None = None) -> str:
        form = {"grant_type": "client_credentials", "scope": "sharedo"}
        if user:
            form = {"grant_type": "Impersonate.Specified", "scope": "sharedo", "impersonate_user": user}
        answer = httpx.post(f"{self.url}/connect/token", data=form, auth=("demo-client", "demo-secret"))
        return answer.json()["access_token"]

    def connect_clio(self) -> None:
        """Integrate with Clio as an administrator: the authorize URL, the fake's page, Allow Access."""
        headers = {"Authorization": f"Bearer {self.token('priya.shah')}"}
        with httpx.Client(trust_env=False, timeout=60, follow_redirects=False) as browser:
            authorize = browser.post(f"{self.url}{CLIO}/connect", json={}, headers=headers).json()["authorizeUrl"]
            page = browser.get(authorize)
            form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
            user = re.search(r'<option value="(\d+)"', page.text).group(1)
            answer = browser.post(urlsplit(authorize)._replace(query="").geturl(),
                                  data={**form, "user_id": user, "decision": "allow"})  # fmt: skip
            back = browser.get(answer.headers["Location"])
            assert back.status_code == 200, back.text
            assert browser.get(f"{self.url}{CLIO}", headers=headers).json()["state"] == "connected"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


@pytest.fixture
def server(tmp_path):
    """A server of its own for each test: each sees a first sync (every matter of ten years) to show."""
    served = Server(tmp_path / "data")
    try:
        served.connect_clio()
        # Each Clio answer takes a little while, as a real firm's do: a run lasts several polls of its progress.
        switched = httpx.post(f"{served.clio}/_fake/switches", json={"latency_seconds": LATENCY}, timeout=60)
        assert switched.status_code == 200, switched.text
        yield served
    finally:
        served.stop()


def sync(data: Path, *extra: str, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emulator.cli", "sync", "clio", "--all", "--data-dir", str(data), *extra],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        timeout=TIMEOUT,
    )


def final_counts(summary: str) -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(r"^\s+(imported|updated|unchanged|skipped|failed)\s+(\d+)$",
                                                    summary, re.M)}  # fmt: skip


def test_with_no_server_on_the_data_dir_it_says_so_and_how_to_start_one(tmp_path):
    data = tmp_path / "nothing-here"
    done = sync(data, "--as", "priya.shah")
    assert done.returncode == 2
    assert "configures no Clio" not in done.stderr
    assert f"no `operate serve` is running on the data dir {data.resolve()}" in done.stderr
    assert f"operate serve --demo --data-dir {data}" in done.stderr


def test_progress_is_whole_lines_when_the_output_is_not_a_terminal_the_last_one_final(server):
    done = sync(server.data, "--as", "priya.shah")
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and "\x1b" not in done.stderr and done.stderr.endswith("\n")
    progress = [line for line in done.stderr.splitlines() if line.startswith("matters seen")]
    assert progress, done.stderr
    counts = final_counts(done.stdout)
    last = progress[-1]
    seen = sum(counts.values())
    assert f"matters seen {seen}/" in last or f"matters seen {seen} " in last, (last, done.stdout)
    for name in ("imported", "updated", "skipped", "failed"):
        assert f"{name} {counts[name]} " in last + " ", (name, last, done.stdout)


def test_progress_on_a_terminal_is_redrawn_in_place_and_ends_with_a_newline(server):
    reader, writer = pty.openpty()
    try:
        done = sync(server.data, "--as", "priya.shah", stderr=writer)
        os.close(writer)
        writer = -1
        chunks = []
        while True:
            try:
                chunk = os.read(reader, 65536)
            except OSError:  # the other end is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if writer != -1:
            os.close(writer)
        os.close(reader)
    shown = b"".join(chunks).decode()
    assert done.returncode == 0, shown
    assert "\rmatters seen" in shown and shown.rstrip(" ").endswith(("\n", "\r\n")), repr(shown[-200:])
    last = shown.rsplit("\r", 2)[-2] if shown.endswith("\r\n") else shown.rsplit("\r", 1)[-1]
    counts = final_counts(done.stdout)
    assert f"matters seen {sum(counts.values())}" in last, (repr(last), done.stdout)


def test_the_printed_results_url_opens_as_printed_and_only_that_runs_csv(server):
    assert sync(server.data).returncode == 0  # another run, whose CSV the link must not open
    done = sync(server.data, "--as", "priya.shah")
    assert done.returncode == 0, done.stderr
    url = re.search(r"results \(CSV[^)]*\): (\S+)", done.stdout).group(1)
    assert url.startswith(f"{server.url}/settings/integrations/clio/runs/")
    assert "token" not in url.lower() and "bearer" not in done.stdout.lower()

    with httpx.Client(trust_env=False, timeout=60) as curl:  # no token, no cookie: as a browser or curl follows it
        answer = curl.get(url)
        assert answer.status_code == 200, answer.text
        assert answer.text.startswith("clio_id,display_number,result,reason,operate_work_item_id")
        assert answer.headers["content-type"].startswith("text/csv")

        parts = urlsplit(url)
        run_id = re.search(r"/runs/([^/]+)\.csv$", parts.path).group(1)
        tampered = url.replace("signature=", "signature=0")
        assert curl.get(tampered).status_code == 403
        # The same signature does not open another run's CSV.
        runs = httpx.get(f"{server.url}{CLIO}/runs", headers={"Authorization": f"Bearer {server.token()}"}).json()
        other = next(r["id"] for r in runs["rows"] if r["id"] != run_id)
        elsewhere = curl.get(url.replace(run_id, other))
        assert elsewhere.status_code == 403 and "not signed for this run" in elsewhere.text
        # Without the signature the download still wants a signed-in user; the API still wants a token.
        assert curl.get(f"{server.url}{parts.path}").status_code in (401, 403)
        assert curl.get(f"{server.url}{CLIO}/runs/{run_id}/results.csv").status_code == 401
