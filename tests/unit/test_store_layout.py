"""The one-writer rule, checked on the source: only the store's writer modules issue SQL writes.

Each module of ``safecancel/store`` is parsed with :mod:`ast`, and every SQL write is found: a call
of SQLAlchemy's ``insert``/``update``/``delete`` (however imported, or as ``sa.update``), a table's
own ``jobs.update()``, and raw SQL (``exec_driver_sql``/``text``/``execute``) that starts with a
write statement. A write is allowed only where :data:`WRITERS` says; everywhere else (``reads.py``,
``rows.py``, ``db.py``, a module added later) a write fails the test, naming the line.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import safecancel.store
from safecancel.store import Journal
from safecancel.store.reads import JournalReads
from safecancel.store.sql import statements
from safecancel.store.writer import JournalWriter

STORE = Path(safecancel.store.__file__).parent
# Module -> the functions in it that may write (None: any of them).
WRITERS: dict[str, frozenset[str] | None] = {
    "writer.py": None,  # jobs, leases, retention: the Journal's write side
    "changes.py": None,  # the order compare-and-set with its events and evidence
    "chain.py": frozenset({"append_events"}),  # the chain's only write: events after the head
    "transfer.py": None,  # copies whole journals, row for row (migrate-store)
}
WRITE_FUNCTIONS = frozenset({"insert", "update", "delete"})
SQL_RUNNERS = frozenset({"exec_driver_sql", "text", "execute"})
WRITE_SQL = re.compile(r"\s*(insert|update|delete|truncate|drop|alter|create|merge|replace)\b", re.IGNORECASE)
SQLALCHEMY = re.compile(r"sqlalchemy(\.|$)")
# The hot path's prepared statements (safecancel/store/sql.py) are run by name, ``conn.exec_driver_sql(
# statements(d).insert_events, rows)``: the names whose text writes count as writes wherever they are run.
WRITE_STATEMENTS = frozenset(
    name for name, text in statements("sqlite")._asdict().items() if WRITE_SQL.match(text)
) | frozenset(name for name, text in statements("postgresql")._asdict().items() if WRITE_SQL.match(text))


def _leading_text(node: ast.AST) -> str | None:
    """The literal start of a string argument (a plain string or an f-string), if it has one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def sql_writes(source: str) -> list[tuple[str, int, str]]:
    """``(enclosing function or "<module>", line, what)`` for every SQL write in a module's source."""
    tree = ast.parse(source)
    write_names: set[str] = set()  # local names bound to sqlalchemy's insert/update/delete
    sa_modules: set[str] = set()  # local names bound to the sqlalchemy module (sa.update)
    tables: set[str] = set()  # local names imported from the schema (jobs.update())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                local = alias.asname or alias.name
                if SQLALCHEMY.match(module) and alias.name in WRITE_FUNCTIONS:
                    write_names.add(local)
                elif module.endswith("schema"):
                    tables.add(local)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if SQLALCHEMY.match(alias.name):
                    sa_modules.add((alias.asname or alias.name).split(".")[0])

    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            where = node.name if where == "<module>" else where  # a nested function counts as its outer one
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in write_names:
                found.append((where, node.lineno, f"{func.id}("))
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                owner, attr = func.value.id, func.attr
                if attr in WRITE_FUNCTIONS and (owner in sa_modules or owner in tables):
                    found.append((where, node.lineno, f"{owner}.{attr}("))
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            text = _leading_text(node.args[0]) if node.args else None
            if name in SQL_RUNNERS and text is not None and WRITE_SQL.match(text):
                found.append((where, node.lineno, f"{name}({text.strip().split()[0]} ...)"))
            first = node.args[0] if node.args else None
            if name in SQL_RUNNERS and isinstance(first, ast.Attribute) and first.attr in WRITE_STATEMENTS:
                found.append((where, node.lineno, f"{name}(.{first.attr})"))
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, "<module>")
    return found


