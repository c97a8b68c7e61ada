"""Event to review queue, end to end, against its floor; and the lead's decision under that load.

    python bench/e2e.py [--events 1000] [--rate R] [--database-url postgresql://...]

A fresh embedded stack in a temporary folder: the Temporal dev server with its WAL pragmas, a
fresh database (SQLite, or a new PostgreSQL database next to --database-url, dropped after),
and the product's `worker.py` in its own process. N demo events, each matching one
opportunity, go through `Intake.ingest` with the product's bound on starts in flight, all at
once (or --rate a second). Measured per event, from the moment intake takes it (after that
bound):
- in the queue: until a poll of the assessments table (every 25 ms) first sees its row;
- at the waiting point: until the workflow task that starts the review timer completed (its
  time in the workflow's history; the row is committed just before).
Nothing else runs meanwhile, as nothing else runs beside the floor.

The lead's decision under this load is its own run at the end, on a new task queue: a lead
approves assessments drafted before it, one after another, through `web.actions.decide` (what
`POST /api/assessments/{id}/decision` calls), while another N events go through the same way.

The floor runs before and after, on the same server, with a worker built the same way in its
own process: as many `FloorWorkflow`s, started the same way, doing the coaching workflow's
server round trips with no work (2 local activities returning at once, then a timer); then the
naive floor, one remote activity per step. Throughputs are counts over the time from the first
accepted event (or start) to the last arrival; the ratio is to the mean of the two floor runs.
Prints a table and writes bench/results/e2e.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import psutil
from stack import (
    FLOOR_WORKER,
    PRODUCT_WORKER,
    CpuMeter,
    Progress,
    QueueWatch,
    Stack,
    add_database_option,
    add_lead,
    at_least,
    awaiting_ids,
    draft_waiting,
    ingest_all,
    load_line,
    machine,
    matched_events,
    open_stack,
    percentiles,
    start_floors,
    waiting_points,
    write_result,
)

from domain.events import TicketEvent
from service.intake import Intake
from web import actions
from web.auth import User
from web.context import WebContext

TARGET_PER_SECOND = 25
TARGET_RATIO = 0.8
TASK_QUEUE = "coachflow-bench"
WARMUP = 20
DRAFT_STEPS = 2


def per_item(seconds: dict[str, float], count: int) -> dict[str, float]:
    return {name: round(1000 * s / count, 1) for name, s in seconds.items()}


def rate_of(count: int, first: float, last: float) -> float:
    return round(count / (last - first), 1) if last > first else float("inf")


async def decide_while(
    context: WebContext, lead: User, ids: list[int], running: Callable[[], bool], pause: float
) -> list[float]:
    """Approve one assessment after another while `running()`; milliseconds each."""
    out = []
    for assessment_id in ids:
        if not running():
            break
        started = time.perf_counter()
        await actions.decide(context, lead, assessment_id, {"action": "approve"})
        out.append(1000 * (time.perf_counter() - started))
        await asyncio.sleep(pause)
    return out


async def measured_load(
    stack: Stack,
    intake: Intake,
    worker: psutil.Process,
    events: list[TicketEvent],
    rate: float | None,
) -> dict[str, Any]:
    """`events` through intake, timed from each acceptance to the queue and to the waiting
    point, with the CPU of this process, the worker and the server."""
    cpu = CpuMeter(client=psutil.Process(), worker=worker, server=stack.server)
    async with QueueWatch(stack.sessions) as watch:
        cpu.start()
        progress = Progress("events ingested", len(events))
        ingested = await ingest_all(intake, events, progress.update, rate)
        started = {w: i.accepted for i in ingested for w in i.workflow_ids}
        await watch.until_seen(started, 600)
        cpu_used = cpu.stop()
    points = await waiting_points(stack.client, list(started))
    first = min(i.accepted for i in ingested)
    seen = {w: watch.seen[w] for w in started}
    return {
        "events": len(events),
        "assessments": len(started),
        "per_second_in_queue": rate_of(len(started), first, max(seen.values())),
        "per_second_at_waiting_point": rate_of(len(started), first, max(points.values())),
        "latency_ms_to_queue": percentiles(1000 * (seen[w] - started[w]) for w in started),
        "latency_ms_to_waiting_point": percentiles(
            1000 * (points[w] - started[w]) for w in started
        ),
        "ingest_call_ms": percentiles(1000 * (i.answered - i.accepted) for i in ingested),
        "cpu": cpu_used,
        "cpu_ms_per_assessment": per_item(cpu.seconds, len(started)),
    }


async def coaching_load(stack: Stack, events: list[TicketEvent], rate: float | None) -> dict:
    """Test 3: after `WARMUP` events, the rest all at once (or at `rate`), nothing else."""
    intake = stack.intake(TASK_QUEUE)
    async with stack.worker(PRODUCT_WORKER, TASK_QUEUE) as worker:
        await draft_waiting(stack, intake, events[:WARMUP])
        print(f"warmed up with {WARMUP} events", flush=True)
        figures = await measured_load(stack, intake, worker, events[WARMUP:], rate)
        figures["load_after"] = machine()
        figures["worker_rss_mb"] = round(worker.memory_info().rss / 2**20, 1)
    return figures


async def decisions_under_load(
    stack: Stack,
    targets: list[TicketEvent],
    load: list[TicketEvent],
    pause: float,
    rate: float | None,
) -> dict[str, Any]:
    """Test 4 under the load of test 3: `targets` drafted first, then a lead approves them one
    after another (through `web.actions.decide`) while `load` goes through as test 3's did.
    Its own run, so test 3's figures and its floor carry the same work."""
    task_queue = f"{TASK_QUEUE}-decisions"
    intake = stack.intake(task_queue)
    context = stack.web_context(task_queue)
    lead, _ = await add_lead(stack.sessions)
    async with stack.worker(PRODUCT_WORKER, task_queue) as worker:
        drafted = await draft_waiting(stack, intake, targets)
        decidable = await awaiting_ids(stack.sessions, drafted)
        print(f"{len(decidable)} assessments await a decision", flush=True)
        loaded = True
        deciding = asyncio.create_task(
            decide_while(context, lead, decidable, lambda: loaded, pause)
        )
        try:
            figures = await measured_load(stack, intake, worker, load, rate)
        finally:
            loaded = False
        decisions = await deciding
    return {
        "decision_ms": percentiles(decisions),
        "decision_pause_seconds": pause,
        "per_second_in_queue": figures["per_second_in_queue"],
        "events": len(load),
    }


