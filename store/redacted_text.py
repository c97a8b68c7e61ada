"""Free text a lead writes about a ticket, redacted before it is stored where trainees read it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from redaction import redact
from redaction.redactor import agent_names, customer_names
from store.models import AssessmentRow, TicketRow
from store.tickets import load_ticket


async def redacted_for_ticket(
    session: AsyncSession, assessment_id: int, text: str | None
) -> str | None:
    """`text` with the assessed ticket's customer names and any contact, card or id numbers
    replaced by placeholders; None stays None."""
    if text is None or not text.strip():
        return None
    source, external_id = (
        await session.execute(
            select(TicketRow.source, TicketRow.external_id)
            .join(AssessmentRow, AssessmentRow.ticket_id == TicketRow.id)
            .where(AssessmentRow.id == assessment_id)
        )
    ).one()
    ticket = await load_ticket(session, source, external_id)
    if ticket is None:
        return redact(text.strip())
    return redact(text.strip(), customer_names(ticket), keep=agent_names(ticket))
