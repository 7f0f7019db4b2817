"""The engine end to end through the public API, against the loopback fake venue (real HTTP)."""

from __future__ import annotations

import sqlite3

import pytest

from safecancel import AuthError, Credentials, IdempotencyConflict, InputError, VenueConfig
from safecancel.engine import RetryPolicy
from tests.conftest import CREDS, SYMBOLS, VENUES, seed_open
from tests.integration._harness import fault_reads

# On SQLite and on PostgreSQL (tests/conftest.py); the tests that look inside the SQLite file are
# sqlite_only, and their PostgreSQL twins (same cases, checked in the server's tables) are in
# tests/postgres/test_engine_pg.py.
pytestmark = pytest.mark.every_backend

BN = "binance_coinm"
SYM = SYMBOLS[BN]


def by_id(result):
    return {o.order_id: o for o in result.orders}


def cancel_requests(fake, venue):
    return [r for r in fake.requests(venue) if r["endpoint"] == "cancel"]


def test_25_orders_go_out_in_three_chunks_and_all_cancel(fake, make_client):
    ids = seed_open(fake, BN, 25)
    r = make_client().cancel(BN, SYM, order_ids=ids)
    assert r.status == "done" and r.counts == {"cancelled": 25}
    assert len(cancel_requests(fake, BN)) == 3
    assert all(o.provenance == "venue_response" and o.attempts == 1 for o in r.orders)
    assert set(fake.order_status(BN).values()) == {"cancelled"}


@pytest.mark.parametrize("venue", VENUES)
def test_mixed_batch_ends_in_the_right_states_on_every_venue(fake, make_client, venue):
    open_ids = seed_open(fake, venue, 12, start=5000)
    filled = seed_open(fake, venue, 2, start=6000, status="filled")
    cancelled = seed_open(fake, venue, 2, start=7000, status="cancelled")
    never = ["8000", "8001"]
    r = make_client().cancel(venue, SYMBOLS[venue], order_ids=open_ids + filled + cancelled + never)
    got = by_id(r)
    assert r.status == "done", r.counts
    for i in open_ids:
        assert got[i].state == "cancelled", (i, got[i])
    for i in filled:
        assert (got[i].state, got[i].reason, got[i].provenance) == ("failed", "filled", "venue_query")
    for i in cancelled:
        # Already cancelled before we asked: the venue says it is cancelled, which is what the caller wants.
        assert got[i].state == "cancelled" and got[i].provenance == "venue_query"
    for i in never:
        assert (got[i].state, got[i].reason, got[i].provenance) == ("failed", "not_found", "venue_query")
    ledger = fake.order_status(venue)
    assert all(ledger[i] == "cancelled" for i in open_ids)


def test_drop_after_apply_is_settled_by_query_with_one_cancel(fake, make_client):
    ids = seed_open(fake, BN, 3)
    fake.fault(BN, "cancel", "drop_after_apply")
    r = make_client().cancel(BN, SYM, order_ids=ids)
    assert r.counts == {"cancelled": 3}
    assert {o.provenance for o in r.orders} == {"venue_query"}
    assert [o["cancel_requests"] for o in fake.orders(BN)] == [1, 1, 1]


def test_drop_before_apply_is_queried_then_resent(fake, make_client):
    ids = seed_open(fake, BN, 2)
    fake.fault(BN, "cancel", "drop_before_apply")
    r = make_client().cancel(BN, SYM, order_ids=ids)
    assert r.counts == {"cancelled": 2}
    # The query found them open, so they were sent again: two sends, one that reached the ledger.
    assert all(o.attempts == 2 for o in r.orders)
    assert [o["cancel_requests"] for o in fake.orders(BN)] == [1, 1]


@pytest.mark.parametrize(("status", "retry_after"), [(503, None), (429, 1), (429, None), (418, None)])
def test_not_applied_statuses_are_resent(fake, make_client, status, retry_after):
    ids = seed_open(fake, BN, 2)
    spec = {"status": status} | ({"retry_after": retry_after} if retry_after else {})
    fake.fault(BN, "cancel", "status", **spec)
    r = make_client(retry=RetryPolicy(base_delay=0.01, max_delay=0.1, max_retry_after=1.0)).cancel(
        BN, SYM, order_ids=ids
    )
    assert r.counts == {"cancelled": 2}
    assert len(cancel_requests(fake, BN)) == 2


