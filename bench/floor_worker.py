"""`python bench/floor_worker.py`: the floor workflows on a worker built as `worker.py` builds
the product's (the same sandbox runner, the same COACHFLOW_WORKER_* tuning), for the server
at TEMPORAL_ADDRESS and the task queue COACHFLOW_TASK_QUEUE."""

from __future__ import annotations

import asyncio
import sys

from floor import FloorWorkflow, floor_step
from temporalio.worker import Worker

from service.sandbox import new_sandbox_runner
from service.settings import Settings
from service.temporal import get_client
from service.worker import worker_options


async def main() -> int:
    settings = Settings()
    if not settings.temporal_address:
        print("Set TEMPORAL_ADDRESS (host:port) for the floor worker", file=sys.stderr)
        return 2
    client = await get_client(settings.temporal_address, settings.namespace)
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[FloorWorkflow],
        activities=[floor_step],
        workflow_runner=new_sandbox_runner(),
        **worker_options(settings),
    )
    await worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
