"""The journal store: database setup and migrations (:mod:`.db`), the repository (:mod:`.journal`, built from
:mod:`.rows`, :mod:`.chain`, :mod:`.writer` and :mod:`.reads`) and whole-journal copies between databases
(:mod:`.transfer`)."""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING

# Each name loads from its module on first use (PEP 562). The frozen values (``Evidence``, ``Change``...)
# come from :mod:`.rows`, which does not import SQLAlchemy: code that only builds evidence or changes
# (the venue link, the engine, the CLI's start-up) must not pay ~0.15 s for a journal it never opens.
_SOURCES = MappingProxyType(
    {
        "AuditReport": "audit",
        "ChainReport": "chain",
        "Database": "db",
        "resolve_url": "db",
        "Journal": "journal",
        "Change": "rows",
        "Evidence": "rows",
        "JobRow": "rows",
        "OrderRow": "rows",
        "fingerprint": "rows",
        "iso": "rows",
        "copy_journal": "transfer",
        "migrate_journal": "transfer",
        "table_counts": "transfer",
    }
)

if TYPE_CHECKING:
    from .audit import AuditReport
    from .chain import ChainReport
    from .db import Database, resolve_url
    from .journal import Journal
    from .rows import Change, Evidence, JobRow, OrderRow, fingerprint, iso
    from .transfer import copy_journal, migrate_journal, table_counts


def __getattr__(name: str) -> object:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AuditReport",
    "ChainReport",
    "Change",
    "Database",
    "Evidence",
    "JobRow",
    "Journal",
    "OrderRow",
    "copy_journal",
    "fingerprint",
    "iso",
    "migrate_journal",
    "resolve_url",
    "table_counts",
]
