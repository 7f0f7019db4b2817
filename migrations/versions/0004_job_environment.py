"""A job remembers where it ran and why it stopped; leases name the holder's process; unsent sends.

- ``jobs.base_url`` / ``jobs.key_fp``: the normalized base URL and a one-way fingerprint of the API key
  the job was created with. ``resume`` uses that URL and runs the job only under a key with the same
  fingerprint, so a job never moves to another environment by accident (a testnet job finished
  against production, a job sent to a URL the environment happens to name today).
- ``jobs.lease_proc``: the lease holder's boot id, pid namespace and process start time, so a runner
  on the same host can prove the holder dead (a reused pid is not mistaken for it) and take over at
  once instead of waiting for the lease to expire.
- ``jobs.attention``: why a job stopped short (in plain words), shown by ``show`` and ``resume``.
- ``orders.unsent``: write-aheads whose request provably never left the machine, so ``attempts``
  minus ``unsent`` counts only requests that may have reached the venue.

Jobs created before this revision have no environment (NULL): the first run binds them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("base_url", sa.String(300)))
        batch.add_column(sa.Column("key_fp", sa.String(32)))
        batch.add_column(sa.Column("lease_proc", sa.String(120)))
        batch.add_column(sa.Column("attention", sa.Text()))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("unsent", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("unsent")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("attention")
        batch.drop_column("lease_proc")
        batch.drop_column("key_fp")
        batch.drop_column("base_url")
