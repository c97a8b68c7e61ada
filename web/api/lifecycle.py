"""The coaching lifecycle: the caller's tasks, surveys and skills; completing a task, answering a
survey; the trainee's acknowledgement or dispute and another lead's resolution.

Every change is a workflow update sent through `web.actions`; the workflow's validators decide,
and their refusals become 403/404/409/422 with a message naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Security
from sqlalchemy import select

from domain.coaching import CoachingInput
from domain.definitions import SurveyTemplate
from domain.lifecycle import ResponseView, SurveyStatus, SurveyView, TaskStatus, TaskView
from store.lifecycle import skills_of, surveys_for, tasks_for
from store.models import AssessmentRow, CoachingResponseRow, LearningTaskRow, SurveyRow
from web import actions
from web.api.schemas import (
    AssessmentId,
    DisputeBody,
    ProblemRoute,
    ResolutionBody,
    ResponseOut,
    SkillOut,
    SurveyAnswersBody,
    SurveyId,
    SurveyOut,
    TaskId,
    TaskOut,
    bearer,
    errors,
)
from web.auth import CurrentUser, Lead, User, require_role
from web.context import Context, WebContext

router = APIRouter(tags=["coaching"], dependencies=[Security(bearer)], route_class=ProblemRoute)

Trainee = Annotated[User, Depends(require_role("trainee"))]


def task_out(row: LearningTaskRow) -> TaskOut:
    return TaskOut(
        id=row.id,
        assessment_id=row.assessment_id,
        key=row.task_key,
        title=row.title,
        skill=row.skill,
        trainee_id=row.trainee_id,
        status=row.status,
        assigned_at=row.assigned_at,
        due_at=row.due_at,
        closes_at=row.closes_at or row.due_at,
        reminded=row.reminded_at is not None,
        completed_at=row.completed_at,
    )


def response_out(row: CoachingResponseRow) -> ResponseOut:
    return ResponseOut(
        kind=row.kind,
        trainee_id=row.trainee_id,
        reason=row.reason,
        at=row.at,
        resolution=row.resolution,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        resolution_note=row.resolution_note,
    )


async def _started_with(context: WebContext, workflow_id: str) -> list[SurveyTemplate]:
    """The survey templates pinned in the workflow's input, read from its first event."""
    handle = context.client.get_workflow_handle(workflow_id)
    try:
        async for event in handle.fetch_history_events(page_size=1):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            (started,) = await context.client.data_converter.decode(payloads, [CoachingInput])
            return list(started.surveys)
    except Exception:  # a missing history only means the questions cannot be shown
        return []
    return []


async def pinned_templates(
    context: WebContext, rows: list[SurveyRow]
) -> dict[int, SurveyTemplate | None]:
    """Each survey's template at the version pinned when it was sent: from the catalog when it
    still holds that version, else from the workflow that sent it."""
    out: dict[int, SurveyTemplate | None] = {}
    elsewhere: dict[int, list[SurveyRow]] = {}
    for row in rows:
        template = context.catalog.surveys.get(row.template_id)
        if template is not None and template.version == row.template_version:
            out[row.id] = template
        else:
            elsewhere.setdefault(row.assessment_id, []).append(row)
    if not elsewhere:
        return out
    async with context.sessions() as session:
        workflows = dict(
            (
                await session.execute(
                    select(AssessmentRow.id, AssessmentRow.workflow_id).where(
                        AssessmentRow.id.in_(elsewhere)
                    )
                )
            ).all()
        )
    for assessment_id, survey_rows in elsewhere.items():
        workflow_id = workflows.get(assessment_id)
        pinned = await _started_with(context, workflow_id) if workflow_id else []
        for row in survey_rows:
            out[row.id] = next(
                (t for t in pinned if (t.id, t.version) == (row.template_id, row.template_version)),
                None,
            )
    return out


