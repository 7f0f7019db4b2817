"""The job timeline (``show --timeline``): an auditor's picture, checked on its SVG structure.

The jobs are built by hand (no database): a crashed-and-resumed job, a job whose events all share one
instant, and a venue message carrying markup.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime

import pytest

from safecancel.errors import InputError
from safecancel.model import EventRecord, JobResult, OrderRef, OrderResult
from safecancel.timeline import CAP_W, MARKS, MAX_ORDERS, build_svg, duration, write_timeline

NS = {"s": "http://www.w3.org/2000/svg"}
SYM = "BTCUSD_PERP"
SCRIPT = "<script>alert(1)</script>"


class _Journal:
    """Builds a job's events the way the journal chains them."""

    def __init__(self, job_id: str) -> None:
        self.job_id, self.events = job_id, []

    def add(self, at: str, trigger: str, order: str | None = None, frm=None, to=None, **kw) -> None:
        fields = dict(
            attempt=None, http_status=None, venue_code=None, venue_message=None, provenance=None,
            reason=None, evidence_id=None, note=None,
        )  # fmt: skip
        fields.update(kw)
        self.events.append(
            EventRecord(len(self.events) + 1, self.job_id, order, trigger, frm, to, at=at, **fields)  # type: ignore[arg-type]
        )


def _order(oid: str, state: str, reason=None, provenance=None, **kw) -> OrderResult:
    return OrderResult(SYM, oid, None, state, reason, provenance, kw.pop("attempts", 1), **kw)


def _ref(oid: str) -> str:
    return str(OrderRef(SYM, oid))


def crashed_job() -> JobResult:
    """Six orders. The first runner sends 1-5, hears back about 1 and 2, and dies; fifteen minutes later
    another runner takes the job over, finds 3-5 in flight, queries them, sends 6; an operator settles 5."""
    j = _Journal("job-crash")
    day = "2026-11-23T"
    j.add(day + "13:37:07.100000Z", "create", to="open", note="6 orders")
    j.add(day + "13:37:07.105000Z", "clock", evidence_id=1, http_status=200, note="offset +3 ms")
    for oid in ("1", "2", "3"):
        j.add(day + "13:37:07.120000Z", "send", _ref(oid), "pending", "sent", attempt=1)
    j.add(day + "13:37:07.180000Z", "confirm", _ref("1"), "sent", "cancelled", evidence_id=2, http_status=200,
          provenance="venue_response")  # fmt: skip
    j.add(day + "13:37:07.180000Z", "reject", _ref("2"), "sent", "failed", evidence_id=2, http_status=200,
          reason="filled", provenance="venue_response", venue_code="-2011", venue_message="Order filled")  # fmt: skip
    for oid in ("4", "5"):
        j.add(day + "13:37:07.200000Z", "send", _ref(oid), "pending", "sent", attempt=1)
    # ... the first runner's process is gone; the next event comes from another runner.
    note = json.dumps({"from": "host-a:4242:aa", "to": "host-b:777:bb", "why": "its process is gone"})
    j.add(day + "13:52:00.300000Z", "takeover", note=note)
    for oid in ("3", "4", "5"):
        j.add(day + "13:52:00.300000Z", "lose", _ref(oid), "sent", "unknown", reason="no_reply",
              note="found sent when the lease was taken: the request may have arrived")  # fmt: skip
    j.add(day + "13:52:00.310000Z", "send", _ref("6"), "pending", "sent", attempt=1)
    j.add(day + "13:52:00.350000Z", "query", _ref("3"), "unknown", "unknown", evidence_id=3, http_status=200,
          reason="cancelling")  # fmt: skip
    j.add(day + "13:52:00.380000Z", "reject", _ref("6"), "sent", "failed", evidence_id=4, http_status=400,
          reason="venue_refused", provenance="venue_response", venue_code="-2015", venue_message="refused")  # fmt: skip
    j.add(day + "13:52:00.420000Z", "confirm", _ref("3"), "unknown", "cancelled", evidence_id=5, http_status=200,
          provenance="venue_query")  # fmt: skip
    j.add(day + "13:52:00.450000Z", "reject", _ref("4"), "unknown", "failed", evidence_id=6, http_status=400,
          reason="not_found", provenance="venue_query", venue_code="-2013", venue_message=SCRIPT)  # fmt: skip
    j.add(day + "13:52:00.460000Z", "query", _ref("5"), "unknown", "unknown", evidence_id=7, http_status=400,
          reason="venue_forgot")  # fmt: skip
    j.add(day + "13:52:00.470000Z", "status", note="open -> needs_attention")
    j.add(day + "13:55:10.000000Z", "settle_failed", _ref("5"), "unknown", "failed", reason="operator",
          provenance="operator", note="checked the venue's UI: it filled")  # fmt: skip
    j.add(day + "13:55:10.000000Z", "status", note="needs_attention -> done")
    orders = (
        _order("1", "cancelled", None, "venue_response"),
        _order("2", "failed", "filled", "venue_response", venue_code="-2011", venue_message="Order filled"),
        _order("3", "cancelled", None, "venue_query"),
        _order("4", "failed", "not_found", "venue_query", venue_code="-2013", venue_message=SCRIPT),
        _order("5", "failed", "operator", "operator"),
        _order("6", "failed", "venue_refused", "venue_response", venue_code="-2015", venue_message="refused"),
    )
    return JobResult("job-crash", "k1", "binance_coinm", "main", "done", j.events[0].at, j.events[-1].at, orders,
                     tuple(j.events))  # fmt: skip


