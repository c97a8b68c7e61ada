"""The coaching lifecycle tables on the real database: idempotent writes, refused transitions,
and measurement events counted exactly once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from domain.lifecycle import CloseRequest, StartCoachingRequest
from store import lifecycle
from store.lifecycle import LifecycleError, SurveyPlan, TaskPlan
from store.lifecycle.coaching import close_assessment, start_coaching
from store.models import (
    AssessmentRow,
    CoachingResponseRow,
    DecisionRow,
    LearningTaskRow,
    MeasurementEventRow,
    SkillRow,
    SurveyRow,
    TicketRow,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TRAINEE = "agent-17"
LEAD = "lead-3"
OTHER_LEAD = "lead-8"


async def make_assessment(sessions, agent_id: str = TRAINEE) -> int:
    """A ticket and an approved assessment of it, as the drafting and decision steps leave them."""
    external = uuid.uuid4().hex[:8]
    async with sessions() as session, session.begin():
        ticket = TicketRow(
            source="zendesk",
            external_id=external,
            subject="Refund not received",
            status="solved",
            channel="email",
            queue="billing",
            product_area="payments",
            customer_segment="smb",
            agent_id=agent_id,
            agent_name="Sam Agent",
            team="tier-1",
            snapshot={},
            last_event_at=T0 - timedelta(days=2),
            updated_at=T0 - timedelta(days=2),
        )
        session.add(ticket)
        await session.flush()
        assessment = AssessmentRow(
            workflow_id=f"coaching/low-csat/zendesk/{external}",
            opportunity_id="low-csat",
            opportunity_version=1,
            rubric_id="support-quality",
            rubric_version=2,
            ticket_id=ticket.id,
            source="zendesk",
            ticket_external_id=external,
            event_id=f"evt-{external}",
            event_type="csat.received",
            agent_id=agent_id,
            agent_name="Sam Agent",
            team="tier-1",
            queue="billing",
            product_area="payments",
            customer_segment="smb",
            channel="email",
            status="coaching",
            score=6.0,
            max_score=10.0,
            passed=False,
            confidence=0.9,
            priority=1,
            flags=[],
            summary="Missed the refund timeline.",
            coaching_note="Set expectations on refund timing.",
            occurred_at=T0 - timedelta(days=2),
            created_at=T0 - timedelta(days=1),
            updated_at=T0,
            decided_at=T0,
        )
        session.add(assessment)
        await session.flush()
        session.add(
            DecisionRow(
                request_id=f"decide:{external}",
                assessment_id=assessment.id,
                action="approve",
                lead=LEAD,
                changes=[],
                decided_at=T0,
            )
        )
        return assessment.id


PLANS = [
    TaskPlan(
        key="refund-timing", title="Refund timelines", skill="refunds", due_at=T0 + timedelta(7)
    ),
    TaskPlan(key="empathy", title="Empathy statements", skill="empathy", due_at=T0 + timedelta(3)),
    TaskPlan(key="read-kb", title="Read the billing KB", skill=None, due_at=T0 + timedelta(5)),
]

SURVEYS = [
    SurveyPlan(
        template_id="coach-rates-trainee",
        template_version=1,
        audience="coach",
        respondent_id=LEAD,
        expires_at=T0 + timedelta(days=5),
    ),
    SurveyPlan(
        template_id="trainee-rates-coaching",
        template_version=2,
        audience="trainee",
        respondent_id=TRAINEE,
        expires_at=T0 + timedelta(days=10),
    ),
]


async def events(sessions, kind: str | None = None) -> list[MeasurementEventRow]:
    async with sessions() as session:
        query = select(MeasurementEventRow).order_by(MeasurementEventRow.id)
        if kind:
            query = query.where(MeasurementEventRow.kind == kind)
        return list((await session.execute(query)).scalars().all())


async def count(sessions, model) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def run(sessions, fn, *args):
    async with sessions() as session, session.begin():
        return await fn(session, *args)


async def assign(sessions, assessment_id: int, at: datetime = T0):
    return await run(sessions, lifecycle.assign_tasks, assessment_id, TRAINEE, PLANS, at)


# --- tasks ---------------------------------------------------------------------------------


async def test_a_task_closes_at_its_own_deadline_and_a_completion_that_won_stays(sessions):
    aid = await make_assessment(sessions)
    plans = [
        TaskPlan(key="late", title="Late", due_at=T0 + timedelta(3), closes_at=T0 + timedelta(6)),
        TaskPlan(key="done", title="Done", skill="tone", due_at=T0 + timedelta(3)),
    ]
    late, done = await run(sessions, lifecycle.assign_tasks, aid, TRAINEE, plans, T0)
    assert late.closes_at == T0 + timedelta(6) and done.closes_at == done.due_at

    with pytest.raises(LifecycleError, match=f"task {late.id} is not past its deadline"):
        await run(sessions, lifecycle.close_task, late.id, T0 + timedelta(days=4))
    closed = await run(sessions, lifecycle.close_task, late.id, T0 + timedelta(days=6))
    again = await run(sessions, lifecycle.close_task, late.id, T0 + timedelta(days=7))
    assert closed.status == again.status == "incomplete"
    assert again.closed_at == T0 + timedelta(days=6)
    assert len(await events(sessions, "task_incomplete")) == 1

    await run(sessions, lifecycle.complete_task, done.id, TRAINEE, T0 + timedelta(days=1))
    kept = await run(sessions, lifecycle.close_task, done.id, T0 + timedelta(days=9))
    assert kept.status == "completed"
    assert len(await events(sessions, "task_incomplete")) == 1


async def test_a_task_cannot_close_before_it_is_due(sessions):
    aid = await make_assessment(sessions)
    bad = TaskPlan(key="x", title="X", due_at=T0 + timedelta(3), closes_at=T0 + timedelta(2))
    with pytest.raises(LifecycleError, match="closes before it is due"):
        await run(sessions, lifecycle.assign_tasks, aid, TRAINEE, [bad], T0)
    assert await count(sessions, LearningTaskRow) == 0


async def test_assigning_twice_returns_the_same_tasks_and_one_event_each(sessions):
    aid = await make_assessment(sessions)
    first = await assign(sessions, aid)
    again = await assign(sessions, aid, T0 + timedelta(hours=1))
    assert [t.task_key for t in first] == ["refund-timing", "empathy", "read-kb"]
    assert [t.id for t in again] == [t.id for t in first]
    assert all(t.status == "open" and t.assigned_at == T0 for t in again)
    assert await count(sessions, LearningTaskRow) == 3
    assigned = await events(sessions, "task_assigned")
    assert len(assigned) == 3
    assert {e.assessment_id for e in assigned} == {aid}
    assert {(e.agent_id, e.team, e.queue, e.rubric_version) for e in assigned} == {
        (TRAINEE, "tier-1", "billing", 2)
    }


async def test_assigning_to_another_trainee_or_a_missing_assessment_is_refused(sessions):
    aid = await make_assessment(sessions)
    with pytest.raises(LifecycleError, match="another trainee"):
        await run(sessions, lifecycle.assign_tasks, aid, "agent-99", PLANS, T0)
    with pytest.raises(LifecycleError, match="not found"):
        await run(sessions, lifecycle.assign_tasks, aid + 1000, TRAINEE, PLANS, T0)
    with pytest.raises(LifecycleError, match="timezone"):
        await run(sessions, lifecycle.assign_tasks, aid, TRAINEE, PLANS, T0.replace(tzinfo=None))
    assert await count(sessions, LearningTaskRow) == 0
    assert await events(sessions) == []


async def test_completing_awards_the_skill_once_and_a_retry_changes_nothing(sessions):
    aid = await make_assessment(sessions)
    task = (await assign(sessions, aid))[0]
    done_at = T0 + timedelta(days=2)
    row, skill = await run(sessions, lifecycle.complete_task, task.id, TRAINEE, done_at)
    assert row.status == "completed" and row.completed_at == done_at == row.closed_at
    assert skill is not None
    assert (skill.trainee_id, skill.skill, skill.assessment_id, skill.task_id) == (
        TRAINEE,
        "refunds",
        aid,
        task.id,
    )
    assert skill.awarded_at == done_at

    row2, skill2 = await run(
        sessions, lifecycle.complete_task, task.id, TRAINEE, done_at + timedelta(hours=5)
    )
    assert (row2.id, row2.completed_at, row2.status) == (row.id, done_at, "completed")
    assert skill2 is not None and (skill2.id, skill2.awarded_at) == (skill.id, done_at)
    assert await count(sessions, SkillRow) == 1
    assert len(await events(sessions, "task_completed")) == 1
    assert len(await events(sessions, "skill_awarded")) == 1

    async with sessions() as session:
        skills = await lifecycle.skills_of(session, TRAINEE)
        assert [(s.skill, s.assessment_id) for s in skills] == [("refunds", aid)]
        assert [t.task_key for t in await lifecycle.tasks_for(session, TRAINEE, "open")] == [
            "empathy",
            "read-kb",
        ]
        assert len(await lifecycle.tasks_for(session, TRAINEE)) == 3


async def test_a_task_without_a_skill_completes_without_an_award(sessions):
    aid = await make_assessment(sessions)
    task = (await assign(sessions, aid))[2]
    row, skill = await run(sessions, lifecycle.complete_task, task.id, TRAINEE, T0)
    assert row.status == "completed" and skill is None
    assert await count(sessions, SkillRow) == 0
    assert len(await events(sessions, "skill_awarded")) == 0


async def test_another_trainee_cannot_complete_the_task_and_nothing_changes(sessions):
    aid = await make_assessment(sessions)
    task = (await assign(sessions, aid))[0]
    before = await events(sessions)
    with pytest.raises(LifecycleError, match=f"task {task.id} belongs to another trainee"):
        await run(sessions, lifecycle.complete_task, task.id, "agent-99", T0)
    async with sessions() as session:
        state = await lifecycle.lifecycle_of(session, aid)
    assert all(t.status == "open" and t.completed_at is None for t in state.tasks)
    assert await count(sessions, SkillRow) == 0
    assert len(await events(sessions)) == len(before)


async def test_overdue_tasks_close_incomplete_once_and_cannot_be_completed(sessions):
    aid = await make_assessment(sessions)
    tasks = await assign(sessions, aid)
    refund, empathy, read_kb = tasks
    await run(sessions, lifecycle.complete_task, read_kb.id, TRAINEE, T0 + timedelta(days=1))

    at = T0 + timedelta(days=5)  # empathy (day 3) and read-kb (day 5, already done) are due
    closed = await run(sessions, lifecycle.close_overdue_tasks, aid, at)
    assert [t.id for t in closed] == [empathy.id]
    assert closed[0].status == "incomplete" and closed[0].closed_at == at
    again = await run(sessions, lifecycle.close_overdue_tasks, aid, at + timedelta(minutes=1))
    assert [(t.id, t.closed_at) for t in again] == [(empathy.id, at)]
    assert len(await events(sessions, "task_incomplete")) == 1

    with pytest.raises(LifecycleError, match="incomplete and can no longer be completed"):
        await run(sessions, lifecycle.complete_task, empathy.id, TRAINEE, at)
    assert await count(sessions, SkillRow) == 0  # read-kb carries no skill; empathy was refused

    later = await run(sessions, lifecycle.close_overdue_tasks, aid, T0 + timedelta(days=8))
    assert [t.id for t in later] == [refund.id, empathy.id]
    async with sessions() as session:
        statuses = {
            t.task_key: t.status for t in (await lifecycle.lifecycle_of(session, aid)).tasks
        }
    assert statuses == {
        "refund-timing": "incomplete",
        "empathy": "incomplete",
        "read-kb": "completed",
    }
    assert len(await events(sessions, "task_incomplete")) == 2


async def test_a_reminder_is_sent_once_and_only_for_open_tasks(sessions):
    aid = await make_assessment(sessions)
    refund, empathy, _ = await assign(sessions, aid)
    at = T0 + timedelta(days=2)
    first = await run(sessions, lifecycle.remind_task, refund.id, at)
    second = await run(sessions, lifecycle.remind_task, refund.id, at + timedelta(days=1))
    assert first.reminded_at == second.reminded_at == at
    assert len(await events(sessions, "task_reminded")) == 1

    await run(sessions, lifecycle.complete_task, empathy.id, TRAINEE, at)
    with pytest.raises(LifecycleError, match="nothing to remind"):
        await run(sessions, lifecycle.remind_task, empathy.id, at)
    assert len(await events(sessions, "task_reminded")) == 1


# --- surveys -------------------------------------------------------------------------------


async def test_surveys_are_sent_once_per_audience(sessions):
    aid = await make_assessment(sessions)
    sent = await run(sessions, lifecycle.send_surveys, aid, SURVEYS, T0)
    again = await run(sessions, lifecycle.send_surveys, aid, SURVEYS, T0 + timedelta(hours=2))
    assert [s.audience for s in sent] == ["coach", "trainee"]
    assert [(s.id, s.sent_at, s.status) for s in again] == [(s.id, T0, "open") for s in sent]
    assert await count(sessions, SurveyRow) == 2
    assert len(await events(sessions, "survey_sent")) == 2

    moved = [SURVEYS[0].model_copy(update={"respondent_id": OTHER_LEAD})]
    with pytest.raises(LifecycleError, match="another respondent"):
        await run(sessions, lifecycle.send_surveys, aid, moved, T0)
    async with sessions() as session:
        assert [s.audience for s in await lifecycle.surveys_for(session, TRAINEE, "open")] == [
            "trainee"
        ]


async def test_answering_checks_the_respondent_and_is_idempotent(sessions):
    aid = await make_assessment(sessions)
    _coach, trainee = await run(sessions, lifecycle.send_surveys, aid, SURVEYS, T0)
    answers = {"clarity": 4, "usefulness": 5, "comment": "Sam from billing was great, call me"}
    at = T0 + timedelta(days=1)

    with pytest.raises(LifecycleError, match=f"survey {trainee.id} belongs to another respondent"):
        await run(sessions, lifecycle.answer_survey, trainee.id, LEAD, answers, at)
    async with sessions() as session:
        untouched = await lifecycle.surveys_for(session, TRAINEE)
    assert untouched[0].status == "open" and untouched[0].answers is None

    row = await run(sessions, lifecycle.answer_survey, trainee.id, TRAINEE, answers, at)
    assert (row.status, row.answered_at, row.answers) == ("answered", at, answers)
    same = await run(
        sessions, lifecycle.answer_survey, trainee.id, TRAINEE, dict(answers), at + timedelta(1)
    )
    assert (same.answered_at, same.answers) == (at, answers)
    with pytest.raises(LifecycleError, match="already answered"):
        await run(sessions, lifecycle.answer_survey, trainee.id, TRAINEE, {"clarity": 1}, at)

    answered = await events(sessions, "survey_answered")
    assert len(answered) == 1
    assert answered[0].data["answers"] == {"clarity": 4, "usefulness": 5}
    assert "great" not in str(answered[0].data) and "Sam" not in str(answered[0].data)


async def test_open_surveys_expire_at_their_deadline_once(sessions):
    aid = await make_assessment(sessions)
    coach, trainee = await run(sessions, lifecycle.send_surveys, aid, SURVEYS, T0)
    at = T0 + timedelta(days=6)  # the coach survey (day 5) is past due, the trainee one is not
    expired = await run(sessions, lifecycle.expire_surveys, aid, at)
    assert [(s.id, s.status) for s in expired] == [(coach.id, "expired")]
    again = await run(sessions, lifecycle.expire_surveys, aid, at + timedelta(hours=1))
    assert [s.id for s in again] == [coach.id]
    assert len(await events(sessions, "survey_expired")) == 1

    with pytest.raises(LifecycleError, match="expired and can no longer be answered"):
        await run(sessions, lifecycle.answer_survey, coach.id, LEAD, {"rating": 3}, at)
    await run(sessions, lifecycle.answer_survey, trainee.id, TRAINEE, {"rating": 5}, at)
    final = await run(sessions, lifecycle.expire_surveys, aid, T0 + timedelta(days=11))
    assert [s.id for s in final] == [coach.id]  # an answered survey never expires
    assert len(await events(sessions, "survey_expired")) == 1


# --- acknowledgement and disputes ----------------------------------------------------------


async def test_acknowledging_twice_is_one_response_and_then_no_dispute(sessions):
    aid = await make_assessment(sessions)
    first = await run(sessions, lifecycle.acknowledge, aid, TRAINEE, T0)
    again = await run(sessions, lifecycle.acknowledge, aid, TRAINEE, T0 + timedelta(hours=1))
    assert (again.id, again.kind, again.at) == (first.id, "acknowledged", T0)
    with pytest.raises(LifecycleError, match="already acknowledged"):
        await run(sessions, lifecycle.dispute, aid, TRAINEE, "I disagree", T0)
    with pytest.raises(LifecycleError, match="another trainee"):
        await run(sessions, lifecycle.acknowledge, aid, "agent-99", T0)
    with pytest.raises(LifecycleError, match="no dispute"):
        await run(sessions, lifecycle.resolve_dispute, aid, OTHER_LEAD, "upheld", None, T0)
    assert await count(sessions, CoachingResponseRow) == 1
    assert len(await events(sessions, "acknowledged")) == 1
    assert len(await events(sessions, "disputed")) == 0


async def test_a_dispute_is_resolved_once_by_another_lead(sessions):
    aid = await make_assessment(sessions)
    reason = "The customer had asked for a callback, see my reply at 10:02"
    with pytest.raises(LifecycleError, match="needs a reason"):
        await run(sessions, lifecycle.dispute, aid, TRAINEE, "  ", T0)
    disputed = await run(sessions, lifecycle.dispute, aid, TRAINEE, reason, T0)
    retry = await run(sessions, lifecycle.dispute, aid, TRAINEE, reason, T0 + timedelta(1))
    assert (retry.id, retry.kind, retry.reason, retry.at) == (disputed.id, "disputed", reason, T0)
    with pytest.raises(LifecycleError, match="already disputed"):
        await run(sessions, lifecycle.acknowledge, aid, TRAINEE, T0)

    at = T0 + timedelta(days=2)
    with pytest.raises(LifecycleError, match="other than the one who decided"):
        await run(sessions, lifecycle.resolve_dispute, aid, LEAD, "upheld", None, at)
    with pytest.raises(LifecycleError, match="needs a note"):
        await run(sessions, lifecycle.resolve_dispute, aid, OTHER_LEAD, "amended", "", at)

    note = "Callback was requested; the timing point is dropped."
    resolved = await run(sessions, lifecycle.resolve_dispute, aid, OTHER_LEAD, "amended", note, at)
    assert (resolved.resolution, resolved.resolved_by, resolved.resolved_at) == (
        "amended",
        OTHER_LEAD,
        at,
    )
    same = await run(
        sessions, lifecycle.resolve_dispute, aid, OTHER_LEAD, "amended", note, at + timedelta(1)
    )
    assert same.resolved_at == at
    with pytest.raises(LifecycleError, match="already resolved"):
        await run(sessions, lifecycle.resolve_dispute, aid, "lead-12", "upheld", None, at)
    with pytest.raises(LifecycleError, match="already resolved"):
        await run(sessions, lifecycle.resolve_dispute, aid, OTHER_LEAD, "upheld", None, at)

    async with sessions() as session:
        response = (await lifecycle.lifecycle_of(session, aid)).response
    assert response is not None and (response.resolution, response.resolution_note) == (
        "amended",
        note,
    )
    [dispute_event] = await events(sessions, "disputed")
    assert "callback" not in str(dispute_event.data).lower()
    assert len(await events(sessions, "dispute_amended")) == 1
    assert len(await events(sessions, "dispute_upheld")) == 0


# --- the whole lifecycle, retried ----------------------------------------------------------


async def test_every_step_retried_counts_each_event_exactly_once(sessions):
    aid = await make_assessment(sessions)
    other = await make_assessment(sessions, agent_id="agent-42")

    async def lifecycle_steps() -> None:
        refund, _empathy, read_kb = await assign(sessions, aid)
        await run(sessions, lifecycle.remind_task, refund.id, T0 + timedelta(days=1))
        await run(sessions, lifecycle.complete_task, refund.id, TRAINEE, T0 + timedelta(days=2))
        await run(sessions, lifecycle.complete_task, read_kb.id, TRAINEE, T0 + timedelta(days=2))
        await run(sessions, lifecycle.close_overdue_tasks, aid, T0 + timedelta(days=3))
        _coach, trainee = await run(sessions, lifecycle.send_surveys, aid, SURVEYS, T0)
        await run(sessions, lifecycle.answer_survey, trainee.id, TRAINEE, {"r": 5}, T0)
        await run(sessions, lifecycle.expire_surveys, aid, T0 + timedelta(days=5))
        await run(sessions, lifecycle.acknowledge, aid, TRAINEE, T0)

    for _ in range(3):
        await lifecycle_steps()

    kinds: dict[str, int] = {}
    for event in await events(sessions):
        kinds[event.kind] = kinds.get(event.kind, 0) + 1
        assert event.assessment_id == aid and event.workflow_id
        assert event.opportunity_id == "low-csat" and event.agent_id == TRAINEE
    assert kinds == {
        "task_assigned": 3,
        "task_reminded": 1,
        "task_completed": 2,
        "skill_awarded": 1,
        "task_incomplete": 1,
        "survey_sent": 2,
        "survey_answered": 1,
        "survey_expired": 1,
        "acknowledged": 1,
    }
    async with sessions() as session:
        state = await lifecycle.lifecycle_of(session, aid)
        empty = await lifecycle.lifecycle_of(session, other)
    assert sorted(t.status for t in state.tasks) == ["completed", "completed", "incomplete"]
    assert sorted(s.status for s in state.surveys) == ["answered", "expired"]
    assert state.response is not None and state.response.kind == "acknowledged"
    assert (empty.tasks, empty.surveys, empty.response) == ([], [], None)


# --- opening and closing the coaching phase -------------------------------------------------


def _start(aid: int, trainee: str | None = TRAINEE, tasks=PLANS, status="coaching"):
    return StartCoachingRequest(
        workflow_id=f"w-{aid}",
        assessment_id=aid,
        status=status,
        trainee_id=trainee,
        tasks=tasks,
        surveys=SURVEYS,
        at=T0,
    )


async def test_starting_coaching_twice_assigns_and_sends_once(sessions):
    aid = await make_assessment(sessions)
    tasks, surveys = await run(sessions, start_coaching, _start(aid, status="virtual_coach"))
    again_tasks, again_surveys = await run(sessions, start_coaching, _start(aid))
    assert [t.id for t in tasks] == [t.id for t in again_tasks] and len(tasks) == 3
    assert [s.id for s in surveys] == [s.id for s in again_surveys] and len(surveys) == 2
    assert len(await events(sessions, "coaching_started")) == 1
    assert len(await events(sessions, "task_assigned")) == 3
    async with sessions() as session:
        assert (await session.get(AssessmentRow, aid)).status == "coaching"


async def test_tasks_without_a_trainee_are_refused_and_nothing_is_written(sessions):
    aid = await make_assessment(sessions)
    with pytest.raises(LifecycleError, match="has no trainee"):
        await run(sessions, start_coaching, _start(aid, trainee=None))
    assert await count(sessions, SurveyRow) == 0
    assert await events(sessions, "coaching_started") == []


async def test_closing_is_recorded_once_and_a_closed_assessment_cannot_restart(sessions):
    aid = await make_assessment(sessions)
    close = CloseRequest(
        workflow_id=f"w-{aid}",
        assessment_id=aid,
        status="closed_complete",
        reason="done",
        at=T0 + timedelta(days=9),
    )
    assert await run(sessions, close_assessment, close) is True
    assert await run(sessions, close_assessment, close) is False
    assert len(await events(sessions, "assessment_closed")) == 1
    with pytest.raises(LifecycleError, match="is closed_complete"):
        await run(sessions, start_coaching, _start(aid))
    assert await count(sessions, LearningTaskRow) == 0
