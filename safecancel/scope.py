"""What a kill switch may cancel: its scope, checked before anything is stored, and matched against listings.

Pure: no I/O. A scope is a venue, optionally a symbol, optionally the caller's own orders (a client-id
prefix, or on venues whose client ids are integers an inclusive numeric range), and whether conditional
orders are included. An order a listing shows is ``IN`` scope, ``OUT`` of it, or ``UNSURE``: the scope is
the caller's own orders and the listing does not show the order's client id, so it may be the caller's
and may be someone else's. An unsure order is never cancelled (it may be another bot's), and while one is
listed the scope is never reported verified empty.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from .errors import InputError
from .model import ListedOrder
from .venues.base import clip, flaw

PREFIX_RE = re.compile(r"[A-Za-z0-9_.:/+=@-]{1,40}", re.ASCII)  # what every venue's client ids can start with
RANGE_RE = re.compile(r"([0-9]{1,19})-([0-9]{1,19})", re.ASCII)


class Fit(enum.StrEnum):
    IN = "in"
    OUT = "out"
    UNSURE = "unsure"


@dataclass(frozen=True, slots=True)
class Scope:
    """A kill switch's scope (see the module docstring). Build it with :func:`make_scope`."""

    venue: str
    symbol: str | None = None
    client_prefix: str | None = None
    client_id_range: tuple[int, int] | None = None
    include_conditional: bool = True
    native: bool = False

    def fit(self, order: ListedOrder) -> Fit:
        if self.symbol is not None and order.symbol.casefold() != self.symbol.casefold():
            return Fit.OUT
        if order.conditional and not self.include_conditional:
            return Fit.OUT
        if self.client_prefix is None and self.client_id_range is None:
            return Fit.IN
        cid = order.client_order_id
        if cid is None or cid == "":
            return Fit.UNSURE
        if self.client_prefix is not None:
            return Fit.IN if cid.startswith(self.client_prefix) else Fit.OUT
        assert self.client_id_range is not None
        lo, hi = self.client_id_range
        if not (cid.isascii() and cid.isdigit()):
            return Fit.OUT
        return Fit.IN if lo <= int(cid) <= hi else Fit.OUT

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Scope:
        # Only the scope's own fields: a dead-man switch keeps its arming beside them (``deadman``).
        data: dict[str, Any] = {k: v for k, v in json.loads(text).items() if k in cls.__dataclass_fields__}
        rng = data.get("client_id_range")
        data["client_id_range"] = tuple(rng) if rng is not None else None
        return cls(**data)

    def describe(self) -> str:
        parts = [self.venue, self.symbol or "every symbol"]
        if self.client_prefix is not None:
            parts.append(f"client ids starting {self.client_prefix!r}")
        if self.client_id_range is not None:
            parts.append(f"client ids {self.client_id_range[0]}-{self.client_id_range[1]}")
        if not self.include_conditional:
            parts.append("no conditional orders")
        return ", ".join(parts)


def parse_range(text: str) -> tuple[int, int]:
    """``"1000-1999"`` as an inclusive range; :class:`InputError` naming the text otherwise."""
    m = RANGE_RE.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise InputError(f"client id range must be LOW-HIGH in digits (e.g. 1000-1999), got {clip(text)}")
    lo, hi = int(m.group(1)), int(m.group(2))
    if lo > hi:
        raise InputError(f"client id range {text!r} is empty: {lo} > {hi}")
    return lo, hi


def make_scope(
    venue: str,
    symbol: str | None,
    *,
    client_prefix: str | None,
    client_id_range: tuple[int, int] | str | None,
    include_conditional: bool,
    native: bool,
    numeric_client_ids: bool,
) -> Scope:
    """A checked scope. ``numeric_client_ids``: the venue's client ids are integers (BitoPro), so a prefix
    means nothing there and a range is the way to name the caller's own orders."""
    if client_prefix is not None and client_id_range is not None:
        raise InputError("give a client id prefix or a client id range, not both")
    if client_prefix is not None:
        if numeric_client_ids:
            raise InputError(
                f"{venue}: client ids are integers, so a prefix cannot name your orders; "
                "give a numeric range instead (--client-id-range 1000-1999, client_id_range=(1000, 1999))"
            )
        if not isinstance(client_prefix, str) or PREFIX_RE.fullmatch(client_prefix) is None:
            detail = flaw(client_prefix)
            raise InputError(
                f"{venue}: client id prefix {clip(client_prefix)} is not 1-40 of A-Z a-z 0-9 _ . : / + = @ -"
                + (f" ({detail})" if detail else "")
            )
    rng: tuple[int, int] | None = None
    if client_id_range is not None:
        if isinstance(client_id_range, str):
            rng = parse_range(client_id_range)
        elif (
            isinstance(client_id_range, tuple)
            and len(client_id_range) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in client_id_range)
            and client_id_range[0] <= client_id_range[1]
        ):
            rng = (client_id_range[0], client_id_range[1])
        else:
            raise InputError(f"client id range must be (low, high) with 0 <= low <= high, got {clip(client_id_range)}")
        if not numeric_client_ids:
            raise InputError(f"{venue}: client ids are strings; name your orders with a client id prefix instead")
    if native and (client_prefix is not None or rng is not None):
        raise InputError(
            f"{venue}: the venue's own cancel-all cancels every order of the symbol, not only yours: "
            "--native cannot be combined with a client id prefix or range"
        )
    return Scope(venue, symbol, client_prefix, rng, bool(include_conditional), bool(native))