def instant_job() -> JobResult:
    """Everything within one microsecond: created, sent, confirmed."""
    j = _Journal("job-instant")
    at = "2026-11-23T08:00:00.000001Z"
    j.add(at, "create", to="open")
    j.add(at, "send", _ref("9"), "pending", "sent", attempt=1)
    j.add(at, "confirm", _ref("9"), "sent", "cancelled", evidence_id=1, provenance="venue_response")
    j.add(at, "status", note="open -> done")
    orders = (_order("9", "cancelled", None, "venue_response"),)
    return JobResult("job-instant", "k2", "binance_coinm", "main", "done", at, at, orders, tuple(j.events))


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def _cls(el: ET.Element) -> list[str]:
    return (el.get("class") or "").split()


def _all(root: ET.Element, cls: str) -> list[ET.Element]:
    return [el for el in root.iter() if cls in _cls(el)]


def _text(el: ET.Element) -> str:
    return "".join(el.itertext())


def _labelled_ticks(root: ET.Element) -> list[ET.Element]:
    return [t for t in _all(root, "tick") if _text(t)]


def _marker_x(root: ET.Element, kind: str) -> list[float]:
    return [float(re.match(r"M([\d.]+),", p.get("d", "")).group(1)) for m in _all(root, kind) for p in m]  # type: ignore[union-attr]


# -- the crashed-and-resumed job -----------------------------------------------------------------


def test_the_axis_is_utc_wall_clock_with_round_ticks():
    root = _parse(build_svg(crashed_job()))
    labels = [_text(el) for el in _all(root, "axis-label")]
    assert labels and all("UTC" in t and "2026-11-23" in t for t in labels)
    ticks = _labelled_ticks(root)
    assert len(ticks) >= 4
    texts = [_text(t) for t in ticks]
    # Both sides of the crash have ticks: the first runner's milliseconds and the second runner's.
    assert any(t.startswith("13:37:07.") for t in texts), texts
    assert any(t.startswith("13:52:00.") for t in texts), texts
    for t in ticks:  # each tick label says the tick's own time
        at = datetime.fromisoformat(t.get("data-t"))
        assert _text(t).startswith(at.strftime("%H:%M")), (_text(t), at)


def test_ticks_left_to_right_in_time_order():
    root = _parse(build_svg(crashed_job()))
    pairs = [(t.get("data-t"), float(t.find("s:path", NS).get("d")[1:].split(",")[0])) for t in _all(root, "tick")]
    assert len(pairs) > len(_labelled_ticks(root))  # round ticks without room for a label keep their mark
    assert [x for _t, x in sorted(pairs)] == sorted(x for _t, x in pairs)
    # The moments the first runner went quiet and the second came back are labelled to the millisecond.
    texts = [_text(t) for t in _labelled_ticks(root)]
    assert "13:37:07.200" in texts and "13:52:00.300" in texts


def test_one_takeover_marker_with_why_and_a_stopped_span_before_it():
    root = _parse(build_svg(crashed_job()))
    (marker,) = [m for m in _all(root, "marker") if "takeover" in _cls(m)]
    assert "its process is gone" in _text(marker) and "host-a:4242:aa" in _text(marker)
    (label,) = [el for el in _all(root, "marker-label") if "takeover" in _cls(el)]
    assert "takeover" in _text(label) and "its process is gone" in _text(label)
    # The dead time is a labelled break ending at the takeover line, not one long "sent" bar.
    (stopped,) = [g for g in _all(root, "stopped") if g.tag.endswith("g")]
    band = stopped.find("s:rect", NS)
    assert "runner stopped" in _text(stopped) and duration(893.1) in _text(stopped)
    (tx,) = _marker_x(root, "takeover")
    assert float(band.get("x")) + float(band.get("width")) == pytest.approx(tx, abs=0.2)
    assert not [m for m in _all(root, "marker") if "resumed" in _cls(m)]


