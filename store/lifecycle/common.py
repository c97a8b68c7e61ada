"""Shared by the lifecycle modules: errors, plans, and small helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.definitions import SurveyAudience
from domain.lifecycle import (  # noqa: F401 (re-exported to the lifecycle modules)
    Resolution,
    SurveyPlan,
    SurveyStatus,
    TaskPlan,
    TaskStatus,
)
from store.models import AssessmentRow
from store.upsert import insert_ignore_returning

Audience = SurveyAudience


class LifecycleError(ValueError):
    """A transition that cannot happen. The message names ids and states only."""


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


async def _existing(session: AsyncSession, model: Any, row_id: int, label: str) -> Any:
    """The row, freshly loaded, or LifecycleError naming what was not found."""
    row = await _fresh(session, model, row_id)
    if row is None:
        raise LifecycleError(f"{label} {row_id} not found")
    return row


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    return list(
        (await session.execute(query.execution_options(populate_existing=True))).scalars().all()
    )


async def _insert_or_read(
    session: AsyncSession, model: Any, assessment_id: int, rows: list[dict], keys: list[str]
) -> tuple[list[Any], bool]:
    """Insert the assessment's `rows` unless there. Returns the rows this call inserted when
    that is all of them, else every row of the assessment read back, and whether it read:
    a retry, or a row already there that the caller must check is its own."""
    inserted = await insert_ignore_returning(session, model, rows, keys)
    if len(inserted) == len(rows):
        return inserted, False
    return await _rows(session, select(model).where(model.assessment_id == assessment_id)), True
