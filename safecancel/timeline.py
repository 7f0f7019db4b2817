"""A picture of a job: each order's states over time, with the HTTP exchanges marked (SVG or HTML)."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import InputError

COLORS = {"pending": "#7fb3d5", "sent": "#c39bd3", "unknown": "#f7dc6f", "cancelled": "#52be80", "failed": "#e74c3c"}
ROW_H, LEFT, WIDTH, TOP = 18, 260, 900, 40
MAX_ORDERS = 400


def _t(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def build_svg(job: Any) -> str:
    """The SVG for a :class:`~safecancel.model.JobResult` with events."""
    names = [
        f"{o.symbol}:{'order_id' if o.order_id else 'client_order_id'}={o.order_id or o.client_order_id}"
        for o in job.orders
    ][:MAX_ORDERS]
    evs = list(job.events)
    if not evs:
        raise InputError(f"job {job.job_id} has no events to draw")
    t0, t1 = _t(evs[0].at), _t(evs[-1].at)
    span = max(t1 - t0, 1e-3)

    def x(at: str) -> float:
        return LEFT + (_t(at) - t0) / span * (WIDTH - LEFT - 20)

    height = TOP + ROW_H * len(names) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        'font-family="monospace" font-size="11">',
        '<text x="10" y="16" font-size="13" font-weight="bold">'
        f"job {html.escape(job.job_id)} · {html.escape(job.venue)} · {html.escape(job.status)} · {span * 1000:.0f} ms"
        "</text>",
    ]
    for i, (state, color) in enumerate(COLORS.items()):
        out.append(
            f'<rect x="{10 + i * 100}" y="22" width="10" height="10" fill="{color}"/>'
            f'<text x="{24 + i * 100}" y="31">{state}</text>'
        )
    by_order: dict[str, list[Any]] = {}
    for e in evs:
        if e.order is not None:
            by_order.setdefault(e.order, []).append(e)
    for row, name in enumerate(names):
        y = TOP + row * ROW_H
        out.append(f'<text x="10" y="{y + 12}">{html.escape(name[:38])}</text>')
        steps = by_order.get(name, [])
        for k, e in enumerate(steps):
            start = x(e.at)
            end = x(steps[k + 1].at) if k + 1 < len(steps) else WIDTH - 20
            color = COLORS.get(e.to_state or "", "#ccc")
            title = html.escape(
                f"{e.at} {e.trigger} {e.from_state}->{e.to_state} {e.venue_code or ''} {e.venue_message or ''}"
            )
            out.append(
                f'<rect x="{start:.1f}" y="{y + 2}" width="{max(end - start, 1.5):.1f}" height="{ROW_H - 5}" '
                f'fill="{color}"><title>{title}</title></rect>'
            )
            if e.evidence_id is not None:  # an HTTP exchange happened here
                out.append(
                    f'<line x1="{start:.1f}" y1="{y}" x2="{start:.1f}" y2="{y + ROW_H - 2}" '
                    'stroke="#222" stroke-width="1"/>'
                )
    if len(job.orders) > MAX_ORDERS:
        out.append(f'<text x="10" y="{height - 10}">... {len(job.orders) - MAX_ORDERS} more orders not drawn</text>')
    out.append("</svg>")
    return "\n".join(out)


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
