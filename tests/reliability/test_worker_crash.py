"""Worker crashes (#7): a 200-event run over HTTP while a lead decides, with the `worker.py`
process SIGKILLed at seeded random points and restarted each time. Nothing accepted is lost,
nothing is drafted or decided twice, and nothing is left half-written."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import func, select

from domain.events import TicketEvent
from store.models import AssessmentRow
from tests.reliability.invariants import assert_invariants, expected_assessments, until_settled

SEED = 7707
EVENTS = 200
KILLS = 5
DECIDED_SHARE = 0.3
# The longest a kill leaves the queue without a worker, in seconds.
MAX_DOWNTIME = 1.0


async def test_a_worker_killed_at_random_points_loses_nothing_and_repeats_nothing(
    dev_client,
    sessions,
    catalog,
    database_url,
    task_queue,
    fault_events,
    fault_people,
    fault_api,
    fault_decider,
    short_task_client,
    worker_process,
):
    rng = random.Random(SEED)
    payloads = fault_events(EVENTS, SEED)
    events = [TicketEvent.model_validate(p) for p in payloads]
    expected = expected_assessments(events, catalog)
    client = short_task_client(dev_client)
    api = fault_api(client, sessions, task_queue, await fault_people(sessions))
    decider = fault_decider(api, expected, rng, DECIDED_SHARE)
    # Kill points are amounts of work done: drafts written plus decisions acknowledged.
    total = len(expected) + len(decider.plan)
    kill_points = sorted(rng.sample(range(5, total - 5), KILLS))
    worker = worker_process(client, database_url, task_queue)

    async def progress() -> int:
        async with sessions() as session:
            query = select(func.count()).select_from(AssessmentRow)
            drafted = (await session.execute(query)).scalar_one()
        return drafted + len(decider.acknowledged)

    await worker.start()
    delivering = asyncio.create_task(api.post_events(payloads))
    deciding = asyncio.create_task(decider.run())
    done_at_kill = []
    try:
        for point in kill_points:
            async with asyncio.timeout(120):
                while True:
                    done = await progress()
                    if done >= point:
                        break
                    await asyncio.sleep(0.02)
            done_at_kill.append(done)
            await worker.kill(expected)
            await asyncio.sleep(rng.uniform(0, MAX_DOWNTIME))
            await worker.start()
        results = await asyncio.wait_for(delivering, 120)
        await asyncio.wait_for(deciding, 120)
        await until_settled(sessions, catalog, events, decider.acknowledged)
        await assert_invariants(sessions, catalog, events, decider.acknowledged, client=client)
    finally:
        delivering.cancel()
        deciding.cancel()

    assert worker.kills == KILLS
    assert all(done < total for done in done_at_kill), "a kill came after all the work was done"
    assert len(decider.acknowledged) == len(decider.plan) > 0
    assert sorted(w for r in results for w in r["started"]) == sorted(expected)
    assert [w for r in results for w in r["duplicates"]] == []
    assert api.statuses[500] == 0
