"""Where the tests find the repository and their fixtures, said once: the test files live in tests/<area>/,
so a path taken relative to a test file would depend on how deep it sits."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: README.md, pyproject.toml, emulator/
FIXTURES = ROOT / "tests" / "fixtures"  # the official samples, look-alikes, exports and golden files
