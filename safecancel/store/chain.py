"""The hash chain: how events and evidence are hashed, appended after the head, verified and pruned.

Every event's hash covers its content and the hash of the event before it (``prev_hash``); an event
that records an HTTP exchange also carries that evidence row's hash. So an edited, deleted or
reordered event, or edited evidence, breaks the chain at a place the walk (:class:`ChainWalk`) names.

Several writers (threads, processes, hosts sharing one PostgreSQL database):

- **One chain per database, its head serialized.** Every transaction that appends events locks the
  single ``journal_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
  serializes writers), numbers its events after the head and moves the head before it commits.
  Concurrent writers therefore append one after another, ``seq`` has no gaps, each event's
  ``prev_hash`` is the event committed just before it, and ``verify`` walks one total order.
  We chose this over one chain per job anchored per database because (a) deleting or reordering a
  *whole job* must stay detectable, which per-job chains only give with a second, database-wide
  anchor chain that needs the same serialization anyway; (b) ``prune`` cuts one prefix and keeps one
  checkpoint; (c) ``audit verify`` stays one pass and the head is one value to publish elsewhere.
  The cost: appends are serialized. They are short (no network I/O is ever inside a transaction; a
  chunk's outcomes are one batched update and one insert), so a fleet spends its time on the venues,
  not on this lock.
- **Lock order** is always job row, then order rows, then the head, so appenders do not deadlock;
  ``create_job`` and ``prune`` take the head first and touch no row another writer holds.

:func:`append_events` is this module's only write; everything else here reads or computes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection

from .rows import _clip, _digest
from .schema import GENESIS_HASH, chain_checkpoint, events, evidence, journal_head
from .sql import EVENT_COLS, statements

# The columns each hash covers, in this order (changing either tuple breaks every stored chain).
_EVENT_HASHED = (
    "seq",
    "job_id",
    "order_pk",
    "trigger",
    "from_state",
    "to_state",
    "attempt",
    "at",
    "http_status",
    "venue_code",
    "venue_message",
    "provenance",
    "reason",
    "evidence_id",
    "evidence_hash",
    "note",
    "prev_hash",
)
_EVIDENCE_HASHED = (
    "job_id",
    "at",
    "endpoint",
    "method",
    "path",
    "query",
    "body",
    "status",
    "response",
    "elapsed_ms",
    "error",
)
# Every column of an event row except those append_events fills in (seq, prev_hash, hash).
_EVENT_FIELDS = (
    "order_pk",
    "from_state",
    "to_state",
    "attempt",
    "http_status",
    "venue_code",
    "venue_message",
    "provenance",
    "reason",
    "evidence_id",
    "evidence_hash",
    "note",
)


# append_events inserts the hashed values plus the hash as the table's columns, in this order.
assert EVENT_COLS == (*_EVENT_HASHED, "hash"), "events' columns and the hashed columns must line up"


def event_hash(row: Mapping[str, Any]) -> str:
    return _digest([row.get(k) for k in _EVENT_HASHED])


def evidence_hash(row: Mapping[str, Any]) -> str:
    return _digest([row.get(k) for k in _EVIDENCE_HASHED])


def event_row(job_id: str, at: str, trigger: str, **kw: Any) -> dict[str, Any]:
    """An event row ready for :func:`append_events`: every column present (``None`` unless given)."""
    row: dict[str, Any] = dict.fromkeys(_EVENT_FIELDS)
    row.update(job_id=job_id, at=at, trigger=trigger)
    row.update(kw)
    row["venue_message"] = _clip(row["venue_message"])
    return row


# -- appending ---------------------------------------------------------------------------------------


def lock_head(conn: Connection, dialect: str) -> tuple[int, str]:
    """The head ``(seq, hash)``, locked until the caller's write transaction ends (``FOR UPDATE`` on
    PostgreSQL serializes appends across hosts; SQLite's BEGIN IMMEDIATE already does)."""
    seq, h = conn.exec_driver_sql(statements(dialect).lock_head).one()
    return int(seq), str(h)


# An event's content as :func:`append_events` also takes it, a list: every hashed column but ``seq``
# (first) and ``prev_hash`` (last), in hash order -- what the order-change hot path builds directly.
EVENT_CONTENT = _EVENT_HASHED[1:-1]


