"""Gather the evidence from the store and draft the assessment; persist the draft.

The trainee's team decides which leads may review. When the event does not name it, the user
directory's team for the trainee does, read in the same transaction as the ticket."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.llm_client import LlmClient
from domain.assessment import Draft, Trainee
from domain.coaching import DraftRequest, SavedAssessment, SaveDraftRequest
from domain.config import DRAFT_ASSESSMENT, SAVE_DRAFT
from domain.definitions import Rubric
from domain.events import Ticket
from redaction import redact_ticket_with_maps
from rubrics.case import Case, facts_for, trainee_of
from rubrics.notes import render_notes
from rubrics.scoring import EvidenceMismatch, draft, trainee
from store.drafts import recent_failures, save_draft
from store.teams import directory_team
from store.tickets import load_ticket
from store.uninterrupted import transaction


def _kb_max_age(req: DraftRequest) -> int:
    ages = [c.check.max_age_days for c in req.rubric.criteria if c.check.kind == "kb_reference"]
    return min(ages) if ages else 180


def build_case(req: DraftRequest, ticket: Ticket, history: tuple[str, ...]) -> Case:
    """The redacted case: drafting never sees the raw thread."""
    trainee_id = trainee_of(ticket, req.event.type, req.event.change)
    redacted, maps = redact_ticket_with_maps(ticket)
    return Case(
        ticket=redacted,
        event_type=req.event.type,
        event_id=req.event.event_id,
        change=req.event.change,
        trainee_id=trainee_id,
        occurred_at=req.event.occurred_at,
        facts=facts_for(redacted, trainee_id, req.event.occurred_at, history, _kb_max_age(req)),
        history=history,
        sources=maps,
    )


def _event_names_team(ticket: Ticket, trainee_id: str) -> bool:
    agent = ticket.agent
    return agent is not None and agent.id == trainee_id and agent.team is not None


def _with_team(trainee: Trainee | None, team: str | None) -> Trainee | None:
    if trainee is None or trainee.team is not None or team is None:
        return trainee
    return trainee.model_copy(update={"team": team})


async def with_llm_verdicts(llm: LlmClient | None, rubric: Rubric, case: Case) -> Case:
    """The case with the model's verdict on each `kind: llm` criterion, when there is a model."""
    criteria = [c for c in rubric.criteria if c.check.kind == "llm"]
    if not criteria or llm is None:
        return case
    outcomes = await asyncio.gather(*(llm.judge(c, case) for c in criteria))
    return replace(case, llm={c.id: o for c, o in zip(criteria, outcomes, strict=True)})


class DraftingActivities:
    def __init__(self, sessions: async_sessionmaker, llm: LlmClient | None = None):
        self.sessions = sessions
        self.llm = llm

    async def _llm_verdicts(self, req: DraftRequest, case: Case) -> Case:
        return await with_llm_verdicts(self.llm, req.rubric, case)

    @activity.defn(name=DRAFT_ASSESSMENT)
    async def draft_assessment(self, req: DraftRequest) -> Draft:
        event = req.event

        async def read(
            session: AsyncSession,
        ) -> tuple[Ticket | None, tuple[str, ...], str | None]:
            ticket = await load_ticket(session, event.source, event.ticket_id)
            trainee_id = trainee_of(ticket, event.type, event.change) if ticket else None
            if not trainee_id:
                return ticket, (), None
            failures = await recent_failures(
                session, trainee_id, event.occurred_at, exclude=req.workflow_id
            )
            team = None
            if not _event_names_team(ticket, trainee_id):
                team = await directory_team(session, trainee_id)
            return ticket, tuple(failures), team

        ticket, history, team = await transaction(self.sessions, read)
        if ticket is None:
            reason = "evidence missing: the ticket is not in the store"
            return Draft(
                status="stopped",
                stop_reason=reason,
                flags=["evidence_missing"],
                priority=2,
                summary=f"Stopped: {reason}.",
            )
        case = await self._llm_verdicts(req, build_case(req, ticket, history))
        try:
            drafted = draft(req.rubric, case)
        except EvidenceMismatch as exc:
            reason = f"draft rejected: {exc}; a lead reviews the ticket itself"
            return Draft(
                status="stopped",
                stop_reason=reason,
                trainee=_with_team(trainee(case), team),
                flags=["evidence_mismatch"],
                priority=3,
                summary=f"Stopped: {reason}.",
            )
        drafted = drafted.model_copy(update={"trainee": _with_team(drafted.trainee, team)})
        return render_notes(
            drafted, req.rubric, req.opportunity, f"{event.source}/{event.ticket_id}", event.type
        )

    @activity.defn(name=SAVE_DRAFT)
    async def save_draft(self, req: SaveDraftRequest) -> SavedAssessment:
        return await transaction(self.sessions, lambda session: save_draft(session, req))
