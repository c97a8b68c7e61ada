"""Bar charts as server-rendered SVG: no JavaScript, no library, nothing fetched."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 28
BAR = 18
LABEL_WIDTH = 170
VALUE_WIDTH = 64


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    tone: str = "primary"  # a CSS class: primary, good, warn, bad, muted
    shown: str | None = None  # the value as printed, when not the number itself


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def bar_chart(
    title: str, bars: list[Bar], width: int = 560, maximum: float | None = None
) -> Markup:
    """Horizontal bars, one row each, with the label on the left and the value on the right.
    `maximum` fixes the scale (e.g. 1 for a rate); otherwise the longest bar fills the width."""
    track = width - LABEL_WIDTH - VALUE_WIDTH
    top = max([maximum or 0, *(b.value for b in bars)]) or 1
    height = max(1, len(bars)) * ROW + 8
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not bars:
        parts.append(f'<text class="chart-empty" x="0" y="{ROW - 8}">nothing to show yet</text>')
    for i, bar in enumerate(bars):
        y = i * ROW + 4
        length = 0.0 if bar.value <= 0 else max(2.0, track * bar.value / top)
        shown = bar.shown if bar.shown is not None else _number(bar.value)
        parts.append(
            f'<g class="bar {escape(bar.tone)}"><title>{escape(bar.label)}: {escape(shown)}</title>'
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + BAR - 5}" '
            f'text-anchor="end">{escape(bar.label)}</text>'
            f'<rect class="chart-track" x="{LABEL_WIDTH}" y="{y}" width="{track}" '
            f'height="{BAR}" rx="3"/>'
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" '
            f'height="{BAR}" rx="3"/>'
            f'<text class="chart-value" x="{LABEL_WIDTH + track + 8}" y="{y + BAR - 5}">'
            f"{escape(shown)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
