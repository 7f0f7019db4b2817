"""safecancel: cancel many orders at once on crypto venues without ever losing track of one.

from safecancel import Client
with Client("safecancel.db") as client:
    result = client.cancel("binance_coinm", "BTCUSD_PERP", order_ids=[101, 102, 103])
"""

from __future__ import annotations

import importlib
import logging
import typing
from types import MappingProxyType

# Every public name, by the module that defines it. They load on first use (PEP 562), not at import: a
# bot that needs only `Client` should not pay for the dead-man switch or the audit, and `safecancel
# --help` imports this package too. `import safecancel` itself loads nothing heavy.
_EXPORTS = (
    ("client", ("Client", "credentials_from_env")),
    ("clock", ("Clock", "FakeClock", "SystemClock")),
    ("config", ("VenueConfig",)),
    ("deadman", ("DeadManSwitch",)),
    (
        "errors",
        (
            "AuthError",
            "ConcurrentUpdate",
            "DeadManError",
            "IdempotencyConflict",
            "IllegalTransition",
            "InputError",
            "LeaseHeld",
            "ListingIncomplete",
            "SafeCancelError",
            "SchemaOutOfDate",
            "StoreError",
            "TransportError",
            "VenueError",
            "VenueRejected",
        ),
    ),
    (
        "model",
        (
            "CancelAllPlan",
            "Credentials",
            "EventRecord",
            "JobResult",
            "JobStatus",
            "JobSummary",
            "ListedOrder",
            "Listing",
            "ListKind",
            "OrderRef",
            "OrderResult",
            "Reason",
        ),
    ),
    ("policy", ("RetryPolicy",)),
    ("states", ("OrderState", "Provenance", "Trigger")),
    ("store.audit", ("AuditReport",)),
    ("transport", ("RequestsTransport", "Transport")),
    ("venues", ("VENUE_NAMES", "Rate")),
)
_SOURCES = MappingProxyType({name: module for module, names in _EXPORTS for name in names})

if typing.TYPE_CHECKING:  # what type checkers and IDEs see: the same names, imported eagerly
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

    __version__: str


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first access and kept (later reads never come here)."""
    if name == "__version__":
        value: object = _version()
    elif name in _SOURCES:
        value = getattr(importlib.import_module(f"{__name__}.{_SOURCES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})


def _version() -> str:
    # importlib.metadata costs ~20 ms to import and scans the installed distributions: only on demand.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("safecancel")  # one source: pyproject.toml, as installed
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


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
