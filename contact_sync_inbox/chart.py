"""A stacked bar chart as inline SVG, rendered on the server (no JavaScript, no build step, no CDN).

Every bar segment carries ``data-day``, ``data-reason`` and ``data-count`` attributes and a ``<title>`` tooltip,
so a test (or a screen reader) can read the numbers the picture shows.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date

PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
OTHER = "other"


def color_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def stacked_bars(
    days: Sequence[date],
    counts: Mapping[date, Mapping[str, int]],
    reasons: Sequence[str],
    *,
    width: int = 880,
    height: int = 260,
    title: str = "",
) -> str:
    """SVG markup of one bar per day, stacked by reason (``reasons`` gives the order and the colours).

    :param days: the x axis, oldest first.
    :param counts: ``{day: {reason: n}}``; reasons not in ``reasons`` are left out.
    """
    left, right, top, bottom = 44, 12, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(counts.get(d, {}).get(r, 0) for r in reasons) for d in days]
    peak = max(totals, default=0) or 1
    step = _nice_step(peak)
    scale_max = step * -(-peak // step)
    slot = plot_w / max(len(days), 1)
    bar_w = max(1.0, slot * 0.8)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(0, scale_max + 1, step):
        y = top + plot_h - plot_h * tick / scale_max
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#555">{tick}</text>'
        )
    label_every = max(1, len(days) // 12)
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        for index, reason in enumerate(reasons):
            n = counts.get(day, {}).get(reason, 0)
            if not n:
                continue
            h = plot_h * n / scale_max
            y -= h
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{color_for(index)}" data-day="{day.isoformat()}" data-reason="{escape(reason)}" '
                f'data-count="{n}"><title>{day.isoformat()} {escape(reason)}: {n}</title></rect>'
            )
        if i % label_every == 0:
            out.append(
                f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11" fill="#555">{day.strftime("%m-%d")}</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#888"/>'
    )
    if not any(totals):
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            'font-size="14" fill="#777">no failures in this range</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _nice_step(peak: int) -> int:
    """A tick step giving at most ~5 grid lines: 1, 2, 5, 10, 20, 50, ..."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if peak / (step * factor) <= 5:
                return step * factor
        step *= 10
