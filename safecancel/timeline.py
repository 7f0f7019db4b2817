"""A picture of a job for an auditor: each order's states on a UTC wall-clock axis (SVG or HTML).

What it draws, top to bottom: a title (job, venue, status, span, final tally), a legend, the time axis,
a "job" lane (the job's own events), then one lane per order: its states as bars, a tick at every HTTP
exchange, and a fixed-width mark after the plot for its final state. Vertical lines cross every lane
where the job was created and where a runner took a stopped runner's job over (or a runner resumed it).

The axis is linear wall-clock time except at the breaks, which are drawn and labelled as such: the span
where a runner had stopped (no events until the takeover) always gets a fixed width, and a long span
with no events at all gets one when drawing it to scale would squeeze everything else. Without those
breaks a crash of fifteen minutes would flatten the milliseconds of work either side of it to a line.
"""

from __future__ import annotations

import html
import json
import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import InputError

MAX_ORDERS = 400  # lanes drawn; a 100k-order job is summarised below the last lane

# Geometry (px). Monospace at 11 px is ~6.6 px per character: the widths below are sized for that.
CHAR_W = 6.6
ROW_H = 18  # one order lane
BAR_H = 12
LABEL_W = 240  # order names, left of the plot
PLOT_W = 700  # the plot's width when nothing forces it wider
FINAL_W = 180  # the final-state column, right of the plot
CAP_W = 16  # the final-state mark: fixed width, so a state reached at the last instant still shows
GAP_W = 96  # an axis break (runner stopped / no events): wide enough for its two-line label
MIN_IDLE, MAX_IDLE_BREAKS = 2.0, 4  # seconds without events before the axis may skip them; how many it skips
RUN_PAD = 14  # after a run's last instant, before a break (see Scale._within)
MIN_RUN_W, MIN_INSTANT_W = 200, 100  # a run between breaks: room for its start and end labels (an instant: one)
TICK_SPACING = 95  # px per tick label ("13:37:07.120" is ~80 px)
PAD = 10

# Lane colours of the unsettled states.
STATE_COLORS = {"pending": "#aed6f1", "sent": "#5d8aa8", "unknown": "#f4d03f"}


@dataclass(frozen=True)
class Mark:
    """How a final state is drawn: the bar's colour, a glyph on the end cap, the legend's words."""

    fill: str
    glyph: str
    label: str


# Final states. Terminal reasons an auditor must tell apart get their own colour AND glyph (so they stay
# distinct in grey print and for colour-blind readers); other reasons share the generic mark of their state.
MARKS = {
    "cancelled": Mark("#27ae60", "check", "cancelled"),
    "filled": Mark("#e67e22", "dot", "failed: filled"),
    "not_found": Mark("#7f8c8d", "ring", "failed: not_found"),
    "venue_refused": Mark("#a93226", "bar", "failed: venue_refused"),
    "operator": Mark("#7d3c98", "person", "operator decision"),
    "failed": Mark("#ec7063", "cross", "failed: other reason"),
}
UNSETTLED_LABEL = "not final (job unfinished)"

_STOPPED_FILL = "url(#stopped)"
_IDLE_FILL = "#f4f6f7"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(value: object) -> str:
    """Text from outside (venue messages, notes, ids) as safe XML: escaped, and without the characters
    XML forbids (a control byte in a venue message would otherwise make the whole file unreadable)."""
    return html.escape(_INVALID_XML.sub("\ufffd", str(value)), quote=True)


_parsed: dict[str, float] = {}


def _t(iso: str) -> float:
    """Epoch seconds of a journal timestamp. Events of one batch share their ``at``: a small cache saves
    re-parsing them on a 100k-order job."""
    v = _parsed.get(iso)
    if v is None:
        if len(_parsed) > 200_000:
            _parsed.clear()
        v = _parsed[iso] = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    return v


def _utc(t: float) -> datetime:
    # Whole milliseconds first: float seconds would print 13:37:07.119999 for .120.
    ms = round(t * 1000)
    return datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=(ms % 1000) * 1000)


