"""The measurement dashboard for leads and admins: every metric of compute_metrics over a window
and any slice (a GET form with a field per MetricsSlice field), and the week-over-week trends
page. The same numbers as `GET /api/metrics` and `GET /api/metrics/trends`: what the user may
see (`web.scope`), the queue's state and the values the form suggests included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.datastructures import QueryParams
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import String, cast, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.charts import OTHER_FILL, Bar, Series, bar_chart, weekly_chart
from store.decision_labels import draft_agreement
from store.metrics import (
    Metrics,
    MetricsScope,
    MetricsSlice,
    Rate,
    TrendBy,
    compute_metrics,
    state_counts,
)
from store.metrics_sql import SLICE_COLUMNS
from store.models import AssessmentRow
from web.api.metrics import TrendLine, trend_lines, weekly_trends
from web.api.schemas import MetricsQuery
from web.context import Context
from web.errors import problem
from web.pages.common import CAUSE_LABELS, STATUS_LABELS, PageRoute, PageUser, now, render
from web.pages.common import require_role as require
from web.scope import scope_of

router = APIRouter(route_class=PageRoute)

WINDOWS = {"7": 7, "30": 30, "90": 90, "all": None}
TREND_BY: tuple[TrendBy, ...] = get_args(TrendBy)
TREND_WEEKS = (4, 8, 12, 26, 52)
TREND_SERIES = 8  # the keys with the most, each a colour; the rest add up as "other"
KNOWN_VALUES = 500  # per slice field, offered as suggestions in the form
LABELS = {
    "agent": "Agent",
    "team": "Team",
    "queue": "Queue",
    "product_area": "Product area",
    "customer_segment": "Customer segment",
    "opportunity": "Opportunity",
    "rubric_id": "Rubric",
    "rubric_version": "Rubric version",
    "kb_article": "KB article",
    "policy": "Policy",
    "criterion": "Criterion",
}
STATUS_TONE = {
    "awaiting_review": "warn",
    "stopped": "bad",
    "coaching": "primary",
    "virtual_coach": "primary",
    "closed_complete": "good",
    "closed_incomplete": "muted",
    "dismissed": "muted",
}


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Filters:
    """What the form asked for: the window and the slice, as given and as applied."""

    window: str  # 7, 30, 90, all, or custom (from/to)
    start: str  # the form's from and to dates, as typed
    end: str
    since: datetime | None
    until: datetime | None
    slice: MetricsSlice

    def described(self) -> str:
        """`last 30 days · team tier2 · rubric version 2`."""
        if self.window == "custom":
            shown = f"from {self.start or 'the start'} to {self.end or 'now'}"
        elif self.window == "all":
            shown = "all time"
        else:
            shown = f"last {self.window} days"
        return f"{shown} · {sliced(self.slice)}"


def sliced(chosen: MetricsSlice) -> str:
    """`team tier2 · rubric version 2`, or `everything`."""
    given = chosen.model_dump(exclude_none=True)
    return " · ".join(f"{label(k).lower()} {v}" for k, v in given.items()) or "everything"


def slice_query(chosen: MetricsSlice) -> str:
    return urlencode(chosen.model_dump(exclude_none=True))


def slice_of(params: QueryParams) -> MetricsSlice:
    """The slice fields of the form; an empty field filters nothing."""
    given = {
        name: value
        for name in MetricsSlice.model_fields
        if (value := (params.get(name) or "").strip())
    }
    try:
        return MetricsQuery.model_validate(given).metrics_slice()
    except ValidationError as exc:
        names = sorted({str(e["loc"][0]) for e in exc.errors()})
        reasons = [
            f"{name}: must be a whole number from 1"
            if int in get_args(MetricsQuery.model_fields[name].annotation)
            else f"{name}: must be 1 to 200 characters without control characters"
            for name in names
        ]
        raise problem(422, "Invalid", "; ".join(reasons)) from None


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise problem(422, "Invalid", f"{name}: must be a date such as 2026-03-01") from None


def _day_after(text: str, name: str) -> datetime:
    """The end of the day the form names (inclusive), as the window's exclusive end."""
    try:
        return datetime.combine(_day(text, name) + timedelta(days=1), time(), UTC)
    except OverflowError:
        raise problem(422, "Invalid", f"{name}: must be a date before 9999-12-31") from None


