"""Coverage reports: LCOV (editors, Codecov, Coveralls), Cobertura XML (GitLab, Jenkins, Azure) and a table.

Both formats are written here rather than by istanbul-reports, from the per-file data of data.py: they are a
few lines each, and the data has already been mapped back to the solution's own files.
"""

from __future__ import annotations

import time
from pathlib import Path
from xml.etree import ElementTree as ET

from .data import CoverageData, FileCoverage, percent


def lcov(data: CoverageData) -> str:
    """The LCOV tracefile: one record per file (SF, FN/FNDA, DA, BRDA, with their found/hit counts)."""
    out: list[str] = []
    for path, f in sorted(data.files.items()):
        out += ["TN:", f"SF:{path}"]
        for (name, line), _ in sorted(f.functions.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            out.append(f"FN:{line},{name}")
        for (name, _), calls in sorted(f.functions.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            out.append(f"FNDA:{calls},{name}")
        out += [f"FNF:{len(f.functions)}", f"FNH:{sum(1 for c in f.functions.values() if c)}"]
        for block, ((line, _), arms) in enumerate(sorted(f.branches.items())):
            out += [f"BRDA:{line},{block},{arm},{hits if hits else '-'}" for arm, hits in enumerate(arms)]
        out += [f"BRF:{f.branches_found}", f"BRH:{f.branches_hit}"]
        out += [f"DA:{line},{hits}" for line, hits in sorted(f.lines.items())]
        out += [f"LF:{f.lines_found}", f"LH:{f.lines_hit}", "end_of_record"]
    return "\n".join(out) + "\n"


def cobertura(data: CoverageData, source: Path) -> str:
    """Cobertura's XML: one package, one class per file, each line with its hits and, where a branch starts,
    its condition coverage."""
    root = ET.Element(
        "coverage",
        {
            "line-rate": _rate(data.total("lines_hit"), data.total("lines_found")),
            "branch-rate": _rate(data.total("branches_hit"), data.total("branches_found")),
            "lines-covered": str(data.total("lines_hit")),
            "lines-valid": str(data.total("lines_found")),
            "branches-covered": str(data.total("branches_hit")),
            "branches-valid": str(data.total("branches_found")),
            "complexity": "0",
            "version": "operate-toolkit",
            "timestamp": str(int(time.time() * 1000)),
        },
    )
    ET.SubElement(ET.SubElement(root, "sources"), "source").text = str(source)
    package = ET.SubElement(
        ET.SubElement(root, "packages"),
        "package",
        {
            "name": "solution",
            "line-rate": _rate(data.total("lines_hit"), data.total("lines_found")),
            "branch-rate": _rate(data.total("branches_hit"), data.total("branches_found")),
            "complexity": "0",
        },
    )
    classes = ET.SubElement(package, "classes")
    for path, f in sorted(data.files.items()):
        cls = ET.SubElement(
            classes,
            "class",
            {
                "name": path,
                "filename": path,
                "line-rate": _rate(f.lines_hit, f.lines_found),
                "branch-rate": _rate(f.branches_hit, f.branches_found),
                "complexity": "0",
            },
        )
        methods = ET.SubElement(cls, "methods")
        for (name, line), calls in sorted(f.functions.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            method = ET.SubElement(
                methods,
                "method",
                {
                    "name": name,
                    "hits": str(calls),
                    "signature": "",
                    "line-rate": "1.0" if calls else "0.0",
                    "branch-rate": "1.0",
                },
            )
            ET.SubElement(ET.SubElement(method, "lines"), "line", {"number": str(line), "hits": str(calls)})
        lines = ET.SubElement(cls, "lines")
        arms = _arms_by_line(f)
        for line, hits in sorted(f.lines.items()):
            attrs = {"number": str(line), "hits": str(hits), "branch": "false"}
            if line in arms:
                hit, found = arms[line]
                attrs |= {"branch": "true", "condition-coverage": f"{round(percent(hit, found))}% ({hit}/{found})"}
            ET.SubElement(lines, "line", attrs)
    ET.indent(root)
    return (
        '<?xml version="1.0" ?>\n<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">\n'
        + ET.tostring(root, encoding="unicode")
        + "\n"
    )


def table(data: CoverageData, branches: bool = True) -> str:
    """The terminal summary: file, lines %, branches %, and the lines never run (as ranges). Without `branches`
    (a measure that has none, as V8's widget coverage) the column says `-`."""
    rows = [("File", "Lines", "Branches", "Missed lines")]
    for path, f in sorted(data.files.items()):
        rows.append(
            (
                path,
                _pct(f.lines_hit, f.lines_found),
                _pct(f.branches_hit, f.branches_found) if branches else "-",
                ranges(f.missed_lines()),
            )
        )
    rows.append(
        (
            "All files",
            _pct(data.total("lines_hit"), data.total("lines_found")),
            _pct(data.total("branches_hit"), data.total("branches_found")) if branches else "-",
            "",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = []
    for i, (name, lines, branches, missed) in enumerate(rows):
        out.append(f"{name:<{widths[0]}}  {lines:>{widths[1]}}  {branches:>{widths[2]}}  {missed}".rstrip())
        if i == 0 or i == len(rows) - 2:
            out.append("-" * (sum(widths) + 4 + len("Missed lines") + 2))
    return "\n".join(out) + "\n" + workflows_table(data)


def workflows_table(data: CoverageData) -> str:
    """Each visual workflow: how many of its steps, actions and outlets were taken, and which never were."""
    out = []
    for path, flow in sorted(data.workflows.items()):
        counts = [
            f"{what} {sum(1 for v in found.values() if v)}/{len(found)}"
            for what, found in (("steps", flow.steps), ("actions", flow.actions), ("outlets", flow.outlets))
        ]
        never = [f"step {k}" for k, v in flow.steps.items() if not v]
        never += [f"outlet {k}" for k, v in flow.outlets.items() if not v]
        out.append(f"{path}: {', '.join(counts)}" + (f"; never taken: {', '.join(never)}" if never else ""))
    return ("\nVisual workflows\n" + "\n".join(out) + "\n") if out else ""


def ranges(lines: list[int]) -> str:
    """[3, 4, 5, 9] -> "3-5, 9"."""
    out: list[str] = []
    for line in lines:
        if out and int(out[-1].split("-")[-1]) == line - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{line}"
        else:
            out.append(str(line))
    return ", ".join(out)


def _arms_by_line(f: FileCoverage) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for (line, _), arms in f.branches.items():
        hit, found = out.get(line, (0, 0))
        out[line] = (hit + sum(1 for a in arms if a), found + len(arms))
    return out


def _rate(hit: int, found: int) -> str:
    return f"{percent(hit, found) / 100:.4f}"


def _pct(hit: int, found: int) -> str:
    return f"{percent(hit, found):.1f}%"