def append_events(conn: Connection, dialect: str, rows: Sequence[Mapping[str, Any] | list[Any]]) -> None:
    """Hash-chain and insert events, then move the head; the caller holds the write transaction.

    Each event is an :func:`event_row` dict, or a list of its :data:`EVENT_CONTENT` values (the order
    changes build those: a 100,000-order job appends 200,000 events, and a dict per event is measurable).
    The insert is one driver-level ``executemany`` over tuples (:mod:`.sql`).
    """
    if not rows:
        return
    seq, prev = lock_head(conn, dialect)
    values: list[tuple[Any, ...]] = []
    for row in rows:
        seq += 1
        content = row if isinstance(row, list) else [row[k] for k in EVENT_CONTENT]
        # The hashed columns are the table's columns up to ``hash`` (checked at import): one list is
        # both what the hash covers and, with the hash appended, the row as inserted.
        vals = [seq, *content, prev]
        prev = _digest(vals)
        values.append((*vals, prev))  # SQLAlchemy takes a batch of tuples (not lists)
    sql = statements(dialect)
    conn.exec_driver_sql(sql.insert_events, values)
    conn.exec_driver_sql(sql.move_head, (seq, prev))


# -- verifying ---------------------------------------------------------------------------------------


class ChainReport(NamedTuple):
    """What a walk of the chain found. A tuple, so ``ok, n, problem = journal.verify()`` keeps working."""

    ok: bool
    events: int  # events checked (up to and including the first broken one)
    problem: str | None  # names the first broken event; None when ok


# What a walk reads of an event: the hashed columns in hash order (a row's first fields are then the
# digest's input as they are), then its own hash. :mod:`.audit` replays the rows the walk yields (the
# hashed columns).
VERIFY_COLS = (*_EVENT_HASHED, "hash")
_N = len(_EVENT_HASHED)
_SEQ, _JOB, _TRIGGER, _EVIDENCE_ID, _EVIDENCE_HASH, _NOTE, _PREV = (
    _EVENT_HASHED.index(k) for k in ("seq", "job_id", "trigger", "evidence_id", "evidence_hash", "note", "prev_hash")
)
_NO_END = 2**62  # "up to the last event" in the page query, which always has an upper bound
_PAGE_SQL = f"SELECT {', '.join(VERIFY_COLS)} FROM {events.name} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
_PAGE_JSON_SQL = (
    f"SELECT json_array({', '.join(_EVENT_HASHED)}), hash FROM {events.name} "
    "WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
)
# An evidence row's hashed columns in hash order, then its stored hash and its id.
_EVIDENCE_SQL = f"SELECT {', '.join(_EVIDENCE_HASHED)}, hash, id FROM {evidence.name} WHERE id IN (*)"
_NE = len(_EVIDENCE_HASHED)
# An event as a walk yields it: its hashed columns in hash order (a tuple, or a list parsed from JSON).
EventRow = tuple[Any, ...] | list[Any]


def _fast_encoder() -> Any:
    """orjson's ``dumps`` when orjson is installed (it is optional), else None: see :func:`_quick_digest`."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - installed with the test extras
        return None
    return orjson.dumps


def fast_decoder() -> Any:
    """orjson's ``loads`` when orjson is installed, else None."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - installed with the test extras
        return None
    return orjson.loads


def _quick_digest(dumps: Any, values: EventRow) -> str:
    """:func:`~.rows._digest`, about three times faster with orjson's encoder (``dumps``).

    For what a row holds (text, integers, NULL) orjson writes the same bytes as the standard encoder
    (compact, non-ASCII as UTF-8). A mismatch is still re-checked with ``_digest`` before anything is
    called edited, so a difference between the encoders could only cost time, never a wrong verdict;
    and equal bytes decode to equal values, so a match cannot be wrong either.
    """
    import hashlib

    if dumps is not None:
        try:
            return hashlib.sha256(dumps(values)).hexdigest()
        except TypeError:  # a value orjson does not encode: the standard encoder decides
            pass
    return _digest_or_none(values) or ""


def _digest_or_none(values: EventRow) -> str | None:
    """:func:`~.rows._digest`, or None for values no journal writer stores (a BLOB written behind its back)."""
    try:
        return _digest(values)
    except (TypeError, ValueError):
        return None


def digest_matches(values: EventRow, stored: str) -> bool:
    """Whether ``values`` hash to ``stored`` by :func:`~.rows._digest` (quickly where orjson is installed)."""
    return _quick_digest(_fast_encoder(), values) == stored or _digest(values) == stored


