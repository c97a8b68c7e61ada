"""`starter.py schedule …`: the QA sample's Temporal Schedule, and the report of its runs.

The functions that take a `Client` do the work (tests call them directly); the `cli_*`
functions open the store and Temporal the way every command does, and print.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.durations import format_duration
from domain.sampling import DEFAULT_OPPORTUNITY, Composition, QASampleInput, QASampleResult
from service import render
from service.runtime import catalog_for, connect, open_store
from service.settings import Settings
from store.sampling import list_runs, result_of
from workflows.qa_sample import QASampleWorkflow

RESULT_WAIT_SECONDS = 60
TRIGGER_WAIT_SECONDS = 10


class ScheduleError(Exception):
    """A refusal to print on stderr, with the exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def default_schedule_id(opportunity_id: str) -> str:
    return f"qa-sample/{opportunity_id}"


def qa_sample_schedule(
    schedule_id: str,
    opportunity_id: str,
    per_agent: int,
    every: timedelta,
    task_queue: str,
    paused: bool = False,
) -> Schedule:
    """Every `every`, a QASampleWorkflow over the `every` before the scheduled time.

    Missed runs (the server was down) are caught up and run one after the other, since each
    covers its own window; the workflow id is the schedule id plus the scheduled time.
    """
    return Schedule(
        action=ScheduleActionStartWorkflow(
            QASampleWorkflow.run,
            QASampleInput(opportunity_id=opportunity_id, per_agent=per_agent, window=every),
            id=schedule_id,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ALL),
        state=ScheduleState(
            paused=paused,
            note=f"QA sample: {per_agent} per agent every {format_duration(every)}",
        ),
    )


async def create_qa_sample(
    client: Client,
    task_queue: str,
    opportunity_id: str = DEFAULT_OPPORTUNITY,
    per_agent: int = 5,
    every: timedelta = timedelta(days=7),
    schedule_id: str | None = None,
    paused: bool = False,
) -> dict:
    schedule_id = schedule_id or default_schedule_id(opportunity_id)
    try:
        await client.create_schedule(
            schedule_id,
            qa_sample_schedule(schedule_id, opportunity_id, per_agent, every, task_queue, paused),
        )
    except ScheduleAlreadyRunningError:
        raise ScheduleError(
            f"id: schedule {schedule_id!r} already exists; delete it first or pass --id"
        ) from None
    return await describe_schedule(client, schedule_id)


def _missing(exc: RPCError, schedule_id: str) -> ScheduleError:
    if exc.status == RPCStatusCode.NOT_FOUND:
        return ScheduleError(f"no schedule {schedule_id!r}; see `starter.py schedule list`")
    return ScheduleError(f"schedule {schedule_id!r}: {exc.message}")


async def describe_schedule(client: Client, schedule_id: str) -> dict:
    try:
        description = await client.get_schedule_handle(schedule_id).describe()
    except RPCError as exc:
        raise _missing(exc, schedule_id) from None
    schedule, info = description.schedule, description.info
    out: dict[str, Any] = {
        "id": schedule_id,
        "workflow": None,
        "opportunity": None,
        "per_agent": None,
        "every": None,
        "paused": schedule.state.paused,
        "note": schedule.state.note or None,
        "next_run": info.next_action_times[0] if info.next_action_times else None,
        "runs": info.num_actions,
        "recent": [
            {"scheduled_at": a.scheduled_at, "workflow_id": getattr(a.action, "workflow_id", None)}
            for a in info.recent_actions
        ],
    }
    intervals = schedule.spec.intervals
    if intervals:
        out["every"] = format_duration(intervals[0].every)
    action = schedule.action
    if isinstance(action, ScheduleActionStartWorkflow):
        out["workflow"] = action.workflow
        if action.workflow == "QASampleWorkflow" and action.args:
            arg = action.args[0]
            if not isinstance(arg, QASampleInput):
                (arg,) = await client.data_converter.decode([arg], [QASampleInput])
            out["opportunity"], out["per_agent"] = arg.opportunity_id, arg.per_agent
    return out


async def list_schedule_ids(client: Client) -> list[str]:
    return sorted([s.id async for s in await client.list_schedules()])


