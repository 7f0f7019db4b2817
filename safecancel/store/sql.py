"""The journal's hot-path statements as driver-level SQL: fixed text, positional tuples, built once.

Every order change goes through a handful of statements (lock the rows, compare-and-set them, store
the exchange, append the events, move the head). Through SQLAlchemy's expression layer each execution
re-walks the statement and builds a parameter dict per row; measured on a 5,000-order cancel, that
cost more than the SQL itself. Here the text of each statement is written once per dialect and run
with ``Connection.exec_driver_sql`` over plain tuples (``executemany`` for batches): the same
statements, the same transaction and locks, a fraction of the Python work.

Only the placeholder differs between the drivers (sqlite3: ``?``; psycopg: ``%s``). Column lists are
taken from :mod:`.schema`, so the tables stay defined in one place.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from .schema import events, evidence, orders


def placeholder(dialect: str) -> str:
    return "%s" if dialect == "postgresql" else "?"


# The columns a compare-and-set reads, in this order (changes._Current's fields).
CAS_READ = (
    "id",
    "state",
    "reason",
    "provenance",
    "attempts",
    "queries",
    "not_found_seen",
    "last_code",
    "last_message",
    "next_at_ms",
    "unsent",
)
# What a compare-and-set writes, in this order, then the row id and the state it must still be in.
CAS_WRITE = (
    "state",
    "updated_at",
    "attempts",
    "queries",
    "not_found_seen",
    "reason",
    "provenance",
    "last_code",
    "last_message",
    "next_at_ms",
    "unsent",
)
# A new order's columns (writer._order_values builds the tuples in this order).
ORDER_INSERT_COLS = (
    "job_id",
    "seq",
    "symbol",
    "order_id",
    "client_order_id",
    "state",
    "attempts",
    "queries",
    "not_found_seen",
    "next_at_ms",
    "updated_at",
    "conditional",
)
# An evidence row's columns as inserted (its id comes back), and an event row's.
EVIDENCE_COLS = tuple(c.name for c in evidence.columns if c.name != "id")
EVENT_COLS = tuple(c.name for c in events.columns)


class Statements(NamedTuple):
    insert_orders: str
    insert_events: str
    insert_evidence: str  # ... RETURNING id
    cas_update: str
    lock_head: str
    move_head: str


@cache
def statements(dialect: str) -> Statements:
    p = placeholder(dialect)

    def marks(n: int) -> str:
        return ", ".join([p] * n)

    head_lock = " FOR UPDATE" if dialect == "postgresql" else ""  # SQLite's BEGIN IMMEDIATE already serializes
    return Statements(
        insert_orders=(
            f"INSERT INTO {orders.name} ({', '.join(ORDER_INSERT_COLS)}) VALUES ({marks(len(ORDER_INSERT_COLS))})"
        ),
        insert_events=f"INSERT INTO {events.name} ({', '.join(EVENT_COLS)}) VALUES ({marks(len(EVENT_COLS))})",
        insert_evidence=(
            f"INSERT INTO {evidence.name} ({', '.join(EVIDENCE_COLS)}) "
            f"VALUES ({marks(len(EVIDENCE_COLS))}) RETURNING id"
        ),
        cas_update=(
            f"UPDATE {orders.name} SET {', '.join(f'{c} = {p}' for c in CAS_WRITE)} WHERE id = {p} AND state = {p}"
        ),
        lock_head=f"SELECT seq, hash FROM journal_head WHERE id = 1{head_lock}",
        move_head=f"UPDATE journal_head SET seq = {p}, hash = {p} WHERE id = 1",
    )


def lock_orders(dialect: str, n: int) -> str:
    """Read ``n`` orders' compare-and-set columns by id (locked, in id order, on PostgreSQL)."""
    p = placeholder(dialect)
    sql = f"SELECT {', '.join(CAS_READ)} FROM {orders.name} WHERE id IN ({', '.join([p] * n)})"
    # In id order, so two writers locking overlapping sets take them in the same order.
    return sql + " ORDER BY id FOR UPDATE" if dialect == "postgresql" else sql


__all__ = [
    "CAS_READ",
    "CAS_WRITE",
    "EVENT_COLS",
    "EVIDENCE_COLS",
    "ORDER_INSERT_COLS",
    "Statements",
    "lock_orders",
    "statements",
]
