"""Start-up stays light: which libraries a fresh process has loaded after an import or a CLI call.

Behaviour, not timing (the times are in tests/benchmarks/mass_cancel.py): each case runs in a new
interpreter, because this test process has long since imported everything, and reads its
``sys.modules`` at the end. The heavy libraries are SQLAlchemy and alembic (the journal), requests
(the transport) and rich (the tables).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import safecancel
from safecancel import deadman
from safecancel.cli import cli
from tests.conftest import SYMBOLS, seed_open

HEAVY = ("sqlalchemy", "alembic", "requests", "rich")


def loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """The heavy libraries a fresh interpreter has imported once ``code`` ran (its stdout is discarded)."""
    script = textwrap.dedent(
        """
        import contextlib, io, json, sys
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
        {code}
            except SystemExit:
                pass
        print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
        """
    ).format(code=textwrap.indent(textwrap.dedent(code).strip(), " " * 8), heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def cli_call(*args: str) -> str:
    """Code that runs ``safecancel ARGS`` in-process, as the console script does."""
    return f"from safecancel.cli import cli\ncli.main({list(args)!r}, prog_name='safecancel')"


def test_import_safecancel_loads_nothing_heavy():
    assert loaded_after("import safecancel") == set()


def test_a_public_name_loads_its_own_module_only():
    # VenueConfig needs the config and the venue registry, not the journal, the transport or rich.
    assert loaded_after("from safecancel import VenueConfig, InputError, OrderRef") == set()


def test_importing_the_client_loads_nothing_heavy():
    # The journal opens on first use (a client that only lists open orders never loads SQLAlchemy), and
    # requests loads with the first request sent.
    assert loaded_after("from safecancel import Client") == set()


def test_star_import_gives_every_public_name():
    namespace: dict[str, object] = {}
    exec("from safecancel import *", namespace)
    assert set(safecancel.__all__) <= set(namespace)
    assert set(safecancel.__all__) <= set(dir(safecancel))
    assert isinstance(safecancel.__version__, str) and safecancel.__version__


def test_cli_help_loads_nothing_heavy():
    assert loaded_after(cli_call("--help")) == set()


def test_every_command_help_loads_nothing_heavy():
    commands = [
        [name, *([sub] if sub else [])]
        for name, command in cli.commands.items()
        for sub in (getattr(command, "commands", None) or [None])
    ]
    assert ["audit", "verify"] in commands and ["cancel"] in commands
    # One interpreter for all of them; each --help ends in SystemExit, so each call is wrapped.
    calls = "".join(
        f"try:\n    cli.main({[*c, '--help']!r}, prog_name='safecancel')\nexcept SystemExit:\n    pass\n"
        for c in commands
    )
    assert loaded_after("from safecancel.cli import cli\n" + calls) == set()


def test_the_cli_offers_the_dead_man_switchs_own_modes():
    # The CLI writes the modes out (importing the switch would slow every --help): they must agree.
    mode = next(p for p in cli.commands["deadman"].params if p.name == "mode")
    assert tuple(mode.type.choices) == deadman.MODES


def test_read_only_commands_never_load_alembic(make_client, fake, db_path):
    ids = seed_open(fake, "binance_coinm", 3)
    job_id = make_client().cancel("binance_coinm", SYMBOLS["binance_coinm"], order_ids=ids).job_id
    db = ["--db", db_path]
    for args in (
        ["history", *db],
        ["show", job_id, *db],
        ["export", *db, "-o", "-"],
        ["audit", "verify", *db],
    ):
        loaded = loaded_after(cli_call(*args))
        assert "alembic" not in loaded, args
        assert "sqlalchemy" in loaded, args  # the journal was really read (else the check proves nothing)


def test_json_output_does_not_load_rich(make_client, fake, db_path):
    ids = seed_open(fake, "binance_coinm", 2)
    job_id = make_client().cancel("binance_coinm", SYMBOLS["binance_coinm"], order_ids=ids).job_id
    for args in (["history", "--db", db_path, "--json"], ["show", job_id, "--db", db_path, "--json"]):
        assert "rich" not in loaded_after(cli_call(*args)), args
