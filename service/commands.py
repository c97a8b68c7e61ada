"""The async bodies of the CLI commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterable

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from domain.assessment import OPEN_STATUSES
from domain.coaching import LeadDecision
from domain.errors import field_errors
from domain.events import TicketEvent
from service import render
from service.intake import IngestResult, Intake
from service.manual import ManualAssessmentError, start_manual_assessment
from service.runtime import catalog_for, connect, live_catalog_for, open_store
from service.settings import Settings
from service.updates import acting_user, send_update
from store.assessments import (
    decisions_of,
    get_assessment,
    list_assessments,
    queue_counts,
    results_of,
)
from store.models import AssessmentRow
from workflows.coaching import CoachingWorkflow

DRAFT_WAIT_SECONDS = 600
WORKER_WAIT_SECONDS = 60


def summarize(results: list[IngestResult]) -> dict:
    return {
        "events": len(results),
        "matched": sum(len(r.matched) for r in results),
        "started": sum(len(r.started) for r in results),
        "duplicates": sum(len(r.duplicates) for r in results),
    }


def ingest_line(summary: dict) -> str:
    return (
        f"events {summary['events']} · matched {summary['matched']} · workflows started "
        f"{summary['started']} · duplicates {summary['duplicates']} · invalid "
        f"{summary.get('invalid', 0)}"
    )


class Progress:
    """One line that rewrites itself on a terminal, and a few plain lines elsewhere."""

    def __init__(self, label: str, total: int, quiet: bool = False):
        self.label, self.total, self.quiet = label, total, quiet
        self.tty = sys.stderr.isatty()
        self.last = -1.0

    def update(self, done: int) -> None:
        if self.quiet or self.total == 0:
            return
        now = time.monotonic()
        final = done >= self.total
        if not final and now - self.last < (0.1 if self.tty else 2.0):
            return
        self.last = now
        end = "\n" if final or not self.tty else ""
        print(f"\r{self.label} {done}/{self.total}", end=end, file=sys.stderr, flush=True)


async def wait_for_drafts(
    sessions: async_sessionmaker,
    workflow_ids: list[str],
    quiet: bool = False,
    give_up_after: float = 600,
) -> int:
    """Wait until every workflow has written its assessment; returns how many did."""
    progress = Progress("drafts in the review queue", len(workflow_ids), quiet)
    wanted = set(workflow_ids)
    deadline = time.monotonic() + give_up_after
    done = 0
    while wanted:
        async with sessions() as session:
            ids = list(wanted)
            found = 0
            for i in range(0, len(ids), 500):
                found += (
                    await session.execute(
                        select(func.count())
                        .select_from(AssessmentRow)
                        .where(AssessmentRow.workflow_id.in_(ids[i : i + 500]))
                    )
                ).scalar_one()
        done = found
        progress.update(done)
        if done >= len(wanted) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    return done


async def ingest(
    settings: Settings, events: Iterable[TicketEvent], wait: bool = True, quiet: bool = False
) -> dict:
    events = list(events)
    catalog = catalog_for(settings)
    if catalog.problems:
        raise SystemExit("the definitions have problems; run `starter.py check`")
    async with open_store(settings) as sessions, connect(settings, sessions) as conn:
        intake = Intake(
            conn.client,
            sessions,
            catalog,
            settings.task_queue,
            eager_start=conn.in_process_worker,
            concurrency=settings.start_concurrency,
        )
        progress = Progress("events ingested", len(events), quiet)
        results = await intake.ingest_many(events, lambda done, _r: progress.update(done))
        started = [w for r in results for w in r.started]
        if wait or conn.in_process_worker:
            patience = DRAFT_WAIT_SECONDS if conn.in_process_worker else WORKER_WAIT_SECONDS
            drafted = await wait_for_drafts(sessions, started, quiet, give_up_after=patience)
            if drafted < len(started):
                print(
                    f"{len(started) - drafted} of {len(started)} drafts are not in the queue "
                    f"after {patience}s; is a worker running on {conn.address}, task queue "
                    f"{settings.task_queue!r}? The workflows are started and will draft once "
                    "one is.",
                    file=sys.stderr,
                )
    return summarize(results)


def _row_dict(row: AssessmentRow) -> dict:
    return {c.name: getattr(row, c.name) for c in AssessmentRow.__table__.columns}


async def queue(settings: Settings, args: argparse.Namespace) -> int:
    statuses = None if args.all else (args.status or list(OPEN_STATUSES))
    async with open_store(settings) as sessions, sessions() as session:
        rows = await list_assessments(
            session, statuses, args.opportunity, args.agent, args.limit, args.offset
        )
        counts = await queue_counts(session)
    if args.json:
        print(
            json.dumps(
                {
                    "items": [_row_dict(r) for r in rows],
                    "counts": [{"opportunity": o, "status": s, "count": n} for o, s, n in counts],
                },
                indent=2,
                default=str,
            )
        )
        return 0
    print(render.counts_table(counts) if counts else "No assessments yet.")
    print()
    print(render.queue_table(rows))
    return 0


async def show(settings: Settings, key: str, as_json: bool) -> int:
    async with open_store(settings) as sessions, sessions() as session:
        row = await get_assessment(session, key)
        if row is None:
            print(f"no assessment {key!r}", file=sys.stderr)
            return 1
        results = await results_of(session, row.id)
        decisions = await decisions_of(session, row.id)
    if as_json:
        data = _row_dict(row)
        data["results"] = [
            {c.name: getattr(r, c.name) for c in r.__table__.columns} for r in results
        ]
        data["decisions"] = [
            {c.name: getattr(d, c.name) for c in d.__table__.columns} for d in decisions
        ]
        print(json.dumps(data, indent=2, default=str))
    else:
        print(render.assessment_text(row, results, decisions))
    return 0


async def decide(settings: Settings, args: argparse.Namespace, fields: dict) -> int:
    """The lead's decision: the lead (and a reassignment's new lead) come from the directory."""
    async with open_store(settings) as sessions:
        async with sessions() as session:
            row = await get_assessment(session, args.id)
            if row is None:
                print(f"no assessment {args.id!r}", file=sys.stderr)
                return 1
            by = await acting_user(session, args.as_user)
            to = await acting_user(session, args.to) if args.to else None
            decisions = await decisions_of(session, row.id)
        try:
            decision = LeadDecision(by=by, to=to, **fields)
        except ValidationError as exc:
            problems = [str(e) for e in field_errors(exc)]
        else:
            problems = decision.problems()
        if problems:
            for problem in problems:
                print(f"invalid decision: {problem}", file=sys.stderr)
            return 2
        if row.status not in OPEN_STATUSES:
            final = [d for d in decisions if d.action != "reassign"]
            if final:
                d = final[-1]
                print(
                    f"assessment {row.id} is {row.status}; it was already decided "
                    f"({d.action} by {d.lead} at {d.decided_at:%Y-%m-%d %H:%M} UTC)",
                    file=sys.stderr,
                )
            else:
                print(
                    f"assessment {row.id} is {row.status}; there is nothing to decide",
                    file=sys.stderr,
                )
            return 1
        async with connect(settings, sessions) as conn:
            result = await send_update(
                conn.client,
                row,
                CoachingWorkflow.decide,
                decision,
                request_id=args.request_id,
                prefix="decision rejected",
            )
    if args.json:
        print(result.model_dump_json(indent=2))
    elif result.action == "reassign":
        print(
            f"assessment {result.assessment_id}: reassigned by {result.lead} to {result.to} "
            f"({result.status}); `decide {result.assessment_id} ... --as {result.to}` next"
        )
    else:
        print(
            f"assessment {result.assessment_id}: {result.action} by {result.lead} "
            f"-> {result.status}"
            + (f" ({len(result.changes)} change(s))" if result.changes else "")
        )
    return 0


async def assess(
    settings: Settings,
    ticket: str,
    rubric: str,
    as_user: str,
    opportunity: str | None,
    as_json: bool,
) -> int:
    source, _, ticket_id = ticket.rpartition("/")
    if not source or not ticket_id:
        print(f"name the ticket as SOURCE/ID, e.g. generic/35436 (got {ticket!r})", file=sys.stderr)
        return 2
    catalog = catalog_for(settings)
    async with open_store(settings) as sessions:
        async with sessions() as session:
            lead = (await acting_user(session, as_user, role="lead")).id
        async with connect(settings, sessions) as conn:
            try:
                workflow_id = await start_manual_assessment(
                    conn.client,
                    sessions,
                    catalog,
                    settings.task_queue,
                    source,
                    ticket_id,
                    rubric,
                    lead,
                    opportunity,
                    eager_start=conn.in_process_worker,
                )
            except ManualAssessmentError as exc:
                print(f"cannot assess: {exc}", file=sys.stderr)
                return 1
            await wait_for_drafts(
                sessions,
                [workflow_id],
                quiet=True,
                give_up_after=DRAFT_WAIT_SECONDS if conn.in_process_worker else WORKER_WAIT_SECONDS,
            )
            async with sessions() as session:
                row = await get_assessment(session, workflow_id)
    if as_json:
        print(
            json.dumps(
                {
                    "workflow_id": workflow_id,
                    "assessment_id": row.id if row else None,
                    "status": row.status if row else "drafting",
                },
                indent=2,
            )
        )
    elif row:
        print(
            f"assessment {row.id} ({row.status}) for {ticket} against {row.rubric_id}@"
            f"{row.rubric_version}; see `starter.py show {row.id}`"
        )
    else:
        print(f"started {workflow_id}; the draft is not in the queue yet")
    return 0


async def dev(settings: Settings, port: int) -> int:
    from service.demo_users import demo_tokens
    from web.serve import web_server

    if settings.temporal_address:
        raise SystemExit(
            "`dev` runs the embedded stack; unset TEMPORAL_ADDRESS "
            "or run `python worker.py` against your server"
        )
    definitions = live_catalog_for(settings)
    catalog = definitions.current()
    async with (
        open_store(settings) as sessions,
        connect(settings, sessions, port=port, ui=True) as conn,
    ):
        if not conn.in_process_worker:
            raise SystemExit(f"a dev server already runs at {conn.address}")
        settings.dev_server_file.write_text(json.dumps({"address": conn.address}))
        server = web_server(settings, conn.client, sessions, definitions, interactive_docs=True)
        web = asyncio.create_task(server.serve())
        print(
            f"Temporal dev server on {conn.address} (UI http://127.0.0.1:{port + 1000}), "
            f"data in {settings.data_dir}/; worker on task queue {settings.task_queue!r}."
        )
        print(f"Web app on http://127.0.0.1:{settings.web_port} (log in with a name and token).")
        for name, role, token in await demo_tokens(sessions, catalog):
            print(f"  {role:<8} {name:<12} {token}")
        print("Other starter.py commands in this folder use this server. Ctrl-C stops it.")
        try:
            await web
        finally:
            server.should_exit = True
            settings.dev_server_file.unlink(missing_ok=True)
    return 0


async def serve(settings: Settings, host: str) -> int:
    """The web app alone, against TEMPORAL_ADDRESS (or a running `dev`); workers run apart."""
    from web.serve import web_server

    definitions = live_catalog_for(settings)
    if definitions.current().problems:
        raise SystemExit("the definitions have problems; run `starter.py check`")
    async with open_store(settings) as sessions, connect(settings, sessions) as conn:
        if conn.in_process_worker:
            print("no TEMPORAL_ADDRESS and no running `dev`: serving with the embedded stack")
        print(f"Web app on http://{host}:{settings.web_port}, Temporal at {conn.address}.")
        await web_server(settings, conn.client, sessions, definitions, host=host).serve()
    return 0
