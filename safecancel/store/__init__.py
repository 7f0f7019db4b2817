"""The journal store: database setup and migrations (:mod:`.db`), the repository (:mod:`.journal`, built from
:mod:`.rows`, :mod:`.chain`, :mod:`.writer` and :mod:`.reads`) and whole-journal copies between databases
(:mod:`.transfer`)."""

from __future__ import annotations

from .audit import AuditReport
from .chain import ChainReport
from .db import Database, resolve_url
from .journal import Change, Evidence, JobRow, Journal, OrderRow, fingerprint, iso
from .transfer import copy_journal, migrate_journal, table_counts

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
