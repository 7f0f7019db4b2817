"""Time, injected. Library code never calls ``time.time()`` or ``time.sleep()`` directly, so tests can
substitute a clock whose ``sleep`` only advances ``now``."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock epoch seconds (for timestamps sent to venues and written to the journal)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for deadlines, pacing and backoff)."""

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
"""The one real clock: clients that share it share their rate budgets per venue and key."""


class FakeClock:
    """A clock for tests: ``sleep`` advances time instantly."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start
        self._mono = 1000.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)
            self._mono += max(0.0, seconds)
