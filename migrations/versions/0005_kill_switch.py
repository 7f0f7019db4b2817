"""Kill-switch jobs: a job's kind and scope, when its scope was verified empty, conditional orders.

- ``jobs.kind``: NULL for a batch cancel of given ids; ``cancel_all`` for a kill switch
  (``client.cancel_all``), whose orders are discovered from the venue's listings.
- ``jobs.scope``: the kill switch's scope as JSON (symbol, client prefix or id range, conditional
  orders included or not, native first strike), so ``resume`` can sweep the same scope again.
- ``jobs.verified_empty_at`` / ``jobs.verified_evidence``: the time of the listing that showed the
  scope empty, and its evidence row (NULL until a sweep did).
- ``orders.conditional``: the order is on the venue's list of conditional orders (HTX algo, Bitget
  plan, BingX OCO), cancelled and queried through the venue's conditional-order endpoints.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("kind", sa.String(16)))
        batch.add_column(sa.Column("scope", sa.Text()))
        batch.add_column(sa.Column("verified_empty_at", sa.String(32)))
        batch.add_column(sa.Column("verified_evidence", sa.BigInteger()))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("conditional", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("conditional")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("verified_evidence")
        batch.drop_column("verified_empty_at")
        batch.drop_column("scope")
        batch.drop_column("kind")
