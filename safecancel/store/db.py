"""Opening the journal database: URL resolution, SQLite durability settings, migrations, error translation.

This module is the only one that sees ``sqlalchemy.exc``; everything leaving the store is a
:class:`~safecancel.errors.StoreError`.

Transactions on the two backends:

- SQLite: a write transaction is ``BEGIN IMMEDIATE``: it takes the database's single write lock up
  front, so writers are serialized and what a writer reads cannot change before it commits.
- PostgreSQL: ``READ COMMITTED`` (the server's default, stated explicitly so a server configured
  otherwise does not change our semantics). Writers are not serialized as a whole; each write path
  in the journal locks exactly what it reads-then-writes (``SELECT ... FOR UPDATE`` on the chain head
  and on the orders of a compare-and-set, ``FOR NO KEY UPDATE SKIP LOCKED`` for job leases), and
  under READ COMMITTED every statement after a lock is granted sees the rows as committed by the
  transaction that held it. That gives the same guarantees as BEGIN IMMEDIATE without the
  serialization failures (and retry loops) that REPEATABLE READ or SERIALIZABLE writers would need.
- Reads that must be consistent across several statements (``verify``, the store copy) use
  :meth:`Database.snapshot`: one MVCC snapshot for the whole transaction on both backends.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_dir
from sqlalchemy import Connection, create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.url import URL

from ..errors import InputError, SchemaOutOfDate, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("safecancel.store")

JOURNAL_FILE = "journal.db"
# The newest migration in migrations/versions (tests/unit/test_store.py checks it against alembic's head).
# Opening a current journal compares its alembic_version row with this and never imports alembic: alembic
# is loaded, and logs, only when a migration actually runs.
SCHEMA_HEAD = "0005"
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
# Arbitrary but fixed: every safecancel process migrating the same PostgreSQL database takes this
# transaction-level advisory lock first, so two hosts starting at once cannot both create the tables.
PG_MIGRATION_LOCK = 0x5AFECA7C
# alembic runs a migration through process-wide globals (``alembic.context`` / ``alembic.op`` are
# proxies to the one running environment), so two threads upgrading two journals at once break each
# other. The exception to "no mutable state at module level": what it guards is process-wide itself.
_ALEMBIC_LOCK = threading.Lock()


def default_path() -> Path:
    """The per-user journal, the same whatever directory a bot is started from (cron and systemd
    start in ``$HOME`` or ``/``): ``platformdirs.user_data_dir("safecancel")/journal.db``, e.g.
    ``~/.local/share/safecancel/journal.db`` on Linux."""
    return Path(user_data_dir("safecancel", appauthor=False)) / JOURNAL_FILE


def demo_path() -> Path:
    """The demo's own journal, beside the per-user one: demo jobs never enter a real audit trail."""
    return default_path().with_name("demo.db")


def resolve_url(url: str | None, *, make_dir: bool = True) -> URL:
    """A database argument (URL, plain path, or None for ``$SAFECANCEL_DB`` / the per-user default) as a URL.

    ``make_dir``: create the per-user directory when the default journal is meant (not for read-only use).
    """
    raw = url or os.environ.get("SAFECANCEL_DB")
    if not raw:
        path = default_path()
        if not make_dir:
            return make_url("sqlite:///" + str(path))
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create the journal directory {path.parent}: {exc.strerror}; set SAFECANCEL_DB or --db"
            ) from None
        raw = str(path)
    if raw == ":memory:":
        raise InputError("an in-memory SQLite database cannot hold a journal; give a file path")
    if "://" not in raw:
        raw = "sqlite:///" + str(Path(raw).expanduser().resolve())
    try:
        return make_url(raw)
    except (sa_exc.ArgumentError, ValueError) as exc:  # ValueError: e.g. a port that is not a number
        shown = re.sub(r"(//[^/:@]*:)[^/@]*@", r"\1***@", raw)  # never echo a password
        raise InputError(f"cannot parse database URL {shown!r}: {exc}") from None


def _migrations_dir() -> str:
    # In a source checkout the top-level migrations/ sits beside the package; in a wheel it is
    # shipped inside it as safecancel.migrations.
    here = Path(__file__).resolve().parent.parent.parent / "migrations"
    if (here / "env.py").is_file():
        return str(here)
    return str(resources.files("safecancel.migrations"))


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

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
            _refuse_foreign(path, url)
        return
    parent = path.parent
    if not parent.is_dir():
        raise InputError(f"cannot create database {database}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot create database {database}: directory {parent} is not writable")
    # Created 0600 before SQLite opens it: the journal names accounts and orders. SQLite gives the
    # -wal and -shm files the same permissions.
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        return  # another thread or process created it a moment ago: SQLite opens it as it is
    os.close(fd)


