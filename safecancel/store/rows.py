"""The values the journal hands out and takes in: frozen rows, redacted evidence, order changes.

ORM rows never leave :mod:`safecancel.store`; callers get these frozen dataclasses. The column tuples that
map table columns to their fields are in :mod:`.columns`. This module does not import SQLAlchemy: the
engine, the venue link and the CLI use these values without opening a journal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..model import JobStatus, OrderRef

if TYPE_CHECKING:  # the old import path, as type checkers see it (at run time: __getattr__ at the end)
    from .columns import _JOB_COLS as _JOB_COLS
    from .columns import _ORDER_COLS as _ORDER_COLS

# What a row keeps of text that came from outside: a venue's message, a recorded HTTP body.
MESSAGE_LIMIT = 500
BODY_LIMIT = 16_384
# Job statuses a runner still has work in (a ``done`` job is never claimed or joined again).
UNFINISHED = (JobStatus.OPEN, JobStatus.NEEDS_ATTENTION)
# ``jobs.kind`` of a dead-man switch (safecancel.deadman.KIND): its lease is its bot's heartbeat, so it is
# claimed only once that lease expired, never early because its holder's process is gone.
DEADMAN_KIND = "deadman"


def iso(ts: float) -> str:
    """Epoch seconds as ISO-8601 UTC with microseconds."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _clip(text: str | None, limit: int = MESSAGE_LIMIT) -> str | None:
    return None if text is None else text[:limit]


# json.dumps(..., separators=(",", ":"), ensure_ascii=False), without building an encoder per call: the
# same bytes (so every stored hash still matches), at half the cost on the audit's hot path.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _digest(values: Sequence[Any]) -> str:
    """sha256 of the values as compact JSON: the one encoding every hash in the journal uses.

    Here rather than in :mod:`.chain`, because an order set's fingerprint uses it too and rows must
    not import the chain (the chain imports rows).
    """
    return hashlib.sha256(_ENCODE(list(values)).encode()).hexdigest()


def fingerprint(refs: Iterable[OrderRef]) -> str:
    """sha256 of the sorted order set: the identity of "the same orders" for idempotency keys."""
    # A conditional order is marked; ordinary orders hash as they always did (derived keys stay stable).
    return _digest(
        sorted(
            [r.symbol, "order_id", r.order_id, *(["conditional"] if r.conditional else [])]
            if r.order_id is not None
            else [r.symbol, "client_order_id", r.client_order_id, *(["conditional"] if r.conditional else [])]
            for r in refs
        )
    )


@dataclass(frozen=True, slots=True)
class OrderRow:
    pk: int
    job_id: str
    seq: int
    symbol: str
    order_id: str | None
    client_order_id: str | None
    state: str
    reason: str | None
    provenance: str | None
    attempts: int
    queries: int
    next_at_ms: int
    not_found_seen: int = 0
    conditional: bool = False

    @property
    def ref(self) -> OrderRef:
        return OrderRef(self.symbol, self.order_id, self.client_order_id, bool(self.conditional))


@dataclass(frozen=True, slots=True)
class JobRow:
    id: str
    key: str
    venue: str
    account: str
    fingerprint: str
    status: str
    order_count: int
    created_at: str
    finished_at: str | None
    lease_owner: str | None
    lease_expires_ms: int | None
    base_url: str | None = None
    key_fp: str | None = None
    lease_proc: str | None = None
    attention: str | None = None
    kind: str | None = None  # None: a cancel of given ids; "cancel_all": a kill switch
    scope: str | None = None  # the kill switch's scope (JSON)
    verified_empty_at: str | None = None
    verified_evidence: int | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One HTTP exchange, already redacted by the caller."""

    endpoint: str
    method: str
    path: str
    query: str
    body: str | None
    status: int | None
    response: str | None
    elapsed_ms: int | None
    error: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Change:
    """One order's step: a trigger from the state table (or an observation), and what the venue said."""

    row: OrderRow
    trigger: str
    reason: str | None = None
    provenance: str | None = None
    code: str | None = None
    message: str | None = None
    next_at_ms: int | None = None
    http_status: int | None = None
    query: bool = False  # this change comes from a reconciliation query (counts it)
    note: str | None = None
    not_found: bool = False  # the venue answered "no such order" (consecutive answers are counted)
    unsent: bool = False  # the write-ahead's request provably never left this machine


def __getattr__(name: str) -> object:
    # The column tuples moved to .columns (they need SQLAlchemy, which the values above must not load);
    # the old import path `from .rows import _ORDER_COLS` keeps working, resolved on first use.
    if name in ("_ORDER_COLS", "_JOB_COLS"):
        from . import columns

        value = getattr(columns, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BODY_LIMIT",
    "MESSAGE_LIMIT",
    "UNFINISHED",
    "DEADMAN_KIND",
    "Change",
    "Evidence",
    "JobRow",
    "OrderRow",
    "fingerprint",
    "iso",
]
