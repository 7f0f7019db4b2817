"""The engine suite (tests/integration/test_engine.py) on PostgreSQL.

Every engine test is imported and runs here with the journal in a fresh PostgreSQL database (see
conftest.py). The few that look inside the SQLite file get a PostgreSQL check added on top: the
original's own assertions still run, then the same property is checked in the server's tables.
"""

from __future__ import annotations

import functools

import psycopg

from tests.integration import test_engine as sqlite_suite
from tests.integration.test_engine import *  # noqa: F403 -- the whole engine suite, collected again here

TABLES = ("jobs", "orders", "evidence", "events", "chain_checkpoint", "journal_head")


def _rows_as_text(url: str) -> str:
    """Every row of every journal table, as text: what a secret would have to hide in."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        return "\n".join(str(row) for t in TABLES for row in con.execute(f"select row_to_json(t)::text from {t} t"))


def _job_count(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        return con.execute("select count(*) from jobs").fetchone()[0]


def _and_then(check):
    """Run an engine test as it is, then ``check(db_path)`` against PostgreSQL (keeps its parametrization)."""

    def wrap(test):
        @functools.wraps(test)  # copies pytestmark (parametrize) and the signature pytest reads fixtures from
        def twin(*args, **kwargs):
            test(*args, **kwargs)
            check(kwargs["db_path"])

        return twin

    return wrap


def _nothing_stored(url: str) -> None:
    assert _job_count(url) == 0


def _no_secret(url: str) -> None:
    text = _rows_as_text(url)
    assert "binance_coinm" in text  # the dump really holds the journal
    for secret in ("test-secret", "test-pass", "trader@example.invalid", "test-key"):
        assert secret not in text, secret


test_bad_input_is_named_and_nothing_is_stored_or_sent = _and_then(_nothing_stored)(
    sqlite_suite.test_bad_input_is_named_and_nothing_is_stored_or_sent
)
test_unknown_venue_and_missing_credentials = _and_then(_nothing_stored)(sqlite_suite.test_unknown_venue_and_missing_credentials)
test_secrets_never_reach_the_database = _and_then(_no_secret)(sqlite_suite.test_secrets_never_reach_the_database)
