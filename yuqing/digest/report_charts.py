"""Inline SVG charts of the reports and the trend page: lines of a share across days, sparklines.

Same rules as yuqing.digest.charts: no script, no font file, nothing fetched, every name escaped
(a topic or source name is text from configuration or from the analysis of posts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup

from yuqing.digest.charts import GRID, INK, NEG, PALETTE, VOL, _nice_max, _short, esc


def lines(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, title: str,
          percent: bool = True, width: int = 720, height: int = 260) -> Markup:
    """One line per series over the days in `labels`; None (no posts that day) breaks the line.

    Values are shares 0..1 when `percent`, else counts. A legend under the plot names each series.
    """
    rows = math.ceil(len(series) / 4) if series else 0
    left, right, top, bottom = 46, 14, 14, 34 + 18 * rows
    full_h = height + 18 * rows
    plot_w, plot_h = width - left - right, full_h - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    if percent:  # 20%, 40%, ... 100%: small shares get a shorter axis, ticks stay whole percents
        peak = min(1.0, max(0.2, math.ceil(max(values, default=0) * 5 - 1e-9) / 5))
    else:
        peak = _nice_max(max(values, default=0))
    n = max(len(labels), 1)
    slot = plot_w / n
    parts = [f'<svg class="chart lines" viewBox="0 0 {width} {full_h}" role="img" aria-label="{esc(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>']
    for i in range(5):
        y = top + plot_h * i / 4
        tick = peak * (4 - i) / 4
        text = f"{100 * tick:.0f}%" if percent else f"{tick:g}"
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" fill="{INK}" text-anchor="end">{text}</text>')
    step = max(1, math.ceil(len(labels) / 10))
    for i, label in enumerate(labels):
        if i % step == 0:
            parts.append(f'<text x="{left + slot * (i + 0.5):.1f}" y="{top + plot_h + 16:.1f}" font-size="11" '
                         f'fill="{INK}" text-anchor="middle">{esc(label)}</text>')
    for k, (name, vs) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                if runs[-1]:
                    runs.append([])
                continue
            x, y = left + slot * (i + 0.5), top + plot_h * (1 - min(v, peak) / peak)
            runs[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{esc(name)} '
                         f'{esc(labels[i] if i < len(labels) else "")}: '
                         f'{f"{100 * v:.1f}%" if percent else f"{v:g}"}</title></circle>')
        for run in runs:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lx, ly = left + (k % 4) * (plot_w / 4), top + plot_h + 34 + 18 * (k // 4)
        parts.append(f'<line x1="{lx:.1f}" y1="{ly - 4:.1f}" x2="{lx + 18:.1f}" y2="{ly - 4:.1f}" stroke="{colour}" '
                     f'stroke-width="3"/><text x="{lx + 22:.1f}" y="{ly:.1f}" font-size="12" fill="{INK}">'
                     f"{esc(_short(name, 12))}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def spark(points: Sequence[dict[str, float]], *, title: str, width: int = 240, height: int = 40) -> Markup:
    """A small chart of one row of the trend tables: posts per day as bars, negatives in red."""
    peak = max((float(p["posts"]) for p in points), default=0) or 1.0
    slot = width / max(len(points), 1)
    parts = [f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{esc(title)}" xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
             f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="{GRID}"/>']
    for i, p in enumerate(points):
        bh = (height - 2) * float(p["posts"]) / peak
        nh = (height - 2) * float(p["negative"]) / peak
        x = i * slot
        if bh:
            parts.append(f'<rect x="{x + slot * 0.1:.1f}" y="{height - bh:.1f}" width="{max(slot * 0.8, 0.6):.1f}" '
                         f'height="{bh:.1f}" fill="{VOL}" fill-opacity="0.4"/>')
        if nh:
            parts.append(f'<rect x="{x + slot * 0.1:.1f}" y="{height - nh:.1f}" width="{max(slot * 0.8, 0.6):.1f}" '
                         f'height="{nh:.1f}" fill="{NEG}" fill-opacity="0.7"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
