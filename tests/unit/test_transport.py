"""Pacing and the never-reached mapping of the transport."""

from __future__ import annotations

import pytest

from safecancel.clock import FakeClock
from safecancel.errors import TransportError
from safecancel.model import HttpRequest
from safecancel.transport import RequestsTransport, TokenBucket


@pytest.mark.parametrize(("rate", "burst"), [(1.9, 1.0), (9.5, 1.0), (0.7, 1.0), (19.0, 3.0), (3.0, 0.1)])
def test_bucket_paces_at_its_rate_with_a_fake_clock(rate, burst):
    clock = FakeClock()
    bucket = TokenBucket(rate, burst, clock)
    start = clock.monotonic()
    for _ in range(50):
        bucket.acquire()
    elapsed = clock.monotonic() - start
    expected = (50 - max(1.0, burst)) / rate
    assert expected - 1e-6 <= elapsed <= expected + 0.01


def test_pause_holds_everyone_back():
    clock = FakeClock()
    bucket = TokenBucket(100.0, 1.0, clock)
    bucket.acquire()
    bucket.pause(2.0)
    start = clock.monotonic()
    bucket.acquire()
    assert clock.monotonic() - start >= 2.0


def test_connection_refused_never_reached_the_venue():
    with pytest.raises(TransportError) as err:
        RequestsTransport(connect_timeout=1).send(
            "http://127.0.0.1:9", HttpRequest("GET", "/x", "signature=abc"), venue="v"
        )
    assert err.value.never_reached_venue
    assert "signature" not in str(err.value)


def test_dropped_reply_may_have_reached_the_venue(fake):
    fake.fault("binance_coinm", "time", "drop_after_apply")
    with pytest.raises(TransportError) as err:
        RequestsTransport().send(fake.url, HttpRequest("GET", "/dapi/v1/time", endpoint="time"), venue="binance_coinm")
    assert not err.value.never_reached_venue
