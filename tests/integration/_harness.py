"""Shared machinery for the crash, fault and concurrency tests and for the trial scripts in tests/trials/.

Everything here drives the product from the outside: child processes that use the public ``Client`` or
the ``safecancel`` command with ``SAFECANCEL_*`` environment variables, the fake venue (in this process
or in its own, started with ``safecancel fake-venue``), and the journal read back through the public API.
The ground truth is always the fake's ledger; the journal is what is being judged.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence, Set
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from safecancel import Client, Credentials, JobResult, VenueConfig
from safecancel.engine import RetryPolicy
from safecancel.model import Failure, FailureKind, OrderRef
from safecancel.testing import FakeVenue, FakeVenueControl
from safecancel.transport import RequestsTransport
from safecancel.venues import VENUE_NAMES, venue_class

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# The registry's venues and their adapters' facts: nothing below names a venue to know what it does.
VENUES = VENUE_NAMES
ADAPTERS = {v: venue_class(v) for v in VENUES}
SYMBOLS = {v: ADAPTERS[v].example_symbol for v in VENUES}
IDENTITY = "trader@example.invalid"
CREDS = Credentials("test-key", "test-secret", passphrase="test-pass", identity=IDENTITY)
# Every credential string the tests use; none may ever show up in a database, a log or an error text.
SECRETS = ("test-secret", "test-pass", IDENTITY, "test-key")
FAST = RetryPolicy(base_delay=0.01, max_delay=0.2, async_first_query=0.05)
# Venues that settle a cancel in the reply itself. The others (asynchronous_cancel) only *accept* it.
SYNC_VENUES = frozenset(v for v in VENUES if not ADAPTERS[v].asynchronous_cancel)
# Venues on which a cancel reaches each order once: the synchronous ones, and those whose query shows an
# accepted cancel as pending (HTX's `canceling`). Where it still reads open (Bitget's `live`:
# pending_cancel_reads_open), a second cancel may legitimately be sent.
CANCEL_ONCE_VENUES = frozenset(v for v in VENUES if not ADAPTERS[v].pending_cancel_reads_open)
TERMINAL = ("cancelled", "failed")


class Fake(Protocol):
    """What the harness needs from a fake venue: ``FakeVenue`` in-process or ``FakeVenueControl`` over HTTP."""

    url: str

    def seed(self, venue: str, symbol: str, orders: list[dict[str, Any]]) -> list[dict[str, Any]]: ...
    def orders(self, venue: str | None = None) -> list[dict[str, Any]]: ...
    def fault(self, venue: str, endpoint: str, kind: str, **spec: Any) -> None: ...
    def requests(self, venue: str | None = None) -> list[dict[str, Any]]: ...
    def reset(self) -> None: ...


# Every way of asking a venue about orders: the single-order query and the listings bulk confirmation
# reads (open orders, conditional orders, recent history, HTX's account lookup).
READ_ENDPOINTS = ("query", "list_open", "list_conditional", "list_history", "account")


def fault_reads(fake: Fake, venue: str, kind: str = "status", **spec: Any) -> None:
    """The venue cannot be asked about any order: every query and every listing fails the same way."""
    for endpoint in READ_ENDPOINTS:
        fake.fault(venue, endpoint, kind, **spec)


# -- environment and processes ---------------------------------------------------------------------


def venue_env(
    base_url: str, db: str | os.PathLike[str] | None = None, venues: Sequence[str] = VENUES
) -> dict[str, str]:
    """The environment a child process gets: this one minus any SAFECANCEL_*, plus credentials and URLs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFECANCEL_")}
    for v in venues:
        up = v.upper()
        env[f"SAFECANCEL_{up}_API_KEY"] = CREDS.api_key
        env[f"SAFECANCEL_{up}_API_SECRET"] = CREDS.api_secret
        env[f"SAFECANCEL_{up}_PASSPHRASE"] = CREDS.passphrase or ""
        env[f"SAFECANCEL_{up}_IDENTITY"] = IDENTITY
        env[f"SAFECANCEL_{up}_BASE_URL"] = base_url
    if db is not None:
        env["SAFECANCEL_DB"] = str(db)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(args: Sequence[str], env: dict[str, str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """``safecancel ARGS`` in a child process (the installed entry point's module, same interpreter)."""
    return subprocess.run(
        [PYTHON, "-m", "safecancel.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,  # the exit code is part of what the tests judge
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class FakeProcess:
    """``safecancel fake-venue`` running in its own process, driven through its /_fake/ control API."""

    proc: subprocess.Popen[str]
    url: str
    control: FakeVenueControl

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The child's next stdout line, or "" if none comes within ``timeout`` (a hung child cannot hang the test)."""
    box: dict[str, str] = {}

    def read_line() -> None:
        assert proc.stdout is not None
        box["line"] = proc.stdout.readline()

    reader = threading.Thread(target=read_line, daemon=True)
    reader.start()
    reader.join(timeout)
    return box.get("line", "")


def start_fake_process(latency_ms: int = 0, async_delay_ms: int = 30, timeout: float = 20.0) -> FakeProcess:
    """Start ``safecancel fake-venue --port 0`` and read the URL from its ``listening on`` line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFECANCEL_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "safecancel.cli",
            "fake-venue",
            "--port",
            "0",
            "--latency-ms",
            str(latency_ms),
            "--async-delay-ms",
            str(async_delay_ms),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    line = first_line(proc, timeout)
    if not line.startswith("listening on http://"):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"fake venue did not start (first line {line!r})")
    url = line.split("listening on ", 1)[1].strip()
    return FakeProcess(proc, url, FakeVenueControl(url))


@contextmanager
def fake_process(latency_ms: int = 0, async_delay_ms: int = 30) -> Iterator[FakeProcess]:
    fp = start_fake_process(latency_ms, async_delay_ms)
    try:
        yield fp
    finally:
        fp.stop()


# A cancel job in a child process, through the public Client only: credentials, base URLs and the
# database come from SAFECANCEL_* variables. The lease is short so that a killed child's lease
# expires within a trial (the command line keeps the 30 s default, which would stall every trial).
CHILD_CANCEL = textwrap.dedent(
    """
    import json, sys
    from safecancel import Client, RetryPolicy, VenueConfig
    spec = json.loads(sys.argv[1])
    policy = RetryPolicy(base_delay=0.01, max_delay=0.2, async_first_query=0.05)
    with Client(lease_ttl=spec["lease_ttl"], workers=spec["workers"], retry=policy,
                venues=[VenueConfig(spec["venue"], batch_size=spec["batch"])]) as client:
        result = client.cancel(spec["venue"], spec["symbol"], order_ids=spec["ids"], key=spec["key"],
                               deadline=spec["deadline"])
    print(json.dumps({"job_id": result.job_id, "status": result.status}), flush=True)
    """
)


def spawn_cancel_child(env: dict[str, str], spec: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-c", CHILD_CANCEL, json.dumps(spec)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def sigkill(proc: subprocess.Popen[str]) -> bool:
    """SIGKILL a child we started (by its pid); True if it was still running."""
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


# -- the journal, read back -----------------------------------------------------------------------


# Opening (and so migrating) two journals at once in one process breaks: alembic keeps its migration
# context in process-wide globals (see test_concurrent_runners.py, a strict xfail). The harness runs
# trials and fault cases on several threads, so it opens journals one at a time.
OPEN_LOCK = threading.Lock()


def opened(client: Client) -> Client:
    """The client with its journal opened (and migrated) under OPEN_LOCK."""
    with OPEN_LOCK:
        client.history(limit=1)
    return client


def reader(db: str | os.PathLike[str]) -> Client:
    """A client that only reads the journal (no credentials, no venue)."""
    return opened(Client(str(db), environ={}))


def jobs_in(db: str | os.PathLike[str]) -> list[JobResult]:
    if not Path(db).exists():
        return []
    with reader(db) as c:
        return [c.job(s.job_id) for s in c.history()]


def raw_state(db: str | os.PathLike[str]) -> dict[str, Any]:
    """What a killed process left on disk, read with plain sqlite3 (no migration, no recovery logic)."""
    out: dict[str, Any] = {"exists": Path(db).exists(), "jobs": [], "states": Counter(), "integrity": None}
    if not out["exists"]:
        return out
    con = sqlite3.connect(str(db), timeout=30)
    try:
        out["integrity"] = con.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        if "jobs" in tables:
            out["jobs"] = [
                dict(zip(("id", "status", "order_count", "lease_expires_ms"), r))
                for r in con.execute("select id, status, order_count, lease_expires_ms from jobs")
            ]
            out["states"] = Counter(dict(con.execute("select state, count(*) from orders group by state").fetchall()))
            out["order_rows"] = {
                job_id: n for job_id, n in con.execute("select job_id, count(*) from orders group by job_id")
            }
    finally:
        con.close()
    return out


def wait_for_lease_expiry(db: str | os.PathLike[str], cap: float = 35.0) -> float:
    """Sleep until every lease a dead runner left has expired (never more than ``cap``); returns the wait."""
    state = raw_state(db)
    expiries = [j["lease_expires_ms"] for j in state["jobs"] if j["lease_expires_ms"]]
    if not expiries:
        return 0.0
    wait = min(cap, max(0.0, max(expiries) / 1000 - time.time() + 0.05))
    time.sleep(wait)
    return wait


def kill_phase(state: dict[str, Any], killed: bool) -> str:
    """Where a run was when it stopped, judged from the journal it left."""
    if not killed:
        return "not killed (finished)"
    if not state["jobs"]:
        return "before the job was stored"
    states = state["states"]
    if all(j["status"] == "done" for j in state["jobs"]):
        return "after the job finished"
    if states.get("sent"):
        return "cancels in flight (orders sent)"
    if set(states) == {"pending"}:
        return "job stored, nothing sent"
    if states.get("unknown"):
        return "reconciling (orders unknown)"
    return "between requests"


# -- judging the journal against the ledger ----------------------------------------------------------


@dataclass
class Check:
    """Every way the journal can disagree with the venue, listed per order ("venue:id: detail")."""

    orders: int = 0
    lost: list[str] = field(default_factory=list)  # given to cancel, missing from the journal
    wrongly_cancelled: list[str] = field(default_factory=list)  # journal cancelled, venue open or filled
    wrongly_failed: list[str] = field(default_factory=list)  # journal failed for a reason the venue contradicts
    unresolved: list[str] = field(default_factory=list)  # still pending/sent/unknown
    open_jobs: list[str] = field(default_factory=list)  # jobs not `done`
    duplicate_sends: list[str] = field(default_factory=list)  # the same (order, attempt) sent twice
    unjournaled_sends: list[str] = field(default_factory=list)  # cancels that reached the venue with no send event
    max_cancel_requests: int = 0

    def merge(self, other: Check) -> None:
        for name in (
            "lost",
            "wrongly_cancelled",
            "wrongly_failed",
            "unresolved",
            "open_jobs",
            "duplicate_sends",
            "unjournaled_sends",
        ):
            getattr(self, name).extend(getattr(other, name))
        self.orders += other.orders
        self.max_cancel_requests = max(self.max_cancel_requests, other.max_cancel_requests)

    @property
    def problems(self) -> list[str]:
        out = []
        for name in (
            "lost",
            "wrongly_cancelled",
            "wrongly_failed",
            "unresolved",
            "open_jobs",
            "duplicate_sends",
            "unjournaled_sends",
        ):
            out.extend(f"{name}: {item}" for item in getattr(self, name))
        return out


def send_events(job: JobResult) -> Counter[tuple[str, int]]:
    """How often each (order, attempt) was written ahead as ``send``: anything above 1 is a double send."""
    return Counter((e.order, e.attempt) for e in job.events if e.trigger == "send" and e.order is not None)


def judge(
    venue: str,
    ids: Sequence[str],
    jobs: Sequence[JobResult],
    ledger: Sequence[dict[str, Any]],
    *,
    require_done: bool = True,
) -> Check:
    """Compare every order given to cancel with the ledger.

    ``ids`` are the exchange order ids given to ``cancel`` (some may never have existed at the venue).
    A journal ``cancelled`` must be ``cancelled`` at the venue; ``failed``/``filled`` must be ``filled``;
    ``failed``/``not_found`` must be absent from the ledger; no other ``failed`` reason is right here,
    since the fake never refuses a well-formed cancel. Every cancel that reached an order must have a
    ``send`` event written before it (the ledger's ``cancel_requests`` never exceeds the send events).
    """
    check = Check(orders=len(ids))
    at_venue = {o["order_id"]: o for o in ledger if o["venue"] == venue}
    mine = [j for j in jobs if j.venue == venue]
    by_id: dict[str, tuple[JobResult, Any]] = {}
    for job in mine:
        for o in job.orders:
            if o.order_id is not None:
                by_id[o.order_id] = (job, o)
        if require_done and job.status != "done":
            check.open_jobs.append(f"{venue}:{job.job_id}: {job.status} {job.counts}")
        for (order, attempt), n in send_events(job).items():
            if n > 1:
                check.duplicate_sends.append(f"{venue}:{order}: attempt {attempt} sent {n} times")
    sends_per_order: Counter[str] = Counter()
    for job in mine:
        for e in job.events:
            if e.trigger == "send" and e.order is not None:
                sends_per_order[e.order.rsplit("=", 1)[-1]] += 1
    for oid in ids:
        truth = at_venue.get(oid)
        status = truth["status"] if truth else None
        requests = truth["cancel_requests"] if truth else 0
        check.max_cancel_requests = max(check.max_cancel_requests, requests)
        if requests > sends_per_order[oid]:
            check.unjournaled_sends.append(
                f"{venue}:{oid}: {requests} cancels reached the venue, {sends_per_order[oid]} send events"
            )
        found = by_id.get(oid)
        if found is None:
            check.lost.append(f"{venue}:{oid} (venue: {status})")
            continue
        _, o = found
        if o.state == "cancelled":
            if status != "cancelled":
                check.wrongly_cancelled.append(f"{venue}:{oid}: journal cancelled ({o.provenance}), venue {status}")
        elif o.state == "failed":
            ok = (o.reason == "filled" and status == "filled") or (o.reason == "not_found" and truth is None)
            if not ok:
                check.wrongly_failed.append(f"{venue}:{oid}: journal failed/{o.reason}, venue {status}")
        else:
            check.unresolved.append(f"{venue}:{oid}: {o.state} ({o.reason}), venue {status}")
    return check


def ledger_status(fake: Fake, venue: str) -> dict[str, str]:
    return {o["order_id"]: o["status"] for o in fake.orders(venue)}


# -- crash trials ----------------------------------------------------------------------------------

CRASH_FAULTS: tuple[tuple[str, str, dict[str, Any]] | None, ...] = (
    None,
    None,
    None,
    ("cancel", "drop_after_apply", {}),
    ("cancel", "drop_before_apply", {}),
    ("cancel", "status", {"status": 503}),
    ("cancel", "status", {"status": 500}),
    ("cancel", "malformed", {}),
    ("cancel", "omit", {}),
    ("cancel", "fill_before_cancel", {}),
    ("query", "status", {"status": 502}),
)
# Two cancels a second or fewer, with a burst of as many (BitoPro, BingX): keep those jobs to a few requests.
SLOW_CANCEL_VENUES = frozenset(v for v in VENUES if ADAPTERS[v].cancel_rate.per_second <= 2)


@dataclass(frozen=True)
class TrialSpec:
    index: int
    venue: str
    open_ids: tuple[str, ...]
    filled_ids: tuple[str, ...]
    cancelled_ids: tuple[str, ...]
    missing_ids: tuple[str, ...]
    batch: int
    workers: int
    fault: tuple[str, str, dict[str, Any]] | None
    kill_mode: str  # "spawn": a delay from process start; "running": a delay after the first venue request
    kill_fraction: float  # of the expected span of that mode
    # How the restarted bot recovers, once and at once: "resume" (`safecancel resume`), "rerun" (the
    # same `cancel` again, with a derived key), "library" (`client.resume()` from Python).
    recovery: str = "resume"

    @property
    def ids(self) -> list[str]:
        return [*self.open_ids, *self.filled_ids, *self.cancelled_ids, *self.missing_ids]


def make_trial(index: int, seed: int) -> TrialSpec:
    """A trial drawn from its own seeded generator, so any trial can be replayed alone."""
    rng = random.Random(f"{seed}:{index}")
    venue = VENUES[index % len(VENUES)]
    base = 10_000_000 + index * 100
    n_open = rng.randint(6, 18)
    counts = [n_open, rng.randint(0, 2), rng.randint(0, 1), rng.randint(0, 1)]
    groups, at = [], base
    for n in counts:
        groups.append(tuple(str(at + i) for i in range(n)))
        at += n
    total = sum(counts)
    if venue in SLOW_CANCEL_VENUES:
        batch = max(4, -(-total // 3))  # at most three cancel requests
    else:
        batch = rng.randint(2, 10)
    return TrialSpec(
        index=index,
        venue=venue,
        open_ids=groups[0],
        filled_ids=groups[1],
        cancelled_ids=groups[2],
        missing_ids=groups[3],
        batch=batch,
        workers=rng.choice((1, 2, 4)),
        fault=rng.choice(CRASH_FAULTS),
        kill_mode="spawn" if rng.random() < 0.2 else "running",
        kill_fraction=rng.random(),
        recovery=RECOVERIES[index % len(RECOVERIES)]
        if index < len(VENUES) * len(RECOVERIES)
        else rng.choice(RECOVERIES),
    )


@dataclass
class TrialResult:
    spec: TrialSpec
    killed: bool
    phase: str
    check: Check
    child_rc: int | None
    resume_rc: int | None
    integrity: list[str]  # PRAGMA integrity_check answers (after the kill, after resume)
    audit_ok: bool
    seconds: float
    notes: list[str] = field(default_factory=list)
    # A run (the child, or a re-run during recovery) stopped by itself with ConcurrentUpdate because
    # its lease was lost mid-run. Before the engine renewed its lease while querying, this happened to
    # lone runners under load (test_concurrent_runners.py). One more crash to recover from: counted.
    lease_lost: bool = False

    @property
    def problems(self) -> list[str]:
        out = list(self.check.problems)
        if any(r != "ok" for r in self.integrity):
            out.append(f"integrity_check: {self.integrity}")
        if not self.audit_ok:
            out.append("audit verify failed")
        out.extend(self.notes)
        return out


class Spans:
    """How long a child takes from spawn to its first request, and from there to the end (adapted as trials run)."""

    def __init__(self) -> None:
        self.startup = 0.9
        self.running: dict[str, float] = dict.fromkeys(VENUES, 1.0)
        self._lock = threading.Lock()

    def observe(self, venue: str, startup: float | None, running: float | None) -> None:
        with self._lock:
            if startup is not None:
                self.startup = max(self.startup, startup)
            if running is not None:
                self.running[venue] = max(self.running[venue], running)


# Long, as in production: recovery must not wait for it (a dead runner on this host is taken over at once).
LEASE_TTL = 30.0
RECOVERIES = ("resume", "rerun", "library")


def run_trial(fake: Fake, spec: TrialSpec, workdir: Path, spans: Spans, *, resume_via_cli: bool = True) -> TrialResult:
    """One crash trial: seed, start the child, SIGKILL it at the chosen moment, resume, judge.

    The fake is reset first, so it must not be shared with a trial running at the same time.
    """
    started = time.monotonic()
    fake.reset()
    sym = SYMBOLS[spec.venue]
    for ids, status in ((spec.open_ids, "open"), (spec.filled_ids, "filled"), (spec.cancelled_ids, "cancelled")):
        if ids:
            fake.seed(spec.venue, sym, [{"order_id": i, "status": status} for i in ids])
    if spec.fault is not None:
        endpoint, kind, extra = spec.fault
        fake.fault(spec.venue, endpoint, kind, **extra)
    db = workdir / f"trial-{spec.index}.db"
    env = venue_env(fake.url, db)
    child_spec = {
        "venue": spec.venue,
        "symbol": sym,
        "ids": spec.ids,
        "key": None if spec.recovery == "rerun" else f"crash-trial-{spec.index}",
        "batch": spec.batch,
        "workers": spec.workers,
        "lease_ttl": LEASE_TTL,
        "deadline": 30.0,
    }
    child = spawn_cancel_child(env, child_spec)
    t0 = time.monotonic()
    first_request: float | None = None
    if spec.kill_mode == "spawn":
        kill_at = t0 + spec.kill_fraction * spans.startup
        while time.monotonic() < kill_at and child.poll() is None:
            time.sleep(0.002)
    else:
        while child.poll() is None and time.monotonic() - t0 < 20:
            if fake.requests(spec.venue):
                first_request = time.monotonic()
                break
            time.sleep(0.003)
        if first_request is not None:
            kill_at = first_request + spec.kill_fraction * spans.running[spec.venue]
            while time.monotonic() < kill_at and child.poll() is None:
                time.sleep(0.002)
    killed = sigkill(child)
    _, err = child.communicate()
    ended = time.monotonic()
    if not killed:
        spans.observe(
            spec.venue,
            (first_request - t0) if first_request else None,
            (ended - first_request) if first_request else None,
        )
    notes: list[str] = []
    lease_lost = not killed and child.returncode != 0 and "ConcurrentUpdate" in (err or "")
    if not killed and child.returncode != 0:
        # A lone runner losing its lease is a bug now: a live runner renews it whatever it waits on.
        notes.append(f"child exited {child.returncode}: {err.strip().splitlines()[-1:] if err else ''}")
    after_kill = raw_state(db)
    phase = kill_phase(after_kill, killed)
    integrity = [after_kill["integrity"]] if after_kill["integrity"] is not None else []
    # A job is stored with all its orders or not at all.
    for job in after_kill["jobs"]:
        if after_kill.get("order_rows", {}).get(job["id"], 0) != job["order_count"]:
            notes.append(
                f"job {job['id']} has {after_kill['order_rows'].get(job['id'], 0)} of {job['order_count']} orders"
            )
    if not after_kill["jobs"]:
        # Killed before the job was committed: nothing may have been sent for it.
        reached = [o for o in fake.orders(spec.venue) if o["cancel_requests"]]
        if reached:
            notes.append(f"{len(reached)} orders got a cancel before their job was stored")
    resume_rc: int | None = None
    # Recovery, as a restarted bot does it: once, at once (no waiting for the dead runner's lease).
    # A job that was never stored is asked for again with the same cancel, as the README says.
    done_before = {j.job_id for j in jobs_in(db) if j.status == "done"}
    if spec.recovery == "resume":
        res = run_cli(["resume", "--db", str(db), "--json", "--deadline", "30"], env)
        resume_rc = res.returncode
        if res.returncode not in (0, 1):
            notes.append(f"resume exited {res.returncode}: {res.stderr.strip()[-300:]}")
    elif spec.recovery == "library":
        with client_for(fake.url, db) as c:
            for r in c.resume(deadline=30):
                if r.held_by or r.skipped:
                    notes.append(f"client.resume() did not run {r.job_id}: {r.held_by or r.skipped}")
    if spec.recovery == "rerun" or not jobs_in(db):
        rerun = spawn_cancel_child(env, child_spec)
        _, rerr = rerun.communicate(timeout=60)
        resume_rc = rerun.returncode
        if rerun.returncode != 0:
            notes.append(f"re-run exited {rerun.returncode}: {rerr.strip()[-300:]}")
    jobs = jobs_in(db)
    # A derived key makes a new job only when the first had finished before the kill.
    if len(jobs) > 1 and not (spec.recovery == "rerun" and len(jobs) == 2 and done_before):
        notes.append(f"{len(jobs)} jobs for one key")
    check = judge(spec.venue, spec.ids, jobs, fake.orders(spec.venue))
    final = raw_state(db)
    integrity.append(final["integrity"])
    with reader(db) as c:
        audit_ok = c.verify_journal()[0]
    return TrialResult(
        spec,
        killed,
        phase,
        check,
        child.returncode,
        resume_rc,
        integrity,
        audit_ok,
        time.monotonic() - started,
        notes,
        lease_lost,
    )


def run_trials(
    n: int,
    seed: int,
    workdir: Path,
    *,
    parallel: int = 2,
    fake_factory: Callable[[], Any] | None = None,
    latency_ms: int = 25,
    on_result: Callable[[TrialResult], None] | None = None,
) -> list[TrialResult]:
    """Run ``n`` trials on ``parallel`` workers, each with its own fake venue (a process by default)."""
    spans = Spans()
    specs = [make_trial(i, seed) for i in range(n)]
    results: list[TrialResult] = []
    lock = threading.Lock()
    queue = list(reversed(specs))

    def worker() -> None:
        if fake_factory is not None:
            ctx = fake_factory()
        else:
            ctx = fake_process(latency_ms=latency_ms)
        with ctx as handle:
            fake = handle.control if isinstance(handle, FakeProcess) else handle
            while True:
                with lock:
                    if not queue:
                        return
                    spec = queue.pop()
                r = run_trial(fake, spec, workdir, spans)
                with lock:
                    results.append(r)
                    if on_result is not None:
                        on_result(r)

    threads = [threading.Thread(target=worker, name=f"trial-worker-{i}") for i in range(max(1, parallel))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results, key=lambda r: r.spec.index)


@contextmanager
def inprocess_fake(latency_ms: int = 25) -> Iterator[FakeVenue]:
    with FakeVenue(latency_ms=latency_ms, async_delay_ms=30) as fv:
        yield fv


def crash_table(results: Sequence[TrialResult]) -> str:
    """The crash-trial figures as markdown: totals, then one row per venue, then the kill phases."""
    total = Check()
    per_venue: dict[str, Check] = {v: Check() for v in VENUES}
    trials_per_venue: Counter[str] = Counter()
    killed = Counter()
    phases: Counter[str] = Counter()
    other = 0
    for r in results:
        total.merge(r.check)
        per_venue[r.spec.venue].merge(r.check)
        trials_per_venue[r.spec.venue] += 1
        killed[r.spec.venue] += r.killed
        phases[r.phase] += 1
        other += len(r.problems) - len(r.check.problems)
    lines = [
        "| venue | trials | killed | orders checked | lost | wrongly cancelled | wrongly failed | unresolved | jobs left open | duplicate sends | unjournaled sends | max cancels/order |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def row(name: str, c: Check, trials: int, k: int) -> str:
        return (
            f"| {name} | {trials} | {k} | {c.orders} | {len(c.lost)} | {len(c.wrongly_cancelled)} | {len(c.wrongly_failed)} | "
            f"{len(c.unresolved)} | {len(c.open_jobs)} | {len(c.duplicate_sends)} | {len(c.unjournaled_sends)} | {c.max_cancel_requests} |"
        )

    for v in VENUES:
        if trials_per_venue[v]:
            lines.append(row(v, per_venue[v], trials_per_venue[v], killed[v]))
    lines.append(row("**all**", total, len(results), sum(killed.values())))
    lines.append("")
    lines.append("| where the kill landed | trials |")
    lines.append("|---|---|")
    for phase, n in phases.most_common():
        lines.append(f"| {phase} | {n} |")
    lines.append("")
    lines.append(
        f"Other problems (integrity, audit, child errors, partial jobs): {other}. "
        f"Trials in which a run stopped on its own because it lost its lease mid-run (recovered like "
        f"any crash): {sum(r.lease_lost for r in results)}."
    )
    return "\n".join(lines)


# -- clients for in-process tests and the fault table -------------------------------------------------


def client_for(fake_url: str, db: str | os.PathLike[str], **kw: Any) -> Client:
    kw.setdefault("venues", [VenueConfig(v, credentials=CREDS, base_url=fake_url) for v in VENUES])
    kw.setdefault("retry", FAST)
    kw.setdefault("deadline", 20.0)
    kw.setdefault("environ", {})
    return opened(Client(str(db), **kw))


# -- the fault matrix ----------------------------------------------------------------------------------

# (name, what it does) in table order. Every case cancels FAULT_ORDERS open orders in one request.
FAULT_CASES: tuple[tuple[str, str], ...] = (
    ("drop_after_apply", "cancel applied, connection closed before the reply"),
    ("drop_before_apply", "connection closed before the venue applies the cancel"),
    ("status_500", "HTTP 500 with the venue's error body"),
    ("status_502", "HTTP 502"),
    ("status_503", "HTTP 503"),
    ("429_retry_after", "HTTP 429 with Retry-After: 1"),
    ("429_no_retry_after", "HTTP 429 without Retry-After"),
    ("418", "Binance 418 (IP ban after ignored 429s)"),
    ("malformed", "cancel applied, reply truncated mid-JSON"),
    ("omit", "the reply leaves one order out"),
    ("fill_before_cancel", "one order fills just before the cancel lands"),
    ("clock_skew", "venue clock moves 10 min: timestamps rejected until re-measured"),
    ("read_timeout", "reply slower (0.5 s) than the client's read timeout (0.2 s)"),
    ("query_malformed", "cancel reply lost, then the first query reply truncated"),
    ("query_429", "cancel reply lost, then the first query rate-limited"),
    ("connection_refused", "nothing listens at the base URL; then resume against the venue"),
    ("down_past_deadline", "cancels applied but unanswered, queries 503 past the deadline; then resume"),
)
FAULT_NAMES = tuple(name for name, _ in FAULT_CASES)
FAULT_VENUES = {"418": ("binance_coinm",)}  # a Binance status; elsewhere 418 means nothing in particular
FAULT_ORDERS = 4
TIME_ENDPOINT_VENUES = frozenset(v for v in VENUES if ADAPTERS[v]().has_time_endpoint())  # BitoPro has none
CLOCK_SKEW_MS = 600_000  # how far the clock_skew case moves the venue's clock


class ClockCodes(Set[str]):
    """The venue codes that say "your timestamp is off", derived rather than kept by hand.

    For every registered venue: move the fake venue's clock as the clock_skew case does, send it the
    adapter's own signed cancel and query, and keep the code of every reply the adapter itself classifies as
    a :attr:`FailureKind.CLOCK` failure. So a journal event carrying one of these codes is a timestamp
    rejection as the venue's adapter reads it, and a sixth venue's code is in here once it is registered.
    A venue that says it by HTTP status alone (BitoPro's 409) gives no code. Worked out on first use (it
    starts a fake venue), once per process.
    """

    @cached_property
    def _codes(self) -> frozenset[str]:
        codes: set[str] = set()
        transport = RequestsTransport()
        with FakeVenue(async_delay_ms=30) as fake, closing(transport):
            for venue, cls in ADAPTERS.items():
                adapter = cls(fake.url)
                ref = OrderRef(SYMBOLS[venue], order_id="4999")
                fake.seed(venue, ref.symbol, [{"order_id": ref.value}])
                fake.fault(venue, "time", "clock_skew", offset_ms=CLOCK_SKEW_MS)
                now_ms = int(time.time() * 1000)
                cancel = transport.send(fake.url, adapter.build_cancel([ref], CREDS, now_ms), venue=venue)
                query = transport.send(fake.url, adapter.build_query(ref, CREDS, now_ms), venue=venue)
                for out in (adapter.parse_cancel([ref], cancel), adapter.parse_query(ref, query)):
                    if isinstance(out, Failure) and out.kind is FailureKind.CLOCK and out.code is not None:
                        codes.add(out.code)
        return frozenset(codes)

    def __contains__(self, code: object) -> bool:
        return code in self._codes

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)

    def __repr__(self) -> str:
        return f"ClockCodes({sorted(self._codes)})"


CLOCK_CODES = ClockCodes()


@dataclass
class FaultOutcome:
    """What one fault did to one venue's job, as the journal and the ledger tell it."""

    case: str
    venue: str
    first_status: str  # the job after the call that met the fault
    first_counts: dict[str, int]
    final: JobResult  # after resume, where the case resumes
    resumed: bool
    cancel_requests: list[dict[str, Any]]  # cancel requests the venue received, in order
    time_requests: int
    query_requests: int
    applied: dict[str, int]  # ledger cancel_requests per order id
    check: Check
    seconds: float

    @property
    def provenance(self) -> Counter[str]:
        return Counter(o.provenance for o in self.final.orders if o.provenance)

    def cell(self) -> str:
        """One table cell: the final states, how many cancels were sent and applied, and any violation."""
        bad = len(self.check.problems)
        counts = self.final.counts
        states = " ".join(f"{counts[k]} {k}" for k in ("cancelled", "failed", "unknown", "pending") if counts.get(k))
        first = ""
        if self.resumed:
            first = f"{self.first_status} ({' '.join(f'{v} {k}' for k, v in sorted(self.first_counts.items()))}) → resume → "
        applied = max(self.applied.values(), default=0)
        mark = "✅" if not bad and self.final.status == "done" else "❌"
        return (
            f"{mark} {first}{self.final.status}: {states}; {len(self.cancel_requests)} sent, ≤{applied} applied/order"
            + (f"; {bad} VIOLATIONS" if bad else "")
        )


def run_fault_case(fake: FakeVenue, venue: str, case: str, workdir: Path) -> FaultOutcome:
    """Seed FAULT_ORDERS open orders, inject one fault through the control API, cancel, judge.

    ``fake`` must be an in-process FakeVenue with no other test using it (it is reset here).
    """
    if case not in FAULT_NAMES:
        raise ValueError(f"unknown fault case {case!r}")
    started = time.monotonic()
    fake.reset()
    sym = SYMBOLS[venue]
    ids = [str(5000 + i) for i in range(FAULT_ORDERS)]
    fake.seed(venue, sym, [{"order_id": i} for i in ids])
    # One journal per venue, one job per case: opening a fresh journal costs more than a whole case.
    db = workdir / f"faults-{venue}.db"
    tag = uuid.uuid4().hex[:8]
    deadline = 15.0
    resumed = False
    client = client_for(fake.url, db)
    try:
        if case == "clock_skew":
            # Measure the offset once on a healthy venue, then move the venue's clock.
            fake.seed(venue, sym, [{"order_id": "4999"}])
            client.cancel(venue, sym, order_ids=["4999"], key=f"warm-up-{tag}")
            fake.reset()
            fake.seed(venue, sym, [{"order_id": i} for i in ids])
            fake.fault(venue, "time", "clock_skew", offset_ms=CLOCK_SKEW_MS)
            if venue not in TIME_ENDPOINT_VENUES:
                # BitoPro's cancel carries no timestamp; its signed query does. Lose the cancel's
                # reply so that a query meets the skewed clock and must re-measure from the reply.
                fake.fault(venue, "cancel", "drop_after_apply")
        elif case.startswith("status_"):
            fake.fault(venue, "cancel", "status", status=int(case.split("_")[1]))
        elif case == "429_retry_after":
            fake.fault(venue, "cancel", "status", status=429, retry_after=1)
        elif case == "429_no_retry_after":
            fake.fault(venue, "cancel", "status", status=429)
        elif case == "418":
            fake.fault(venue, "cancel", "status", status=418)
        elif case in ("drop_after_apply", "drop_before_apply", "malformed", "omit", "fill_before_cancel"):
            fake.fault(venue, "cancel", case)
        elif case == "read_timeout":
            client.close()
            client = client_for(fake.url, db, transport=RequestsTransport(read_timeout=0.2))
            fake.fault(venue, "cancel", "delay", delay_ms=500)
        elif case == "query_malformed":
            fake.fault(venue, "cancel", "drop_after_apply")
            fake.fault(venue, "query", "malformed")
        elif case == "query_429":
            fake.fault(venue, "cancel", "drop_after_apply")
            fake.fault(venue, "query", "status", status=429)
        elif case == "connection_refused":
            client.close()
            dead = VenueConfig(venue, credentials=CREDS, base_url=f"http://127.0.0.1:{closed_port()}")
            client = client_for(fake.url, db, venues=[dead])
            deadline = 0.25
        elif case == "down_past_deadline":
            fake.fault(venue, "cancel", "drop_after_apply")
            fault_reads(fake, venue, status=503, times=100_000)
            deadline = 1.5  # long enough to send even on a loaded machine (the journal is created inside it)
        first = client.cancel(venue, sym, order_ids=ids, key=f"fault-{case}-{tag}", deadline=deadline)
        final = first
        if case == "connection_refused":
            # The venue is reachable again (the base URL is fixed); the same journal, a new client.
            client.close()
            client = client_for(fake.url, db)
            # The job is bound to the URL it was created with: moving it is an explicit, journaled act.
            (final,) = client.resume(first.job_id, deadline=15, rebind=True)
            resumed = True
        elif case == "down_past_deadline":
            fake.clear_faults()  # the venue comes back
            (final,) = client.resume(first.job_id, deadline=15)
            resumed = True
        if case == "read_timeout":
            # Let the slow request finish at the venue before the ledger is read.
            slow = min(r["time"] for r in fake.requests(venue) if r["endpoint"] == "cancel")
            time.sleep(max(0.0, slow + 0.6 - time.time()))
        final = client.job(final.job_id)
    finally:
        client.close()
    log = fake.requests(venue)
    ledger = fake.orders(venue)
    return FaultOutcome(
        case=case,
        venue=venue,
        first_status=first.status,
        first_counts=first.counts,
        final=final,
        resumed=resumed,
        cancel_requests=[r for r in log if r["endpoint"] == "cancel"],
        time_requests=sum(r["endpoint"] == "time" for r in log),
        query_requests=sum(r["endpoint"] == "query" for r in log),
        applied={o["order_id"]: o["cancel_requests"] for o in ledger},
        check=judge(venue, ids, [final], ledger),
        seconds=time.monotonic() - started,
    )


def run_matrix(
    workdir: Path,
    cases: Sequence[str] = FAULT_NAMES,
    venues: Sequence[str] = VENUES,
    *,
    on_outcome: Callable[[FaultOutcome], None] | None = None,
) -> list[FaultOutcome]:
    """Every case on every venue it applies to: one thread and one in-process fake per venue."""
    outcomes: list[FaultOutcome] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one_venue(venue: str) -> None:
        try:
            with FakeVenue(async_delay_ms=30) as fv:
                for case in cases:
                    if venue not in FAULT_VENUES.get(case, VENUES):
                        continue
                    out = run_fault_case(fv, venue, case, workdir)
                    with lock:
                        outcomes.append(out)
                        if on_outcome is not None:
                            on_outcome(out)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one_venue, args=(v,), name=f"faults-{v}") for v in venues]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    order = {name: i for i, name in enumerate(FAULT_NAMES)}
    return sorted(outcomes, key=lambda o: (order[o.case], VENUES.index(o.venue)))


def fault_table(outcomes: Sequence[FaultOutcome]) -> str:
    """The fault × venue outcomes as markdown (rows: faults; columns: venues)."""
    cells = {(o.case, o.venue): o.cell() for o in outcomes}
    lines = ["| fault | " + " | ".join(VENUES) + " |", "|---|" + "---|" * len(VENUES)]
    for name, what in FAULT_CASES:
        row = [cells.get((name, v), "n/a") for v in VENUES]
        if all(c == "n/a" for c in row):
            continue
        lines.append(f"| **{name}**: {what} | " + " | ".join(row) + " |")
    violations = sum(len(o.check.problems) for o in outcomes)
    lines.append("")
    lines.append(
        f"{len(outcomes)} fault × venue runs, {sum(o.check.orders for o in outcomes)} orders checked against the ledger, "
        f"{violations} violations (lost / wrongly cancelled / wrongly failed / unresolved / double or unjournaled sends). "
        '"sent" counts cancel requests the venue received; "applied/order" is the most cancels the ledger counted on one order.'
    )
    return "\n".join(lines)


# -- concurrent runners ----------------------------------------------------------------------------


@dataclass
class ConcurrencyResult:
    runners: int
    jobs: list[JobResult]
    check: Check
    exit_codes: list[int]
    crashes: list[str]  # a runner's traceback, if any
    notes: list[str]
    seconds: float

    @property
    def problems(self) -> list[str]:
        return self.check.problems + self.crashes + self.notes


def leave_unfinished_jobs(fake: FakeVenue, db: Path, per_job: int, tag: str) -> dict[str, list[str]]:
    """One open job per venue: BitoPro, BingX and Bitget jobs left all ``pending`` (the venue refused
    connections until the deadline), Binance and HTX left all ``unknown`` (cancels applied but never
    answered, queries failing until the deadline). Returns the order ids per venue."""
    ids: dict[str, list[str]] = {}
    for k, venue in enumerate(VENUES):
        sym = SYMBOLS[venue]
        ids[venue] = [str(20_000_000 + k * 10_000 + i) for i in range(per_job)]
        fake.seed(venue, sym, [{"order_id": i} for i in ids[venue]])
        if venue in ("binance_coinm", "htx"):
            fake.fault(venue, "cancel", "drop_after_apply", times=100_000)
            fault_reads(fake, venue, status=503, times=100_000)
            with client_for(fake.url, db) as c:
                # 2 s: the deadline is kept inside a pass, so it must leave time for the sends to go out
                # on a loaded machine (their queries fail until it passes).
                r = c.cancel(venue, sym, order_ids=ids[venue], key=f"{tag}-{venue}", deadline=2)
            assert r.status == "open" and set(r.counts) <= {"unknown", "sent"}, r.counts
        else:
            dead = VenueConfig(venue, credentials=CREDS, base_url=f"http://127.0.0.1:{closed_port()}")
            with client_for(fake.url, db, venues=[dead]) as c:
                r = c.cancel(venue, sym, order_ids=ids[venue], key=f"{tag}-{venue}", deadline=0.1)
            assert r.status == "open" and r.counts == {"pending": per_job}, r.counts
            with client_for(fake.url, db) as c:
                c.rebind(r.job_id)  # the venue is reachable again, at the address the runners use
    fake.clear_faults()  # the venue answers again
    return ids


def concurrent_resume_trial(
    fake: FakeVenue, workdir: Path, *, runners: int = 2, per_job: int = 40, tag: str = "conc"
) -> ConcurrencyResult:
    """``runners`` processes run ``safecancel resume`` on one database at the same moment."""
    started = time.monotonic()
    db = workdir / f"{tag}.db"
    ids = leave_unfinished_jobs(fake, db, per_job, tag)
    before = {o["order_id"]: o["cancel_requests"] for o in fake.orders()}
    env = venue_env(fake.url, db)
    procs = [
        subprocess.Popen(
            [PYTHON, "-m", "safecancel.cli", "resume", "--db", str(db), "--json", "--deadline", "60"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(runners)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    codes = [p.returncode for p in procs]
    crashes = [err.strip()[-400:] for _, err in outputs if "Traceback" in err]
    notes: list[str] = []
    # A runner that found a job leased by the other skips it (exit 3 while it is unfinished); none
    # may fail otherwise.
    notes.extend(f"runner exited {c}" for c in codes if c not in (0, 1, 3, 6))  # 6: a job was held by the other
    # Whoever finishes last, every job must be finished by the pair of them.
    jobs = jobs_in(db)
    check = Check()
    ledger = fake.orders()
    for venue, venue_ids in ids.items():
        check.merge(judge(venue, venue_ids, jobs, ledger))
    for o in ledger:
        # Every order started either never reached (pending) or reached once (unknown, applied): the
        # resumed runs must reach each order exactly once more at most, and not at all when applied.
        gained = o["cancel_requests"] - before.get(o["order_id"], 0)
        if o["venue"] in CANCEL_ONCE_VENUES and o["cancel_requests"] != 1:
            notes.append(
                f"{o['venue']}:{o['order_id']}: cancel reached it {o['cancel_requests']} times (resume added {gained})"
            )
    return ConcurrencyResult(runners, jobs, check, codes, crashes, notes, time.monotonic() - started)


__all__ = [
    "ADAPTERS",
    "CANCEL_ONCE_VENUES",
    "CLOCK_CODES",
    "CLOCK_SKEW_MS",
    "CREDS",
    "FAST",
    "FAULT_CASES",
    "FAULT_NAMES",
    "FAULT_ORDERS",
    "FAULT_VENUES",
    "IDENTITY",
    "LEASE_TTL",
    "OPEN_LOCK",
    "ROOT",
    "SECRETS",
    "SYMBOLS",
    "SYNC_VENUES",
    "TIME_ENDPOINT_VENUES",
    "VENUES",
    "Check",
    "ClockCodes",
    "ConcurrencyResult",
    "FakeProcess",
    "FaultOutcome",
    "Spans",
    "TrialResult",
    "TrialSpec",
    "client_for",
    "closed_port",
    "concurrent_resume_trial",
    "crash_table",
    "fake_process",
    "fault_table",
    "first_line",
    "inprocess_fake",
    "jobs_in",
    "judge",
    "kill_phase",
    "leave_unfinished_jobs",
    "make_trial",
    "opened",
    "raw_state",
    "reader",
    "run_cli",
    "run_fault_case",
    "run_matrix",
    "run_trial",
    "run_trials",
    "send_events",
    "sigkill",
    "spawn_cancel_child",
    "start_fake_process",
    "venue_env",
    "wait_for_lease_expiry",
]
