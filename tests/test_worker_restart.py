"""A worker that stops or dies mid-workflow loses nothing and does nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import (
    PendingWorkflowTaskState,
)
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    ResetStickyTaskQueueRequest,
)
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.coaching import LeadDecision
from domain.lifecycle import Acknowledge, AnswerSurvey, CompleteTask
from service.intake import Intake
from service.updates import execute_update
from service.worker import build_worker
from store.models import (
    AssessmentRow,
    CoachingResponseRow,
    DecisionRow,
    LearningTaskRow,
    MeasurementEventRow,
    SkillRow,
    SurveyRow,
)
from tests.factories import make_event
from tests.helpers import (
    until_drafted,
    until_polling,
    until_update_admitted,
    with_short_workflow_tasks,
)
from tests.people import LEAD, TRAINEE, lead
from workflows.coaching import CoachingWorkflow

ROOT = Path(__file__).resolve().parent.parent
COACH_ANSWERS = {"competence": 4, "applied_coaching": 3}
TRAINEE_ANSWERS = {"usefulness": 5, "fairness": 4}
# How long the server waits before it gives a dead worker's workflow task to another worker.
# The default is 10 s; the test shortens it so that each kill in the middle of a task costs less.
WORKFLOW_TASK_TIMEOUT = timedelta(seconds=4)


async def _count(sessions, model, *where) -> int:
    async with sessions() as session:
        return (
            await session.execute(select(func.count()).select_from(model).where(*where))
        ).scalar_one()


async def test_a_new_worker_picks_up_a_waiting_workflow(
    dev_client, sessions, catalog, task_queue, ticket_id
):
    intake = Intake(dev_client, sessions, catalog, task_queue)
    async with build_worker(dev_client, task_queue, sessions):
        (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
        await until_drafted(dev_client, workflow_id)

    async with build_worker(dev_client, task_queue, sessions, max_cached_workflows=0):
        handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
        result = await handle.execute_update(
            CoachingWorkflow.decide, LeadDecision(action="approve", by=lead("lee"))
        )
        # After the decision the workflow coaches the trainee; it does not end here.
        state = await handle.query(CoachingWorkflow.state)
    assert result.status == state.status == "coaching"
    assert await _count(sessions, AssessmentRow) == 1
    assert await _count(sessions, DecisionRow) == 1
    assert (
        await _count(
            sessions, MeasurementEventRow, MeasurementEventRow.kind == "assessment_drafted"
        )
        == 1
    )


def _spawn_worker(
    client: Client, database_url: str, task_queue: str, log: Path
) -> subprocess.Popen:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "COACHFLOW_DATABASE_URL": database_url,
        "COACHFLOW_TASK_QUEUE": task_queue,
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "worker.py")], cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def _until_drafted(sessions, at_least: int, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while await _count(sessions, AssessmentRow) < at_least:  # noqa: ASYNC110 (polls the database)
            await asyncio.sleep(0.02)


async def test_a_worker_killed_while_drafting_loses_nothing(
    dev_client, sessions, catalog, task_queue, database_url, tmp_path
):
    events = [
        make_event(**{"ticket.id": f"k{i}-{task_queue[-8:]}", "event_id": f"k{i}"})
        for i in range(40)
    ]
    log = tmp_path / "worker.log"
    first = _spawn_worker(dev_client, database_url, task_queue, log)
    try:
        intake = Intake(dev_client, sessions, catalog, task_queue)
        results = await intake.ingest_many(events)
        started = [w for r in results for w in r.started]
        assert len(started) == 40
        await _until_drafted(sessions, 3, seconds=60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = await _count(sessions, AssessmentRow)
    finally:
        if first.poll() is None:
            first.kill()
    second = _spawn_worker(dev_client, database_url, task_queue, log)
    try:
        await _until_drafted(sessions, 40, seconds=120)
        for workflow_id in started[:5]:
            handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
            await handle.execute_update(
                CoachingWorkflow.decide, LeadDecision(action="approve", by=lead("lee"))
            )
    finally:
        second.kill()
        second.wait(10)
    assert killed_at < 40, "the kill came too late to interrupt anything"
    assert await _count(sessions, AssessmentRow) == 40
    assert (
        await _count(
            sessions,
            MeasurementEventRow,
            MeasurementEventRow.kind.in_(("assessment_drafted", "assessment_stopped")),
        )
        == 40
    )
    assert await _count(sessions, DecisionRow) == 5
    async with sessions() as session:
        ids = set((await session.execute(select(AssessmentRow.workflow_id))).scalars())
    assert ids == set(started)


# Killing the worker between any two steps of the whole lifecycle, and in the middle of updates.


class _Workers:
    """One `worker.py` subprocess at a time, SIGKILLed and replaced on demand.

    After a kill the workflows are released from the dead worker's sticky queue, as a worker
    that shuts down cleanly does; else the server would wait 10 s for the dead worker before it
    hands each workflow to the new one.
    """

    def __init__(self, client: Client, database_url: str, task_queue: str, log: Path):
        self.client, self.database_url, self.task_queue = client, database_url, task_queue
        self.log = log
        self.process: subprocess.Popen | None = None
        self.workflow_ids: list[str] = []
        self.kills = 0

    async def start(self) -> None:
        self.process = _spawn_worker(self.client, self.database_url, self.task_queue, self.log)
        await until_polling(
            self.client,
            self.task_queue,
            self.process.pid,
            lambda: self.process is not None and self.process.poll() is None,
            self._tail,
        )

    async def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, self._tail()
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(10) == -signal.SIGKILL
        self.kills += 1
        for workflow_id in self.workflow_ids:
            try:
                await self.client.workflow_service.reset_sticky_task_queue(
                    ResetStickyTaskQueueRequest(
                        namespace=self.client.namespace,
                        execution=WorkflowExecution(workflow_id=workflow_id),
                    )
                )
            except RPCError as err:  # the workflow has completed
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise

    async def restart(self) -> None:
        await self.kill()
        await self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


async def _update(handle: WorkflowHandle, update: Any, arg: Any, update_id: str) -> Any:
    """Run an update to completion, as the CLI does (NotReady while a restarted worker drafts
    again is retried). If the SDK gives up while a worker is down, send it again with the same
    update id: the server deduplicates by id, so it still applies once."""
    for _ in range(5):
        try:
            return await execute_update(handle, update, arg, update_id)
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
    raise AssertionError(f"update {update_id} never completed")


async def _until_task_started(client: Client, workflow_id: str) -> None:
    """Until a worker has picked up the workflow's pending workflow task."""
    request = DescribeWorkflowExecutionRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
    )
    started = PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
    async with asyncio.timeout(10):
        while True:
            described = await client.workflow_service.describe_workflow_execution(request)
            if (
                described.HasField("pending_workflow_task")
                and described.pending_workflow_task.state == started
            ):
                return
            await asyncio.sleep(0.01)


