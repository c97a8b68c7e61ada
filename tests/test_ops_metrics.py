"""Operations metrics for Prometheus: `GET /metrics` through HTTP against the real dev server,
a running worker and the real database, parsed with prometheus_client's own parser; the
activity-failure interceptor on real workers; the metrics token; a database that does not
answer; and the standalone worker's own metrics port."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import socket
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session
from temporalio import activity, workflow
from temporalio.client import (
    Client,
)
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from domain.config import DRAFT_ASSESSMENT
from intake.servicenow import SECRET_HEADER
from service.intake import Intake
from service.ops_metrics import STATES, ActivityFailureCounter
from service.worker import build_worker
from store.db import make_engine, normalize_url, session_factory, sqlite_url
from store.migrate import upgrade
from tests.factories import event_dict, make_event
from tests.helpers import assessment_of, bearer, until_drafted, with_short_workflow_tasks
from web.api.ops import QueueDepth
from web.app import create_app
from web.context import WebContext

ROOT = Path(__file__).resolve().parent.parent
PLANTED = "maria@example.org"  # in the default test event's thread

Samples = dict[tuple[str, frozenset], float]


def _parse(text: str) -> tuple[Samples, dict[str, str]]:
    """Every sample by (name, labels), and every family's type by name."""
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, types


async def _scrape(http: httpx.AsyncClient, **headers: str) -> Samples:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return _parse(response.text)[0]


def _key(name: str, **labels: str) -> tuple[str, frozenset]:
    return name, frozenset(labels.items())


def _delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = _key(name, **labels)
    return after.get(key, 0.0) - before.get(key, 0.0)


def _changed(before: Samples, after: Samples, prefix: str) -> dict[tuple[str, frozenset], float]:
    """Every series of `prefix` that moved, with how much."""
    names = {k for k in {*before, *after} if k[0].startswith(prefix)}
    moved = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in names}
    return {k: v for k, v in moved.items() if v}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unreachable_database() -> str:
    """PostgreSQL on a port nothing listens on: every connection is refused at once."""
    return f"postgresql://coachflow@127.0.0.1:{_free_port()}/coachflow"


def _event_body(ticket_id: str, **overrides) -> bytes:
    data = event_dict(**{"ticket.id": ticket_id, "event_id": f"{ticket_id}-e1", **overrides})
    return json.dumps(data).encode()


# --- events, decisions and the queue --------------------------------------------------------


