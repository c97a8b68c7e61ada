"""`python worker.py`: a standalone worker for the server at TEMPORAL_ADDRESS."""

import asyncio
import logging
import sys

from service.runtime import open_store
from service.settings import Settings
from service.temporal import get_client
from service.worker import build_worker


async def main() -> int:
    settings = Settings()
    if not settings.temporal_address:
        print(
            "Set TEMPORAL_ADDRESS (host:port) to run a standalone worker; "
            "`python starter.py dev` runs the embedded server with a worker.",
            file=sys.stderr,
        )
        return 2
    client = await get_client(settings.temporal_address, settings.namespace)
    async with open_store(settings) as sessions:
        worker = build_worker(client, settings.task_queue, sessions)
        logging.info("worker on %s, task queue %s", settings.temporal_address, settings.task_queue)
        await worker.run()
    return 0


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
