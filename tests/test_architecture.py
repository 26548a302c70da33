"""The house, checked from its imports: no module of the product imports, however indirectly, a module
that imports it back (function-level imports count; `if TYPE_CHECKING:` blocks do not, they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("emulator", "smartplans", "widgets", "pms_adapters")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement except those under `if TYPE_CHECKING:`."""
    out: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in _runtime_imports(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
                base = ".".join(filter(None, [base, node.module or ""]))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_back():
    graph = import_graph()
    assert len(graph) > 50  # the walk found the product
    assert "smartplans.executions" in graph["emulator.core"]  # and its edges: the root composes the parts
    assert cycles(graph) == []


def test_the_check_finds_a_cycle_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_domain_never_builds_the_app():
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith(("smartplans.", "widgets.", "pms_adapters.")) and name not in ("smartplans.testing",):
            assert "emulator.app" not in targets and "emulator.core" not in targets, name


FAKES = "pms_adapters.fakes"
FAKES_MAY_USE = ("emulator.kernel",)  # the one part of the emulator a fake server may build on
OTHER_PACKAGES = ("emulator", "smartplans", "widgets")


def _resolved_imports(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, module) for each runtime import of a module, relative imports made absolute."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: list[tuple[int, str]] = []
    for node in _runtime_imports(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        else:
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            base = ".".join(filter(None, [base, node.module or ""]))
            # `from emulator import core` imports emulator.core: name the module, not only its package
            out += [(node.lineno, f"{base}.{a.name}" if "." not in base else base) for a in node.names]
    return out


def foreign_imports(modules: dict[str, Path]) -> list[str]:
    """`file:line imports module` for every import of the emulator (but its kernel), smartplans or widgets."""
    found = []
    for name, path in sorted(modules.items()):
        for line, target in _resolved_imports(name, path):
            top = target.split(".")[0]
            allowed = any(target == k or target.startswith(k + ".") for k in FAKES_MAY_USE)
            if top in OTHER_PACKAGES and not allowed:
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                found.append(f"{shown}:{line} imports {target}")
    return found


def test_the_fakes_import_nothing_of_the_emulator_but_its_kernel():
    """The demo PMS and the fake Clio are servers of their own (moto-shaped): served alone by
    `operate pms demo` / `operate fake clio`, they must not pull in the emulator they stand beside."""
    fakes = {name: path for name, path in _modules().items() if name == FAKES or name.startswith(FAKES + ".")}
    assert {"pms_adapters.fakes.demo_pms.app", "pms_adapters.fakes.clio.app"} <= set(fakes)  # the walk found them
    assert foreign_imports(fakes) == []


def test_the_fakes_check_names_the_file_and_the_import(tmp_path):
    bad = tmp_path / "pms_adapters" / "fakes" / "demo_pms" / "pages.py"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "from emulator.kernel.clock import Clock\nfrom ...base import PmsError\n\n\n"
        "def page():\n    from emulator.web.frame import render_page\n"
    )
    problems = foreign_imports({"pms_adapters.fakes.demo_pms.pages": bad})
    assert problems == [f"{bad}:6 imports emulator.web.frame"]
