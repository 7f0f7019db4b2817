"""One module per venue: how the fake venue speaks that venue's dialect."""

from __future__ import annotations

import importlib

DIALECTS = (
    "safecancel.testing.dialects.binance_coinm:BinanceCoinMDialect",
    "safecancel.testing.dialects.bitopro:BitoProDialect",
    "safecancel.testing.dialects.bingx:BingXDialect",
    "safecancel.testing.dialects.htx:HTXDialect",
    "safecancel.testing.dialects.bitget:BitgetDialect",
)


def all_dialects() -> list:
    out = []
    for target in DIALECTS:
        module, cls = target.split(":")
        out.append(getattr(importlib.import_module(module), cls)())
    return out
