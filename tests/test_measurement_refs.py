"""Measurement events carry the KB article and policy to slice by, and a CSAT response that
arrives after coaching is logged against that coaching."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from domain.coaching import LeadDecision
from domain.events import TicketEvent
from service.intake import Intake
from store.metrics import MetricsSlice, compute_metrics, trends
from store.models import MeasurementEventRow
from tests.factories import make_event
from tests.helpers import assessment_of, until_drafted
from tests.people import LEAD
from workflows.coaching import CoachingWorkflow

STALE_KB = Path(__file__).parent / "corpus" / "17-stale-kb-article.json"
LINKS = {
    "ticket.kb_articles": [{"id": "kb-7", "title": "Refund timelines"}, {"id": "kb-9"}],
    "ticket.policies": [{"id": "refunds", "version": "2", "ambiguous": False}],
}


async def _events(sessions, workflow_id: str) -> list[MeasurementEventRow]:
    async with sessions() as session:
        rows = await session.execute(
            select(MeasurementEventRow)
            .where(MeasurementEventRow.workflow_id == workflow_id)
            .order_by(MeasurementEventRow.id)
        )
        return list(rows.scalars())


async def _csat_events(sessions) -> list[MeasurementEventRow]:
    async with sessions() as session:
        rows = await session.execute(
            select(MeasurementEventRow)
            .where(MeasurementEventRow.kind == "csat_after_coaching")
            .order_by(MeasurementEventRow.id)
        )
        return list(rows.scalars())


async def _drafted(intake: Intake, event: TicketEvent) -> str:
    (workflow_id,) = (await intake.ingest(event)).started
    await until_drafted(intake.client, workflow_id)
    return workflow_id


async def test_a_documentation_issue_names_the_kb_article_of_every_event(intake, worker, sessions):
    event = TicketEvent.model_validate(json.loads(STALE_KB.read_text())["event"])
    workflow_id = await _drafted(intake, event)

    row = await assessment_of(sessions, workflow_id)
    assert (row.kb_article, row.policy) == ("kb-1180", None)
    events = await _events(sessions, workflow_id)
    assert {e.kind for e in events} == {"assessment_drafted", "process_issue"}
    assert {(e.kind, e.kb_article) for e in events} == {
        ("assessment_drafted", "kb-1180"),
        ("process_issue", "kb-1180"),
    }

    async with sessions() as session:
        article = await compute_metrics(session, slice=MetricsSlice(kb_article="kb-1180"))
        other = await compute_metrics(session, slice=MetricsSlice(kb_article="kb-1"))
    assert article.drafted == 1 and article.documentation_gaps == {"kb-1180": 1}
    assert other.drafted == 0 and other.documentation_gaps == {}


async def test_without_an_issue_the_first_linked_article_and_policy_are_sliced_by(
    intake, worker, sessions, ticket_id
):
    workflow_id = await _drafted(intake, make_event(**{"ticket.id": ticket_id, **LINKS}))
    handle = intake.client.get_workflow_handle(workflow_id)
    await handle.execute_update(CoachingWorkflow.decide, LeadDecision(action="approve", by=LEAD))

    row = await assessment_of(sessions, workflow_id)
    assert (row.kb_article, row.policy) == ("kb-7", "refunds")
    by_kind = {e.kind: (e.kb_article, e.policy) for e in await _events(sessions, workflow_id)}
    assert by_kind["assessment_drafted"] == ("kb-7", "refunds")
    assert by_kind["decision_approve"] == ("kb-7", "refunds")
    async with sessions() as session:
        policy = await compute_metrics(session, slice=MetricsSlice(policy="refunds"))
    assert (policy.drafted, policy.notes_approved) == (1, 1)


async def test_csat_after_coaching_is_logged_once_against_the_latest_coaching(
    intake, worker, sessions, ticket_id
):
    workflow_id = await _drafted(intake, make_event(**{"ticket.id": ticket_id, **LINKS}))
    handle = intake.client.get_workflow_handle(workflow_id)
    await handle.execute_update(CoachingWorkflow.decide, LeadDecision(action="approve", by=LEAD))
    coached = (await assessment_of(sessions, workflow_id)).decided_at
    assert coached is not None

    def csat(event_id: str, ticket: str, at: datetime, agent: str = "a-17", score: int = 4):
        return make_event(
            **{
                "event_id": event_id,
                "occurred_at": at.isoformat(),
                "ticket.id": ticket,
                "ticket.agent.id": agent,
                "ticket.csat": {"score": score, "scale": 5},
            }
        )

    later = coached + timedelta(days=2)
    after = csat("csat-after", f"{ticket_id}-b", later)
    for _ in range(3):
        await intake.ingest(after)
    await intake.ingest(csat("csat-before", f"{ticket_id}-c", coached - timedelta(hours=1)))
    await intake.ingest(csat("csat-other-agent", f"{ticket_id}-d", later, agent="a-99"))
    await intake.ingest(csat("csat-too-late", f"{ticket_id}-e", coached + timedelta(days=31)))

    (logged,) = await _csat_events(sessions)
    assessment = await assessment_of(sessions, workflow_id)
    assert logged.assessment_id == assessment.id
    assert (logged.agent_id, logged.team, logged.kb_article, logged.policy) == (
        "a-17",
        "tier1",
        "kb-7",
        "refunds",
    )
    assert logged.occurred_at == later.astimezone(UTC)
    assert logged.data["score"] == 4 and logged.data["score_5"] == 4.0
    assert logged.data["ticket"] == f"{ticket_id}-b"
    assert logged.data["days_after"] == 2.0


async def test_an_override_withdraws_the_process_issues_the_lead_takes_back_and_files_its_own(
    intake, worker, sessions, ticket_id
):
    """The stale article's three documentation failures: the lead puts two back to the agent
    and the third down to staffing, so the documentation gap is gone from the metrics and the
    trends from the decision on, and a staffing issue stands in its place."""
    agent = f"agent-{ticket_id}"
    raw = json.loads(STALE_KB.read_text().replace('"a-102"', json.dumps(agent)))["event"]
    raw["event_id"] = f"stale-{ticket_id}"
    raw["ticket"]["id"] = ticket_id
    workflow_id = await _drafted(intake, TicketEvent.model_validate(raw))
    mine = MetricsSlice(agent=agent)
    async with sessions() as session:
        drafted = await compute_metrics(session, slice=mine)
        weeks = await trends(session, "kb_article", slice=mine)
    assert [(w.key, w.count) for w in weeks] == [("kb-1180", 1)]
    assert drafted.process_issues == 3
    assert drafted.process_issues_by_cause == {"documentation": 1}
    assert drafted.documentation_gaps == {"kb-1180": 1}

    handle = intake.client.get_workflow_handle(workflow_id)
    decision = LeadDecision(
        action="override",
        by=LEAD,
        reason="the article was current for two of them",
        causes={
            "current_kb": "agent_behavior",
            "resolution_time": "agent_behavior",
            "resolution_confirmed": "staffing",
        },
    )
    # The same update again (a client's retry) is the decision already applied.
    for _ in range(2):
        await handle.execute_update(CoachingWorkflow.decide, decision, id=f"decide-{ticket_id}")

    events = await _events(sessions, workflow_id)
    withdrawn = [e for e in events if e.kind == "process_issue_withdrawn"]
    assert sorted(e.data["criterion_id"] for e in withdrawn) == [
        "current_kb",
        "resolution_confirmed",
        "resolution_time",
    ]
    issues = {e.id: e for e in events if e.kind == "process_issue"}
    assert {e.data["issue_id"] for e in withdrawn} < set(issues)
    assert all(e.kb_article == "kb-1180" for e in withdrawn)
    filed = [e for e in issues.values() if e.data["cause"] == "staffing"]
    assert [e.data["criterion_id"] for e in filed] == ["resolution_confirmed"]

    decided_at = (await assessment_of(sessions, workflow_id)).decided_at
    async with sessions() as session:
        decided = await compute_metrics(session, slice=mine)
        before = await compute_metrics(session, until=decided_at, slice=mine)
        weeks = await trends(session, "kb_article", slice=mine)
    assert decided.process_issues == 1
    assert decided.process_issues_by_cause == {"staffing": 1}
    assert decided.documentation_gaps == {}
    assert weeks == []
    assert before.documentation_gaps == {"kb-1180": 1} and before.process_issues == 3
