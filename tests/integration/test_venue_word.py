"""Every final state is the venue's word about that order, on the venue and account the job began on.

End to end against the fake venue: a refusal of the *request* (a wrong base URL, a whole-request 4xx)
is never taken for an answer about an order; a job runs where it was created; a derived key joins only
an unfinished job; ids that are not what they look like are refused before anything is stored or sent;
what an order shows the venue said is what produced its current state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safecancel import Credentials, VenueConfig, VenueRejected
from safecancel.testing import FakeVenue
from tests.integration._harness import CREDS, SYMBOLS, VENUES, client_for, fault_reads, run_cli, venue_env

BN = "binance_coinm"


@pytest.mark.parametrize("venue", VENUES)
def test_a_wrong_base_url_path_settles_nothing_and_says_so(fake, tmp_path: Path, venue: str) -> None:
    db = tmp_path / "typo.db"
    ids = [str(91_000 + i) for i in range(6)]
    fake.seed(venue, SYMBOLS[venue], [{"order_id": i} for i in ids])
    env = venue_env(fake.url + "/typo", db)
    res = run_cli(
        ["cancel", "--venue", venue, "--symbol", SYMBOLS[venue], "--ids", ",".join(ids), "--deadline", "20", "--json"],
        env,
    )
    assert res.returncode == 4, (res.stdout[-300:], res.stderr[-600:])
    job = json.loads(res.stdout)
    assert job["status"] == "needs_attention"
    assert {o["state"] for o in job["orders"]} == {"pending"}  # nothing failed, nothing guessed
    assert "404" in res.stderr and "check the base URL" in res.stderr
    assert f"safecancel resume --job {job['job_id']} --base-url URL" in res.stderr
    assert "404" in job["attention"]
    assert {fake.order_status(venue)[i] for i in ids} == {"open"}
    # Fixed on purpose (the job runs where it was created unless moved): every order is cancelled.
    good = venue_env(fake.url, db)
    res = run_cli(["resume", "--job", job["job_id"], "--base-url", fake.url, "--json", "--deadline", "20"], good)
    assert res.returncode == 0, res.stderr[-600:]
    (done,) = json.loads(res.stdout)
    assert done["counts"] == {"cancelled": 6} and done["base_url"] == fake.url
    assert any(e["trigger"] == "rebind" for e in done["events"])
    assert {fake.order_status(venue)[i] for i in ids} == {"cancelled"}


def test_a_whole_request_400_leaves_its_orders_for_the_next_try(fake, make_client) -> None:
    ids = [str(92_000 + i) for i in range(15)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    fake.fault(BN, "cancel", "status", status=400, times=1)  # Binance's own -1100 body
    r = make_client().cancel(BN, SYMBOLS[BN], order_ids=ids)
    assert r.status == "done" and r.counts == {"cancelled": 15}
    assert {fake.order_status(BN)[i] for i in ids} == {"cancelled"}


def test_the_venue_refusing_every_request_raises_venue_rejected_with_the_job(fake, make_client) -> None:
    ids = [str(92_500 + i) for i in range(3)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    fake.fault(BN, "cancel", "status", status=400, times=100)
    client = make_client()
    with pytest.raises(VenueRejected) as info:
        client.cancel(BN, SYMBOLS[BN], order_ids=ids)
    assert info.value.job_id and info.value.venue_code == "-1100"
    job = client.job(info.value.job_id)
    assert job.status == "needs_attention" and job.counts == {"pending": 3} and "-1100" in (job.attention or "")


def test_a_job_is_finished_where_it_began_never_at_the_venue_the_environment_names_now(fake, tmp_path: Path) -> None:
    db = tmp_path / "ab.db"
    ids = [str(93_000 + i) for i in range(4)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    fake.fault(BN, "cancel", "drop_after_apply")
    fault_reads(fake, BN, status=503, times=1000)
    res = run_cli(
        ["cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids), "--deadline", "0.6", "--json"],
        venue_env(fake.url, db),
    )
    assert res.returncode == 3, res.stderr[-500:]
    fake.clear_faults()
    with FakeVenue() as other:
        other.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])  # the same ids at another venue
        res = run_cli(["resume", "--json"], venue_env(other.url, db))
        assert res.returncode == 0, res.stderr[-500:]
        assert other.requests(BN) == []  # nothing was sent to B
        assert {other.order_status(BN)[i] for i in ids} == {"open"}
    (job,) = json.loads(res.stdout)
    assert job["counts"] == {"cancelled": 4} and job["base_url"] == fake.url


def test_a_job_is_only_run_under_the_key_it_began_with(fake, tmp_path: Path) -> None:
    db = tmp_path / "key.db"
    ids = [str(94_000 + i) for i in range(2)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    fake.fault(BN, "cancel", "drop_after_apply")
    fault_reads(fake, BN, status=503, times=1000)
    with client_for(fake.url, db) as c:
        first = c.cancel(BN, SYMBOLS[BN], order_ids=ids, deadline=0.5)
    fake.clear_faults()
    other_key = Credentials("another-key", "another-secret")
    with client_for(fake.url, db, venues=[VenueConfig(BN, credentials=other_key, base_url=fake.url)]) as c:
        (r,) = c.resume()
        assert (
            r.skipped and "another binance_coinm API key" in r.skipped and f"--job {first.job_id} --rebind" in r.skipped
        )
        assert "another-key" not in r.skipped and "test-key" not in r.skipped
    with client_for(fake.url, db) as c:
        (r,) = c.resume()
    assert r.counts == {"cancelled": 2}
    assert r.key_fp and "test-key" not in r.key_fp


def test_cancelling_a_reused_client_id_again_asks_the_venue(fake, make_client) -> None:
    v = "bitget"
    fake.seed(v, SYMBOLS[v], [{"order_id": "95001", "client_order_id": "grid-1"}])
    client = make_client()
    first = client.cancel(v, SYMBOLS[v], client_order_ids=["grid-1"])
    assert first.counts == {"cancelled": 1}
    fake.seed(v, SYMBOLS[v], [{"order_id": "95002", "client_order_id": "grid-1"}])  # a new order, the same client id
    before = len([q for q in fake.requests(v) if q["endpoint"] == "cancel"])
    again = client.cancel(v, SYMBOLS[v], client_order_ids=["grid-1"])
    assert again.job_id != first.job_id and again.counts == {"cancelled": 1}
    assert len([q for q in fake.requests(v) if q["endpoint"] == "cancel"]) == before + 1
    assert fake.order_status(v)["95002"] == "cancelled"


@pytest.mark.parametrize(
    ("venue", "symbol", "flag", "value"),
    [
        (BN, "BTCUSD_２５１２２６", "--ids", "101"),
        (BN, "BTCUSD_PERP", "--ids", "021"),
        (BN, "BTCUSD_PERP", "--ids", "7,007"),
        (BN, "BTCUSD_PERP", "--ids", "1234567890123456789012345"),
        (BN, "BTCUSD_PERP", "--ids", "１２３"),
        ("bitget", "BTCUSDT", "--client-ids", "grïd-1"),
    ],
)
def test_ids_that_are_not_what_they_look_like_store_and_send_nothing(
    fake, tmp_path: Path, venue, symbol, flag, value
) -> None:
    db = tmp_path / "ids.db"
    res = run_cli(["cancel", "--venue", venue, "--symbol", symbol, flag, value], venue_env(fake.url, db))
    assert res.returncode == 2, (res.stdout[-300:], res.stderr[-300:])
    assert not db.exists()
    assert fake.requests(venue) == []


def test_an_over_long_key_is_refused_without_being_echoed(fake, tmp_path: Path) -> None:
    key = "k" * 5000
    res = run_cli(
        ["cancel", "--venue", BN, "--symbol", "BTCUSD_PERP", "--ids", "1", "--key", key],
        venue_env(fake.url, tmp_path / "k.db"),
    )
    assert res.returncode == 2 and key not in res.stderr and "characters" in res.stderr


def test_what_the_venue_said_is_the_answer_that_settled_the_order(fake, make_client) -> None:
    ids = [str(96_000 + i) for i in range(3)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    fake.fault(BN, "cancel", "fill_before_cancel")
    r = make_client().cancel(BN, SYMBOLS[BN], order_ids=ids)
    (filled,) = [o for o in r.orders if o.state == "failed"]
    assert filled.reason == "filled" and filled.provenance == "venue_query"
    assert "Unknown order" not in (filled.venue_message or "")  # not the cancel reply's -2011
    assert "FILLED" in f"{filled.venue_code} {filled.venue_message}"


def test_a_good_resume_after_a_wrong_secret_shows_the_good_answer(fake, tmp_path: Path) -> None:
    db = tmp_path / "secret.db"
    ids = [str(97_000 + i) for i in range(2)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    wrong = VenueConfig(BN, credentials=Credentials(CREDS.api_key, "wrong-secret"), base_url=fake.url)
    with client_for(fake.url, db, venues=[wrong]) as c:
        with pytest.raises(Exception):  # noqa: B017 - AuthError; the job stays open
            c.cancel(BN, SYMBOLS[BN], order_ids=ids)
    with client_for(fake.url, db) as c:
        (r,) = c.resume()
    assert r.counts == {"cancelled": 2}
    assert not any("Signature" in (o.venue_message or "") for o in r.orders)