def _clock(t: float, ms: bool = True) -> str:
    d = _utc(t)
    return d.strftime("%H:%M:%S") + (f".{d.microsecond // 1000:03d}" if ms else "")


def duration(seconds: float) -> str:
    """A span in words an auditor reads at a glance: 850 ms, 12.3 s, 14 min 52 s, 3 h 05 min."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{int(seconds // 86400)} d {int(seconds % 86400 // 3600)} h"


def final_key(o: Any) -> str | None:
    """The :data:`MARKS` key of an order's final state; None while it is not final."""
    if o.provenance == "operator" or o.reason == "operator":
        return "operator"
    if o.state == "cancelled":
        return "cancelled"
    if o.state == "failed":
        return o.reason if o.reason in ("filled", "not_found", "venue_refused") else "failed"
    return None


# -- the time axis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A stretch of the axis: activity drawn to scale ("run"), or a break ("stopped" / "idle")."""

    kind: str
    t0: float
    t1: float
    x0: float
    x1: float
    label: str = ""


class Scale:
    """Wall-clock time to x, linear within each run, with fixed-width breaks between runs."""

    def __init__(self, pieces: list[Piece]) -> None:
        self.pieces = pieces
        # Looked up by end time: an instant and the break after it start at the same time, and a time
        # belongs to the first piece that reaches it (events of an instant sit at its left edge).
        self._ends = [p.t1 for p in pieces]

    @staticmethod
    def _within(p: Piece, t: float) -> float:
        if p.t1 <= p.t0:
            return p.x0  # an instant: its events sit at its left edge, the states after them fill it
        # A run's time ends RUN_PAD short of its right edge: the pad shows the states its last events
        # left (the orders sent just before a crash), which would otherwise be a pixel wide.
        span = p.x1 - p.x0 - (RUN_PAD if p.kind == "run" else 0)
        return p.x0 + (min(max(t, p.t0), p.t1) - p.t0) / (p.t1 - p.t0) * span

    def x(self, t: float) -> float:
        return self._within(self.pieces[min(bisect_left(self._ends, t), len(self.pieces) - 1)], t)

    def spans(self, ta: float, tb: float) -> Iterable[tuple[float, float, Piece]]:
        """The x ranges of a state held from ``ta`` until ``tb`` (``inf``: to the end), piece by piece.
        A state that held for no time at all gets one zero-width range (drawn 1 px wide)."""
        if ta == tb:
            yield self.x(ta), self.x(ta), self.pieces[min(bisect_left(self._ends, ta), len(self.pieces) - 1)]
            return
        for p in self.pieces[bisect_left(self._ends, ta) :]:
            if p.t0 >= tb:
                break
            if p.t1 <= p.t0:  # an instant within [ta, tb): the state held after it, across its width
                yield p.x0, p.x1, p
                continue
            xa = self._within(p, max(ta, p.t0))
            xb = p.x1 if tb > p.t1 else self._within(p, min(tb, p.t1))
            if xb > xa:
                yield xa, xb, p


def _min_w(d: float) -> float:
    # A run with a duration shows its start and end to the millisecond (two labels); an instant, one.
    return MIN_RUN_W if d > 0 else MIN_INSTANT_W


def _allocate(durations: list[float], width: float) -> list[float]:
    """Widths of runs in proportion to their durations, each at least its minimum (see _min_w)."""
    fixed: set[int] = set()
    while True:
        free = width - sum(_min_w(durations[i]) for i in fixed)
        rest = [i for i in range(len(durations)) if i not in fixed]
        total = sum(durations[i] for i in rest)
        if total <= 0:
            share = free / len(rest) if rest else 0.0
            return [_min_w(durations[i]) if i in fixed else share for i in range(len(durations))]
        small = {i for i in rest if durations[i] / total * free < _min_w(durations[i])}
        if not small:
            return [_min_w(durations[i]) if i in fixed else durations[i] / total * free for i in range(len(durations))]
        fixed |= small


