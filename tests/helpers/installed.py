"""The package as a user gets it: a wheel built from this tree, installed in a fresh venv of a given Python,
serving the demo from that venv only (never from this tree).

Building and installing reach the package registry (pip's own configuration); everything else stays on
127.0.0.1. The wheel is built once per test session and shared by pytest-xdist's workers (an OS file lock
on a folder beside their temporary folders); each Python version gets one venv.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from emulator.kernel.datadir import DataDirInUse, DataDirLock
from tests.helpers.paths import ROOT

PACKAGES = ("emulator", "smartplans", "widgets", "pms_adapters")  # pyproject's packages.find include
# Not part of a package: the checkout's own folders at its top (a vendored library has its own dist/ and
# build/, the examples their tests/), and caches or what a build leaves anywhere.
NOT_SOURCE_AT_TOP = {".git", "tests", "build", "dist", ".operate", ".venv", "node_modules", ".pytest_cache"}
NOT_SOURCE = ("*.egg-info", "__pycache__", "*.pyc", ".ruff_cache", ".mypy_cache")
VERSIONS_LINE = re.compile(r"Python ((?:3\.\d+, )*3\.\d+ or 3\.\d+)")
READY = re.compile(r"ready on (http://127\.0\.0\.1:\d+)")
WAIT_SECONDS = 900  # for another worker's build, or a server's first line: a bound on a hang, not a timing


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def readme_versions() -> list[list[str]]:
    """Each place the README names the supported Pythons ("Python 3.10, 3.11, 3.12 or 3.13")."""
    said = VERSIONS_LINE.findall((ROOT / "README.md").read_text("utf-8"))
    return [re.findall(r"3\.\d+", found) for found in said]


def supported_versions() -> list[str]:
    """The Pythons the README says the product runs on (else the oldest `requires-python` allows)."""
    said = readme_versions()
    if said:
        return said[0]
    return [re.search(r"3\.\d+", pyproject()["project"]["requires-python"]).group(0)]


def classifier_versions() -> list[str]:
    """The `Programming Language :: Python :: 3.x` classifiers, oldest first."""
    found = [c.rsplit(" :: ", 1)[1] for c in pyproject()["project"].get("classifiers", [])]
    versions = [v for v in found if re.fullmatch(r"3\.\d+", v)]
    return sorted(versions, key=lambda v: int(v.split(".")[1]))


def package_files() -> list[str]:
    """Every file of the packages in this tree, as a path in a wheel (placeholders such as .keep aside)."""
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            relative = path.relative_to(ROOT)
            hidden = any(p.startswith(".") or p == "__pycache__" for p in relative.parts)
            if path.is_file() and not hidden and path.suffix != ".pyc":
                files.append(relative.as_posix())
    return files


def _candidates(version: str) -> list[str]:
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = [sys.executable] if f"{sys.version_info[0]}.{sys.version_info[1]}" == version else []
    found += sorted(glob.glob(str(pyenv / "versions" / f"{version}.*" / "bin" / "python")), reverse=True)
    found += sorted(glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python"), reverse=True)
    for name in (f"python{version}", f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        where = shutil.which(name)
        if where:
            found.append(where)
    return list(dict.fromkeys(found))


def find_python(version: str) -> tuple[str | None, list[str]]:
    """A working interpreter of `version` (run, not just found: a pyenv shim may answer with an error), and
    every candidate looked at."""
    candidates = _candidates(version)
    probe = "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"
    for candidate in candidates:
        try:
            result = subprocess.run([candidate, "-c", probe], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0 and result.stdout.strip() == version:
            return candidate, candidates
    return None, candidates


def shared_dir(tmp_path_factory) -> Path:
    """A folder every xdist worker of this session sees (the parent of their own), else the session's."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def held(folder: Path) -> Iterator[None]:
    """The folder's OS lock (released if its holder dies), waiting while another worker holds it."""
    lock = DataDirLock(folder)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            lock.acquire("tests/helpers/installed.py")
            break
        except DataDirInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        yield
    finally:
        lock.release()


def run(args: list[str], **options) -> subprocess.CompletedProcess[str]:
    """A command that must succeed; its output is the failure message when it does not."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    result = subprocess.run(args, capture_output=True, text=True, timeout=WAIT_SECONDS, env=env, **options)
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def built_wheel(tmp_path_factory) -> tuple[Path, float]:
    """`python -m build --wheel` on a copy of this tree (a build writes build/ and *.egg-info beside its
    sources); the wheel and the seconds its build took (0 when another worker had built it)."""
    shared = shared_dir(tmp_path_factory) / "operate-wheel"
    with held(shared):
        found = sorted((shared / "dist").glob("operate_toolkit-*.whl"))
        if found:
            return found[0], 0.0
        started = time.monotonic()
        source = shared / "source"
        shutil.rmtree(source, ignore_errors=True)
        anywhere = shutil.ignore_patterns(*NOT_SOURCE)

        def ignore(folder: str, names: list[str]) -> set[str]:
            top = NOT_SOURCE_AT_TOP & set(names) if Path(folder) == ROOT else set()
            return top | set(anywhere(folder, names))

        shutil.copytree(ROOT, source, ignore=ignore)
        run([sys.executable, "-m", "build", "--wheel", "--outdir", str(shared / "dist"), str(source)], cwd=source)
        (wheel,) = (shared / "dist").glob("operate_toolkit-*.whl")
        return wheel, time.monotonic() - started


def venv_with(python: str, wheel: Path, where: Path) -> Path:
    """A fresh venv of `python` with the wheel installed (no extras, no editable install); its bin folder."""
    run([python, "-m", "venv", str(where)])
    bin_dir = where / ("Scripts" if os.name == "nt" else "bin")
    run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=where)
    return bin_dir


class ServedFrom:
    """`operate serve --demo` run by a venv's own `operate`, in an empty folder, on a free loopback port."""

    def __init__(self, bin_dir: Path, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        self.process = subprocess.Popen(
            [str(bin_dir / "operate"), "serve", "--demo", "--port", "0", "--data-dir", str(workdir / "data")],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self.wait_for(READY).group(1)
        self.wait_for(re.compile(r"^\s*clock:"))

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # the end of the output
            self._changed.notify_all()

    def wait_for(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The first line matching `pattern` (a failure naming what was printed if the server ends first)."""
        deadline = time.monotonic() + WAIT_SECONDS
        seen = 0
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if line == "":
                        raise AssertionError(f"the server ended before {pattern.pattern!r}:\n{''.join(self.lines)}")
                    if match := pattern.search(line):
                        return match
                seen = len(self.lines)
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {pattern.pattern!r} from the server:\n{''.join(self.lines)}")
                self._changed.wait(timeout=1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
