"""The worker's tuning knobs come from COACHFLOW_WORKER_*; `python worker.py` applies them and
stops cleanly on SIGTERM, as `docker stop` sends it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from service.intake import Intake
from service.settings import DEFAULT_MAX_CACHED_WORKFLOWS, Settings, SettingsError
from service.worker import build_worker, worker_options
from tests.factories import make_event
from tests.helpers import until_drafted

ROOT = Path(__file__).resolve().parent.parent
KNOBS = {
    "COACHFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": "7",
    "COACHFLOW_WORKER_MAX_CONCURRENT_ACTIVITIES": "5",
    "COACHFLOW_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES": "3",
    "COACHFLOW_WORKER_MAX_CACHED_WORKFLOWS": "50",
    "COACHFLOW_WORKER_STICKY_SCHEDULE_TO_START_SECONDS": "4",
    "COACHFLOW_WORKER_GRACEFUL_SHUTDOWN_SECONDS": "9",
}
EXPECTED = {
    "max_concurrent_workflow_tasks": 7,
    "max_concurrent_activities": 5,
    "max_concurrent_local_activities": 3,
    "max_cached_workflows": 50,
    "sticky_queue_schedule_to_start_timeout": timedelta(seconds=4),
    "graceful_shutdown_timeout": timedelta(seconds=9),
}


@pytest.fixture
def knobs(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in KNOBS.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_unset_knobs_leave_the_sdk_defaults_but_the_cache(monkeypatch):
    """The cache is bounded below the SDK's 1,000 so a worker stays within 400 MB."""
    for name in KNOBS:
        monkeypatch.delenv(name, raising=False)
    assert worker_options(Settings()) == {"max_cached_workflows": DEFAULT_MAX_CACHED_WORKFLOWS}


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5"])
@pytest.mark.parametrize("name", sorted(KNOBS))
def test_a_knob_takes_a_whole_number_above_zero(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        Settings()
    assert str(raised.value) == f"{name} must be a whole number greater than 0"


def test_one_workflow_task_at_a_time_is_refused_while_workflows_are_cached(monkeypatch):
    monkeypatch.setenv("COACHFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", "1")
    with pytest.raises(
        SettingsError, match=r"^COACHFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS must be at least 2"
    ):
        worker_options(Settings())


async def test_the_worker_runs_with_the_knobs(
    knobs, dev_client, sessions, catalog, task_queue, ticket_id
):
    worker = build_worker(dev_client, task_queue, sessions, **worker_options(knobs))
    assert {name: worker.config()[name] for name in EXPECTED} == EXPECTED
    async with worker:
        intake = Intake(dev_client, sessions, catalog, task_queue)
        (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
        state = await until_drafted(dev_client, workflow_id)
    assert state.status != "drafting"


# `python worker.py`


def _worker_env(**values: str) -> dict[str, str]:
    names = ("TEMPORAL_", "COACHFLOW_")
    return {k: v for k, v in os.environ.items() if not k.startswith(names)} | values


def _run_worker(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "worker.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"COACHFLOW_WORKER_MAX_CACHED_WORKFLOWS": "lots"},
            "COACHFLOW_WORKER_MAX_CACHED_WORKFLOWS must be a whole number greater than 0",
        ),
        (
            {"COACHFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": "1"},
            "COACHFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS must be at least 2: "
            "the worker caches workflows",
        ),
        (
            {"TEMPORAL_TLS_CLIENT_CERT_PATH": "/certs/client.pem"},
            "TEMPORAL_TLS_CLIENT_KEY_PATH must be set together with TEMPORAL_TLS_CLIENT_CERT_PATH",
        ),
    ],
)
def test_worker_py_refuses_bad_settings_naming_the_variable(tmp_path, values, message):
    env = _worker_env(
        TEMPORAL_ADDRESS="127.0.0.1:9",
        COACHFLOW_DATA_DIR=str(tmp_path),
        **values,
    )
    result = _run_worker(env)
    assert result.returncode == 2
    assert result.stderr.strip() == message


async def test_worker_py_with_the_knobs_drafts_then_stops_on_sigterm(
    dev_client, database_url, sessions, catalog, task_queue, ticket_id, tmp_path
):
    env = _worker_env(
        TEMPORAL_ADDRESS=dev_client.service_client.config.target_host,
        TEMPORAL_NAMESPACE=dev_client.namespace,
        COACHFLOW_DATABASE_URL=database_url,
        COACHFLOW_TASK_QUEUE=task_queue,
        COACHFLOW_DATA_DIR=str(tmp_path),
        **KNOBS,
    )
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "worker.py"), cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        intake = Intake(dev_client, sessions, catalog, task_queue)
        (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
        state = await until_drafted(dev_client, workflow_id, seconds=60)
        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text(errors="replace")
    assert state.status != "drafting"
    assert returncode == 0, output
    assert "stopping: finishing the running activities" in output
