"""The decision's activity on its own: an approval or override writes the decision and starts the
coaching in one transaction, and a retry of it writes nothing twice."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import delete, select, update
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.decisions import DecisionActivities
from domain.coaching import LeadDecision, RecordDecisionRequest
from domain.people import Actor
from store.models import (
    AssessmentRow,
    DecisionRow,
    LearningTaskRow,
    MeasurementEventRow,
    SurveyRow,
)
from tests.test_lifecycle_store import T0, _start, make_assessment

LEAD = Actor(id="lead-3", role="lead", teams=["tier-1"])


async def _awaiting_review(sessions) -> int:
    aid = await make_assessment(sessions)
    async with sessions() as session, session.begin():
        await session.execute(delete(DecisionRow).where(DecisionRow.assessment_id == aid))
        await session.execute(
            update(AssessmentRow)
            .where(AssessmentRow.id == aid)
            .values(status="awaiting_review", decided_at=None)
        )
    return aid


def _request(aid: int, trainee: str = "agent-17") -> RecordDecisionRequest:
    return RecordDecisionRequest(
        workflow_id=f"w-{aid}",
        request_id=f"{aid}:update-1",
        assessment_id=aid,
        decision=LeadDecision(action="approve", by=LEAD),
        changes=[],
        decided_at=T0,
        new_status="coaching",
        coaching=_start(aid, trainee=trainee),
    )


async def _rows(sessions, model, aid: int) -> list:
    async with sessions() as session:
        return list(
            (await session.execute(select(model).where(model.assessment_id == aid))).scalars()
        )


async def test_a_retried_decision_returns_the_coaching_it_started_and_writes_nothing_twice(
    sessions,
):
    aid = await _awaiting_review(sessions)
    record = DecisionActivities(sessions).record_decision
    first = await ActivityEnvironment().run(record, _request(aid))
    again = await ActivityEnvironment().run(record, _request(aid))

    assert (first.created, again.created) == (True, False)
    assert first.coaching is not None and first.coaching == again.coaching
    assert [t.key for t in first.coaching.tasks] == ["refund-timing", "empathy", "read-kb"]
    assert [s.audience for s in first.coaching.surveys] == ["coach", "trainee"]
    assert len(await _rows(sessions, DecisionRow, aid)) == 1
    assert len(await _rows(sessions, LearningTaskRow, aid)) == 3
    assert len(await _rows(sessions, SurveyRow, aid)) == 2
    kinds = Counter(e.kind for e in await _rows(sessions, MeasurementEventRow, aid))
    assert kinds == {
        "decision_approve": 1,
        "coaching_started": 1,
        "task_assigned": 3,
        "survey_sent": 2,
    }
    started = next(
        e for e in await _rows(sessions, MeasurementEventRow, aid) if e.kind == "coaching_started"
    )
    assert started.data["tasks"] == ["refund-timing", "empathy", "read-kb"]
    assert (started.agent_id, started.queue, started.team) == ("agent-17", "billing", "tier-1")


async def test_a_coaching_the_store_refuses_leaves_no_decision_behind(sessions):
    aid = await _awaiting_review(sessions)
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(
            DecisionActivities(sessions).record_decision, _request(aid, trainee="agent-99")
        )
    assert refused.value.type == "LifecycleRefused" and refused.value.non_retryable
    assert "belongs to another trainee" in str(refused.value)
    assert await _rows(sessions, DecisionRow, aid) == []
    assert await _rows(sessions, LearningTaskRow, aid) == []
    assert await _rows(sessions, MeasurementEventRow, aid) == []
    async with sessions() as session:
        row = await session.get(AssessmentRow, aid)
    assert (row.status, row.decided_at) == ("awaiting_review", None)
