"""The journal's tables (SQLAlchemy Core). The alembic migrations in ``migrations/`` create exactly these;
``tests/unit/test_store.py`` compares the two so they cannot drift.

Times are ISO-8601 UTC strings with microseconds (``2026-11-23T13:37:07.123456Z``): portable across
SQLite and PostgreSQL, sortable as text, and byte-stable inside the audit hashes. Deadlines and leases
that the engine compares arithmetically are integer epoch milliseconds.

Row ids and event sequence numbers are 64-bit on both backends (:data:`Id`): SQLite's INTEGER
already is, PostgreSQL's INTEGER is not (2**31 events is reachable for a busy fleet, and ``prune``
never reuses a sequence number). ``events.seq`` is written explicitly by the journal (the chain
decides it under the head lock); the column's own sequence on PostgreSQL is simply never used.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# BIGINT on PostgreSQL; plain INTEGER on SQLite, where only "INTEGER PRIMARY KEY" is the 64-bit
# rowid that autoincrements ("BIGINT PRIMARY KEY" would not be).
Id = BigInteger().with_variant(Integer(), "sqlite")

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("venue", String(32), nullable=False),
    Column("account", String(100), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the sorted order set
    Column("status", String(20), nullable=False),  # open | done | needs_attention
    Column("order_count", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("lease_owner", String(100)),
    Column("lease_expires_ms", BigInteger),
    Column("base_url", String(300)),  # the normalized base URL the job runs against (NULL: created before 0004)
    Column("key_fp", String(32)),  # one-way fingerprint of the API key it runs under (never the key)
    Column("lease_proc", String(120)),  # the holder's boot id / pid namespace / start time: proves it dead
    Column("attention", Text),  # why the job stopped short, in plain words
    Column("kind", String(16)),  # NULL: a cancel of given ids; "cancel_all": a kill switch (0005)
    Column("scope", Text),  # a kill switch's scope, JSON
    Column("verified_empty_at", String(32)),  # when a listing showed the kill switch's scope empty
    Column("verified_evidence", BigInteger),  # that listing's evidence row
    Index("ix_jobs_status", "status"),
    Index("ix_jobs_created_at", "created_at"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job_id", String(40), ForeignKey("jobs.id"), nullable=False),
    Column("seq", Integer, nullable=False),  # position in the caller's list
    Column("symbol", String(40), nullable=False),
    Column("order_id", String(80)),
    Column("client_order_id", String(80)),
    Column("state", String(10), nullable=False),
    Column("reason", String(40)),
    Column("provenance", String(20)),
    Column("attempts", Integer, nullable=False, default=0),  # write-aheads (cancel requests) for this order
    Column("unsent", Integer, nullable=False, default=0, server_default="0"),  # of which provably never left
    Column("conditional", Integer, nullable=False, default=0, server_default="0"),  # on the conditional list
    Column("queries", Integer, nullable=False, default=0),  # reconciliation queries made
    Column("not_found_seen", Integer, nullable=False, default=0),  # consecutive "no such order" answers
    Column("last_code", String(64)),
    Column("last_message", String(500)),
    Column("next_at_ms", BigInteger, nullable=False, default=0),  # not before (backoff)
    Column("updated_at", String(32), nullable=False),
    Index("ix_orders_job_state", "job_id", "state"),
    Index("ix_orders_order_id", "order_id"),
    Index("ix_orders_client_order_id", "client_order_id"),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job_id", String(40), ForeignKey("jobs.id"), nullable=False),
    Column("at", String(32), nullable=False),
    Column("endpoint", String(16), nullable=False),  # cancel | query | time
    Column("method", String(8), nullable=False),
    Column("path", String(300), nullable=False),
    Column("query", Text, nullable=False),  # secrets replaced by ***
    Column("body", Text),  # the request body (venues put no secret in a body)
    Column("status", Integer),  # None when no reply came
    Column("response", Text),  # bounded
    Column("elapsed_ms", Integer),
    Column("error", Text),  # transport failure, when there was one
    Column("hash", String(64), nullable=False),  # sha256 of the row's content; events carry it
    Index("ix_evidence_job", "job_id"),
)

events = Table(
    "events",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("job_id", String(40), ForeignKey("jobs.id"), nullable=False),
    Column("order_pk", Id, ForeignKey("orders.id")),  # None for job-level events
    Column("trigger", String(24), nullable=False),
    Column("from_state", String(10)),
    Column("to_state", String(10)),
    Column("attempt", Integer),
    Column("at", String(32), nullable=False),
    Column("http_status", Integer),
    Column("venue_code", String(64)),
    Column("venue_message", String(500)),
    Column("provenance", String(20)),
    Column("reason", String(40)),
    Column("evidence_id", Id, ForeignKey("evidence.id")),
    Column("evidence_hash", String(64)),
    Column("note", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_events_job", "job_id"),
    Index("ix_events_order", "order_pk"),
)

# One row: the head of the hash chain. Every write transaction that appends events locks and updates
# it, which serializes appends on every backend (SQLite's BEGIN IMMEDIATE, PostgreSQL's row lock):
# see the journal's module docstring for why one global chain rather than one per job.
journal_head = Table(
    "journal_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Id, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Where `prune` cut the chain: verification starts from the newest checkpoint instead of genesis.
# Each checkpoint is also announced by a "prune" event in the chain, so it cannot be edited unseen.
chain_checkpoint = Table(
    "chain_checkpoint",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", Id, nullable=False),  # the last removed event
    Column("hash", String(64), nullable=False),  # its hash: the next event's prev_hash
    Column("at", String(32), nullable=False),
    Column("before", String(32), nullable=False),
    Column("jobs_removed", Integer, nullable=False),
    Column("events_removed", Id, nullable=False),
)

GENESIS_HASH = "0" * 64
