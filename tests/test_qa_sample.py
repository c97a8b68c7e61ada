"""The fair QA sample end to end: a Temporal Schedule over several weeks, each run drawing from
the tickets resolved in its own window and starting coaching workflows through the weekly QA
sample opportunity; the time-skipping server for weeks of workflow time; the `schedule`
commands.

The time-skipping test server does not implement Schedules (CreateSchedule is unimplemented
there), so the schedule itself runs on the real dev server, where a backfill fires each past
week's scheduled time in turn, with new tickets ingested between the weeks.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.client import Client, ScheduleBackfill, ScheduleOverlapPolicy

from domain.events import TicketEvent
from domain.sampling import BANDS, QASampleInput, QASampleResult
from service import schedule_commands as sc
from service.cli import main as cli_main
from service.intake import Intake
from service.worker import build_worker
from store.models import AssessmentRow, QaSampleRow, WorkflowStartRow
from tests.factories import make_event
from workflows.qa_sample import QASampleWorkflow

ROOT = Path(__file__).resolve().parent.parent
WEEK = timedelta(days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PER_AGENT = 3
# Per agent and week: every CSAT band, two channels; angry customers are the rarest.
TICKETS = [(5, "email"), (4, "email"), (None, "email"), (3, "chat"), (5, "chat"), (1, "chat")]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def resolved(
    ticket_id: str,
    agent: str,
    score: int | None,
    channel: str,
    solved_at: datetime,
    event_type: str = "ticket.updated",
) -> TicketEvent:
    """A resolved conversation. `ticket.updated` matches no opportunity: only the sampler
    starts anything for it."""
    created = solved_at - timedelta(hours=5)
    return make_event(
        **{
            "event_id": f"{ticket_id}-{event_type}",
            "type": event_type,
            "occurred_at": _iso(solved_at),
            "ticket.id": ticket_id,
            "ticket.channel": channel,
            "ticket.agent": {"id": agent, "name": f"Agent {agent}", "team": "tier1"},
            "ticket.csat": {"score": score, "scale": 5} if score is not None else None,
            "ticket.created_at": _iso(created),
            "ticket.solved_at": _iso(solved_at),
            "ticket.messages": [
                {
                    "id": "m1",
                    "author": {"id": "c-9", "role": "customer"},
                    "created_at": _iso(created),
                    "body": "Hello, my invoice is wrong.",
                },
                {
                    "id": "m2",
                    "author": {"id": agent, "role": "agent"},
                    "created_at": _iso(created + timedelta(minutes=30)),
                    "body": "I'm sorry to hear that. I have corrected the invoice for you.",
                },
            ],
        }
    )


def week_of_tickets(prefix: str, window_end: datetime, agents: list[str]) -> list[TicketEvent]:
    events = []
    for a, agent in enumerate(agents):
        for i, (score, channel) in enumerate(TICKETS):
            solved_at = window_end - timedelta(days=1 + (a + i) % 5, hours=i)
            events.append(resolved(f"{prefix}-{agent}-{i}", agent, score, channel, solved_at))
    return events


def coaching_id(ticket_id: str) -> str:
    return f"coaching/weekly-qa-sample/generic/{ticket_id}"


async def _run_row(sessions, run_id: str) -> QaSampleRow:
    async with sessions() as session:
        query = select(QaSampleRow).where(QaSampleRow.run_id == run_id)
        return (await session.execute(query)).scalar_one()


async def _until_drafted(sessions, workflow_ids: list[str], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while True:
            async with sessions() as session:
                query = select(AssessmentRow.workflow_id, AssessmentRow.event_type).where(
                    AssessmentRow.workflow_id.in_(workflow_ids)
                )
                found = dict((await session.execute(query)).all())
            if len(found) == len(workflow_ids):
                assert set(found.values()) == {"qa.sampled"}
                return
            await asyncio.sleep(0.1)


async def _until_run_started(client: Client, schedule_id: str, run_id: str) -> None:
    async with asyncio.timeout(30):
        while True:
            recent = (await sc.describe_schedule(client, schedule_id))["recent"]
            if run_id in {r["workflow_id"] for r in recent}:
                return
            await asyncio.sleep(0.1)


async def _until_listed(client: Client, schedule_id: str) -> None:
    """Listing schedules goes through visibility, which lags a little behind a create."""
    async with asyncio.timeout(30):
        while True:
            if schedule_id in await sc.list_schedule_ids(client):
                return
            await asyncio.sleep(0.2)


def check_week(result: QASampleResult, events: list[TicketEvent], skipped: set[str]) -> set[str]:
    """The strata of one run; returns the tickets it drew."""
    by_id = {e.ticket.id: e for e in events}
    drawn = {w.rsplit("/", 1)[1] for w in result.started}
    assert drawn <= set(by_id) and not drawn & skipped
    per_agent = Counter(by_id[t].ticket.agent.id for t in drawn)
    assert per_agent and max(per_agent.values()) <= PER_AGENT
    assert result.sample.agents == dict(sorted(per_agent.items()))
    assert all(result.population.bands[b] > 0 for b in BANDS)
    assert all(result.sample.bands[b] > 0 for b in BANDS), result.sample.bands
    assert set(result.sample.channels) == {"email", "chat"}
    assert result.duplicates == [] and result.missing == []
    return drawn


async def test_the_schedule_samples_fairly_week_after_week(
    dev_client: Client, sessions, catalog, task_queue
):
    prefix = f"qs{uuid.uuid4().hex[:8]}"
    schedule_id = f"qa-sample/test-{prefix}"
    now = datetime.now(UTC)
    latest = EPOCH + ((now - EPOCH) // WEEK) * WEEK  # an `every 7d` schedule fires on these
    anchors = [latest - 2 * WEEK, latest - WEEK, latest]
    intake = Intake(dev_client, sessions, catalog, task_queue)
    async with build_worker(dev_client, task_queue, sessions, catalog=catalog):
        created = await sc.create_qa_sample(
            dev_client,
            task_queue,
            per_agent=PER_AGENT,
            every=WEEK,
            schedule_id=schedule_id,
            paused=True,  # only the backfills below run it
        )
        assert (created["workflow"], created["opportunity"], created["every"]) == (
            "QASampleWorkflow",
            "weekly-qa-sample",
            "1w",
        )
        handle = dev_client.get_schedule_handle(schedule_id)
        try:
            sampled: set[str] = set()
            all_events: list[TicketEvent] = []
            runs: list[QASampleResult] = []
            for week, anchor in enumerate(anchors):
                # New resolved tickets every week: four agents (a fifth from week 2 on), one
                # ticket already assessed by the low-CSAT opportunity, and in week 3 an agent
                # with only happy customers, whose other bands the backup fills.
                agents = ["a-1", "a-2", "a-3", "a-4"] + (["a-5"] if week else [])
                events = week_of_tickets(f"{prefix}w{week}", anchor, agents)
                if week == 2:
                    agents.append("a-6")
                    events += [
                        resolved(f"{prefix}w{week}-a-6-{i}", "a-6", 5, "email", anchor - WEEK / i)
                        for i in (2, 3, 4, 5)
                    ]
                assessed = resolved(
                    f"{prefix}w{week}-lowcsat", "a-1", 1, "email", anchor - timedelta(hours=3),
                    event_type="csat.received",
                )  # fmt: skip
                events.append(assessed)
                # A ticket solved just after the window belongs to the next week.
                events.append(resolved(f"{prefix}w{week}-late", "a-2", 2, "chat", anchor))
                results = await intake.ingest_many(events)
                assert results[-2].started == [f"coaching/low-csat/generic/{prefix}w{week}-lowcsat"]
                all_events += events

                await handle.backfill(
                    ScheduleBackfill(
                        start_at=anchor - timedelta(seconds=1),
                        end_at=anchor + timedelta(seconds=1),
                        overlap=ScheduleOverlapPolicy.ALLOW_ALL,
                    )
                )
                run_id = f"{schedule_id}-{anchor:%Y-%m-%dT%H:%M:%SZ}"
                await _until_run_started(dev_client, schedule_id, run_id)
                result = await dev_client.get_workflow_handle_for(
                    QASampleWorkflow.run, run_id
                ).result()
                runs.append(result)
                assert (result.run_id, result.window_start, result.window_end) == (
                    run_id,
                    anchor - WEEK,
                    anchor,
                )
                # The window: this week's tickets, and last week's late one; not this week's
                # late one, nor anything of an earlier week.
                in_window = [e for e in all_events if anchor - WEEK <= e.ticket.solved_at < anchor]
                assert result.population.total == len(in_window)
                assert result.skipped_assessed == 1
                drawn = check_week(result, in_window, {assessed.ticket.id})
                assert not drawn & sampled, "a ticket was sampled twice"
                sampled |= drawn
                assert len(drawn) == PER_AGENT * len(agents)
                assert sorted(result.started) == sorted(coaching_id(t) for t in drawn)

                row = await _run_row(sessions, run_id)
                assert row.status == "started" and row.finished_at is not None
                assert row.per_agent_counts == result.sample.agents
                assert row.sample_composition == result.sample.model_dump(mode="json")
                assert row.population_composition == result.population.model_dump(mode="json")
                assert row.backup_used == result.backup_used == (week == 2)
                if week == 2:
                    (backup,) = result.backups
                    assert backup.agent_id == "a-6" and backup.filled == {"high": 2}
                    assert sum(backup.short.values()) == 2 and backup.unfilled == 0
                    assert row.backups == [backup.model_dump(mode="json")]
                assert sorted(row.started) == sorted(result.started)
                await _until_drafted(sessions, result.started)

            assert [r.window_end for r in runs] == anchors
            description = await sc.describe_schedule(dev_client, schedule_id)
            assert description["paused"] and description["runs"] == 3

            # The same run again (a retry of a scheduled run keeps its id): the recorded draw
            # comes back and Intake finds every workflow already started.
            again = await dev_client.execute_workflow(
                QASampleWorkflow.run,
                QASampleInput(per_agent=PER_AGENT, window=WEEK, scheduled_at=anchors[0]),
                id=runs[0].run_id,
                task_queue=task_queue,
            )
            assert again.started == [] and sorted(again.duplicates) == sorted(runs[0].started)
            assert again.sample == runs[0].sample
            async with sessions() as session:
                starts = (
                    await session.execute(
                        select(WorkflowStartRow.workflow_id).where(
                            WorkflowStartRow.opportunity_id == "weekly-qa-sample"
                        )
                    )
                ).scalars()
                assert sorted(starts) == sorted(coaching_id(t) for t in sampled)
        finally:
            await handle.delete()


async def test_weekly_runs_take_their_window_from_workflow_time(
    time_skipping_env, sessions, catalog, task_queue
):
    """On the time-skipping server: three weeks pass; each run, started as the schedule starts
    it, draws from the week before its own start and never samples a ticket twice."""
    client = time_skipping_env.client
    prefix = f"ts{uuid.uuid4().hex[:8]}"
    schedule = sc.qa_sample_schedule(
        f"qa-sample/{prefix}", "weekly-qa-sample", PER_AGENT, WEEK, task_queue
    )
    intake = Intake(client, sessions, catalog, task_queue)
    sampled: set[str] = set()
    async with build_worker(client, task_queue, sessions, catalog=catalog):
        for week in range(3):
            now = await time_skipping_env.env.get_current_time()
            agents = ["a-1", "a-2"] if week != 1 else ["a-1", "a-2", "a-3"]
            events = week_of_tickets(f"{prefix}w{week}", now, agents)
            # Resolved more than a week ago: outside this run's window, and never sampled.
            events.append(resolved(f"{prefix}w{week}-old", "a-1", 1, "chat", now - WEEK * 1.5))
            await intake.ingest_many(events)
            result = await client.execute_workflow(
                schedule.action.workflow,
                schedule.action.args[0],
                id=f"{schedule.action.id}-{now:%Y-%m-%dT%H:%M:%SZ}",
                task_queue=task_queue,
                result_type=QASampleResult,
            )
            assert result.window_end >= now and result.window_end - result.window_start == WEEK
            drawn = check_week(result, events[:-1], set())
            assert len(drawn) == PER_AGENT * len(agents)
            assert not drawn & sampled
            sampled |= drawn
            row = await _run_row(sessions, result.run_id)
            assert row.sample_total == len(drawn) and row.population_total == len(events) - 1
            await time_skipping_env.sleep(WEEK)
    async with sessions() as session:
        assert len((await session.execute(select(QaSampleRow.run_id))).scalars().all()) == 3


async def test_the_schedule_functions_against_the_dev_server(
    dev_client: Client, worker, sessions, catalog, task_queue
):
    schedule_id = f"qa-sample/fn-{uuid.uuid4().hex[:8]}"
    created = await sc.create_qa_sample(
        dev_client, task_queue, per_agent=2, every=timedelta(days=14), schedule_id=schedule_id
    )
    assert (created["per_agent"], created["every"], created["paused"]) == (2, "2w", False)
    assert created["next_run"] > datetime.now(UTC)
    with pytest.raises(sc.ScheduleError, match="already exists"):
        await sc.create_qa_sample(dev_client, task_queue, schedule_id=schedule_id)
    await _until_listed(dev_client, schedule_id)
    listed = {s["id"]: s for s in await sc.list_qa_schedules(dev_client)}
    assert listed[schedule_id]["opportunity"] == "weekly-qa-sample"
    assert (await sc.set_paused(dev_client, schedule_id, True))["paused"]
    assert not (await sc.set_paused(dev_client, schedule_id, False))["paused"]

    now = datetime.now(UTC)
    await Intake(dev_client, sessions, catalog, task_queue).ingest_many(
        week_of_tickets(f"fn{uuid.uuid4().hex[:6]}", now, ["a-7"])
    )
    run_id = await sc.trigger_schedule(dev_client, schedule_id)
    assert run_id and run_id.startswith(f"{schedule_id}-")
    result = await dev_client.get_workflow_handle_for(QASampleWorkflow.run, run_id).result()
    assert result.sample.agents == {"a-7": 2} and len(result.started) == 2
    text = sc.run_text(result)
    assert "sample" in text and "population" in text and "csat low" in text

    await sc.delete_schedule(dev_client, schedule_id)
    with pytest.raises(sc.ScheduleError, match="no schedule"):
        await sc.delete_schedule(dev_client, schedule_id)
    with pytest.raises(sc.ScheduleError, match="no schedule"):
        await sc.set_paused(dev_client, schedule_id, True)


async def test_the_schedule_command_line(
    dev_client: Client, worker, sessions, catalog, database_url, task_queue, monkeypatch, capsys
):
    """`starter.py schedule …` parsed and run as a user runs it, against the dev server."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_client.service_client.config.target_host)
    monkeypatch.setenv("COACHFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("COACHFLOW_TASK_QUEUE", task_queue)
    schedule_id = f"qa-sample/cli-{uuid.uuid4().hex[:8]}"

    async def run(*argv: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(cli_main, ["schedule", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = await run(
        "qa-sample", "--every", "7d", "--per-agent", "5", "--id", schedule_id, "--json"
    )
    assert code == 0 and json.loads(out)["per_agent"] == 5
    code, _, err = await run("qa-sample", "--id", schedule_id)
    assert code == 1 and "already exists" in err
    code, _, err = await run("qa-sample", "--opportunity", "low-csat", "--id", schedule_id + "x")
    assert code == 2 and "does not listen to qa.sampled" in err
    async with asyncio.timeout(30):
        while True:
            code, out, _ = await run("list", "--json")
            if schedule_id in {s["id"] for s in json.loads(out)}:
                break
            await asyncio.sleep(0.2)
    code, out, _ = await run("pause", schedule_id)
    assert code == 0 and out.startswith("paused")
    code, out, _ = await run("list")
    assert schedule_id in out and "paused" in out
    code, out, _ = await run("unpause", schedule_id)
    assert code == 0

    events = week_of_tickets(f"cli{uuid.uuid4().hex[:6]}", datetime.now(UTC), ["a-8", "a-9"])
    await Intake(dev_client, sessions, catalog, task_queue).ingest_many(events)
    code, out, _ = await run("trigger", schedule_id, "--json")
    assert code == 0, out
    result = QASampleResult.model_validate_json(out)
    assert result.sample.agents == {"a-8": 5, "a-9": 5}
    assert all(result.sample.bands[b] > 0 for b in BANDS)
    code, out, _ = await run("report", "--limit", "1")
    assert code == 0 and result.run_id in out and "population" in out
    assert "csat low" in out and "channel chat" in out
    code, out, _ = await run("report", "--json")
    assert json.loads(out)[0]["run_id"] == result.run_id

    code, out, _ = await run("delete", schedule_id)
    assert code == 0
    code, _, err = await run("delete", schedule_id)
    assert code == 1 and "no schedule" in err
    code, _, err = await run("trigger", schedule_id)
    assert code == 1 and "no schedule" in err


def test_the_schedule_commands_on_the_embedded_stack(tmp_path: Path):
    """No server running: each command starts the embedded one; `trigger` runs the sample
    with the in-process worker and prints it against the population."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COACHFLOW_DATABASE_URL", "TEMPORAL_ADDRESS", "COACHFLOW_TASK_QUEUE")
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(ROOT / "starter.py"), *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )

    created = run("schedule", "qa-sample", "--every", "7d", "--per-agent", "5")
    assert created.returncode == 0, created.stderr
    assert "created schedule qa-sample/weekly-qa-sample" in created.stdout
    triggered = run("schedule", "trigger", "qa-sample/weekly-qa-sample")
    assert triggered.returncode == 0, triggered.stderr
    assert "0 tickets" in triggered.stdout and "population" in triggered.stdout
    deleted = run("schedule", "delete", "qa-sample/weekly-qa-sample")
    assert deleted.returncode == 0, deleted.stderr
    listed = run("schedule", "list")
    assert "No schedules" in listed.stdout
