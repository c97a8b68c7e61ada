"""The lead's decision: approve, override, dismiss, reassign; one decision per assessment.

After an approval or override the workflow goes on coaching (tasks, surveys, deadlines), so
these tests read the `state` query and the database instead of waiting for the result. The
refusals of every update are in tests/test_update_validators.py.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.coaching import DecisionResult, LeadDecision
from opportunities.catalog import Catalog
from service.intake import Intake
from service.worker import build_worker
from store.models import (
    AssessmentRow,
    AuditRow,
    CriterionResultRow,
    DecisionRow,
    MeasurementEventRow,
)
from tests.factories import make_event
from tests.helpers import assessment_of, until_drafted
from tests.people import LEAD, OUTSIDE_LEAD, SECOND_LEAD, TRAINEE
from workflows.coaching import CoachingWorkflow

DECISION_EVENTS = MeasurementEventRow.kind.like("decision_%")


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
            CoachingWorkflow.decide, LeadDecision(action="approve", by=LEAD)
        )
        assert result.status == "coaching" and result.changes == []
        assert (result.action, result.lead) == ("approve", LEAD.id)
        state = await handle.query(CoachingWorkflow.state)
    assert state.status == "coaching" and state.decision == result
    # The default draft fails no coachable criterion: no task, but both surveys go out.
    assert state.tasks == []
    assert {s.audience: s.respondent_id for s in state.surveys} == {
        "coach": LEAD.id,
        "trainee": TRAINEE.id,
    }
    row = await assessment_of(sessions, workflow_id)
    assert row.status == "coaching" and row.decided_at is not None
    assert row.released_at == row.decided_at
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
            by=LEAD,
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
    state = await handle.query(CoachingWorkflow.state)
    assert state.status == "coaching" and state.decision == result


async def test_dismiss_with_a_reason(dev_client, worker, sessions, catalog, task_queue, ticket_id):
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    result = await handle.execute_update(
        CoachingWorkflow.decide,
        LeadDecision(action="dismiss", by=LEAD, reason="customer was abusive; not a coaching case"),
    )
    assert result.status == "dismissed"
    # A dismissal ends the workflow: there is nothing to coach.
    final = await asyncio.wait_for(handle.result(), 30)
    assert final.status == "dismissed" and final.tasks == [] and final.surveys == []
    assert (await assessment_of(sessions, workflow_id)).status == "dismissed"
    assert await _count(sessions, DecisionRow, DecisionRow.action == "dismiss") == 1


async def test_a_reassigned_assessment_belongs_to_its_new_lead(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    moved = await handle.execute_update(
        CoachingWorkflow.decide, LeadDecision(action="reassign", by=LEAD, to=OUTSIDE_LEAD)
    )
    assert (moved.status, moved.to) == ("awaiting_review", OUTSIDE_LEAD.id)
    state = await handle.query(CoachingWorkflow.state)
    assert (state.status, state.assignee, state.decision) == (
        "awaiting_review",
        OUTSIDE_LEAD.id,
        None,
    )
    assert (await assessment_of(sessions, workflow_id)).assigned_lead == OUTSIDE_LEAD.id
    # The team's other lead no longer may decide; the new lead may.
    try:
        await handle.execute_update(
            CoachingWorkflow.decide, LeadDecision(action="approve", by=SECOND_LEAD)
        )
    except WorkflowUpdateFailedError as exc:
        assert isinstance(exc.cause, ApplicationError) and exc.cause.type == "Forbidden"
    else:
        raise AssertionError("a lead the assessment was taken from decided on it")
    result = await handle.execute_update(
        CoachingWorkflow.decide, LeadDecision(action="approve", by=OUTSIDE_LEAD)
    )
    assert (result.status, result.lead) == ("coaching", OUTSIDE_LEAD.id)
    assert await _count(sessions, DecisionRow) == 2
    assert await _count(sessions, MeasurementEventRow, DECISION_EVENTS) == 2


async def test_two_leads_deciding_at_once_apply_one_decision(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    # Both approve: a dismissal that won would end the workflow, and the server would abort
    # the other update instead of letting the workflow refuse it.
    outcomes = await asyncio.gather(
        *(
            handle.execute_update(CoachingWorkflow.decide, LeadDecision(action="approve", by=by))
            for by in (LEAD, SECOND_LEAD)
        ),
        return_exceptions=True,
    )
    (won,) = [o for o in outcomes if isinstance(o, DecisionResult)]
    (lost,) = [o for o in outcomes if not isinstance(o, DecisionResult)]
    assert isinstance(lost, WorkflowUpdateFailedError), lost
    assert isinstance(lost.cause, ApplicationError) and lost.cause.type == "AlreadyDecided"
    assert lost.cause.details[0] == won.model_dump(mode="json")
    state = await handle.query(CoachingWorkflow.state)
    assert state.decision == won and state.status == won.status
    assert await _count(sessions, DecisionRow) == 1
    async with sessions() as session:
        decision = (await session.execute(select(DecisionRow))).scalar_one()
    assert (decision.action, decision.lead) == (won.action, won.lead)
    assert await _count(sessions, MeasurementEventRow, DECISION_EVENTS) == 1
    assert (await assessment_of(sessions, workflow_id)).status == won.status


async def test_the_same_update_id_twice_at_once_applies_once(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    decision = LeadDecision(action="approve", by=LEAD)
    first, second = await asyncio.gather(
        handle.execute_update(CoachingWorkflow.decide, decision, id="req-1"),
        handle.execute_update(CoachingWorkflow.decide, decision, id="req-1"),
    )
    assert first == second
    assert await _count(sessions, DecisionRow) == 1
    assert await _count(sessions, MeasurementEventRow, DECISION_EVENTS) == 1
    async with sessions() as session:
        (entry,) = (await session.execute(select(AuditRow))).scalars()
    row = await assessment_of(sessions, workflow_id)
    assert (entry.actor, entry.action, entry.target) == (
        LEAD.id,
        "decision.approve",
        f"assessment:{row.id}",
    )
    assert entry.details["request_id"] == f"{row.id}:req-1"


async def test_an_update_id_reused_on_another_assessment_decides_both(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    """Clients choose update ids (the CLI's --request-id); one reused on a second assessment
    is a different decision and must be recorded, not taken for a retry of the first."""
    decision = LeadDecision(action="approve", by=LEAD)
    ids = []
    for n in (1, 2):
        workflow_id = await _drafted(
            dev_client, sessions, catalog, task_queue, f"{ticket_id}-{n}", event_id=f"evt-{n}"
        )
        handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
        result = await handle.execute_update(CoachingWorkflow.decide, decision, id="req-1")
        assert result.status == "coaching"
        row = await assessment_of(sessions, workflow_id)
        assert row.status == "coaching" and row.decided_at is not None
        ids.append(row.id)
    async with sessions() as session:
        decided = (await session.execute(select(DecisionRow.assessment_id))).scalars().all()
    assert sorted(decided) == sorted(ids)
    assert await _count(sessions, MeasurementEventRow, DECISION_EVENTS) == 2


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
        LeadDecision(action="dismiss", by=LEAD, reason="phone call, nothing to review"),
    )
    assert result.status == "dismissed"
    assert (await assessment_of(sessions, workflow_id)).status == "dismissed"


async def _criterion(sessions, assessment_id: int, criterion_id: str) -> CriterionResultRow:
    async with sessions() as session:
        return (
            await session.execute(
                select(CriterionResultRow).where(
                    CriterionResultRow.assessment_id == assessment_id,
                    CriterionResultRow.criterion_id == criterion_id,
                )
            )
        ).scalar_one()


async def test_an_override_rewrites_the_totals_and_the_notes_it_changed(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    """The lead fails two passed criteria: the agent's note now coaches them and suggests the
    tasks the agent is assigned, the QA summary and the pass follow the new score."""
    workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, ticket_id)
    before = await assessment_of(sessions, workflow_id)
    assert (before.score, before.max_score, before.passed) == (9, 11, True)
    assert "- Acknowledges the customer's situation: \"" in before.coaching_note
    assert "Suggested learning" not in before.coaching_note
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    await handle.execute_update(
        CoachingWorkflow.decide,
        LeadDecision(
            action="override",
            by=LEAD,
            reason="no empathy, and a blaming tone",
            scores={"empathy": 0, "tone": 0},
        ),
    )
    after = await assessment_of(sessions, workflow_id)
    assert (after.score, after.max_score, after.passed) == (6, 11, False)
    note = after.coaching_note
    assert "- Acknowledges the customer's situation: \"" not in note
    assert "What went well\n- Takes ownership and sets a next step: " in note
    assert "2. Acknowledges the customer's situation: scored 0 of 1 by the lead\n" in note
    assert "3. Neutral, blame-free wording: scored 0 of 2 by the lead\n" in note
    assert "Try this: Open by acknowledging what the customer is going through" in note
    state = await handle.query(CoachingWorkflow.state)
    titles = {t.id: t.title for t in catalog.opportunities["low-csat"].learning_tasks}
    assigned = [titles[t.key] for t in state.tasks]
    assert assigned and all(f"- {title} (within " in note for title in assigned)
    assert note.count(" (within ") == len(assigned)
    assert "Score 6/11 (55%), does not pass the rubric's bar" in after.qa_summary
    assert after.summary.startswith("Scored 6 of 11 against support-core@2. Failed: ")
    assert after.summary.endswith("empathy (agent behavior), tone (agent behavior).")
    assert "- [failed] Acknowledges the customer's situation 0/1: scored 0 of 1 by the lead" in (
        after.qa_summary
    )
    empathy = await _criterion(sessions, after.id, "empathy")
    assert (empathy.status, empathy.score, empathy.cause) == ("failed", 0, "agent_behavior")
    assert (empathy.explanation, empathy.evidence) == ("scored 0 of 1 by the lead", [])


async def test_an_override_of_a_cause_moves_the_point_and_keeps_a_note_the_lead_wrote(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    late_reply = "1. First reply within SLA: first_response_minutes 312 is above the maximum 240"
    staffing = "- staffing: First reply within SLA: first_response_minutes 312"
    decisions = {
        "drafted note": LeadDecision(
            action="override",
            by=LEAD,
            reason="a backlog",
            causes={"first_response_sla": "staffing"},
        ),
        "lead's note": LeadDecision(
            action="override",
            by=LEAD,
            reason="a backlog",
            causes={"first_response_sla": "staffing"},
            note="The late first reply was the backlog, not you. Nothing to work on here.",
        ),
    }
    rows = {}
    for n, (name, decision) in enumerate(decisions.items()):
        workflow_id = await _drafted(dev_client, sessions, catalog, task_queue, f"{ticket_id}-{n}")
        assert late_reply in (await assessment_of(sessions, workflow_id)).coaching_note
        handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
        await handle.execute_update(CoachingWorkflow.decide, decision)
        rows[name] = await assessment_of(sessions, workflow_id)

    drafted = rows["drafted note"].coaching_note
    assert late_reply not in drafted and "Worth working on" not in drafted
    assert "Not your doing (raised with your lead, not part of your coaching)\n" + staffing in (
        drafted
    )
    assert rows["lead's note"].coaching_note == decisions["lead's note"].note
    for row in rows.values():
        assert "First reply within SLA 0/2, cause: staffing" in row.qa_summary
        assert (row.score, row.max_score, row.passed) == (9, 11, True)
        assert [(i["criterion_id"], i["cause"]) for i in row.process_issues] == [
            ("first_response_sla", "staffing")
        ]
        assert "process_issue" in row.flags
        sla = await _criterion(sessions, row.id, "first_response_sla")
        assert sla.cause == "staffing" and sla.explanation.endswith(
            "(not the agent's doing: put down to staffing by the lead)"
        )


async def test_approving_a_stopped_draft_releases_its_coaching_not_a_held_note(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    """A draft stopped before this release holds a "held for a lead" note; the lead's
    approval renders the note again from the draft, so the agent gets the coaching."""
    workflow_id = await _drafted(
        dev_client,
        sessions,
        catalog,
        task_queue,
        ticket_id,
        **{"ticket.csat.comment": "Slow, and I'll speak to my lawyer about it."},
    )
    row = await assessment_of(sessions, workflow_id)
    assert row.status == "stopped"
    drafted_note = row.coaching_note
    assert "Worth working on\n1. First reply within SLA" in drafted_note
    async with sessions() as session, session.begin():
        await session.execute(
            update(AssessmentRow)
            .where(AssessmentRow.id == row.id)
            .values(coaching_note="Held for a lead: sensitive.")
        )
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    await handle.execute_update(CoachingWorkflow.decide, LeadDecision(action="approve", by=LEAD))
    approved = await assessment_of(sessions, workflow_id)
    assert approved.status == "coaching" and approved.coaching_note == drafted_note
