"""Manual assessments: a stored ticket the lead may see, any approved rubric, the same
workflow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.coaching import LeadDecision
from service.manual import ManualAssessmentError, TicketNotFound, start_manual_assessment
from store.models import AssessmentRow
from store.tickets import upsert_event
from tests.factories import make_event
from tests.helpers import until_drafted
from tests.people import LEAD, OUTSIDE_LEAD, QA_LEAD, lead
from workflows.coaching import CoachingWorkflow


@pytest.fixture
async def stored(sessions, ticket_id):
    async with sessions() as session, session.begin():
        await upsert_event(session, make_event(**{"ticket.id": ticket_id}))
    return ticket_id


async def test_a_lead_assesses_a_stored_ticket(
    dev_client, worker, sessions, catalog, task_queue, stored
):
    workflow_id = await start_manual_assessment(
        dev_client, sessions, catalog, task_queue, "generic", stored, "support-core", "lee"
    )
    assert workflow_id.startswith(f"coaching/manual/generic/{stored}/")
    state = await until_drafted(dev_client, workflow_id)
    assert state.status == "awaiting_review"
    async with sessions() as session:
        row = (await session.execute(select(AssessmentRow))).scalar_one()
    assert (row.opportunity_id, row.event_type, row.rubric_id) == (
        "manual",
        "coaching.manual",
        "support-core",
    )
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    decided = await handle.execute_update(
        CoachingWorkflow.decide, LeadDecision(action="approve", by=lead("lee"))
    )
    assert decided.status == "coaching"


async def test_an_opportunity_lends_its_settings_and_two_manual_reviews_may_coexist(
    dev_client, worker, sessions, catalog, task_queue, stored
):
    first = await start_manual_assessment(
        dev_client,
        sessions,
        catalog,
        task_queue,
        "generic",
        stored,
        "support-core@2",
        "lee",
        "low-csat",
    )
    second = await start_manual_assessment(
        dev_client, sessions, catalog, task_queue, "generic", stored, "support-core", "kim"
    )
    assert first != second
    await until_drafted(dev_client, first)
    await until_drafted(dev_client, second)
    async with sessions() as session:
        opportunities = set((await session.execute(select(AssessmentRow.opportunity_id))).scalars())
    assert opportunities == {"low-csat", "manual"}


@pytest.mark.parametrize(
    ("ticket", "rubric", "opportunity", "message"),
    [
        ("missing", "support-core", None, "no stored ticket generic/missing"),
        (None, "support-kore", None, "unknown rubric 'support-kore'"),
        (None, "support-core@7", None, "has no version 7"),
        (None, "support-core", "nope", "no opportunity 'nope'"),
    ],
)
async def test_what_cannot_be_assessed_is_refused(
    dev_client, sessions, catalog, task_queue, stored, ticket, rubric, opportunity, message
):
    with pytest.raises(ManualAssessmentError, match=message):
        await start_manual_assessment(
            dev_client,
            sessions,
            catalog,
            task_queue,
            "generic",
            ticket or stored,
            rubric,
            "lee",
            opportunity,
        )
    async with sessions() as session:
        assert (await session.execute(select(AssessmentRow))).first() is None


async def test_a_lead_opens_none_for_another_team_s_agent(
    dev_client, worker, sessions, catalog, task_queue, stored
):
    """The ticket's agent, a-17, is tier1's: tier2's lead and the QA lead (whose group reviews
    no plain manual assessment) are refused as for a ticket that is not stored."""

    async def start(ticket: str, by, opportunity: str | None = None) -> str:
        return await start_manual_assessment(
            dev_client, sessions, catalog, task_queue, "generic", ticket, "support-core",
            by.id, opportunity, by=by,
        )  # fmt: skip

    for by in (OUTSIDE_LEAD, QA_LEAD):
        with pytest.raises(TicketNotFound, match=f"^no stored ticket generic/{stored}$"):
            await start(stored, by)
    async with sessions() as session:
        assert (await session.execute(select(AssessmentRow))).first() is None
    # low-csat escalates to qa-leads: the QA lead may open one through it.
    for by, opportunity in ((LEAD, None), (QA_LEAD, "low-csat")):
        await until_drafted(dev_client, await start(stored, by, opportunity))
