"""The basic coaching metrics, computed in SQL from the measurement events."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AssessmentRow, MeasurementEventRow

M = MeasurementEventRow
DECISIONS = ("decision_approve", "decision_override", "decision_dismiss")


class Metrics(BaseModel):
    drafted: int
    stopped: int
    awaiting_review: int
    tickets_reviewed: int
    notes_approved: int
    overrides: int
    dismissed: int
    override_rate: float | None
    mean_review_hours: float | None
    process_issues: int
    process_issues_by_cause: dict[str, int]


def _count(kind: str | tuple[str, ...]):
    kinds = (kind,) if isinstance(kind, str) else kind
    return func.coalesce(func.sum(case((M.kind.in_(kinds), 1), else_=0)), 0)


async def compute_metrics(
    session: AsyncSession, since: datetime | None = None, until: datetime | None = None
) -> Metrics:
    window = []
    if since is not None:
        window.append(M.occurred_at >= since)
    if until is not None:
        window.append(M.occurred_at < until)
    review_seconds = cast(M.data["review_seconds"].as_float(), Float)
    row = (
        await session.execute(
            select(
                _count("assessment_drafted"),
                _count("assessment_stopped"),
                func.count(func.distinct(case((M.kind.in_(DECISIONS), M.assessment_id)))),
                _count(("decision_approve", "decision_override")),
                _count("decision_override"),
                _count("decision_dismiss"),
                _count("process_issue"),
                func.avg(case((M.kind.in_(DECISIONS), review_seconds))),
            ).where(*window)
        )
    ).one()
    drafted, stopped, reviewed, approved, overrides, dismissed, issues, review_avg = row
    decided = approved + dismissed
    cause = M.data["cause"].as_string().label("cause")
    by_cause = dict(
        (
            await session.execute(
                select(cause, func.count())
                .where(M.kind == "process_issue", *window)
                .group_by(cause)
            )
        ).all()
    )
    awaiting = (
        await session.execute(
            select(func.count())
            .select_from(AssessmentRow)
            .where(AssessmentRow.status.in_(("awaiting_review", "stopped")))
        )
    ).scalar_one()
    return Metrics(
        drafted=drafted,
        stopped=stopped,
        awaiting_review=awaiting,
        tickets_reviewed=reviewed,
        notes_approved=approved,
        overrides=overrides,
        dismissed=dismissed,
        override_rate=round(overrides / decided, 4) if decided else None,
        mean_review_hours=round(review_avg / 3600, 2) if review_avg is not None else None,
        process_issues=issues,
        process_issues_by_cause={k: v for k, v in by_cause.items() if k},
    )
