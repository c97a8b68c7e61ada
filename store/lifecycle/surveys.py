"""Coaching surveys: sent, answered once by their respondent, or expired."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.lifecycle.common import (
    LifecycleError,
    SurveyPlan,
    SurveyStatus,
    _assessment,
    _aware,
    _existing,
    _insert_or_read,
    _rows,
)
from store.measurements import append_measurement, append_measurements, measurement
from store.models import (
    AssessmentRow,
    SurveyRow,
)


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


async def send_surveys(
    session: AsyncSession, assessment_id: int, surveys: list[SurveyPlan], sent_at: datetime
) -> list[SurveyRow]:
    """Send one survey per audience, once. Re-sending returns the rows already there."""
    assessment = await _assessment(session, assessment_id)
    rows, events = await send_surveys_of(session, assessment, surveys, sent_at)
    await append_measurements(session, events)
    return rows


async def send_surveys_of(
    session: AsyncSession, assessment: AssessmentRow, surveys: list[SurveyPlan], sent_at: datetime
) -> tuple[list[SurveyRow], list[dict[str, Any]]]:
    """`send_surveys` for a loaded assessment, in one statement (two on a retry); the measurement
    events of the sending are returned for the caller to append with its own."""
    _aware(sent_at)
    audiences = [s.audience for s in surveys]
    if len(set(audiences)) != len(audiences):
        raise LifecycleError(f"assessment {assessment.id}: one survey per audience")
    for plan in surveys:
        if plan.expires_at <= sent_at:
            raise LifecycleError(f"the {plan.audience} survey expires before it is sent")
    existing, _ = await _insert_or_read(
        session,
        SurveyRow,
        assessment.id,
        [
            {
                "assessment_id": assessment.id,
                "template_id": plan.template_id,
                "template_version": plan.template_version,
                "audience": plan.audience,
                "respondent_id": plan.respondent_id,
                "status": "open",
                "sent_at": sent_at,
                "expires_at": plan.expires_at,
            }
            for plan in surveys
        ],
        ["assessment_id", "audience"],
    )
    # A survey already sent to someone else fails the caller's whole transaction.
    by_audience = {row.audience: row for row in existing}
    for plan in surveys:
        if by_audience[plan.audience].respondent_id != plan.respondent_id:
            raise LifecycleError(
                f"assessment {assessment.id}: the {plan.audience} survey went to another respondent"
            )
    rows = [by_audience[a] for a in audiences]
    events = [
        measurement(
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
        for row in rows
    ]
    return rows, events


async def answer_survey(
    session: AsyncSession, survey_id: int, respondent_id: str, answers: dict, at: datetime
) -> SurveyRow:
    """Record the respondent's answers to an open survey. The same answers again change nothing;
    different answers to an answered survey are refused."""
    _aware(at)
    normalized = _normalized(answers)
    survey = await _existing(session, SurveyRow, survey_id, "survey")
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
        survey = await _existing(session, SurveyRow, survey_id, "survey")
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


async def surveys_for(
    session: AsyncSession, respondent_id: str, status: SurveyStatus | None = None
) -> list[SurveyRow]:
    query = select(SurveyRow).where(SurveyRow.respondent_id == respondent_id)
    if status is not None:
        query = query.where(SurveyRow.status == status)
    return await _rows(session, query.order_by(SurveyRow.expires_at, SurveyRow.id))