async def survey_outs(context: WebContext, user: User, rows: list[SurveyRow]) -> list[SurveyOut]:
    templates = await pinned_templates(context, rows)
    out = []
    for row in rows:
        template = templates.get(row.id)
        own = row.respondent_id == user.name
        out.append(
            SurveyOut(
                id=row.id,
                assessment_id=row.assessment_id,
                audience=row.audience,
                template_id=row.template_id,
                template_version=row.template_version,
                name=template.name if template else None,
                respondent_id=row.respondent_id,
                status=row.status,
                sent_at=row.sent_at,
                expires_at=row.expires_at,
                answered_at=row.answered_at,
                questions=list(template.questions) if template else [],
                answers=row.answers if own else None,
            )
        )
    return out


@router.get(
    "/api/me/tasks",
    response_model=list[TaskOut],
    responses=errors(401, 422),
    summary="The caller's learning tasks",
)
async def my_tasks(
    context: Context, user: CurrentUser, status: TaskStatus | None = None
) -> list[TaskOut]:
    async with context.sessions() as session:
        rows = await tasks_for(session, user.name, status)
    return [task_out(r) for r in rows]


@router.post(
    "/api/tasks/{task_id}/complete",
    response_model=TaskView,
    responses=errors(401, 403, 404, 409, 422),
    summary="The trainee completes their task (and earns its skill)",
)
async def complete_task(context: Context, user: CurrentUser, task_id: TaskId) -> TaskView:
    return await actions.complete_task(context, user, task_id)


@router.get(
    "/api/me/surveys",
    response_model=list[SurveyOut],
    responses=errors(401, 422),
    summary="The surveys sent to the caller, with the questions of their pinned templates",
)
async def my_surveys(
    context: Context, user: CurrentUser, status: SurveyStatus | None = None
) -> list[SurveyOut]:
    async with context.sessions() as session:
        rows = await surveys_for(session, user.name, status)
    return await survey_outs(context, user, rows)


@router.post(
    "/api/surveys/{survey_id}/response",
    response_model=SurveyView,
    responses=errors(401, 403, 404, 409, 413, 422),
    summary="The respondent answers a survey",
)
async def answer_survey(
    context: Context, user: CurrentUser, survey_id: SurveyId, body: SurveyAnswersBody
) -> SurveyView:
    """Answers are checked against the template version pinned in the workflow: scale
    questions take whole numbers, choices one of their options."""
    answers: dict[str, Any] = {k: v for k, v in body.answers.items() if v is not None}
    return await actions.answer_survey(context, user, survey_id, answers)


@router.get(
    "/api/me/skills",
    response_model=list[SkillOut],
    responses=errors(401),
    summary="The skills awarded to the caller",
)
async def my_skills(context: Context, user: CurrentUser) -> list[SkillOut]:
    async with context.sessions() as session:
        rows = await skills_of(session, user.name)
    return [
        SkillOut(
            skill=r.skill, awarded_at=r.awarded_at, assessment_id=r.assessment_id, task_id=r.task_id
        )
        for r in rows
    ]


@router.post(
    "/api/assessments/{assessment_id}/acknowledge",
    response_model=ResponseView,
    responses=errors(401, 403, 404, 409, 422),
    summary="The trainee acknowledges the coaching",
)
async def acknowledge(context: Context, user: Trainee, assessment_id: AssessmentId) -> ResponseView:
    return await actions.respond(context, user, assessment_id)


@router.post(
    "/api/assessments/{assessment_id}/dispute",
    response_model=ResponseView,
    responses=errors(401, 403, 404, 409, 413, 422),
    summary="The trainee disputes the coaching, with a reason",
)
async def dispute(
    context: Context, user: Trainee, assessment_id: AssessmentId, body: DisputeBody
) -> ResponseView:
    """The dispute goes to another lead: not the one who decided."""
    return await actions.respond(context, user, assessment_id, body.reason)


@router.post(
    "/api/assessments/{assessment_id}/dispute/resolution",
    response_model=ResponseView,
    responses=errors(401, 403, 404, 409, 413, 422),
    summary="Another lead resolves the dispute: upheld, or amended with the amended note",
)
async def resolve_dispute(
    context: Context, user: Lead, assessment_id: AssessmentId, body: ResolutionBody
) -> ResponseView:
    return await actions.resolve_dispute(context, user, assessment_id, body.resolution, body.note)
