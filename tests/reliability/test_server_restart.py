"""Server restart (#7): a Temporal dev server of the test's own, on its own SQLite file, is
stopped twice mid-run and started again on the same file and port.

The first stop is a SIGTERM, as an upgrade or a `systemctl restart` does: the server shuts
down in order while events are being delivered and decisions sent. The second is a SIGKILL, a
crash, while a batch of accepted events has no worker yet and decisions wait in the server for
one: the server keeps its SQLite file in WAL mode with synchronous=NORMAL, which keeps every
committed transaction through a process kill (only an operating-system crash may lose the
last ones), so nothing acknowledged may be lost. The web app, the in-process worker and their
client stay up throughout and reconnect on their own."""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack

from sqlalchemy import func, select
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage

from domain.events import TicketEvent
from service.settings import Settings
from service.temporal import embedded_server, free_port
from service.worker import build_worker
from store.models import AssessmentRow
from tests.helpers import until_update_admitted
from tests.reliability.invariants import assert_invariants, expected_assessments, until_settled

SEED = 4242
WAVE = 30
DECIDED_SHARE = 0.3
DOWNTIME = 1.0
ADMITTED = UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED


async def _stop(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    process.send_signal(sig)
    assert await asyncio.wait_for(process.wait(), 30) in (-sig, 0)


async def _until(condition: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (the condition is met by other tasks' requests)
            await asyncio.sleep(0.01)


async def _drafted(sessions, workflow_ids) -> int:
    async with sessions() as session:
        query = select(func.count()).where(AssessmentRow.workflow_id.in_(list(workflow_ids)))
        return (await session.execute(query)).scalar_one()


async def test_the_server_restarts_mid_run_and_every_workflow_resumes(
    sessions,
    catalog,
    task_queue,
    tmp_path,
    fault_events,
    fault_people,
    fault_api,
    fault_decider,
    short_task_client,
):
    rng = random.Random(SEED)
    payloads = fault_events(3 * WAVE, SEED)
    waves = [payloads[i : i + WAVE] for i in range(0, 3 * WAVE, WAVE)]
    expected = [
        expected_assessments((TicketEvent.model_validate(p) for p in wave), catalog)
        for wave in waves
    ]
    settings = Settings(data_dir=tmp_path / "temporal")
    port = free_port()
    people = await fault_people(sessions)
    acknowledged: dict[int, str] = {}
    async with AsyncExitStack() as servers:
        server = await servers.enter_async_context(embedded_server(settings, port=port))
        client = short_task_client(server.client)
        api = fault_api(client, sessions, task_queue, people)
        deciders = [fault_decider(api, e, rng, DECIDED_SHARE) for e in expected]

        async with build_worker(client, task_queue, sessions):
            # Wave A runs and is partly decided with the server up.
            first = await api.post_events(waves[0])
            await deciders[0].run()
            # Wave B is delivered and decided across a SIGTERM.
            head = await api.post_events(waves[1][:10])
            delivering = asyncio.create_task(api.post_events(waves[1][10:]))
            deciding = asyncio.create_task(deciders[1].run())
            await _until(lambda taken=api.statuses[202]: api.statuses[202] >= taken + 3)
            await _stop(server.process, signal.SIGTERM)
            await asyncio.sleep(DOWNTIME)
            server = await servers.enter_async_context(embedded_server(settings, port=port))
            second = head + await asyncio.wait_for(delivering, 60)
            await asyncio.wait_for(deciding, 60)

        # Wave C is accepted while no worker runs; decisions on wave A's undecided assessments
        # reach the server, which holds them for a worker; then the server is killed.
        third = await api.post_events(waves[2])
        assert await _drafted(sessions, expected[2]) == 0
        undecided = {w: a for w, a in expected[0].items() if w not in deciders[0].plan}
        late = fault_decider(api, undecided, rng, DECIDED_SHARE)
        late_deciding = asyncio.create_task(late.run())
        await _until(lambda: len(late.sent) == len(late.plan))
        ids = {a: w for w, a in (await api.undecided()).items()}
        for assessment_id in late.sent:
            await until_update_admitted(client, ids[assessment_id], late.key(assessment_id))
        assert not late.acknowledged, "a decision was applied with no worker running"
        await _stop(server.process, signal.SIGKILL)
        await asyncio.sleep(DOWNTIME)
        await servers.enter_async_context(embedded_server(settings, port=port))

        async with build_worker(client, task_queue, sessions):
            await asyncio.wait_for(late_deciding, 60)
            # Wave C, accepted before the crash, drafts now and is decided like the others.
            await asyncio.wait_for(deciders[2].run(), 60)
            for decider in (*deciders, late):
                acknowledged.update(decider.acknowledged)
            events = [TicketEvent.model_validate(p) for p in payloads]
            await until_settled(sessions, catalog, events, acknowledged)
            await assert_invariants(sessions, catalog, events, acknowledged, client=client)

    assert settings.temporal_db.exists()
    assert len(late.plan) > 0 and all(d.plan for d in deciders)
    assert len(acknowledged) == sum(len(d.plan) for d in (*deciders, late))
    results = first + second + third
    assert sorted(w for r in results for w in (*r["started"], *r["duplicates"])) == sorted(
        w for e in expected for w in e
    )
    assert api.statuses[500] == 0