async def test_events_starts_duplicates_refusals_decisions_and_the_queue_are_exposed(
    http, tokens, sessions, dev_client, ticket_id
):
    admin = bearer(tokens["ada"])
    before = await _scrape(http)

    first = await http.post("/events", content=_event_body(ticket_id), headers=admin)
    second = await http.post("/events", content=_event_body(f"{ticket_id}b"), headers=admin)
    again = await http.post("/events", content=_event_body(ticket_id), headers=admin)
    assert [r.status_code for r in (first, second, again)] == [202, 202, 202]
    (decided_id,) = first.json()["started"]
    (waiting_id,) = second.json()["started"]
    assert again.json()["duplicates"] == [decided_id]

    invalid = await http.post(
        "/events", content=_event_body(ticket_id, **{"ticket.id": None}), headers=admin
    )
    too_large = await http.post("/events", content=b"x" * 250_000, headers=admin)
    no_token = await http.post("/events", content=_event_body(ticket_id))
    wrong_secret = await http.post(
        "/webhooks/servicenow", content=b"{}", headers={SECRET_HEADER: "not-the-secret"}
    )
    assert [r.status_code for r in (invalid, too_large, no_token, wrong_secret)] == [
        422,
        413,
        401,
        401,
    ]

    await until_drafted(dev_client, decided_id)
    await until_drafted(dev_client, waiting_id)
    row = await assessment_of(sessions, decided_id)
    decision = await http.post(
        f"/api/assessments/{row.id}/decision",
        json={"action": "approve"},
        headers=bearer(tokens["lee"]),
    )
    assert decision.status_code == 200, decision.text
    refused = await http.post(
        f"/api/assessments/{row.id}/decision",
        json={"action": "approve"},
        headers=bearer(tokens["sam"]),
    )
    assert refused.status_code == 409, refused.text

    response = await http.get("/metrics")
    assert PLANTED not in response.text
    after, types = _parse(response.text)

    assert _changed(before, after, "coachflow_events_received") == {
        _key("coachflow_events_received_total", source="generic"): 3
    }
    assert _changed(before, after, "coachflow_events_matched") == {
        _key("coachflow_events_matched_total", opportunity="low-csat"): 3
    }
    assert _changed(before, after, "coachflow_workflows_started") == {
        _key("coachflow_workflows_started_total", opportunity="low-csat"): 2
    }
    assert _changed(before, after, "coachflow_events_duplicated") == {
        _key("coachflow_events_duplicated_total", opportunity="low-csat"): 1
    }
    assert _changed(before, after, "coachflow_events_rejected") == {
        _key("coachflow_events_rejected_total", source="events", reason="invalid"): 1,
        _key("coachflow_events_rejected_total", source="events", reason="too_large"): 1,
        _key("coachflow_events_rejected_total", source="events", reason="unauthorized"): 1,
        _key("coachflow_events_rejected_total", source="servicenow", reason="unauthorized"): 1,
    }

    # The accepted decision is timed once; the refused one is not.
    latency = "coachflow_decision_latency_seconds"
    assert types[latency] == "histogram"
    assert _delta(before, after, f"{latency}_count", decision="approve") == 1
    assert _delta(before, after, f"{latency}_sum", decision="approve") > 0
    assert _delta(before, after, f"{latency}_bucket", decision="approve", le="+Inf") == 1
    assert set(_changed(before, after, f"{latency}_count")) == {
        _key(f"{latency}_count", decision="approve")
    }

    assert types["coachflow_queue_depth"] == "gauge"
    assert after[_key("coachflow_database_up")] == 1
    assert (await assessment_of(sessions, decided_id)).status == "coaching"
    depth = {state: after[_key("coachflow_queue_depth", state=state)] for state in STATES}
    assert depth == {state: 0 for state in STATES} | {"coaching": 1, "awaiting_review": 1}


# --- the metrics token and a database that does not answer ----------------------------------


@pytest.fixture
async def app_for(web_settings, dev_client, catalog, task_queue) -> AsyncIterator:
    """An HTTP client for an app on the given settings and sessions (no worker needed)."""
    clients: list[httpx.AsyncClient] = []

    def build(settings, sessions) -> httpx.AsyncClient:
        app = create_app(
            WebContext(
                settings=settings,
                client=dev_client,
                sessions=sessions,
                definitions=catalog,
                task_queue=task_queue,
                secret_key=settings.secret_key,
            )
        )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://coachflow.test"
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


async def test_with_a_metrics_token_set_the_endpoint_needs_it(
    app_for, web_settings, sessions, tokens
):
    secret = f"metrics-{uuid.uuid4().hex}"
    http = app_for(dataclasses.replace(web_settings, metrics_token=secret), sessions)

    missing = await http.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "COACHFLOW_METRICS_TOKEN" in missing.json()["detail"]["message"]
    for wrong in ("Bearer not-the-token", f"Bearer {tokens['ada']}", f"Basic {secret}"):
        refused = await http.get("/metrics", headers={"Authorization": wrong})
        assert refused.status_code == 401, wrong
        assert "not-the-token" not in refused.text and tokens["ada"] not in refused.text

    samples = await _scrape(http, Authorization=f"Bearer {secret}")
    assert samples[_key("coachflow_database_up")] == 1


async def test_without_a_metrics_token_the_endpoint_is_open(app_for, web_settings, sessions):
    assert web_settings.metrics_token is None
    samples = await _scrape(app_for(web_settings, sessions))
    assert samples[_key("coachflow_database_up")] == 1
    assert all(samples[_key("coachflow_queue_depth", state=s)] == 0 for s in STATES)


