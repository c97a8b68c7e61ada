"""Opening and closing the coaching phase of an assessment."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.lifecycle import CloseRequest, StartCoachingRequest
from store.lifecycle.common import LifecycleError, _assessment
from store.lifecycle.surveys import send_surveys
from store.lifecycle.tasks import assign_tasks
from store.measurements import append_measurement
from store.models import AssessmentRow, LearningTaskRow, SurveyRow

CLOSED = ("closed_complete", "closed_incomplete", "dismissed")


async def start_coaching(
    session: AsyncSession, req: StartCoachingRequest
) -> tuple[list[LearningTaskRow], list[SurveyRow]]:
    """Assign the tasks and send the surveys, once; a retry returns the same rows."""
    assessment = await _assessment(session, req.assessment_id)
    if assessment.status in CLOSED:
        raise LifecycleError(f"assessment {req.assessment_id} is {assessment.status}")
    if assessment.status != req.status:
        await session.execute(
            update(AssessmentRow)
            .where(AssessmentRow.id == req.assessment_id)
            .values(status=req.status, updated_at=req.at)
        )
        assessment = await _assessment(session, req.assessment_id)
    tasks: list[LearningTaskRow] = []
    if req.tasks:
        if req.trainee_id is None:
            raise LifecycleError(f"assessment {req.assessment_id} has no trainee for its tasks")
        tasks = await assign_tasks(session, req.assessment_id, req.trainee_id, req.tasks, req.at)
    surveys = (
        await send_surveys(session, req.assessment_id, req.surveys, req.at) if req.surveys else []
    )
    await append_measurement(
        session,
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