def test_retry_after_is_honoured(fake, make_client):
    ids = seed_open(fake, BN, 1)
    fake.fault(BN, "cancel", "status", status=429, retry_after=1)
    make_client().cancel(BN, SYM, order_ids=ids)
    sends = cancel_requests(fake, BN)
    assert len(sends) == 2 and sends[1]["time"] - sends[0]["time"] >= 0.95


def test_500_may_have_applied_so_it_is_queried(fake, make_client):
    ids = seed_open(fake, BN, 2)
    fake.fault(BN, "cancel", "status", status=500)
    r = make_client().cancel(BN, SYM, order_ids=ids)
    assert r.counts == {"cancelled": 2}
    assert any(r["endpoint"] == "query" for r in fake.requests(BN))


def test_malformed_reply_after_apply_is_queried(fake, make_client):
    ids = seed_open(fake, BN, 4)
    fake.fault(BN, "cancel", "malformed")
    r = make_client().cancel(BN, SYM, order_ids=ids)
    assert r.counts == {"cancelled": 4} and {o.provenance for o in r.orders} == {"venue_query"}
    assert [o["cancel_requests"] for o in fake.orders(BN)] == [1, 1, 1, 1]


def test_omitted_order_is_queried(fake, make_client):
    ids = seed_open(fake, BN, 3)
    fake.fault(BN, "cancel", "omit")
    r = make_client().cancel(BN, SYM, order_ids=ids)
    assert r.counts == {"cancelled": 3}
    assert sorted(o.provenance for o in r.orders) == ["venue_query", "venue_response", "venue_response"]


def test_fill_racing_the_cancel_ends_failed_filled(fake, make_client):
    ids = seed_open(fake, BN, 3)
    fake.fault(BN, "cancel", "fill_before_cancel")
    r = make_client().cancel(BN, SYM, order_ids=ids)
    assert r.counts == {"cancelled": 2, "failed": 1}
    (f,) = [o for o in r.orders if o.state == "failed"]
    assert (f.reason, f.provenance) == ("filled", "venue_query")
    assert fake.order_status(BN)[f.order_id] == "filled"


def test_clock_skew_is_remeasured_and_the_request_resigned(fake, make_client):
    ids = seed_open(fake, BN, 2)
    client = make_client()
    client.cancel(BN, SYM, order_ids=seed_open(fake, BN, 1, start=9000))  # measures the offset once
    before = len([q for q in fake.requests(BN) if q["endpoint"] == "time"])
    fake.fault(BN, "time", "clock_skew", offset_ms=30_000)
    r = client.cancel(BN, SYM, order_ids=ids)
    assert r.counts == {"cancelled": 2}
    paths = [q["endpoint"] for q in fake.requests(BN)]
    # The offset is measured once per venue, key and endpoint in a process (shared by every client),
    # then once more after the -1021.
    assert paths.count("time") == before + 1


def test_slow_venue_read_timeout_makes_orders_unknown_then_query_settles(fake, make_client):
    from safecancel.transport import RequestsTransport

    ids = seed_open(fake, BN, 2)
    fake.fault(BN, "cancel", "delay", delay_ms=800)
    client = make_client(transport=RequestsTransport(read_timeout=0.3))
    r = client.cancel(BN, SYM, order_ids=ids)
    # The timed-out request may still apply later; the query decides, and it may find the orders
    # still open and send again. Either way nothing is guessed: each order ends cancelled as the venue says.
    assert r.counts == {"cancelled": 2}
    events = client.job(r.job_id).events
    assert [e.trigger for e in events if e.order and e.order.endswith("=1000")][:2] == ["send", "lose"]
    assert set(fake.order_status(BN).values()) == {"cancelled"}


def test_connection_refused_never_reached_so_resent_until_deadline(make_client, fake):
    # Nothing listens on this port: every attempt provably never reached the venue.
    client = make_client(venues=[VenueConfig(BN, credentials=CREDS, base_url="http://127.0.0.1:9")])
    r = client.cancel(BN, SYM, order_ids=["1", "2"], deadline=2)
    assert r.status == "open"
    assert {o.state for o in r.orders} == {"pending"}  # never forced terminal
    # No request left the machine: none counts as a send, each is counted as unsent.
    assert all(o.attempts == 0 and o.unsent >= 1 for o in r.orders)
    assert "connection" in (r.attention or "").lower() or "never reached" in (r.attention or "")


