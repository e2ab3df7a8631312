"""Inline SVG charts for the digest page and the web app: no script, no font, nothing fetched.

Every label that may come from a post (a topic or source name) goes through `esc`, since the SVG
is inserted into the page as markup. Text inherits the page's font-family (system CJK fonts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

# A palette that stays readable for the colour-blind and in greyscale print.
NEG = "#d9480f"
VOL = "#4c6ef5"
PALETTE = ("#4c6ef5", "#f59f00", "#12b886", "#e64980", "#7950f2", "#15aabf", "#82c91e", "#fd7e14",
           "#868e96", "#be4bdb")
GRID = "#dee2e6"
INK = "#495057"


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def _short(name: str, size: int) -> str:
    return name if len(name) <= size else name[: size - 1] + "…"


def _nice_max(value: float, segments: int = 4) -> float:
    """An axis maximum at or above value whose `segments` ticks are whole round numbers."""
    if value <= 0:
        return float(segments)
    raw = value / segments
    exp = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    for step in (1, 2, 3, 5, 10):
        if raw <= step * exp:
            return float(step * exp * segments)
    return float(10 * exp * segments)


def trend(hours: Sequence[dict[str, float]], *, title: str = "24小时走势") -> Markup:
    """Volume per hour as bars, negative share as a line on a 0-100% axis.

    `hours` is 24 dicts with `hour`, `posts`, `negative`.
    """
    width, height = 720, 300
    left, right, top, bottom = 46, 46, 32, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((h["posts"] for h in hours), default=0))
    slot = plot_w / max(len(hours), 1)
    parts = [
        f'<svg class="chart trend" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f"<title>{esc(title)}</title>",
    ]
    for i in range(5):  # grid with both axes' labels
        y = top + plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="12" fill="{VOL}" text-anchor="end">'
                     f"{peak * (4 - i) / 4:g}</text>")
        parts.append(f'<text x="{width - right + 6}" y="{y + 4:.1f}" font-size="12" fill="{NEG}">'
                     f"{100 * (4 - i) // 4}%</text>")
    points: list[str] = []
    lines: list[list[str]] = [[]]
    for i, h in enumerate(hours):
        x = left + i * slot
        bar_h = plot_h * h["posts"] / peak
        neg_h = plot_h * h["negative"] / peak
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{top + plot_h - bar_h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar_h:.1f}" fill="{VOL}" fill-opacity="0.35"><title>{int(h["hour"]):02d}时 '
            f'{int(h["posts"])} 条, 负面 {int(h["negative"])} 条</title></rect>'
        )
        if neg_h:
            parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{top + plot_h - neg_h:.1f}" width="{slot * 0.7:.1f}" '
                         f'height="{neg_h:.1f}" fill="{NEG}" fill-opacity="0.55"/>')
        if h["posts"]:
            share = h["negative"] / h["posts"]
            points.append(f"{x + slot / 2:.1f},{top + plot_h * (1 - share):.1f}")
            lines[-1].append(points[-1])
        elif lines[-1]:
            lines.append([])  # no posts this hour: no share to draw, so the line breaks
        if i % 3 == 0:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" font-size="12" fill="{INK}" '
                         f'text-anchor="middle">{int(h["hour"]):02d}时</text>')
    for line in lines:
        if len(line) > 1:
            parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{NEG}" stroke-width="2.5" '
                         'stroke-linejoin="round"/>')
    for p in points:
        cx, cy = p.split(",")
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{NEG}"/>')
    # legend
    parts.append(f'<rect x="{left}" y="6" width="12" height="12" fill="{VOL}" fill-opacity="0.35"/>'
                 f'<text x="{left + 16}" y="16" font-size="13" fill="{INK}">发帖量(条)</text>'
                 f'<rect x="{left + 96}" y="6" width="12" height="12" fill="{NEG}" fill-opacity="0.55"/>'
                 f'<text x="{left + 112}" y="16" font-size="12" fill="{INK}">负面(条)</text>'
                 f'<line x1="{left + 176}" y1="12" x2="{left + 196}" y2="12" stroke="{NEG}" stroke-width="2.5"/>'
                 f'<text x="{left + 200}" y="16" font-size="12" fill="{INK}">负面占比(右轴)</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(items: Sequence[dict[str, object]], *, title: str, unit: str = "条") -> Markup:
    """Horizontal bars, one row per item (`name`, `posts`, `negative`), the negative part in red."""
    row_h, label_w, width = 30, 100, 460
    height = max(len(items), 1) * row_h + 30
    peak = max((int(i["posts"]) for i in items), default=0) or 1  # type: ignore[call-overload]
    plot_w = width - label_w - 120
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
    ]
    if not items:
        parts.append(f'<text x="{width / 2}" y="30" font-size="13" fill="{INK}" text-anchor="middle">无数据</text>')
    for n, item in enumerate(items):
        y = 8 + n * row_h
        posts, neg = int(item["posts"]), int(item["negative"])  # type: ignore[call-overload]
        w = plot_w * posts / peak
        nw = plot_w * neg / peak
        name = str(item["name"])
        short = _short(name, 8)
        share = f"{100 * neg / posts:.0f}%" if posts else "-"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" font-size="13" fill="{INK}" text-anchor="end">'
            f"<title>{esc(name)}</title>{esc(short)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 10}" rx="3" fill="{VOL}" '
            f'fill-opacity="0.3"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{nw:.1f}" height="{row_h - 10}" rx="3" fill="{NEG}" '
            f'fill-opacity="0.7"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="12" fill="{INK}">{posts} {esc(unit)} · 负面 {share}</text>'
        )
    parts.append(
        f'<rect x="{label_w}" y="{height - 18}" width="12" height="10" fill="{VOL}" fill-opacity="0.3"/>'
        f'<text x="{label_w + 16}" y="{height - 9}" font-size="11" fill="{INK}">全部</text>'
        f'<rect x="{label_w + 56}" y="{height - 18}" width="12" height="10" fill="{NEG}" fill-opacity="0.7"/>'
        f'<text x="{label_w + 72}" y="{height - 9}" font-size="11" fill="{INK}">其中负面</text></svg>'
    )
    return Markup("".join(parts))


def donut(items: Sequence[dict[str, object]], *, title: str) -> Markup:
    """Shares of a whole (`name`, `posts`) as a ring with a legend; small slices folded into 其他."""
    total = sum(int(i["posts"]) for i in items)  # type: ignore[call-overload]
    shown = list(items[: len(PALETTE) - 1])
    rest = sum(int(i["posts"]) for i in items[len(PALETTE) - 1 :])  # type: ignore[call-overload]
    if rest:
        shown.append({"name": "其他", "posts": rest})
    width, height, cx, cy, r_out, r_in = 460, max(200, 26 * len(shown) + 30), 95, 100, 85, 52
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
    ]
    if not total:
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="{(r_out + r_in) / 2}" fill="none" stroke="{GRID}" '
                     f'stroke-width="{r_out - r_in}"/><text x="{cx}" y="{cy + 5}" font-size="13" fill="{INK}" '
                     'text-anchor="middle">无数据</text></svg>')
        return Markup("".join(parts))
    angle = -math.pi / 2
    for n, item in enumerate(shown):
        frac = int(item["posts"]) / total  # type: ignore[call-overload]
        color = PALETTE[n % len(PALETTE)]
        if frac >= 0.9999:
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="{(r_out + r_in) / 2}" fill="none" stroke="{color}" '
                         f'stroke-width="{r_out - r_in}"/>')
        elif frac > 0:
            end = angle + 2 * math.pi * frac
            large = 1 if frac > 0.5 else 0
            x1, y1 = cx + r_out * math.cos(angle), cy + r_out * math.sin(angle)
            x2, y2 = cx + r_out * math.cos(end), cy + r_out * math.sin(end)
            x3, y3 = cx + r_in * math.cos(end), cy + r_in * math.sin(end)
            x4, y4 = cx + r_in * math.cos(angle), cy + r_in * math.sin(angle)
            parts.append(
                f'<path d="M{x1:.2f},{y1:.2f} A{r_out},{r_out} 0 {large} 1 {x2:.2f},{y2:.2f} '
                f'L{x3:.2f},{y3:.2f} A{r_in},{r_in} 0 {large} 0 {x4:.2f},{y4:.2f} Z" fill="{color}">'
                f"<title>{esc(item['name'])} {int(item['posts'])} 条</title></path>"  # type: ignore[call-overload]
            )
            angle = end
        y = 22 + n * 26
        parts.append(
            f'<rect x="200" y="{y - 11}" width="14" height="14" rx="2" fill="{color}"/>'
            f'<text x="220" y="{y + 1}" font-size="13" fill="{INK}"><title>{esc(item["name"])}</title>'
            f'{esc(_short(str(item["name"]), 14))}</text>'
            f'<text x="{width - 10}" y="{y + 1}" font-size="13" fill="{INK}" text-anchor="end">'
            f'{int(item["posts"])} 条 · {100 * frac:.1f}%</text>'  # type: ignore[call-overload]
        )
    parts.append(f'<text x="{cx}" y="{cy - 2}" font-size="20" font-weight="bold" fill="{INK}" '
                 f'text-anchor="middle">{total}</text><text x="{cx}" y="{cy + 18}" font-size="12" fill="{INK}" '
                 'text-anchor="middle">条</text></svg>')
    return Markup("".join(parts))


def timeline(points: Sequence[dict[str, object]], *, title: str = "时间分布") -> Markup:
    """An event's posts over time: bars per bucket (`label`, `posts`, `negative`)."""
    hours = [{"hour": i, "posts": p["posts"], "negative": p["negative"]} for i, p in enumerate(points)]
    width, height = 640, 200
    left, right, top, bottom = 40, 12, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((float(h["posts"]) for h in hours), default=0), 2)  # type: ignore[arg-type]
    slot = plot_w / max(len(points), 1)
    step = max(1, math.ceil(len(points) / 8))
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>']
    for i in range(3):
        y = top + plot_h * i / 2
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" fill="{INK}" text-anchor="end">'
                     f"{peak * (2 - i) / 2:g}</text>")
    for i, p in enumerate(points):
        x = left + i * slot
        bh = plot_h * float(p["posts"]) / peak  # type: ignore[arg-type]
        nh = plot_h * float(p["negative"]) / peak  # type: ignore[arg-type]
        parts.append(f'<rect x="{x + slot * 0.1:.1f}" y="{top + plot_h - bh:.1f}" width="{slot * 0.8:.1f}" '
                     f'height="{bh:.1f}" fill="{VOL}" fill-opacity="0.35"><title>{esc(p["label"])}: '
                     f'{p["posts"]} 条</title></rect>')
        if nh:
            parts.append(f'<rect x="{x + slot * 0.1:.1f}" y="{top + plot_h - nh:.1f}" width="{slot * 0.8:.1f}" '
                         f'height="{nh:.1f}" fill="{NEG}" fill-opacity="0.6"/>')
        if i % step == 0:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" font-size="11" fill="{INK}" '
                         f'text-anchor="middle">{esc(p["label"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
