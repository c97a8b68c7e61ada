"""The coaching lifecycle after the lead's decision, on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.coaching import LeadDecision
from domain.lifecycle import Acknowledge, AnswerSurvey, CompleteTask
from service.intake import Intake
from service.worker import build_worker
from store.models import MeasurementEventRow, SkillRow
from tests.factories import make_event
from tests.helpers import assessment_of, until_drafted
from tests.people import LEAD, TRAINEE
from workflows.coaching import CoachingWorkflow

COACH_ANSWERS = {"competence": 4, "applied_coaching": 3}
TRAINEE_ANSWERS = {"usefulness": 5, "fairness": 4}


@pytest.fixture
async def drafted(time_skipping_env, sessions, catalog, task_queue, ticket_id):
    client = time_skipping_env.client
    async with build_worker(client, task_queue, sessions):
        intake = Intake(client, sessions, catalog, task_queue)
        (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
        await until_drafted(client, workflow_id)
        yield client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)


async def test_an_override_assigns_tasks_and_surveys_and_closes_complete(drafted, sessions):
    decided = await drafted.execute_update(
        CoachingWorkflow.decide,
        LeadDecision(
            action="override", by=LEAD, scores={"empathy": 0}, reason="no empathy in reply 2"
        ),
    )
    assert decided.status == "coaching"
    state = await drafted.query(CoachingWorkflow.state)
    assert state.status == "coaching"
    assert [t.key for t in state.tasks] == ["empathy-refresher"]
    assert {s.audience: s.respondent_id for s in state.surveys} == {
        "coach": LEAD.id,
        "trainee": TRAINEE.id,
    }
    for task in state.tasks:
        done = await drafted.execute_update(
            CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=task.id)
        )
        assert done.status == "completed"
    for survey in state.surveys:
        by, answers = (LEAD, COACH_ANSWERS) if survey.audience == "coach" else (TRAINEE, None)
        if answers is None:
            answers = TRAINEE_ANSWERS
        await drafted.execute_update(
            CoachingWorkflow.answer_survey,
            AnswerSurvey(by=by, survey_id=survey.id, answers=answers),
        )
    await drafted.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE))
    final = await drafted.result()
    assert final.status == "closed_complete", final.closed_reason
    row = await assessment_of(sessions, drafted.id)
    assert row.status == "closed_complete"
    async with sessions() as session:
        skills = (await session.execute(select(SkillRow))).scalars().all()
        kinds = (await session.execute(select(MeasurementEventRow.kind))).scalars().all()
    assert {s.skill for s in skills} == {t.skill for t in state.tasks if t.skill}
    assert "assessment_closed" in kinds and "coaching_started" in kinds