class DriverReads:
    """Reads through the driver's own cursor inside the caller's transaction (so in its snapshot).

    The audit reads every event and every order row once. A SQLAlchemy ``Row`` per row cost as much as
    the reading itself (measured: ~9 s of the 18 s a million events took), so these come back as the
    driver's plain tuples. SQL is written with ``?`` and gets psycopg's ``%s`` here; ``IN (*)`` is
    expanded to one placeholder per key, a bounded number at a time.
    """

    def __init__(self, conn: Connection) -> None:
        from .sql import placeholder

        self._cursor = conn.connection.cursor()
        self.dialect = conn.dialect.name
        self._mark = placeholder(self.dialect)
        # What the driver raises for a statement it cannot run (a caller may fall back to another).
        self.driver_error: type[Exception] = conn.dialect.loaded_dbapi.Error

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        if self._mark != "?":
            sql = sql.replace("?", self._mark)
        self._cursor.execute(sql, tuple(params))
        return list(self._cursor.fetchall())

    def one(self, sql: str, params: Iterable[Any] = ()) -> tuple[Any, ...] | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def all_in(self, sql: str, keys: list[Any], batch: int = 500) -> list[tuple[Any, ...]]:
        """``sql`` (with one ``IN (*)``) for every key, ``batch`` keys per statement (every backend bounds
        its parameters)."""
        out: list[tuple[Any, ...]] = []
        for i in range(0, len(keys), batch):
            part = keys[i : i + batch]
            out += self.all(sql.replace("(*)", "(" + ", ".join("?" * len(part)) + ")"), part)
        return out

    def close(self) -> None:
        self._cursor.close()

    def __enter__(self) -> DriverReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ChainWalk:
    """The chain checked a page of events at a time in ``seq`` order, for a caller that uses each page
    once it checked out: :mod:`.audit` replays the rows from the same read, so the journal is read once.

    A walk starts after a point whose hash is trusted: the genesis, the newest checkpoint
    (:meth:`from_start`), or a head an audit already verified (a prune's check of what was appended
    since). :meth:`pages` yields only pages whose every event checked out and stops at the first broken
    one, which ``problem`` then names; :meth:`finish` adds what a whole walk proves at its end.
    """

    def __init__(
        self, reads: DriverReads, seq: int, prev_hash: str, *, checkpoint: tuple[int, str] | None = None
    ) -> None:
        self.reads = reads
        self.seq = seq  # the last event checked (or the starting point)
        self.hash = prev_hash  # its hash
        self.events = 0  # events checked, the broken one included
        self.problem: str | None = None
        # After a prune the chain starts at its checkpoint; the checkpoint is itself announced by a
        # "prune" event further down the chain, so an edited checkpoint shows.
        self.checkpoint = checkpoint
        self.announced = checkpoint is None
        self._evidence: dict[int, tuple[str, str]] = {}  # this page's evidence: id -> (stored hash, its content's)
        # How many evidence rows the events reference, counted without keeping a set of ids: an exchange's
        # events are appended together (one run of the same id), and ids rise with seq wherever writers
        # are serialized, so while every new run's id is above all before it the runs are distinct.
        self.referenced = 0
        self._last_ref = self._max_ref = 0
        self.rising = True
        self._dumps = _fast_encoder()
        # SQLite renders a page as JSON text (see _read), parsed back by orjson when it is installed.
        self._json = fast_decoder() if reads.dialect == "sqlite" else None

    @classmethod
    def from_start(cls, reads: DriverReads) -> ChainWalk:
        """A walk of the whole chain: from the newest checkpoint, or from the genesis."""
        cp = reads.one(f"SELECT seq, hash FROM {chain_checkpoint.name} ORDER BY id DESC LIMIT 1")
        if cp is None:
            return cls(reads, 0, GENESIS_HASH)
        return cls(reads, int(cp[0]), str(cp[1]), checkpoint=(int(cp[0]), str(cp[1])))

    def pages(self, upto: int | None = None, size: int = 5000) -> Iterator[list[EventRow]]:
        """The events after the start (up to ``upto``), each page once all of it checked out. An event is
        its hashed columns in hash order (``VERIFY_COLS`` without the hash)."""
        end = _NO_END if upto is None else upto
        while self.problem is None:
            page, hashes, quick = self._read(end, size)
            if not page or not self._check(page, hashes, quick):
                return
            yield page

    def _read(self, end: int, size: int) -> tuple[list[EventRow], list[str], list[str | None]]:
        """A page of events, their stored hashes, and a quick hash of each one's content (None: none made).

        On SQLite the page is read as ``json_array(...)`` text: SQLite builds the JSON in C, which is
        the digest's input as it stands (the bytes the standard encoder writes, compact, UTF-8) and
        parses back into the row's values faster than the driver builds them column by column; this
        saves a fifth of the walk. Anything else, or a page SQLite cannot render (a BLOB value), is
        read column by column and hashed with :func:`_quick_digest`'s encoder. Either quick hash is
        only trusted when it matches; a mismatch is re-checked with the standard encoder.
        """
        import hashlib

        sha256 = hashlib.sha256
        loads = self._json
        if loads is not None:
            try:
                rows = self.reads.all(_PAGE_JSON_SQL, (self.seq, end, size))
            except self.reads.driver_error:  # a BLOB, or a SQLite without JSON: columns from here on
                rows, self._json = None, None
            if rows is not None:
                return (
                    [loads(j) for j, _ in rows],
                    [h for _, h in rows],
                    [sha256(j.encode()).hexdigest() for j, _ in rows],
                )
        page = self.reads.all(_PAGE_SQL, (self.seq, end, size))
        dumps = self._dumps
        try:
            quick: list[str | None] = [sha256(dumps(row[:_N])).hexdigest() for row in page] if dumps else []
        except TypeError:  # a value orjson does not encode: the standard encoder decides for this page
            quick = []
        return [row[:_N] for row in page], [row[_N] for row in page], quick or [None] * len(page)

    def _fail(self, n: int, problem: str) -> bool:
        self.events, self.problem = n, problem
        return False

    def _check(self, page: list[EventRow], hashes: list[str], quick: list[str | None]) -> bool:
        known = self._evidence_of(page)
        prev, expected, n = self.hash, self.seq, self.events
        for row, stored, digest in zip(page, hashes, quick):
            n += 1
            expected += 1
            seq = row[_SEQ]
            if seq != expected:
                return self._fail(n, f"event {expected} is missing (next is {seq}): a row was deleted")
            if row[_PREV] != prev:
                return self._fail(
                    n, f"event {seq}: prev_hash does not match event {seq - 1}: rows were edited or reordered"
                )
            prev = stored
            if digest != prev and _digest_or_none(row) != prev:
                return self._fail(
                    n, f"event {seq} ({row[_TRIGGER]}, job {row[_JOB]}) was edited: its hash does not match its content"
                )
            evidence_id = row[_EVIDENCE_ID]
            if evidence_id is not None:
                exchange = known.get(evidence_id)
                if exchange is None:
                    return self._fail(n, f"event {seq}: its evidence {evidence_id} was deleted")
                if exchange[0] != row[_EVIDENCE_HASH] or exchange[1] != exchange[0]:
                    return self._fail(n, f"event {seq}: its evidence {evidence_id} was edited")
                if evidence_id != self._last_ref:
                    self.referenced += 1
                    self.rising = self.rising and evidence_id > self._max_ref
                    self._last_ref = evidence_id
                    self._max_ref = max(self._max_ref, evidence_id)
            if not self.announced and row[_TRIGGER] == "prune" and row[_NOTE]:
                note = json.loads(row[_NOTE])
                self.announced = (note.get("checkpoint_seq"), note.get("checkpoint_hash")) == self.checkpoint
        self.seq, self.hash, self.events = expected, prev, n
        return True

    def _evidence_of(self, page: list[EventRow]) -> dict[int, tuple[str, str]]:
        """The evidence this page's events point to, read by id: ``id -> (stored hash, its content's hash)``.
        The previous page's is kept, since an exchange's events may straddle two pages."""
        ids = {row[_EVIDENCE_ID] for row in page}
        ids.discard(None)
        known = {i: self._evidence[i] for i in ids if i in self._evidence}
        missing = sorted(i for i in ids if i not in known)
        for row in self.reads.all_in(_EVIDENCE_SQL, missing) if missing else ():
            stored, content = row[_NE], _quick_digest(self._dumps, row[:_NE])
            known[row[_NE + 1]] = (stored, content if content == stored else _digest_or_none(row[:_NE]) or "")
        self._evidence = known
        return known

    def finish(self) -> ChainReport:
        """What a walk of the whole chain proves at its end: it ends at the head, the checkpoint it started
        from was announced, and every evidence row is some event's."""
        if self.problem is not None:
            return ChainReport(False, self.events, self.problem)
        head = self.reads.one(f"SELECT seq, hash FROM {journal_head.name} WHERE id = 1")
        head_seq, head_hash = head if head is not None else (None, None)
        if (head_seq, head_hash) != (self.seq, self.hash):
            problem = f"the chain ends at event {self.seq} but its head says {head_seq}: events were deleted at the end"
            return ChainReport(False, self.events, problem)
        if not self.announced and self.checkpoint is not None:
            return ChainReport(
                False, self.events, f"checkpoint at event {self.checkpoint[0]} matches no prune event: it was edited"
            )
        orphan = self._unreferenced_evidence()
        if orphan is not None:
            return ChainReport(False, self.events, f"evidence {orphan} is not referenced by any event")
        return ChainReport(True, self.events, None)

    def _unreferenced_evidence(self) -> int | None:
        """The lowest evidence id no event points to, if any. Every id the events point to exists (the walk
        checked), so there is none exactly when as many distinct ids are referenced as there are rows."""
        (total,) = self.reads.one(f"SELECT count(*) FROM {evidence.name}") or (0,)
        if self.rising:
            referenced = self.referenced
        else:  # ids did not rise with seq (PostgreSQL writers number evidence before the head lock)
            (referenced,) = self.reads.one(f"SELECT count(DISTINCT evidence_id) FROM {events.name}") or (0,)
        if referenced == total:
            return None
        row = self.reads.one(
            f"SELECT min(id) FROM {evidence.name} WHERE id NOT IN "
            f"(SELECT evidence_id FROM {events.name} WHERE evidence_id IS NOT NULL)"
        )
        return int(row[0]) if row is not None and row[0] is not None else None


