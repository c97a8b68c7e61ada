"""Manual assessments: a lead opens one for a stored ticket against any approved rubric.

The same CoachingWorkflow runs, started by the lead instead of a trigger. Its opportunity is
either one the lead names (for its review SLA and learning tasks) or a plain manual one.

A lead may open one only where they could then see it, by the queue's own rule
(`domain.visibility`, which `web.actions.visible` reads as SQL): the ticket's agent is of a
team they lead or of no known team, or the opportunity the assessment will have (the one they
name) is reviewed by, or escalates to, one of their reviewer groups. Any other ticket is
refused exactly as a missing one (TicketNotFound), so no lead can learn which ids exist.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from domain.coaching import MANUAL_EVENT, CoachingInput, EventRef
from domain.definitions import Opportunity
from domain.events import Ticket
from domain.people import Actor
from domain.visibility import visibility
from opportunities.catalog import Catalog
from store.teams import directory_team
from store.tickets import load_ticket
from workflows.coaching import CoachingWorkflow


class ManualAssessmentError(ValueError):
    pass


class TicketNotFound(ManualAssessmentError):
    """The ticket is not stored, or `by` could not see its assessment: the same refusal."""

    def __init__(self, source: str, ticket_id: str) -> None:
        super().__init__(f"no stored ticket {source}/{ticket_id}")


def _opportunity(catalog: Catalog, rubric_ref: str, opportunity_id: str | None) -> Opportunity:
    if opportunity_id is None:
        return Opportunity(
            id="manual", name="Manual assessment", version=1, on=[MANUAL_EVENT], rubric=rubric_ref
        )
    opportunity = catalog.opportunities.get(opportunity_id)
    if opportunity is None:
        raise ManualAssessmentError(f"no opportunity {opportunity_id!r}")
    return opportunity.model_copy(update={"rubric": rubric_ref})


async def _team(session: AsyncSession, ticket: Ticket) -> str | None:
    """The team the assessment will have: its agent's, from the ticket or the directory."""
    agent = ticket.agent
    if agent is None:
        return None
    return agent.team or await directory_team(session, agent.id)


def _may_see(by: Actor, catalog: Catalog, team: str | None, opportunity: Opportunity) -> bool:
    """Whether `by` could see the assessment once made: of `team`, under `opportunity`, not
    reassigned, not released."""
    assessment = {"team": team, "opportunity_id": opportunity.id}
    return visibility(by, catalog.opportunities.values()).admits(assessment)


async def start_manual_assessment(
    client: Client,
    sessions: async_sessionmaker,
    catalog: Catalog,
    task_queue: str,
    source: str,
    ticket_id: str,
    rubric_ref: str,
    lead: str,
    opportunity_id: str | None = None,
    eager_start: bool = False,
    by: Actor | None = None,
) -> str:
    """Start the workflow and return its id. The ticket must be stored, the rubric approved;
    with `by`, the lead acting, the assessment must be one they could see (else
    TicketNotFound, as for a ticket that is not stored)."""
    try:
        rubric = catalog.approved_rubric(rubric_ref)
    except LookupError as exc:
        raise ManualAssessmentError(str(exc)) from None
    opportunity = _opportunity(catalog, rubric.ref, opportunity_id)
    async with sessions() as session:
        ticket = await load_ticket(session, source, ticket_id)
        if ticket is None or (
            by is not None and not _may_see(by, catalog, await _team(session, ticket), opportunity)
        ):
            raise TicketNotFound(source, ticket_id)
    request = uuid.uuid4().hex[:12]
    event = EventRef(
        source=source,
        event_id=f"manual-{request}-by-{lead}",
        type=MANUAL_EVENT,
        occurred_at=datetime.now(UTC),
        ticket_id=ticket_id,
    )
    workflow_id = f"coaching/manual/{source}/{ticket_id}/{request}"
    await client.start_workflow(
        CoachingWorkflow.run,
        CoachingInput(
            opportunity=opportunity,
            rubric=rubric,
            event=event,
            surveys=catalog.surveys_for(opportunity),
        ),
        id=workflow_id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        request_eager_start=eager_start,
    )
    return workflow_id