def filters_of(params: QueryParams, at: datetime) -> Filters:
    start, end = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    if start or end:
        since = datetime.combine(_day(start, "from"), time(), UTC) if start else None
        until = _day_after(end, "to") if end else None
        if since and until and until <= since:
            raise problem(422, "Invalid", "to: must not be before from")
        return Filters("custom", start, end, since, until, slice_of(params))
    window = params.get("days") or "30"
    if window not in WINDOWS:
        window = "30"
    days = WINDOWS[window]
    since = at - timedelta(days=days) if days else None
    return Filters(window, "", "", since, None, slice_of(params))


async def known_values(session: AsyncSession, scope: MetricsScope) -> dict[str, list[str]]:
    """The values each slice field has among the assessments in scope, to suggest in the
    form."""
    selects = []
    for name in MetricsSlice.model_fields:
        column = getattr(AssessmentRow, SLICE_COLUMNS.get(name, name), None)
        if column is not None:
            selects.append(
                select(literal(name).label("field"), cast(column, String).label("value"))
                .where(column.is_not(None), *scope.assessments())
                .distinct()
            )
    found: dict[str, list[str]] = {name: [] for name in MetricsSlice.model_fields}
    if selects:
        for name, value in (await session.execute(union_all(*selects))).all():
            found[name].append(value)
    for values in found.values():
        values.sort(key=lambda v: (len(v), v) if v.isdigit() else (0, v))
        del values[KNOWN_VALUES:]
    return found


def _rate_bar(name: str, rate: Rate, tone: str = "warn") -> Bar:
    shown = "-" if rate.rate is None else f"{rate.rate * 100:.0f}% ({rate.part} of {rate.of})"
    return Bar(name, rate.rate or 0, tone, shown)


def _count_bars(counts: dict[str, int], tone: str = "warn") -> list[Bar]:
    return [Bar(k, n, tone) for k, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]


def metric_charts(metrics: Metrics, counts: list[tuple[str, str, int]]) -> dict[str, Any]:
    rate = metrics.override_rate
    card = metrics.scorecard
    by_status: dict[str, int] = {}
    by_opportunity: dict[str, int] = {}
    for opportunity, status, n in counts:
        by_status[status] = by_status.get(status, 0) + n
        if status in ("awaiting_review", "stopped"):
            by_opportunity[opportunity] = by_opportunity.get(opportunity, 0) + n
    return {
        "flow": bar_chart(
            "Assessments in the window",
            [
                Bar("Drafted", metrics.drafted),
                Bar("Stopped", metrics.stopped, "bad"),
                Bar("Reviewed", metrics.tickets_reviewed),
                Bar("Notes approved", metrics.notes_approved, "good"),
                Bar("Overrides", metrics.overrides, "warn"),
                Bar("Dismissed", metrics.dismissed, "muted"),
            ],
        ),
        "override": bar_chart(
            "Override rate",
            [Bar("Override rate", rate or 0, "warn", "-" if rate is None else f"{rate:.0%}")],
            maximum=1,
        ),
        "by_version": bar_chart(
            "Override rate by rubric version",
            [_rate_bar(k, r) for k, r in metrics.override_rate_by_rubric_version.items()],
            maximum=1,
        ),
        "by_criterion": bar_chart(
            "Override rate by criterion",
            [_rate_bar(k, r) for k, r in metrics.override_rate_by_criterion.items()],
            maximum=1,
        ),
        "repeats": bar_chart(
            "Repeat themes by criterion",
            [_rate_bar(k, r, "bad") for k, r in metrics.repeat_themes.by_criterion.items()],
            maximum=1,
        ),
        "scorecard": bar_chart(
            "Scorecard completion",
            [
                _rate_bar(
                    "Completed",
                    Rate(of=card.sampled, part=card.completed, rate=card.rate),
                    "good" if card.met else "bad",
                ),
                Bar("Pilot bar", card.threshold, "muted", f"{card.threshold:.0%}"),
            ],
            maximum=1,
        ),
        "causes": bar_chart(
            "Process issues by cause",
            [
                Bar(CAUSE_LABELS.get(cause, cause), n, "warn")
                for cause, n in sorted(metrics.process_issues_by_cause.items(), key=lambda i: -i[1])
            ],
        ),
        "documentation": bar_chart(
            "Documentation gaps by KB article", _count_bars(metrics.documentation_gaps)
        ),
        "policy": bar_chart("Policy gaps by policy", _count_bars(metrics.policy_gaps)),
        "statuses": bar_chart(
            "All assessments by status",
            [
                Bar(STATUS_LABELS.get(s, s), by_status[s], STATUS_TONE.get(s, "primary"))
                for s in STATUS_LABELS
                if s in by_status
            ],
        ),
        "waiting": bar_chart(
            "Waiting for review, by opportunity", _count_bars(by_opportunity, "warn")
        ),
    }


