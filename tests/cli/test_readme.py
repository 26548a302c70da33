"""The README's shell blocks run as written, in order, on a machine with no tenant, so the README cannot drift.

Which blocks run, by a rule a reader of the README can see:

- every fenced ```sh / ```bash / ```console block runs, in the README's order, with `bash -euo pipefail`, in
  one working folder (a temporary one, like a user's), its shell variables carried to the next block
  (`TOKEN`, `ID`), and must exit 0 with no traceback;
- a comment line just before a block changes that:
  `<!-- readme-test: skip (reason) -->` does not run it (a reason is required);
  `<!-- readme-test: installed (reason) -->` runs it without its `python -m pip install ...` commands
  (this test runs where the package is installed: the install itself is CI's first step);
  `<!-- readme-test: write PATH -->` writes the block's text to PATH, as the text before it tells the reader;
  `<!-- readme-test: printed by operate serve -->` checks that the running `operate serve` printed the
  block's lines (`<id>` stands for any id);
  `<!-- readme-test: stop operate serve -->` stops the running server (SIGTERM) before the block runs,
  as the text tells the reader to;
- a block that runs `operate serve` is started in the background; the test waits for its "ready on" URL,
  fetches its home page, and keeps it running for the blocks after it (to the next stop or the end).

The environment, not the commands, is the test's: `operate` and `python` are this checkout's code on this
interpreter, and port 8765 (the README's) is a free port, so that two runs or a server someone has open
do not collide.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers.paths import ROOT

README = ROOT / "README.md"
SHELLS = ("sh", "bash", "console")
MARKERS = ("skip", "installed", "write", "printed by operate serve", "stop operate serve")
MARKER = re.compile(
    r"<!--\s*readme-test:\s*(?P<what>" + "|".join(map(re.escape, MARKERS)) + r"|\S+)(?:\s+(?P<arg>[^>]*?))?\s*-->\s*$"
)
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
PIP_INSTALL = re.compile(r"python -m pip install [^&|;\n]*")
READY = re.compile(r"ready on (http://127\.0\.0\.1:\d+)")
BLOCK_TIMEOUT_S = 300
SERVE_START_S = 60


@dataclass
class Block:
    line: int  # where the fence opens, 1-based
    lang: str
    text: str
    marker: str  # "", "skip", "installed", "write", "printed by operate serve", "stop operate serve"
    arg: str


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block with the marker comment just before it (blank lines between are allowed)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        before = i - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        found = MARKER.search(lines[before]) if before >= 0 else None
        marker, arg = (found["what"].strip(), (found["arg"] or "").strip()) if found else ("", "")
        blocks.append(Block(i + 1, fence["lang"], "\n".join(lines[i + 1 : end]) + "\n", marker, arg))
        i = end + 1
    return blocks


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A block that runs `operate serve`, in the background in its own process group; stdout read on a thread."""

    def __init__(self, block: Block, script: str, cwd: Path, env: dict[str, str]) -> None:
        self.block = block
        self.process = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self) -> str:
        deadline = time.monotonic() + SERVE_START_S
        while time.monotonic() < deadline and self.process.poll() is None:
            for line in list(self.lines):
                if found := READY.search(line):
                    self.url = found[1]
            if self.url and any(line.strip().startswith("clock:") for line in self.lines):
                return self.url
            time.sleep(0.05)
        raise AssertionError(f"README line {self.block.line}: operate serve did not start:\n{self.output()}")

    def printed(self, expected: list[str], deadline_s: float = 30) -> None:
        """Each expected line (a regex once `<id>` is any id) is among what the server printed, within a while."""
        patterns = [re.compile(re.escape(line).replace(re.escape("<id>"), r"[0-9a-f-]{36}")) for line in expected]
        deadline = time.monotonic() + deadline_s
        while True:
            missing = [p.pattern for p in patterns if not any(p.fullmatch(line) for line in list(self.lines))]
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert not missing, f"operate serve did not print {missing}; it printed:\n{self.output()}"

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group this test started: bash and its operate
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self._reader.join(timeout=5)


