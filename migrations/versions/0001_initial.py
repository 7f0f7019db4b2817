"""The journal: jobs, orders, evidence, hash-chained events and the chain head.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("order_count", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32)),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_expires_ms", sa.BigInteger),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(80)),
        sa.Column("client_order_id", sa.String(80)),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(40)),
        sa.Column("provenance", sa.String(20)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("queries", sa.Integer, nullable=False),
        sa.Column("not_found_seen", sa.Integer, nullable=False),
        sa.Column("last_code", sa.String(64)),
        sa.Column("last_message", sa.String(500)),
        sa.Column("next_at_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_orders_job_state", "orders", ["job_id", "state"])
    op.create_index("ix_orders_order_id", "orders", ["order_id"])
    op.create_index("ix_orders_client_order_id", "orders", ["client_order_id"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("endpoint", sa.String(16), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("status", sa.Integer),
        sa.Column("response", sa.Text),
        sa.Column("elapsed_ms", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_evidence_job", "evidence", ["job_id"])
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("order_pk", sa.Integer, sa.ForeignKey("orders.id")),
        sa.Column("trigger", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(10)),
        sa.Column("to_state", sa.String(10)),
        sa.Column("attempt", sa.Integer),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("venue_code", sa.String(64)),
        sa.Column("venue_message", sa.String(500)),
        sa.Column("provenance", sa.String(20)),
        sa.Column("reason", sa.String(40)),
        sa.Column("evidence_id", sa.Integer, sa.ForeignKey("evidence.id")),
        sa.Column("evidence_hash", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_events_job", "events", ["job_id"])
    op.create_index("ix_events_order", "events", ["order_pk"])
    op.create_table(
        "journal_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(
        sa.table(
            "journal_head", sa.column("id", sa.Integer), sa.column("seq", sa.Integer), sa.column("hash", sa.String)
        ),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )


def downgrade() -> None:
    for name in ("journal_head", "events", "evidence", "orders", "jobs"):
        op.drop_table(name)
