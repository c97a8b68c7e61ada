"""Manual assessments: any stored ticket, any approved rubric, the same workflow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.coaching import LeadDecision
from service.manual import ManualAssessmentError, start_manual_assessment
from store.models import AssessmentRow
from store.tickets import upsert_event
from tests.factories import make_event
from tests.helpers import until_drafted
from tests.people import lead
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
