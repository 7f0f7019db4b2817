"""Opening the journal database: URL resolution, SQLite durability settings, migrations, error translation.

This module and :mod:`safecancel.store.journal` are the only ones that see ``sqlalchemy.exc``;
everything leaving them is a :class:`~safecancel.errors.StoreError`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, event, inspect
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.url import URL

from ..errors import InputError, SchemaOutOfDate, StoreError

DEFAULT_DB = "safecancel.db"
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000


def resolve_url(url: str | None) -> URL:
    """A database argument (URL, plain path, or None for ``$SAFECANCEL_DB`` / ``./safecancel.db``) as a URL."""
    raw = url or os.environ.get("SAFECANCEL_DB") or DEFAULT_DB
    if "://" not in raw:
        raw = "sqlite:///" + str(Path(raw).expanduser().resolve())
    try:
        return make_url(raw)
    except sa_exc.ArgumentError as exc:
        raise InputError(f"cannot parse database URL {raw!r}: {exc}") from None


def _migrations_dir() -> str:
    # In a source checkout the top-level migrations/ sits beside the package; in a wheel it is
    # shipped inside it as safecancel.migrations.
    here = Path(__file__).resolve().parent.parent.parent / "migrations"
    if (here / "env.py").is_file():
        return str(here)
    return str(resources.files("safecancel.migrations"))


def _alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", _migrations_dir())
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _prepare_sqlite_file(url: URL) -> None:
    """Refuse paths we cannot use, and create a new database readable by its owner only."""
    database = url.database
    if not database or database == ":memory:":
        raise InputError("an in-memory SQLite database cannot hold a journal; give a file path")
    path = Path(database)
    if path.exists():
        if not path.is_file():
            raise InputError(f"database path {database} is not a regular file")
        if not os.access(path, os.R_OK | os.W_OK):
            raise InputError(f"database {database} is not readable and writable by this user")
        size = path.stat().st_size
        if size:
            with path.open("rb") as fh:
                if fh.read(16) != SQLITE_MAGIC:
                    raise StoreError(f"{database} is not a SQLite database; refusing to touch it")
        return
    parent = path.parent
    if not parent.is_dir():
        raise InputError(f"cannot create database {database}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot create database {database}: directory {parent} is not writable")
    # Created 0600 before SQLite opens it: the journal names accounts and orders. SQLite gives the
    # -wal and -shm files the same permissions.
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, stat.S_IRUSR | stat.S_IWUSR)
    os.close(fd)


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # The driver's own implicit BEGIN is turned off so that we choose DEFERRED or IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")  # readers never block the writer (freqtrade#6353)
        cur.execute("PRAGMA synchronous = FULL")  # a committed `sent` survives power loss
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE), so a read-then-write transaction
        # can never fail half-way with SQLITE_BUSY after it has read stale data.
        mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """An open, migrated journal database."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = resolve_url(url)
        self.display_url = self.url.render_as_string(hide_password=True)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            _prepare_sqlite_file(self.url)
            self.engine = create_engine(self.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
            _sqlite_events(self.engine)
        elif self.dialect == "postgresql":
            try:
                self.engine = create_engine(self.url, pool_pre_ping=True)
            except ImportError as exc:
                raise InputError(f"PostgreSQL needs the driver: pip install 'safecancel[postgres]' ({exc})") from None
        else:
            raise InputError(f"unsupported database {self.display_url}: use a SQLite path or postgresql+psycopg://")
        if migrate:
            with self.translate():
                self._migrate()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def translate(self) -> Iterator[None]:
        """Turn driver errors into :class:`StoreError` with the (password-free) URL."""
        try:
            yield
        except sa_exc.DBAPIError as exc:
            orig = getattr(exc, "orig", exc)
            raise StoreError(f"database {self.display_url}: {type(orig).__name__}: {orig}") from None
        except sa_exc.SQLAlchemyError as exc:
            raise StoreError(f"database {self.display_url}: {exc}") from None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
        with self.translate(), self.engine.connect() as conn:
            conn = conn.execution_options(write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot."""
        with self.translate(), self.engine.connect() as conn, conn.begin():
            yield conn

    def _migrate(self) -> None:
        script = ScriptDirectory.from_config(_alembic_config())
        head = script.get_current_head()
        with self.engine.connect() as conn:
            conn = conn.execution_options(write=True)
            with conn.begin():
                current = MigrationContext.configure(conn).get_current_revision()
                if current == head:
                    return
                if current is not None and current not in {r.revision for r in script.walk_revisions()}:
                    raise SchemaOutOfDate(
                        f"database {self.display_url} has schema revision {current}, newer than this safecancel "
                        f"understands (head {head}); upgrade safecancel"
                    )
                if current is None:
                    tables = set(inspect(conn).get_table_names())
                    if tables:
                        raise StoreError(
                            f"database {self.display_url} already holds tables that are not safecancel's "
                            f"({', '.join(sorted(tables)[:5])}); refusing to touch it"
                        )
                command.upgrade(_alembic_config(conn), "head")
