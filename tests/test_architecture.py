"""The house, checked from its imports: no module of the product imports, however indirectly, a module
that imports it back (function-level imports count; `if TYPE_CHECKING:` blocks do not, they never run)."""

from __future__ import annotations

import ast
import re
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


# -- each area owns its tables ------------------------------------------------------------------------------
# The tables' owners come from the areas' registrations (emulator/kernel/schema.py: AreaSchema.modules): a
# module may query a table only when it is one of its area's modules. The store's snapshot export, import and
# reset read every table generically (`SELECT * FROM {table}`: no table named, so not counted): the mechanism's.
SQL_STATEMENT = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)\b")
NAMED_AFTER = re.compile(r"\b(?:JOIN|INTO|UPDATE|TABLE|EXISTS)\s+([A-Za-z_]\w*)|\bON\s+([A-Za-z_]\w*)\s*\(")
FROM_LIST = re.compile(
    r"\bFROM\s+(.+?)(?=\b(?:WHERE|ORDER|GROUP|LIMIT|JOIN|LEFT|INNER|CROSS|ON|UNION|HAVING|RETURNING)\b|[;()]|$)",
    re.S,
)

# Reads of another area's tables not yet moved behind a read of the owning area, each with why; the list only
# shrinks (an entry the code no longer needs fails the test: take it out).
NOT_YET_MOVED: dict[tuple[str, str], str] = {}


def tables_named(sql: str) -> set[str]:
    """The table names an SQL text names after FROM (and its comma list), JOIN, INTO, UPDATE, TABLE, ON t(."""
    if not SQL_STATEMENT.search(sql):
        return set()
    found = {a or b for a, b in NAMED_AFTER.findall(sql)}
    for listed in FROM_LIST.findall(sql):
        found |= {part.split()[0] for part in listed.split(",") if part.split()}
    return found


def _sql_strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string constant and f-string (its literal parts) with its line; docstrings are no SQL."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    inside_fstrings = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else " {} " for v in node.values)
            out.append((node.lineno, text))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | inside_fstrings
        ):
            out.append((node.lineno, node.value))
    return out


def _may_query(module: str, owners: tuple[str, ...]) -> bool:
    return any(module == o or module.startswith(o + ".") for o in owners)


def foreign_tables(module: str, source: str, owner: dict[str, tuple[str, ...]]) -> list[tuple[int, str]]:
    """(line, table) for each table of another area the module's SQL names."""
    found = []
    for line, text in _sql_strings(ast.parse(source)):
        for table in sorted(tables_named(text)):
            if table in owner and not _may_query(module, owner[table]):
                found.append((line, table))
    return found


def test_no_area_queries_another_area_s_tables():
    from emulator.core import SCHEMA

    owner = {table: area.modules for table, area in SCHEMA.owner.items()}
    problems, still_needed = [], set()
    for name, path in sorted(_modules().items()):
        for line, table in foreign_tables(name, path.read_text("utf-8"), owner):
            if (name, table) in NOT_YET_MOVED:
                still_needed.add((name, table))
                continue
            where = path.relative_to(ROOT)
            problems.append(
                f"{where}:{line} queries {table}, a table of {SCHEMA.owner[table].area} "
                f"({', '.join(owner[table])}): ask that area for a read instead"
            )
    assert problems == [], "\n".join(problems)
    assert set(NOT_YET_MOVED) - still_needed == set(), "moved: take these out of NOT_YET_MOVED"


def test_the_table_check_names_the_file_line_and_table():
    owner = {"work_items": ("emulator.workitems",), "events": ("emulator.kernel.events",)}
    source = (
        "def page(conn, t):\n"
        '    """Reads work items FROM the store (a docstring: no SQL)."""\n'
        '    conn.execute("SELECT e.number, w.title FROM events e LEFT JOIN work_items w ON w.id = e.sharedo_id")\n'
        '    conn.execute(f"SELECT * FROM {t}")  # the generic read names no table\n'
        '    return conn.execute("SELECT n FROM events, work_items WHERE 1=1")\n'
    )
    assert foreign_tables("emulator.web.events", source, owner) == [
        (3, "events"),
        (3, "work_items"),
        (5, "events"),
        (5, "work_items"),
    ]
    assert foreign_tables("emulator.workitems", source, owner) == [(3, "events"), (5, "events")]
    assert "work_items" in tables_named("CREATE INDEX work_items_type ON work_items(type)")


def test_the_kernel_imports_nothing_above_it():
    """The store applies the schema the root hands it: the kernel names no area (nor anything above it)."""
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith("emulator.kernel"):
            above = sorted(t for t in targets if not t.startswith("emulator.kernel"))
            assert above == [], f"{name} imports {above}"


ACCESSOR = "emulator.context"  # the one module that reads `app.extensions` for the emulator


def extensions_reads(source: str) -> list[int]:
    """Lines that read `<something>.extensions` (`current_app.extensions[...]`, `app.extensions.get(...)`):
    the service-locator lookups. Writing a key (`app.extensions[KEY] = ...`) is not a read."""
    tree = ast.parse(source)
    written = {
        id(target.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Subscript)
    }
    return sorted(
        {
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "extensions" and id(node) not in written
        }
    )


def test_the_emulator_is_looked_up_in_one_place():
    """Views reach the emulator through `emulator.context.current_emulator()` (or are built with their parts);
    no other module of the emulator, plans or widgets reads `app.extensions` (the fakes keep their own)."""
    found = []
    for name, path in _modules().items():
        if name == ACCESSOR or name.startswith(FAKES):
            continue
        found += [f"{path.relative_to(ROOT)}:{line}" for line in extensions_reads(path.read_text("utf-8"))]
    assert found == [], "read app.extensions through emulator/context.py instead: " + ", ".join(found)
    assert extensions_reads((ROOT / "emulator" / "context.py").read_text("utf-8")) != []  # the one place reads it


def test_the_lookup_check_names_reads_not_writes():
    source = 'def f():\n    current_app.extensions["operate"] = 1\n    return current_app.extensions.get("x")\n'
    assert extensions_reads(source) == [3]


# Built with their parts by create_app (`blueprint(<parts>)`, `web.init_app`): they never look the emulator up.
BUILT_WITH_PARTS = ("emulator.api", "emulator.web")


def test_the_api_and_the_pages_are_built_with_their_parts():
    """No blueprint of the API and no page group imports the accessor: each is handed what it serves when
    create_app builds it, so what a route reads is in its factory's signature."""
    graph = import_graph()
    found = sorted(
        name
        for name, targets in graph.items()
        if name.startswith(BUILT_WITH_PARTS) and (ACCESSOR in targets or "emulator.core" in targets)
    )
    assert found == [], "build these with the parts they serve instead of looking the emulator up: " + ", ".join(found)
