"""A small HTTP client for the fake venue's ``/_fake/`` control API (for a fake in another process)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


class FakeVenueControl:
    """Same methods as :class:`~safecancel.testing.FakeVenue`, over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # loopback only; the fake answers at once
            return json.loads(resp.read().decode())

    def seed(self, venue: str, symbol: str, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._call("POST", "/_fake/orders", {"venue": venue, "symbol": symbol, "orders": orders})["orders"]

    def orders(self, venue: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/_fake/orders" + (f"?venue={venue}" if venue else ""))["orders"]

    def order_status(self, venue: str) -> dict[str, str]:
        return {o["order_id"]: o["status"] for o in self.orders(venue)}

    def fault(self, venue: str, endpoint: str, kind: str, **spec: Any) -> None:
        self._call("POST", "/_fake/faults", {"venue": venue, "endpoint": endpoint, "kind": kind, **spec})

    def deadman(self, venue: str | None = None) -> list[dict[str, Any]]:
        """Every dead-man countdown armed so far on the fake (armed, disarmed or fired)."""
        q = f"?venue={venue}" if venue else ""
        return list(self._call("GET", f"/_fake/deadman{q}")["switches"])

    def requests(self, venue: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/_fake/requests" + (f"?venue={venue}" if venue else ""))["requests"]

    def reset(self) -> None:
        self._call("POST", "/_fake/reset", {})
