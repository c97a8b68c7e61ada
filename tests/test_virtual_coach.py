"""The virtual coach takes low-stakes, high-confidence cases without a lead and leaves every
other case to one. On the time-skipping server, with `low-csat` switched to a virtual coach."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from domain.coaching import LeadDecision
from domain.lifecycle import Acknowledge, AnswerSurvey, CompleteTask
from opportunities.catalog import Catalog
from service.manual import start_manual_assessment
from service.worker import build_worker
from store.models import AssessmentRow, DecisionRow, LearningTaskRow, SurveyRow
from store.tickets import upsert_event
from tests.factories import BASE, make_event
from tests.helpers import until_drafted
from tests.lifecycle_helpers import (
    end,
    kinds,
    measurements,
    refused,
    rows,
    start_drafted,
    until_state,
)
from tests.people import LEAD, TRAINEE
from workflows.coaching import CoachingWorkflow


def _reply(body: str) -> list[dict]:
    """The default thread with the agent's reply replaced."""
    messages = copy.deepcopy(BASE["ticket"]["messages"])
    messages[1]["body"] = body
    return messages


# The agent's reply without an apology: empathy fails through the agent's own behaviour, which
# assigns `empathy-refresher`; the draft keeps confidence 0.914 and raises no flag.
NO_EMPATHY = {
    "ticket.messages": _reply(
        "Hi Maria, I will check with billing and update you by Friday. "
        "The receipt went to maria@example.org."
    )
}
TAKEN = "taken"


@pytest.fixture
def virtual_catalog(catalog: Catalog) -> Catalog:
    low_csat = catalog.opportunities["low-csat"].model_copy(update={"virtual_coach": True})
    return dataclasses.replace(
        catalog, opportunities={**catalog.opportunities, "low-csat": low_csat}
    )


@pytest.fixture
async def client(time_skipping_env, sessions, task_queue):
    client = time_skipping_env.client
    async with build_worker(client, task_queue, sessions):
        yield client


async def test_a_low_stakes_confident_case_is_coached_without_a_lead(
    client, sessions, virtual_catalog, task_queue, ticket_id
):
    handle = await start_drafted(
        client, sessions, virtual_catalog, task_queue, ticket_id, **NO_EMPATHY
    )
    try:
        state = await until_state(handle, lambda s: s.status not in ("drafting", "awaiting_review"))
        assert state.draft is not None and state.draft.confidence >= 0.85
        assert (state.status, state.virtual_coach, state.decision) == ("virtual_coach", TAKEN, None)
        (task,) = state.tasks
        assert (task.key, task.trainee_id, task.status) == ("empathy-refresher", TRAINEE.id, "open")
        (survey,) = state.surveys
        assert (survey.audience, survey.template_id, survey.respondent_id) == (
            "trainee",
            "trainee-rates-coaching",
            TRAINEE.id,
        )
        message = await refused(
            handle.execute_update(CoachingWorkflow.decide, LeadDecision(action="approve", by=LEAD)),
            "WrongState",
        )
        assert message == "the assessment is virtual_coach; there is nothing to decide"
        assert await rows(sessions, DecisionRow) == []
        (row,) = await rows(sessions, AssessmentRow)
        assert (row.status, row.decided_at) == ("virtual_coach", None)
        assert row.released_at is not None
        assert [s.audience for s in await rows(sessions, SurveyRow)] == ["trainee"]
        (drafted,) = await measurements(sessions, "assessment_drafted")
        assert drafted.data["virtual_coach"] == TAKEN
        (started,) = await measurements(sessions, "coaching_started")
        assert started.data == {
            "by": "virtual_coach",
            "tasks": ["empathy-refresher"],
            "surveys": ["trainee"],
        }

        # The trainee's side runs as under a lead, to closure.
        await handle.execute_update(
            CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=task.id)
        )
        await handle.execute_update(
            CoachingWorkflow.answer_survey,
            AnswerSurvey(by=TRAINEE, survey_id=survey.id, answers={"usefulness": 4, "fairness": 5}),
        )
        await handle.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE))
        final = await handle.result()
        assert (final.status, final.virtual_coach) == ("closed_complete", TAKEN)
        (row,) = await rows(sessions, AssessmentRow)
        assert row.status == "closed_complete"
        seen = await kinds(sessions)
        assert (seen["skill_awarded"], seen["survey_answered"], seen["assessment_closed"]) == (
            1,
            1,
            1,
        )
        assert not {k for k in seen if k.startswith(("decision_", "review_"))}
    finally:
        await end(handle)


