"""What the end-to-end benchmarks share: a fresh embedded stack (the Temporal dev server with
its WAL pragmas, a migrated database, workers in their own processes), the events they ingest,
the leads who decide, and percentiles, load and JSON for the report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from floor import FloorInput, FloorWorkflow
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from domain.events import TicketEvent
from examples.demo_tickets import generate
from intake.generic import parse_event
from opportunities.catalog import Catalog
from opportunities.matcher import match_event
from service.intake import Intake
from service.runtime import catalog_for, open_store
from service.settings import Settings, SettingsError
from service.temporal import embedded_server
from store import db
from store.db import normalize_url
from store.models import AssessmentRow
from store.users import actor_of, add_user, issue_token
from web.auth import User
from web.context import WebContext

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PRODUCT_WORKER = ROOT / "worker.py"
FLOOR_WORKER = ROOT / "bench" / "floor_worker.py"
IN_QUEUE = ("awaiting_review", "stopped")
DEMO_TEAMS = ["tier1", "tier2", "new-hires"]
WORKER_STOP_SECONDS = 15
SDK_WORKFLOW_CACHE = 1000


def at_least(
    minimum: float, convert: Callable[[str], Any] = int, most: float | None = None
) -> Callable[[str], Any]:
    """An argparse type: a number of `convert`'s kind from `minimum` (to `most`)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            kind = "whole number" if convert is int else "number"
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind}") from None
        if value < minimum or (most is not None and value > most):
            bounds = f"from {minimum} to {most}" if most is not None else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {text}")
        return value

    return parse


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("COACHFLOW_DATABASE_URL"),
        help="a PostgreSQL server to create a fresh benchmark database on, dropped after "
        "(default: COACHFLOW_DATABASE_URL when it is PostgreSQL, else SQLite in a temporary "
        "folder)",
    )


def worker_cache() -> int:
    """How many workflows the worker caches: COACHFLOW_WORKER_MAX_CACHED_WORKFLOWS, else the
    SDK's default."""
    try:
        configured = Settings().worker_max_cached_workflows
    except SettingsError as exc:
        raise SystemExit(str(exc)) from None
    return configured or SDK_WORKFLOW_CACHE


def percentiles(values: Iterable[float]) -> dict[str, float]:
    """p50, p95, p99 and max of `values` (inclusive quantiles), rounded to 0.1."""
    data = sorted(values)
    if not data:
        return {"count": 0}
    cuts = statistics.quantiles(data, n=100, method="inclusive") if len(data) > 1 else data * 99
    return {
        "count": len(data),
        "p50": round(statistics.median(data), 1),
        "p95": round(cuts[94], 1),
        "p99": round(cuts[98], 1),
        "max": round(data[-1], 1),
    }


def machine() -> dict[str, Any]:
    one, five, fifteen = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(one, 2), round(five, 2), round(fifteen, 2)],
        "memory_available_mb": psutil.virtual_memory().available // 2**20,
    }


def load_line(label: str) -> str:
    one, five, fifteen = machine()["load_average_1_5_15"]
    return f"load average {label}: {one} {five} {fifteen} on {os.cpu_count()} CPUs"


class CpuMeter:
    """CPU seconds (user + system) each named process spends between `start` and `stop`."""

    def __init__(self, **processes: psutil.Process) -> None:
        self.processes = processes
        self.seconds: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {name: sum(p.cpu_times()[:2]) for name, p in self.processes.items()}

    def start(self) -> None:
        self._started, self._wall = self._now(), time.monotonic()

    def stop(self) -> dict[str, Any]:
        ended, wall = self._now(), time.monotonic() - self._wall
        self.seconds = {name: ended[name] - self._started[name] for name in ended}
        return {
            "wall_seconds": round(wall, 1),
            "cpu_seconds": {name: round(s, 1) for name, s in self.seconds.items()},
        }


def write_result(name: str, report: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(report, indent=2, default=str))
    return path


def matched_events(catalog: Catalog, count: int, seed: int = 7) -> list[TicketEvent]:
    """`count` demo events that each start exactly one coaching workflow, every ticket
    distinct. The ones no opportunity takes are left out: they never reach a workflow."""
    wanted = math.ceil(count * 1.3) + 20
    while True:
        events = [parse_event(raw) for raw in generate(seed=seed, count=wanted)]
        taken = [e for e in events if sum(m.matched for m in match_event(e, catalog)) == 1][:count]
        if len(taken) == count:
            return taken
        wanted *= 2


@asynccontextmanager
async def fresh_database(configured: str | None, folder: Path) -> AsyncIterator[str]:
    """A new PostgreSQL database beside `configured` (dropped after), else SQLite in `folder`."""
    try:
        parsed = make_url(normalize_url(configured)) if configured else None
    except (ValueError, ArgumentError) as exc:
        raise SystemExit(f"--database-url: {exc}") from None
    postgres = parsed is not None and parsed.get_backend_name() == "postgresql"
    async with db.fresh_database(
        configured if postgres else None, folder, "coachflow_bench"
    ) as url:
        yield url


