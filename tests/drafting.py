"""Draft a canonical event exactly as the drafting activity does, without Temporal or a store."""

from __future__ import annotations

from activities.drafting import build_case
from domain.assessment import Draft
from domain.coaching import DraftRequest, EventRef
from domain.events import TicketEvent
from opportunities.catalog import Catalog
from rubrics.case import Case
from rubrics.notes import render_notes
from rubrics.scoring import draft


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
