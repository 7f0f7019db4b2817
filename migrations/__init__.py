"""Alembic migrations for the safecancel journal (shipped in the wheel as ``safecancel.migrations``)."""
