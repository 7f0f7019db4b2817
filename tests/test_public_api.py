"""The public API is exactly ``safecancel.__all__`` (sorted), and the import direction holds."""

from __future__ import annotations

import ast
from pathlib import Path

import safecancel

PKG = Path(safecancel.__file__).parent


def test_all_is_sorted_and_complete():
    assert safecancel.__all__ == sorted(safecancel.__all__)
    for name in safecancel.__all__:
        assert hasattr(safecancel, name), name


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                parts = path.relative_to(PKG.parent).with_suffix("").parts[: -node.level]
                mod = ".".join(parts + ((mod,) if mod else ()))
            out.add(mod)
    return out


def test_pure_core_does_no_io():
    # Adapters, states and the model are pure: no HTTP, no database, no transport (style.md C1).
    forbidden = ("requests", "sqlalchemy", "urllib3", "safecancel.store", "safecancel.transport", "safecancel.engine")
    for path in [*sorted((PKG / "venues").glob("*.py")), PKG / "states.py", PKG / "model.py"]:
        bad = [m for m in _imports(path) if m.startswith(forbidden)]
        assert not bad, f"{path.name} imports {bad}"


def test_only_transport_imports_requests_and_only_store_imports_sqlalchemy():
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        mods = _imports(path)
        if rel.startswith("testing/"):
            continue
        if any(m == "requests" or m.startswith("requests.") for m in mods):
            assert rel == "transport.py", rel
        if any(m.startswith("sqlalchemy") or m.startswith("alembic") for m in mods):
            assert rel.startswith("store/"), rel


def test_fake_venue_never_imports_the_adapters():
    # A signing bug must not agree with itself: the fake verifies with its own code.
    for path in (PKG / "testing").rglob("*.py"):
        assert not [m for m in _imports(path) if m.startswith("safecancel.venues")], path
