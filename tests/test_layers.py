"""The package's layer contracts, checked on the source (every import, function-local ones included).

Top to bottom::

    presentation   cli, render, timeline, testing.demo          (nothing below imports these)
    application    client, config, inputs, pacing
    engine         engine
    infrastructure store.*, transport, proc, clock
    core           policy, scope, venues.*, model, states, errors (no I/O library at all)

    testing.*      the fake venue: its own verification code, never the adapters or the store

plus: only ``transport`` imports requests, only ``store/`` imports SQLAlchemy/alembic/psycopg, only the
presentation imports click/rich, and the import graph has no cycle -- counting function-local imports,
so a local import cannot hide one. ``if TYPE_CHECKING:`` blocks are not imports at run time and are
left out.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

import safecancel

PKG = Path(safecancel.__file__).parent
ROOT = "safecancel"

PRESENTATION = ("safecancel.cli", "safecancel.render", "safecancel.timeline", "safecancel.testing.demo")
CORE = (
    "safecancel.policy",
    "safecancel.scope",
    "safecancel.venues",
    "safecancel.model",
    "safecancel.states",
    "safecancel.errors",
)
IO_LIBRARIES = (
    "requests",
    "urllib3",
    "urllib.request",
    "http",
    "socket",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "threading",
    "time",
    "subprocess",
    "os",
    "click",
    "rich",
    "concurrent",
    "sqlite3",
    "platformdirs",
    "logging",
)
# Third-party libraries and the one place (a module or a package prefix) allowed to import each.
OWNERS = {
    "requests": ("safecancel.transport",),
    "urllib3": ("safecancel.transport",),
    "sqlalchemy": ("safecancel.store",),
    "alembic": ("safecancel.store",),
    "psycopg": ("safecancel.store",),
    "click": ("safecancel.cli",),
    "rich": ("safecancel.render", "safecancel.testing.demo"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports at run time (absolute names), wherever the import statement is."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # `from . import proc` / `from .testing import demo`: the names may be submodules.
            submodules = {f"{mod}.{a.name}" for a in node.names} & set(_modules())
            out.update(submodules)
            if len(submodules) < len(node.names):
                out.add(mod)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return out


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


@cache
def _graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (resolved to the longest existing module name)."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        edges = set()
        for imported in _imports(path):
            if imported == ROOT or not imported.startswith(ROOT + "."):
                continue
            target = imported
            while target not in mods and "." in target:
                target = target.rpartition(".")[0]
            if target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _external(path: Path) -> set[str]:
    return {m for m in _imports(path) if not m.startswith(ROOT)}


def test_the_graph_sees_every_module():
    # The checks below are only as good as the walk: it must find the package's real modules and edges.
    graph = _graph()
    assert {"safecancel.cli", "safecancel.client", "safecancel.engine", "safecancel.store.db"} <= set(graph)
    assert "safecancel.client" in graph["safecancel.cli"]
    assert "safecancel.engine" in graph["safecancel.client"]


def test_no_import_cycles():
    """Tarjan's strongly connected components: any component of two or more modules is a cycle."""
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    assert not cycles, f"import cycles: {cycles}"


def test_a_package_module_never_imports_the_package_root():
    # `from safecancel import X` inside the package runs __init__, which imports nearly everything.
    offenders = [name for name, path in _modules().items() if name != ROOT and ROOT in _imports(path)]
    assert not offenders


def test_nothing_imports_the_presentation():
    bad = [
        (name, dep)
        for name, deps in _graph().items()
        for dep in deps
        if _within(dep, PRESENTATION) and not _within(name, PRESENTATION)
    ]
    assert not bad, f"presentation imported from below: {bad}"


@pytest.mark.parametrize("module", sorted(m for m in _modules() if _within(m, CORE)))
def test_the_core_is_pure(module):
    path = _modules()[module]
    io = sorted(m for m in _external(path) if _within(m, IO_LIBRARIES))
    assert not io, f"{module} imports I/O libraries {io}"
    deps = [d for d in _graph()[module] if not _within(d, CORE)]
    assert not deps, f"{module} reaches above the core: {deps}"


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_has_one_owner(library):
    owners = OWNERS[library]
    users = sorted(
        name
        for name, path in _modules().items()
        if any(_within(m, (library,)) for m in _external(path)) and not _within(name, owners)
    )
    assert not users, f"{library} is imported outside {owners}: {users}"


def test_the_fake_venue_never_imports_the_adapters_or_the_store():
    # A signing bug must not agree with itself: the fake verifies with its own code.
    below = ("safecancel.venues", "safecancel.store", "safecancel.engine", "safecancel.client", "safecancel.transport")
    for name, deps in _graph().items():
        if _within(name, ("safecancel.testing",)) and name != "safecancel.testing.demo":
            assert not [d for d in deps if _within(d, below)], name


def test_the_engine_does_not_reach_up():
    assert not [d for d in _graph()["safecancel.engine"] if d in ("safecancel.client", "safecancel.cli")]
    for name, deps in _graph().items():
        if _within(name, ("safecancel.store", "safecancel.transport")):
            assert not [d for d in deps if d in ("safecancel.engine", "safecancel.client", "safecancel.policy")], name
