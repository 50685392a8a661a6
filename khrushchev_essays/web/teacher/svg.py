"""The analytics page's level chart as server-rendered SVG, in the style of web/charts.py, and the
colour bins of its coverage table (an HTML table, so full factor names wrap and every cell links).

No inline styles (the CSP forbids them): geometry in attributes, colours from classes in
teacher.css. Each chart has role="img", an aria-label and a <title>, and the page states the same
figures in a table, so the chart is never the only way to read them.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

HEAT_BINS = 5  # h1..h5 in teacher.css, h0 for none


def level_distribution(auto: Sequence[int], teacher: Sequence[int] | None = None) -> Markup:
    """Bars of how many essays reached each level: automatic, and beside them the teacher's over reviewed essays."""
    w, h, left, bottom, top = 420, 190, 34, 30, 16
    plot_w, plot_h = w - left - 8, h - top - bottom
    peak = max([*auto, *(teacher or []), 1])
    n = len(auto)
    group = plot_w / n
    bar = group * (0.36 if teacher else 0.6)
    alt = "Essays by automatic level: " + ", ".join(f"level {lv} {c}" for lv, c in enumerate(auto))
    if teacher:
        alt += ". Reviewed essays by the teacher's level: " + ", ".join(f"level {lv} {c}" for lv, c in enumerate(teacher))
    parts = [Markup('<svg class="dist" viewBox="0 0 {w} {h}" role="img" aria-label="{a}"><title>{a}</title>').format(w=w, h=h, a=alt)]
    step = max(1, -(-peak // 4))
    for tick in range(0, peak + 1, step):
        y = top + plot_h * (1 - tick / peak)
        parts.append(Markup('<line class="grid" x1="{l}" x2="{r}" y1="{y:.1f}" y2="{y:.1f}"/>'
                            '<text class="axis" x="{tx}" y="{ty:.1f}" text-anchor="end">{t}</text>').format(
            l=left, r=w - 8, y=y, tx=left - 6, ty=y + 4, t=tick))
    series = [("bar-auto", auto)] + ([("bar-teacher", teacher)] if teacher else [])
    for lv in range(n):
        x0 = left + group * lv + (group - bar * len(series)) / 2
        for k, (cls, counts) in enumerate(series):
            bh = plot_h * counts[lv] / peak
            x, y = x0 + k * bar, top + plot_h - bh
            parts.append(Markup('<rect class="{c}" x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{bh:.1f}" rx="2"/>').format(
                c=cls, x=x, y=y, bw=bar - 2, bh=bh))
            if counts[lv]:
                parts.append(Markup('<text class="value" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{v}</text>').format(
                    x=x + (bar - 2) / 2, y=y - 4, v=counts[lv]))
        parts.append(Markup('<text class="axis" x="{x:.1f}" y="{y}" text-anchor="middle">L{lv}</text>').format(
            x=left + group * lv + group / 2, y=h - 10, lv=lv))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def heat_class(share: float | None) -> str:
    """The colour class of a coverage share: h0 for none (or no essays), h1-h5 in fifths."""
    if not share:
        return "h0"
    return f"h{min(HEAT_BINS, int(share * HEAT_BINS) + 1)}"
