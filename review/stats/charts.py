"""Server-rendered SVG bar charts: no chart library, no script, labels escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#b42318", "#d4a106", "#0969da", "#1a7f37")
ROW = 26
LABEL_WIDTH = 210
BAR_WIDTH = 380


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def hbar(title: str, items: Sequence[tuple[str, Sequence[int]]],
         series: Sequence[str]) -> Markup:
    """Horizontal bars, one group per item, one bar per series value."""
    peak = max([v for _, values in items for v in values] + [1])
    bars = max(1, len(series))
    group = ROW * bars + 8
    height = 24 + group * max(1, len(items)) + 20
    width = LABEL_WIDTH + BAR_WIDTH + 60
    body: list[str] = []
    for s, name in enumerate(series):
        x = LABEL_WIDTH + s * 120
        body.append(f'<rect x="{x}" y="4" width="10" height="10" '
                    f'fill="{PALETTE[s % len(PALETTE)]}"/>'
                    f'<text x="{x + 14}" y="13" font-size="11">{escape(name)}</text>')
    for i, (label, values) in enumerate(items):
        top = 24 + i * group
        body.append(f'<text x="{LABEL_WIDTH - 8}" y="{top + ROW * bars / 2 + 4:.0f}" '
                    f'font-size="12" text-anchor="end">{escape(label[:24])}</text>')
        for s, value in enumerate(values):
            length = round(BAR_WIDTH * value / peak)
            y = top + s * ROW
            body.append(f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{max(length, 1)}" '
                        f'height="{ROW - 8}" fill="{PALETTE[s % len(PALETTE)]}">'
                        f'<title>{escape(label)}：{value}</title></rect>'
                        f'<text x="{LABEL_WIDTH + length + 6}" y="{y + ROW - 9}" '
                        f'font-size="11">{value}</text>')
    if not items:
        body.append(f'<text x="{LABEL_WIDTH}" y="40" font-size="12">—</text>')
    return _svg(width, height, title, body)


def columns(title: str, labels: Sequence[str], values: Sequence[Sequence[int]],
            series: Sequence[str]) -> Markup:
    """Grouped vertical columns over time (one group per label, e.g. per week)."""
    plot_height = 180
    bars = max(1, len(series))
    slot = max(24, 14 * bars + 14)
    width = max(320, 50 + slot * max(1, len(labels)))
    height = plot_height + 70
    peak = max([v for group in values for v in group] + [1])
    base = 30 + plot_height
    body: list[str] = [f'<line x1="40" y1="{base}" x2="{width - 4}" y2="{base}" '
                       f'stroke="#999"/>']
    for s, name in enumerate(series):
        x = 40 + s * 110
        body.append(f'<rect x="{x}" y="6" width="10" height="10" '
                    f'fill="{PALETTE[s % len(PALETTE)]}"/>'
                    f'<text x="{x + 14}" y="15" font-size="11">{escape(name)}</text>')
    for i, (label, group) in enumerate(zip(labels, values, strict=True)):
        left = 44 + i * slot
        for s, value in enumerate(group):
            h = round(plot_height * value / peak)
            x = left + s * 14
            body.append(f'<rect x="{x}" y="{base - h}" width="12" height="{max(h, 0)}" '
                        f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)} '
                        f'{escape(series[s] if s < len(series) else "")}：{value}</title>'
                        f'</rect>')
        body.append(f'<text x="{left}" y="{base + 16}" font-size="10">{escape(label)}</text>')
    return _svg(width, height, title, body)