async def test_when_the_database_does_not_answer_the_counters_are_still_served(
    app_for, web_settings
):
    engine = make_engine(_unreachable_database())
    try:
        response = await app_for(web_settings, session_factory(engine)).get("/metrics")
    finally:
        await engine.dispose()
    assert response.status_code == 200, response.text
    samples, types = _parse(response.text)
    assert samples[_key("coachflow_database_up")] == 0
    assert "coachflow_queue_depth" not in types
    assert types["coachflow_events_received"] == "counter"
    assert types["coachflow_activity_failures"] == "counter"


@asynccontextmanager
async def _assessments_locked(
    database_url: str, folder: Path
) -> AsyncIterator[tuple[str, Callable[[], Awaitable[None]]]]:
    """A database's URL, whose assessments cannot be read until `release()` (or the end of
    the block): on PostgreSQL the test database with the table locked; on SQLite a new file
    that another connection holds in exclusive locking mode."""
    if make_url(normalize_url(database_url)).get_backend_name() == "postgresql":
        holder = await asyncpg.connect(database_url.replace("+asyncpg", ""))
        await holder.execute("BEGIN; LOCK TABLE assessments IN ACCESS EXCLUSIVE MODE")
        try:
            yield database_url, holder.close
        finally:
            await holder.close()
        return
    path = folder / "locked.db"
    await upgrade(sqlite_url(path))
    sqlite_holder = sqlite3.connect(path, isolation_level=None)

    async def release() -> None:
        sqlite_holder.close()

    try:
        sqlite_holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        sqlite_holder.execute("BEGIN EXCLUSIVE")
        yield sqlite_url(path), release
    finally:
        sqlite_holder.close()


async def test_a_count_that_does_not_answer_is_left_to_finish_not_started_again(
    web_settings, dev_client, catalog, task_queue, database_url, sessions, tmp_path
):
    counts_begun: list[str] = []

    class Observed(Session):
        pass

    event.listen(Observed, "do_orm_execute", lambda run: counts_begun.append(str(run.statement)))
    async with _assessments_locked(database_url, tmp_path) as (url, release):
        engine = make_engine(url)
        app = create_app(
            WebContext(
                settings=web_settings,
                client=dev_client,
                sessions=async_sessionmaker(engine, sync_session_class=Observed),
                definitions=catalog,
                task_queue=task_queue,
                secret_key=web_settings.secret_key,
            )
        )
        app.state.queue_depth = QueueDepth(wait_seconds=0.5)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        try:
            for _ in range(3):
                samples = await _scrape(http)
                assert samples[_key("coachflow_database_up")] == 0
                assert not any(name == "coachflow_queue_depth" for name, _ in samples)
            assert len(counts_begun) == 1, counts_begun

            await release()
            async with asyncio.timeout(60):
                samples = await _scrape(http)
                while samples[_key("coachflow_database_up")] == 0:
                    await asyncio.sleep(0.1)
                    samples = await _scrape(http)
            assert all(samples[_key("coachflow_queue_depth", state=s)] == 0 for s in STATES)
            assert engine.pool.checkedout() == 0
        finally:
            await http.aclose()
            await engine.dispose()


# --- activity failures ----------------------------------------------------------------------


