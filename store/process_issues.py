"""Process issues as measured: the draft files them as `process_issue` events, and a lead's
decision that changes the draft's causes withdraws those it takes back and files those it adds.
Metrics count the standing ones: filed, and not withdrawn before the window's end."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.assessment import ProcessIssue
from store.measurements import measurement
from store.models import AssessmentRow, MeasurementEventRow
from store.slice_refs import issue_refs

M = MeasurementEventRow
ISSUE = "process_issue"
WITHDRAWN = "process_issue_withdrawn"


def withdrawn(event: Any, until: datetime | None = None) -> Any:
    """True for a process issue event withdrawn (before `until`, when given)."""
    W = aliased(M)
    conditions = [
        W.assessment_id == event.assessment_id,
        W.kind == WITHDRAWN,
        W.data["issue_id"].as_integer() == event.id,
    ]
    if until is not None:
        conditions.append(W.occurred_at < until)
    return exists(select(literal_column("1")).where(*conditions))


def standing(event: Any, until: datetime | None = None) -> Any:
    return and_(event.kind == ISSUE, ~withdrawn(event, until))


def _identity(data: dict[str, Any]) -> tuple[Any, ...]:
    return (data.get("criterion_id"), data.get("cause"), data.get("ref"))


async def reconciled(
    session: AsyncSession,
    assessment: AssessmentRow,
    issues: list[ProcessIssue],
    key: str,
    at: datetime,
) -> list[dict[str, Any]]:
    """The events that make the assessment's standing process issues `issues`: a withdrawal
    of each standing one (by criterion, cause and ref) no longer among them, and an issue for
    each new one. `key` is the decision's, so a retried decision files nothing twice."""
    rows = (
        await session.execute(
            select(M.id, M.data).where(M.assessment_id == assessment.id, standing(M))
        )
    ).all()
    wanted = Counter(_identity(i.model_dump(mode="json")) for i in issues)
    events = []
    for issue_id, data in rows:
        kept = _identity(data)
        if wanted[kept] > 0:
            wanted[kept] -= 1
            continue
        events.append(
            measurement(
                kind=WITHDRAWN,
                occurred_at=at,
                key=f"{key}:{issue_id}",
                assessment=assessment,
                data={**data, "issue_id": issue_id},
                **issue_refs(ProcessIssue.model_validate(data)),
            )
        )
    for i, issue in enumerate(issues):
        data = issue.model_dump(mode="json")
        if wanted[_identity(data)] > 0:
            wanted[_identity(data)] -= 1
            events.append(
                measurement(
                    kind=ISSUE,
                    occurred_at=at,
                    key=f"{key}:{i}",
                    assessment=assessment,
                    data=data,
                    **issue_refs(issue),
                )
            )
    return events
