"""Venue adapters: one pure module per venue, each a :class:`~safecancel.venues.base.VenueAdapter`.

The registry below is THE list of venues. The CLI's ``--venue`` choices, the demo, the tests' venue lists
and symbols, and the check of the README's venue table are derived from :data:`VENUE_NAMES` and the
adapters' class attributes (their per-venue facts). Only the fake venue keeps its own list of dialects
(``safecancel.testing.dialects``): it must never import the adapters, and the contract suite checks that it
speaks every registered venue.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from .base import Rate, Venue, VenueAdapter

# name -> "module:Class". Imported on first use so that a CLI call pays only for the venue it uses.
_ADAPTERS = MappingProxyType(
    {
        "bitopro": "safecancel.venues.bitopro:BitoPro",
        "binance_coinm": "safecancel.venues.binance_coinm:BinanceCoinM",
        "bingx": "safecancel.venues.bingx:BingX",
        "htx": "safecancel.venues.htx:HTX",
        "bitget": "safecancel.venues.bitget:Bitget",
    }
)

VENUE_NAMES: tuple[str, ...] = tuple(_ADAPTERS)


def venue_class(name: str) -> type[VenueAdapter]:
    """The adapter class for a venue name, or :class:`InputError` naming the bad venue."""
    target = _ADAPTERS.get(name) if isinstance(name, str) else None
    if target is None:
        raise InputError(f"unknown venue {name!r}; known venues: {', '.join(VENUE_NAMES)}")
    module, attr = target.split(":")
    cls: type[VenueAdapter] = getattr(importlib.import_module(module), attr)
    return cls


def __getattr__(name: str) -> object:
    # The base classes load on first use: the registry above is all `safecancel --help` needs (its
    # --venue choices), and the base pulls in the model and the state machine.
    if name in ("Rate", "Venue", "VenueAdapter"):
        value = getattr(importlib.import_module(".base", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["VENUE_NAMES", "Rate", "Venue", "VenueAdapter", "venue_class"]