@router.get("/dashboard")
async def dashboard_page(request: Request, context: Context, user: PageUser) -> Response:
    require(user, "lead", "admin")
    filters = filters_of(request.query_params, now())
    scope = scope_of(user, context.catalog)
    async with context.sessions() as session:
        metrics = await compute_metrics(
            session, since=filters.since, until=filters.until, slice=filters.slice, scope=scope
        )
        counts = await state_counts(session, scope)
        known = await known_values(session, scope)
        agreement = await draft_agreement(
            session, filters.since, filters.until, filters.slice, scope
        )
    return render(
        request,
        "dashboard.html.j2",
        user,
        metrics=metrics,
        agreement=agreement,
        filters=filters,
        windows=list(WINDOWS),
        described=filters.described(),
        scope=scope.covers,
        trends_link=f"/dashboard/trends?{slice_query(filters.slice)}",
        fields=_form_fields(filters.slice, known),
        charts=metric_charts(metrics, counts),
    )


def _form_fields(chosen: MetricsSlice, known: dict[str, list[str]]) -> list[dict[str, Any]]:
    values = chosen.model_dump()
    return [
        {
            "name": name,
            "label": label(name),
            "value": "" if values[name] is None else values[name],
            "number": int in get_args(info.annotation),
            "known": known.get(name, []),
        }
        for name, info in MetricsSlice.model_fields.items()
    ]


def cast_by(value: str | None) -> TrendBy:
    """The trend the form asked for; coaching themes by criterion when it names none."""
    return next((b for b in TREND_BY if b == value), "criterion")


def trend_chart(title: str, weeks: list[date], lines: list[TrendLine]) -> Any:
    series = [Series(line.key, list(line.counts)) for line in lines[:TREND_SERIES]]
    rest = lines[TREND_SERIES:]
    if rest:
        other = [sum(line.counts[i] for line in rest) for i in range(len(weeks))]
        series.append(Series(f"other ({len(rest)})", other, OTHER_FILL))
    return weekly_chart(title, weeks, series)


@router.get("/dashboard/trends")
async def trends_page(request: Request, context: Context, user: PageUser) -> Response:
    require(user, "lead", "admin")
    params = request.query_params
    by = cast_by(params.get("by"))
    weeks = params.get("weeks") or ""
    count = int(weeks) if weeks.isdigit() and int(weeks) in TREND_WEEKS else 12
    end = (params.get("to") or "").strip()
    until = _day_after(end, "to") if end else None
    chosen = slice_of(params)
    scope = scope_of(user, context.catalog)
    async with context.sessions() as session:
        found = await weekly_trends(
            session, by, until=until, slice=chosen, weeks=count, scope=scope
        )
        known = await known_values(session, scope)
    lines = trend_lines(found.weeks, found.rows)
    what = "Process issues" if by in ("policy", "kb_article") else "Coaching themes"
    title = f"{what} by {label(by).lower()}, week over week"
    return render(
        request,
        "dashboard_trends.html.j2",
        user,
        by=by,
        by_options=[(b, label(b)) for b in TREND_BY],
        by_label=label(by),
        weeks=count,
        week_options=TREND_WEEKS,
        end=end,
        title=title,
        trend=found,
        lines=lines,
        chart=trend_chart(title, found.weeks, lines),
        described=f"last {count} weeks to {end or 'now'} · {sliced(chosen)}",
        scope=scope.covers,
        dashboard_link=f"/dashboard?{slice_query(chosen)}",
        fields=_form_fields(chosen, known),
    )
