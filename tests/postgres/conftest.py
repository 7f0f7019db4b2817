"""Every test in this package runs against the real PostgreSQL server: ``db_path`` (the journal every
shared fixture and client uses) is a fresh PostgreSQL database per test instead of a SQLite file."""

from __future__ import annotations

import pytest


@pytest.fixture
def db_path(pg_url: str) -> str:
    return pg_url