@dataclass
class Stack:
    """The embedded dev server and the database, both fresh, in a temporary folder."""

    settings: Settings
    client: Client
    address: str
    server: psutil.Process
    sessions: async_sessionmaker
    catalog: Catalog
    database: str
    workers: list[asyncio.subprocess.Process] = field(default_factory=list)

    def intake(self, task_queue: str) -> Intake:
        """As `starter.py ingest` builds it for a separate worker (no eager start)."""
        return Intake(
            self.client,
            self.sessions,
            self.catalog,
            task_queue,
            eager_start=False,
            concurrency=self.settings.start_concurrency,
        )

    def web_context(self, task_queue: str) -> WebContext:
        """What the web app's handlers get: the JSON API's decision goes through it."""
        return WebContext(
            settings=self.settings,
            client=self.client,
            sessions=self.sessions,
            definitions=self.catalog,
            task_queue=task_queue,
            secret_key="bench-secret-key-" + "k" * 32,
        )

    @asynccontextmanager
    async def worker(self, script: Path, task_queue: str) -> AsyncIterator[psutil.Process]:
        """`script` (a worker) in its own process on `task_queue`, stopped at the end.

        It may write bytecode whatever PYTHONDONTWRITEBYTECODE says, as an installed package
        has it (pip compiles on install, as in the Dockerfile): without it the sandbox compiles
        the workflow module from source for every workflow it starts."""
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "TEMPORAL_ADDRESS": self.address,
            "TEMPORAL_NAMESPACE": self.settings.namespace,
            "COACHFLOW_TASK_QUEUE": task_queue,
            "COACHFLOW_DATABASE_URL": self.settings.db_url,
            "COACHFLOW_DATA_DIR": str(self.settings.data_dir),
        }
        log = self.settings.data_dir / f"{script.stem}-{task_queue}.log"
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(script), env=env, cwd=ROOT, stdout=out, stderr=out
            )
        try:
            yield psutil.Process(process.pid)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), WORKER_STOP_SECONDS)
                except TimeoutError:
                    process.kill()
                    await process.wait()


@asynccontextmanager
async def open_stack(database_url: str | None) -> AsyncIterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="coachflow-bench-") as folder:
        async with fresh_database(database_url, Path(folder)) as url:
            settings = Settings(data_dir=Path(folder), database_url=url, temporal_address=None)
            catalog = catalog_for(settings)
            if catalog.problems:
                raise SystemExit("the definitions have problems; run `starter.py check`")
            async with open_store(settings) as sessions, embedded_server(settings) as server:
                yield Stack(
                    settings=settings,
                    client=server.client,
                    address=server.address,
                    server=psutil.Process(server.process.pid),
                    sessions=sessions,
                    catalog=catalog,
                    database=make_url(settings.db_url).get_backend_name(),
                )


@dataclass
class Ingested:
    workflow_ids: list[str]
    accepted: float
    answered: float


async def ingest_all(
    intake: Intake,
    events: Iterable[TicketEvent],
    progress: Callable[[int], None] | None = None,
    rate: float | None = None,
) -> list[Ingested]:
    """Each event through `Intake.ingest` with the product's bound on starts in flight
    (COACHFLOW_START_CONCURRENCY); `accepted` is when intake took the event, after the bound.
    With `rate`, the events arrive at that many per second instead of all at once."""
    gate = asyncio.Semaphore(intake.concurrency)
    done = 0
    began = time.monotonic()

    async def one(number: int, event: TicketEvent) -> Ingested:
        nonlocal done
        if rate:
            await asyncio.sleep(began + number / rate - time.monotonic())
        async with gate:
            accepted = time.time()
            result = await intake.ingest(event)
            answered = time.time()
        done += 1
        if progress:
            progress(done)
        return Ingested(result.started, accepted, answered)

    return list(await asyncio.gather(*(one(n, e) for n, e in enumerate(events))))


async def in_queue_count(sessions: async_sessionmaker) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(AssessmentRow)
        return (await session.execute(query.where(AssessmentRow.status.in_(IN_QUEUE)))).scalar_one()


class QueueWatch:
    """Polls the assessments table for new rows while the block runs, and notes when each
    workflow's row was first seen. It reads above the highest id below which every row has
    been seen, so a poll is one primary-key range read however long the run."""

    def __init__(self, sessions: async_sessionmaker, interval: float = 0.025) -> None:
        self.sessions, self.interval = sessions, interval
        self.seen: dict[str, float] = {}
        self._ids: set[int] = set()
        self._floor = 0

    async def _poll(self) -> None:
        async with self.sessions() as session:
            rows = await session.execute(
                select(AssessmentRow.id, AssessmentRow.workflow_id).where(
                    AssessmentRow.id > self._floor
                )
            )
            now = time.time()
            for row_id, workflow_id in rows.all():
                self._ids.add(row_id)
                self.seen.setdefault(workflow_id, now)
        while self._floor + 1 in self._ids:
            self._floor += 1
            self._ids.discard(self._floor)

    async def _run(self) -> None:
        while True:
            await self._poll()
            await asyncio.sleep(self.interval)

    async def __aenter__(self) -> QueueWatch:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def until_seen(self, workflow_ids: Iterable[str], give_up_after: float) -> None:
        wanted = set(workflow_ids)
        deadline = time.monotonic() + give_up_after
        while not wanted.issubset(self.seen):
            if self._task.done():
                self._task.result()
            if time.monotonic() > deadline:
                missing = len(wanted - self.seen.keys())
                raise SystemExit(f"{missing} assessments did not reach the queue in time")
            await asyncio.sleep(self.interval)


