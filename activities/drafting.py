"""Gather the evidence from the store and draft the assessment; persist the draft."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.assessment import Draft
from domain.coaching import DraftRequest, SavedAssessment, SaveDraftRequest
from domain.config import DRAFT_ASSESSMENT, SAVE_DRAFT
from redaction import redact_ticket
from rubrics.case import Case, facts_for
from rubrics.scoring import EvidenceMismatch, draft
from store.assessments import save_draft
from store.tickets import load_ticket


class DraftingActivities:
    def __init__(self, sessions: async_sessionmaker):
        self.sessions = sessions

    @activity.defn(name=DRAFT_ASSESSMENT)
    async def draft_assessment(self, req: DraftRequest) -> Draft:
        async with self.sessions() as session:
            ticket = await load_ticket(session, req.event.source, req.event.ticket_id)
        if ticket is None:
            reason = "evidence missing: the ticket is not in the store"
            return Draft(
                status="stopped",
                stop_reason=reason,
                flags=["evidence_missing"],
                priority=2,
                summary=f"Stopped: {reason}.",
            )
        case = Case(
            ticket=redact_ticket(ticket),
            event_type=req.event.type,
            event_id=req.event.event_id,
            change=req.event.change,
            facts=facts_for(ticket),
        )
        try:
            return draft(req.rubric, case)
        except EvidenceMismatch as exc:
            raise ApplicationError(str(exc), type="EvidenceMismatch", non_retryable=True) from None

    @activity.defn(name=SAVE_DRAFT)
    async def save_draft(self, req: SaveDraftRequest) -> SavedAssessment:
        async with self.sessions() as session, session.begin():
            return await save_draft(session, req)
