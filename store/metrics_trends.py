"""Survey scores, and week-over-week trends of coaching themes and process gaps."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from store.metrics_model import MetricsSlice, QuestionScore, TrendBy, TrendRow
from store.metrics_scope import EVERYTHING, MetricsScope
from store.metrics_sql import M, json_pairs, number, sliced, week_start, window
from store.models import AssessmentRow, CriterionResultRow
from store.process_issues import standing


async def survey_scores(
    session: AsyncSession, where: list[Any]
) -> dict[str, dict[str, QuestionScore]]:
    """Per audience (coach, trainee) and question: the mean of the numeric answers given in
    the window, and how many there were."""
    # OFFSET 0 keeps PostgreSQL from inlining this, so each event's JSON is read once.
    answered = (
        select(M.data["audience"].as_string().label("audience"), M.data["answers"].label("answers"))
        .where(M.kind == "survey_answered", *where)
        .offset(0)
        .subquery()
    )
    pairs = json_pairs(session, answered.c.answers)
    answers = (
        select(
            answered.c.audience,
            pairs.c.key.label("question"),
            number(pairs.c.value).label("value"),
        )
        .select_from(answered)
        .join(pairs, true())
        .subquery()
    )
    a = answers.c
    rows = await session.execute(
        select(a.audience, a.question, func.avg(a.value), func.count())
        .group_by(a.audience, a.question)
        .order_by(a.audience, a.question)
    )
    out: dict[str, dict[str, QuestionScore]] = {}
    for audience, question, mean, n in rows.all():
        out.setdefault(str(audience), {})[question] = QuestionScore(
            mean=round(float(mean), 3), count=n
        )
    return out


TREND_COLUMNS = {
    "agent": AssessmentRow.agent_id,
    "team": AssessmentRow.team,
    "queue": AssessmentRow.queue,
    "product_area": AssessmentRow.product_area,
    "customer_segment": AssessmentRow.customer_segment,
    "criterion": CriterionResultRow.criterion_id,
}
TREND_CAUSES = {"policy": "policy", "kb_article": "documentation"}


async def trends(
    session: AsyncSession,
    by: TrendBy,
    since: datetime | None = None,
    until: datetime | None = None,
    slice: MetricsSlice | None = None,
    scope: MetricsScope = EVERYTHING,
) -> list[TrendRow]:
    """Week by week (weeks start on Monday, UTC), by `by`:

    - agent, team, queue, product_area, customer_segment, criterion: the failed criteria put
      down to the agent's behaviour (coaching themes) of the assessments drafted in the week,
      dismissed ones aside;
    - policy, kb_article: the assessments drafted in the week with a process issue of cause
      policy or documentation, by the policy or help-centre article it names (None when it
      names none), as the gaps count them; an issue a lead's decision files, in the week of
      the decision.

    Only the assessments in `scope` count.
    """
    if by in TREND_CAUSES:
        week = week_start(M.occurred_at)
        key = M.data["ref"].as_string()
        issues = (
            select(week.label("week"), key.label("key"), M.assessment_id.label("unit"))
            .where(
                standing(M, until),
                M.data["cause"].as_string() == TREND_CAUSES[by],
                *window(M.occurred_at, since, until),
                *sliced(M, slice),
                *scope.events(M),
            )
            .subquery()
        )
    elif by in TREND_COLUMNS:
        A, R = AssessmentRow, CriterionResultRow
        issues = (
            select(
                week_start(A.created_at).label("week"),
                TREND_COLUMNS[by].label("key"),
                R.id.label("unit"),
            )
            .select_from(R)
            .join(A, A.id == R.assessment_id)
            .where(
                R.status == "failed",
                R.cause == "agent_behavior",
                A.status != "dismissed",
                *window(A.created_at, since, until),
                *sliced(A, slice),
                *scope.assessments(),
            )
            .subquery()
        )
    else:
        raise ValueError(f"by: must be one of {', '.join([*TREND_COLUMNS, *TREND_CAUSES])}")
    rows = await session.execute(
        select(issues.c.week, issues.c.key, func.count(issues.c.unit.distinct()))
        .group_by(issues.c.week, issues.c.key)
        .order_by(issues.c.week, issues.c.key.is_(None), issues.c.key)
    )
    return [TrendRow(week=date.fromisoformat(str(w)), key=k, count=n) for w, k, n in rows.all()]