async def reached_waiting_point(client: Client, workflow_id: str) -> float | None:
    """When the workflow task that started the workflow's first timer completed (server
    time, epoch seconds), or None when it has not yet."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    completed = None
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            completed = event.event_time
        elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED and completed is not None:
            return completed.ToMicroseconds() / 1e6
    return None


async def waiting_points(
    client: Client, workflow_ids: list[str], give_up_after: float = 600, concurrency: int = 10
) -> dict[str, float]:
    """`reached_waiting_point` for every workflow. It asks about the last one started until it
    waits, and only then about the rest, so that asking does not load the server during a run."""
    found: dict[str, float] = {}
    gate = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + give_up_after

    async def one(workflow_id: str) -> None:
        async with gate:
            at = await reached_waiting_point(client, workflow_id)
        if at is not None:
            found[workflow_id] = at

    while pending := [w for w in workflow_ids if w not in found]:
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(pending)} workflows never reached their timer")
        await one(pending[-1])
        if pending[-1] in found:
            await asyncio.gather(*(one(w) for w in pending[:-1]))
        else:
            await asyncio.sleep(0.25)
    return found


async def draft_waiting(
    stack: Stack,
    intake: Intake,
    events: list[TicketEvent],
    progress: Callable[[int], None] | None = None,
    confirm_timers: bool = True,
) -> list[str]:
    """Ingest `events`; return their workflow ids once every assessment is in the queue (and,
    with `confirm_timers`, every workflow waits on its review timer)."""
    async with QueueWatch(stack.sessions, interval=0.2) as watch:
        ingested = await ingest_all(intake, events, progress)
        workflow_ids = [w for i in ingested for w in i.workflow_ids]
        await watch.until_seen(workflow_ids, 3600)
    if confirm_timers:
        await waiting_points(stack.client, workflow_ids)
    return workflow_ids


async def start_floors(
    stack: Stack, task_queue: str, workflow_ids: list[str], steps: int, remote: bool
) -> dict[str, float]:
    """Start a `FloorWorkflow` for each id as intake starts coaching workflows (the same
    options, the same bound on starts in flight); returns when each start was sent."""
    gate = asyncio.Semaphore(stack.settings.start_concurrency)
    started: dict[str, float] = {}

    async def start(workflow_id: str) -> None:
        async with gate:
            started[workflow_id] = time.time()
            await stack.client.start_workflow(
                FloorWorkflow.run,
                FloorInput(steps=steps, remote=remote),
                id=workflow_id,
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )

    await asyncio.gather(*(start(w) for w in workflow_ids))
    return started


async def add_lead(sessions: async_sessionmaker, name: str = "bench-lead") -> tuple[User, str]:
    """A lead of every demo team, and their bearer token."""
    async with sessions() as session, session.begin():
        row = await add_user(session, name, "lead", DEMO_TEAMS)
        token = await issue_token(session, name)
    return User(actor_of(row)), token


async def awaiting_ids(sessions: async_sessionmaker, workflow_ids: Iterable[str]) -> list[int]:
    """The assessments of these workflows that await review, oldest first."""
    ids = list(workflow_ids)
    out: list[int] = []
    async with sessions() as session:
        for i in range(0, len(ids), 500):
            rows = await session.execute(
                select(AssessmentRow.id).where(
                    AssessmentRow.workflow_id.in_(ids[i : i + 500]),
                    AssessmentRow.status == "awaiting_review",
                )
            )
            out += rows.scalars()
    return sorted(out)


async def timed_calls(
    calls: Iterable[Callable[[], Awaitable[Any]]], pause: float = 0.0
) -> list[float]:
    """Milliseconds of each call, one after the other."""
    out = []
    for call in calls:
        started = time.perf_counter()
        await call()
        out.append(1000 * (time.perf_counter() - started))
        if pause:
            await asyncio.sleep(pause)
    return out


class Progress:
    """A line on stderr every few seconds."""

    def __init__(self, label: str, total: int, every: float = 5.0) -> None:
        self.label, self.total, self.every = label, total, every
        self.started = self.last = time.monotonic()

    def update(self, done: int, extra: str = "") -> None:
        now = time.monotonic()
        if done < self.total and now - self.last < self.every:
            return
        self.last = now
        rate = done / (now - self.started) if now > self.started else 0.0
        print(
            f"  {self.label} {done}/{self.total} ({rate:.1f}/s){extra}",
            file=sys.stderr,
            flush=True,
        )
