"""Manual assessments: a lead opens one for any stored ticket against any approved rubric.

The same CoachingWorkflow runs, started by the lead instead of a trigger. Its opportunity is
either one the lead names (for its review SLA and learning tasks) or a plain manual one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from domain.coaching import MANUAL_EVENT, CoachingInput, EventRef
from domain.definitions import Opportunity
from opportunities.catalog import Catalog
from store.tickets import load_ticket
from workflows.coaching import CoachingWorkflow


class ManualAssessmentError(ValueError):
    pass


def _opportunity(catalog: Catalog, rubric_ref: str, opportunity_id: str | None) -> Opportunity:
    if opportunity_id is None:
        return Opportunity(
            id="manual", name="Manual assessment", version=1, on=[MANUAL_EVENT], rubric=rubric_ref
        )
    opportunity = catalog.opportunities.get(opportunity_id)
    if opportunity is None:
        raise ManualAssessmentError(f"no opportunity {opportunity_id!r}")
    return opportunity.model_copy(update={"rubric": rubric_ref})


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
) -> str:
    """Start the workflow and return its id. The ticket must be stored, the rubric approved."""
    try:
        rubric = catalog.approved_rubric(rubric_ref)
    except LookupError as exc:
        raise ManualAssessmentError(str(exc)) from None
    async with sessions() as session:
        if await load_ticket(session, source, ticket_id) is None:
            raise ManualAssessmentError(f"no stored ticket {source}/{ticket_id}")
    opportunity = _opportunity(catalog, rubric.ref, opportunity_id)
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
