"""Shared by the dead-man switch tests and ``tests/trials/dead_man_trials.py``: fakes, a deadman child, waits."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from safecancel import Client, VenueConfig
from safecancel.testing import FakeVenue
from safecancel.venues import venue_class
from tests.integration._harness import CREDS, FAST, PYTHON, ROOT, SYMBOLS, VENUES, first_line, venue_env

ORDERS = 20
TIMEOUT = 10
NATIVE = tuple(v for v in VENUES if venue_class(v).countdown_scope is not None)
GUARDED = tuple(v for v in VENUES if venue_class(v).countdown_scope is None)


@contextmanager
def fakes(**kw: object) -> Iterator[dict[str, FakeVenue]]:
    """One fake per venue: scenarios running at once never share an account."""
    with ExitStack() as stack:
        yield {v: stack.enter_context(FakeVenue(**kw)) for v in VENUES}  # type: ignore[arg-type]


def seed(fake: FakeVenue, venue: str) -> set[str]:
    numeric = venue_class(venue).numeric_client_ids  # BitoPro's client ids are integers
    cids = [str(100_000 + i) if numeric else f"bot-{i}" for i in range(ORDERS)]
    return {o["order_id"] for o in fake.seed(venue, SYMBOLS[venue], [{"client_order_id": c} for c in cids])}


def statuses(fake: FakeVenue, venue: str, ids: set[str]) -> dict[str, str]:
    return {k: v for k, v in fake.order_status(venue).items() if k in ids}


def start_deadman(fake: FakeVenue, venue: str, db: Path, timeout: int = TIMEOUT) -> subprocess.Popen[str]:
    env = venue_env(fake.url, db, venues=[venue])
    args = ["deadman", "--venue", venue, "--symbol", SYMBOLS[venue], "--timeout", str(timeout), "--json"]
    return subprocess.Popen(
        [PYTHON, "-m", "safecancel.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def armed_line(proc: subprocess.Popen[str], timeout: float = 30.0) -> dict:
    line = first_line(proc, timeout)
    assert line, f"no armed line; stderr: {proc.stderr.read() if proc.poll() is not None else '(running)'}"  # type: ignore[union-attr]
    event = json.loads(line)
    assert event["event"] == "armed", event
    return event


def reader(db: Path, venue: str, fake: FakeVenue) -> Client:
    return Client(str(db), venues=[VenueConfig(venue, credentials=CREDS, base_url=fake.url)], retry=FAST)


def wait_until(check: Callable[[], bool], limit: float, step: float = 0.2) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if check():
            return time.monotonic() - start
        time.sleep(step)
    return -1.0


def guardian_gone(pid: int, limit: float = 30.0) -> bool:
    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie (its parent is gone; init reaps it) counts as gone.
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(") ", 1)[1].startswith("Z")
        except OSError:
            return True

    return wait_until(gone, limit) >= 0
