"""Gather the pilot report: the brief's pilot view of one window, from the same metrics that
feed `starter.py metrics`, /dashboard and GET /api/metrics."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.conversations import conversation_checks
from reporting.edits import edit_examples
from reporting.model import (
    PILOT_CONVERSATIONS,
    PILOT_DAYS,
    PilotReport,
    QaSampleView,
    Scope,
    WeekRow,
    Window,
)
from store.metrics import MetricsSlice, compute_metrics, trends
from store.metrics_sql import NONE_KEY
from store.models import QaSampleRow
from store.sampling import result_of

DAY = timedelta(days=1)


def pilot_window(
    since: datetime, until: datetime | None = None, now: datetime | None = None
) -> Window:
    """[since, until), `until` defaulting to the pilot's 45 days after `since`."""
    if since.tzinfo is None:
        raise ValueError("since: needs a timezone")
    until = until or since + PILOT_DAYS * DAY
    if until.tzinfo is None:
        raise ValueError("until: needs a timezone")
    if until <= since:
        raise ValueError("until: must be later than since")
    now = now or datetime.now(UTC)
    elapsed = min(max(now, since), until) - since
    return Window(
        since=since,
        until=until,
        days=round((until - since) / DAY, 2),
        elapsed_days=round(elapsed / DAY, 2),
    )


def pilot_scope(queue: str | None = None, conversations: int = PILOT_CONVERSATIONS) -> Scope:
    if queue is not None:
        if not queue.strip():
            raise ValueError("queue: must not be empty")
        return Scope(kind="queue", queue=queue)
    if conversations < 1:
        raise ValueError("conversations: must be at least 1")
    return Scope(kind="conversations", conversations=conversations)


async def _weeks(
    session: AsyncSession, window: Window, slice: MetricsSlice | None
) -> tuple[dict[str, int], list[WeekRow]]:
    """Coaching themes by criterion over the window, most frequent first; and week by week,
    the themes and the process issues put down to policy and to documentation."""
    found = {
        by: await trends(session, by, window.since, window.until, slice)
        for by in ("criterion", "policy", "kb_article")
    }
    per_week = {by: Counter() for by in found}
    for by, rows in found.items():
        for row in rows:
            per_week[by][row.week] += row.count
    themes: Counter[str] = Counter()
    for row in found["criterion"]:
        themes[row.key or NONE_KEY] += row.count
    weeks = [
        WeekRow(
            week=week,
            themes=per_week["criterion"][week],
            policy_issues=per_week["policy"][week],
            kb_issues=per_week["kb_article"][week],
        )
        for week in sorted(set().union(*per_week.values()))
    ]
    return dict(sorted(themes.items(), key=lambda kv: (-kv[1], kv[0]))), weeks


async def _latest_qa_sample(session: AsyncSession, window: Window) -> QaSampleView | None:
    """The latest QA sample run whose window overlaps the report's."""
    row = (
        await session.execute(
            select(QaSampleRow)
            .where(QaSampleRow.window_start < window.until, QaSampleRow.window_end > window.since)
            .order_by(QaSampleRow.window_end.desc(), QaSampleRow.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    result = result_of(row)
    return QaSampleView(
        run_id=result.run_id,
        opportunity_id=result.opportunity_id,
        window_start=result.window_start,
        window_end=result.window_end,
        per_agent=result.per_agent,
        sample=result.sample,
        population=result.population,
    )


async def gather_pilot(
    session: AsyncSession,
    since: datetime,
    until: datetime | None = None,
    queue: str | None = None,
    conversations: int = PILOT_CONVERSATIONS,
    now: datetime | None = None,
) -> PilotReport:
    """The pilot report for [since, until) (45 days from `since` unless given).

    With a `queue`, every number is that queue's. Without one, the measurement plan's numbers
    cover every queue, and the workflow test covers the first `conversations` resolved
    conversations assessed in the window."""
    now = now or datetime.now(UTC)
    window = pilot_window(since, until, now)
    scope = pilot_scope(queue, conversations)
    slice = MetricsSlice(queue=queue) if queue is not None else None
    metrics = await compute_metrics(session, window.since, window.until, slice)
    themes, weeks = await _weeks(session, window, slice)
    return PilotReport(
        generated_at=now,
        window=window,
        scope=scope,
        metrics=metrics,
        checks=await conversation_checks(session, scope, window.since, window.until),
        edit_examples=await edit_examples(session, window.since, window.until, slice),
        themes=themes,
        weeks=weeks,
        qa_sample=await _latest_qa_sample(session, window),
    )
