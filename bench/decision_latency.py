"""The lead's decision on an idle server: the update round trip, p50 and p99.

    python bench/decision_latency.py [--decisions 200] [--database-url postgresql://...]

A fresh embedded stack (the Temporal dev server with its WAL pragmas, a fresh database, the
product's `worker.py` in its own process), with 3 x --decisions assessments awaiting review,
all in the worker's workflow cache. A lead of their teams approves them one after another,
each path on its own assessments, the paths taking turns so that any drift in the machine's
load falls on all of them alike:
- update: `execute_update` of `CoachingWorkflow.decide` (service/updates.py), what every
  acting path sends; the update records the decision and starts the coaching (one local
  activity, one transaction) and returns when that workflow task completes;
- actions.decide: what `POST /api/assessments/{id}/decision` calls (reads the assessment as
  the lead may see it, then the update);
- HTTP: that request in full (bearer token, validation, JSON), over httpx's ASGI transport
  to the app in this process.
Beside them, the bare round trip: an update that does nothing (`FloorWorkflow.ping`), to as
many cached floor workflows on a floor worker in its own process; and the same update running
one local activity that returns at once, the floor of a decision.
Prints a table and writes bench/results/decision_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from floor import FloorStep, FloorWorkflow
from stack import (
    FLOOR_WORKER,
    PRODUCT_WORKER,
    Progress,
    add_database_option,
    add_lead,
    at_least,
    awaiting_ids,
    draft_waiting,
    load_line,
    machine,
    matched_events,
    open_stack,
    percentiles,
    start_floors,
    timed_calls,
    waiting_points,
    worker_cache,
    write_result,
)

from domain.coaching import LeadDecision
from service.updates import execute_update
from store.models import AssessmentRow
from web import actions
from web.app import create_app
from workflows.coaching import CoachingWorkflow

TARGET_P50_MS = 15
TASK_QUEUE = "coachflow-bench"
FLOOR_QUEUE = "floor-bench"
WARMUP = 5
BARE = "bare update (FloorWorkflow.ping, no work)"
BARE_LOCAL = "  + one no-op local activity"
UPDATE = "update (CoachingWorkflow.decide)"
DECIDE = "actions.decide"
POST = "HTTP POST /api/assessments/{id}/decision"

Call = Callable[[], Awaitable[Any]]


async def interleaved(paths: dict[str, list[Call]]) -> dict[str, list[float]]:
    """Each path's calls, the paths taking turns; milliseconds, after WARMUP calls each."""
    out: dict[str, list[float]] = {name: [] for name in paths}
    for turn in range(max(len(calls) for calls in paths.values())):
        for name, calls in paths.items():
            if turn < len(calls):
                (ms,) = await timed_calls([calls[turn]])
                if turn >= WARMUP:
                    out[name].append(ms)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=at_least(1), default=100, help="per path")
    add_database_option(parser)
    args = parser.parse_args()
    per_path = args.decisions + WARMUP
    print(load_line("before"), flush=True)
    report: dict[str, Any] = {"machine_before": machine(), "decisions_per_path": args.decisions}
    async with open_stack(args.database_url) as stack:
        report["database"] = stack.database
        lead, token = await add_lead(stack.sessions)
        context = stack.web_context(TASK_QUEUE)
        events = matched_events(stack.catalog, 3 * per_path * 11 // 10 + 10)
        async with (
            stack.worker(PRODUCT_WORKER, TASK_QUEUE),
            stack.worker(FLOOR_WORKER, FLOOR_QUEUE),
        ):
            progress = Progress("assessments drafted", len(events))
            intake = stack.intake(TASK_QUEUE)
            workflow_ids = await draft_waiting(stack, intake, events, progress.update)
            ids = (await awaiting_ids(stack.sessions, workflow_ids))[: 3 * per_path]
            if len(ids) < 3 * per_path:
                raise SystemExit(f"only {len(ids)} assessments await review; need more events")
            async with stack.sessions() as session:
                rows = {i: await session.get(AssessmentRow, i) for i in ids}
            floors = [f"{FLOOR_QUEUE}/{i}" for i in range(per_path)]
            await start_floors(stack, FLOOR_QUEUE, floors, steps=2, remote=False)
            await waiting_points(stack.client, floors)
            await asyncio.sleep(2)
            report["machine_idle"] = machine()

            def bare(workflow_id: str, local_activities: int = 0) -> Call:
                handle = stack.client.get_workflow_handle(workflow_id)
                step = FloorStep(number=0, local_activities=local_activities)
                return lambda: handle.execute_update(FloorWorkflow.ping, step)

            def update(assessment_id: int) -> Call:
                handle = stack.client.get_workflow_handle(rows[assessment_id].workflow_id)
                decision = LeadDecision(action="approve", by=lead.actor)
                return lambda: execute_update(
                    handle, CoachingWorkflow.decide, decision, uuid.uuid4().hex
                )

            def decide(assessment_id: int) -> Call:
                return lambda: actions.decide(context, lead, assessment_id, {"action": "approve"})

            transport = httpx.ASGITransport(app=create_app(context))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

                def post(assessment_id: int) -> Call:
                    async def call() -> None:
                        response = await http.post(
                            f"/api/assessments/{assessment_id}/decision",
                            json={"action": "approve"},
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        if response.status_code != 200:
                            raise SystemExit(f"decision refused: {response.status_code}")

                    return call

                timings = await interleaved(
                    {
                        BARE: [bare(w) for w in floors],
                        BARE_LOCAL: [bare(w, local_activities=1) for w in floors],
                        UPDATE: [update(i) for i in ids[0::3]],
                        DECIDE: [decide(i) for i in ids[1::3]],
                        POST: [post(i) for i in ids[2::3]],
                    }
                )
    report["waiting"] = len(workflow_ids)
    report["worker_max_cached_workflows"] = worker_cache()
    report["paths"] = {name: percentiles(values) for name, values in timings.items()}
    report["machine_after"] = machine()
    print_report(report)
    print(load_line("after"))
    write_result("decision_latency.json", report)


def print_report(report: dict[str, Any]) -> None:
    cached = (
        "every workflow cached"
        if report["waiting"] <= report["worker_max_cached_workflows"]
        else f"more than the worker's cache of {report['worker_max_cached_workflows']} holds"
    )
    print(
        f"\nlead decisions on an idle server ({report['database']}, worker.py in its own "
        f"process, {report['waiting']} assessments waiting, {cached}): "
        f"{report['decisions_per_path']} per path, one after another"
    )
    print(f"{'path':<44}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, p in report["paths"].items():
        print(f"{name:<44}{p['p50']:>9}{p['p95']:>9}{p['p99']:>9}{p['max']:>9}")
    update_p50 = report["paths"][UPDATE]["p50"]
    verdict = "meets" if update_p50 <= TARGET_P50_MS else "misses"
    print(
        f"\ndecision update round trip p50 {update_p50} ms: {verdict} the {TARGET_P50_MS} ms target"
    )


if __name__ == "__main__":
    asyncio.run(main())
