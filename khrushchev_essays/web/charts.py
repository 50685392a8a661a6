"""Small server-rendered SVG charts: readable without JavaScript, each with a text alternative.

No inline styles (the CSP forbids them): geometry goes in SVG attributes, colours in app.css
classes. Every chart carries role="img", an aria-label and a <title>; the page also states the
same figures in text, so the chart is never the only way to read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from ..scoring.rubric import Level
from .views import format_mark


def _fraction(value: float | None, maximum: float) -> float:
    return 0.0 if not value or maximum <= 0 else max(0.0, min(1.0, value / maximum))


def criterion_bar(name: str, mark: float, max_mark: float) -> Markup:
    """A horizontal bar for one criterion's mark out of its maximum."""
    label = f"{name}: {format_mark(mark)} out of {format_mark(max_mark)}"
    width = round(_fraction(mark, max_mark) * 100, 2)
    return Markup(
        '<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="{label}">'
        "<title>{label}</title>"
        '<rect class="bar-track" x="0" y="0" width="100" height="10" rx="2"/>'
        '<rect class="bar-fill" x="0" y="0" width="{w}" height="10" rx="2"/>'
        "</svg>"
    ).format(label=label, w=width)


def scale_bands(levels: Sequence[Level]) -> list[Level]:
    """The levels drawn on the mark scale, lowest first (level 0, the single mark 0, is left out)."""
    return [lv for lv in sorted(levels, key=lambda lv: lv.min_mark) if lv.max_mark > 0]


def mark_scale(mark: int | None, max_mark: int, levels: Sequence[Level]) -> Markup:
    """The mark on the level bands: one equal segment per level, the marker placed inside its band.

    Equal segments keep the bands lined up with the HTML labels under the chart (text inside an
    SVG shrinks to nothing on a phone), whatever the widths of the bands in marks.
    """
    w, bands = 600, scale_bands(levels)
    seg = w / max(len(bands), 1)
    label = f"{format_mark(mark)} out of {max_mark} marks"
    parts = [
        Markup('<svg class="scale" viewBox="0 0 {w} 34" preserveAspectRatio="none" role="img" aria-label="{l}">'
               "<title>{l}</title>").format(w=w, l=label)
    ]
    marker_x = None
    for i, band in enumerate(bands):
        state = "" if mark is None or mark < band.min_mark else " current" if mark <= band.max_mark else " reached"
        parts.append(
            Markup('<rect class="scale-band{s}" x="{x:.1f}" y="12" width="{bw:.1f}" height="14" rx="2"/>').format(
                s=state, x=i * seg + 1, bw=seg - 2
            )
        )
        if state == " current":
            marker_x = i * seg + seg * (mark - band.min_mark + 0.5) / (band.max_mark - band.min_mark + 1)
    if mark is not None and marker_x is None:  # 0, or off the scale
        marker_x = 0.0 if mark <= 0 else float(w)
    if marker_x is not None:
        x = min(max(marker_x, 6), w - 6)
        parts.append(
            Markup('<path class="scale-marker" d="M{a:.1f} 0 H{b:.1f} L{x:.1f} 9 Z"/>'
                   '<line class="scale-needle" x1="{x:.1f}" x2="{x:.1f}" y1="9" y2="30"/>').format(a=x - 6, b=x + 6, x=x)
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


@dataclass(frozen=True, slots=True)
class Point:
    """One attempt on the progress chart."""

    attempt: int
    mark: int | None
    current: bool = False


def progress_chart(points: Sequence[Point], max_mark: int) -> Markup:
    """A line of the mark across attempts, the attempt on show drawn larger."""
    w, h, left, right, top, bottom = 320, 160, 34, 16, 24, 28
    plot_w, plot_h = w - left - right, h - top - bottom
    n = len(points)
    alt = "Mark by attempt: " + "; ".join(f"attempt {p.attempt}, {format_mark(p.mark)} out of {max_mark}" for p in points)

    def xy(i: int, mark: int | None) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h * (1 - _fraction(mark, max_mark))

    parts = [
        Markup('<svg class="progress" viewBox="0 0 {w} {h}" role="img" aria-label="{a}"><title>{a}</title>').format(
            w=w, h=h, a=alt
        )
    ]
    step = 5 if max_mark <= 30 else 10
    for tick in sorted({*range(0, max_mark + 1, step), max_mark}):
        _, y = xy(0, tick)
        parts.append(
            Markup(
                '<line class="grid" x1="{l}" x2="{r}" y1="{y:.1f}" y2="{y:.1f}"/>'
                '<text class="axis" x="{tx}" y="{ty:.1f}" text-anchor="end">{t}</text>'
            ).format(l=left, r=w - right, y=y, tx=left - 6, ty=y + 4, t=tick)
        )
    coords = [xy(i, p.mark) for i, p in enumerate(points)]
    if n > 1:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f} {y:.1f}" for i, (x, y) in enumerate(coords))
        parts.append(Markup('<path class="line" d="{d}"/>').format(d=path))
    for p, (x, y) in zip(points, coords):
        parts.append(
            Markup(
                '<circle class="dot{c}" cx="{x:.1f}" cy="{y:.1f}" r="{r}"/>'
                '<text class="axis" x="{x:.1f}" y="{by}" text-anchor="middle">#{a}</text>'
                '<text class="value" x="{x:.1f}" y="{vy:.1f}" text-anchor="middle">{m}</text>'
            ).format(
                c=" current" if p.current else "", x=x, y=y, r=6 if p.current else 4, by=h - 8, a=p.attempt,
                vy=y - 11, m=format_mark(p.mark),
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
