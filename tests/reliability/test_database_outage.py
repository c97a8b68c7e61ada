"""Database outage (#7): PostgreSQL really stops for several seconds mid-run. Activities
retry with backoff and finish once it is back, nothing is lost or done twice, and while it is
down the API answers 503 (with Retry-After), never 500.

The shared server on 127.0.0.1:5432 is never touched: the test runs a PostgreSQL cluster of
its own (initdb into a temporary folder, on a free port, trust authentication), migrates it and
runs the web app and a worker on it. As root, where initdb refuses to run, the cluster belongs
to the `postgres` user and is driven through `runuser`. Without PostgreSQL's binaries the test
skips with the reason, except under CI, where it fails.

The stop is `pg_ctl stop -m immediate`: PostgreSQL quits without a checkpoint and without
waiting for its clients, as in a crash, so the transactions in flight are cut mid-way and crash
recovery must leave none of them half-applied."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import random
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client

from domain.coaching import LeadDecision
from domain.events import TicketEvent
from service.temporal import free_port
from service.updates import execute_update
from service.worker import build_worker
from store.db import make_engine, session_factory
from store.migrate import upgrade
from tests.reliability.invariants import assert_invariants, expected_assessments, until_settled
from workflows.coaching import CoachingWorkflow

SEED = 5150
WAVE = 60
DECIDED_SHARE = 0.3
# How long PostgreSQL stays down, in seconds: longer than the first activity retries' backoff.
OUTAGE = 5.0
# Decisions sent straight to their workflows while the database is down, as a client that
# already knows the workflow ids would: their activity must fail, back off and retry.
DIRECT_DECISIONS = 3
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
COMMAND_SECONDS = 120


def _version(pg_ctl: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", pg_ctl.parent.parent.name))


def _binaries() -> tuple[Path | None, str]:
    """The folder holding initdb and pg_ctl (Debian's newest, else PATH's), or why there is
    none."""
    found = sorted(DEBIAN_BINARIES.glob("*/bin/pg_ctl"), key=_version)
    if found:
        return found[-1].parent, ""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent, ""
    return None, f"no PostgreSQL server binaries (initdb, pg_ctl) in {DEBIAN_BINARIES} or PATH"


def _cluster_owner() -> tuple[list[str] | None, str]:
    """The command prefix that runs PostgreSQL's tools as the cluster's owner, or why not."""
    if os.geteuid() != 0:
        return [], ""
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if runuser is None:
        return None, "running as root, and there is no `runuser` to run PostgreSQL as postgres"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None, "running as root, and there is no `postgres` user to own the cluster"
    return [runuser, "-u", "postgres", "--"], ""


class PrivateCluster:
    """A throwaway PostgreSQL cluster: its data, socket and log in one temporary folder."""

    def __init__(self, binaries: Path, owner: list[str]):
        self.binaries, self.owner = binaries, owner
        self.root = Path(tempfile.mkdtemp(prefix="coachflow-pg-"))
        if owner:
            shutil.chown(self.root, user="postgres", group="postgres")
        self.port = free_port()

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/coachflow"

    async def _run(self, tool: str, *args: str) -> None:
        process = await asyncio.create_subprocess_exec(
            *self.owner,
            str(self.binaries / tool),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), COMMAND_SECONDS)
        if process.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} exited with {process.returncode}: "
                f"{output.decode(errors='replace')[-2000:]}"
            )

    async def create(self) -> None:
        await self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--auth=trust",
            "--no-sync",
        )  # fmt: skip
        await self.start()
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute("CREATE DATABASE coachflow")
        finally:
            await connection.close()

    async def start(self) -> None:
        # fsync=off loses nothing when only PostgreSQL dies (the kernel still holds its
        # writes); the test never crashes the machine.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "postgres.log")
        await self._run("pg_ctl", "start", "-D", str(self.data), "-l", log, "-w", "-o", options)

    async def stop(self, mode: str) -> None:
        await self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    async def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            await self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
async def private_postgres() -> AsyncIterator[PrivateCluster]:
    binaries, reason = _binaries()
    owner, why_not = _cluster_owner()
    if binaries is None or owner is None:
        reason = reason or why_not
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the database outage test, but: {reason}")
        pytest.skip(f"no private PostgreSQL cluster: {reason}")
    cluster = PrivateCluster(binaries, owner)
    try:
        await cluster.create()
        yield cluster
    finally:
        await cluster.destroy()


async def _local_activity_attempts(client: Client, workflow_id: str) -> dict[str, int]:
    """Activity type → the attempt that completed it, from the workflow's history markers."""
    attempts: dict[str, int] = {}
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        recorded = event.marker_recorded_event_attributes
        if event.HasField("marker_recorded_event_attributes") and (
            recorded.marker_name == "core_local_activity"
        ):
            marker = json.loads(recorded.details["data"].payloads[0].data)
            attempts[marker["activity_type"]] = max(
                marker["attempt"], attempts.get(marker["activity_type"], 0)
            )
    return attempts


