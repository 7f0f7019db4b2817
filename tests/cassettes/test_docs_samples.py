"""The docs' own samples (``shared/seeds``), cross-checked against what the venue tests use, and replayed.

``tests/venues`` already feeds the docs' reply samples to each parser, mostly from constants copied
out of the seeds by hand. This module does not repeat those parser tests. It checks that each copy
still says what the seed says, and replays the one seed that documents a whole exchange (BitoPro's
request *and* reply) through the Client, as a cassette built from the docs.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import yaml
from vcr import VCR

from safecancel import Client, OrderRef, VenueConfig
from tests.conftest import CREDS, FAST, ROOT

from .conftest import REPLAY_URL, cassette_config, known_secrets, signed_request

SEEDS = ROOT.parent / "shared" / "seeds"


def seed_text(prefix: str) -> str:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip(f"shared/seeds/{prefix}_* not present beside the repository")
    return found[0].read_text("utf-8")


def fenced_json(text: str, after: str) -> object:
    """The first fenced block after the heading ``after``, with the docs' ``//`` comments removed."""
    block = re.split(r"```\w*\n", text.split(after, 1)[1], maxsplit=1)[1].split("```", 1)[0]
    return json.loads("\n".join(line.split("//", 1)[0] for line in block.splitlines()))


def test_bitopro_copy_matches_seed_000() -> None:
    from tests.venues.test_bitopro import SEED_RESPONSE

    assert fenced_json(seed_text("000"), "### Response sample") == SEED_RESPONSE


def test_bitget_copy_matches_seed_004() -> None:
    from tests.venues.test_bitget import DOC_CANCEL_REPLY

    assert fenced_json(seed_text("004"), "Response Example") == DOC_CANCEL_REPLY


def test_htx_copy_matches_seed_003() -> None:
    """Seed 003 is a flattened page (one token a line); every string pair in it must be in the copy."""
    from tests.venues.test_htx import SEED_SUCCESS

    text = seed_text("003").split("##### Success Example", 1)[1]
    pairs = re.findall(r'"([\w-]+)":\s*"([^"]*)"', text)
    assert len(pairs) >= 6
    failed = SEED_SUCCESS["data"]["failed"][0]
    for key, value in pairs:
        assert SEED_SUCCESS.get(key) == value or failed.get(key) == value, (key, value)
    listed = re.search(r'"success":\\\[\s*0\s*:\s*"(\d+)"', text)
    assert listed and SEED_SUCCESS["data"]["success"] == [listed.group(1)]


def test_binance_and_bingx_seeds_need_no_copy_check() -> None:
    # tests/venues/test_binance_coinm.py reads seed 001 itself; seed 002 (BingX) documents the reply's
    # fields but gives no sample to copy. If 002 ever gains one, it should be replayed here.
    assert "-2011" in seed_text("001")
    assert "```json" not in seed_text("002")


def test_bitopro_documented_exchange_replays_through_the_client(tmp_path: Path) -> None:
    """The docs' request sample is byte for byte what the adapter sends, and their reply settles it."""
    text = seed_text("000")
    request = fenced_json(text, "### Request sample")
    reply = fenced_json(text, "### Response sample")
    cassette = tmp_path / "bitopro_docs.yaml"
    cassette.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "interactions": [
                    {
                        "request": {
                            "method": "PUT",
                            "uri": REPLAY_URL + "/v3/orders",
                            # Compact JSON, pairs and ids in the docs' order: what BitoPro signs.
                            "body": json.dumps(request, separators=(",", ":")),
                            "headers": {},
                        },
                        "response": {
                            "status": {"code": 200, "message": "OK"},
                            "headers": {"Content-Type": ["application/json"]},
                            "body": {"string": json.dumps(reply)},
                        },
                    }
                ],
            }
        )
    )
    refs = [OrderRef(pair, order_id=i) for pair, ids in request.items() for i in ids]
    vcr = VCR(record_mode="none")
    vcr.register_matcher("signed_request", signed_request)
    with vcr.use_cassette(str(cassette), **cassette_config(known_secrets())) as cas, Client(
        str(tmp_path / "journal.db"),
        venues=[VenueConfig("bitopro", credentials=CREDS, base_url=REPLAY_URL)],
        rng=random.Random(0),
        retry=FAST,
        workers=1,
        environ={},
    ) as client:
        result = client.cancel("bitopro", orders=refs)
        assert cas.all_played
    assert result.status == "done" and result.counts == {"cancelled": 4}
    assert {o.provenance for o in result.orders} == {"venue_response"}