def test_the_check_finds_writes_however_they_are_spelled():
    # The check must be able to fail: each spelling of a write below is found, and nothing else is.
    source = """
import sqlalchemy as sa
from sqlalchemy import update as upd, select
from sqlalchemy.dialects.postgresql import insert
from .schema import jobs

def reads_then_writes(conn, row):
    conn.execute(select(jobs))
    row.update(state="x")              # a dict's update: not SQL
    conn.execute(upd(jobs).values(status="done"))
    conn.execute(jobs.delete())
    conn.execute(sa.update(jobs))
    conn.execute(insert(jobs).on_conflict_do_nothing())
    conn.exec_driver_sql("  DELETE FROM jobs")
    conn.exec_driver_sql(f"truncate {jobs.name}")
    conn.exec_driver_sql("SELECT 1")
    conn.exec_driver_sql(statements("sqlite").insert_events, [row])
    conn.exec_driver_sql(statements("sqlite").lock_head)

def outer():
    def inner(conn):
        conn.execute(upd(jobs))
"""
    assert sql_writes(source) == [
        ("reads_then_writes", 10, "upd("),
        ("reads_then_writes", 11, "jobs.delete("),
        ("reads_then_writes", 12, "sa.update("),
        ("reads_then_writes", 13, "insert("),
        ("reads_then_writes", 14, "exec_driver_sql(DELETE ...)"),
        ("reads_then_writes", 15, "exec_driver_sql(truncate ...)"),
        ("reads_then_writes", 17, "exec_driver_sql(.insert_events)"),
        ("outer", 22, "upd("),
    ]


@pytest.mark.parametrize("module", sorted(p.name for p in STORE.glob("*.py")))
def test_only_the_writer_modules_write(module):
    writes = sql_writes((STORE / module).read_text(encoding="utf-8"))
    if module not in WRITERS:
        assert writes == [], f"{module} writes ({writes}); writes belong in {sorted(WRITERS)}"
        return
    allowed = WRITERS[module]
    if allowed is not None:
        stray = [w for w in writes if w[0] not in allowed]
        assert stray == [], f"{module} may write only in {sorted(allowed)}: {stray}"


def test_reads_issues_no_writes():
    # Named on its own because it is the point of the split: the read side cannot change the journal,
    # neither by SQL of its own, nor through a write transaction, nor by calling into the write side.
    source = (STORE / "reads.py").read_text(encoding="utf-8")
    assert sql_writes(source) == []
    tree = ast.parse(source)
    opens = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "write"]
    assert opens == [], f"reads.py opens write transactions at lines {opens}"
    imported = {
        (node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    writers = {(m, n) for m, n in imported if m in ("writer", "changes") or n == "append_events"}
    assert writers == set(), f"reads.py imports the write side: {writers}"


def test_the_writer_modules_really_write():
    # Guards the check itself: were it blind to how these modules spell their writes, the tests
    # above would pass whatever reads.py did.
    for module in ("writer.py", "changes.py", "chain.py"):
        assert sql_writes((STORE / module).read_text(encoding="utf-8")), module
    assert {w[0] for w in sql_writes((STORE / "chain.py").read_text(encoding="utf-8"))} == {"append_events"}


def test_the_journal_is_only_its_two_sides():
    # journal.py assembles; every method lives on the read side or the write side, and the two
    # sides share no name (a write cannot hide behind a read's name).
    own = {name for name in vars(Journal) if not name.startswith("__")}
    assert own == set(), own
    reads = {n for n, _ in inspect.getmembers(JournalReads, inspect.isfunction)}
    writes = {n for n, _ in inspect.getmembers(JournalWriter, inspect.isfunction)}
    assert reads and writes and not reads & writes, reads & writes


def test_the_journal_keeps_its_public_methods():
    # engine.py, client.py, the CLI, the tests and the benchmarks call these by name.
    public = {name for name in dir(Journal) if not name.startswith("_")}
    assert public == {
        "acquire", "add_orders", "apply", "apply_batch", "audit", "claim_next", "counts", "create_job", "export",
        "export_columns", "find_job", "find_order", "get_job", "head", "heartbeat", "history", "job_result", "lease",
        "mark_sent", "orders", "prune", "rebind", "record_event", "record_exchange", "record_sweep", "release",
        "renew", "resolve", "set_status", "unfinished_job_ids", "verify",
    }  # fmt: skip
