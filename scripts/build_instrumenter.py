"""Build smartplans/coverage/instrumenter/istanbul-instrument.js from the pinned npm releases.

    python scripts/build_instrumenter.py            # write the bundle and its licence file
    python scripts/build_instrumenter.py --out DIR  # write them to DIR instead (the registry test compares)

The packages and their versions are pinned in smartplans/coverage/instrumenter/build/package.json and
package-lock.json (`npm ci` checks every tarball's sha512 integrity); esbuild, pinned there too, bundles the
entry point with the Node.js built-ins Babel asks for replaced by the small shims beside it. The same inputs
give the same bytes, so tests/smartplans/test_instrumenter_vendor.py can rebuild and compare.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / "smartplans" / "coverage" / "instrumenter"
BUILD = HOME / "build"
BUNDLE = "istanbul-instrument.js"
LICENCES = "THIRD-PARTY-LICENSES.txt"


def build(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="operate-instrumenter-") as tmp:
        work = Path(tmp)
        for name in ("package.json", "package-lock.json", "entry.js"):
            shutil.copy2(BUILD / name, work / name)
        shutil.copytree(BUILD / "shims", work / "shims")
        run(["npm", "ci", "--ignore-scripts=false", "--no-audit", "--no-fund", "--loglevel=error"], work)
        esbuild = work / "node_modules" / ".bin" / "esbuild"
        run(
            [
                str(esbuild),
                "entry.js",
                "--bundle",
                "--format=iife",
                "--platform=browser",
                "--target=es2020",
                "--minify",
                "--legal-comments=none",
                "--charset=utf8",
                "--alias:path=path-browserify",
                "--alias:crypto=./shims/crypto.js",
                "--alias:assert=./shims/assert.js",
                "--inject:./shims/process.js",
                '--define:process.env.NODE_ENV="production"',
                "--define:process.env.BABEL_TYPES_8_BREAKING=false",
                "--metafile=meta.json",
                f"--outfile={BUNDLE}",
                "--log-level=error",
            ],
            work,
        )
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy2(work / BUNDLE, out / BUNDLE)
        (out / LICENCES).write_text(licences(work), encoding="utf-8")


def licences(work: Path) -> str:
    """Every npm package with code in the bundle, with its version and licence text (from esbuild's metafile)."""
    meta = json.loads((work / "meta.json").read_text(encoding="utf-8"))
    packages: set[Path] = set()
    for source in meta["inputs"]:
        parts = Path(source).parts
        if "node_modules" not in parts:
            continue
        at = len(parts) - 1 - parts[::-1].index("node_modules")
        name = parts[at + 1 : at + 3] if parts[at + 1].startswith("@") else parts[at + 1 : at + 2]
        packages.add(work.joinpath(*parts[: at + 1], *name))
    blocks = [
        "Third-party code in istanbul-instrument.js, bundled by scripts/build_instrumenter.py from the npm releases\n"
        "pinned in build/package-lock.json. Each package's name, version, licence and licence text follow.\n"
    ]
    for folder in sorted(packages, key=lambda p: p.relative_to(work).as_posix()):
        manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.upper().startswith(("LICENSE", "LICENCE")))
        text = found[0].read_text(encoding="utf-8") if found else None
        if text is None:
            raise SystemExit(f"build_instrumenter: {manifest['name']} {manifest['version']} ships no licence file")
        rule = "=" * 78
        title = f"{manifest['name']} {manifest['version']} ({manifest.get('license')})"
        blocks.append(f"{rule}\n{title}\n{rule}\n{text.strip()}\n")
    return "\n".join(blocks)


def run(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"build_instrumenter: {' '.join(argv[:2])} failed ({done.returncode}):\n{done.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=HOME, help=f"where to write {BUNDLE} (default: {HOME.relative_to(ROOT)})"
    )
    args = parser.parse_args(argv)
    if shutil.which("npm") is None:
        print("build_instrumenter: needs Node.js and npm on PATH", file=sys.stderr)
        return 2
    build(args.out)
    print(f"wrote {args.out / BUNDLE} and {args.out / LICENCES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
