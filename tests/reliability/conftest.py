"""Shared pieces of the fault scenarios (worker crash, server restart, database outage,
duplicate delivery): realistic events under ids of their own, the web app on a chosen Temporal
client and store, a lead who decides over HTTP as a browser would (retrying a 503 with the same
Idempotency-Key), and a `worker.py` process to SIGKILL. Every fixture here is requested by name;
none is autouse."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import (
    ResetStickyTaskQueueRequest,
)
from temporalio.client import (
    Client,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.people import Actor
from examples.demo_tickets import generate
from opportunities.catalog import Catalog
from service.settings import Settings
from store.users import add_user, issue_token
from tests.helpers import until_polling, with_short_workflow_tasks

ROOT = Path(__file__).resolve().parents[2]
TEAMS = ["tier1", "tier2", "new-hires"]
# How long the server waits before it hands a dead worker's workflow task to another worker
# (10 s by default): shorter, so that each kill in the middle of a task costs less.
WORKFLOW_TASK_TIMEOUT = timedelta(seconds=4)
RETRY_PAUSE = 0.2
# A request refused with 503 (or a decision still planned) this long is a failure, not a wait.
GIVE_UP_AFTER = 120
UNDECIDED = ["awaiting_review", "stopped"]
QUEUE_PAGE = 200
QUEUE_POLL = 0.1
DECISIONS: dict[str, dict[str, str]] = {
    "approve": {"action": "approve"},
    "override": {
        "action": "override",
        "reason": "the lead reads the thread differently",
        "note": "Reviewed by a lead: keep the customer informed at every step.",
    },
    "dismiss": {"action": "dismiss", "reason": "not a coaching case"},
}


def _events(count: int, seed: int, tag: str) -> list[dict[str, Any]]:
    """`count` seeded demo conversations (examples/demo_tickets.py: first replies,
    reassignments, escalations, CSAT, solved tickets, missing threads) under ids carrying
    `tag`, so their workflow ids never meet another test's on a shared server."""
    events = generate(seed=seed, count=count)
    for event in events:
        event["ticket"]["id"] = f"{tag}-{event['ticket']['id']}"
        event["event_id"] = f"{tag}-{event['event_id']}"
    return events


@pytest.fixture
def fault_tag() -> str:
    return f"f{uuid.uuid4().hex[:8]}"


@pytest.fixture
def fault_events(fault_tag: str) -> Callable[[int, int], list[dict[str, Any]]]:
    """`fault_events(count, seed)`: demo events (as JSON-ready dicts) with this test's ids."""
    return lambda count, seed: _events(count, seed, fault_tag)


@dataclass(frozen=True)
class People:
    """Bearer tokens of the admin and of the lead, and the lead as the directory has them."""

    admin: str
    lead: str
    lead_actor: Actor


async def _add_people(sessions: async_sessionmaker) -> People:
    """An admin (the integration user that posts events) and a lead of every team."""
    async with sessions() as session, session.begin():
        await add_user(session, "ops", "admin")
        await add_user(session, "rhea", "lead", TEAMS)
        return People(
            await issue_token(session, "ops"),
            await issue_token(session, "rhea"),
            Actor(id="rhea", role="lead", teams=TEAMS),
        )


