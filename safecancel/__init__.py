"""safecancel: cancel many orders at once on crypto venues without ever losing track of one.

    from safecancel import Client
    with Client("safecancel.db") as client:
        result = client.cancel("binance_coinm", "BTCUSD_PERP", order_ids=[101, 102, 103])
"""

from __future__ import annotations

import logging

from .client import Client, credentials_from_env
from .clock import Clock, FakeClock, SystemClock
from .engine import RetryPolicy
from .errors import (
    AuthError,
    ConcurrentUpdate,
    IdempotencyConflict,
    IllegalTransition,
    InputError,
    LeaseHeld,
    SafeCancelError,
    SchemaOutOfDate,
    StoreError,
    TransportError,
    VenueError,
    VenueRejected,
)
from .model import Credentials, EventRecord, JobResult, JobSummary, OrderRef, OrderResult
from .states import OrderState, Provenance
from .venues import VENUE_NAMES, Rate

__version__ = "0.1.0"

# A library logs; the application decides where to. Without this, Python's last-resort handler would
# print our warnings on the stderr of every bot that has not configured logging.
logging.getLogger("safecancel").addHandler(logging.NullHandler())

__all__ = [
    "AuthError",
    "Client",
    "Clock",
    "ConcurrentUpdate",
    "Credentials",
    "EventRecord",
    "FakeClock",
    "IdempotencyConflict",
    "IllegalTransition",
    "InputError",
    "JobResult",
    "JobSummary",
    "LeaseHeld",
    "OrderRef",
    "OrderResult",
    "OrderState",
    "Provenance",
    "Rate",
    "RetryPolicy",
    "SafeCancelError",
    "SchemaOutOfDate",
    "StoreError",
    "SystemClock",
    "TransportError",
    "VENUE_NAMES",
    "VenueError",
    "VenueRejected",
    "credentials_from_env",
]
