"""The record of coaching workflows started, which enforces each opportunity's dedupe window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import WorkflowStartRow
from store.upsert import insert_ignore


@dataclass(frozen=True)
class StartPlan:
    workflow_id: str
    generation: int
    duplicate_of: str | None = None


async def plan_start(
    session: AsyncSession,
    dedupe_key: str,
    source: str,
    event_id: str,
    anchor_at: datetime,
    within: timedelta,
) -> StartPlan:
    """The workflow id to start, or the earlier workflow this event duplicates.

    The first workflow for a key has the key as its id; once the window has passed, the
    next one gets `#2`, `#3`… A replayed event always finds its own earlier start.
    """
    rows = (
        (
            await session.execute(
                select(WorkflowStartRow)
                .where(WorkflowStartRow.dedupe_key == dedupe_key)
                .order_by(WorkflowStartRow.generation.desc())
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        if row.source == source and row.event_id == event_id:
            return StartPlan(row.workflow_id, row.generation, duplicate_of=row.workflow_id)
    if rows:
        latest = rows[0]
        if abs(anchor_at - latest.anchor_at) < within:
            return StartPlan(latest.workflow_id, latest.generation, duplicate_of=latest.workflow_id)
        generation = latest.generation + 1
        return StartPlan(f"{dedupe_key}#{generation}", generation)
    return StartPlan(dedupe_key, 1)


async def record_start(
    session: AsyncSession,
    plan: StartPlan,
    dedupe_key: str,
    opportunity_id: str,
    source: str,
    event_id: str,
    anchor_at: datetime,
) -> None:
    await insert_ignore(
        session,
        WorkflowStartRow,
        {
            "workflow_id": plan.workflow_id,
            "dedupe_key": dedupe_key,
            "generation": plan.generation,
            "opportunity_id": opportunity_id,
            "source": source,
            "event_id": event_id,
            "anchor_at": anchor_at,
            "started_at": datetime.now(UTC),
        },
        ["workflow_id"],
    )
