"""A CSAT response that arrives within 30 days after an agent's approved coaching becomes a
measurement event of that coaching, so CSAT recovery can be followed coaching by coaching."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import TicketEvent
from store.measurements import append_measurement
from store.metrics_sql import COACHED, CSAT_DAYS
from store.models import AssessmentRow
from store.models import MeasurementEventRow as M


async def record_csat_after_coaching(session: AsyncSession, event: TicketEvent) -> bool:
    """Append `csat_after_coaching` for a `csat.received` event whose agent was coached
    (approved or overridden) in the 30 days up to it; the latest such coaching is the one
    it follows. Returns whether an event was appended."""
    ticket = event.ticket
    if event.type != "csat.received" or ticket.csat is None or ticket.agent is None:
        return False
    at = event.occurred_at
    found = (
        await session.execute(
            select(AssessmentRow, M.occurred_at)
            .join(AssessmentRow, AssessmentRow.id == M.assessment_id)
            .where(
                M.kind.in_(COACHED),
                M.agent_id == ticket.agent.id,
                M.occurred_at <= at,
                M.occurred_at > at - timedelta(days=CSAT_DAYS),
            )
            .order_by(M.occurred_at.desc(), M.id.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        return False
    coaching, coached_at = found
    csat = ticket.csat
    return await append_measurement(
        session,
        kind="csat_after_coaching",
        occurred_at=at,
        key=f"{event.source}:{event.event_id}",
        assessment=coaching,
        data={
            "score": csat.score,
            "scale": csat.scale,
            "score_5": round(csat.score * 5 / csat.scale, 4),
            "ticket": ticket.id,
            "coached_at": coached_at.isoformat(),
            "days_after": round((at - coached_at).total_seconds() / 86400, 2),
        },
    )
