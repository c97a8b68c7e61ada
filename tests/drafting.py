"""Draft a canonical event exactly as the drafting activity does, without Temporal or a store;
`stored_save_request` stores the ticket and drafts it through the activity itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.drafting import DraftingActivities, build_case
from domain.assessment import Draft
from domain.coaching import DraftRequest, EventRef, SaveDraftRequest
from domain.events import TicketEvent
from opportunities.catalog import Catalog
from rubrics.case import Case
from rubrics.notes import render_notes
from rubrics.scoring import draft
from store.tickets import upsert_event


def request_for(event: TicketEvent, catalog: Catalog, opportunity_id: str) -> DraftRequest:
    opportunity = catalog.opportunities[opportunity_id]
    return DraftRequest(
        workflow_id="w",
        opportunity=opportunity,
        rubric=catalog.rubric_for(opportunity),
        event=EventRef.from_event(event),
    )


def case_for(
    event: TicketEvent,
    catalog: Catalog,
    opportunity_id: str = "low-csat",
    history: tuple[str, ...] = (),
) -> Case:
    return build_case(request_for(event, catalog, opportunity_id), event.ticket, history)


def draft_event(
    event: TicketEvent,
    catalog: Catalog,
    opportunity_id: str = "low-csat",
    history: tuple[str, ...] = (),
) -> Draft:
    req = request_for(event, catalog, opportunity_id)
    drafted = draft(req.rubric, build_case(req, event.ticket, history))
    return render_notes(
        drafted, req.rubric, req.opportunity, f"{event.source}/{event.ticket.id}", event.type
    )


async def stored_save_request(
    sessions: async_sessionmaker, catalog: Catalog, event: TicketEvent, drafted_at: datetime
) -> SaveDraftRequest:
    """The `save_draft` request for `event` under low-csat, its ticket stored and drafted."""
    async with sessions() as session, session.begin():
        await upsert_event(session, event)
    req = request_for(event, catalog, "low-csat")
    drafted = await ActivityEnvironment().run(DraftingActivities(sessions).draft_assessment, req)
    return SaveDraftRequest(**req.model_dump(), draft=drafted, drafted_at=drafted_at)
