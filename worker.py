"""`python worker.py`: a standalone worker for the server at TEMPORAL_ADDRESS."""

import asyncio
import logging
import signal
import sys

from prometheus_client import start_http_server
from temporalio.worker import Worker

from service import ops_metrics
from service.runtime import open_store
from service.settings import Settings, SettingsError
from service.temporal import connect_options, get_client
from service.worker import build_worker, worker_options


async def _run_until_stopped(worker: Worker) -> None:
    """SIGTERM (`docker stop`) or SIGINT shuts the worker down: it stops polling and gives
    running activities COACHFLOW_WORKER_GRACEFUL_SHUTDOWN_SECONDS to finish."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    running = asyncio.create_task(worker.run())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait((running, stopping), return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not running.done():
        logging.info("stopping: finishing the running activities")
        await worker.shutdown()
    await running


async def main() -> int:
    try:
        settings = Settings()
        options = connect_options(settings)
        tuning = worker_options(settings)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not settings.temporal_address:
        print(
            "Set TEMPORAL_ADDRESS (host:port) to run a standalone worker; "
            "`python starter.py dev` runs the embedded server with a worker.",
            file=sys.stderr,
        )
        return 2
    if port := settings.worker_metrics_port:
        try:
            start_http_server(port, registry=ops_metrics.REGISTRY)
        except (OSError, OverflowError) as exc:  # in use, not allowed, or above 65535
            print(
                f"COACHFLOW_WORKER_METRICS_PORT: cannot listen on port {port}: {exc}",
                file=sys.stderr,
            )
            return 2
        logging.info("metrics for Prometheus on port %d, path /metrics", port)
    client = await get_client(settings.temporal_address, settings.namespace, **options)
    async with open_store(settings) as sessions:
        worker = build_worker(client, settings.task_queue, sessions, **tuning)
        logging.info("worker on %s, task queue %s", settings.temporal_address, settings.task_queue)
        await _run_until_stopped(worker)
    return 0


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
