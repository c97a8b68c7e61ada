"""The coaching metrics over HTTP: every metric of `compute_metrics`, and week-over-week trends
of coaching themes and process gaps, over a window of time and any slice. The slice's query
parameters are the fields of `MetricsSlice`, whatever they are (`schemas.slice_fields`). The
numbers cover what the caller may see (`web.scope`), and each answer says so in `scope`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Security
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from store.decision_labels import DraftAgreement, draft_agreement
from store.metrics import (
    EVERYTHING,
    MetricsScope,
    MetricsSlice,
    TrendBy,
    TrendRow,
    compute_metrics,
    trends,
)
from store.metrics_model import Scope
from store.metrics_sql import NONE_KEY
from web.api.schemas import (
    MAX_TREND_WEEKS,
    MetricsOut,
    MetricsQuery,
    ProblemRoute,
    TrendsOut,
    TrendsQuery,
    bearer,
    errors,
)
from web.auth import User, require_role
from web.context import Context
from web.errors import problem
from web.scope import scope_of

router = APIRouter(tags=["metrics"], dependencies=[Security(bearer)], route_class=ProblemRoute)

LeadOrAdmin = Annotated[User, Depends(require_role("lead", "admin"))]
SLICING = (
    "Every field of the slice narrows the metrics to the records that carry that value; the "
    "fields combine. The window applies to when each counted event happened. The numbers "
    "cover the assessments the caller may see (an admin: all), as `scope` says; a slice "
    "value the caller may not see gives the same empty figures as one that does not exist."
)
SINCE_OR_WEEKS = "weeks: give since or weeks, not both"


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(at: datetime) -> date:
    """The Monday (UTC) of the week `at` falls in."""
    return monday(at.astimezone(UTC).date())


def last_week(end: datetime) -> date:
    """The Monday of the last week before `end` (exclusive)."""
    return week_of(end - timedelta(microseconds=1)) if end.date() > date.min else date.min


def before(day: date, weeks: int) -> date:
    """`weeks` weeks before `day`, or the first day of the calendar (a Monday)."""
    try:
        return day - timedelta(weeks=weeks)
    except OverflowError:
        return date.min


def weeks_back(weeks: int, end: datetime) -> datetime:
    """The start (Monday 00:00 UTC) of the last `weeks` weeks before `end` (exclusive)."""
    return datetime.combine(before(last_week(end), weeks - 1), time(), UTC)


def week_span(rows: list[TrendRow], since: datetime | None, end: datetime) -> list[date]:
    """Every Monday from the window's start (at most MAX_TREND_WEEKS back) or the first row, to
    the window's end or the last row."""
    last = last_week(end)
    first = None
    if since is not None:
        first = max(week_of(since), before(last, MAX_TREND_WEEKS - 1))
    if rows:
        first = rows[0].week if first is None else min(first, rows[0].week)
        last = max(last, rows[-1].week)
    if first is None:
        return []
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


COVERS = "What the numbers cover: every assessment, or those the caller may see"


class ScopedMetrics(MetricsOut):
    scope: Scope = Field(description=COVERS)


class MetricsWithAgreement(ScopedMetrics):
    draft_agreement: DraftAgreement = Field(
        description="How often the draft said what the lead decided, per criterion: the "
        "approved and overridden decisions of the window and slice as labels (`eval "
        "--from-decisions`); dismissals are counted, not compared"
    )


class ScopedTrends(TrendsOut):
    scope: Scope = Field(description=COVERS)


async def weekly_trends(
    session: AsyncSession,
    by: TrendBy,
    since: datetime | None = None,
    until: datetime | None = None,
    slice: MetricsSlice | None = None,
    weeks: int | None = None,
    scope: MetricsScope = EVERYTHING,
) -> ScopedTrends:
    """`trends` with the weeks it spans; `weeks` counts back from `until` (or now) instead of
    `since`."""
    end = until or datetime.now(UTC)
    if weeks is not None:
        if since is not None:
            raise ValueError(SINCE_OR_WEEKS)
        since = weeks_back(weeks, end)
    rows = await trends(session, by, since=since, until=until, slice=slice, scope=scope)
    return ScopedTrends(
        by=by,
        since=since,
        until=until,
        slice=slice or MetricsSlice(),
        weeks=week_span(rows, since, end),
        rows=rows,
        scope=scope.covers,
    )


@dataclass(frozen=True)
class TrendLine:
    key: str
    counts: list[int]
    total: int
    change: int | None  # the last week against the one before


def trend_lines(weeks: list[date], rows: list[TrendRow]) -> list[TrendLine]:
    """One line per key with its count each week, the most first."""
    position = {week: i for i, week in enumerate(weeks)}
    counts: dict[str, list[int]] = {}
    for row in rows:
        line = counts.setdefault(row.key or NONE_KEY, [0] * len(weeks))
        line[position[row.week]] += row.count
    lines = [
        TrendLine(key, c, sum(c), c[-1] - c[-2] if len(c) > 1 else None)
        for key, c in counts.items()
    ]
    return sorted(lines, key=lambda line: (-line.total, line.key))


def _checked(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and until < since:
        raise problem(422, "InvalidRequest", "until: must not be before since")


@router.get(
    "/api/metrics",
    response_model=MetricsWithAgreement,
    responses=errors(401, 403, 422),
    summary="The coaching metrics, over a window of time and any slice",
    description=SLICING,
)
async def metrics(
    context: Context, user: LeadOrAdmin, query: Annotated[MetricsQuery, Query()]
) -> MetricsWithAgreement:
    _checked(query.since, query.until)
    chosen, scope = query.metrics_slice(), scope_of(user, context.catalog)
    async with context.sessions() as session:
        found = await compute_metrics(
            session, since=query.since, until=query.until, slice=chosen, scope=scope
        )
        agreement = await draft_agreement(session, query.since, query.until, chosen, scope)
    return MetricsWithAgreement(**dict(found), scope=scope.covers, draft_agreement=agreement)


@router.get(
    "/api/metrics/trends",
    response_model=ScopedTrends,
    responses=errors(401, 403, 422),
    summary="Week-over-week coaching themes or process gaps, over a window and any slice",
    description=f"{SLICING} Weeks start on Monday (UTC). Coaching themes count the failed "
    "criteria put down to the agent's behaviour on the undismissed assessments drafted that "
    "week; `policy` and `kb_article` count the process issues of that cause drafted that "
    "week, by the record they name.",
)
async def metrics_trends(
    context: Context, user: LeadOrAdmin, query: Annotated[TrendsQuery, Query()]
) -> ScopedTrends:
    _checked(query.since, query.until)
    if query.since is not None and query.weeks is not None:
        raise problem(422, "InvalidRequest", SINCE_OR_WEEKS)
    async with context.sessions() as session:
        return await weekly_trends(
            session,
            query.by,
            since=query.since,
            until=query.until,
            slice=query.metrics_slice(),
            weeks=query.weeks,
            scope=scope_of(user, context.catalog),
        )
