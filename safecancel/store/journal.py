"""The repository: jobs, orders and their audited history in one database.

:class:`Journal` is the one object callers hold. It is assembled from one module per concern, and
the split shows the one-writer rule (``tests/unit/test_store_layout.py`` keeps it so):

- :mod:`.rows`: the frozen values handed out and taken in (``OrderRow``, ``JobRow``, ``Evidence``,
  ``Change``), the order-set fingerprint and the timestamp format.
- :mod:`.chain`: the hash chain: hashing, appending after the locked head (one database-wide chain,
  and why), verifying, and the arithmetic of a prune. Its only write is appending events.
- :mod:`.writer`: everything that writes: jobs, leases, order changes, retention. How several
  runners share a database (leases, takeovers) is explained there.
- :mod:`.changes`: the order compare-and-set with its events and evidence, one batch per commit;
  the writer's order changes all go through it.
- :mod:`.reads`: everything that only reads: lookups, results, history, the chain head, exports.
"""

from __future__ import annotations

from ..errors import StoreError
from ..states import StateTable
from .db import Database
from .reads import JournalReads
from .rows import Change, Evidence, JobRow, OrderRow, fingerprint, iso
from .writer import JournalWriter


class Journal(JournalReads, JournalWriter):
    """Jobs, orders and their audited history in one database."""

    def __init__(self, db: Database, table: StateTable | None = None) -> None:
        self.db = db
        self.table = table or StateTable()


# StoreError stays importable from here, as it was before the split.
__all__ = ["Change", "Evidence", "JobRow", "Journal", "OrderRow", "StoreError", "fingerprint", "iso"]