@pytest.mark.parametrize(
    ("overrides", "status", "reason"),
    [
        ({"ticket.tags": ["refund", "vip"]}, "awaiting_review", "the customer is at risk"),
        (
            {
                "ticket.messages": _reply(
                    "Hi Maria, I'm sorry to hear that. I'll refund you in full."
                )
            },
            "awaiting_review",
            "a critical criterion failed",
        ),
        ({"ticket.metrics": {}}, "awaiting_review", "the draft's confidence is low"),
        (
            {"ticket.messages": []},
            "stopped",
            "a stop rule fired (evidence missing: the ticket has no conversation thread)",
        ),
    ],
    ids=["customer-risk", "critical-failure", "low-confidence", "stopped"],
)
async def test_a_risky_case_is_left_to_a_lead(
    client, sessions, virtual_catalog, task_queue, ticket_id, overrides, status, reason
):
    handle = await start_drafted(
        client, sessions, virtual_catalog, task_queue, ticket_id, **overrides
    )
    try:
        state = await handle.query(CoachingWorkflow.state)
        assert state.status == status
        assert state.virtual_coach == f"left to a lead: {reason}"
        assert (state.tasks, state.surveys) == ([], [])
        assert (await kinds(sessions))["coaching_started"] == 0
        (row,) = await rows(sessions, AssessmentRow)
        assert row.status == status
        (drafted,) = await measurements(
            sessions, "assessment_drafted" if status == "awaiting_review" else "assessment_stopped"
        )
        assert drafted.data["virtual_coach"] == f"left to a lead: {reason}"

        decided = await handle.execute_update(
            CoachingWorkflow.decide, LeadDecision(action="approve", by=LEAD)
        )
        assert decided.status == "coaching"
        state = await handle.query(CoachingWorkflow.state)
        assert state.status == "coaching"
        assert {s.audience: s.respondent_id for s in state.surveys} == {
            "coach": LEAD.id,
            "trainee": TRAINEE.id,
        }
    finally:
        await end(handle)


async def test_a_manual_assessment_on_a_virtual_coach_opportunity_goes_to_a_lead(
    client, sessions, virtual_catalog, task_queue, ticket_id
):
    # The same ticket, ingested, would be taken by the virtual coach (see the first test).
    async with sessions() as session, session.begin():
        await upsert_event(session, make_event(**{"ticket.id": ticket_id, **NO_EMPATHY}))
    workflow_id = await start_manual_assessment(
        client, sessions, virtual_catalog, task_queue, "generic", ticket_id, "support-core",
        LEAD.id, "low-csat",
    )  # fmt: skip
    handle = client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    try:
        state = await until_drafted(client, workflow_id)
        assert state.status == "awaiting_review"
        assert state.virtual_coach == "left to a lead: a manual assessment always goes to a lead"
        assert state.draft is not None and state.draft.auto_eligible
        assert (state.tasks, state.surveys) == ([], [])
        assert await rows(sessions, LearningTaskRow) == []
        (row,) = await rows(sessions, AssessmentRow)
        assert (row.opportunity_id, row.event_type, row.status) == (
            "low-csat",
            "coaching.manual",
            "awaiting_review",
        )
    finally:
        await end(handle)
