"""The coaching lifecycle after approval: learning tasks, skills, surveys, the trainee's response.

Every write is idempotent, because the workflow activities that call these functions retry: a
repeated call changes nothing and returns the same rows. State changes are conditional updates
(`... WHERE status = 'open'`), inserts are `INSERT … ON CONFLICT DO NOTHING`, and each state
change appends a measurement event keyed by the row it concerns, so a retry cannot count twice.
Impossible transitions raise `LifecycleError`, whose messages carry ids only, never names or
free text. No commits here: callers own the transaction and roll back when a call raises.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.measurements import append_measurement
from store.models import (
    AssessmentRow,
    CoachingResponseRow,
    DecisionRow,
    LearningTaskRow,
    SkillRow,
    SurveyRow,
)
from store.upsert import insert_ignore

TaskStatus = Literal["open", "completed", "incomplete"]
SurveyStatus = Literal["open", "answered", "expired"]
Audience = Literal["coach", "trainee"]
Resolution = Literal["upheld", "amended"]


class LifecycleError(ValueError):
    """A transition that cannot happen. The message names ids and states only."""


class TaskPlan(BaseModel):
    """One learning task from the opportunity definition."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1)
    skill: str | None = Field(default=None, min_length=1, max_length=200)
    due_at: AwareDatetime


class SurveyPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    template_id: str = Field(min_length=1, max_length=100)
    template_version: int = Field(ge=1)
    audience: Audience
    respondent_id: str = Field(min_length=1, max_length=200)
    expires_at: AwareDatetime


@dataclass(frozen=True)
class Lifecycle:
    tasks: list[LearningTaskRow]
    surveys: list[SurveyRow]
    response: CoachingResponseRow | None


# --- helpers -------------------------------------------------------------------------------


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise LifecycleError("timestamps must carry a timezone")
    return at


async def _assessment(session: AsyncSession, assessment_id: int) -> AssessmentRow:
    row = (
        await session.execute(select(AssessmentRow).where(AssessmentRow.id == assessment_id))
    ).scalar_one_or_none()
    if row is None:
        raise LifecycleError(f"assessment {assessment_id} not found")
    return row


def _check_trainee(assessment: AssessmentRow, trainee_id: str) -> None:
    if assessment.agent_id is not None and assessment.agent_id != trainee_id:
        raise LifecycleError(f"assessment {assessment.id} belongs to another trainee")