def build_scale(
    times: Sequence[float], stopped: dict[tuple[float, float], str], x0: float, plot_w: float
) -> tuple[Scale, float]:
    """The axis for sorted event ``times``: ``stopped`` gaps (start, end) -> label always break it, a long
    span without events breaks it when its width to scale would exceed GAP_W. Returns the scale and
    the plot width used (wider than ``plot_w`` when many breaks need room)."""
    lo, hi = times[0], times[-1]
    span = hi - lo
    breaks: dict[tuple[float, float], tuple[str, str]] = {g: ("stopped", why) for g, why in stopped.items()}
    # Candidates: the longest silences (backoff pauses of a second or two stay to scale). Each is
    # taken only if drawn to scale it would be wider than a break: then it costs the rest of the axis room.
    idle = sorted(
        ((b - a, (a, b)) for a, b in zip(times, times[1:]) if b - a >= MIN_IDLE and (a, b) not in breaks),
        reverse=True,
    )[:MAX_IDLE_BREAKS]
    for d, gap in idle:  # the longest first: each break taken gives the rest of the axis more room
        runs = span - sum(b - a for a, b in breaks)
        avail = plot_w - GAP_W * len(breaks)
        if runs <= 0 or d * avail / runs > GAP_W:
            breaks[gap] = ("idle", "no events")
    ordered = sorted(breaks)
    bounds = [lo] + [v for g in ordered for v in g] + [hi]
    run_ts = [(bounds[2 * i], bounds[2 * i + 1]) for i in range(len(ordered) + 1)]
    plot_w = max(plot_w, GAP_W * len(ordered) + sum(_min_w(b - a) for a, b in run_ts))
    widths = _allocate([b - a for a, b in run_ts], plot_w - GAP_W * len(ordered))
    pieces: list[Piece] = []
    x = x0
    for i, (a, b) in enumerate(run_ts):
        pieces.append(Piece("run", a, b, x, x + widths[i]))
        x += widths[i]
        if i < len(ordered):
            ga, gb = ordered[i]
            kind, label = breaks[(ga, gb)]
            pieces.append(Piece(kind, ga, gb, x, x + GAP_W, label))
            x += GAP_W
    return Scale(pieces), plot_w


# Tick steps in milliseconds: 1-2-5 below ten seconds, then the clock's own divisions.
_STEPS_MS = [
    *(m * 10**e for e in range(4) for m in (1, 2, 5)),
    10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
    3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
]  # fmt: skip


