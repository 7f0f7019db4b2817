"""A bot that imports safecancel gets our types (PEP 561 ``py.typed``), as ``mypy`` sees an installed package.

The package is put on the path as an installed one (a directory on ``PYTHONPATH``, which mypy treats
like site-packages: it reads it only with a ``py.typed`` marker), not as source, so a missing marker
fails this test. The editable install's import hook is invisible to mypy, hence the symlink.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import safecancel

pytest.importorskip("mypy", reason="mypy is a dev tool: pip install -e '.[dev]'")

BOT = """
from safecancel import Client, JobResult, VenueRejected

def run(ids: list[str]) -> JobResult:
    with Client("bot.db") as client:
        result = client.cancel("binance_coinm", "BTCUSD_PERP", order_ids=ids)
        wrong: int = result.job_id  # a str: mypy must say so, which it can only if it read our types
        return result
"""


def test_a_bots_type_checker_reads_our_types(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "safecancel").symlink_to(Path(safecancel.__file__).parent, target_is_directory=True)
    (tmp_path / "bot.py").write_text(BOT)
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--python-executable", sys.executable, "bot.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    text = out.stdout + out.stderr
    assert "missing library stubs or py.typed" not in text, text
    assert (
        'bot.py:7: error: Incompatible types in assignment (expression has type "str", variable has type "int")' in text
    )
    assert "Found 1 error in 1 file" in text, text
