"""Checks shared by the folders of pinned npm files the harness ships (widgets/static/vendor/, widgets/static/axe/):
every pinned file is there with its sha256, nothing unpinned is beside them, and package.json, the lock and
pins.json name the same releases."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from widgets.vendor import pinned_paths

MANIFESTS = {"package.json", "package-lock.json", "pins.json"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_json(root: Path, name: str) -> dict:
    return json.loads((root / name).read_text(encoding="utf-8"))


def assert_shipped_with_sha256(root: Path, pins: list[dict], records: Callable[[dict], list[dict]]) -> None:
    """Each of a pin's `records(entry)` ({path, sha256}) is shipped under root/<package>/ with that sha256."""
    for entry in pins:
        for record in records(entry):
            path = root / entry["package"] / record["path"]
            assert path.is_file(), path
            assert sha256(path) == record["sha256"], path


def assert_nothing_unpinned(root: Path, pins: list[dict]) -> None:
    pinned = {f"{e['package']}/{p}" for e in pins for p in pinned_paths(e)}
    shipped = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert shipped - MANIFESTS == pinned
    assert not (root / "node_modules").exists()


def assert_manifest_lock_and_pins_agree(root: Path, pins: list[dict], lock_holds: str) -> None:
    """package.json depends on exactly the pinned releases, and the lock holds them alone (`lock_holds` says why)."""
    manifest, lock = read_json(root, "package.json"), read_json(root, "package-lock.json")
    by_name = {p["package"]: p for p in pins}
    assert manifest["private"] is True
    assert manifest["dependencies"] == {name: p["version"] for name, p in by_name.items()}
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    locked = {k.removeprefix("node_modules/"): v for k, v in lock["packages"].items() if k}
    assert set(locked) == set(by_name), lock_holds
    for name, entry in by_name.items():
        assert (locked[name]["version"], locked[name]["integrity"]) == (entry["version"], entry["integrity"]), name


def assert_lock_names_no_registry_host(root: Path) -> None:
    text = (root / "package-lock.json").read_text(encoding="utf-8")
    assert not re.search(r"https?://", text)
    assert '"resolved"' not in text


def npm_ci(root: Path, into: Path) -> Path:
    """`npm ci` of root's package.json and lock in `into` (from the registry, scripts off): its node_modules."""
    npm = shutil.which("npm")
    assert npm, f"npm is required to check {root.name}'s files against the registry"
    for name in ("package.json", "package-lock.json"):
        shutil.copy(root / name, into / name)
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    result = subprocess.run(command, cwd=into, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"npm ci failed ({result.returncode}):\n{result.stderr}"
    return into / "node_modules"