def appended_jobs(conn: Connection, since: tuple[int, str], head: tuple[int, str]) -> frozenset[str] | None:
    """The jobs of the events appended after ``since`` (an event an audit verified as the head) up to
    ``head``, when those events check out as a continuation of the chain (links, hashes, evidence) and
    none is a prune; None otherwise.

    For a prune that audited the journal and then took the write lock: what was appended in between is
    checked here, under the lock, instead of auditing everything again.
    """
    with DriverReads(conn) as reads:
        walk = ChainWalk(reads, since[0], since[1])
        jobs: set[str] = set()
        for page in walk.pages(upto=head[0]):
            for row in page:
                if row[_TRIGGER] == "prune":
                    return None
                jobs.add(row[_JOB])
    if walk.problem is not None or (walk.seq, walk.hash) != head:
        return None
    return frozenset(jobs)


# -- pruning -----------------------------------------------------------------------------------------


class PrunePlan(NamedTuple):
    """A prune that keeps the chain verifiable: events ``1..cut`` and these jobs go; ``cut`` becomes the checkpoint."""

    cut: int
    jobs: frozenset[str]


def plan_prune(head_seq: int, candidates: Iterable[str], spans: Mapping[str, tuple[int, int]]) -> PrunePlan | None:
    """Which jobs and which prefix of the chain can go (pure: no database).

    Args:
        head_seq: the chain head's sequence number (the last event).
        candidates: jobs the caller would like to remove (finished, old enough).
        spans: every job's ``(first, last)`` event seq; a job without events is absent.

    Only a prefix of the chain can go: the cut is placed before the first event of any job that
    stays, and a candidate with events after the cut stays whole (which may move the cut earlier,
    hence the loop). Returns None when nothing can go.
    """
    removable = set(candidates)
    kept_firsts = [lo for job_id, (lo, _) in spans.items() if job_id not in removable]
    while True:
        cut = (min(kept_firsts) - 1) if kept_firsts else head_seq
        late = {j for j in removable if spans.get(j, (0, 0))[1] > cut}
        if not late:
            break
        removable -= late
        kept_firsts += [spans[j][0] for j in late]
    if not removable or cut <= 0:
        return None
    return PrunePlan(cut, frozenset(removable))


__all__ = [
    "VERIFY_COLS",
    "ChainReport",
    "ChainWalk",
    "DriverReads",
    "EventRow",
    "PrunePlan",
    "append_events",
    "appended_jobs",
    "digest_matches",
    "fast_decoder",
    "event_hash",
    "event_row",
    "evidence_hash",
    "lock_head",
    "plan_prune",
]
