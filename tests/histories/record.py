"""Record one history per main path of every workflow, for tests/reliability/test_replay.py.

    python -m tests.histories.record

Runs each path on a fresh Temporal dev server (the paths that end without waiting for time) or
on the time-skipping test server (the review SLA, deadlines passing), with the product's worker
and a fresh SQLite database, and writes each finished workflow's history as
`tests/histories/current/<path>.json` (`WorkflowHistory.to_json()`), plus `index.json` with the
workflow id and type of each. The tickets are the synthetic ones of tests/factories.py.

Record again after a deliberate change to a workflow (one that `workflow.patched` guards, or a
new workflow type); never to make a failing replay pass. Before recording a patched change,
rename `current/` for the patch (`before-<patch id>/`): workflows started on the old code are
still running somewhere, so their histories stay and keep replaying.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.coaching import CoachingState, LeadDecision
from domain.lifecycle import Acknowledge, AnswerSurvey, CompleteTask, Dispute, ResolveDispute
from domain.people import Actor
from domain.sampling import QASampleInput
from opportunities.catalog import Catalog, load_catalog
from service.intake import Intake
from service.manual import start_manual_assessment
from service.settings import Settings
from service.temporal import embedded_server, find_binary
from service.worker import build_worker
from store.db import make_engine, session_factory, sqlite_url
from store.migrate import upgrade
from tests.factories import BASE, make_event
from tests.helpers import until_drafted
from tests.people import LEAD, QA_LEAD, SECOND_LEAD, TRAINEE
from workflows.coaching import CoachingWorkflow
from workflows.qa_sample import QASampleWorkflow

HERE = Path(__file__).resolve().parent / "current"
INDEX = HERE / "index.json"
ANSWERS = {
    "coach": {"competence": 4, "applied_coaching": 3},
    "trainee": {"usefulness": 5, "fairness": 4},
}
REASON = "the delay was the queue backlog, not the agent"
# Past the review's expiry and every task's, survey's and response's deadline.
LONGEST_DEADLINE = timedelta(days=30)


@dataclasses.dataclass
class Stack:
    client: Client
    sessions: async_sessionmaker
    catalog: Catalog
    task_queue: str
    env: WorkflowEnvironment | None = None

    async def drafted(
        self, catalog: Catalog | None = None, **overrides: Any
    ) -> WorkflowHandle[CoachingWorkflow, CoachingState]:
        """The default low-CSAT event for a new ticket, ingested; its workflow once drafted."""
        intake = Intake(self.client, self.sessions, catalog or self.catalog, self.task_queue)
        ticket = f"h{uuid.uuid4().hex[:10]}"
        event = make_event(**{"event_id": f"{ticket}-e1", "ticket.id": ticket, **overrides})
        (workflow_id,) = (await intake.ingest(event)).started
        await until_drafted(self.client, workflow_id)
        return self.client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)


def _lead(actor_id: str) -> Actor:
    return Actor(id=actor_id, role="lead", teams=["tier1"])


async def _decide(handle, action: str, by: Actor = LEAD, **fields: Any) -> None:
    decision = LeadDecision(action=action, by=by, **fields)
    await handle.execute_update(CoachingWorkflow.decide, decision)


async def _override(handle, by: Actor = LEAD) -> None:
    await _decide(handle, "override", by, scores={"empathy": 0, "tone": 0}, reason=REASON)


async def _finish(handle, respond: bool = True) -> CoachingState:
    """The trainee completes every task, both sides answer their surveys, the trainee
    acknowledges; then the workflow closes."""
    state = await handle.query(CoachingWorkflow.state)
    for task in state.tasks:
        if task.status == "open":
            await handle.execute_update(
                CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=task.id)
            )
    for survey in state.surveys:
        if survey.status == "open":
            by = TRAINEE if survey.audience == "trainee" else _lead(survey.respondent_id)
            request = AnswerSurvey(by=by, survey_id=survey.id, answers=ANSWERS[survey.audience])
            await handle.execute_update(CoachingWorkflow.answer_survey, request)
    if respond:
        await handle.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE))
    return await handle.result()


# --- the paths ---------------------------------------------------------------------------------


async def approved_then_closed_complete(stack: Stack):
    handle = await stack.drafted()
    await _decide(handle, "approve")
    return handle, await _finish(handle)


async def overridden_then_closed_complete(stack: Stack):
    handle = await stack.drafted()
    await _override(handle)
    return handle, await _finish(handle)


async def dismissed(stack: Stack):
    handle = await stack.drafted()
    await _decide(handle, "dismiss", reason=REASON)
    return handle, await handle.result()


async def reassigned_then_approved(stack: Stack):
    handle = await stack.drafted()
    await _decide(handle, "reassign", to=SECOND_LEAD)
    await _decide(handle, "approve", by=SECOND_LEAD)
    return handle, await _finish(handle)


async def stopped_then_dismissed(stack: Stack):
    handle = await stack.drafted(**{"ticket.messages": []})
    await _decide(handle, "dismiss", reason="nothing to assess without the thread")
    return handle, await handle.result()


async def virtual_coach(stack: Stack):
    low_csat = stack.catalog.opportunities["low-csat"].model_copy(update={"virtual_coach": True})
    catalog = dataclasses.replace(
        stack.catalog, opportunities={**stack.catalog.opportunities, "low-csat": low_csat}
    )
    messages = copy.deepcopy(BASE["ticket"]["messages"])
    messages[1]["body"] = (
        "Hi Maria, I will check with billing and update you by Friday. "
        "The receipt went to maria@example.org."
    )
    handle = await stack.drafted(catalog, **{"ticket.messages": messages})
    return handle, await _finish(handle)


async def disputed_then_amended(stack: Stack):
    handle = await stack.drafted()
    await _override(handle)
    await handle.execute_update(
        CoachingWorkflow.dispute, Dispute(by=TRAINEE, reason="the customer asked for brevity")
    )
    await handle.execute_update(
        CoachingWorkflow.resolve_dispute,
        ResolveDispute(by=SECOND_LEAD, resolution="amended", note="Brevity was asked for."),
    )
    return handle, await _finish(handle, respond=False)


async def manual_then_approved(stack: Stack):
    ticket = f"h{uuid.uuid4().hex[:10]}"
    event = make_event(
        **{"event_id": f"{ticket}-e1", "ticket.id": ticket, "type": "ticket.updated"}
    )
    intake = Intake(stack.client, stack.sessions, stack.catalog, stack.task_queue)
    assert not (await intake.ingest(event)).started
    workflow_id = await start_manual_assessment(
        stack.client,
        stack.sessions,
        stack.catalog,
        stack.task_queue,
        "generic",
        ticket,
        "support-core",
        LEAD.id,
    )
    await until_drafted(stack.client, workflow_id)
    handle = stack.client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    await _decide(handle, "approve")
    return handle, await _finish(handle)


async def _after_every_deadline(stack: Stack, handle) -> Any:
    assert stack.env is not None
    await stack.env.sleep(LONGEST_DEADLINE)
    return await handle.result()


async def review_reminded_escalated_expired(stack: Stack):
    handle = await stack.drafted()
    return handle, await _after_every_deadline(stack, handle)


async def escalated_then_decided_by_the_escalation_group(stack: Stack):
    assert stack.env is not None
    handle = await stack.drafted()
    review = stack.catalog.opportunities["low-csat"].review
    await stack.env.sleep(review.due + review.escalate_after + timedelta(hours=1))
    state = await handle.query(CoachingWorkflow.state)
    assert state.escalated, state
    await _decide(handle, "approve", by=QA_LEAD)
    return handle, await _finish(handle)


async def coached_then_deadlines_pass(stack: Stack):
    """A task done, an acknowledgement; the other task and the surveys run out."""
    handle = await stack.drafted()
    await _override(handle)
    state = await handle.query(CoachingWorkflow.state)
    await handle.execute_update(
        CoachingWorkflow.complete_task, CompleteTask(by=TRAINEE, task_id=state.tasks[0].id)
    )
    await handle.execute_update(CoachingWorkflow.acknowledge, Acknowledge(by=TRAINEE))
    return handle, await _after_every_deadline(stack, handle)


async def dispute_lapses(stack: Stack):
    handle = await stack.drafted()
    await _override(handle)
    await handle.execute_update(
        CoachingWorkflow.dispute, Dispute(by=TRAINEE, reason="nobody will look at this")
    )
    return handle, await _after_every_deadline(stack, handle)


async def qa_sample_run(stack: Stack):
    now = datetime.now(UTC)
    events = []
    for i, (score, channel) in enumerate([(5, "email"), (1, "chat"), (None, "email")]):
        ticket = f"q{uuid.uuid4().hex[:10]}"
        solved = now - timedelta(days=1 + i)
        events.append(
            make_event(
                **{
                    "event_id": f"{ticket}-updated",
                    "type": "ticket.updated",
                    "occurred_at": solved.isoformat(),
                    "ticket.id": ticket,
                    "ticket.channel": channel,
                    "ticket.csat": {"score": score, "scale": 5} if score else None,
                    "ticket.created_at": (solved - timedelta(hours=3)).isoformat(),
                    "ticket.solved_at": solved.isoformat(),
                }
            )
        )
    await Intake(stack.client, stack.sessions, stack.catalog, stack.task_queue).ingest_many(events)
    run_id = f"qa-sample/record-{uuid.uuid4().hex[:8]}"
    handle = await stack.client.start_workflow(
        QASampleWorkflow.run,
        QASampleInput(per_agent=2, window=timedelta(days=7), scheduled_at=now),
        id=run_id,
        task_queue=stack.task_queue,
    )
    return handle, await handle.result()


Scenario = Callable[[Stack], Awaitable[tuple[WorkflowHandle, Any]]]
ON_DEV_SERVER: list[Scenario] = [
    approved_then_closed_complete,
    overridden_then_closed_complete,
    dismissed,
    reassigned_then_approved,
    stopped_then_dismissed,
    virtual_coach,
    disputed_then_amended,
    manual_then_approved,
    qa_sample_run,
]
ON_TIME_SKIPPING_SERVER: list[Scenario] = [
    review_reminded_escalated_expired,
    escalated_then_decided_by_the_escalation_group,
    coached_then_deadlines_pass,
    dispute_lapses,
]


# --- recording ---------------------------------------------------------------------------------


async def _record(stack: Stack, scenarios: list[Scenario], index: dict[str, Any]) -> None:
    async with build_worker(stack.client, stack.task_queue, stack.sessions, catalog=stack.catalog):
        for scenario in scenarios:
            handle, result = await scenario(stack)
            history = await handle.fetch_history()
            name = scenario.__name__.replace("_", "-")
            (HERE / f"{name}.json").write_text(history.to_json() + "\n", encoding="utf-8")
            index[f"{name}.json"] = {
                "workflow_id": handle.id,
                "workflow_type": history.events[
                    0
                ].workflow_execution_started_event_attributes.workflow_type.name,
                "server": "time-skipping" if stack.env else "dev",
                "scenario": (scenario.__doc__ or name).strip().splitlines()[0],
                "outcome": getattr(result, "status", None) or type(result).__name__,
                "events": len(history.events),
            }
            print(f"{name}: {index[f'{name}.json']['outcome']}, {len(history.events)} events")


async def main() -> None:
    HERE.mkdir(exist_ok=True)
    for old in HERE.glob("*.json"):
        old.unlink()
    index: dict[str, Any] = {}
    catalog = load_catalog()
    assert not catalog.problems, [str(p) for p in catalog.problems]
    with tempfile.TemporaryDirectory(prefix="coachflow-histories-") as scratch:
        root = Path(scratch)
        url = sqlite_url(root / "coachflow.db")
        await upgrade(url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        try:
            async with embedded_server(Settings(data_dir=root / "temporal")) as server:
                stack = Stack(server.client, sessions, catalog, "record-histories")
                await _record(stack, ON_DEV_SERVER, index)
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=pydantic_data_converter,
                test_server_existing_path=find_binary("temporal-test-server"),
            )
            try:
                stack = Stack(env.client, sessions, catalog, "record-histories", env)
                await _record(stack, ON_TIME_SKIPPING_SERVER, index)
            finally:
                await env.shutdown()
        finally:
            await engine.dispose()
    INDEX.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