async def list_qa_schedules(client: Client) -> list[dict]:
    out = []
    for schedule_id in await list_schedule_ids(client):
        try:
            out.append(await describe_schedule(client, schedule_id))
        except ScheduleError:  # deleted in between
            continue
    return out


async def set_paused(client: Client, schedule_id: str, paused: bool) -> dict:
    handle = client.get_schedule_handle(schedule_id)
    try:
        if paused:
            await handle.pause(note="paused from the command line")
        else:
            await handle.unpause(note="unpaused from the command line")
    except RPCError as exc:
        raise _missing(exc, schedule_id) from None
    return await describe_schedule(client, schedule_id)


async def delete_schedule(client: Client, schedule_id: str) -> None:
    try:
        await client.get_schedule_handle(schedule_id).delete()
    except RPCError as exc:
        raise _missing(exc, schedule_id) from None


async def trigger_schedule(client: Client, schedule_id: str) -> str | None:
    """Run the schedule's action now; the workflow id of that run, once it has started."""
    handle = client.get_schedule_handle(schedule_id)
    try:
        before = {
            r["workflow_id"] for r in (await describe_schedule(client, schedule_id))["recent"]
        }
        await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    except RPCError as exc:
        raise _missing(exc, schedule_id) from None
    async with asyncio.timeout(TRIGGER_WAIT_SECONDS):
        while True:
            recent = (await describe_schedule(client, schedule_id))["recent"]
            new = [r["workflow_id"] for r in recent if r["workflow_id"] not in before]
            if new:
                return new[-1]
            await asyncio.sleep(0.1)


# Rendering.


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "-"


def schedules_table(rows: list[dict]) -> str:
    if not rows:
        return "No schedules; create one with `starter.py schedule qa-sample --every 7d`."
    return render.table(
        ["id", "workflow", "opportunity", "every", "per agent", "state", "next run", "last run"],
        [
            [
                r["id"],
                r["workflow"] or "-",
                r["opportunity"] or "-",
                r["every"] or "-",
                str(r["per_agent"] or "-"),
                "paused" if r["paused"] else "active",
                _when(r["next_run"]) if not r["paused"] else "-",
                r["recent"][-1]["workflow_id"] if r["recent"] else "-",
            ]
            for r in rows
        ],
    )


def _share(n: int, total: int) -> str:
    return f"{n:>4} {100 * n / total:>3.0f}%" if total else f"{n:>4}    -"


def composition_table(sample: Composition, population: Composition) -> str:
    """The sample next to the population it was drawn from, by CSAT band and channel."""
    rows = [
        [
            f"csat {band}",
            _share(n, sample.total),
            _share(population.bands.get(band, 0), population.total),
        ]
        for band, n in sample.bands.items()
    ]
    channels = sorted(set(sample.channels) | set(population.channels))
    rows += [
        [
            f"channel {c}",
            _share(sample.channels.get(c, 0), sample.total),
            _share(population.channels.get(c, 0), population.total),
        ]
        for c in channels
    ]
    rows.append(["total", f"{sample.total:>4}", f"{population.total:>4}"])
    return render.table(["", "sample", "population"], rows)


def run_text(result: QASampleResult) -> str:
    agents = result.sample.agents
    lines = [
        f"run {result.run_id} ({result.opportunity_id})",
        f"window {_when(result.window_start)} to {_when(result.window_end)}",
        f"up to {result.per_agent} per agent: {result.sample.total} tickets from {len(agents)} "
        f"agents (most for one agent: {max(agents.values(), default=0)}); "
        f"{result.eligible} eligible of {result.population.total} resolved, "
        f"{result.skipped_assessed} already assessed",
        composition_table(result.sample, result.population),
    ]
    if result.backups:
        parts = []
        for b in result.backups:
            short = ", ".join(f"{band} -{n}" for band, n in b.short.items())
            filled = ", ".join(f"{band} +{n}" for band, n in b.filled.items()) or "nothing left"
            parts.append(f"{b.agent_id} ({short}; from {filled})")
        lines.append(f"backup used: {'; '.join(parts)}")
    else:
        lines.append("backup used: no")
    lines.append(
        f"coaching workflows started {len(result.started)}, already started "
        f"{len(result.duplicates)}, not started {len(result.missing)}"
    )
    lines += [f"  not started: {m}" for m in result.missing]
    return "\n".join(lines)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


