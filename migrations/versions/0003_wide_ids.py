"""64-bit row ids and event sequence numbers on PostgreSQL (SQLite's INTEGER already is 64-bit).

The journal's ids were declared ``Integer``: a 64-bit rowid on SQLite but a 32-bit ``integer`` on
PostgreSQL, where a fleet's journal could run out of event numbers (``prune`` never reuses one).
On SQLite this revision changes nothing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, column, its serial sequence or None). Referenced columns before the columns that refer to them.
WIDE = (
    ("orders", "id", "orders_id_seq"),
    ("evidence", "id", "evidence_id_seq"),
    ("events", "seq", "events_seq_seq"),
    ("events", "order_pk", None),
    ("events", "evidence_id", None),
    ("journal_head", "seq", None),
    ("chain_checkpoint", "seq", None),
    ("chain_checkpoint", "events_removed", None),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, sequence in WIDE:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
        if sequence:
            # A serial column's sequence is "AS integer" since PostgreSQL 10 and would still stop at 2**31.
            op.execute(f"ALTER SEQUENCE {sequence} AS bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, sequence in reversed(WIDE):
        if sequence:
            op.execute(f"ALTER SEQUENCE {sequence} AS integer")
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
