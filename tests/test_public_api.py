"""The public API is exactly ``safecancel.__all__`` (sorted). The layer contracts are in test_layers.py."""

from __future__ import annotations

import inspect
from pathlib import Path

import safecancel

PKG = Path(safecancel.__file__).parent


def test_all_is_sorted_and_complete():
    assert safecancel.__all__ == sorted(safecancel.__all__)
    for name in safecancel.__all__:
        assert hasattr(safecancel, name), name


def _public_names() -> list[str]:
    """What ``import safecancel`` offers without an underscore, less what is only there to build it."""
    names = []
    # dir(), not vars(): the package loads its names on first use (PEP 562), and dir() lists them all
    # whichever have been loaded so far.
    for name in dir(safecancel):
        value = getattr(safecancel, name)
        if name.startswith("_") or inspect.ismodule(value):
            continue  # private, or a submodule / `logging`
        if type(value).__module__ == "__future__":
            continue  # `from __future__ import annotations`
        if (inspect.isclass(value) or inspect.isfunction(value)) and not value.__module__.startswith("safecancel."):
            continue  # imported to build the package (importlib.metadata's `version`, `PackageNotFoundError`)
        names.append(name)
    return sorted(names)


def test_all_imports_are_exported() -> None:
    # httpx's test_exported_members: nothing public is forgotten in __all__, nothing in it is stale.
    assert safecancel.__all__ == _public_names()


def test_exported_names_are_the_packages_own() -> None:
    for name in safecancel.__all__:
        value = getattr(safecancel, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("safecancel."), (name, value.__module__)
        else:
            assert name.isupper(), f"{name}: only constants may be exported besides classes and functions"