# The command line.


async def _with_client(settings: Settings, work) -> int:
    try:
        async with open_store(settings) as sessions, connect(settings, sessions) as conn:
            return await work(conn)
    except ScheduleError as exc:
        print(exc, file=sys.stderr)
        return exc.code


async def cli_create(
    settings: Settings,
    opportunity_id: str,
    per_agent: int,
    every: timedelta,
    schedule_id: str | None,
    paused: bool,
    as_json: bool,
) -> int:
    catalog = catalog_for(settings)
    opportunity = catalog.opportunities.get(opportunity_id)
    if opportunity is None:
        print(f"--opportunity: no opportunity {opportunity_id!r}", file=sys.stderr)
        return 2
    if "qa.sampled" not in opportunity.on:
        print(f"--opportunity: {opportunity_id!r} does not listen to qa.sampled", file=sys.stderr)
        return 2

    async def work(conn) -> int:
        data = await create_qa_sample(
            conn.client, settings.task_queue, opportunity_id, per_agent, every, schedule_id, paused
        )
        if as_json:
            _print_json(data)
        else:
            state = "paused" if data["paused"] else f"next run {_when(data['next_run'])}"
            print(
                f"created schedule {data['id']}: {per_agent} per agent from the tickets resolved "
                f"in the last {data['every']}, every {data['every']}, through {opportunity_id}; "
                f"{state}"
            )
        return 0

    return await _with_client(settings, work)


async def cli_list(settings: Settings, as_json: bool) -> int:
    async def work(conn) -> int:
        rows = await list_qa_schedules(conn.client)
        if as_json:
            _print_json(rows)
        else:
            print(schedules_table(rows))
        return 0

    return await _with_client(settings, work)


async def cli_pause(settings: Settings, schedule_id: str, paused: bool, as_json: bool) -> int:
    async def work(conn) -> int:
        data = await set_paused(conn.client, schedule_id, paused)
        if as_json:
            _print_json(data)
        else:
            print(f"{'paused' if paused else 'unpaused'} schedule {schedule_id}")
        return 0

    return await _with_client(settings, work)


async def cli_delete(settings: Settings, schedule_id: str, as_json: bool) -> int:
    async def work(conn) -> int:
        await delete_schedule(conn.client, schedule_id)
        if as_json:
            _print_json({"id": schedule_id, "deleted": True})
        else:
            print(f"deleted schedule {schedule_id} (runs already started go on)")
        return 0

    return await _with_client(settings, work)


async def cli_trigger(settings: Settings, schedule_id: str, wait: bool, as_json: bool) -> int:
    async def work(conn) -> int:
        try:
            workflow_id = await trigger_schedule(conn.client, schedule_id)
        except TimeoutError:
            raise ScheduleError(
                f"schedule {schedule_id!r}: the triggered run did not start"
            ) from None
        if workflow_id is None or not (wait or conn.in_process_worker):
            if as_json:
                _print_json({"id": schedule_id, "workflow_id": workflow_id})
            else:
                print(f"triggered schedule {schedule_id}: run {workflow_id}")
            return 0
        handle = conn.client.get_workflow_handle_for(QASampleWorkflow.run, workflow_id)
        try:
            async with asyncio.timeout(RESULT_WAIT_SECONDS):
                result = await handle.result()
        except TimeoutError:
            raise ScheduleError(
                f"run {workflow_id} started, but no worker finished it within "
                f"{RESULT_WAIT_SECONDS} s; is a worker running (`starter.py dev`)?"
            ) from None
        if as_json:
            _print_json(result.model_dump(mode="json"))
        else:
            print(run_text(result))
        return 0

    return await _with_client(settings, work)


async def cli_report(
    settings: Settings, opportunity_id: str | None, limit: int, as_json: bool
) -> int:
    """The latest runs, read from the store: each sample's composition next to its
    population's."""
    async with open_store(settings) as sessions, sessions() as session:
        rows = await list_runs(session, opportunity_id, limit)
    results = [result_of(r) for r in rows]
    if as_json:
        _print_json([r.model_dump(mode="json") for r in results])
    elif not results:
        print("No QA sample runs yet; `starter.py schedule trigger ID` runs one now.")
    else:
        print("\n\n".join(run_text(r) for r in results))
    return 0
