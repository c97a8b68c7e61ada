"""The trainee's response to a coaching note: acknowledged, or disputed and resolved by a lead."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit import audit
from store.lifecycle.common import (
    LifecycleError,
    Resolution,
    _assessment,
    _aware,
    _check_trainee,
)
from store.measurements import append_measurement
from store.models import (
    AssessmentRow,
    CoachingResponseRow,
    DecisionRow,
)
from store.redacted_text import redacted_for_ticket
from store.upsert import insert_ignore


async def _response(session: AsyncSession, assessment_id: int) -> CoachingResponseRow | None:
    return (
        await session.execute(
            select(CoachingResponseRow)
            .where(CoachingResponseRow.assessment_id == assessment_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


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
    note = await redacted_for_ticket(session, assessment_id, note)
    response = await _response(session, assessment_id)
    if response is None or response.kind != "disputed":
        raise LifecycleError(f"assessment {assessment_id} has no dispute to resolve")
    if lead_id == response.trainee_id:
        raise LifecycleError(f"assessment {assessment_id}: the trainee cannot resolve a dispute")
    # A lead who only reassigned the assessment did not decide it, as the workflow's validator
    # sees it too: they may resolve the dispute.
    deciders = set(
        (
            await session.execute(
                select(DecisionRow.lead).where(
                    DecisionRow.assessment_id == assessment_id, DecisionRow.action != "reassign"
                )
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
        await audit(session, lead_id, f"dispute.{resolution}", f"assessment:{assessment_id}", at=at)
        if resolution == "amended":
            await session.execute(
                update(AssessmentRow)
                .where(AssessmentRow.id == assessment_id)
                .values(coaching_note=note, updated_at=at)
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
