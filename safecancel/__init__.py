"""safecancel: cancel many orders at once on crypto venues without ever losing track of one.

from safecancel import Client
with Client("safecancel.db") as client:
    result = client.cancel("binance_coinm", "BTCUSD_PERP", order_ids=[101, 102, 103])
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from .client import Client, credentials_from_env
from .clock import Clock, FakeClock, SystemClock
from .config import VenueConfig
from .deadman import DeadManSwitch
from .errors import (
    AuthError,
    ConcurrentUpdate,
    DeadManError,
    IdempotencyConflict,
    IllegalTransition,
    InputError,
    LeaseHeld,
    ListingIncomplete,
    SafeCancelError,
    SchemaOutOfDate,
    StoreError,
    TransportError,
    VenueError,
    VenueRejected,
)
from .model import (
    CancelAllPlan,
    Credentials,
    EventRecord,
    JobResult,
    JobStatus,
    JobSummary,
    ListedOrder,
    Listing,
    ListKind,
    OrderRef,
    OrderResult,
    Reason,
)
from .policy import RetryPolicy
from .states import OrderState, Provenance, Trigger
from .store.audit import AuditReport
from .transport import RequestsTransport, Transport
from .venues import VENUE_NAMES, Rate

try:
    __version__ = version("safecancel")  # one source: pyproject.toml, as installed
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

# A library logs; the application decides where to. Without this, Python's last-resort handler would
# print our warnings on the stderr of every bot that has not configured logging.
logging.getLogger("safecancel").addHandler(logging.NullHandler())

__all__ = [
    "AuditReport",
    "AuthError",
    "CancelAllPlan",
    "Client",
    "Clock",
    "ConcurrentUpdate",
    "Credentials",
    "DeadManError",
    "DeadManSwitch",
    "EventRecord",
    "FakeClock",
    "IdempotencyConflict",
    "IllegalTransition",
    "InputError",
    "JobResult",
    "JobStatus",
    "JobSummary",
    "LeaseHeld",
    "ListKind",
    "ListedOrder",
    "Listing",
    "ListingIncomplete",
    "OrderRef",
    "OrderResult",
    "OrderState",
    "Provenance",
    "Rate",
    "Reason",
    "RequestsTransport",
    "RetryPolicy",
    "SafeCancelError",
    "SchemaOutOfDate",
    "StoreError",
    "SystemClock",
    "Transport",
    "TransportError",
    "Trigger",
    "VENUE_NAMES",
    "VenueConfig",
    "VenueError",
    "VenueRejected",
    "credentials_from_env",
]
