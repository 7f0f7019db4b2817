"""The journal store: database setup and migrations (:mod:`.db`), the repository (:mod:`.journal`) and
whole-journal copies between databases (:mod:`.transfer`)."""

from __future__ import annotations

from .db import Database, resolve_url
from .journal import Change, Evidence, JobRow, Journal, OrderRow, fingerprint, iso
from .transfer import copy_journal, table_counts

__all__ = [
    "Change", "Database", "Evidence", "JobRow", "Journal", "OrderRow", "copy_journal", "fingerprint", "iso", "resolve_url",
    "table_counts",
]
