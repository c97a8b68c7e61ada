"""The coaching lifecycle after the lead's decision, on the time-skipping server: weeks of
deadlines pass in seconds."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.coaching import LeadDecision
from domain.lifecycle import Acknowledge, AnswerSurvey, CompleteTask
from service.worker import build_worker
from store.models import (
    AssessmentRow,
    CoachingResponseRow,
    DecisionRow,
    LearningTaskRow,
    SkillRow,
    SurveyRow,
)
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
from tests.people import LEAD, TRAINEE
from workflows.coaching import CoachingWorkflow

COACH_ANSWERS = {"competence": 4, "applied_coaching": 3}
TRAINEE_ANSWERS = {"usefulness": 5, "fairness": 4}
# Free text that must stay in the survey row and never reach a measurement event.
COMMENT = "Dana handled the refund call with real care"

# One run's history is bounded. Each step of a run is one local activity (or, for the end of
# the response window, a timer alone) and costs at most 8 events: a workflow task (3), its
# marker (1), an update's accepted/completed pair (2) and a timer started and then fired or
# cancelled (2). The longest run here takes 11 steps: draft, save, decision, coaching start, a
# completion, an acknowledgement, a reminder, the surveys' expiry, a task closing, the response
# window and the closure; so 11 * 8 + started + completed = 90 events at most. A loop that
# re-armed its timers without progress would blow far past it.
HISTORY_BOUND = 90

CLOSED = ("closed_complete", "closed_incomplete", "dismissed")


def _override(*criteria: str) -> LeadDecision:
    return LeadDecision(
        action="override",
        by=LEAD,
        scores=dict.fromkeys(criteria, 0),
        reason="no empathy and a blaming tone in reply 2",
    )


@pytest.fixture
async def drafted(time_skipping_env, sessions, catalog, task_queue, ticket_id):
    client = time_skipping_env.client
    async with build_worker(client, task_queue, sessions):
        handle = await start_drafted(client, sessions, catalog, task_queue, ticket_id)
        yield handle
        await end(handle)


async def _history_size(handle) -> int:
    history = await handle.fetch_history()
    events = history.events
    assert events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    return len(events)


async def test_a_task_done_on_time_earns_its_skill_and_one_never_done_closes_incomplete(
    drafted, time_skipping_env, sessions
):
    decided = await drafted.execute_update(CoachingWorkflow.decide, _override("empathy", "tone"))
    assert decided.status == "coaching"
    state = await drafted.query(CoachingWorkflow.state)
    assert state.status == "coaching"
    empathy, tone = state.tasks
    assert (empathy.key, empathy.skill, tone.key, tone.skill) == (
        "empathy-refresher",
        "empathy",
        "tone-basics",
        "tone",
    )
    assert {t.status for t in state.tasks} == {"open"}
    assert {t.trainee_id for t in state.tasks} == {TRAINEE.id}
    assert timedelta(days=14) <= empathy.due_at - decided.decided_at < timedelta(days=14, minutes=1)
    assert empathy.closes_at == empathy.due_at + timedelta(days=7)

    done = await drafted.execute_update(
        CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=empathy.id)
    )
    assert (done.status, done.skill_awarded) == ("completed", True)
    await refused(
        drafted.execute_update(
            CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=empathy.id)
        ),
        "AlreadyDone",
    )
    await drafted.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE))

    (empathy_row,) = await rows(sessions, LearningTaskRow, LearningTaskRow.id == empathy.id)
    (skill,) = await rows(sessions, SkillRow)
    assert (skill.trainee_id, skill.skill, skill.assessment_id, skill.task_id) == (
        TRAINEE.id,
        "empathy",
        state.assessment_id,
        empathy.id,
    )
    assert skill.awarded_at == empathy_row.completed_at
    assert empathy_row.completed_at < empathy_row.due_at
    (completed,) = await measurements(sessions, "task_completed")
    assert completed.data["task_key"] == "empathy-refresher"
    assert completed.data["on_time"] is True
    (awarded,) = await measurements(sessions, "skill_awarded")
    assert awarded.data == {"skill": "empathy", "task_key": "empathy-refresher"}

    # At the due date the trainee is reminded of the open task, once; nothing closes yet.
    await time_skipping_env.sleep(timedelta(days=14, minutes=1))
    await until_kinds(sessions, {"task_reminded": 1})
    state = await drafted.query(CoachingWorkflow.state)
    assert state.status == "coaching"
    assert [(t.key, t.status, t.reminded) for t in state.tasks] == [
        ("empathy-refresher", "completed", False),
        ("tone-basics", "open", True),
    ]
    (reminded,) = await measurements(sessions, "task_reminded")
    assert reminded.data == {"task_key": "tone-basics"}
    seen = await kinds(sessions)
    assert seen["task_incomplete"] == 0 and seen["assessment_closed"] == 0

    # A week later the task closes incomplete, and with it the assessment.
    await time_skipping_env.sleep(timedelta(days=7))
    await until_kinds(sessions, {"assessment_closed": 1})
    final = await drafted.result()
    assert final.status == "closed_incomplete"
    assert final.closed_reason == "tasks not completed: tone-basics"
    (tone_row,) = await rows(sessions, LearningTaskRow, LearningTaskRow.id == tone.id)
    assert tone_row.status == "incomplete"
    assert timedelta(0) <= tone_row.reminded_at - tone_row.due_at < timedelta(minutes=1)
    assert timedelta(0) <= tone_row.closed_at - tone_row.closes_at < timedelta(minutes=1)
    (incomplete,) = await measurements(sessions, "task_incomplete")
    assert incomplete.data == {"task_key": "tone-basics", "skill": "tone"}
    assert [s.skill for s in await rows(sessions, SkillRow)] == ["empathy"]
    (closed,) = await measurements(sessions, "assessment_closed")
    assert closed.data == {
        "status": "closed_incomplete",
        "reason": "tasks not completed: tone-basics",
    }
    (row,) = await rows(sessions, AssessmentRow)
    assert row.status == "closed_incomplete"
    assert await _history_size(drafted) <= HISTORY_BOUND
    with pytest.raises((RPCError, WorkflowUpdateFailedError)):
        await drafted.execute_update(
            CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=tone.id)
        )


async def test_a_survey_answered_keeps_its_text_out_of_measurements_and_one_expires(
    drafted, time_skipping_env, sessions
):
    await drafted.execute_update(CoachingWorkflow.decide, _override("empathy"))
    state = await drafted.query(CoachingWorkflow.state)
    (task,) = state.tasks
    coach, trainee = state.surveys
    assert (coach.audience, coach.template_id, coach.respondent_id) == (
        "coach",
        "coach-rates-trainee",
        LEAD.id,
    )
    assert (trainee.audience, trainee.template_id, trainee.respondent_id) == (
        "trainee",
        "trainee-rates-coaching",
        TRAINEE.id,
    )
    assert state.decision is not None
    waits = coach.expires_at - state.decision.decided_at
    assert timedelta(days=7) <= waits < timedelta(days=7, minutes=1)

    await refused(
        drafted.execute_update(
            CoachingWorkflow.answer_survey,
            AnswerSurvey(by=TRAINEE, survey_id=coach.id, answers=COACH_ANSWERS),
        ),
        "Forbidden",
    )
    await refused(
        drafted.execute_update(
            CoachingWorkflow.answer_survey,
            AnswerSurvey(by=LEAD, survey_id=coach.id, answers={"competence": 9}),
        ),
        "InvalidRequest",
    )
    answered = await drafted.execute_update(
        CoachingWorkflow.answer_survey,
        AnswerSurvey(by=LEAD, survey_id=coach.id, answers={**COACH_ANSWERS, "comments": COMMENT}),
    )
    assert answered.status == "answered"
    (coach_row,) = await rows(sessions, SurveyRow, SurveyRow.id == coach.id)
    assert coach_row.status == "answered"
    assert coach_row.answers == {**COACH_ANSWERS, "comments": COMMENT}
    assert coach_row.answered_at is not None
    (event,) = await measurements(sessions, "survey_answered")
    assert event.data["audience"] == "coach"
    assert event.data["answers"] == COACH_ANSWERS
    assert COMMENT not in json.dumps(event.data)
    assert all(COMMENT not in json.dumps(m.data) for m in await measurements(sessions))

    # The trainee never answers: at its expiry the survey expires, and a late answer is refused.
    await time_skipping_env.sleep(timedelta(days=7, minutes=1))
    await until_kinds(sessions, {"survey_expired": 1})
    state = await until_state(drafted, lambda s: s.surveys[1].status == "expired")
    assert [(s.audience, s.status) for s in state.surveys] == [
        ("coach", "answered"),
        ("trainee", "expired"),
    ]
    assert state.status == "coaching"
    (expired,) = await measurements(sessions, "survey_expired")
    assert expired.data == {"audience": "trainee", "template_id": "trainee-rates-coaching"}
    (trainee_row,) = await rows(sessions, SurveyRow, SurveyRow.id == trainee.id)
    assert (trainee_row.status, trainee_row.answers) == ("expired", None)
    message = await refused(
        drafted.execute_update(
            CoachingWorkflow.answer_survey,
            AnswerSurvey(by=TRAINEE, survey_id=trainee.id, answers=TRAINEE_ANSWERS),
        ),
        "AlreadyDone",
    )
    assert "expired" in message
    assert (await kinds(sessions))["survey_answered"] == 1

    # The task, done after the surveys expired but before its due date, closes it complete.
    done = await drafted.execute_update(
        CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=task.id)
    )
    assert done.status == "completed"
    await until_kinds(sessions, {"assessment_closed": 1})
    final = await drafted.result()
    assert final.status == "closed_complete"
    assert final.response is None
    (completed,) = await measurements(sessions, "task_completed")
    assert completed.data["on_time"] is True


async def test_everything_done_and_the_trainee_responding_closes_complete(
    drafted, time_skipping_env, sessions
):
    await drafted.execute_update(CoachingWorkflow.decide, _override("empathy"))
    state = await drafted.query(CoachingWorkflow.state)
    (task,) = state.tasks
    coach, _ = state.surveys
    await drafted.execute_update(
        CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=task.id)
    )
    await drafted.execute_update(
        CoachingWorkflow.answer_survey,
        AnswerSurvey(by=LEAD, survey_id=coach.id, answers=COACH_ANSWERS),
    )
    await refused(
        drafted.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=LEAD)), "Forbidden"
    )
    response = await drafted.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE))
    assert (response.kind, response.trainee_id) == ("acknowledged", TRAINEE.id)
    await refused(
        drafted.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE)),
        "AlreadyDone",
    )
    # The trainee's survey is still open, so the assessment is too.
    state = await drafted.query(CoachingWorkflow.state)
    assert state.status == "coaching" and state.closed_reason is None
    assert (await kinds(sessions))["assessment_closed"] == 0

    await time_skipping_env.sleep(timedelta(days=7, minutes=1))
    await until_kinds(sessions, {"assessment_closed": 1})
    final = await drafted.result()
    assert final.status == "closed_complete"
    assert final.closed_reason == "every task done; surveys answered or expired"
    assert [(s.audience, s.status) for s in final.surveys] == [
        ("coach", "answered"),
        ("trainee", "expired"),
    ]
    (row,) = await rows(sessions, AssessmentRow)
    assert row.status == "closed_complete"
    (stored,) = await rows(sessions, CoachingResponseRow)
    assert (stored.kind, stored.trainee_id, stored.reason) == ("acknowledged", TRAINEE.id, None)
    seen = await kinds(sessions)
    for kind, count in {
        "decision_override": 1,
        "coaching_started": 1,
        "task_assigned": 1,
        "task_completed": 1,
        "skill_awarded": 1,
        "survey_sent": 2,
        "survey_answered": 1,
        "survey_expired": 1,
        "acknowledged": 1,
        "assessment_closed": 1,
        "task_reminded": 0,
        "task_incomplete": 0,
    }.items():
        assert seen[kind] == count, kind
    (started,) = await measurements(sessions, "coaching_started")
    assert started.data == {
        "by": "coaching",
        "tasks": ["empathy-refresher"],
        "surveys": ["coach", "trainee"],
    }
    assert await _history_size(drafted) <= HISTORY_BOUND


async def test_all_done_at_once_closes_complete_without_waiting(drafted, sessions):
    await drafted.execute_update(CoachingWorkflow.decide, _override("empathy"))
    state = await drafted.query(CoachingWorkflow.state)
    (task,) = state.tasks
    await drafted.execute_update(
        CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=task.id)
    )
    for survey in state.surveys:
        by, answers = (LEAD, COACH_ANSWERS) if survey.audience == "coach" else (TRAINEE, None)
        await drafted.execute_update(
            CoachingWorkflow.answer_survey,
            AnswerSurvey(by=by, survey_id=survey.id, answers=answers or TRAINEE_ANSWERS),
        )
    await drafted.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE))
    final = await until_state(drafted, lambda s: s.status in CLOSED)
    assert final.status == "closed_complete"
    assert final.closed_reason == "every task done; surveys answered or expired"
    assert (await drafted.result()).status == "closed_complete"
    seen = await kinds(sessions)
    assert (seen["survey_answered"], seen["survey_expired"], seen["assessment_closed"]) == (2, 0, 1)


async def test_a_dismissal_ends_the_workflow_without_coaching(drafted, sessions):
    result = await drafted.execute_update(
        CoachingWorkflow.decide,
        LeadDecision(action="dismiss", by=LEAD, reason="the customer was upset about pricing"),
    )
    assert result.status == "dismissed"
    final = await drafted.result()
    assert final.status == "dismissed"
    assert (final.tasks, final.surveys, final.response, final.closed_reason) == ([], [], None, None)
    (row,) = await rows(sessions, AssessmentRow)
    assert row.status == "dismissed"
    assert await rows(sessions, LearningTaskRow) == []
    assert await rows(sessions, SurveyRow) == []
    seen = await kinds(sessions)
    assert seen["decision_dismiss"] == 1
    for kind in ("coaching_started", "task_assigned", "survey_sent", "assessment_closed"):
        assert seen[kind] == 0, kind
    with pytest.raises((RPCError, WorkflowUpdateFailedError)):
        await drafted.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE))


async def test_a_leads_override_note_reaches_the_trainee_redacted(drafted, sessions):
    await drafted.execute_update(
        CoachingWorkflow.decide,
        LeadDecision(
            action="override",
            by=LEAD,
            reason="tone: Maria Lopez (+44 20 7946 0958) was kept waiting",
            note="Maria Lopez waited; call her on +44 20 7946 0958 or maria@example.org.",
        ),
    )
    row = await assessment_of(sessions, drafted.id)
    for secret in ("Maria", "Lopez", "7946", "maria@example.org"):
        assert secret not in row.coaching_note
    assert "[CUSTOMER_NAME]" in row.coaching_note and "[PHONE]" in row.coaching_note
    async with sessions() as session:
        (decision,) = (await session.execute(select(DecisionRow))).scalars()
    assert decision.note == row.coaching_note
    (measured,) = await measurements(sessions, "decision_override")
    reason = measured.data["reason"]
    assert reason.startswith("tone: [CUSTOMER_NAME] (") and "[PHONE]) was kept waiting" in reason
    assert not any(secret in reason for secret in ("Maria", "Lopez", "7946", "0958"))