async def _fresh(session: AsyncSession, model: Any, row_id: int) -> Any:
    """Reload a row past the session's identity map (after a bulk UPDATE)."""
    return (
        await session.execute(
            select(model).where(model.id == row_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def _task(session: AsyncSession, task_id: int) -> LearningTaskRow:
    row = await _fresh(session, LearningTaskRow, task_id)
    if row is None:
        raise LifecycleError(f"task {task_id} not found")
    return row


async def _survey(session: AsyncSession, survey_id: int) -> SurveyRow:
    row = await _fresh(session, SurveyRow, survey_id)
    if row is None:
        raise LifecycleError(f"survey {survey_id} not found")
    return row


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    return list(
        (await session.execute(query.execution_options(populate_existing=True))).scalars().all()
    )


async def _response(session: AsyncSession, assessment_id: int) -> CoachingResponseRow | None:
    return (
        await session.execute(
            select(CoachingResponseRow)
            .where(CoachingResponseRow.assessment_id == assessment_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


def _normalized(answers: dict) -> dict:
    """Answers as the JSON column gives them back, so a retry compares equal."""
    if not isinstance(answers, dict) or not answers:
        raise LifecycleError("answers must be a non-empty mapping")
    try:
        return json.loads(json.dumps(answers, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise LifecycleError("answers must be plain JSON values") from exc


def _numeric(answers: dict) -> dict[str, float | int]:
    """The answers that are numbers: ratings, never free text, for the measurement event."""
    return {
        str(k): v
        for k, v in answers.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }


# --- learning tasks ------------------------------------------------------------------------


async def assign_tasks(
    session: AsyncSession,
    assessment_id: int,
    trainee_id: str,
    tasks: list[TaskPlan],
    assigned_at: datetime,
) -> list[LearningTaskRow]:
    """Assign the opportunity's tasks once. Re-assigning returns the rows already there."""
    _aware(assigned_at)
    assessment = await _assessment(session, assessment_id)
    _check_trainee(assessment, trainee_id)
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise LifecycleError(f"assessment {assessment_id}: task keys repeat")
    for plan in tasks:
        if plan.due_at < assigned_at:
            raise LifecycleError(f"task {plan.key!r} is due before it is assigned")
    existing = await _rows(
        session, select(LearningTaskRow).where(LearningTaskRow.assessment_id == assessment_id)
    )
    if any(row.trainee_id != trainee_id for row in existing):
        raise LifecycleError(f"assessment {assessment_id} tasks belong to another trainee")
    for plan in tasks:
        await insert_ignore(
            session,
            LearningTaskRow,
            {
                "assessment_id": assessment_id,
                "task_key": plan.key,
                "title": plan.title,
                "skill": plan.skill,
                "trainee_id": trainee_id,
                "status": "open",
                "assigned_at": assigned_at,
                "due_at": plan.due_at,
            },
            ["assessment_id", "task_key"],
        )
    by_key = {
        row.task_key: row
        for row in await _rows(
            session,
            select(LearningTaskRow).where(
                LearningTaskRow.assessment_id == assessment_id, LearningTaskRow.task_key.in_(keys)
            ),
        )
    }
    rows = [by_key[key] for key in keys]
    for row in rows:
        await append_measurement(
            session,
            kind="task_assigned",
            occurred_at=row.assigned_at,
            key=f"task:{row.id}",
            assessment=assessment,
            data={"task_key": row.task_key, "skill": row.skill, "due_at": row.due_at.isoformat()},
        )
    return rows


async def _skill_for(session: AsyncSession, task: LearningTaskRow) -> SkillRow | None:
    if task.skill is None:
        return None
    return (
        await session.execute(
            select(SkillRow)
            .where(
                SkillRow.trainee_id == task.trainee_id,
                SkillRow.skill == task.skill,
                SkillRow.assessment_id == task.assessment_id,
            )
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def complete_task(
    session: AsyncSession, task_id: int, trainee_id: str, at: datetime
) -> tuple[LearningTaskRow, SkillRow | None]:
    """Complete an open task and award its skill. Completing it again returns the same rows.

    A skill is held once per (trainee, skill, assessment): when two tasks of one assessment teach
    the same skill, the first completion awards it and both return that row.
    """
    _aware(at)
    task = await _task(session, task_id)
    if task.trainee_id != trainee_id:
        raise LifecycleError(f"task {task_id} belongs to another trainee")
    if task.status == "open":
        await session.execute(
            update(LearningTaskRow)
            .where(LearningTaskRow.id == task_id, LearningTaskRow.status == "open")
            .values(status="completed", completed_at=at, closed_at=at)
            .execution_options(synchronize_session=False)
        )
        task = await _task(session, task_id)
    if task.status != "completed":
        raise LifecycleError(f"task {task_id} is {task.status} and can no longer be completed")
    completed_at = task.completed_at or at
    assessment = await _assessment(session, task.assessment_id)
    if task.skill is not None:
        await insert_ignore(
            session,
            SkillRow,
            {
                "trainee_id": task.trainee_id,
                "skill": task.skill,
                "awarded_at": completed_at,
                "assessment_id": task.assessment_id,
                "task_id": task.id,
            },
            ["trainee_id", "skill", "assessment_id"],
        )
    skill = await _skill_for(session, task)
    await append_measurement(
        session,
        kind="task_completed",
        occurred_at=completed_at,
        key=f"task:{task.id}",
        assessment=assessment,
        data={
            "task_key": task.task_key,
            "skill": task.skill,
            "on_time": completed_at <= task.due_at,
            "days_to_complete": round((completed_at - task.assigned_at).total_seconds() / 86400, 2),
        },
    )
    if skill is not None:
        await append_measurement(
            session,
            kind="skill_awarded",
            occurred_at=skill.awarded_at,
            key=f"skill:{skill.id}",
            assessment=assessment,
            data={"skill": skill.skill, "task_key": task.task_key},
        )
    return task, skill


async def remind_task(session: AsyncSession, task_id: int, at: datetime) -> LearningTaskRow:
    """Remind the trainee of an open task, once; a repeat returns the task unchanged."""
    _aware(at)
    task = await _task(session, task_id)
    if task.reminded_at is None:
        if task.status != "open":
            raise LifecycleError(f"task {task_id} is {task.status}; there is nothing to remind")
        await session.execute(
            update(LearningTaskRow)
            .where(
                LearningTaskRow.id == task_id,
                LearningTaskRow.status == "open",
                LearningTaskRow.reminded_at.is_(None),
            )
            .values(reminded_at=at)
            .execution_options(synchronize_session=False)
        )
        task = await _task(session, task_id)
        if task.reminded_at is None:
            raise LifecycleError(f"task {task_id} is {task.status}; there is nothing to remind")
    assessment = await _assessment(session, task.assessment_id)
    await append_measurement(
        session,
        kind="task_reminded",
        occurred_at=task.reminded_at,
        key=f"task:{task.id}",
        assessment=assessment,
        data={"task_key": task.task_key},
    )
    return task


async def close_overdue_tasks(
    session: AsyncSession, assessment_id: int, at: datetime
) -> list[LearningTaskRow]:
    """Mark open tasks due by `at` incomplete. Returns all of the assessment's incomplete tasks,
    so a retry returns the same list."""
    _aware(at)
    assessment = await _assessment(session, assessment_id)
    await session.execute(
        update(LearningTaskRow)
        .where(
            LearningTaskRow.assessment_id == assessment_id,
            LearningTaskRow.status == "open",
            LearningTaskRow.due_at <= at,
        )
        .values(status="incomplete", closed_at=at)
        .execution_options(synchronize_session=False)
    )
    rows = await _rows(
        session,
        select(LearningTaskRow)
        .where(
            LearningTaskRow.assessment_id == assessment_id,
            LearningTaskRow.status == "incomplete",
        )
        .order_by(LearningTaskRow.id),
    )
    for row in rows:
        await append_measurement(
            session,
            kind="task_incomplete",
            occurred_at=row.closed_at or at,
            key=f"task:{row.id}",
            assessment=assessment,
            data={"task_key": row.task_key, "skill": row.skill},
        )
    return rows


# --- surveys -------------------------------------------------------------------------------


async def send_surveys(
    session: AsyncSession, assessment_id: int, surveys: list[SurveyPlan], sent_at: datetime
) -> list[SurveyRow]:
    """Send one survey per audience, once. Re-sending returns the rows already there."""
    _aware(sent_at)
    assessment = await _assessment(session, assessment_id)
    audiences = [s.audience for s in surveys]
    if len(set(audiences)) != len(audiences):
        raise LifecycleError(f"assessment {assessment_id}: one survey per audience")
    for plan in surveys:
        if plan.expires_at <= sent_at:
            raise LifecycleError(f"the {plan.audience} survey expires before it is sent")
    existing = {
        row.audience: row
        for row in await _rows(
            session, select(SurveyRow).where(SurveyRow.assessment_id == assessment_id)
        )
    }
    for plan in surveys:
        row = existing.get(plan.audience)
        if row is not None and row.respondent_id != plan.respondent_id:
            raise LifecycleError(
                f"assessment {assessment_id}: the {plan.audience} survey went to another respondent"
            )
    for plan in surveys:
        await insert_ignore(
            session,
            SurveyRow,
            {
                "assessment_id": assessment_id,
                "template_id": plan.template_id,
                "template_version": plan.template_version,
                "audience": plan.audience,
                "respondent_id": plan.respondent_id,
                "status": "open",
                "sent_at": sent_at,
                "expires_at": plan.expires_at,
            },
            ["assessment_id", "audience"],
        )
    by_audience = {
        row.audience: row
        for row in await _rows(
            session, select(SurveyRow).where(SurveyRow.assessment_id == assessment_id)
        )
    }
    rows = [by_audience[a] for a in audiences]
    for row in rows:
        await append_measurement(
            session,
            kind="survey_sent",
            occurred_at=row.sent_at,
            key=f"survey:{row.id}",
            assessment=assessment,
            data={
                "audience": row.audience,
                "template_id": row.template_id,
                "template_version": row.template_version,
            },
        )
    return rows


async def answer_survey(
    session: AsyncSession, survey_id: int, respondent_id: str, answers: dict, at: datetime
) -> SurveyRow:
    """Record the respondent's answers to an open survey. The same answers again change nothing;
    different answers to an answered survey are refused."""
    _aware(at)
    normalized = _normalized(answers)
    survey = await _survey(session, survey_id)
    if survey.respondent_id != respondent_id:
        raise LifecycleError(f"survey {survey_id} belongs to another respondent")
    if survey.status == "open":
        if at > survey.expires_at:
            raise LifecycleError(f"survey {survey_id} expired before it was answered")
        await session.execute(
            update(SurveyRow)
            .where(SurveyRow.id == survey_id, SurveyRow.status == "open")
            .values(status="answered", answered_at=at, answers=normalized)
            .execution_options(synchronize_session=False)
        )
        survey = await _survey(session, survey_id)
    if survey.status != "answered":
        raise LifecycleError(f"survey {survey_id} is {survey.status} and can no longer be answered")
    if survey.answers != normalized:
        raise LifecycleError(f"survey {survey_id} was already answered")
    assessment = await _assessment(session, survey.assessment_id)
    await append_measurement(
        session,
        kind="survey_answered",
        occurred_at=survey.answered_at or at,
        key=f"survey:{survey.id}",
        assessment=assessment,
        data={
            "audience": survey.audience,
            "template_id": survey.template_id,
            "template_version": survey.template_version,
            "answers": _numeric(survey.answers or {}),
        },
    )
    return survey


async def expire_surveys(
    session: AsyncSession, assessment_id: int, at: datetime
) -> list[SurveyRow]:
    """Expire open surveys whose deadline is at or before `at`. Returns all of the assessment's
    expired surveys, so a retry returns the same list. The event is dated at the deadline."""
    _aware(at)
    assessment = await _assessment(session, assessment_id)
    await session.execute(
        update(SurveyRow)
        .where(
            SurveyRow.assessment_id == assessment_id,
            SurveyRow.status == "open",
            SurveyRow.expires_at <= at,
        )
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    rows = await _rows(
        session,
        select(SurveyRow)
        .where(SurveyRow.assessment_id == assessment_id, SurveyRow.status == "expired")
        .order_by(SurveyRow.id),
    )
    for row in rows:
        await append_measurement(
            session,
            kind="survey_expired",
            occurred_at=row.expires_at,
            key=f"survey:{row.id}",
            assessment=assessment,
            data={"audience": row.audience, "template_id": row.template_id},
        )
    return rows


# --- the trainee's response ----------------------------------------------------------------


async def _respond(
    session: AsyncSession,
    assessment_id: int,
    trainee_id: str,
    kind: Literal["acknowledged", "disputed"],
    reason: str | None,
    at: datetime,
) -> CoachingResponseRow:
    _aware(at)
    assessment = await _assessment(session, assessment_id)
    _check_trainee(assessment, trainee_id)
    await insert_ignore(
        session,
        CoachingResponseRow,
        {
            "assessment_id": assessment_id,
            "trainee_id": trainee_id,
            "kind": kind,
            "reason": reason,
            "at": at,
        },
        ["assessment_id"],
    )
    response = await _response(session, assessment_id)
    assert response is not None
    if response.trainee_id != trainee_id:
        raise LifecycleError(f"assessment {assessment_id} belongs to another trainee")
    if response.kind != kind or response.reason != reason:
        raise LifecycleError(f"assessment {assessment_id} coaching was already {response.kind}")
    await append_measurement(
        session,
        kind=kind,
        occurred_at=response.at,
        key=f"response:{response.id}",
        assessment=assessment,
        data={},
    )
    return response


async def acknowledge(
    session: AsyncSession, assessment_id: int, trainee_id: str, at: datetime
) -> CoachingResponseRow:
    """The trainee acknowledges the coaching note, once."""
    return await _respond(session, assessment_id, trainee_id, "acknowledged", None, at)


async def dispute(
    session: AsyncSession, assessment_id: int, trainee_id: str, reason: str, at: datetime
) -> CoachingResponseRow:
    """The trainee disputes the coaching note with a reason, once. The reason stays in this
    table; the measurement event carries no free text."""
    reason = (reason or "").strip()
    if not reason:
        raise LifecycleError(f"assessment {assessment_id}: a dispute needs a reason")
    return await _respond(session, assessment_id, trainee_id, "disputed", reason, at)


async def resolve_dispute(
    session: AsyncSession,
    assessment_id: int,
    lead_id: str,
    resolution: Resolution,
    note: str | None,
    at: datetime,
) -> CoachingResponseRow:
    """Another lead upholds or amends a disputed note, once. The same resolution again returns
    the row; a second, different resolution is refused."""
    _aware(at)
    if resolution not in ("upheld", "amended"):
        raise LifecycleError(f"unknown resolution {resolution!r}")
    note = (note or "").strip() or None
    if resolution == "amended" and note is None:
        raise LifecycleError(f"assessment {assessment_id}: an amendment needs a note")
    assessment = await _assessment(session, assessment_id)
    response = await _response(session, assessment_id)
    if response is None or response.kind != "disputed":
        raise LifecycleError(f"assessment {assessment_id} has no dispute to resolve")
    if lead_id == response.trainee_id:
        raise LifecycleError(f"assessment {assessment_id}: the trainee cannot resolve a dispute")
    deciders = set(
        (
            await session.execute(
                select(DecisionRow.lead).where(DecisionRow.assessment_id == assessment_id)
            )
        ).scalars()
    )
    if lead_id in deciders:
        raise LifecycleError(
            f"assessment {assessment_id}: the dispute goes to a lead other than the one who decided"
        )
    if response.resolution is None:
        await session.execute(
            update(CoachingResponseRow)
            .where(CoachingResponseRow.id == response.id, CoachingResponseRow.resolution.is_(None))
            .values(
                resolution=resolution, resolved_by=lead_id, resolved_at=at, resolution_note=note
            )
            .execution_options(synchronize_session=False)
        )
        response = await _response(session, assessment_id)
        assert response is not None
    if (response.resolution, response.resolved_by, response.resolution_note) != (
        resolution,
        lead_id,
        note,
    ):
        raise LifecycleError(f"assessment {assessment_id} dispute was already resolved")
    await append_measurement(
        session,
        kind=f"dispute_{resolution}",
        occurred_at=response.resolved_at or at,
        key=f"response:{response.id}",
        assessment=assessment,
        data={
            "lead": lead_id,
            "days_to_resolve": round(
                ((response.resolved_at or at) - response.at).total_seconds() / 86400, 2
            ),
        },
    )
    return response


# --- read side -----------------------------------------------------------------------------


async def tasks_for(
    session: AsyncSession, trainee_id: str, status: TaskStatus | None = None
) -> list[LearningTaskRow]:
    query = select(LearningTaskRow).where(LearningTaskRow.trainee_id == trainee_id)
    if status is not None:
        query = query.where(LearningTaskRow.status == status)
    return await _rows(session, query.order_by(LearningTaskRow.due_at, LearningTaskRow.id))


async def surveys_for(
    session: AsyncSession, respondent_id: str, status: SurveyStatus | None = None
) -> list[SurveyRow]:
    query = select(SurveyRow).where(SurveyRow.respondent_id == respondent_id)
    if status is not None:
        query = query.where(SurveyRow.status == status)
    return await _rows(session, query.order_by(SurveyRow.expires_at, SurveyRow.id))


async def skills_of(session: AsyncSession, trainee_id: str) -> list[SkillRow]:
    return await _rows(
        session,
        select(SkillRow)
        .where(SkillRow.trainee_id == trainee_id)
        .order_by(SkillRow.awarded_at, SkillRow.id),
    )


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
