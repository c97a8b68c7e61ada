"""Every update's validator on the dev server: the refusal's type, a message naming the field,
and nothing written (no row, no measurement event, no update in the workflow's history)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.coaching import CoachingState, DecisionResult, LeadDecision
from domain.lifecycle import (
    Acknowledge,
    AnswerSurvey,
    CompleteTask,
    Dispute,
    ResolveDispute,
    SurveyView,
)
from domain.people import Actor
from service.intake import Intake
from service.worker import build_worker
from store.models import (
    CoachingResponseRow,
    DecisionRow,
    LearningTaskRow,
    MeasurementEventRow,
    SurveyRow,
)
from tests.factories import make_event
from tests.helpers import assessment_of, until_drafted
from tests.people import (
    ADMIN,
    LEAD,
    OTHER_TRAINEE,
    OUTSIDE_LEAD,
    QA_LEAD,
    SECOND_LEAD,
    TRAINEE,
)
from workflows.coaching import CoachingWorkflow

ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
TABLES = (DecisionRow, LearningTaskRow, SurveyRow, CoachingResponseRow, MeasurementEventRow)
# The override that fails empathy, so that coaching assigns the `empathy-refresher` task.
OVERRIDE = LeadDecision(
    action="override", by=LEAD, scores={"empathy": 0}, reason="no empathy in reply 2"
)
COACH_ANSWERS = {"competence": 4, "applied_coaching": 3}
TRAINEE_ANSWERS = {"usefulness": 5, "fairness": 4}
SECRET = "zq-secret-answer-7781"

Handle = WorkflowHandle[CoachingWorkflow, CoachingState]


# Setup shared by every test: one drafted assessment, and one in coaching.


@pytest.fixture
async def drafted(dev_client: Client, worker, intake: Intake, ticket_id: str) -> Handle:
    (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
    await until_drafted(dev_client, workflow_id)
    return dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)


@pytest.fixture
async def coaching(drafted: Handle) -> Handle:
    """Decided by LEAD: one task (empathy-refresher) for the trainee, a survey for each side."""
    decided = await drafted.execute_update(CoachingWorkflow.decide, OVERRIDE)
    assert decided.status == "coaching"
    state = await drafted.query(CoachingWorkflow.state)
    assert [(t.key, t.status) for t in state.tasks] == [("empathy-refresher", "open")]
    assert {s.audience: s.respondent_id for s in state.surveys} == {
        "coach": LEAD.id,
        "trainee": TRAINEE.id,
    }
    return drafted


async def _state(handle: Handle) -> CoachingState:
    return await handle.query(CoachingWorkflow.state)


async def _survey(handle: Handle, audience: str) -> SurveyView:
    state = await _state(handle)
    return next(s for s in state.surveys if s.audience == audience)


async def _counts(sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__name__: (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
            for model in TABLES
        }


async def _count(sessions, model, *where) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(model).where(*where)
        return (await session.execute(query)).scalar_one()


async def _accepted(handle: Handle) -> int:
    history = await handle.fetch_history()
    return sum(1 for e in history.events if e.event_type == ACCEPTED)


async def _refused(
    handle: Handle, sessions, update: Any, arg: BaseModel, kind: str, field: str
) -> ApplicationError:
    """Send an update that must be refused: check the refusal, and that nothing was written."""
    counts, accepted, state = await _counts(sessions), await _accepted(handle), await _state(handle)
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(update, arg)
    error = caught.value.cause
    assert isinstance(error, ApplicationError), error
    assert (error.type, error.non_retryable) == (kind, True), error.message
    assert field in error.message
    assert await _counts(sessions) == counts
    assert await _accepted(handle) == accepted
    assert await _state(handle) == state
    return error


# decide


def _decision(**fields: Any) -> LeadDecision:
    return LeadDecision(**{"action": "approve", "by": LEAD, **fields})


async def test_decide_before_the_workflow_has_run_is_not_ready(
    dev_client: Client, intake: Intake, sessions, task_queue: str, ticket_id: str
):
    """An update can reach the workflow in its first activation, before `run` has begun."""
    (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    early = asyncio.create_task(handle.execute_update(CoachingWorkflow.decide, _decision()))
    await asyncio.sleep(0.5)  # no worker yet: the update waits with the workflow's first task
    async with build_worker(dev_client, task_queue, sessions):
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await asyncio.wait_for(early, 30)
        error = caught.value.cause
        assert isinstance(error, ApplicationError) and error.type == "NotReady", error
        await until_drafted(dev_client, workflow_id)
        assert await _accepted(handle) == 0
        assert await _count(sessions, DecisionRow) == 0
        decided = await handle.execute_update(CoachingWorkflow.decide, _decision())
    assert decided.status == "coaching"


@pytest.mark.parametrize(
    ("decision", "kind", "field"),
    [
        pytest.param(_decision(by=TRAINEE), "Forbidden", "by: ", id="trainee"),
        pytest.param(_decision(by=ADMIN), "Forbidden", "by: ", id="admin"),
        pytest.param(_decision(by=OUTSIDE_LEAD), "Forbidden", "by: ", id="other-team-lead"),
        pytest.param(_decision(by=QA_LEAD), "Forbidden", "by: ", id="qa-before-escalation"),
        pytest.param(
            _decision(by=Actor(id=TRAINEE.id, role="lead", teams=["tier1"])),
            "Forbidden",
            "by: a lead cannot decide on their own assessment",
            id="trainee-as-lead",
        ),
        pytest.param(
            _decision(action="override", reason="r", scores={"kindness": 1}),
            "InvalidDecision",
            "scores: unknown criterion 'kindness'",
            id="unknown-criterion",
        ),
        pytest.param(
            _decision(action="override", reason="r", causes={"nope": "policy"}),
            "InvalidDecision",
            "causes: unknown criterion 'nope'",
            id="unknown-criterion-cause",
        ),
        pytest.param(
            _decision(action="override", reason="r", scores={"tone": 9}),
            "InvalidDecision",
            "scores.tone: must be between 0 and 2",
            id="score-above-weight",
        ),
        pytest.param(
            _decision(action="override", reason="r", scores={"tone": -1}),
            "InvalidDecision",
            "scores.tone: must be between 0 and 2",
            id="score-negative",
        ),
        pytest.param(
            _decision(action="override", reason="r", scores={"handoff_note": 1}),
            "InvalidDecision",
            "scores.handoff_note: the criterion does not apply",
            id="criterion-not-applicable",
        ),
        pytest.param(
            _decision(action="override", scores={"tone": 1}),
            "InvalidDecision",
            "reason: a reason is required to override",
            id="override-without-reason",
        ),
        pytest.param(
            _decision(action="dismiss"),
            "InvalidDecision",
            "reason: a reason is required to dismiss",
            id="dismiss-without-reason",
        ),
        pytest.param(
            _decision(action="dismiss", reason="   "),
            "InvalidDecision",
            "reason: a reason is required to dismiss",
            id="dismiss-blank-reason",
        ),
        pytest.param(
            _decision(action="override", reason="r"),
            "InvalidDecision",
            "scores: an override changes at least one score, cause or the note",
            id="override-changing-nothing",
        ),
        pytest.param(
            _decision(scores={"tone": 1}),
            "InvalidDecision",
            "scores, causes and note can only change with action 'override'",
            id="approve-with-scores",
        ),
        pytest.param(
            _decision(action="escalate"), "InvalidDecision", "action: must be one of", id="action"
        ),
        pytest.param(
            _decision(action="override", reason="r", causes={"resolution_time": "bad-luck"}),
            "InvalidDecision",
            "causes.resolution_time: must be one of",
            id="bad-cause",
        ),
        pytest.param(
            _decision(action="reassign"), "InvalidDecision", "to: ", id="reassign-without-to"
        ),
        pytest.param(
            _decision(action="reassign", to=OTHER_TRAINEE),
            "InvalidDecision",
            "to: a-99 is not a lead",
            id="reassign-to-a-trainee",
        ),
        pytest.param(
            _decision(action="reassign", to=Actor(id=TRAINEE.id, role="lead", teams=["tier1"])),
            "InvalidDecision",
            "to: the trainee cannot review their own assessment",
            id="reassign-to-the-trainee-as-lead",
        ),
        pytest.param(
            _decision(action="reassign", to=LEAD),
            "InvalidDecision",
            "to: reassign to another lead, not to yourself",
            id="reassign-to-oneself",
        ),
        pytest.param(
            _decision(to=SECOND_LEAD),
            "InvalidDecision",
            "to: only a reassignment names another lead",
            id="approve-with-to",
        ),
    ],
)
async def test_decide_refusals(drafted, sessions, decision, kind, field):
    await _refused(drafted, sessions, CoachingWorkflow.decide, decision, kind, field)
    assert await _count(sessions, DecisionRow) == 0
    assert (await assessment_of(sessions, drafted.id)).status == "awaiting_review"
    state = await _state(drafted)
    assert state.status == "awaiting_review" and state.decision is None
    assert state.assignee is None


async def test_decide_an_override_that_changes_no_score_is_refused(drafted, sessions):
    draft = (await _state(drafted)).draft
    assert draft is not None
    empathy = next(r for r in draft.results if r.criterion_id == "empathy")
    same = _decision(action="override", reason="r", scores={"empathy": empathy.score})
    await _refused(drafted, sessions, CoachingWorkflow.decide, same, "InvalidDecision", "scores")


async def test_decide_twice_is_already_decided_with_the_existing_decision(drafted, sessions):
    first = await drafted.execute_update(CoachingWorkflow.decide, OVERRIDE)
    again = _decision(by=SECOND_LEAD, action="dismiss", reason="not a coaching case")
    error = await _refused(
        drafted, sessions, CoachingWorkflow.decide, again, "AlreadyDecided", "already decided"
    )
    assert DecisionResult.model_validate(error.details[0]) == first
    assert error.details[0] == first.model_dump(mode="json")
    assert await _count(sessions, DecisionRow) == 1
    kinds = MeasurementEventRow.kind.like("decision_%")
    assert await _count(sessions, MeasurementEventRow, kinds) == 1
    assert (await _state(drafted)).decision == first


async def test_decide_with_the_same_update_id_applies_once(drafted, sessions):
    first = await drafted.execute_update(CoachingWorkflow.decide, OVERRIDE, id="same")
    second = await drafted.execute_update(CoachingWorkflow.decide, OVERRIDE, id="same")
    assert first == second
    assert await _count(sessions, DecisionRow) == 1
    kinds = MeasurementEventRow.kind == "decision_override"
    assert await _count(sessions, MeasurementEventRow, kinds) == 1
    assert await _accepted(drafted) == 1
    assert await _count(sessions, LearningTaskRow) == 1


# complete_task


async def test_complete_task_before_any_decision_is_wrong_state(drafted, sessions):
    request = CompleteTask(by=TRAINEE, task_id=1)
    await _refused(
        drafted, sessions, CoachingWorkflow.complete_task, request, "WrongState", "not in coaching"
    )


async def test_complete_task_of_another_trainee_is_forbidden(coaching, sessions):
    (task,) = (await _state(coaching)).tasks
    request = CompleteTask(by=OTHER_TRAINEE, task_id=task.id)
    await _refused(coaching, sessions, CoachingWorkflow.complete_task, request, "Forbidden", "by: ")
    async with sessions() as session:
        row = await session.get(LearningTaskRow, task.id)
    assert row is not None and row.status == "open" and row.completed_at is None
    assert (await _state(coaching)).tasks[0].status == "open"


async def test_complete_an_unknown_task_is_not_found(coaching, sessions):
    (task,) = (await _state(coaching)).tasks
    request = CompleteTask(by=TRAINEE, task_id=task.id + 1000)
    await _refused(
        coaching, sessions, CoachingWorkflow.complete_task, request, "NotFound", "task_id: "
    )


async def test_complete_task_twice_is_already_done(coaching, sessions):
    (task,) = (await _state(coaching)).tasks
    request = CompleteTask(by=TRAINEE, task_id=task.id)
    done = await coaching.execute_update(CoachingWorkflow.complete_task, request)
    assert done.status == "completed"
    error = await _refused(
        coaching, sessions, CoachingWorkflow.complete_task, request, "AlreadyDone", str(task.id)
    )
    assert "already completed" in error.message
    kinds = MeasurementEventRow.kind == "task_completed"
    assert await _count(sessions, MeasurementEventRow, kinds) == 1


async def test_complete_task_with_the_same_update_id_applies_once(coaching, sessions):
    (task,) = (await _state(coaching)).tasks
    request = CompleteTask(by=TRAINEE, task_id=task.id)
    accepted = await _accepted(coaching)
    first = await coaching.execute_update(CoachingWorkflow.complete_task, request, id="same")
    second = await coaching.execute_update(CoachingWorkflow.complete_task, request, id="same")
    assert first == second and first.status == "completed"
    assert await _accepted(coaching) == accepted + 1
    kinds = MeasurementEventRow.kind == "task_completed"
    assert await _count(sessions, MeasurementEventRow, kinds) == 1
    async with sessions() as session:
        row = await session.get(LearningTaskRow, task.id)
    assert row is not None and row.status == "completed"


# answer_survey


async def test_answer_survey_by_the_wrong_respondent_is_forbidden(coaching, sessions):
    survey = await _survey(coaching, "coach")
    request = AnswerSurvey(by=SECOND_LEAD, survey_id=survey.id, answers=COACH_ANSWERS)
    await _refused(coaching, sessions, CoachingWorkflow.answer_survey, request, "Forbidden", "by: ")


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        pytest.param({"usefulness": 5}, "answers.fairness", id="missing-required"),
        pytest.param({"usefulness": 5, "fairness": SECRET}, "answers.fairness", id="not-a-number"),
        pytest.param({"usefulness": 5, "fairness": 7781}, "answers.fairness", id="out-of-range"),
        pytest.param(
            {**TRAINEE_ANSWERS, "mood": SECRET}, "answers.mood: unknown question", id="unknown"
        ),
    ],
)
async def test_answer_survey_with_bad_answers_is_invalid(coaching, sessions, answers, field):
    survey = await _survey(coaching, "trainee")
    request = AnswerSurvey(by=TRAINEE, survey_id=survey.id, answers=answers)
    error = await _refused(
        coaching, sessions, CoachingWorkflow.answer_survey, request, "InvalidRequest", field
    )
    assert SECRET not in error.message and "7781" not in error.message
    assert SECRET not in str(error.details)


async def test_answer_survey_twice_is_already_done(coaching, sessions):
    survey = await _survey(coaching, "trainee")
    request = AnswerSurvey(by=TRAINEE, survey_id=survey.id, answers=TRAINEE_ANSWERS)
    answered = await coaching.execute_update(CoachingWorkflow.answer_survey, request)
    assert answered.status == "answered"
    await _refused(
        coaching, sessions, CoachingWorkflow.answer_survey, request, "AlreadyDone", "answered"
    )


# acknowledge and dispute


@pytest.mark.parametrize("by", [OTHER_TRAINEE, LEAD, ADMIN], ids=["other-trainee", "lead", "admin"])
async def test_acknowledge_or_dispute_by_someone_else_is_forbidden(coaching, sessions, by):
    await _refused(
        coaching, sessions, CoachingWorkflow.acknowledge, Acknowledge(by=by), "Forbidden", "by: "
    )
    dispute = Dispute(by=by, reason="unfair")
    await _refused(coaching, sessions, CoachingWorkflow.dispute, dispute, "Forbidden", "by: ")


@pytest.mark.parametrize("reason", ["", "   \n"], ids=["empty", "blank"])
async def test_a_dispute_without_a_reason_is_invalid(coaching, sessions, reason):
    dispute = Dispute(by=TRAINEE, reason=reason)
    await _refused(
        coaching, sessions, CoachingWorkflow.dispute, dispute, "InvalidRequest", "reason: "
    )


async def test_acknowledge_then_dispute_is_already_done(coaching, sessions):
    acknowledged = await coaching.execute_update(
        CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE)
    )
    assert acknowledged.kind == "acknowledged"
    dispute = Dispute(by=TRAINEE, reason="unfair")
    await _refused(
        coaching, sessions, CoachingWorkflow.dispute, dispute, "AlreadyDone", "acknowledged"
    )
    await _refused(
        coaching,
        sessions,
        CoachingWorkflow.acknowledge,
        Acknowledge(by=TRAINEE),
        "AlreadyDone",
        "acknowledged",
    )


# resolve_dispute


@pytest.fixture
async def disputed(coaching: Handle) -> Handle:
    response = await coaching.execute_update(
        CoachingWorkflow.dispute, Dispute(by=TRAINEE, reason="the customer hung up on me")
    )
    assert response.kind == "disputed" and response.resolution is None
    return coaching


async def test_resolve_without_a_dispute_is_wrong_state(coaching, sessions):
    request = ResolveDispute(by=SECOND_LEAD, resolution="upheld")
    await _refused(
        coaching, sessions, CoachingWorkflow.resolve_dispute, request, "WrongState", "dispute"
    )


@pytest.mark.parametrize(
    ("request_", "kind", "field"),
    [
        pytest.param(
            ResolveDispute(by=LEAD, resolution="upheld"), "Forbidden", "by: ", id="deciding-lead"
        ),
        pytest.param(
            ResolveDispute(by=TRAINEE, resolution="upheld"), "Forbidden", "by: ", id="trainee"
        ),
        pytest.param(
            ResolveDispute(by=OUTSIDE_LEAD, resolution="upheld"),
            "Forbidden",
            "by: ",
            id="other-team-lead",
        ),
        pytest.param(
            ResolveDispute(by=SECOND_LEAD, resolution="overturned"),
            "InvalidRequest",
            "resolution: ",
            id="bad-resolution",
        ),
        pytest.param(
            ResolveDispute(by=SECOND_LEAD, resolution="amended"),
            "InvalidRequest",
            "note: ",
            id="amended-without-note",
        ),
        pytest.param(
            ResolveDispute(by=SECOND_LEAD, resolution="amended", note="  "),
            "InvalidRequest",
            "note: ",
            id="amended-blank-note",
        ),
    ],
)
async def test_resolve_dispute_refusals(disputed, sessions, request_, kind, field):
    await _refused(disputed, sessions, CoachingWorkflow.resolve_dispute, request_, kind, field)
    response = (await _state(disputed)).response
    assert response is not None and response.resolution is None


async def test_resolve_dispute_twice_is_already_done(disputed, sessions):
    request = ResolveDispute(by=SECOND_LEAD, resolution="upheld")
    resolved = await disputed.execute_update(CoachingWorkflow.resolve_dispute, request)
    assert (resolved.resolution, resolved.resolved_by) == ("upheld", SECOND_LEAD.id)
    again = ResolveDispute(by=QA_LEAD, resolution="amended", note="softened")
    await _refused(
        disputed, sessions, CoachingWorkflow.resolve_dispute, again, "AlreadyDone", "upheld"
    )
