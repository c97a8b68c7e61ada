"""Events in, workflows out: exactly one per match, none for retries or non-matches."""

from __future__ import annotations

import asyncio

import cel
import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from domain.events import TicketEvent
from domain.expressions import ExpressionError, compile_expression
from opportunities.matcher import match_event, sample_draw
from service.intake import Intake
from store.models import AssessmentRow, WorkflowStartRow
from tests.factories import make_event
from tests.helpers import until_drafted


async def _workflow_count(client: Client, workflow_id: str) -> int:
    return len([w async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")])


async def _rows(sessions, model) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_a_matching_event_starts_one_workflow_and_a_retry_starts_none(
    intake, worker, dev_client, sessions, ticket_id
):
    event = make_event(**{"ticket.id": ticket_id})
    first = await intake.ingest(event)
    workflow_id = f"coaching/low-csat/generic/{ticket_id}"
    assert first.matched == ["low-csat"]
    assert first.started == [workflow_id]
    state = await until_drafted(dev_client, workflow_id)
    assert state.status == "awaiting_review"

    retry = await intake.ingest(event)
    assert retry.started == []
    assert retry.duplicates == [workflow_id]
    assert await _workflow_count(dev_client, workflow_id) == 1
    assert await _rows(sessions, AssessmentRow) == 1


async def test_concurrent_deliveries_of_one_event_start_one_workflow(
    intake, worker, dev_client, sessions, ticket_id
):
    event = make_event(**{"ticket.id": ticket_id})
    results = await asyncio.gather(*(intake.ingest(event) for _ in range(5)))
    assert sum(len(r.started) for r in results) == 1
    assert sum(len(r.duplicates) for r in results) == 4
    await until_drafted(dev_client, f"coaching/low-csat/generic/{ticket_id}")
    assert await _rows(sessions, WorkflowStartRow) == 1


async def test_a_non_matching_event_starts_nothing(intake, worker, sessions, ticket_id):
    happy = await intake.ingest(make_event(**{"ticket.id": ticket_id, "ticket.csat.score": 5}))
    assert happy.matched == [] and happy.started == []
    assert happy.skipped == {"low-csat": "condition_false"}
    unheard = await intake.ingest(
        make_event(**{"ticket.id": ticket_id, "event_id": "u-1", "type": "ticket.updated"})
    )
    assert unheard.matched == [] and unheard.skipped == {}
    assert await _rows(sessions, WorkflowStartRow) == 0


async def test_missing_data_in_a_condition_is_no_match_not_a_crash(intake, worker, ticket_id):
    result = await intake.ingest(make_event(**{"ticket.id": ticket_id, "ticket.csat": None}))
    assert result.started == []
    assert result.skipped == {"low-csat": "condition_false"}


async def test_the_dedupe_window_holds_then_lets_a_new_workflow_start(
    intake, worker, dev_client, ticket_id
):
    base = {"ticket.id": ticket_id}
    first = await intake.ingest(make_event(**base))
    soon = await intake.ingest(
        make_event(**base, event_id="evt-soon", occurred_at="2026-11-25T10:00:00Z")
    )
    later = await intake.ingest(
        make_event(**base, event_id="evt-later", occurred_at="2027-01-05T10:00:00Z")
    )
    workflow_id = f"coaching/low-csat/generic/{ticket_id}"
    assert first.started == [workflow_id]
    assert soon.duplicates == [workflow_id]
    assert later.started == [f"{workflow_id}#2"]
    replay_of_first = await intake.ingest(make_event(**base))
    assert replay_of_first.duplicates == [workflow_id]
    await until_drafted(dev_client, f"{workflow_id}#2")


async def test_each_reassignment_is_its_own_occurrence(intake, worker, dev_client, ticket_id):
    def reassigned(n: int) -> TicketEvent:
        return make_event(
            **{
                "ticket.id": ticket_id,
                "event_id": f"r-{n}",
                "type": "ticket.reassigned",
                "change": {"field": "assignee", "from": "a-17", "to": f"a-{n}"},
            }
        )

    one, two = await intake.ingest(reassigned(1)), await intake.ingest(reassigned(2))
    assert one.started == [f"coaching/reassignment/generic/{ticket_id}/r-1"]
    assert two.started == [f"coaching/reassignment/generic/{ticket_id}/r-2"]
    state = await until_drafted(dev_client, one.started[0])
    handoff = next(r for r in state.draft.results if r.criterion_id == "handoff_note")
    assert handoff.status == "failed"


def test_sampling_is_deterministic_per_ticket(catalog):
    solved = [
        make_event(**{"ticket.id": f"s{i}", "type": "ticket.solved", "event_id": f"s{i}"})
        for i in range(400)
    ]
    first = [[m.outcome for m in match_event(e, catalog)] for e in solved]
    again = [[m.outcome for m in match_event(e, catalog)] for e in solved]
    assert first == again
    sampled = sum(1 for outcomes in first if outcomes == ["matched"])
    assert 60 <= sampled <= 140, sampled
    assert sample_draw("weekly-qa-sample", "generic", "s1") == sample_draw(
        "weekly-qa-sample", "generic", "s1"
    )


def test_teams_always_sampled_bypass_the_rate(catalog):
    for i in range(50):
        event = make_event(
            **{
                "ticket.id": f"n{i}",
                "type": "ticket.solved",
                "ticket.agent": {"id": "a-1", "name": "New", "team": "new-hires"},
            }
        )
        assert [m.outcome for m in match_event(event, catalog)] == ["matched"]


async def test_event_to_review_queue_is_one_workflow_task(
    intake, worker, dev_client, sessions, ticket_id
):
    """Start, one workflow task with two local activities, then the wait for the lead on the
    review SLA's timer, whose command goes with the same task completion.

    It waits on the database, not a query: a query landing mid-task would add a task.
    """
    (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
    async with asyncio.timeout(30):
        while not await _rows(sessions, AssessmentRow):  # noqa: ASYNC110 (polls the database)
            await asyncio.sleep(0.05)
    handle = dev_client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(10):
        while True:
            history = await handle.fetch_history()
            kinds = [
                EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events
            ]
            if "WORKFLOW_TASK_COMPLETED" in kinds:
                break
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    kinds = [
        EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
        for e in (await handle.fetch_history()).events
    ]
    assert kinds == [
        "WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "MARKER_RECORDED",
        "MARKER_RECORDED",
        "TIMER_STARTED",
    ]


async def test_the_in_process_worker_gets_the_first_task_with_the_start(
    dev_client, worker, sessions, catalog, task_queue, ticket_id
):
    """Eager start: the start response carries the first workflow task, saving a poll."""
    eager = Intake(dev_client, sessions, catalog, task_queue, eager_start=True)
    (workflow_id,) = (await eager.ingest(make_event(**{"ticket.id": ticket_id}))).started
    history = await dev_client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.eager_execution_accepted


def test_conditions_see_only_the_ticket_fields_they_name():
    from domain.context import ticket_fields

    assert ticket_fields(['ticket.csat != null && !("legal-hold" in ticket.tags)']) == {
        "csat",
        "tags",
    }
    assert ticket_fields(['event.type == "ticket.reassigned"']) == frozenset()
    assert ticket_fields(["ticket.tags.exists(t, t == 'vip')", "has(ticket.csat)"]) == {
        "tags",
        "csat",
    }
    assert ticket_fields(["size(ticket) > 1"]) is None


def test_a_context_holds_only_the_variables_its_conditions_name():
    from domain.context import event_context, variables_read

    assert variables_read(["ticket.agent != null"]) == {"ticket"}
    assert variables_read(['change != null && change.field in ["event", "ticket"]']) == {"change"}
    assert variables_read(['ticket.status == "solved" || event.type == "qa.sampled"']) == {
        "ticket",
        "event",
    }
    event = make_event()
    assert set(event_context(event, frozenset({"agent"}), frozenset({"ticket"}))) == {"ticket"}
    assert set(event_context(event)) == {"event", "ticket", "change"}


def test_a_condition_that_fails_on_an_event_quotes_the_definition_never_the_event():
    """The CEL library quotes what it could not parse; a condition error reaches the intake
    result, the QA sample's record and the CLI, so the event's values are left out of it."""
    probe = {"ticket": {"subject": "2h", "csat": {"score": 2}}}
    cases = {
        'duration(ticket.subject) > duration("1h")': "Function 'duration' error:",
        "ticket.subject.matches(ticket.subject)": "'…' not a valid regex",
        "ticket.csat.score < 3": "no such field 'score'",
    }
    event = {"ticket": {"subject": "jane.doe@example.com (", "csat": {}}}
    for source, expected in cases.items():
        expression = compile_expression(source, ("ticket",), probe)
        with pytest.raises(ExpressionError) as raised:
            expression.evaluate(cel.Context(event))
        assert expected in str(raised.value)
        assert "jane" not in str(raised.value)
