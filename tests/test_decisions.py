"""The lead's decision: approve, override, dismiss; rejected decisions leave no trace."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError

from domain.coaching import LeadDecision
from opportunities.catalog import Catalog
from service.intake import Intake
from service.worker import build_worker
from store.models import CriterionResultRow, DecisionRow, MeasurementEventRow
from tests.factories import make_event
from tests.helpers import assessment_of, until_drafted
from tests.people import lead
from workflows.coaching import CoachingWorkflow

UPDATE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
}


async def _drafted(
    client: Client, sessions, catalog: Catalog, task_queue: str, ticket_id: str, **overrides
) -> str:
    intake = Intake(client, sessions, catalog, task_queue)
    result = await intake.ingest(make_event(**{"ticket.id": ticket_id, **overrides}))
    (workflow_id,) = result.started
    await until_drafted(client, workflow_id)
    return workflow_id


async def _count(sessions, model, *where) -> int:
    async with sessions() as session:
        return (
            await session.execute(select(func.count()).select_from(model).where(*where))
        ).scalar_one()


async def test_approve_on_both_servers(any_client, sessions, catalog, task_queue, ticket_id):
    async with build_worker(any_client, task_queue, sessions):
        workflow_id = await _drafted(any_client, sessions, catalog, task_queue, ticket_id)
        handle = any_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
        result = await handle.execute_update(
            CoachingWorkflow.decide, LeadDecision(action="approve", by=lead("lee"))
        )
        assert result.status == "coaching" and result.changes == []
        final = await handle.result()
    assert final.decision and final.decision.action == "approve"
    row = await assessment_of(sessions, workflow_id)
    assert row.status == "coaching" and row.decided_at is not None
    async with sessions() as session:
        decision = (await session.execute(select(DecisionRow))).scalar_one()
    assert (decision.action, decision.lead, decision.assessment_id) == ("approve", "lee", row.id)
    assert (
        await _count(sessions, MeasurementEventRow, MeasurementEventRow.kind == "decision_approve")
        == 1
    )


async def test_override_records_the_diff_per_criterion(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    before = await assessment_of(sessions, workflow_id)
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    result = await handle.execute_update(
        CoachingWorkflow.decide,
        LeadDecision(
            action="override",
            by=lead("lee"),
            reason="the late reply was a staffing gap",
            scores={"first_response_sla": 2},
            causes={"resolution_time": "policy"},
            note="Good recovery once you picked it up.",
        ),
    )
    assert [(c.criterion_id, c.field, c.before, c.after) for c in result.changes] == [
        ("first_response_sla", "score", 0.0, 2.0),
        ("resolution_time", "cause", None, "policy"),
    ]
    after = await assessment_of(sessions, workflow_id)
    assert after.status == "coaching"
    assert after.score == before.score + 2
    async with sessions() as session:
        sla = (
            await session.execute(
                select(CriterionResultRow).where(
                    CriterionResultRow.assessment_id == after.id,
                    CriterionResultRow.criterion_id == "first_response_sla",
                )
            )
        ).scalar_one()
        decision = (await session.execute(select(DecisionRow))).scalar_one()
    assert (sla.status, sla.score) == ("passed", 2.0)
    assert decision.reason == "the late reply was a staffing gap"
    assert decision.note == "Good recovery once you picked it up."
    assert len(decision.changes) == 2


async def test_dismiss_with_a_reason(dev_client, worker, sessions, catalog, task_queue, ticket_id):
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    result = await handle.execute_update(
        CoachingWorkflow.decide,
        LeadDecision(
            action="dismiss", by=lead("lee"), reason="customer was abusive; not a coaching case"
        ),
    )
    assert result.status == "dismissed"
    assert (await handle.result()).status == "dismissed"
    assert (await assessment_of(sessions, workflow_id)).status == "dismissed"


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (
            {"action": "override", "lead": "lee", "reason": "r", "scores": {"kindness": 1}},
            "unknown criterion 'kindness'",
        ),
        (
            {"action": "override", "lead": "lee", "reason": "r", "scores": {"tone": 9}},
            "must be between 0 and 2",
        ),
        (
            {"action": "override", "lead": "lee", "reason": "r", "scores": {"handoff_note": 1}},
            "does not apply",
        ),
        (
            {"action": "override", "lead": "lee", "reason": "r", "causes": {"nope": "policy"}},
            "unknown criterion 'nope'",
        ),
        ({"action": "dismiss", "lead": "lee"}, "reason is required"),
        ({"action": "override", "lead": "lee", "scores": {"tone": 1}}, "reason is required"),
        ({"action": "escalate", "lead": "lee"}, "action"),
    ],
)
async def test_a_rejected_decision_leaves_no_trace(
    dev_client, worker, sessions, catalog, task_queue, ticket_id, decision, message
):
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    events_before = await _count(sessions, MeasurementEventRow)
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update("decide", decision, result_type=dict)
    assert message in str(caught.value.cause)
    history = await handle.fetch_history()
    assert not [e for e in history.events if e.event_type in UPDATE_EVENTS]
    assert await _count(sessions, DecisionRow) == 0
    assert await _count(sessions, MeasurementEventRow) == events_before
    assert (await assessment_of(sessions, workflow_id)).status == "awaiting_review"
    state = await handle.query(CoachingWorkflow.state)
    assert state.status == "awaiting_review" and state.decision is None


async def test_two_leads_deciding_at_once_apply_one_decision(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    outcomes = await asyncio.gather(
        handle.execute_update(
            CoachingWorkflow.decide, LeadDecision(action="approve", by=lead("a"))
        ),
        handle.execute_update(
            CoachingWorkflow.decide, LeadDecision(action="approve", by=lead("b"))
        ),
        return_exceptions=True,
    )
    assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 1
    assert await _count(sessions, DecisionRow) == 1


async def test_the_same_update_id_twice_applies_once(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    decision = LeadDecision(action="approve", by=lead("lee"))
    first, second = await asyncio.gather(
        handle.execute_update(CoachingWorkflow.decide, decision, id="req-1"),
        handle.execute_update(CoachingWorkflow.decide, decision, id="req-1"),
    )
    assert first == second
    assert await _count(sessions, DecisionRow) == 1


async def test_a_case_without_evidence_is_stopped_and_still_reaches_the_lead(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    workflow_id = await _drafted(
        dev_client, sessions, catalog, task_queue, ticket_id, **{"ticket.messages": []}
    )
    row = await assessment_of(sessions, workflow_id)
    assert row.status == "stopped"
    assert row.stop_reason == "evidence missing: the ticket has no conversation thread"
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    result = await handle.execute_update(
        CoachingWorkflow.decide,
        LeadDecision(action="dismiss", by=lead("lee"), reason="phone call, nothing to review"),
    )
    assert result.status == "dismissed"
