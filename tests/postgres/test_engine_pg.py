"""PostgreSQL twins of the engine suite's SQLite-only tests.

The engine suite (tests/integration/test_engine.py) runs on PostgreSQL from its own module (it is
marked ``every_backend``). Three of its tests end by looking inside the SQLite file ("nothing was
stored", "no secret reached the database") and are marked ``sqlite_only`` there. Each twin here runs
the same test, with the same cases, against a PostgreSQL journal (``db_path`` is a PostgreSQL URL in
this package: the SQLite look finds no file and passes), then checks the same property in the
server's tables.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from tests.integration import test_engine as engine_suite

TABLES = ("jobs", "orders", "evidence", "events", "chain_checkpoint", "journal_head")
SECRETS = ("test-secret", "test-pass", "trader@example.invalid", "test-key")


def _rows_as_text(url: str) -> str:
    """Every row of every journal table, as text: what a secret would have to hide in."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        return "\n".join(str(row) for t in TABLES for row in con.execute(f"select row_to_json(t)::text from {t} t"))


def _job_count(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        return con.execute("select count(*) from jobs").fetchone()[0]


def _same_cases(test: Callable[..., None]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a twin the shared test's own ``parametrize`` marks, so both run exactly the same cases."""

    def apply(twin: Callable[..., None]) -> Callable[..., None]:
        for mark in getattr(test, "pytestmark", []):
            if mark.name == "parametrize":
                twin = pytest.mark.parametrize(*mark.args, **mark.kwargs)(twin)
        return twin

    return apply


@_same_cases(engine_suite.test_bad_input_is_named_and_nothing_is_stored_or_sent)
def test_bad_input_is_named_and_nothing_is_stored_or_sent_on_postgres(fake, make_client, db_path, kwargs, needle):
    engine_suite.test_bad_input_is_named_and_nothing_is_stored_or_sent(fake, make_client, db_path, kwargs, needle)
    assert _job_count(db_path) == 0


def test_unknown_venue_and_missing_credentials_on_postgres(fake, make_client, db_path):
    engine_suite.test_unknown_venue_and_missing_credentials(fake, make_client, db_path)
    assert _job_count(db_path) == 0


def test_secrets_never_reach_the_database_on_postgres(fake, make_client, db_path):
    engine_suite.test_secrets_never_reach_the_database(fake, make_client, db_path)
    text = _rows_as_text(db_path)
    assert "binance_coinm" in text  # the dump really holds the journal
    for secret in SECRETS:
        assert secret not in text, secret
