"""Alembic environment: safecancel runs migrations on a connection it already holds.

``safecancel.store.db`` passes that connection in ``config.attributes["connection"]``; running
``alembic`` from the command line also works (``-x url=...``) for operators who want to.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


run()
