"""`starter.py demo`: the embedded stack end to end on a seeded sample of conversations."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from examples.demo_tickets import generate
from intake.generic import parse_event
from service import render
from service.commands import Progress, ingest_line, summarize, wait_for_drafts
from service.demo_lifecycle import Outcome, simulate
from service.demo_lifecycle import summarize as summarize_lifecycle
from service.intake import Intake
from service.report_command import report_for_demo
from service.runtime import catalog_for, connect, open_store
from service.settings import Settings
from store.assessments import decisions_of, list_assessments, queue_counts, results_of
from store.metrics import compute_metrics
from store.models import AssessmentRow

RETRIED = 10


async def _instructive(session: AsyncSession) -> AssessmentRow | None:
    """An assessment with a coaching point and a process issue side by side."""
    rows = await list_assessments(session, ["awaiting_review"], limit=500)
    mixed = [r for r in rows if "process_issue" in r.flags and (r.score or 0) < (r.max_score or 0)]
    return (mixed or rows or [None])[0]


async def _print_queue(sessions, drafted: int, started: int) -> None:
    async with sessions() as session:
        counts = await queue_counts(session)
        top = await list_assessments(session, ["awaiting_review", "stopped"], limit=10)
        example = await _instructive(session)
        detail = (
            (await results_of(session, example.id), await decisions_of(session, example.id))
            if example
            else None
        )
    print(f"\n{drafted} of {started} assessments reached the review queue.\n")
    print("Queue by opportunity and state:")
    print(render.counts_table(counts))
    print(
        "\nTop of the lead's review queue (highest priority first: customer risk, policy "
        "exceptions, low confidence, stopped):"
    )
    print(render.queue_table(top))
    if example and detail:
        print(f"\nAssessment {example.id}, as `python starter.py show {example.id}` prints it:\n")
        print(render.assessment_text(example, *detail))


def _print_next(settings: Settings, outcome: Outcome) -> None:
    run = f"COACHFLOW_DATA_DIR={settings.data_dir} python starter.py"
    print("Try it next (the users above are in the directory: `users list`):")
    print(f"  {run} queue | show ID")
    untouched = outcome.plan.untouched
    if untouched:
        row = untouched.row
        lead = outcome.seeded.team_leads[row.team]
        print(f"  as a lead:    {run} decide {row.id} approve --as {lead}")
    if outcome.trainee_next:
        who, key = outcome.trainee_next, outcome.trainee_assessment
        print(f"  as a trainee: {run} tasks --as {who}   then   complete TASK_ID --as {who}")
        print(f"                {run} surveys --as {who} | ack {key} --as {who}")
        print(f"                {run} skills --as {who}")


async def run_demo(settings: Settings, count: int = 100) -> int:
    started_at = time.monotonic()
    settings = replace(
        settings, data_dir=settings.data_dir / "demo", database_url=None, temporal_address=None
    )
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    print(
        f"coachflow demo: embedded Temporal dev server and SQLite in {settings.data_dir}/ "
        "(fresh on every run)"
    )
    catalog = catalog_for(settings)
    if catalog.problems:
        for problem in catalog.problems:
            print(problem)
        return 1
    print(
        f"definitions: {len(catalog.opportunities)} opportunities, "
        f"{len(catalog.rubrics)} approved rubric version(s), all valid"
    )
    events = [parse_event(e) for e in generate(count=count)]
    print(f"sample: {len(events)} resolved support conversations, one event each")

    async with open_store(settings) as sessions:
        boot = time.monotonic()
        async with connect(settings, sessions) as conn:
            print(
                f"Temporal dev server at {conn.address}, worker in this process "
                f"(up in {time.monotonic() - boot:.1f}s)"
            )
            intake = Intake(
                conn.client,
                sessions,
                catalog,
                settings.task_queue,
                eager_start=True,
                concurrency=settings.start_concurrency,
            )
            progress = Progress("events ingested", len(events))
            results = await intake.ingest_many(events, lambda done, _r: progress.update(done))
            print(ingest_line(summarize(results)))
            retried = summarize(await intake.ingest_many(events[:RETRIED]))
            print(
                f"the help desk re-delivers {RETRIED} events: {retried['started']} new "
                f"workflows; {retried['duplicates']} matches recognised as duplicates"
            )
            started = [w for r in results for w in r.started]
            drafted = await wait_for_drafts(sessions, started)
            await _print_queue(sessions, drafted, len(started))
            outcome = await simulate(conn.client, sessions, catalog)
        summary = await summarize_lifecycle(sessions)
        async with sessions() as session:
            metrics = await compute_metrics(session)
        report = await report_for_demo(sessions, settings, time.monotonic() - started_at)

    print("\nLifecycle summary (after the SIMULATED actions above):")
    print(
        render.lifecycle_text(
            summary.statuses, summary.tasks, summary.skills, summary.surveys, summary.disputes
        )
    )
    print(
        "  Deadlines cannot pass in real time in a demo: timers for reminders/expiry run on "
        "Temporal; see tests."
    )
    print("\nMetrics:")
    print(render.metrics_text(metrics))
    print(f"\nPilot report of this run (HTML, open it in a browser): {report}")
    print(f"\nDemo finished in {time.monotonic() - started_at:.1f}s.")
    _print_next(settings, outcome)
    return 0 if drafted == len(started) else 1