@pytest.fixture
def fault_people() -> Callable[[async_sessionmaker], Awaitable[People]]:
    """`await fault_people(sessions)`: the admin's and the lead's tokens in that store."""
    return _add_people


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class FaultApi:
    """The HTTP API as a help desk and a lead use it: what is refused with 503 is sent again,
    unchanged, until it is taken; every status seen is counted."""

    http: httpx.AsyncClient
    people: People
    statuses: Counter[int] = field(default_factory=Counter)

    async def _send(self, method: str, path: str, retry: Callable[[httpx.Response], bool], **kw):
        async with asyncio.timeout(GIVE_UP_AFTER):
            while True:
                response = await self.http.request(method, path, **kw)
                self.statuses[response.status_code] += 1
                if not retry(response):
                    return response
                await asyncio.sleep(RETRY_PAUSE)

    async def post_event(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Deliver one canonical event until it is accepted (202); its IngestResult."""
        response = await self._send(
            "POST",
            "/events",
            lambda r: r.status_code == 503,
            json=payload,
            headers=_bearer(self.people.admin),
        )
        assert response.status_code == 202, (response.status_code, response.text)
        return response.json()

    async def post_events(
        self, payloads: Iterable[dict[str, Any]], concurrency: int = 10
    ) -> list[dict[str, Any]]:
        gate = asyncio.Semaphore(concurrency)

        async def one(payload: dict[str, Any]) -> dict[str, Any]:
            async with gate:
                return await self.post_event(payload)

        return list(await asyncio.gather(*(one(p) for p in payloads)))

    async def decide(self, assessment_id: int, action: str, key: str) -> dict[str, Any]:
        """The lead's decision, with its Idempotency-Key, until it is acknowledged (200): a 503
        and a `NotReady` (the workflow drafts again after a restart) are sent again."""

        def again(response: httpx.Response) -> bool:
            if response.status_code == 503:
                return True
            return response.status_code == 409 and response.json()["detail"]["error"] == "NotReady"

        response = await self._send(
            "POST",
            f"/api/assessments/{assessment_id}/decision",
            again,
            json=DECISIONS[action],
            headers={**_bearer(self.people.lead), "Idempotency-Key": key},
        )
        assert response.status_code == 200, (assessment_id, response.status_code, response.text)
        result = response.json()
        assert (result["assessment_id"], result["action"]) == (assessment_id, action)
        return result

    async def undecided(self) -> dict[str, int]:
        """The lead's queue, page by page: workflow id → assessment id. The queue may shift
        while it is read; what a pass misses, the next one finds."""
        found: dict[str, int] = {}
        offset = 0
        while True:
            response = await self._send(
                "GET",
                "/api/assessments",
                lambda r: r.status_code == 503,
                params={"status": UNDECIDED, "limit": QUEUE_PAGE, "offset": offset},
                headers=_bearer(self.people.lead),
            )
            assert response.status_code == 200, (response.status_code, response.text)
            page = response.json()
            found.update({item["workflow_id"]: item["id"] for item in page["items"]})
            offset += len(page["items"])
            if len(page["items"]) < QUEUE_PAGE or offset >= page["total"]:
                return found


def plan_decisions(workflow_ids: Iterable[str], rng: random.Random, share: float) -> dict[str, str]:
    """A seeded choice of the assessments a lead decides, and how: workflow id → action."""
    return {
        workflow_id: rng.choice(sorted(DECISIONS))
        for workflow_id in sorted(workflow_ids)
        if rng.random() < share
    }


@dataclass
class Decider:
    """Decides each planned assessment as soon as it is in the lead's queue, concurrently;
    `acknowledged` holds what the API confirmed (assessment id → action)."""

    api: FaultApi
    plan: dict[str, str]
    key_prefix: str
    acknowledged: dict[int, str] = field(default_factory=dict)
    sent: set[int] = field(default_factory=set)

    def key(self, assessment_id: int) -> str:
        """The decision's Idempotency-Key, which the API sends as the update's id."""
        return f"{self.key_prefix}-{assessment_id}"

    async def _decide(self, assessment_id: int, action: str) -> None:
        self.sent.add(assessment_id)
        await self.api.decide(assessment_id, action, self.key(assessment_id))
        self.acknowledged[assessment_id] = action

    async def run(self) -> None:
        """Watch the queue over the API, as a lead's browser would, and decide the planned
        assessments as they appear."""
        pending = dict(self.plan)
        tasks: list[asyncio.Task] = []
        try:
            async with asyncio.timeout(GIVE_UP_AFTER):
                while pending:
                    queue = await self.api.undecided()
                    for workflow_id in [w for w in pending if w in queue]:
                        action = pending.pop(workflow_id)
                        decide = self._decide(queue[workflow_id], action)
                        tasks.append(asyncio.create_task(decide))
                    await asyncio.sleep(QUEUE_POLL)
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()


@pytest.fixture
def fault_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "web",
        zendesk_secret="zendesk-fault-secret",
        servicenow_secret="servicenow-fault-secret",
        secret_key="fault-secret-key-" + "k" * 32,
    )


@pytest.fixture
async def fault_api(
    fault_settings: Settings, catalog: Catalog
) -> AsyncIterator[Callable[..., FaultApi]]:
    """`fault_api(client, sessions, task_queue, people)`: the web app on that Temporal client
    and store (no worker of its own), reached over ASGI."""
    from web.app import create_app
    from web.context import WebContext

    opened: list[httpx.AsyncClient] = []

    def make(
        client: Client, sessions: async_sessionmaker, task_queue: str, people: People
    ) -> FaultApi:
        app = create_app(
            WebContext(
                settings=fault_settings,
                client=client,
                sessions=sessions,
                definitions=catalog,
                task_queue=task_queue,
                secret_key=fault_settings.secret_key or "",
            )
        )
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://coachflow.test", timeout=None
        )
        opened.append(http)
        return FaultApi(http, people)

    yield make
    for http in opened:
        await http.aclose()


@pytest.fixture
def short_task_client() -> Callable[[Client], Client]:
    """`short_task_client(client)`: the same connection, starting workflows whose tasks time
    out after WORKFLOW_TASK_TIMEOUT."""
    return lambda client: with_short_workflow_tasks(client, WORKFLOW_TASK_TIMEOUT)


class WorkerProcess:
    """`python worker.py` as production runs it, one process at a time, SIGKILLed on demand.

    After a kill the workflows are released from the dead worker's sticky queue, as a worker
    that shuts down cleanly does; otherwise the server waits 10 s for the dead worker before it
    hands each of them to the next one.
    """

    def __init__(self, client: Client, database_url: str, task_queue: str, log: Path):
        self.client, self.database_url, self.task_queue = client, database_url, task_queue
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0

    async def start(self) -> None:
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": self.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": self.client.namespace,
            "COACHFLOW_DATABASE_URL": self.database_url,
            "COACHFLOW_TASK_QUEUE": self.task_queue,
        }
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(ROOT / "worker.py"),
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        await until_polling(
            self.client,
            self.task_queue,
            self.process.pid,
            lambda: self.process is not None and self.process.returncode is None,
            self.tail,
        )

    async def kill(self, workflow_ids: Iterable[str]) -> None:
        process = self.process
        assert process is not None and process.returncode is None, self.tail()
        process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(process.wait(), 10) == -signal.SIGKILL
        self.kills += 1
        gate = asyncio.Semaphore(20)

        async def release(workflow_id: str) -> None:
            async with gate:
                try:
                    await self.client.workflow_service.reset_sticky_task_queue(
                        ResetStickyTaskQueueRequest(
                            namespace=self.client.namespace,
                            execution=WorkflowExecution(workflow_id=workflow_id),
                        )
                    )
                except RPCError as err:  # not started yet, or completed
                    if err.status != RPCStatusCode.NOT_FOUND:
                        raise

        await asyncio.gather(*(release(w) for w in workflow_ids))

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await asyncio.wait_for(self.process.wait(), 10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@pytest.fixture
async def worker_process(
    tmp_path: Path,
) -> AsyncIterator[Callable[[Client, str, str], WorkerProcess]]:
    """`worker_process(client, database_url, task_queue)`: a WorkerProcess, never left
    running after the test."""
    made: list[WorkerProcess] = []

    def make(client: Client, database_url: str, task_queue: str) -> WorkerProcess:
        worker = WorkerProcess(client, database_url, task_queue, tmp_path / "worker.log")
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.stop()


@pytest.fixture
def fault_decider(fault_tag: str) -> Callable[..., Decider]:
    """`fault_decider(api, workflow_ids, rng, share)`: a Decider for a seeded `share` of those
    workflows' assessments."""

    def make(
        api: FaultApi,
        workflow_ids: Iterable[str],
        rng: random.Random,
        share: float,
    ) -> Decider:
        plan = plan_decisions(workflow_ids, rng, share)
        return Decider(api, plan, f"{fault_tag}-decide")

    return make