async def _until(condition: Callable[[], bool], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (the condition is met by other tasks' requests)
            await asyncio.sleep(0.01)


async def _refusals_while_down(api, event: dict, assessment_id: int) -> list:
    """What the API answers with the database down: the queue (JSON and page), a new event, a
    decision, and the health check."""
    lead, admin = _bearer(api.people.lead), _bearer(api.people.admin)
    return [
        await api.http.get("/api/assessments", headers=lead),
        await api.http.post("/events", json=event, headers=admin),
        await api.http.post(
            f"/api/assessments/{assessment_id}/decision", json={"action": "approve"}, headers=lead
        ),
        await api.http.get("/queue", headers=lead),
        await api.http.get("/healthz"),
    ]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_database_outage_loses_nothing_and_the_api_answers_503(
    private_postgres,
    dev_client,
    catalog,
    task_queue,
    fault_events,
    fault_people,
    fault_api,
    fault_decider,
):
    await upgrade(private_postgres.url)
    engine = make_engine(private_postgres.url)
    sessions = session_factory(engine)
    rng = random.Random(SEED)
    # The last event is sent only while the database is down: refused, it must leave no trace.
    *payloads, refused_event = fault_events(2 * WAVE + 1, SEED)
    waves = [
        [TicketEvent.model_validate(p) for p in payloads[:WAVE]],
        [TicketEvent.model_validate(p) for p in payloads[WAVE:]],
    ]
    expected = [expected_assessments(wave, catalog) for wave in waves]
    people = await fault_people(sessions)
    api = fault_api(dev_client, sessions, task_queue, people)
    deciders = [fault_decider(api, e, rng, DECIDED_SHARE) for e in expected]
    try:
        async with build_worker(dev_client, task_queue, sessions):
            # Wave A is drafted and partly decided with the database up.
            await api.post_events(payloads[:WAVE])
            await deciders[0].run()
            await until_settled(sessions, catalog, waves[0], deciders[0].acknowledged)
            queue = await api.undecided()
            untouched = sorted(w for w in expected[0] if w in queue and w not in deciders[0].plan)
            direct = {w: queue[w] for w in untouched[:DIRECT_DECISIONS]}
            probed = queue[untouched[DIRECT_DECISIONS]]

            # Wave B is being delivered and decided when PostgreSQL stops.
            delivering = asyncio.create_task(api.post_events(payloads[WAVE:]))
            deciding = asyncio.create_task(deciders[1].run())
            await _until(lambda: api.statuses[202] >= WAVE + 10)
            await private_postgres.stop("immediate")
            deciding_directly = asyncio.gather(
                *(
                    execute_update(
                        dev_client.get_workflow_handle(workflow_id),
                        CoachingWorkflow.decide,
                        LeadDecision(action="approve", by=people.lead_actor),
                        f"outage-{workflow_id}",
                    )
                    for workflow_id in direct
                )
            )
            refusals = await _refusals_while_down(api, refused_event, probed)
            refused_before = api.statuses[503]
            await asyncio.sleep(OUTAGE)
            refused_during = api.statuses[503] - refused_before
            await private_postgres.start()

            await asyncio.wait_for(delivering, 120)
            await asyncio.wait_for(deciding, 120)
            decided_directly = await asyncio.wait_for(deciding_directly, 120)
            acknowledged = {
                **deciders[0].acknowledged,
                **deciders[1].acknowledged,
                **{assessment_id: "approve" for assessment_id in direct.values()},
            }
            events = waves[0] + waves[1]
            await until_settled(sessions, catalog, events, acknowledged)
            await assert_invariants(sessions, catalog, events, acknowledged, client=dev_client)
            attempts = [await _local_activity_attempts(dev_client, w) for w in direct]
    finally:
        await engine.dispose()

    for response in refusals:
        assert response.status_code == 503, (response.request.url.path, response.status_code)
        assert "SELECT" not in response.text and "INSERT" not in response.text
    for response in refusals[:4]:
        assert response.json()["detail"]["error"] == "Unavailable", response.text
        assert response.headers["Retry-After"]
    assert refused_during > 0, "nothing reached the API while the database was down"
    assert [r.status for r in decided_directly] == ["coaching"] * DIRECT_DECISIONS
    # Each direct decision's activity failed while the database was down and was retried.
    assert all(a["record_decision"] > 1 for a in attempts), attempts
    assert all(d.plan and len(d.acknowledged) == len(d.plan) for d in deciders)
    assert api.statuses[500] == 0
