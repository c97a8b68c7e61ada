"""Bar charts as server-rendered SVG: no JavaScript, no library, nothing fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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


# Week-over-week stacked columns.

SERIES_FILLS = (
    "#2f5fd0",
    "#dd9a2b",
    "#1f8a4c",
    "#c53030",
    "#7b4fc9",
    "#1b9aaa",
    "#b5487d",
    "#6b8e23",
)
OTHER_FILL = "#8a94a6"
AXIS_WIDTH = 40
AXIS_HEIGHT = 22
LEGEND_ROW = 20
LEGEND_ITEM = 170


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]  # one per week, in the order of the chart's weeks
    fill: str | None = None  # a colour; by default the next of SERIES_FILLS


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _nice_top(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value`."""
    step = 1.0
    while step * 10 <= value:
        step *= 10
    return next(m * step for m in (1, 2, 5, 10) if m * step >= value)


def weekly_chart(
    title: str, weeks: list[date], series: list[Series], width: int = 720, height: int = 220
) -> Markup:
    """Stacked columns, one per week (labelled by its Monday), a colour per series, and a
    legend below; each segment's tooltip gives the week, the series and its value."""
    plot_width = width - AXIS_WIDTH - 8
    per_row = max(1, width // LEGEND_ITEM)
    legend_rows = -(-len(series) // per_row)
    total_height = height + AXIS_HEIGHT + legend_rows * LEGEND_ROW + 8
    parts = [
        f'<svg class="chart weekly" role="img" viewBox="0 0 {width} {total_height}" '
        f'width="{width}" height="{total_height}" xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    totals = [sum(s.values[i] for s in series) for i in range(len(weeks))]
    if not weeks or not any(totals):
        parts.append(f'<text class="chart-empty" x="0" y="{ROW - 8}">nothing to show yet</text>')
        parts.append("</svg>")
        return Markup("".join(parts))
    top = _nice_top(max(totals))
    for fraction in (0, 0.5, 1) if top > 1 and top % 2 == 0 else (0, 1):
        y = 8 + height * (1 - fraction)
        parts.append(
            f'<line class="chart-grid" x1="{AXIS_WIDTH}" x2="{width - 8}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#dde3ea"/>'
            f'<text class="chart-value" x="{AXIS_WIDTH - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_number(top * fraction)}</text>'
        )
    slot = plot_width / len(weeks)
    column = max(2.0, slot * 0.7)
    label_every = -(-len(weeks) * 48 // plot_width) or 1
    fills = [s.fill or SERIES_FILLS[i % len(SERIES_FILLS)] for i, s in enumerate(series)]
    for i, week in enumerate(weeks):
        x = AXIS_WIDTH + i * slot + (slot - column) / 2
        base = 8 + height
        for s, fill in zip(series, fills, strict=True):
            value = s.values[i]
            if value <= 0:
                continue
            tall = height * value / top
            base -= tall
            parts.append(
                f'<rect class="chart-segment" x="{x:.1f}" y="{base:.1f}" width="{column:.1f}" '
                f'height="{tall:.1f}" fill="{escape(fill)}"><title>week of {week.isoformat()} · '
                f"{escape(s.label)}: {_number(value)}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text class="chart-label" x="{x + column / 2:.1f}" y="{height + 8 + 16}" '
                f'text-anchor="middle">{week:%b %d}</text>'
            )
    for i, (s, fill) in enumerate(zip(series, fills, strict=True)):
        x = AXIS_WIDTH + (i % per_row) * LEGEND_ITEM
        y = height + 8 + AXIS_HEIGHT + (i // per_row) * LEGEND_ROW + 4
        parts.append(
            f'<g class="legend"><rect x="{x}" y="{y}" width="12" height="12" rx="2" '
            f'fill="{escape(fill)}"/><title>{escape(s.label)}</title>'
            f'<text class="chart-label" x="{x + 17}" y="{y + 10}">'
            f"{escape(_short(s.label, LEGEND_ITEM // 8))}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
