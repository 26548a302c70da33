"""docs/fidelity.md says what is emulated; each such claim must be backed by a test that exists and that
touches the member it names (in its own file or in a fixture), so the page cannot drift from the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "fidelity.md"
FIXTURES = ROOT / "tests" / "fixtures"
STATUSES = {"emulated", "stand-in", "not emulated"}
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def rows() -> list[tuple[str, str, str, str]]:
    """(section, member, status, exercised-by cell) for every table row of the page."""
    out = []
    section = ""
    for line in DOC.read_text("utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("|") and not line.startswith("|---") and not line.startswith("| Member"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            assert len(cells) >= 3, f"docs/fidelity.md: a row needs Member | Status | Exercised by: {line!r}"
            out.append((section, cells[0], cells[1].strip("*_ ").lower(), cells[2]))
    return out


def last_name(member: str) -> str:
    """`$ui.widgets.loadWidget(...)` → `loadWidget`; `POST /api/sharedo/{id}/phase/jumpTo` → `jumpTo`."""
    text = re.sub(r"\(.*$", "", member.strip("` "))
    words = [w.strip("?*<>[]`") for w in re.split(r"[./\s]+", text) if w and not w.startswith("{")]
    words = [w for w in words if re.search(r"[A-Za-z]", w)]
    return words[-1] if words else text


def defines(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text("utf-8"))
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in ast.walk(tree))


def fixtures_text() -> str:
    return "\n".join(
        p.read_text("utf-8", errors="replace")
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.suffix in {".js", ".json", ".html", ".css", ".toml", ".py"} and p.stat().st_size < 10**6
    )


def test_every_row_has_a_known_status():
    for section, member, status, _ in rows():
        assert status in STATUSES, f"docs/fidelity.md, {section}: {member} has status {status!r}, not one of {STATUSES}"


def test_every_emulated_member_is_exercised_by_a_test_that_exists():
    fixtures = None
    for section, member, status, cell in rows():
        if status == "not emulated":
            continue
        refs = TEST_REF.findall(cell)
        assert refs, f"docs/fidelity.md, {section}: {member} is {status} but names no test as `tests/x.py::test_y`"
        name = last_name(member)
        seen = False
        for file, test in refs:
            path = ROOT / file
            assert path.is_file(), f"docs/fidelity.md, {section}: {member}: {file} does not exist"
            assert defines(path, test), f"docs/fidelity.md, {section}: {member}: {file} has no test {test}"
            seen = seen or name in path.read_text("utf-8")
        if not seen:
            fixtures = fixtures if fixtures is not None else fixtures_text()
            seen = name in fixtures
        assert seen, f"docs/fidelity.md, {section}: {member}: {name!r} appears neither in {refs} nor in tests/fixtures"


def test_last_name_reads_members_and_routes():
    assert last_name("`$ui.widgets.loadWidget(...)`") == "loadWidget"
    assert last_name("`POST /api/sharedo/{id}/phase/jumpTo`") == "jumpTo"
    assert last_name("`Sharedo?.Core?.Case`") == "Case"


def test_every_area_lists_what_it_emulates_and_what_not():
    sections = {}
    for section, _, status, _ in rows():
        sections.setdefault(section, set()).add(status)
    headings = [line[3:].strip() for line in DOC.read_text("utf-8").splitlines() if line.startswith("## ")]
    for heading in headings:
        assert "emulated" in sections.get(heading, set()), f"docs/fidelity.md, {heading}: lists nothing emulated"
    assert any("not emulated" in statuses for statuses in sections.values()), "the page names nothing not emulated"
