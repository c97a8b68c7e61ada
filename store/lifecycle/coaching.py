"""Opening and closing the coaching phase of an assessment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.lifecycle import CloseRequest, StartCoachingRequest
from store.lifecycle.common import LifecycleError, _assessment
from store.lifecycle.surveys import send_surveys_of
from store.lifecycle.tasks import assign_tasks_of
from store.measurements import append_measurement, append_measurements, measurement
from store.models import AssessmentRow, LearningTaskRow, SurveyRow

CLOSED = ("closed_complete", "closed_incomplete", "dismissed")


async def start_coaching(
    session: AsyncSession,
    req: StartCoachingRequest,
    assessment: AssessmentRow | None = None,
    events: list[dict[str, Any]] | None = None,
) -> tuple[list[LearningTaskRow], list[SurveyRow]]:
    """Assign the tasks and send the surveys, once; a retry returns the same rows. `assessment`
    is the row when the caller has just read it in this transaction; `events` are the caller's
    measurement rows, appended in the same statement as the coaching's."""
    if assessment is None or assessment.id != req.assessment_id:
        assessment = await _assessment(session, req.assessment_id)
    if assessment.status in CLOSED:
        raise LifecycleError(f"assessment {req.assessment_id} is {assessment.status}")
    if assessment.status != req.status:
        await session.execute(
            update(AssessmentRow)
            .where(AssessmentRow.id == req.assessment_id)
            .values(status=req.status, updated_at=req.at, released_at=req.at)
        )
    tasks: list[LearningTaskRow] = []
    events = list(events or [])
    if req.tasks:
        if req.trainee_id is None:
            raise LifecycleError(f"assessment {req.assessment_id} has no trainee for its tasks")
        tasks, assigned = await assign_tasks_of(
            session, assessment, req.trainee_id, req.tasks, req.at
        )
        events += assigned
    surveys: list[SurveyRow] = []
    if req.surveys:
        surveys, sent = await send_surveys_of(session, assessment, req.surveys, req.at)
        events += sent
    events.append(
        measurement(
            kind="coaching_started",
            occurred_at=req.at,
            key=req.workflow_id,
            assessment=assessment,
            data={
                "by": req.status,
                "tasks": [t.task_key for t in tasks],
                "surveys": [s.audience for s in surveys],
            },
        )
    )
    await append_measurements(session, events)
    return tasks, surveys


async def close_assessment(session: AsyncSession, req: CloseRequest) -> bool:
    """Close the assessment, once. False when it was already closed by this workflow."""
    assessment = await _assessment(session, req.assessment_id)
    appended = await append_measurement(
        session,
        kind="assessment_closed",
        occurred_at=req.at,
        key=req.workflow_id,
        assessment=assessment,
        data={"status": req.status, "reason": req.reason},
    )
    if appended:
        await session.execute(
            update(AssessmentRow)
            .where(AssessmentRow.id == req.assessment_id)
            .values(status=req.status, updated_at=req.at)
        )
    return appended
