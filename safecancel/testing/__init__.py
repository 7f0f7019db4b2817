"""Testing tools shipped with safecancel: the loopback fake venue and its HTTP control client.

``FakeVenue`` runs a real HTTP server on 127.0.0.1 that speaks all five venues' dialects, verifies
signatures from the venues' docs with its own code, and keeps an order ledger as the ground truth.
"""

from __future__ import annotations

from .control import FakeVenueControl
from .ledger import FakeOrder, Ledger
from .server import FakeCredentials, FakeVenue

__all__ = ["FakeCredentials", "FakeOrder", "FakeVenue", "FakeVenueControl", "Ledger"]