async def test_a_drafting_activity_that_cannot_reach_its_database_is_counted(
    http, dev_client, sessions, catalog, task_queue, ticket_id
):
    """build_worker's interceptor counts the real drafting activity failing on a database it
    cannot reach (a local activity, retried until the workflow is terminated)."""
    queue = f"{task_queue}-no-database"
    engine = make_engine(_unreachable_database())
    # A worker retrying the failing local activity learns of the termination when it next
    # extends its task (at 80% of the timeout), so its shutdown no longer waits 10 s.
    client = with_short_workflow_tasks(dev_client, timedelta(seconds=2))
    before = await _scrape(http)
    try:
        async with build_worker(dev_client, queue, session_factory(engine)):
            intake = Intake(client, sessions, catalog, queue)
            (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
            async with asyncio.timeout(30):
                while True:  # scrapes until the first failed attempt shows
                    if _changed(before, await _scrape(http), "coachflow_activity_failures"):
                        break
                    await asyncio.sleep(0.05)
            await dev_client.get_workflow_handle(workflow_id).terminate("test over")
    finally:
        await engine.dispose()
    moved = _changed(before, await _scrape(http), "coachflow_activity_failures")
    assert set(moved) == {_key("coachflow_activity_failures_total", activity=DRAFT_ASSESSMENT)}
    assert moved[_key("coachflow_activity_failures_total", activity=DRAFT_ASSESSMENT)] >= 1


class Probe(BaseModel):
    name: str


FLAKY = "ops_metrics_probe_fails_first_attempt"
STEADY = "ops_metrics_probe_succeeds"


@activity.defn(name=FLAKY)
async def fails_first_attempt(probe: Probe) -> Probe:
    if activity.info().attempt == 1:
        raise RuntimeError("the first attempt fails")
    return probe


@activity.defn(name=STEADY)
async def succeeds(probe: Probe) -> Probe:
    return probe


@workflow.defn(name="OpsMetricsProbe")
class ProbeWorkflow:
    @workflow.run
    async def run(self, probe: Probe) -> Probe:
        retry = RetryPolicy(initial_interval=timedelta(milliseconds=10), maximum_attempts=3)
        timeout = timedelta(seconds=10)
        await workflow.execute_activity(succeeds, probe, start_to_close_timeout=timeout)
        await workflow.execute_activity(
            fails_first_attempt, probe, start_to_close_timeout=timeout, retry_policy=retry
        )
        return await workflow.execute_local_activity(
            fails_first_attempt, probe, start_to_close_timeout=timeout, retry_policy=retry
        )


async def test_each_failed_attempt_is_counted_once_and_a_success_never(
    http, dev_client: Client, task_queue
):
    """One activity and one local activity fail on their first attempt and succeed on the
    second: exactly two failures, all of that activity; the steady one counts none."""
    queue = f"{task_queue}-probe"
    before = await _scrape(http)
    async with Worker(
        dev_client,
        task_queue=queue,
        workflows=[ProbeWorkflow],
        activities=[fails_first_attempt, succeeds],
        interceptors=[ActivityFailureCounter()],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        result = await dev_client.execute_workflow(
            ProbeWorkflow.run, Probe(name="probe"), id=f"probe-{queue}", task_queue=queue
        )
    assert result == Probe(name="probe")
    assert _changed(before, await _scrape(http), "coachflow_activity_failures") == {
        _key("coachflow_activity_failures_total", activity=FLAKY): 2
    }


# --- the standalone worker ------------------------------------------------------------------


async def test_a_standalone_worker_serves_its_metrics_on_the_configured_port(
    dev_client, database_url, task_queue, tmp_path
):
    port = _free_port()
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": dev_client.service_client.config.target_host,
        "COACHFLOW_DATABASE_URL": database_url,
        "COACHFLOW_TASK_QUEUE": task_queue,
        "COACHFLOW_DATA_DIR": str(tmp_path),
        "COACHFLOW_WORKER_METRICS_PORT": str(port),
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "worker.py"), cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        async with httpx.AsyncClient() as client, asyncio.timeout(30):
            while True:
                assert process.returncode is None, log.read_text()
                try:
                    response = await client.get(f"http://127.0.0.1:{port}/metrics")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    _, types = _parse(response.text)
    assert types["coachflow_activity_failures"] == "counter"
    assert types["coachflow_decision_latency_seconds"] == "histogram"
    assert "coachflow_queue_depth" not in types  # the web app counts the queue, not a worker
