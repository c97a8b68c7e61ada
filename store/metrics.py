"""The coaching metrics (DESIGN §7), computed in SQL from the measurement events and the
assessments, over a window of time and any slice. The queries live in `metrics_review`,
`metrics_outcomes`, `metrics_csat` and `metrics_trends`, the SQL helpers in `metrics_sql`,
the models in `metrics_model`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.metrics_csat import csat_recovery
from store.metrics_model import (
    Metrics,
    MetricsSlice,
    Rate,
    Responses,
    Surveys,
    TaskCompletion,
    TrendBy,
    TrendRow,
    ratio,
)
from store.metrics_outcomes import repeat_themes, sampled_and_escalated
from store.metrics_review import (
    decision_stats,
    event_counts,
    overrides_by_criterion,
    process_issue_refs,
)
from store.metrics_scope import EVERYTHING, MetricsScope
from store.metrics_sql import NONE_KEY, M, run_all, scalar, sliced, window
from store.metrics_trends import survey_scores, trends
from store.models import AssessmentRow

__all__ = [
    "EVERYTHING",
    "Metrics",
    "MetricsScope",
    "MetricsSlice",
    "Rate",
    "TrendBy",
    "TrendRow",
    "compute_metrics",
    "state_counts",
    "trends",
]


async def compute_metrics(
    session: AsyncSession,
    since: datetime | None = None,
    until: datetime | None = None,
    slice: MetricsSlice | None = None,
    scope: MetricsScope = EVERYTHING,
) -> Metrics:
    """Every metric over the events in [since, until) that match the slice, of the assessments
    in `scope`. `awaiting_review` is the queue as it is now (sliced, not windowed).

    On PostgreSQL the statements run side by side on connections of the session's engine (each
    statement reads committed data, as it would in the session); elsewhere, in the session."""
    where = [*window(M.occurred_at, since, until), *sliced(M, slice), *scope.events(M)]
    is_sliced = bool(sliced(M, slice) or scope.assessments())
    in_scope = [*sliced(AssessmentRow, slice), *scope.assessments()]
    # Drafted in the window: an assessment's drafting event is dated at its created_at.
    drafted = [*window(AssessmentRow.created_at, since, until), *in_scope]
    awaiting = (
        select(func.count())
        .select_from(AssessmentRow)
        .where(AssessmentRow.status.in_(("awaiting_review", "stopped")), *in_scope)
    )
    # Independent statements, the longest first: on PostgreSQL they run side by side.
    got = await run_all(
        session,
        {
            "csat": lambda s: csat_recovery(s, where, scope),
            "repeat": lambda s: repeat_themes(s, where, is_sliced, scope.assessments()),
            "decisions": lambda s: decision_stats(s, where),
            "card": lambda s: sampled_and_escalated(s, drafted, until),
            "criteria": lambda s: overrides_by_criterion(s, where),
            "surveys": lambda s: survey_scores(s, where),
            "counts": lambda s: event_counts(s, where, sliced=is_sliced),
            "issues": lambda s: process_issue_refs(s, where, until),
            "awaiting": lambda s: scalar(s, awaiting),
        },
    )
    n, decisions = got["counts"], got["decisions"]
    card, escalated = got["card"]
    by_cause: dict[str, int] = {}
    gaps: dict[str, dict[str, int]] = {"documentation": {}, "policy": {}}
    process_issues = 0
    for cause, ref, count, issues in got["issues"]:
        process_issues += issues
        if cause:
            by_cause[cause] = by_cause.get(cause, 0) + count
        if cause in gaps:
            gaps[cause][ref or NONE_KEY] = count
    approved = n["decision_approve"] + n["decision_override"]
    decided = approved + n["decision_dismiss"]
    closed_tasks = n["task_completed"] + n["task_incomplete"]
    return Metrics(
        drafted=n["assessment_drafted"],
        stopped=n["assessment_stopped"],
        awaiting_review=got["awaiting"],
        tickets_reviewed=decisions.reviewed,
        notes_approved=approved,
        overrides=n["decision_override"],
        dismissed=n["decision_dismiss"],
        override_rate=ratio(n["decision_override"], decided),
        mean_review_hours=decisions.mean_review_hours,
        p50_review_hours=decisions.p50_review_hours,
        process_issues=process_issues,
        process_issues_by_cause=by_cause,
        override_rate_by_criterion=got["criteria"],
        override_rate_by_rubric_version=decisions.by_rubric_version,
        repeat_themes=got["repeat"],
        documentation_gaps=gaps["documentation"],
        policy_gaps=gaps["policy"],
        escalations=escalated,
        csat_recovery=got["csat"],
        tasks=TaskCompletion(
            assigned=n["task_assigned"],
            completed=n["task_completed"],
            on_time=n["on_time"],
            incomplete=n["task_incomplete"],
            completion_rate=ratio(n["task_completed"], closed_tasks),
            on_time_rate=ratio(n["on_time"], n["task_completed"]),
        ),
        skills_awarded=n["skill_awarded"],
        surveys=Surveys(
            sent=n["survey_sent"],
            answered=n["survey_answered"],
            expired=n["survey_expired"],
            scores=got["surveys"],
        ),
        responses=Responses(
            acknowledged=n["acknowledged"],
            disputed=n["disputed"],
            upheld=n["dispute_upheld"],
            amended=n["dispute_amended"],
        ),
        scorecard=card,
    )


async def state_counts(
    session: AsyncSession, scope: MetricsScope = EVERYTHING
) -> list[tuple[str, str, int]]:
    """(opportunity, status, count) of the assessments in scope, as they stand now."""
    rows = await session.execute(
        select(AssessmentRow.opportunity_id, AssessmentRow.status, func.count())
        .where(*scope.assessments())
        .group_by(AssessmentRow.opportunity_id, AssessmentRow.status)
        .order_by(AssessmentRow.opportunity_id, AssessmentRow.status)
    )
    return [(o, s, n) for o, s, n in rows.all()]