def _refuse_foreign(path: Path, url: URL) -> None:
    """Refuse another program's SQLite database before our connect hook switches it to WAL mode.

    Read through a read-only connection, so that not even the header of a database that is not ours
    changes. A file SQLite cannot read is left to the engine, which reports it.
    """
    try:
        con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return
    if tables and "alembic_version" not in tables:
        raise StoreError(
            f"database {url.render_as_string(hide_password=True)} already holds tables that are not safecancel's "
            f"({', '.join(sorted(tables)[:5])}); refusing to touch it"
        )


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
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


def _sqlite_read_only(url: URL) -> tuple[Callable[[], sqlite3.Connection], str]:
    """A connect function for an existing journal file that never writes to it, and how it is opened.

    ``mode=ro`` first: it reads a journal that a live writer may still be appending to (SQLite's WAL
    index, the ``-shm`` file, is shared with it). On read-only storage (a copy handed to an auditor,
    a read-only directory or mount) SQLite cannot create that index, and the file is opened
    ``immutable`` instead: read as it lies, which is exactly right for media that cannot change. A
    write-ahead log beside such a file holds committed transactions that ``immutable`` would not see,
    so that case is refused rather than shown stale.
    """
    database = url.database or ""
    path = Path(database)
    if not path.exists():
        raise InputError(f"no journal at {database}: the file does not exist")
    if not path.is_file():
        raise InputError(f"database path {database} is not a regular file")
    try:
        with path.open("rb") as fh:
            magic = fh.read(16)
    except OSError as exc:
        raise InputError(f"cannot read the journal {database}: {exc.strerror}") from None
    if magic != SQLITE_MAGIC:
        raise StoreError(f"{database} is not a SQLite database")
    base = path.resolve().as_uri()
    last: Exception | None = None
    for mode in ("mode=ro", "immutable=1"):
        uri = f"{base}?{mode}"
        try:
            probe = sqlite3.connect(uri, uri=True)
            try:
                probe.execute("select count(*) from sqlite_master").fetchone()
            finally:
                probe.close()
        except sqlite3.DatabaseError as exc:
            last = exc
            wal = Path(database + "-wal")
            if mode == "mode=ro" and wal.exists() and wal.stat().st_size > 0:
                raise StoreError(
                    f"cannot open the journal {database} read-only: {exc}; its write-ahead log {wal} holds "
                    "committed changes that can only be read with write access to its directory (copy the "
                    "journal with its -wal file to a writable directory)"
                ) from None
            continue
        return _opener(uri), mode
    raise StoreError(f"cannot open the journal {database} read-only: {last}")


def _opener(uri: str) -> Callable[[], sqlite3.Connection]:
    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)

    return connect


def _sqlite_read_only_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        dbapi_conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        dbapi_conn.execute("PRAGMA query_only = ON")  # a second guard: no statement may write

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN DEFERRED")