def test_no_state_bar_runs_through_the_stopped_span():
    root = _parse(build_svg(crashed_job()))
    band = [g for g in _all(root, "stopped") if g.tag.endswith("g")][0].find("s:rect", NS)
    b0, b1 = float(band.get("x")), float(band.get("x")) + float(band.get("width"))
    for seg in _all(root, "seg"):
        x0, x1 = float(seg.get("x")), float(seg.get("x")) + float(seg.get("width"))
        assert x1 <= b0 + 0.2 or x0 >= b1 - 0.2, (seg.get("data-state"), x0, x1, b0, b1)
    # Orders 3-5 were in flight across it: their lanes show a dashed continuation inside the band.
    lane3 = next(g for g in _all(root, "lane") if g.get("data-order") == _ref("3"))
    assert any(p.get("stroke-dasharray") for p in lane3.iter("{http://www.w3.org/2000/svg}path"))


def test_the_creation_is_drawn_before_everything_else():
    root = _parse(build_svg(crashed_job()))
    (cx,) = _marker_x(root, "create")
    assert [_text(el) for el in _all(root, "marker-label") if "create" in _cls(el)] == ["created"]
    segs = [float(s.get("x")) for s in _all(root, "seg")]
    assert min(segs) == pytest.approx(cx, abs=0.2)  # the orders are pending from the creation on
    (tx,) = _marker_x(root, "takeover")
    assert cx < tx


def test_every_order_has_a_visible_final_mark_of_its_own_kind():
    job = crashed_job()
    root = _parse(build_svg(job))
    marks = {m.get("data-order"): m for m in _all(root, "final-mark")}
    assert set(marks) == {_ref(o.order_id) for o in job.orders}
    want = {"1": "cancelled", "2": "filled", "3": "cancelled", "4": "not_found", "5": "operator", "6": "venue_refused"}
    for oid, key in want.items():
        m = marks[_ref(oid)]
        assert m.get("data-final") == key
        cap = m.find("s:rect", NS)
        assert float(cap.get("width")) >= 12 and float(cap.get("height")) >= 10
        assert cap.get("fill") == MARKS[key].fill
    # Order 5 was settled by the operator at the very last instant: still a full-width mark, and a bar.
    lane5 = next(g for g in _all(root, "lane") if g.get("data-order") == _ref("5"))
    assert "operator" in _text(lane5)


def test_the_four_reasons_are_told_apart_by_colour_and_glyph():
    root = _parse(build_svg(crashed_job()))
    marks = {m.get("data-final"): m for m in _all(root, "final-mark")}
    keys = ["filled", "not_found", "venue_refused", "operator"]
    fills = {marks[k].find("s:rect", NS).get("fill") for k in keys} | {MARKS["cancelled"].fill}
    assert len(fills) == 5

    # The glyph on each cap differs in shape, not only in position: compare them with the numbers taken out.
    def shape(mark: ET.Element) -> str:
        return re.sub(r"-?[\d.]+", "#", "".join(ET.tostring(el).decode() for el in list(mark)[1:]))

    assert len({shape(marks[k]) for k in keys}) == 4
    # The failed bar itself is painted in its reason's colour, so filled and not_found differ on the lane too.
    lane = {g.get("data-order"): g for g in _all(root, "lane")}
    last_fill = {oid: _all(lane[_ref(oid)], "seg")[-1].get("fill") for oid in ("2", "4")}
    assert last_fill == {"2": MARKS["filled"].fill, "4": MARKS["not_found"].fill}


def test_the_legend_names_every_symbol():
    root = _parse(build_svg(crashed_job()))
    legend = {g.get("data-key"): _text(g) for g in _all(root, "legend-item")}
    for key in ("state-pending", "state-sent", "state-unknown", "cancelled", "filled", "not_found", "venue_refused",
                "operator", "failed", "unsettled", "http", "create", "takeover", "stopped"):  # fmt: skip
        assert key in legend, key
    assert "HTTP exchange" in legend["http"] and "runner stopped" in legend["stopped"]
    assert legend["filled"] != legend["not_found"]


def test_http_exchanges_are_ticked_where_they_happened():
    job = crashed_job()
    root = _parse(build_svg(job))
    lane = {g.get("data-order"): g for g in _all(root, "lane")}
    for oid in ("1", "2", "3", "4", "5", "6"):
        want = sum(1 for e in job.events if e.order == _ref(oid) and e.evidence_id is not None)
        assert len(_all(lane[_ref(oid)], "http")) == want, oid
    assert len(_all(root, "http")) == 8  # seven on the lanes (3 has two), one on the job lane (the clock)


