"""Render the pilot report with Jinja2: HTML (standalone: its CSS and SVG charts inline,
nothing fetched), Markdown, or CSV (one row per metric)."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reporting.csv_safe import csv_line
from reporting.figures import percent, pilot_charts
from reporting.model import PILOT_CONVERSATIONS, PILOT_DAYS, PilotReport
from reporting.rows import metric_rows

Format = Literal["html", "md", "csv"]
FORMATS: tuple[Format, ...] = ("html", "md", "csv")
TEMPLATES = Path(__file__).parent / "templates"
# Characters Markdown would read as markup (links, emphasis, code, table cells); raw HTML is
# kept out by writing <, > and & as entities.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#!])")
ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
LINE_BREAKS = re.compile(r"\s*[\r\n\v\f\u2028\u2029]\s*")


def when(value: datetime | date | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return f"{value:%Y-%m-%d}"


def num(value: float | int | None) -> str:
    return "-" if value is None else f"{value:g}"


def markdown_text(value: Any) -> Any:
    """Every value a Markdown template prints, as literal text on one line."""
    if isinstance(value, str):
        return MARKDOWN_SPECIAL.sub(r"\\\1", LINE_BREAKS.sub(" ", value).translate(ENTITIES))
    return value


@cache
def _environment(fmt: Format) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=fmt == "html",
        finalize=markdown_text if fmt == "md" else None,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(when=when, num=num, percent=percent, csv_line=csv_line)
    env.globals.update(PILOT_DAYS=PILOT_DAYS, PILOT_CONVERSATIONS=PILOT_CONVERSATIONS)
    return env


def render_report(report: PilotReport, fmt: Format) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format: must be one of {', '.join(FORMATS)}")
    template = _environment(fmt).get_template(f"pilot.{fmt}.j2")
    if fmt == "csv":
        return template.render(rows=metric_rows(report))
    charts = pilot_charts(report) if fmt == "html" else {}
    return template.render(r=report, m=report.metrics, charts=charts)
