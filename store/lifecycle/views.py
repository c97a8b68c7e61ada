"""Rows as the workflow's state shows them."""

from __future__ import annotations

from domain.lifecycle import ResponseView, SurveyView, TaskView
from store.models import CoachingResponseRow, LearningTaskRow, SurveyRow


def task_view(row: LearningTaskRow, skill_awarded: bool = False) -> TaskView:
    return TaskView(
        id=row.id,
        key=row.task_key,
        title=row.title,
        skill=row.skill,
        trainee_id=row.trainee_id,
        status=row.status,
        due_at=row.due_at,
        closes_at=row.closes_at or row.due_at,
        reminded=row.reminded_at is not None,
        skill_awarded=skill_awarded,
    )


def survey_view(row: SurveyRow) -> SurveyView:
    return SurveyView(
        id=row.id,
        audience=row.audience,
        template_id=row.template_id,
        respondent_id=row.respondent_id,
        status=row.status,
        expires_at=row.expires_at,
    )


def response_view(row: CoachingResponseRow) -> ResponseView:
    return ResponseView(
        kind=row.kind,
        trainee_id=row.trainee_id,
        at=row.at,
        resolution=row.resolution,
        resolved_by=row.resolved_by,
    )
