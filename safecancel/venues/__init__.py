"""Venue adapters: one pure module per venue, all satisfying :class:`safecancel.venues.base.Venue`."""

from __future__ import annotations

import importlib
from types import MappingProxyType

from ..errors import InputError
from .base import Rate, Venue

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


def venue_class(name: str) -> type:
    """The adapter class for a venue name, or :class:`InputError` naming the bad venue."""
    target = _ADAPTERS.get(name) if isinstance(name, str) else None
    if target is None:
        raise InputError(f"unknown venue {name!r}; known venues: {', '.join(VENUE_NAMES)}")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


__all__ = ["VENUE_NAMES", "Rate", "Venue", "venue_class"]
