"""The journal store: database setup and migrations (:mod:`.db`) and the repository (:mod:`.journal`)."""

from __future__ import annotations

from .db import Database, resolve_url
from .journal import Change, Evidence, JobRow, Journal, OrderRow, fingerprint, iso

__all__ = ["Change", "Database", "Evidence", "JobRow", "Journal", "OrderRow", "fingerprint", "iso", "resolve_url"]
