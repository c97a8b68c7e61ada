"""The coaching lifecycle after approval: learning tasks, skills, surveys, the trainee's response.

Every write is idempotent, because the workflow activities that call these functions retry: a
repeated call changes nothing and returns the same rows. State changes are conditional updates
(`... WHERE status = 'open'`), inserts are `INSERT … ON CONFLICT DO NOTHING`, and each state
change appends a measurement event keyed by the row it concerns, so a retry cannot count twice.
Impossible transitions raise `LifecycleError`, whose messages carry ids only, never names or
free text. No commits here: callers own the transaction and roll back when a call raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.lifecycle.common import LifecycleError, SurveyPlan, TaskPlan, _rows
from store.lifecycle.responses import _response, acknowledge, dispute, resolve_dispute
from store.lifecycle.surveys import answer_survey, expire_surveys, send_surveys, surveys_for
from store.lifecycle.tasks import (
    assign_tasks,
    close_overdue_tasks,
    close_task,
    complete_task,
    remind_task,
    skills_of,
    tasks_for,
)
from store.models import CoachingResponseRow, LearningTaskRow, SurveyRow

__all__ = [
    "Lifecycle",
    "LifecycleError",
    "SurveyPlan",
    "TaskPlan",
    "acknowledge",
    "answer_survey",
    "assign_tasks",
    "close_overdue_tasks",
    "close_task",
    "complete_task",
    "dispute",
    "expire_surveys",
    "lifecycle_of",
    "remind_task",
    "resolve_dispute",
    "send_surveys",
    "skills_of",
    "surveys_for",
    "tasks_for",
]


@dataclass(frozen=True)
class Lifecycle:
    tasks: list[LearningTaskRow]
    surveys: list[SurveyRow]
    response: CoachingResponseRow | None


async def lifecycle_of(session: AsyncSession, assessment_id: int) -> Lifecycle:
    tasks = await _rows(
        session,
        select(LearningTaskRow)
        .where(LearningTaskRow.assessment_id == assessment_id)
        .order_by(LearningTaskRow.id),
    )
    surveys = await _rows(
        session,
        select(SurveyRow).where(SurveyRow.assessment_id == assessment_id).order_by(SurveyRow.id),
    )
    return Lifecycle(tasks=tasks, surveys=surveys, response=await _response(session, assessment_id))
