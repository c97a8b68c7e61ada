"""The review SLA on the time-skipping server: days pass in seconds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.coaching import LeadDecision
from service.intake import Intake
from service.worker import build_worker
from store.models import AssessmentRow, DecisionRow, MeasurementEventRow
from tests.factories import make_event
from tests.helpers import until_drafted
from tests.lifecycle_helpers import end, refused, rows, until_state
from tests.people import LEAD, OUTSIDE_LEAD, QA_LEAD, SECOND_LEAD, TRAINEE, lead
from web.actions import list_visible
from web.auth import User
from workflows.coaching import CoachingWorkflow

STEPS = ("review_reminder", "review_escalation", "review_expiry")


async def _steps(sessions) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(MeasurementEventRow.kind, func.count())
            .where(MeasurementEventRow.kind.in_(STEPS))
            .group_by(MeasurementEventRow.kind)
        )
    return dict(rows.all())


async def _until_steps(sessions, wanted: dict[str, int]) -> None:
    async with asyncio.timeout(30):
        while await _steps(sessions) != wanted:  # noqa: ASYNC110 (polls the database)
            await asyncio.sleep(0.05)


async def _assessment(sessions) -> AssessmentRow:
    async with sessions() as session:
        return (await session.execute(select(AssessmentRow))).scalar_one()


@pytest.fixture
async def drafted(time_skipping_env, sessions, catalog, task_queue, ticket_id):
    client = time_skipping_env.client
    async with build_worker(client, task_queue, sessions):
        intake = Intake(client, sessions, catalog, task_queue)
        (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
        await until_drafted(client, workflow_id)
        handle = client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
        yield handle
        await end(handle)


async def test_a_lead_who_never_reviews_is_reminded_escalated_then_expired(
    drafted, time_skipping_env, sessions, catalog
):
    await time_skipping_env.sleep(timedelta(days=3, minutes=1))
    await _until_steps(sessions, {"review_reminder": 1})
    assert "review_overdue" in (await _assessment(sessions)).flags

    await time_skipping_env.sleep(timedelta(days=2))
    await _until_steps(sessions, {"review_reminder": 1, "review_escalation": 1})

    await time_skipping_env.sleep(timedelta(days=10))
    await _until_steps(sessions, dict.fromkeys(STEPS, 1))
    final = await drafted.result()
    assert final.status == "closed_incomplete" and final.decision is None
    row = await _assessment(sessions)
    assert row.status == "closed_incomplete"
    assert {"review_overdue", "escalated"} <= set(row.flags)
    with pytest.raises((RPCError, WorkflowUpdateFailedError)):
        await drafted.execute_update(
            CoachingWorkflow.decide, LeadDecision(action="approve", by=lead("late-lead"))
        )
    assert (await _assessment(sessions)).status == "closed_incomplete"
    async with sessions() as session:
        decisions = select(func.count()).select_from(DecisionRow)
        assert (await session.execute(decisions)).scalar_one() == 0
        # Closed, but no lead released its note: the agent does not see it.
        assert row.agent_id == TRAINEE.id and row.released_at is None
        assert await list_visible(session, User(TRAINEE), catalog) == []
        assert [r.id for r in await list_visible(session, User(LEAD), catalog)] == [row.id]


async def test_a_decision_after_the_reminder_stops_the_clock(drafted, time_skipping_env, sessions):
    await time_skipping_env.sleep(timedelta(days=3, minutes=1))
    await _until_steps(sessions, {"review_reminder": 1})
    result = await drafted.execute_update(
        CoachingWorkflow.decide, LeadDecision(action="approve", by=lead("lee"))
    )
    assert result.status == "coaching"
    state = await drafted.query(CoachingWorkflow.state)
    assert (state.status, state.escalated) == ("coaching", False)
    assert (await _assessment(sessions)).status == "coaching"
    # Past the escalation and expiry dates: no review step, and coaching runs to its closure
    # (no task for an approval of this draft; its surveys expire after 7 days).
    await time_skipping_env.sleep(timedelta(days=20))
    await until_state(drafted, lambda s: s.status != "coaching")
    assert await _steps(sessions) == {"review_reminder": 1}
    final = await drafted.result()
    assert final.status == "closed_complete" and not final.escalated
    assert (await _assessment(sessions)).status == "closed_complete"


async def test_a_decision_in_time_takes_no_review_step(drafted, time_skipping_env, sessions):
    await time_skipping_env.sleep(timedelta(days=1))
    await drafted.execute_update(
        CoachingWorkflow.decide, LeadDecision(action="dismiss", by=lead("lee"), reason="not needed")
    )
    assert (await drafted.result()).status == "dismissed"
    assert await _steps(sessions) == {}


async def test_an_escalated_assessment_can_be_decided_by_the_escalation_group(
    drafted, time_skipping_env, sessions
):
    message = await refused(
        drafted.execute_update(CoachingWorkflow.decide, LeadDecision(action="approve", by=QA_LEAD)),
        "Forbidden",
    )
    assert "quinn does not lead team tier1" in message
    await time_skipping_env.sleep(timedelta(days=3, minutes=1))
    await _until_steps(sessions, {"review_reminder": 1})
    await refused(
        drafted.execute_update(CoachingWorkflow.decide, LeadDecision(action="approve", by=QA_LEAD)),
        "Forbidden",
    )
    assert not (await drafted.query(CoachingWorkflow.state)).escalated

    await time_skipping_env.sleep(timedelta(days=2))
    await _until_steps(sessions, {"review_reminder": 1, "review_escalation": 1})
    state = await until_state(drafted, lambda s: s.escalated)
    assert state.status == "awaiting_review"
    result = await drafted.execute_update(
        CoachingWorkflow.decide, LeadDecision(action="approve", by=QA_LEAD)
    )
    assert (result.status, result.lead) == ("coaching", QA_LEAD.id)
    state = await drafted.query(CoachingWorkflow.state)
    assert state.status == "coaching" and state.escalated
    assert {s.audience: s.respondent_id for s in state.surveys} == {
        "coach": QA_LEAD.id,
        "trainee": TRAINEE.id,
    }
    (decision,) = await rows(sessions, DecisionRow)
    assert (decision.action, decision.lead) == ("approve", QA_LEAD.id)
    row = await _assessment(sessions)
    assert row.status == "coaching" and {"review_overdue", "escalated"} <= set(row.flags)


async def test_a_reassigned_assessment_belongs_to_its_new_lead(
    drafted, time_skipping_env, sessions
):
    await refused(
        drafted.execute_update(
            CoachingWorkflow.decide, LeadDecision(action="approve", by=OUTSIDE_LEAD)
        ),
        "Forbidden",
    )
    result = await drafted.execute_update(
        CoachingWorkflow.decide, LeadDecision(action="reassign", by=LEAD, to=OUTSIDE_LEAD)
    )
    assert (result.action, result.status, result.to) == (
        "reassign",
        "awaiting_review",
        OUTSIDE_LEAD.id,
    )
    state = await drafted.query(CoachingWorkflow.state)
    assert (state.status, state.assignee, state.decision) == (
        "awaiting_review",
        OUTSIDE_LEAD.id,
        None,
    )
    row = await _assessment(sessions)
    assert (row.status, row.assigned_lead) == ("awaiting_review", OUTSIDE_LEAD.id)
    for former in (LEAD, SECOND_LEAD):
        message = await refused(
            drafted.execute_update(
                CoachingWorkflow.decide, LeadDecision(action="approve", by=former)
            ),
            "Forbidden",
        )
        assert "reassigned to olga" in message

    result = await drafted.execute_update(
        CoachingWorkflow.decide,
        LeadDecision(action="override", by=OUTSIDE_LEAD, scores={"empathy": 0}, reason="cold"),
    )
    assert (result.status, result.lead) == ("coaching", OUTSIDE_LEAD.id)
    state = await drafted.query(CoachingWorkflow.state)
    assert state.status == "coaching"
    assert [t.key for t in state.tasks] == ["empathy-refresher"]
    assert {s.audience: s.respondent_id for s in state.surveys}["coach"] == OUTSIDE_LEAD.id
    decisions = await rows(sessions, DecisionRow)
    assert [(d.action, d.lead) for d in decisions] == [
        ("reassign", LEAD.id),
        ("override", OUTSIDE_LEAD.id),
    ]
    await refused(
        drafted.execute_update(CoachingWorkflow.decide, LeadDecision(action="approve", by=LEAD)),
        "AlreadyDecided",
    )
    assert await _steps(sessions) == {}