def _current_revision(conn: Connection) -> str | None:
    """The journal's schema revision as alembic recorded it (None: no ``alembic_version`` table), read
    without alembic."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("select version_num from alembic_version")).scalar()


class Database:
    """An open, migrated journal database."""

    def __init__(
        self, url: str | None = None, *, migrate: bool = True, create: bool = True, read_only: bool = False
    ) -> None:
        """Open (and by default create and migrate) the journal at ``url``.

        ``create=False`` refuses a SQLite file that does not exist yet, for callers that only read
        an existing journal (``migrate-store --from``) and must not leave an empty one behind.

        ``read_only=True`` opens an existing journal without ever writing to it: nothing is created
        (a missing file is an :class:`InputError`), nothing is migrated (a journal of another schema
        revision is refused, saying which), every write is refused, and a journal on read-only storage
        is still readable (see :func:`_sqlite_read_only`).
        """
        self.read_only = read_only
        self.opened_as: str | None = None  # read-only SQLite: "mode=ro" or "immutable=1"
        self.url = resolve_url(url, make_dir=not read_only)
        self.dialect = self.url.get_backend_name()
        # A SQLite journal is named by its file path (what a person looks for); others by their URL.
        self.display_url = (
            self.url.database
            if self.dialect == "sqlite" and self.url.database
            else self.url.render_as_string(hide_password=True)
        )
        if self.dialect == "sqlite":
            if self.url.database in (None, "", ":memory:"):
                raise InputError("an in-memory SQLite database cannot hold a journal; give a file path")
            if read_only:
                connect, self.opened_as = _sqlite_read_only(self.url)
                self.engine = create_engine("sqlite://", creator=connect)
                _sqlite_read_only_events(self.engine)
            else:
                if not create and not Path(self.url.database).exists():
                    raise InputError(f"no journal at {self.display_url}: the file does not exist")
                _prepare_sqlite_file(self.url)
                self.engine = create_engine(
                    self.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
                )
                _sqlite_events(self.engine)
        elif self.dialect == "postgresql":
            args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
            try:
                self.engine = create_engine(
                    self.url, pool_pre_ping=True, isolation_level="READ COMMITTED", connect_args=args
                )
            except ImportError as exc:
                raise InputError(f"PostgreSQL needs the driver: pip install 'safecancel[postgres]' ({exc})") from None
        else:
            raise InputError(f"unsupported database {self.display_url}: use a SQLite path or postgresql+psycopg://")
        if read_only:
            with self.translate():
                self._check_schema()
        elif migrate:
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
        if self.read_only:
            raise StoreError(f"the journal {self.display_url} is opened read-only: nothing can be written to it")
        with self.translate(), self.engine.connect() as conn:
            conn = conn.execution_options(write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (on PostgreSQL each statement sees what was committed when it started)."""
        with self.translate(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only transaction in which every statement sees the same committed state.

        For reads that must agree with each other while other hosts write (walking the hash chain
        against the head and the evidence, copying the whole journal). SQLite in WAL mode already
        gives a read transaction one snapshot; PostgreSQL needs REPEATABLE READ for that.
        """
        with self.translate(), self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn

    def _check_schema(self) -> None:
        """A read-only journal must already be of this version's schema: it cannot be migrated."""
        with self.engine.connect() as conn, conn.begin():
            current = _current_revision(conn)
        if current == SCHEMA_HEAD:
            return
        if current is None:
            raise StoreError(f"{self.display_url} is not a safecancel journal (it has no schema revision)")
        if current > SCHEMA_HEAD:  # revisions are zero-padded numbers: text order is their order
            raise SchemaOutOfDate(
                f"database {self.display_url} has schema revision {current}, newer than this safecancel "
                f"understands (head {SCHEMA_HEAD}); upgrade safecancel"
            )
        raise SchemaOutOfDate(
            f"database {self.display_url} has schema revision {current}, older than this safecancel's "
            f"({SCHEMA_HEAD}), and a read-only command does not migrate it: open it once with a command that "
            "writes (e.g. `safecancel resume --db ...`), or read it with the safecancel version that wrote it"
        )

    def _migrate(self) -> None:
        # The common case, a journal already current, is one query: alembic is neither imported nor
        # configured (its MigrationContext logs "Context impl ..." at INFO on every open).
        with self.engine.connect() as conn, conn.begin():
            if _current_revision(conn) == SCHEMA_HEAD:
                return
        # Importing and configuring alembic logs too ("setup plugin ...", "Context impl ..."): all of it
        # under the lock that keeps alembic's process-wide state to one migration at a time.
        with _ALEMBIC_LOCK, _quiet_alembic():
            self._upgrade()

    def _upgrade(self) -> None:
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(_alembic_config())
        head = script.get_current_head()
        with self.engine.connect() as conn:
            conn = conn.execution_options(write=True)
            with conn.begin():
                if self.dialect == "postgresql":
                    # Held until this transaction ends; a second host waits here, then finds the
                    # schema current (PostgreSQL runs the DDL inside this same transaction).
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
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
                log.info("migrating the journal %s from schema %s to %s", self.display_url, current, head)
                command.upgrade(_alembic_config(conn), "head")


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """alembic's INFO lines ("Context impl SQLiteImpl.", "Running upgrade ...") are shown only when
    ``safecancel.store`` logs at DEBUG: at INFO our own line says that a migration runs.
    Used under ``_ALEMBIC_LOCK``, so no other migration sees the level changed."""
    alembic_log = logging.getLogger("alembic")
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    before = alembic_log.level
    alembic_log.setLevel(max(logging.WARNING, before))
    try:
        yield
    finally:
        alembic_log.setLevel(before)