def _environment(tmp_path: Path) -> dict[str, str]:
    """`operate` and `python` on PATH run this checkout on this interpreter (whatever else is installed)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "operate").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m emulator.cli "$@"\n')
    (bin_dir / "operate").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def test_the_readme_shell_blocks_run_as_written(tmp_path):
    blocks = readme_blocks(README.read_text("utf-8"))
    for block in blocks:
        if block.marker == "skip":
            assert block.arg.startswith("(") and len(block.arg) > 4, f"line {block.line}: a skip needs a (reason)"
        assert block.marker in ("", *MARKERS), f"README line {block.line}: unknown readme-test marker {block.marker!r}"
    port = str(_free_port())
    work = tmp_path / "work"
    work.mkdir()
    env = _environment(tmp_path)
    state = tmp_path / "shell-state"
    server: Server | None = None
    ran = 0
    try:
        for block in blocks:
            text = block.text.replace("8765", port)
            if block.marker == "stop operate serve" and server is not None:
                server.stop()
                server = None
            if block.marker == "write":
                target = work / block.arg
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.text, "utf-8")
                continue
            if block.marker == "printed by operate serve":
                assert server is not None, f"README line {block.line}: no operate serve is running to print this"
                server.printed([line for line in text.splitlines() if line.strip()])
                continue
            if block.lang not in SHELLS or block.marker == "skip":
                continue
            if block.marker == "installed":
                text = PIP_INSTALL.sub("true ", text)
            # Variables a block sets (TOKEN, ID) reach the blocks after it, as in one terminal.
            script = (
                f"[ -f {state} ] && . {state}\n"
                '__readme_before=" $(compgen -v | tr "\\n" " ") "\n'
                + re.sub(r"\boperate serve\b(.*)", rf"operate serve\1 --port {port}", text)
                + '\nfor __v in $(compgen -v); do case "$__readme_before" in *" $__v "*) ;; '
                + f'*) declare -p "$__v" ;; esac; done >> {state}\n'
            )
            if re.search(r"\boperate serve\b", text):
                assert server is None, f"README line {block.line}: a second operate serve while one runs"
                server = Server(block, script, work, env)
                url = server.wait_ready()
                assert url == f"http://127.0.0.1:{port}"
                home = httpx.get(f"{url}/", timeout=30)
                assert home.status_code == 200 and "<html" in home.text.lower(), home.text[:500]
                ran += 1
                continue
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=work, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S,
            )  # fmt: skip
            output = done.stdout + done.stderr
            assert done.returncode == 0, f"README line {block.line} exited {done.returncode}:\n{text}\n---\n{output}"
            assert "Traceback" not in output, f"README line {block.line}:\n{output}"
            ran += 1
        if server is not None:
            assert "Traceback" not in server.output(), server.output()
    finally:
        if server is not None:
            server.stop()
    assert ran >= 6  # the demo served, its token, a matter opened, the copy, a plan run, its tests


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("<!-- readme-test: skip (needs a tenant) -->\n```sh\nx\n```\n", ("skip", "(needs a tenant)")),
        ("<!-- readme-test: write a/b.js -->\n\n```js\nx\n```\n", ("write", "a/b.js")),
        ("```sh\nx\n```\n", ("", "")),
        ("<!-- readme-test: printed by operate serve -->\n```\nx\n```\n", ("printed by operate serve", "")),
    ],
)
def test_the_marker_rule_reads_the_comment_before_a_block(markdown, expected):
    (block,) = readme_blocks(markdown)
    assert (block.marker, block.arg) == expected


def _layout() -> dict[str, str]:
    """The README's Layout block: top-level folder -> its description (the lines under it)."""
    text = README.read_text("utf-8").split("## Layout", 1)[1]
    block = text.split("```", 2)[1]
    layout: dict[str, str] = {}
    current = ""
    for line in block.splitlines():
        head = re.match(r"^([\w.-]+)/\s*(.*)$", line)
        if head:
            current = head[1]
            layout[current] = head[2]
        elif current:
            layout[current] += " " + line.strip()
    return layout


def _tracked() -> list[str]:
    """git's tracked files; in an export without .git, the files on disk less caches and build output."""
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.splitlines()
    skip = re.compile(r"(^|/)(\.[^/]*|__pycache__|[^/]*\.egg-info|build|dist)(/|$)")
    return [
        p.relative_to(ROOT).as_posix()
        for p in ROOT.rglob("*")
        if p.is_file() and not skip.search(p.relative_to(ROOT).as_posix())
    ]


def test_the_readme_layout_matches_the_tree():
    """Every top-level folder is in the Layout; every subfolder of one is named in its line; every folder
    and file its line names exists in it."""
    tracked = _tracked()
    layout = _layout()
    tops = {path.split("/")[0] for path in tracked if "/" in path and not path.startswith(".")}
    assert tops <= set(layout), f"top-level folders missing from the README's Layout: {sorted(tops - set(layout))}"
    for top, text in layout.items():
        files = [p[len(top) + 1 :] for p in tracked if p.startswith(f"{top}/")]
        assert files, f"Layout names {top}/, which holds no tracked file"
        subfolders = {f.split("/")[0] for f in files if "/" in f}
        named = set(re.findall(r"(?<![\w/.-])([\w-]+)/", text))
        missing = subfolders - named
        assert not missing, f"README Layout, {top}/: its subfolders {sorted(missing)} are not named"
        for path in re.findall(r"(?<![\w/.-])((?:[\w-]+/)+)", text):
            assert any(f.startswith(path) or f"/{path}" in f"/{f}" for f in files), (
                f"README Layout, {top}/: names {path}, which is not in {top}/"
            )
        names = {Path(f).name for f in files}
        for name in re.findall(r"(?<![\w/.-])([\w-]+\.(?:py|md|js|json))\b", text):
            assert name in names, f"README Layout, {top}/: names {name}, which is not in {top}/"
