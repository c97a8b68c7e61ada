"""The trainee disputes the coaching; another lead upholds or amends it, or the dispute lapses.
On the time-skipping server."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.coaching import LeadDecision
from domain.lifecycle import AnswerSurvey, CompleteTask, Dispute, ResolveDispute
from service.worker import build_worker
from store.models import AssessmentRow, CoachingResponseRow
from tests.helpers import assessment_of
from tests.lifecycle_helpers import (
    end,
    kinds,
    measurements,
    refused,
    rows,
    start_drafted,
    until_kinds,
    until_state,
)
from tests.people import LEAD, OUTSIDE_LEAD, QA_LEAD, SECOND_LEAD, TRAINEE
from workflows.coaching import CoachingWorkflow

REASON = "I apologised on the phone call, which is not in the ticket"
AMENDED = "Empathy was shown on the call; the task stays as practice for written replies."
ANSWERS = {
    "coach": {"competence": 4, "applied_coaching": 3},
    "trainee": {"usefulness": 2, "fairness": 1},
}


@pytest.fixture
async def coached(time_skipping_env, sessions, catalog, task_queue, ticket_id):
    """Decided by LEAD with an override that assigns one task, and disputed by the trainee."""
    client = time_skipping_env.client
    async with build_worker(client, task_queue, sessions):
        handle = await start_drafted(client, sessions, catalog, task_queue, ticket_id)
        await handle.execute_update(
            CoachingWorkflow.decide,
            LeadDecision(action="override", by=LEAD, scores={"empathy": 0}, reason="no empathy"),
        )
        await refused(
            handle.execute_update(CoachingWorkflow.dispute, Dispute(by=TRAINEE, reason="  ")),
            "InvalidRequest",
        )
        await refused(
            handle.execute_update(CoachingWorkflow.dispute, Dispute(by=SECOND_LEAD, reason=REASON)),
            "Forbidden",
        )
        response = await handle.execute_update(
            CoachingWorkflow.dispute, Dispute(by=TRAINEE, reason=REASON)
        )
        assert (response.kind, response.trainee_id, response.resolution) == (
            "disputed",
            TRAINEE.id,
            None,
        )
        yield handle
        await end(handle)


async def _finish_the_work(handle) -> None:
    """Complete the task and answer both surveys, so only the dispute can hold closure open."""
    state = await handle.query(CoachingWorkflow.state)
    (task,) = state.tasks
    await handle.execute_update(
        CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=task.id)
    )
    for survey in state.surveys:
        by = LEAD if survey.audience == "coach" else TRAINEE
        await handle.execute_update(
            CoachingWorkflow.answer_survey,
            AnswerSurvey(by=by, survey_id=survey.id, answers=ANSWERS[survey.audience]),
        )


def _resolve(handle, by, resolution: str, note: str | None = None):
    return handle.execute_update(
        CoachingWorkflow.resolve_dispute, ResolveDispute(by=by, resolution=resolution, note=note)
    )


async def test_another_lead_upholds_the_dispute(coached, sessions):
    message = await refused(_resolve(coached, LEAD, "upheld"), "Forbidden")
    assert "other than the one who decided" in message
    for outsider in (OUTSIDE_LEAD, TRAINEE):
        await refused(_resolve(coached, outsider, "upheld"), "Forbidden")
    await refused(_resolve(coached, SECOND_LEAD, "withdrawn"), "InvalidRequest")
    assert (await kinds(sessions))["dispute_upheld"] == 0

    resolved = await _resolve(coached, SECOND_LEAD, "upheld")
    assert (resolved.kind, resolved.resolution, resolved.resolved_by) == (
        "disputed",
        "upheld",
        SECOND_LEAD.id,
    )
    await refused(_resolve(coached, SECOND_LEAD, "amended", AMENDED), "AlreadyDone")
    (row,) = await rows(sessions, CoachingResponseRow)
    assert (row.kind, row.trainee_id, row.reason) == ("disputed", TRAINEE.id, REASON)
    assert (row.resolution, row.resolved_by, row.resolution_note) == (
        "upheld",
        SECOND_LEAD.id,
        None,
    )
    assert row.resolved_at >= row.at
    (disputed,) = await measurements(sessions, "disputed")
    assert disputed.data == {}
    (upheld,) = await measurements(sessions, "dispute_upheld")
    assert upheld.data["lead"] == SECOND_LEAD.id
    assert 0 <= upheld.data["days_to_resolve"] < 0.01
    assert (await kinds(sessions))["dispute_amended"] == 0

    # A resolved dispute holds nothing open: the finished work closes the assessment complete.
    await _finish_the_work(coached)
    final = await until_state(coached, lambda s: s.status != "coaching")
    assert final.status == "closed_complete", final.closed_reason
    assert final.response is not None and final.response.resolution == "upheld"
    assert (await coached.result()).status == "closed_complete"


async def test_the_escalation_group_amends_the_dispute_with_a_note(coached, sessions):
    for note in (None, "   "):
        message = await refused(_resolve(coached, QA_LEAD, "amended", note), "InvalidRequest")
        assert message == "note: an amendment needs the amended note"
    resolved = await _resolve(coached, QA_LEAD, "amended", f"  {AMENDED}  ")
    assert (resolved.resolution, resolved.resolved_by) == ("amended", QA_LEAD.id)
    (row,) = await rows(sessions, CoachingResponseRow)
    assert (row.resolution, row.resolved_by, row.resolution_note) == (
        "amended",
        QA_LEAD.id,
        AMENDED,
    )
    assert (await assessment_of(sessions, coached.id)).coaching_note == AMENDED
    (amended,) = await measurements(sessions, "dispute_amended")
    assert amended.data["lead"] == QA_LEAD.id
    assert AMENDED not in json.dumps(amended.data)
    assert all(REASON not in json.dumps(m.data) for m in await measurements(sessions))
    assert (await kinds(sessions))["dispute_upheld"] == 0
    state = await coached.query(CoachingWorkflow.state)
    assert state.status == "coaching"
    assert state.response is not None and state.response.resolution == "amended"


async def test_an_unresolved_dispute_lapses_and_closes_incomplete(
    coached, time_skipping_env, sessions
):
    await _finish_the_work(coached)
    # Everything else is done, but the open dispute holds the assessment open.
    await time_skipping_env.sleep(timedelta(days=13))
    state = await coached.query(CoachingWorkflow.state)
    assert state.status == "coaching" and state.closed_reason is None
    assert state.response is not None and state.response.resolution is None
    assert (await kinds(sessions))["assessment_closed"] == 0

    # `review.expires` (14 days) after the dispute, it lapses.
    await time_skipping_env.sleep(timedelta(days=1, minutes=1))
    await until_kinds(sessions, {"assessment_closed": 1})
    final = await coached.result()
    assert final.status == "closed_incomplete"
    assert final.closed_reason == "the dispute was not resolved in time"
    assert [t.status for t in final.tasks] == ["completed"]
    (row,) = await rows(sessions, AssessmentRow)
    assert row.status == "closed_incomplete"
    (closed,) = await measurements(sessions, "assessment_closed")
    assert closed.data == {
        "status": "closed_incomplete",
        "reason": "the dispute was not resolved in time",
    }
    (response,) = await rows(sessions, CoachingResponseRow)
    assert (response.kind, response.resolution) == ("disputed", None)
    seen = await kinds(sessions)
    assert (seen["dispute_upheld"], seen["dispute_amended"]) == (0, 0)
    with pytest.raises((RPCError, WorkflowUpdateFailedError)):
        await _resolve(coached, SECOND_LEAD, "upheld")


async def test_a_lead_who_only_reassigned_may_resolve_the_new_leads_decision(
    time_skipping_env, sessions, catalog, task_queue, ticket_id
):
    client = time_skipping_env.client
    async with build_worker(client, task_queue, sessions):
        handle = await start_drafted(client, sessions, catalog, task_queue, ticket_id)
        try:
            await handle.execute_update(
                CoachingWorkflow.decide,
                LeadDecision(action="reassign", by=LEAD, to=OUTSIDE_LEAD),
            )
            await handle.execute_update(
                CoachingWorkflow.decide, LeadDecision(action="approve", by=OUTSIDE_LEAD)
            )
            await handle.execute_update(
                CoachingWorkflow.dispute, Dispute(by=TRAINEE, reason=REASON)
            )
            await refused(_resolve(handle, OUTSIDE_LEAD, "upheld"), "Forbidden")
            resolved = await _resolve(handle, LEAD, "upheld")
            assert (resolved.resolution, resolved.resolved_by) == ("upheld", LEAD.id)
            (row,) = await rows(sessions, CoachingResponseRow)
            assert (row.resolution, row.resolved_by) == ("upheld", LEAD.id)
            (upheld,) = await measurements(sessions, "dispute_upheld")
            assert upheld.data["lead"] == LEAD.id
        finally:
            await end(handle)
