"""Chain checkpoints: where `safecancel prune` cut the hash chain, so what remains still verifies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_checkpoint",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("before", sa.String(32), nullable=False),
        sa.Column("jobs_removed", sa.Integer, nullable=False),
        sa.Column("events_removed", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chain_checkpoint")