def test_the_title_says_job_venue_status_span_and_tally():
    root = _parse(build_svg(crashed_job()))
    title = _text(_all(root, "title")[0])
    for word in ("job-crash", "binance_coinm", "done", "2026-11-23 13:37:07.100", "13:55:10.000 UTC", "18 min"):
        assert word in title, (word, title)
    summary = _text(_all(root, "summary")[0])
    assert summary.startswith("6 orders") and "2 cancelled" in summary and "1 failed: filled" in summary


def test_an_idle_stretch_is_a_break_and_not_a_stopped_runner():
    # Between the last runner's events and the operator's decision three minutes later nothing ran.
    root = _parse(build_svg(crashed_job()))
    idle = [g for g in _all(root, "idle") if g.tag.endswith("g")]
    assert len(idle) == 1 and "no events" in _text(idle[0])


# -- edge cases ----------------------------------------------------------------------------------


def test_a_job_within_one_instant_still_shows_an_axis_and_its_final_state():
    root = _parse(build_svg(instant_job()))
    (tick,) = _all(root, "tick")
    assert _text(tick) == "08:00:00.000"
    (mark,) = _all(root, "final-mark")
    assert mark.get("data-final") == "cancelled" and float(mark.find("s:rect", NS).get("width")) == CAP_W
    # The cancelled bar fills the plot after the instant rather than vanishing at zero width.
    (bar,) = [s for s in _all(root, "seg") if s.get("data-state") == "cancelled"]
    assert float(bar.get("width")) > 100
    assert _marker_x(root, "create")


def test_markup_from_the_venue_is_text_never_markup():
    job = crashed_job()
    evil = '"><script>alert(2)</script><rect onload="x'
    job = replace(job, job_id="id<b>", orders=job.orders[:1] + (replace(job.orders[1], venue_message=evil),)
                  + job.orders[2:], attention="\x07bell & <b>")  # fmt: skip
    svg = build_svg(job)
    root = _parse(svg)  # well-formed, control byte included
    assert not [el for el in root.iter() if el.tag.endswith(("script", "b"))]
    assert "<script" not in svg and "\x07" not in svg
    assert any(SCRIPT in (el.text or "") for el in root.iter())  # shown, as text, in a tooltip
    assert all(not k.startswith("on") for el in root.iter() for k in el.attrib)


def test_a_resume_by_the_same_runner_is_marked_without_a_takeover():
    job = crashed_job()
    events = tuple(e for e in job.events if e.trigger != "takeover")
    root = _parse(build_svg(replace(job, events=events)))
    assert not [m for m in _all(root, "marker") if "takeover" in _cls(m)]
    (resumed,) = [m for m in _all(root, "marker") if "resumed" in _cls(m)]
    assert [g for g in _all(root, "stopped") if g.tag.endswith("g")]


def test_many_orders_are_capped_and_counted_quickly():
    import time

    n = 100_000
    j = _Journal("big")
    j.add("2026-11-23T10:00:00.000000Z", "create", to="open")
    for i in range(n):
        j.add("2026-11-23T10:00:01.000000Z", "send", _ref(str(i)), "pending", "sent")
        j.add(f"2026-11-23T10:00:{2 + i % 50:02d}.{i % 1000:03d}000Z", "confirm", _ref(str(i)), "sent", "cancelled",
              evidence_id=i)  # fmt: skip
    orders = tuple(_order(str(i), "cancelled", None, "venue_response") for i in range(n))
    job = JobResult("big", "k", "binance_coinm", "main", "done", "", None, orders, tuple(j.events))
    t0 = time.perf_counter()
    svg = build_svg(job)
    took = time.perf_counter() - t0
    root = _parse(svg)
    assert len(_all(root, "lane")) == MAX_ORDERS
    assert f"{n - MAX_ORDERS} more orders not drawn" in _text(_all(root, "not-drawn")[0])
    assert f"{n} orders: {n} cancelled" in _text(_all(root, "summary")[0])
    assert took < 5, took


def test_write_timeline_svg_and_html(tmp_path):
    job = crashed_job()

    class Client:
        def job(self, job_id: str) -> JobResult:
            assert job_id == job.job_id
            return job

    write_timeline(Client(), job.job_id, str(tmp_path / "t.svg"))
    assert (tmp_path / "t.svg").read_text(encoding="utf-8").startswith("<svg")
    _parse((tmp_path / "t.svg").read_text(encoding="utf-8"))
    write_timeline(Client(), job.job_id, str(tmp_path / "t.html"))
    page = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page
    with pytest.raises(InputError):
        write_timeline(Client(), job.job_id, str(tmp_path / "t.png"))
    with pytest.raises(InputError):
        build_svg(replace(job, events=()))
