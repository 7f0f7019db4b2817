"""Which table columns fill which frozen row: the one place that maps them.

``select(*_ORDER_COLS)`` rows unpack straight into :class:`~.rows.OrderRow` (and ``_JOB_COLS`` into
:class:`~.rows.JobRow`). Apart from :mod:`.rows` because these need the SQLAlchemy schema and the rows
must not: the values are imported by code that never opens a journal (link, engine, CLI start-up).
"""

from __future__ import annotations

from .schema import jobs, orders

# In the order of OrderRow's / JobRow's fields.
_ORDER_COLS = (
    orders.c.id,
    orders.c.job_id,
    orders.c.seq,
    orders.c.symbol,
    orders.c.order_id,
    orders.c.client_order_id,
    orders.c.state,
    orders.c.reason,
    orders.c.provenance,
    orders.c.attempts,
    orders.c.queries,
    orders.c.next_at_ms,
    orders.c.not_found_seen,
    orders.c.conditional,
)
_JOB_COLS = (
    jobs.c.id,
    jobs.c.key,
    jobs.c.venue,
    jobs.c.account,
    jobs.c.fingerprint,
    jobs.c.status,
    jobs.c.order_count,
    jobs.c.created_at,
    jobs.c.finished_at,
    jobs.c.lease_owner,
    jobs.c.lease_expires_ms,
    jobs.c.base_url,
    jobs.c.key_fp,
    jobs.c.lease_proc,
    jobs.c.attention,
    jobs.c.kind,
    jobs.c.scope,
    jobs.c.verified_empty_at,
    jobs.c.verified_evidence,
)
