"""Every test in this package runs against the real PostgreSQL server: ``db_path`` (the journal every
shared fixture and client uses) is a fresh PostgreSQL database per test instead of a SQLite file.

The shared store and engine suites (tests/unit/test_store.py, tests/integration/test_engine.py) run
on PostgreSQL from their own modules, through the ``postgres`` parameter of the root ``db_path``
fixture; this package holds the PostgreSQL-only tests and the twins of their SQLite-only tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from safecancel.store import Database, Journal


@pytest.fixture
def db_path(pg_url: str) -> str:
    return pg_url


@pytest.fixture
def journal(db_path: str) -> Iterator[Journal]:
    db = Database(db_path)
    yield Journal(db)
    db.close()