@asynccontextmanager
async def _write_lock(sessions, model: Any, row_id: int) -> AsyncIterator[None]:
    """Hold a write lock on one row (SQLite: on the database) until the block ends, then roll
    back: a worker's transaction that writes it waits, and commits nothing if it is killed."""
    async with sessions() as session:
        await session.execute(update(model).where(model.id == row_id).values(id=model.id))
        try:
            yield
        finally:
            await session.rollback()


@asynccontextmanager
async def _refusing_event(sessions, kind: str) -> AsyncIterator[None]:
    """Until the block ends, every transaction that appends a measurement event of `kind` fails
    (and is retried by its activity): what the workflow does before it is committed, and what
    it does from there on is not."""
    name = f"test_refuse_{kind}"
    async with sessions() as session, session.begin():
        if session.bind.dialect.name == "postgresql":
            await session.execute(
                text(
                    "CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql "
                    "AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
                )
            )
            create = (
                f"CREATE TRIGGER {name} BEFORE INSERT ON measurement_events FOR EACH ROW "
                f"WHEN (NEW.kind = '{kind}') EXECUTE FUNCTION test_refuse()"
            )
            drop = f"DROP TRIGGER IF EXISTS {name} ON measurement_events"
        else:
            create = (
                f"CREATE TRIGGER {name} BEFORE INSERT ON measurement_events "
                f"WHEN NEW.kind = '{kind}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
            drop = f"DROP TRIGGER IF EXISTS {name}"
        await session.execute(text(create))
    try:
        yield
    finally:
        async with sessions() as session, session.begin():
            await session.execute(text(drop))


async def _accepted(handle: WorkflowHandle, update_id: str) -> bool:
    """Whether the workflow's history shows the update accepted by a worker."""
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            attributes = event.workflow_execution_update_accepted_event_attributes
            if attributes.accepted_request.meta.update_id == update_id:
                return True
    return False


async def _killed_mid_update(
    workers: _Workers,
    handle: WorkflowHandle,
    update_call: Any,
    arg: Any,
    update_id: str,
    *,
    kill_when: Callable[[], Awaitable[Any]] | None = None,
) -> asyncio.Task:
    """Send the update and SIGKILL the worker once the server has admitted it and `kill_when()`
    returns. The call is returned still running: it must complete on the next worker."""
    pending = asyncio.create_task(_update(handle, update_call, arg, update_id))
    await until_update_admitted(workers.client, handle.id, update_id, seconds=10)
    if kill_when is not None:
        await kill_when()
    await workers.kill()
    if kill_when is not None:
        # The dead worker never reported the update, so the next worker runs it from the start.
        assert not await _accepted(handle, update_id)
    return pending


async def _poll(sessions, query: Any, done: Any = bool, seconds: float = 30) -> Any:
    """Run `query` until `done(rows)`; the rows."""
    async with asyncio.timeout(seconds):
        while True:
            async with sessions() as session:
                rows = (await session.execute(query)).scalars().all()
            if done(rows):
                return rows
            await asyncio.sleep(0.02)


async def test_killing_the_worker_between_any_two_steps_loses_nothing_and_repeats_nothing(
    dev_client, sessions, catalog, task_queue, database_url, ticket_id, tmp_path
):
    """Event, draft, override, task, two surveys, acknowledgement, closure: the worker is
    SIGKILLed and replaced between every two steps, and four times while it runs an update:
    before it writes anything (the decision, the task), after a write it must not repeat (the
    acknowledgement), and at whatever point it has reached right after the update arrives."""
    client = with_short_workflow_tasks(dev_client, WORKFLOW_TASK_TIMEOUT)
    workers = _Workers(client, database_url, task_queue, tmp_path / "worker.log")
    intake = Intake(client, sessions, catalog, task_queue)
    try:
        # The event; the worker is killed as soon as the workflow starts, while it drafts.
        await workers.start()
        (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
        workers.workflow_ids.append(workflow_id)
        handle = client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
        await workers.restart()
        (assessment,) = await _poll(
            sessions, select(AssessmentRow).where(AssessmentRow.workflow_id == workflow_id)
        )
        assert assessment.status == "awaiting_review"

        # The override, which starts the coaching in its own transaction: killed once a worker
        # holds the update, that transaction waiting on a lock.
        await workers.restart()
        async with _write_lock(sessions, AssessmentRow, assessment.id):
            deciding = await _killed_mid_update(
                workers,
                handle,
                CoachingWorkflow.decide,
                LeadDecision(
                    action="override", by=LEAD, scores={"empathy": 0}, reason="no empathy"
                ),
                f"{workflow_id}:decide",
                kill_when=lambda: _until_task_started(client, workflow_id),
            )
        assert await _count(sessions, DecisionRow) == 0
        await workers.start()
        decided = await asyncio.wait_for(deciding, 30)
        assert decided.status == "coaching"

        # The reply found the coaching started: one task, two surveys.
        await workers.restart()
        (task,) = await _poll(
            sessions, select(LearningTaskRow).where(LearningTaskRow.assessment_id == assessment.id)
        )
        surveys = await _poll(
            sessions,
            select(SurveyRow)
            .where(SurveyRow.assessment_id == assessment.id)
            .order_by(SurveyRow.id),
            lambda rows: len(rows) == 2,
        )
        assert task.task_key == "empathy-refresher"

        # The task: killed once a worker holds the update, its write waiting on a lock.
        await workers.restart()
        async with _write_lock(sessions, LearningTaskRow, task.id):
            completing = await _killed_mid_update(
                workers,
                handle,
                CoachingWorkflow.complete_task,
                CompleteTask(by=TRAINEE, task_id=task.id),
                f"{workflow_id}:task:{task.id}",
                kill_when=lambda: _until_task_started(client, workflow_id),
            )
        assert await _count(sessions, SkillRow) == 0
        await workers.start()
        done = await asyncio.wait_for(completing, 30)
        assert done.status == "completed"

        # The surveys: the second one killed right after the server admits the answer.
        answers = {"coach": (LEAD, COACH_ANSWERS), "trainee": (TRAINEE, TRAINEE_ANSWERS)}
        for position, survey in enumerate(surveys):
            await workers.restart()
            by, given = answers[survey.audience]
            answer = AnswerSurvey(by=by, survey_id=survey.id, answers=given)
            update_id = f"{workflow_id}:survey:{survey.id}"
            if position == 0:
                answered = await _update(handle, CoachingWorkflow.answer_survey, answer, update_id)
            else:
                answering = await _killed_mid_update(
                    workers, handle, CoachingWorkflow.answer_survey, answer, update_id
                )
                await workers.start()
                answered = await asyncio.wait_for(answering, 30)
            assert answered.status == "answered"

        # The acknowledgement: killed after it is written, before the assessment closes.
        await workers.restart()
        async with _refusing_event(sessions, "assessment_closed"):
            acknowledging = await _killed_mid_update(
                workers,
                handle,
                CoachingWorkflow.acknowledge,
                Acknowledge(by=TRAINEE),
                f"{workflow_id}:ack",
                kill_when=lambda: _poll(sessions, select(CoachingResponseRow.id)),
            )
        await workers.start()
        acknowledged = await asyncio.wait_for(acknowledging, 30)
        assert acknowledged.kind == "acknowledged"

        await workers.restart()
        final = await asyncio.wait_for(handle.result(), 30)
    finally:
        workers.stop()

    assert workers.kills == 12
    assert final.status == "closed_complete", final.closed_reason
    assert await _count(sessions, AssessmentRow) == 1
    assert await _count(sessions, AssessmentRow, AssessmentRow.status == "closed_complete") == 1
    assert await _count(sessions, DecisionRow) == 1
    assert await _count(sessions, LearningTaskRow) == 1
    assert await _count(sessions, LearningTaskRow, LearningTaskRow.status == "completed") == 1
    assert await _count(sessions, SkillRow) == 1
    assert await _count(sessions, SurveyRow) == 2
    assert await _count(sessions, SurveyRow, SurveyRow.status == "answered") == 2
    assert await _count(sessions, CoachingResponseRow) == 1
    async with sessions() as session:
        events = (
            await session.execute(select(MeasurementEventRow.kind, MeasurementEventRow.dedupe_key))
        ).all()
    assert len(set(events)) == len(events)
    assert Counter(kind for kind, _ in events if kind != "process_issue") == {
        "assessment_drafted": 1,
        "decision_override": 1,
        "coaching_started": 1,
        "task_assigned": 1,
        "survey_sent": 2,
        "task_completed": 1,
        "skill_awarded": 1,
        "survey_answered": 2,
        "acknowledged": 1,
        "assessment_closed": 1,
    }
    # Each update was accepted once and completed once in the workflow's history.
    accepted: Counter[str] = Counter()
    completed: Counter[str] = Counter()
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            attributes = event.workflow_execution_update_accepted_event_attributes
            accepted[attributes.accepted_request.meta.update_id] += 1
        if event.HasField("workflow_execution_update_completed_event_attributes"):
            completed[
                event.workflow_execution_update_completed_event_attributes.meta.update_id
            ] += 1
    updates = {"decide", "ack", f"task:{task.id}", *(f"survey:{s.id}" for s in surveys)}
    assert accepted == completed == Counter({f"{workflow_id}:{u}": 1 for u in updates})
