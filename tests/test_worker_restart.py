"""A worker that stops or dies mid-workflow loses nothing and does nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from temporalio.client import Client

from domain.coaching import LeadDecision
from service.intake import Intake
from service.worker import build_worker
from store.models import AssessmentRow, DecisionRow, MeasurementEventRow
from tests.factories import make_event
from tests.helpers import until_drafted
from tests.people import lead
from workflows.coaching import CoachingWorkflow

ROOT = Path(__file__).resolve().parent.parent


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
        final = await handle.result()
    assert result.status == final.status == "coaching"
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
