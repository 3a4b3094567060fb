"""The province as SVG from its communes' coordinates: no tiles, no internet.

Each commune is a circle at its centre (equirectangular projection, longitude scaled by cos(latitude)),
sized by its device count and coloured by its worst state; a convex hull of all centres, padded, gives
the province a recognisable outline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup, escape

WIDTH = 640.0
PAD = 40.0
MIN_SPAN_DEG = 0.25
"""A handful of communes close together still get a province-sized frame, not one blown up to fill it."""


@dataclass(frozen=True, slots=True)
class MapPoint:
    code: str
    name: str
    x: float
    y: float
    r: float
    worst: str
    total: int


@dataclass(frozen=True, slots=True)
class ProvinceMap:
    width: float
    height: float
    points: list[MapPoint]
    outline: str
    """SVG polygon points of the padded hull."""


def draw(communes: list[tuple[str, str, float, float, str | None, int]]) -> ProvinceMap | None:
    """``communes``: (code, name, latitude, longitude, worst state, device count)."""
    if not communes:
        return None
    lat0 = math.radians(sum(c[2] for c in communes) / len(communes))
    xs = [c[3] * math.cos(lat0) for c in communes]
    ys = [-c[2] for c in communes]
    span_x = max(max(xs) - min(xs), MIN_SPAN_DEG)
    span_y = max(max(ys) - min(ys), MIN_SPAN_DEG)
    left = (max(xs) + min(xs) - span_x) / 2
    top = (max(ys) + min(ys) - span_y) / 2
    scale = (WIDTH - 2 * PAD) / max(span_x, span_y)
    points = []
    for (code, name, _lat, _lon, worst, total), x, y in zip(communes, xs, ys, strict=True):
        radius = min(6.0 + 2.5 * math.sqrt(total), 16.0) if total else 5.0
        px, py = PAD + (x - left) * scale, PAD + (y - top) * scale
        points.append(MapPoint(code, name, px, py, radius, worst or "none", total))
    hull = _hull([(p.x, p.y) for p in points])
    cx = sum(p[0] for p in hull) / len(hull)
    cy = sum(p[1] for p in hull) / len(hull)
    padded = []
    for x, y in hull:
        dx, dy = x - cx, y - cy
        norm = math.hypot(dx, dy) or 1.0
        padded.append(f"{x + dx / norm * 28:.1f},{y + dy / norm * 28:.1f}")
    width, height = span_x * scale + 2 * PAD, span_y * scale + 2 * PAD
    return ProvinceMap(round(width, 1), round(height, 1), points, " ".join(padded))


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


LABELLED_MAX = 40
"""Commune names are written next to their circles only when this few fit (else: hover titles)."""


def svg(drawn: ProvinceMap, states: dict[str, str], aria_label: str) -> Markup:
    """The map as SVG markup, built in one pass: a thousand communes through Jinja cost ~10× more."""
    parts = [
        f'<svg viewBox="0 0 {drawn.width} {drawn.height}" role="img" aria-label="{escape(aria_label)}">',
        f'<polygon class="outline" points="{drawn.outline}"/>',
    ]
    for p in drawn.points:
        title = escape(f"{p.name} · {states.get(p.worst, p.worst)} · {p.total}")
        parts.append(
            f'<a href="/?site={quote(p.code)}"><circle class="dot s-{escape(p.worst)}" cx="{p.x:.1f}" '
            f'cy="{p.y:.1f}" r="{p.r:.1f}" data-code="{escape(p.code)}"><title>{title}</title></circle></a>'
        )
    if len(drawn.points) <= LABELLED_MAX:
        for p in drawn.points:
            parts.append(
                f'<text class="label" x="{p.x + p.r + 3:.1f}" y="{p.y + 4:.1f}">{escape(p.name)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