def test_venue_down_past_deadline_stays_open_then_resume_finishes(fake, make_client):
    ids = seed_open(fake, BN, 3)
    fake.fault(BN, "cancel", "drop_after_apply")
    fault_reads(fake, BN, status=503, times=1000)
    client = make_client()
    r = client.cancel(BN, SYM, order_ids=ids, deadline=2)
    assert r.status == "open" and {o.state for o in r.orders} == {"unknown"}
    fake.clear_faults()  # the venue comes back
    (again,) = client.resume(deadline=5)
    assert again.status == "done" and again.counts == {"cancelled": 3}
    assert [o["cancel_requests"] for o in fake.orders(BN)] == [1, 1, 1]


def test_still_open_orders_are_resent_a_bounded_number_of_times(fake, make_client):
    ids = seed_open(fake, BN, 1)
    # Every cancel is dropped before it applies: the order stays open at the venue.
    fake.fault(BN, "cancel", "drop_before_apply", times=100)
    r = make_client(retry=RetryPolicy(base_delay=0.01, max_delay=0.05, max_sends=3)).cancel(BN, SYM, order_ids=ids)
    assert r.status == "needs_attention"
    (o,) = r.orders
    assert o.state == "pending" and o.attempts == 3


def test_auth_failure_leaves_orders_pending_and_raises(fake, make_client):
    ids = seed_open(fake, BN, 2)
    wrong = VenueConfig(BN, credentials=Credentials("test-key", "wrong-secret"), base_url=fake.url)
    client = make_client(venues=[wrong])
    with pytest.raises(AuthError) as err:
        client.cancel(BN, SYM, order_ids=ids)
    assert "wrong-secret" not in str(err.value)
    (job,) = client.history()
    assert job.status == "open" and dict(job.counts) == {"pending": 2}
    assert set(fake.order_status(BN).values()) == {"open"}


def test_same_key_same_orders_is_the_same_job(fake, make_client):
    ids = seed_open(fake, BN, 2)
    client = make_client()
    a = client.cancel(BN, SYM, order_ids=ids, key="k1")
    b = client.cancel(BN, SYM, order_ids=list(reversed(ids)), key="k1")
    assert a.job_id == b.job_id
    assert len(cancel_requests(fake, BN)) == 1
    with pytest.raises(IdempotencyConflict, match="k1"):
        client.cancel(BN, SYM, order_ids=ids[:1], key="k1")


def test_derived_key_joins_only_an_unfinished_job(fake, make_client):
    ids = seed_open(fake, BN, 2)
    client = make_client()
    first = client.cancel(BN, SYM, order_ids=ids)
    sent = len([q for q in fake.requests(BN) if q["endpoint"] == "cancel"])
    again = client.cancel(BN, SYM, order_ids=ids)  # the first job is done: a new job asks the venue again
    assert again.job_id != first.job_id and again.finished
    assert len([q for q in fake.requests(BN) if q["endpoint"] == "cancel"]) == sent + 1


def _tables_empty(path):
    try:
        con = sqlite3.connect(path)
    except sqlite3.Error:
        return True
    try:
        return con.execute("select count(*) from jobs").fetchone()[0] == 0
    except sqlite3.Error:
        return True
    finally:
        con.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"symbol": SYM, "order_ids": []}, "empty"),
        ({"symbol": SYM, "order_ids": ["1", "1"]}, "duplicate order_id '1'"),
        ({"symbol": SYM, "order_ids": ["1"], "client_order_ids": ["a"]}, "exactly one"),
        ({"symbol": SYM, "order_ids": ["12x"]}, "'12x'"),
        ({"symbol": "BTC/USD", "order_ids": ["1"]}, "malformed symbol 'BTC/USD'"),
        ({"symbol": SYM, "order_ids": [None]}, "None"),
        ({"symbol": SYM, "order_ids": "123"}, "single string"),
        ({"symbol": SYM, "order_ids": ["1"], "key": ""}, "idempotency key"),
        ({"symbol": SYM, "order_ids": ["1"], "deadline": -1}, "deadline"),
    ],
)
def test_bad_input_is_named_and_nothing_is_stored_or_sent(fake, make_client, db_path, kwargs, needle):
    client = make_client()
    with pytest.raises(InputError, match=needle.replace("(", r"\(")):
        client.cancel(BN, **kwargs)
    assert fake.requests() == []
    assert _tables_empty(db_path)


