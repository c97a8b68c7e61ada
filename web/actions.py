"""What a user may see and do, shared by the JSON API and the pages.

Reads are scoped here: a lead sees the assessments of their teams, of the reviewer groups they
belong to and those reassigned to them; a trainee sees only their own assessments once a lead
(or the virtual coach) has released them, and never the raw thread; an admin sees everything.
Writes go to the workflow as updates, whose validators have the last word; the activities that
record decisions and dispute resolutions write the audit log in the same transaction, so the
CLI's and the pages' decisions are audited alike, and once.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from domain.coaching import LeadDecision
from domain.lifecycle import (
    Acknowledge,
    AnswerSurvey,
    CompleteTask,
    Dispute,
    ResolveDispute,
    ResponseView,
    SurveyView,
    TaskView,
)
from domain.visibility import Condition, visibility
from opportunities.catalog import Catalog
from store.assessments import queue_filters, queue_page
from store.models import AssessmentRow, LearningTaskRow, SurveyRow
from store.users import UserError, resolve_actor
from web.auth import User
from web.context import WebContext
from web.errors import problem, send_update
from workflows.coaching import CoachingWorkflow


def _sql(condition: Condition) -> ColumnElement[bool]:
    """A condition of the rule on AssessmentRow."""
    column = getattr(AssessmentRow, condition.column)
    if condition.values is None:
        return column.is_not(None)
    values = [v for v in condition.values if v is not None]
    tests = [column.is_(None)] if None in condition.values else []
    if values:
        tests.append(column == values[0] if len(values) == 1 else column.in_(values))
    return or_(false(), *tests)


def visible(user: User, catalog: Catalog) -> ColumnElement[bool]:
    """The SQL condition for the assessments `user` may read: `domain.visibility`'s rule, the
    one manual assessments follow too."""
    rule = visibility(user.actor, catalog.opportunities.values())
    return or_(*(and_(true(), *map(_sql, alternative)) for alternative in rule.alternatives))


async def list_visible(
    session: AsyncSession,
    user: User,
    catalog: Catalog,
    status: list[str] | None = None,
    agent: str | None = None,
    opportunity: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[AssessmentRow]:
    where = [visible(user, catalog), *queue_filters(status, opportunity, agent)]
    return await queue_page(session, where, limit, offset)


async def count_visible(
    session: AsyncSession,
    user: User,
    catalog: Catalog,
    status: list[str] | None = None,
    agent: str | None = None,
    opportunity: str | None = None,
) -> int:
    """How many assessments `list_visible` pages through."""
    where = [visible(user, catalog), *queue_filters(status, opportunity, agent)]
    query = select(func.count()).select_from(AssessmentRow).where(*where)
    return (await session.execute(query)).scalar_one()


async def visible_assessment(
    session: AsyncSession, user: User, catalog: Catalog, assessment_id: int
) -> AssessmentRow:
    """The assessment, or 404 whether it is missing or hidden from this user: a trainee
    probing ids learns nothing."""
    row = (
        await session.execute(
            select(AssessmentRow).where(AssessmentRow.id == assessment_id, visible(user, catalog))
        )
    ).scalar_one_or_none()
    if row is None:
        raise problem(404, "NotFound", f"id: no assessment {assessment_id}")
    return row


async def _resolve(session: AsyncSession, name: str, field: str):
    try:
        return await resolve_actor(session, name)
    except UserError as exc:
        raise problem(422, "InvalidRequest", f"{field}: {exc}") from None


async def decide(
    context: WebContext,
    user: User,
    assessment_id: int,
    decision: dict[str, Any],
    update_id: str | None = None,
) -> Any:
    """Send the lead's decision. `decision` holds action, reason, scores, causes, note and, for
    a reassignment, `to` (a user name). A score that is NaN or infinite is a 422 naming it, as
    the API's schema answers; sent on, it would fail the update's decoding."""
    async with context.sessions() as session:
        row = await visible_assessment(session, user, context.catalog, assessment_id)
        to = decision.get("to")
        to_actor = await _resolve(session, to, "to") if to else None
    scores = decision.get("scores") or {}
    for criterion, score in scores.items():
        if not math.isfinite(score):
            raise problem(422, "InvalidDecision", f"scores.{criterion}: must be a finite number")
    payload = LeadDecision(
        action=decision.get("action") or "",
        by=user.actor,
        reason=decision.get("reason"),
        scores=scores,
        causes=decision.get("causes") or {},
        note=decision.get("note"),
        to=to_actor,
    )
    return await send_update(context.client, row, CoachingWorkflow.decide, payload, update_id)


async def _row_of(session: AsyncSession, model: Any, row_id: int, label: str) -> Any:
    row = await session.get(model, row_id)
    if row is None:
        raise problem(404, "NotFound", f"id: no {label} {row_id}")
    return row


async def _assessment_for(session: AsyncSession, assessment_id: int) -> AssessmentRow:
    return await _row_of(session, AssessmentRow, assessment_id, "assessment")


async def _owned(
    session: AsyncSession,
    user: User,
    catalog: Catalog,
    model: Any,
    row_id: int,
    label: str,
    owner: str,
) -> Any:
    """The caller's own task or survey. Another's is 404, as a missing one, unless the caller
    may see its assessment; then 403."""
    row = await session.get(model, row_id)
    seen = row is not None and (
        getattr(row, owner) == user.name
        or await session.scalar(
            select(AssessmentRow.id).where(
                AssessmentRow.id == row.assessment_id, visible(user, catalog)
            )
        )
    )
    if not seen:
        raise problem(404, "NotFound", f"id: no {label} {row_id}")
    if getattr(row, owner) != user.name:
        raise problem(403, "Forbidden", f"by: {label} {row_id} is someone else's")
    return row


async def owned_survey(
    session: AsyncSession, user: User, catalog: Catalog, survey_id: int
) -> SurveyRow:
    return await _owned(session, user, catalog, SurveyRow, survey_id, "survey", "respondent_id")


async def complete_task(context: WebContext, user: User, task_id: int) -> TaskView:
    async with context.sessions() as session:
        task = await _owned(
            session, user, context.catalog, LearningTaskRow, task_id, "task", "trainee_id"
        )
        row = await _assessment_for(session, task.assessment_id)
    return await send_update(
        context.client,
        row,
        CoachingWorkflow.complete_task,
        CompleteTask(by=user.actor, task_id=task_id),
    )


async def answer_survey(
    context: WebContext, user: User, survey_id: int, answers: dict[str, Any]
) -> SurveyView:
    async with context.sessions() as session:
        survey = await owned_survey(session, user, context.catalog, survey_id)
        row = await _assessment_for(session, survey.assessment_id)
    return await send_update(
        context.client,
        row,
        CoachingWorkflow.answer_survey,
        AnswerSurvey(by=user.actor, survey_id=survey_id, answers=answers),
    )


async def respond(
    context: WebContext, user: User, assessment_id: int, reason: str | None = None
) -> ResponseView:
    """Acknowledge the coaching, or dispute it when a reason is given."""
    async with context.sessions() as session:
        row = await visible_assessment(session, user, context.catalog, assessment_id)
    if reason is None:
        return await send_update(
            context.client, row, CoachingWorkflow.acknowledge, Acknowledge(by=user.actor)
        )
    return await send_update(
        context.client, row, CoachingWorkflow.dispute, Dispute(by=user.actor, reason=reason)
    )


async def resolve_dispute(
    context: WebContext, user: User, assessment_id: int, resolution: str, note: str | None
) -> ResponseView:
    async with context.sessions() as session:
        row = await visible_assessment(session, user, context.catalog, assessment_id)
    return await send_update(
        context.client,
        row,
        CoachingWorkflow.resolve_dispute,
        ResolveDispute(by=user.actor, resolution=resolution, note=note),
    )
