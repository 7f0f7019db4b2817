"""Benchmarks: scripts that print tables (run them with ``python -m tests.benchmarks.<name>``), not tests."""
