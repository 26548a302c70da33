"""The house, checked from its imports: no module of the product imports, however indirectly, a module
that imports it back (function-level imports count; `if TYPE_CHECKING:` blocks do not, they never run)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _house_script():
    """scripts/house.py, loaded as a module (scripts/ is no package): the picture and these checks read the
    imports one way."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("scripts_house", ROOT / "scripts" / "house.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


HOUSE = _house_script()
_modules = HOUSE.modules  # every product module by its dotted name
_runtime_imports = HOUSE.runtime_imports  # import statements but those under `if TYPE_CHECKING:`


def import_graph() -> dict[str, set[str]]:
    """Each product module -> the product modules it imports at run time (itself and its packages left out)."""
    modules = _modules()
    known = set(modules)
    return {
        name: {t for t in HOUSE.imported(name, path, known) if t != name and not name.startswith(t + ".")}
        for name, path in modules.items()
    }


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


# -- dependencies point one way ------------------------------------------------------------------------------
# The emulator's kernel and areas (floor 1) import none of the sibling packages built on them (floor 2); only the
# composition root and the surfaces that wire and serve them (floor 3) do. Each entry says why it needs them; an
# entry that no longer imports any fails the test: take it out (context.py and api/ need none).
SIBLINGS = ("smartplans", "widgets", "pms_adapters")
WIRED_AT_THE_TOP: dict[str, str] = {
    "emulator.app": "registers widgets.pages' blueprint beside the API's",
    "emulator.core": "composes the SmartPlans engine, its schema and in-process host, and the widgets' IDE roots",
    "emulator.cli": "commands that serve the fakes (pms demo, fake clio), push to a PMS and run plans",
    "emulator.web": "pages that read plan executions and outlines, widget manifests, sign-in and the demo PMS",
    "emulator.integrations": "the Clio sync's client, the fake Clio, the demo PMS's delivery worker, PMS_PARTS",
}


def _wired_at_the_top(name: str) -> str | None:
    return next((top for top in WIRED_AT_THE_TOP if name == top or name.startswith(top + ".")), None)


def upward_imports(modules: dict[str, Path]) -> tuple[list[str], set[str]]:
    """`file:line imports module` for each emulator module outside WIRED_AT_THE_TOP that imports a sibling
    package, and the WIRED_AT_THE_TOP entries seen importing one."""
    found, used = [], set()
    for name, path in sorted(modules.items()):
        if not name.startswith("emulator."):
            continue
        for line, target in _resolved_imports(name, path):
            if target.split(".")[0] not in SIBLINGS:
                continue
            top = _wired_at_the_top(name)
            if top is not None:
                used.add(top)
            else:
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                found.append(f"{shown}:{line} imports {target}")
    return found, used


def test_only_the_root_and_the_surfaces_import_the_sibling_packages():
    """An area (work items, linked services, the solution, ...) is handed what it uses of plans, widgets and
    PMS packages by the root (e.g. linked services get PMS_PARTS from emulator/integrations/pms_parts.py)."""
    found, used = upward_imports(_modules())
    assert found == [], "hand these in from the composition root instead:\n" + "\n".join(found)
    assert set(WIRED_AT_THE_TOP) - used == set(), "imports no sibling package any more: take it out"


def test_the_upward_check_names_the_file_and_the_import(tmp_path):
    bad = tmp_path / "emulator" / "workitems.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from .kernel.clock import Clock\n\n\ndef f():\n    from smartplans.plans import outline\n")
    cli = tmp_path / "emulator" / "cli" / "run.py"
    cli.parent.mkdir()
    cli.write_text("from smartplans.plans import outline\n")
    found, used = upward_imports({"emulator.workitems": bad, "emulator.cli.run": cli})
    assert found == [f"{bad}:5 imports smartplans.plans"] and used == {"emulator.cli"}


def test_the_picture_of_the_house_is_the_one_the_imports_draw_today():
    house = HOUSE
    drawn = house.diagram()
    assert "root --> surfaces" in drawn and "fakes --> client" in drawn  # it found the rooms and their arrows
    shown = house.block((ROOT / "docs" / "architecture.md").read_text("utf-8"))
    assert shown == drawn, "docs/architecture.md's picture of the house is stale: run python scripts/house.py"


def test_the_picture_draws_an_arrow_back_up_dashed_and_refuses_a_module_in_no_room():
    house = HOUSE
    assert "harness -.-> root" in house.diagram()  # widgets' views ask emulator/context.py: floor 2 to 3
    try:
        house.room_of("tests.helpers")
    except SystemExit as exc:
        assert "tests.helpers is in no room" in str(exc)
    else:
        raise AssertionError("a module in no room was drawn")


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


# -- tests import helpers, never another test module ----------------------------------------------------------
TESTS = ROOT / "tests"


def imports_of_test_modules(tests: Path = TESTS) -> list[str]:
    """`file:line imports module` for each import of a test module (tests/**/test_*.py) by a file under `tests`:
    what tests share lives in tests/helpers/ or an area's conftest.py, so each test module runs on its own."""
    found = []
    for path in sorted(tests.rglob("*.py")):
        package = path.relative_to(tests.parent).with_suffix("").parts[:-1]
        for node in _runtime_imports(ast.parse(path.read_text("utf-8"))):
            for target in HOUSE.import_targets(node, package):
                if (
                    target.split(".")[-1].startswith("test_")
                    and (tests.parent / (target.replace(".", "/") + ".py")).is_file()
                ):
                    found.append(f"{path.relative_to(tests.parent)}:{node.lineno} imports {target}")
    return found


def test_no_test_module_imports_another():
    assert len(list(TESTS.rglob("test_*.py"))) > 50  # the walk found the suite
    found = imports_of_test_modules()
    assert found == [], "move what they share to tests/helpers/ (or the area's conftest.py):\n" + "\n".join(found)


def test_the_test_import_check_names_the_file_and_the_module(tmp_path):
    suite = tmp_path / "tests"
    (suite / "clio").mkdir(parents=True)
    (suite / "clio" / "test_sync.py").write_text("def connect():\n    pass\n")
    (suite / "clio" / "conftest.py").write_text("from tests.helpers.clio import env\n")
    (suite / "kernel").mkdir()
    (suite / "kernel" / "test_text.py").write_text(
        "import json\nfrom tests.clio.test_sync import connect\nfrom ..clio import test_sync\n"
    )
    assert imports_of_test_modules(suite) == [
        "tests/kernel/test_text.py:2 imports tests.clio.test_sync",
        "tests/kernel/test_text.py:3 imports tests.clio.test_sync",
    ]


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