@pytest.mark.sqlite_only
def test_unknown_venue_and_missing_credentials(fake, make_client, db_path):
    with pytest.raises(InputError, match="unknown venue 'kraken'"):
        make_client().cancel("kraken", "X", order_ids=["1"])
    with pytest.raises(InputError, match="SAFECANCEL_BINANCE_COINM_API_KEY"):
        make_client(venues=[VenueConfig(BN, base_url=fake.url)]).cancel(BN, SYM, order_ids=["1"])
    with pytest.raises(InputError, match="passphrase"):
        bitget = VenueConfig("bitget", credentials=Credentials("k", "s"), base_url=fake.url)
        make_client(venues=[bitget]).cancel("bitget", "BTCUSDT", order_ids=["1"])
    assert fake.requests() == [] and _tables_empty(db_path)


def test_credentials_from_environment(fake, make_client):
    ids = seed_open(fake, BN, 1)
    env = {
        "SAFECANCEL_BINANCE_COINM_API_KEY": "test-key",
        "SAFECANCEL_BINANCE_COINM_API_SECRET": "test-secret",
        "SAFECANCEL_BINANCE_COINM_BASE_URL": fake.url,
    }
    r = make_client(venues=[], environ=env).cancel(BN, SYM, order_ids=ids)
    assert r.counts == {"cancelled": 1}


def test_client_order_ids(fake, make_client):
    fake.seed(
        BN, SYM, [{"order_id": "77", "client_order_id": "mine-1"}, {"order_id": "78", "client_order_id": "mine-2"}]
    )
    r = make_client().cancel(BN, SYM, client_order_ids=["mine-1", "mine-2"])
    assert r.counts == {"cancelled": 2}


def test_every_transition_is_journaled_and_the_chain_verifies(fake, make_client):
    ids = seed_open(fake, BN, 3)
    client = make_client()
    r = client.job(client.cancel(BN, SYM, order_ids=ids + ["424242"]).job_id)
    triggers = [e.trigger for e in r.events]
    assert triggers[0] == "create" and triggers.count("send") == 4
    assert triggers.count("confirm") == 3 and triggers.count("reject") == 1
    ok, n, problem = client.verify_journal()
    assert ok and problem is None and n == len(r.events)


@pytest.mark.sqlite_only
def test_secrets_never_reach_the_database(fake, make_client, db_path):
    ids = seed_open(fake, BN, 3)
    client = make_client()
    fake.fault(BN, "cancel", "malformed")
    client.cancel(BN, SYM, order_ids=ids)
    for venue in (v for v in VENUES if v != BN):
        client.cancel(venue, SYMBOLS[venue], order_ids=seed_open(fake, venue, 2))
    client.close()
    blob = b"".join(open(p, "rb").read() for p in (db_path, db_path + "-wal") if __import__("os").path.exists(p))
    for secret in ("test-secret", "test-pass", "trader@example.invalid", "test-key"):
        assert secret.encode() not in blob, secret
    assert CREDS.api_key == "test-key"


def test_cancel_many_runs_jobs_concurrently_and_validates_all_first(fake, make_client):
    client = make_client()
    batches = [
        {"venue": v, "symbol": SYMBOLS[v], "order_ids": seed_open(fake, v, 12, start=100 * (i + 1))}
        for i, v in enumerate(VENUES)
    ]
    with pytest.raises(InputError, match="duplicate"):
        client.cancel_many([*batches, {"venue": BN, "symbol": SYM, "order_ids": ["5", "5"]}])
    assert fake.requests() == [] and client.history() == []
    results = client.cancel_many(batches)
    assert [r.venue for r in results] == list(VENUES)
    assert all(r.status == "done" and r.counts == {"cancelled": 12} for r in results)