async def floor_run(stack: Stack, count: int, steps: int, remote: bool) -> dict[str, Any]:
    """`count` floor workflows on a floor worker in its own process, after a few to warm up."""
    task_queue = f"floor-{uuid.uuid4().hex[:8]}"
    async with stack.worker(FLOOR_WORKER, task_queue) as worker:
        warm = [f"{task_queue}/warm/{i}" for i in range(WARMUP)]
        await start_floors(stack, task_queue, warm, steps, remote)
        await waiting_points(stack.client, warm)
        cpu = CpuMeter(client=psutil.Process(), worker=worker, server=stack.server)
        cpu.start()
        ids = [f"{task_queue}/{i}" for i in range(count)]
        started = await start_floors(stack, task_queue, ids, steps, remote)
        points = await waiting_points(stack.client, ids)
        cpu_used = cpu.stop()
    first = min(started.values())
    return {
        "workflows": count,
        "steps": steps,
        "remote": remote,
        "per_second_at_waiting_point": rate_of(count, first, max(points.values())),
        "latency_ms_to_waiting_point": percentiles(1000 * (points[w] - started[w]) for w in ids),
        "cpu": cpu_used,
        "cpu_ms_per_workflow": per_item(cpu.seconds, count),
    }


def print_report(report: dict[str, Any]) -> None:
    coaching = report["coaching"]
    offered = f"{report['rate']} events/s offered" if report["rate"] else "all at once"
    print(
        f"\n{coaching['assessments']:,} events to the review queue, {offered}, on the embedded "
        f"stack ({report['database']}, worker.py in its own process, {report['concurrency']} "
        "starts in flight)"
    )
    print(f"{'run':<46}{'per s':>8}{'p50 ms':>9}{'p99 ms':>9}")
    rows = [
        ("coaching: in the queue (row seen)", "per_second_in_queue", "latency_ms_to_queue"),
        ("coaching: at the waiting point (history)", None, "latency_ms_to_waiting_point"),
    ]
    for label, per_second, latency in rows:
        figure = coaching[per_second or "per_second_at_waiting_point"]
        lat = coaching[latency]
        print(f"{label:<46}{figure:>8}{lat['p50']:>9}{lat['p99']:>9}")
    floors = [(name, run) for name, run in report["floors"].items()]
    for name, run in floors:
        kind = "remote" if run["remote"] else "local"
        label = f"{name}: {run['steps']} {kind} activities, timer"
        lat = run["latency_ms_to_waiting_point"]
        print(f"{label:<46}{run['per_second_at_waiting_point']:>8}{lat['p50']:>9}{lat['p99']:>9}")
    ingest = coaching["ingest_call_ms"]
    print(f"{'intake call (store, match, start)':<46}{'':>8}{ingest['p50']:>9}{ingest['p99']:>9}")
    if decisions := report.get("decisions"):
        timing = decisions["decision_ms"]
        print(
            f"{'lead decision under the same load, again':<46}{'':>8}{timing.get('p50', '-'):>9}"
            f"{timing.get('p99', '-'):>9}   ({timing['count']} decisions; that load "
            f"{decisions['per_second_in_queue']}/s)"
        )
    target = "the rate offered" if report["rate"] else f"target >= {TARGET_PER_SECOND}"
    print(f"\nassessments in the queue per second: {coaching['per_second_in_queue']} ({target})")
    if floors:
        print(
            f"ratio to the floor (the mean of the runs before and after) at the waiting point: "
            f"{report['ratio_to_floor']} (target >= {TARGET_RATIO}); the naive floor reaches "
            f"{report['naive_to_floor']} of the floor"
        )
    print("CPU ms per workflow (client: this process, ingesting or starting):")
    cpus = [("coaching", coaching["cpu_ms_per_assessment"])]
    cpus += [(name, run["cpu_ms_per_workflow"]) for name, run in floors]
    for label, cpu in cpus:
        print(f"  {label:<20}" + "  ".join(f"{name} {ms}" for name, ms in cpu.items()))
    print(f"worker RSS after the load: {coaching['worker_rss_mb']} MB")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=at_least(1), default=1000)
    parser.add_argument(
        "--decisions",
        type=at_least(0),
        default=200,
        help="assessments drafted before the load for the lead to decide during it",
    )
    parser.add_argument("--decision-pause", type=at_least(0, float), default=0.1)
    parser.add_argument("--naive-steps", type=at_least(1, most=20), default=4)
    parser.add_argument("--naive-events", type=at_least(1), help="default: --events")
    parser.add_argument(
        "--rate",
        type=at_least(0.1, float),
        help="events per second offered (default: all at once, the most the stack takes); "
        "with a rate, the floors are not run",
    )
    add_database_option(parser)
    args = parser.parse_args()
    print(load_line("before"), flush=True)
    report: dict[str, Any] = {"machine_before": machine(), "rate": args.rate, "floors": {}}
    floors = report["floors"]
    async with open_stack(args.database_url) as stack:
        report["database"] = stack.database
        report["concurrency"] = stack.settings.start_concurrency
        loaded = WARMUP + args.events
        wanted = loaded + (args.decisions + args.events if args.decisions else 0)
        events = matched_events(stack.catalog, wanted)
        if not args.rate:
            floors["floor before"] = await floor_run(stack, args.events, DRAFT_STEPS, False)
        report["coaching"] = await coaching_load(stack, events[:loaded], args.rate)
        if not args.rate:
            print("floor runs ...", flush=True)
            floors["floor after"] = await floor_run(stack, args.events, DRAFT_STEPS, False)
            floors["naive floor"] = await floor_run(
                stack, args.naive_events or args.events, args.naive_steps, True
            )
        if args.decisions:
            print("decisions under the same load ...", flush=True)
            targets = events[loaded : loaded + args.decisions]
            report["decisions"] = await decisions_under_load(
                stack, targets, events[loaded + args.decisions :], args.decision_pause, args.rate
            )
    if floors:
        floor = statistics.mean(
            floors[name]["per_second_at_waiting_point"] for name in ("floor before", "floor after")
        )
        coaching = report["coaching"]["per_second_at_waiting_point"]
        report["ratio_to_floor"] = round(coaching / floor, 2)
        naive = floors["naive floor"]["per_second_at_waiting_point"]
        report["naive_to_floor"] = round(naive / floor, 2)
    report["machine_after"] = machine()
    print_report(report)
    print(load_line("after"))
    write_result("e2e.json", report)


if __name__ == "__main__":
    asyncio.run(main())
