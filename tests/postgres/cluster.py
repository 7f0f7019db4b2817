"""A throwaway PostgreSQL cluster for the tests: initdb into a temporary directory, pg_ctl start on a
free loopback port, create databases on demand, stop and delete at the end.

PostgreSQL refuses to run as root, and CI runs as root on a fresh machine, so when we are root the
server runs as an unprivileged user: ``$SAFECANCEL_PG_USER`` if set, else ``nobody`` if it exists,
else a system user ``safecancel-pg`` created here (idempotently). Processes started as root switch
to that user through ``subprocess``'s ``user=``/``group=`` (no sudo or su needed).

Tuned for tests, not for data: ``fsync=off`` and ``--no-sync``, because the cluster is deleted
afterwards and durability is not what these tests measure (SQLite's durability settings are tested
elsewhere). Locking, isolation and SKIP LOCKED behave exactly as in production.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DB_ROLE = "safecancel"  # the cluster's superuser role; local trust auth, loopback only
SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/opt/postgresql*/bin")


def find_bindir() -> str | None:
    """The directory with initdb and pg_ctl: ``$SAFECANCEL_PG_BIN``, then the usual places, then PATH."""
    candidates = [os.environ.get("SAFECANCEL_PG_BIN", "")]
    for pattern in SEARCH:
        # Newest major version first: "15" sorts after "9" as text, so sort by the number.
        found = glob.glob(pattern)
        found.sort(
            key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.replace("-", ".").split(".")],
            reverse=True,
        )
        candidates += found
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).parent))
    for d in candidates:
        if d and os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            return d
    return None


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged account the server runs as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("SAFECANCEL_PG_USER")
    for candidate in [name] if name else ["nobody", "safecancel-pg"]:
        try:
            return pwd.getpwnam(candidate)
        except KeyError:
            continue
    if name:
        raise RuntimeError(f"SAFECANCEL_PG_USER={name} does not exist")
    # No nobody on this machine: create a system user. Harmless if a parallel run made it first.
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "safecancel-pg"],
        check=False,
        capture_output=True,
    )
    return pwd.getpwnam("safecancel-pg")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """One running cluster. ``url(db)`` gives a SQLAlchemy URL; ``create_database`` makes a fresh one."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.user = _server_user()
        # Not under pytest's tmp_path: that lives in a root-only directory the server user cannot enter.
        self.dir = Path(tempfile.mkdtemp(prefix="safecancel-pg-"))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.port = 0
        self._counter = 0
        self._admin = None
        self.template: str | None = None  # a migrated database to copy new ones from (set by the fixture)
        self._watchdog: subprocess.Popen | None = None

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        creds = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []} if self.user else {}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        return subprocess.run(
            [os.path.join(self.bindir, args[0]), *args[1:]],
            env=env,
            cwd=self.dir,
            capture_output=True,
            text=True,
            **creds,
            **kw,
        )

    def start(self) -> PgCluster:
        self.sock.mkdir()
        if self.user is not None:
            for p in (self.dir, self.sock):
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        done = self._run(
            "initdb", "-D", str(self.data), "-U", DB_ROLE, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        if done.returncode:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        # A free port can be taken between probing and binding; try a few.
        for _ in range(5):
            self.port = _free_port()
            opts = (
                f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c max_connections=200"
            )
            done = self._run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.dir / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                opts,
                "start",
            )
            if done.returncode == 0:
                self._start_watchdog()
                return self
        log = (self.dir / "server.log").read_text() if (self.dir / "server.log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{log[-3000:]}")

    def _start_watchdog(self) -> None:
        """Stop the server and delete its directory if this process dies without cleaning up (killed,
        or a hard test timeout): a detached shell polls our pid, then sends the postmaster SIGQUIT
        (immediate shutdown) and removes the directory."""
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f'pid=$(head -n 1 "{self.data}/postmaster.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null; '
            f'sleep 2; rm -rf "{self.dir}"'
        )
        self._watchdog = subprocess.Popen(
            ["sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{DB_ROLE}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement as the superuser, outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(
                host="127.0.0.1", port=self.port, user=DB_ROLE, dbname="postgres", autocommit=True
            )
        self._admin.execute(sql)

    def create_database(self, prefix: str = "t", template: str | None = None) -> str:
        """A new, empty database (or a copy of ``template``); returns its URL."""
        self._counter += 1
        name = f"{prefix}_{os.getpid()}_{self._counter}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    # -- clean journals for tests: reused after a reset, because CREATE DATABASE costs 0.1-0.3 s each

    JOURNAL_TABLES = ("jobs", "orders", "evidence", "events", "chain_checkpoint")

    def _connect(self, url: str):
        import psycopg

        return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))

    def _shape(self, url: str) -> tuple:
        """What a clean journal database looks like: its tables and its schema revision."""
        with self._connect(url) as con:
            tables = tuple(
                r[0] for r in con.execute("select tablename from pg_tables where schemaname = 'public' order by 1")
            )
            return tables, con.execute("select version_num from alembic_version").fetchall()

    def checkout(self) -> str:
        """An empty, migrated journal database: a reset one from the free list, or a new copy of the template."""
        if self.template is None:
            raise RuntimeError("set cluster.template to a migrated database first")
        if not hasattr(self, "_free"):
            self._free: list[str] = []
            self._clean_shape = self._shape(self.url(self.template))
        return self._free.pop() if self._free else self.create_database("t", template=self.template)

    def checkin(self, url: str) -> None:
        """Reset a test's database for the next test; one that a test changed beyond rows is dropped from reuse."""
        try:
            # Close what the test left connected (pools of clients it did not close), so nothing of
            # it can write into the next test's journal and the TRUNCATE gets its lock.
            self.execute(
                f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{url.rsplit('/', 1)[1]}'"
            )
            if self._shape(url) != self._clean_shape:
                return  # e.g. a test set a future schema revision: never reuse it
            with self._connect(url) as con:
                con.execute("set lock_timeout = '2s'")
                con.execute(f"truncate {', '.join(self.JOURNAL_TABLES)} restart identity")
                con.execute("update journal_head set seq = 0, hash = %s where id = 1", ("0" * 64,))
        except Exception:
            return
        self._free.append(url)

    def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
        if self._admin is not None:
            self._admin.close()
        if self.port:
            # immediate: the cluster is thrown away, so there is nothing to flush.
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        # Wait for the postmaster to let go of the directory before deleting it.
        deadline = time.monotonic() + 10
        while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)