def ticks(p: Piece) -> tuple[list[float], float]:
    """Tick times within a run piece at round wall-clock values (UTC: the epoch is UTC midnight), and
    the step in seconds. Worked in whole milliseconds: float epoch seconds miss round values by a hair."""
    lo, hi = round(p.t0 * 1000), round(p.t1 * 1000)
    want = max(int((p.x1 - p.x0) // TICK_SPACING), 1)
    step = next((s for s in _STEPS_MS if s * want >= hi - lo), _STEPS_MS[-1])
    return [k * step / 1000 for k in range(-(-lo // step), hi // step + 1)], step / 1000


def _tick_label(t: float, step: float, day0: str) -> str:
    text = _clock(t, ms=step < 1 or round(t * 1000) % 1000 != 0)
    if step >= 60 and text.endswith(":00"):
        text = text[:-3]
    day = _utc(t).strftime("%Y-%m-%d")
    return text if day == day0 else f"{day[5:]} {text}"  # a tick on another day says which


# -- the picture ---------------------------------------------------------------------------------


def _glyph(kind: str, x: float, y: float) -> str:
    """A white glyph centred on (x, y), drawn as shapes so that it does not depend on fonts."""
    w = 'stroke="#fff" stroke-width="2" fill="none" stroke-linecap="round"'
    if kind == "check":
        return f'<path d="M{x - 4:.1f},{y:.1f} l3,3 l5,-6" {w}/>'
    if kind == "dot":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#fff"/>'
    if kind == "ring":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" {w}/>'
    if kind == "bar":
        return f'<path d="M{x - 4.5:.1f},{y:.1f} h9" stroke="#fff" stroke-width="3"/>'
    if kind == "person":
        return (
            f'<circle cx="{x:.1f}" cy="{y - 2.5:.1f}" r="2" fill="#fff"/>'
            f'<path d="M{x - 4:.1f},{y + 4.5:.1f} q4,-7 8,0 z" fill="#fff"/>'
        )
    if kind == "cross":
        return f'<path d="M{x - 3:.1f},{y - 3:.1f} l6,6 m0,-6 l-6,6" {w}/>'
    return ""


def _cap(
    key: str | None, state: str, x: float, y: float, h: float, title: str = "", data: str = "", cls: str = "final-mark"
) -> str:
    """The fixed-width final-state mark with its top-left at (x, y)."""
    tip = f"<title>{title}</title>" if title else ""
    if key is None:  # not final: the state's colour, dashed outline, no glyph
        fill = STATE_COLORS.get(state, "#ccc")
        return (
            f'<g class="{cls}" data-final="{_esc(state)}"{data}>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{CAP_W}" height="{h}" fill="{fill}" stroke="#333" '
            f'stroke-dasharray="2,2">{tip}</rect></g>'
        )
    m = MARKS[key]
    return (
        f'<g class="{cls}" data-final="{key}"{data}>'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{CAP_W}" height="{h}" rx="2" fill="{m.fill}">{tip}</rect>'
        f"{_glyph(m.glyph, x + CAP_W / 2, y + h / 2)}</g>"
    )


def _event_text(e: Any) -> str:
    parts = [e.at, e.trigger]
    if e.from_state or e.to_state:
        parts.append(f"{e.from_state or '-'} -> {e.to_state or '-'}")
    for name in ("reason", "provenance", "attempt", "http_status", "venue_code", "venue_message", "note"):
        v = getattr(e, name)
        if v is not None:
            parts.append(f"{name}={v}")
    if e.evidence_id is not None:
        parts.append(f"evidence #{e.evidence_id}")
    return " ".join(str(p) for p in parts)


def _takeover_why(note: str | None) -> tuple[str, str]:
    """(why, who) from a takeover note ``{"from": .., "to": .., "why": ..}``; tolerant of other notes."""
    try:
        d = json.loads(note or "")
        return str(d.get("why") or ""), f"{d.get('from')} -> {d.get('to')}"
    except (ValueError, AttributeError):
        return "", note or ""


class _Labels:
    """Text labels on the job lane's two lines without overlaps: a label goes on the first line with
    room for it, or is left out (its marker keeps its tooltip), so that a busy job lane stays legible."""

    def __init__(self, ys: Sequence[float], right: float) -> None:
        self.right = right
        self.lines: list[tuple[float, list[tuple[float, float]]]] = [(y, []) for y in ys]

    def place(self, x: float, text: str, cls: str, color: str = "#333", lines: Sequence[int] = (0, 1)) -> str:
        w = len(text) * CHAR_W
        # Right of its marker; left of it where it would run off the picture.
        left, anchor = (x - 3 - w, "end") if x + 3 + w > self.right else (x + 3, "start")
        for i in lines:
            y, taken = self.lines[i]
            if all(left + w + 4 <= a or left >= b + 4 for a, b in taken):
                taken.append((left, left + w))
                tx = left + w if anchor == "end" else left
                return (
                    f'<text class="{cls}" x="{tx:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
                    f'fill="{color}">{_esc(text)}</text>'
                )
        return ""


def build_svg(job: Any) -> str:
    """The SVG for a :class:`~safecancel.model.JobResult` with events."""
    evs = list(job.events)
    if not evs:
        raise InputError(f"job {job.job_id} has no events to draw")
    orders = list(job.orders)
    drawn = orders[:MAX_ORDERS]
    names = [str(o.ref) for o in drawn]
    wanted = set(names)

    by_order: dict[str, list[Any]] = {}
    job_events: list[Any] = []
    for e in evs:
        if e.order is None:
            job_events.append(e)
        elif e.order in wanted:
            by_order.setdefault(e.order, []).append(e)
    # Every event counts for the axis and its breaks (an order not drawn was still worked on then).
    times = sorted({_t(e.at) for e in evs})
    lo, hi = times[0], times[-1]

    # Where a runner stopped: from the last event before a takeover until the takeover. A runner that
    # resumed its own job leaves no takeover, only the orders it found in flight ("lose" with no exchange).
    restarts: list[tuple[float, str, str, str]] = []  # (at, kind, label, tooltip)
    for i, e in enumerate(evs):
        if e.trigger == "takeover":
            why, who = _takeover_why(e.note)
            restarts.append((_t(e.at), "takeover", f"takeover · {why}" if why else "takeover", f"{who}: {why}"))
        elif e.trigger == "lose" and e.evidence_id is None and "lease" in (e.note or ""):
            # The orders found in flight follow their takeover event (or each other) in the chain.
            if i and evs[i - 1].trigger not in ("takeover", "lose"):
                restarts.append((_t(e.at), "resumed", "resumed", e.note or ""))
    restarts.sort()
    stopped: dict[tuple[float, float], str] = {}
    for at, _kind, _label, _tip in restarts:
        k = bisect_left(times, at)
        if k > 0:
            stopped[(times[k - 1], at)] = "runner stopped"

    x0 = LABEL_W + PAD
    scale, plot_w = build_scale(times, stopped, x0, PLOT_W)
    x1 = x0 + plot_w
    width = x1 + FINAL_W
    # Legend: every symbol the picture can use, each entry a group that readers (and tests) can find;
    # wrapped to the picture's width.
    items: list[tuple[str, str, str]] = [
        (f"state-{s}", s, f'<rect width="14" height="10" fill="{c}"/>') for s, c in STATE_COLORS.items()
    ]
    items += [(k, m.label, _cap(k, "", 0, -1, 12, cls="legend-mark")) for k, m in MARKS.items()]
    items.append(("unsettled", UNSETTLED_LABEL, _cap(None, "unknown", 0, -1, 12, cls="legend-mark")))
    items += [
        ("http", "HTTP exchange (evidence kept)", '<path d="M7,-2 v14" stroke="#111" stroke-width="1.5"/>'),
        ("create", "job created", '<path d="M7,-4 v16" stroke="#1e8449" stroke-width="2" stroke-dasharray="3,2"/>'),
        ("takeover", "takeover / resumed", '<path d="M7,-4 v16" stroke="#c0392b" stroke-width="2"/>'),
        ("stopped", "runner stopped (axis break)", f'<rect width="14" height="10" fill="{_STOPPED_FILL}"/>'),
        ("idle", "no events (axis break)", f'<rect width="14" height="10" fill="{_IDLE_FILL}" stroke="#bbb"/>'),
        ("job-event", "job event", '<path d="M3,0 h8 l-4,8 z" fill="#555"/>'),
    ]
    legend: list[str] = []
    lx, ly = float(PAD), 60 if job.attention else 44
    for key, label, symbol in items:
        w = 18 + len(label) * CHAR_W
        if lx + w > width - PAD:
            lx, ly = PAD, ly + 18
        legend.append(
            f'<g class="legend-item" data-key="{key}" transform="translate({lx:.1f},{ly})">{symbol}'
            f'<text x="18" y="9">{_esc(label)}</text></g>'
        )
        lx += w + 14
    top = ly + 70  # the axis line: below it the lanes, above it the legend, break labels and tick labels

    job_y = top + 6  # the job lane: two label lines
    lanes_y = job_y + 34
    bottom = lanes_y + ROW_H * len(drawn)
    bottom_axis = len(drawn) > 25  # a tall picture repeats the axis below its lanes
    height = bottom + (40 if bottom_axis else 14) + 30
    day0 = _utc(lo).strftime("%Y-%m-%d")
    day1 = _utc(hi).strftime("%Y-%m-%d")

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'viewBox="0 0 {width:.0f} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        'font-size="11">',
        f"<title>safecancel job {_esc(job.job_id)}</title>",
        "<defs>"
        '<pattern id="stopped" patternUnits="userSpaceOnUse" width="7" height="7" patternTransform="rotate(45)">'
        '<rect width="7" height="7" fill="#fdf2e9"/><line x1="0" y1="0" x2="0" y2="7" stroke="#e59866" '
        'stroke-width="2.5"/></pattern></defs>',
        f'<rect width="{width:.0f}" height="{height}" fill="#fff"/>',
    ]
    out += legend

    # Title: what, where, how it ended, when, and the final tally over every order (drawn or not).
    tally: dict[str, int] = {}
    for o in orders:
        word = final_key(o) or o.state
        tally[word] = tally.get(word, 0) + 1
    when = f"{day0} {_clock(lo)} → {'' if day1 == day0 else day1 + ' '}{_clock(hi)} UTC"
    out.append(
        f'<text class="title" x="{PAD}" y="18" font-size="13" font-weight="bold">'
        f"job {_esc(job.job_id)} · {_esc(job.venue)} · {_esc(job.status)} · {when} ({duration(hi - lo)})</text>"
    )
    summary = " · ".join(f"{n} {MARKS[k].label if k in MARKS else k}" for k, n in tally.items())
    out.append(
        f'<text class="summary" x="{PAD}" y="34">{len(orders)} order{"" if len(orders) == 1 else "s"}: '
        f"{_esc(summary)}</text>"
    )
    if job.attention:
        out.append(f'<text x="{PAD}" y="50" fill="#a93226">attention: {_esc(str(job.attention)[:160])}</text>')

    # Breaks: a band across every lane, labelled above the axis.
    for p in scale.pieces:
        if p.kind == "run":
            continue
        fill = _STOPPED_FILL if p.kind == "stopped" else _IDLE_FILL
        cx = (p.x0 + p.x1) / 2
        out.append(
            f'<g class="{p.kind}"><rect x="{p.x0:.1f}" y="{top - 28}" width="{p.x1 - p.x0:.1f}" '
            f'height="{bottom - top + 28}" fill="{fill}"><title>{_esc(p.label)}: {duration(p.t1 - p.t0)} '
            f"without events, {_clock(p.t0)} to {_clock(p.t1)} UTC (not to scale)</title></rect>"
            f'<text x="{cx:.1f}" y="{top - 27}" text-anchor="middle" font-size="10">{_esc(p.label)}</text>'
            f'<text x="{cx:.1f}" y="{top - 16}" text-anchor="middle" font-size="10">{duration(p.t1 - p.t0)}</text></g>'
        )

    # The axis: per run, ticks at round UTC times with light grid lines through the lanes.
    axis_label = f"time, UTC {day0}" + ("" if day1 == day0 else f" → {day1}")
    out.append(f'<text class="axis-label" x="{PAD}" y="{top - 4}" font-weight="bold">{axis_label}</text>')
    if bottom_axis:
        out.append(f'<text class="axis-label" x="{PAD}" y="{bottom + 22}" font-weight="bold">{axis_label}</text>')
    # Each run's own start and end come first, to the millisecond: the moments a runner went quiet and
    # came back are what an auditor reads off the axis first. Round ticks fill in where their labels fit;
    # a tick whose label would overlap another keeps its mark and grid line, unlabelled.
    candidates: dict[int, tuple[int, float, str, Piece]] = {}  # by whole ms: an edge on a round tick once
    for p in scale.pieces:
        if p.kind != "run":
            continue
        out.append(f'<path class="axis" d="M{p.x0:.1f},{top} H{p.x1:.1f}" stroke="#333"/>')
        for edge in {p.t0, p.t1}:
            candidates[round(edge * 1000)] = (0, edge, _tick_label(edge, 0.001, day0), p)
        tick_ts, step = ticks(p)
        for t in tick_ts:
            candidates.setdefault(round(t * 1000), (1, t, _tick_label(t, step, day0), p))
    taken: list[tuple[float, float]] = []
    shown: set[int] = set()
    for ms, (_prio, t, label, p) in sorted(candidates.items(), key=lambda kv: (kv[1][0], kv[0])):
        tx, w = scale.x(t), len(label) * CHAR_W
        # Anchored inside its run near a break or the plot's ends, so that it stays over its own stretch.
        left = tx if tx - w / 2 < p.x0 else tx - w if tx + w / 2 > p.x1 else tx - w / 2
        if all(left + w + 8 <= a or left >= b + 8 for a, b in taken):
            taken.append((left, left + w))
            shown.add(ms)
    for ms, (_prio, t, label, p) in sorted(candidates.items()):
        tx, w = scale.x(t), len(label) * CHAR_W
        anchor = "start" if tx - w / 2 < p.x0 else "end" if tx + w / 2 > p.x1 else "middle"
        text = ""
        if ms in shown:
            text = f'<text x="{tx:.1f}" y="{top - 5}" text-anchor="{anchor}">{label}</text>'
            if bottom_axis:
                text += f'<text x="{tx:.1f}" y="{bottom + 22}" text-anchor="{anchor}">{label}</text>'
        out.append(
            f'<g class="tick" data-t="{_utc(t).isoformat()}"><path d="M{tx:.1f},{top} v4" stroke="#333"/>'
            f'<path d="M{tx:.1f},{top + 4} V{bottom}" stroke="#e5e8e8"/>{text}</g>'
        )
    out.append(f'<text x="{x1 + 6:.1f}" y="{top - 4}" font-weight="bold">final state</text>')

    # The job lane: the job's own events as small markers, with their labels where there is room.
    out.append(f'<text x="{PAD}" y="{job_y + 12}" font-weight="bold">job</text>')
    out.append(f'<rect x="{x0}" y="{job_y}" width="{plot_w:.1f}" height="28" fill="#fbfcfc" stroke="#eee"/>')
    labels = _Labels((job_y + 11, job_y + 25), width - 4)
    lines: list[tuple[float, str]] = []  # vertical lines across every lane, drawn over the bars
    for at, kind, label, tooltip in restarts:  # their labels first: they must find room
        x = scale.x(at)
        lines.append(
            (
                x,
                f'<g class="marker {kind}"><path d="M{x:.1f},{job_y} V{bottom}" stroke="#c0392b" stroke-width="2">'
                f"<title>{_esc(label)} at {_clock(at)} UTC ({_esc(tooltip)})</title></path></g>",
            )
        )
        out.append(labels.place(x, label, f"marker-label {kind}", "#c0392b", lines=(0,)))
    for e in job_events:
        x = scale.x(_t(e.at))
        tip = _esc(_event_text(e))
        if e.trigger == "create":
            lines.append(
                (
                    x,
                    f'<g class="marker create"><path d="M{x:.1f},{job_y} V{bottom}" stroke="#1e8449" '
                    f'stroke-width="2" stroke-dasharray="4,3"><title>{tip}</title></path></g>',
                )
            )
            out.append(labels.place(x, "created", "marker-label create", "#1e8449", lines=(0,)))
            continue
        if e.trigger == "takeover":
            continue  # drawn with the restarts above
        out.append(
            f'<g class="job-event" data-trigger="{_esc(e.trigger)}"><path d="M{x - 4:.1f},{job_y + 14} h8 l-4,8 z" '
            f'fill="#555"><title>{tip}</title></path></g>'
        )
        if e.evidence_id is not None:
            out.append(f'<path class="http" d="M{x:.1f},{job_y + 14} v12" stroke="#111" stroke-width="1.5"/>')
        if e.trigger in ("status", "fire", "rebind", "discover", "native", "sweep", "arm", "disarm"):
            # A status note reads "open -> done" (maybe with ": why"): the new status is what matters.
            word = e.trigger
            if e.trigger == "status" and e.note:
                word = "→ " + e.note.split(":")[0].split("->")[-1].strip()
            out.append(labels.place(x + 3, word, "job-label", lines=(1, 0)))

    # Order lanes.
    create_t = next((_t(e.at) for e in job_events if e.trigger == "create"), lo)
    discovers = [_t(e.at) for e in job_events if e.trigger == "discover"]
    for row, (o, name) in enumerate(zip(drawn, names)):
        y = lanes_y + row * ROW_H
        steps = by_order.get(name, [])
        final = final_key(o)
        history = "\n".join(_esc(_event_text(e)) for e in steps[:40]) + ("\n…" if len(steps) > 40 else "")
        short = name if len(name) <= 34 else name[:33] + "…"
        out.append(
            f'<g class="lane" data-order="{_esc(name)}">'
            f'<text x="{PAD}" y="{y + 13}">{_esc(short)}<title>{_esc(name)}\n{history}</title></text>'
            f'<path d="M{x0},{y + ROW_H / 2:.1f} H{x1:.1f}" stroke="#eaeded"/>'
        )
        # The state an order starts in (pending) holds from its creation (or its discovery, for orders
        # a kill switch found later) until its first event.
        first = steps[0] if steps else None
        start = create_t
        if first is not None and discovers:
            start = max([d for d in discovers if d <= _t(first.at)] or [create_t])
        state = (first.from_state if first is not None else None) or o.state
        t_prev, tip_prev = start, f"{state} since the job was created"
        segs: list[tuple[float, float, str, str]] = []
        for e in steps:
            if e.to_state and e.to_state != state:
                segs.append((t_prev, _t(e.at), state, tip_prev))
                state, t_prev, tip_prev = e.to_state, _t(e.at), _event_text(e)
        segs.append((t_prev, math.inf, state, tip_prev))
        for k, (ta, tb, st, tip) in enumerate(segs):
            last = k == len(segs) - 1
            fill = MARKS[final].fill if last and final is not None else STATE_COLORS.get(st, "#ccc")
            for sx0, sx1, p in scale.spans(ta, tb):
                if p.kind != "run":
                    # Through a break the state held, but its length is not to scale: a dashed line, bold
                    # for an order still in doubt (in flight while the runner was down), faint once final.
                    faint = ' stroke-opacity="0.35"' if st in ("cancelled", "failed") else ""
                    out.append(
                        f'<path d="M{sx0:.1f},{y + ROW_H / 2:.1f} H{sx1:.1f}" stroke="{fill}" stroke-width="3" '
                        f'stroke-dasharray="3,3"{faint}/>'
                    )
                    continue
                out.append(
                    f'<rect class="seg" data-state="{_esc(st)}" x="{sx0:.1f}" y="{y + 3}" '
                    f'width="{max(sx1 - sx0, 1.0):.1f}" height="{BAR_H}" fill="{fill}">'
                    f"<title>{_esc(tip)}</title></rect>"
                )
        for e in steps:
            if e.evidence_id is not None:  # an HTTP exchange with the venue happened here
                ex = scale.x(_t(e.at))
                out.append(
                    f'<path class="http" d="M{ex:.1f},{y + 1} v{ROW_H - 2}" stroke="#111" stroke-width="1.5">'
                    f"<title>{_esc(_event_text(e))}</title></path>"
                )
        final_tip = _esc(
            f"{o.state}"
            + (f" · {o.reason}" if o.reason else "")
            + (f" · by {o.provenance}" if o.provenance else "")
            + f" · {o.attempts} attempt(s)"
            + (f" · venue {o.venue_code}" if o.venue_code else "")
            + (f": {o.venue_message}" if o.venue_message else "")
        )
        out.append(_cap(final, o.state, x1 + 6, y + 2, ROW_H - 4, final_tip, f' data-order="{_esc(name)}"'))
        words = MARKS[final].label if final is not None else f"still {o.state}"
        if final == "operator":
            words = f"{o.state}: operator"
        out.append(f'<text x="{x1 + 6 + CAP_W + 5:.1f}" y="{y + 13}">{_esc(words)}</text></g>')
    out.extend(svg for _x, svg in lines)  # on top of the bars, so that they cross every lane

    if len(orders) > len(drawn):
        out.append(
            f'<text class="not-drawn" x="{PAD}" y="{height - 12}">… {len(orders) - len(drawn)} more orders not drawn '
            f"(the first {len(drawn)} are shown; the title's tally counts them all)</text>"
        )
    out.append("</svg>")
    return "\n".join(s for s in out if s)


def write_timeline(client: Any, job_id: str, path: str) -> None:
    """Write the picture as ``.svg`` or ``.html`` (the SVG inside a page)."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".svg", ".html"):
        raise InputError(f"timeline {path!r}: use a .svg or .html file name")
    svg = build_svg(client.job(job_id))
    if suffix == ".html":
        title = f"safecancel job {html.escape(job_id)}"
        svg = f"<!doctype html><meta charset='utf-8'><title>{title}</title><body>{svg}</body>"
    Path(path).write_text(svg, encoding="utf-8")
