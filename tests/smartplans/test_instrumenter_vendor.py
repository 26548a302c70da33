"""The plan instrumenter shipped in smartplans/coverage/instrumenter/ is exactly what the pinned npm releases build.

Offline: the shipped files match pins.json, the lock names no registry host, and the licence file names every
package that has code in the bundle. From the registry: scripts/build_instrumenter.py runs `npm ci` (each
tarball's sha512 checked) and esbuild, and the result is compared with the shipped files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys

from tests.helpers.paths import ROOT

HOME = ROOT / "smartplans" / "coverage" / "instrumenter"


def pins() -> dict:
    return json.loads((HOME / "pins.json").read_text(encoding="utf-8"))


def test_shipped_files_match_their_pins():
    shipped = {p.name for p in HOME.iterdir() if p.is_file()} - {"pins.json"}
    assert shipped == set(pins()["files"])
    for name, digest in pins()["files"].items():
        assert hashlib.sha256((HOME / name).read_bytes()).hexdigest() == digest, name


def test_the_build_is_pinned_to_exact_versions_from_no_named_registry():
    manifest = json.loads((HOME / "build" / "package.json").read_text(encoding="utf-8"))
    for name, version in {**manifest["dependencies"], **manifest["devDependencies"]}.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned to one release: {version}"
    lock_text = (HOME / "build" / "package-lock.json").read_text(encoding="utf-8")
    lock = json.loads(lock_text)
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    assert '"resolved"' not in lock_text  # npm ci takes each name@version from whatever registry is configured
    assert all(entry.get("integrity", "").startswith("sha512-") for key, entry in lock["packages"].items() if key)


def test_every_bundled_package_is_named_with_its_licence():
    licences = (HOME / "THIRD-PARTY-LICENSES.txt").read_text(encoding="utf-8")
    named = dict(re.findall(r"^(@?[\w.-]+(?:/[\w.-]+)?) (\d+\.\d+\.\d+\S*) \(", licences, re.M))
    lock = json.loads((HOME / "build" / "package-lock.json").read_text(encoding="utf-8"))
    for direct in ("istanbul-lib-instrument", "@babel/core", "path-browserify"):
        assert named[direct] == lock["packages"][f"node_modules/{direct}"]["version"]
    for name, version in named.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    assert "esbuild" not in named  # a build tool, not code in the bundle


def test_the_pinned_releases_build_the_shipped_bytes(tmp_path):
    assert shutil.which("npm"), "npm is required to rebuild the instrumenter from the registry"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_instrumenter.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    for name in pins()["files"]:
        assert (tmp_path / name).read_bytes() == (HOME / name).read_bytes(), f"{name} differs from what the pins build"
