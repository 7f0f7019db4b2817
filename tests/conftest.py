"""Shared fixtures: one loopback fake venue for the session (reset per test), a journal path per test,
and a client factory wired to the fake with its default credentials."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from safecancel import Client, Credentials, VenueConfig
from safecancel.engine import RetryPolicy
from safecancel.testing import FakeVenue
from safecancel.venues import VENUE_NAMES, venue_class

ROOT = Path(__file__).resolve().parent.parent
CREDS = Credentials("test-key", "test-secret", passphrase="test-pass", identity="trader@example.invalid")
SECRETS = ("test-secret", "test-pass", "trader@example.invalid")
# Every registered venue, and the symbol tests use on each (the adapter's own example): derived from the
# registry, so a new venue is in every test that loops over VENUES without an edit here.
VENUES = VENUE_NAMES
SYMBOLS = {v: venue_class(v).example_symbol for v in VENUES}
# Fast retries for tests: the logic is the same, the waits are short.
FAST = RetryPolicy(base_delay=0.01, max_delay=0.2, async_first_query=0.05)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeVenue]:
    with FakeVenue(async_delay_ms=30) as fv:
        yield fv


@pytest.fixture
def fake(fake_server: FakeVenue) -> Iterator[FakeVenue]:
    fake_server.reset()
    yield fake_server
    fake_server.reset()


@pytest.fixture
def slow(fake_server: FakeVenue) -> Iterator[FakeVenue]:
    """The session fake with 40 ms latency, so a run lasts long enough to be killed in the middle."""
    fake_server.reset()
    fake_server.latency_ms = 40
    yield fake_server
    fake_server.latency_ms = 0
    fake_server.reset()


# -- the journal a test uses, on one backend or on each ------------------------------------------
# One store suite, run per backend (as huey runs one StorageTests on every storage): a module marked
# ``every_backend`` runs each test that uses ``db_path`` once on SQLite and once on PostgreSQL, except
# tests marked ``sqlite_only`` (they look inside the SQLite file; their PostgreSQL twins live in
# tests/postgres/). Everywhere else ``db_path`` is a SQLite file, and tests/postgres/ overrides it.
BACKENDS = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "every_backend: tests using db_path run on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: in an every_backend module, SQLite only (twin in tests/postgres)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    node = metafunc.definition
    per_backend = node.get_closest_marker("every_backend") and not node.get_closest_marker("sqlite_only")
    if per_backend and "db_path" in metafunc.fixturenames:
        metafunc.parametrize("db_path", BACKENDS, indirect=True)


@pytest.fixture
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The journal's URL: a SQLite file, or (parametrized ``postgres``) a fresh database in the session's
    throwaway cluster, skipped when no PostgreSQL server binaries are installed."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "journal.db")


@pytest.fixture
def make_client(fake: FakeVenue, db_path: str) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def factory(**kw) -> Client:
        kw.setdefault("venues", [VenueConfig(v, credentials=CREDS, base_url=fake.url) for v in VENUES])
        kw.setdefault("retry", FAST)
        kw.setdefault("deadline", 20.0)
        kw.setdefault("environ", {})
        c = Client(kw.pop("db", db_path), **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()


def seed_open(fake: FakeVenue, venue: str, n: int, start: int = 1000, status: str = "open") -> list[str]:
    ids = [str(start + i) for i in range(n)]
    fake.seed(venue, SYMBOLS[venue], [{"order_id": i, "status": status} for i in ids])
    return ids


# -- PostgreSQL --------------------------------------------------------------------------------
# A real server for the fleet tests (tests/postgres/): one throwaway cluster per session, started
# as an unprivileged user when we are root (see tests/postgres/cluster.py), a fresh database per test.


@pytest.fixture(scope="session")
def pg_cluster():
    from tests.postgres.cluster import PgCluster, find_bindir

    bindir = find_bindir()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) found in $SAFECANCEL_PG_BIN, "
            "/usr/lib/postgresql/*/bin or PATH"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("PostgreSQL is installed but the driver is not: pip install -e '.[test]' (psycopg[binary])")
    cluster = PgCluster(bindir).start()
    try:
        # One migrated database to copy from: CREATE DATABASE ... TEMPLATE is faster than migrating each time.
        from safecancel.store import Database

        template_url = cluster.create_database("template")
        Database(template_url).close()
        cluster.template = template_url.rsplit("/", 1)[1]
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> Iterator[str]:
    """A PostgreSQL database holding an empty, migrated journal (reset and reused after the test)."""
    url = pg_cluster.checkout()
    yield url
    pg_cluster.checkin(url)


@pytest.fixture(autouse=True, scope="session")
def _private_user_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The per-user journal (platformdirs) goes to a temporary directory: tests never touch the real one."""
    import os

    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    yield
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old
