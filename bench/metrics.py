"""compute_metrics over 100,000 measurement events, on SQLite and PostgreSQL.

    python bench/metrics.py [--events 100000] [--runs 7]
    COACHFLOW_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python bench/metrics.py

Always measures a fresh SQLite file in a temporary folder; when COACHFLOW_DATABASE_URL points
at PostgreSQL, also a fresh database created there (coachflow_bench_<random>) and dropped
after. Each is migrated (store.migrate.upgrade), filled with a deterministic history (the
assessments, criterion results, tickets with CSAT and `csat.received` events the events refer
to), analysed, then compute_metrics is timed over the full window, a 30-day window, and a
team slice (and on PostgreSQL, the full window on one connection instead of the default
metrics_sql.PARALLEL); trends too. Prints a table and writes bench/results/metrics.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from domain.events import TicketEvent
from examples.demo_tickets import generate
from store import metrics_sql
from store.db import (
    create_database,
    drop_database,
    make_engine,
    normalize_url,
    session_factory,
    sqlite_url,
)
from store.metrics import MetricsSlice, compute_metrics, trends
from store.migrate import upgrade
from store.models import (
    AssessmentRow,
    CriterionResultRow,
    EventRow,
    MeasurementEventRow,
    TicketRow,
)
from store.tickets import _ticket_columns

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MS = 200
START = datetime(2026, 1, 5, tzinfo=UTC)
SPAN_DAYS = 180
TEAMS = [f"team-{i}" for i in range(10)]
QUEUES = ["billing", "tech", "accounts", "shipping", "returns", "api", "mobile", "enterprise"]
AREAS = [f"area-{i}" for i in range(12)]
SEGMENTS = ["smb", "mid-market", "enterprise", "consumer"]
OPPORTUNITIES = ["low-csat", "escalation", "weekly-qa-sample", "first-response", "reassignment"]
EVENT_TYPES = {
    "low-csat": "csat.received",
    "escalation": "ticket.escalated",
    "weekly-qa-sample": "qa.sampled",
    "first-response": "ticket.first_response",
    "reassignment": "ticket.reassigned",
}
CRITERIA = ["first_response_sla", "empathy", "tone", "policy_exception", "kb_reference"]
CRITERIA += ["handoff_note"]
CAUSES = ["agent_behavior"] * 6 + ["policy", "documentation", "staffing", "product"]
KB = [f"kb-{i}" for i in range(40)]
POLICIES = [f"policy-{i}" for i in range(15)]


class History:
    """Rows for each table, built deterministically until `events` measurement events."""

    def __init__(self, events: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        # Realistic ticket snapshots (about 900 bytes of JSON each), from the demo's tickets.
        self.snapshots = [
            _ticket_columns(TicketEvent.model_validate(e).ticket)["snapshot"]
            for e in generate(seed=seed, count=100)
        ]
        self.agents = [
            (f"a-{i}", TEAMS[i % len(TEAMS)], QUEUES[i % len(QUEUES)]) for i in range(200)
        ]
        self.tickets: list[dict] = []
        self.csat_events: list[dict] = []
        self.assessments: list[dict] = []
        self.results: list[dict] = []
        self.events: list[dict] = []
        while len(self.events) < events:
            self._assessment()
        del self.events[events:]

    def _event(self, kind: str, at: datetime, a: dict, **data: Any) -> None:
        self.events.append(
            {
                "dedupe_key": f"{kind}:{len(self.events)}",
                "kind": kind,
                "occurred_at": at,
                "assessment_id": a["id"],
                "workflow_id": a["workflow_id"],
                "opportunity_id": a["opportunity_id"],
                "rubric_id": a["rubric_id"],
                "rubric_version": a["rubric_version"],
                "agent_id": a["agent_id"],
                "team": a["team"],
                "queue": a["queue"],
                "product_area": a["product_area"],
                "customer_segment": a["customer_segment"],
                "data": data,
            }
        )

    def _assessment(self) -> None:
        rng = self.rng
        n = len(self.assessments) + 1
        agent, team, queue = rng.choice(self.agents)
        occurred = START + timedelta(seconds=rng.uniform(0, SPAN_DAYS * 86400))
        drafted = occurred + timedelta(minutes=rng.uniform(1, 90))
        area, segment = rng.choice(AREAS), rng.choice(SEGMENTS)
        csat = None
        received = occurred + timedelta(hours=rng.uniform(1, 72))
        if rng.random() < 0.7:
            csat = {"score": rng.choice([1, 2, 3, 4, 5, 5, 4]), "scale": 5, "comment": "Thanks"}
            if rng.random() < 0.5:
                csat["received_at"] = received.isoformat().replace("+00:00", "Z")
        snapshot = dict(self.snapshots[n % len(self.snapshots)])
        snapshot.update(
            queue=queue,
            product_area=area,
            customer_segment=segment,
            agent={"id": agent, "name": f"Agent {agent}", "team": team},
            csat=csat,
        )
        self.tickets.append(
            {
                "id": n,
                "source": "generic",
                "external_id": f"b{n}",
                "agent_id": agent,
                "team": team,
                "queue": queue,
                "product_area": area,
                "customer_segment": segment,
                "solved_at": occurred,
                "snapshot": snapshot,
                "last_event_at": occurred,
                "updated_at": occurred,
            }
        )
        if csat:
            self.csat_events.append(
                {
                    "source": "generic",
                    "event_id": f"csat-{n}",
                    "type": "csat.received",
                    "occurred_at": received,
                    "ticket_id": n,
                    "received_at": received,
                }
            )
        opportunity = rng.choice(OPPORTUNITIES)
        stopped = rng.random() < 0.1
        a = {
            "id": n,
            "workflow_id": f"coaching/{opportunity}/generic/b{n}",
            "opportunity_id": opportunity,
            "opportunity_version": 1,
            "rubric_id": "support-core",
            "rubric_version": rng.choice([1, 2, 2, 3]),
            "ticket_id": n,
            "source": "generic",
            "ticket_external_id": f"b{n}",
            "event_id": f"e{n}",
            "event_type": EVENT_TYPES[opportunity],
            "agent_id": agent,
            "team": team,
            "queue": queue,
            "product_area": area,
            "customer_segment": segment,
            "status": "stopped" if stopped else "awaiting_review",
            "confidence": 0.9,
            "priority": 0,
            "flags": [],
            "summary": "",
            "coaching_note": "",
            "qa_summary": "",
            "evidence_report": [],
            "process_issues": [],
            "repeat_themes": [],
            "auto_eligible": False,
            "occurred_at": occurred,
            "created_at": drafted,
            "updated_at": drafted,
            "decided_at": None,
        }
        self.assessments.append(a)
        for position, criterion in enumerate(CRITERIA):
            status = rng.choices(["passed", "failed", "not_applicable"], [6, 3, 1])[0]
            cause = rng.choice(CAUSES) if status == "failed" else None
            self.results.append(
                {
                    "assessment_id": n,
                    "position": position,
                    "criterion_id": criterion,
                    "name": criterion,
                    "status": status,
                    "score": 1.0 if status == "passed" else 0.0,
                    "max_score": 1.0,
                    "weight": 1.0,
                    "critical": False,
                    "cause": cause,
                    "confidence": 0.9,
                    "explanation": "",
                    "evidence": [],
                }
            )
            if cause in ("policy", "documentation"):
                ref = rng.choice(POLICIES if cause == "policy" else [*KB, None])
                self._event("process_issue", drafted, a, cause=cause, ref=ref, summary="")
        kind = "assessment_stopped" if stopped else "assessment_drafted"
        self._event(kind, drafted, a, event_type=a["event_type"], virtual_coach=None)
        if rng.random() < 0.2:
            self._event("review_reminder", drafted + timedelta(days=3), a, reviewers="team")
        if rng.random() < 0.12:
            a["status"] = "awaiting_review"
            return
        review = rng.uniform(0.5, 96) * 3600
        decided = drafted + timedelta(seconds=review)
        action = rng.choices(["approve", "override", "dismiss"], [65, 18, 17])[0]
        changes = []
        if action == "override":
            for criterion in rng.sample(CRITERIA, rng.randint(1, 2)):
                changes.append({"criterion_id": criterion, "field": "score", "before": 0})
        reason = rng.choice(["unclear policy", "not coaching material", None])
        self._event(
            f"decision_{action}",
            decided,
            a,
            lead="lee",
            reason=reason if action != "approve" else None,
            changes=changes,
            review_seconds=review,
        )
        a["decided_at"] = decided
        if action == "dismiss":
            a["status"] = "dismissed"
            return
        a["status"] = "coaching"
        self._event("coaching_started", decided, a, by="coaching", tasks=[], surveys=[])
        for t in range(rng.randint(1, 2)):
            self._event("task_assigned", decided, a, task_key=f"task-{t}", skill="s")
            done = decided + timedelta(days=rng.uniform(1, 25))
            if rng.random() < 0.75:
                self._event("task_completed", done, a, on_time=done < decided + timedelta(14))
                self._event("skill_awarded", done, a, skill="s")
            else:
                self._event("task_incomplete", decided + timedelta(days=21), a)
        for audience in ("coach", "trainee"):
            self._event("survey_sent", decided, a, audience=audience, template_id="x")
            if rng.random() < 0.65:
                answers = (
                    {"competence": rng.randint(1, 5), "clarity": rng.randint(1, 5)}
                    if audience == "coach"
                    else {"usefulness": rng.randint(1, 5)}
                )
                at = decided + timedelta(days=rng.uniform(0, 6))
                self._event("survey_answered", at, a, audience=audience, answers=answers)
            else:
                self._event("survey_expired", decided + timedelta(days=7), a, audience=audience)
        response = rng.choices(["acknowledged", "disputed", None], [70, 10, 20])[0]
        if response:
            self._event(response, decided + timedelta(days=1), a)
        if response == "disputed":
            self._event("dispute_upheld", decided + timedelta(days=3), a, lead="quinn")
        self._event("assessment_closed", decided + timedelta(days=30), a, status="closed")


async def fill(url: str, history: History) -> None:
    engine = make_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        for table, rows in (
            (TicketRow, history.tickets),
            (EventRow, history.csat_events),
            (AssessmentRow, history.assessments),
            (CriterionResultRow, history.results),
            (MeasurementEventRow, history.events),
        ):
            for i in range(0, len(rows), 5000):
                await session.execute(insert(table), rows[i : i + 5000])
    # As autovacuum would have by now: statistics, and (PostgreSQL) the visibility map that
    # index-only scans rely on.
    postgres = engine.dialect.name == "postgresql"
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    await engine.dispose()


async def timed(runs: int, call: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    await call()  # warm: the connection, statement caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await call()
        times.append(1000 * (time.perf_counter() - t0))
    return {
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
    }


async def measure(url: str, runs: int) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = session_factory(engine)
    end = START + timedelta(days=SPAN_DAYS)
    cases: dict[str, Callable[[], Awaitable[Any]]] = {}

    def metrics(
        parallel: int = metrics_sql.PARALLEL, **kwargs: Any
    ) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            default, metrics_sql.PARALLEL = metrics_sql.PARALLEL, parallel
            try:
                async with sessions() as session:
                    return await compute_metrics(session, **kwargs)
            finally:
                metrics_sql.PARALLEL = default

        return call

    def trend(by: str) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            async with sessions() as session:
                return await trends(session, by)  # type: ignore[arg-type]

        return call

    cases["compute_metrics, full window"] = metrics()
    cases["compute_metrics, last 30 days"] = metrics(since=end - timedelta(days=30), until=end)
    cases["compute_metrics, team slice"] = metrics(slice=MetricsSlice(team="team-3"))
    cases["compute_metrics, agent + rubric v2"] = metrics(
        slice=MetricsSlice(agent="a-17", rubric_version=2)
    )
    if engine.dialect.name == "postgresql":
        cases["compute_metrics, full, one connection"] = metrics(parallel=1)
    cases["trends by agent"] = trend("agent")
    cases["trends by kb_article"] = trend("kb_article")
    out = {name: await timed(runs, call) for name, call in cases.items()}
    async with sessions() as session:
        sample = await compute_metrics(session)
    await engine.dispose()
    return {"timings": out, "sample": sample.model_dump(mode="json")}


async def run_on(label: str, url: str, history: History, runs: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    await upgrade(url)
    await fill(url, history)
    load = time.perf_counter() - t0
    result = await measure(url, runs)
    result["load_seconds"] = round(load, 1)
    print(f"\n{label}: loaded in {load:.1f} s; {runs} runs after one warm-up")
    print(f"{'query':<38}{'median ms':>11}{'min':>9}{'max':>9}")
    for name, t in result["timings"].items():
        print(f"{name:<38}{t['median_ms']:>11.1f}{t['min_ms']:>9.1f}{t['max_ms']:>9.1f}")
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    history = History(args.events)
    print(
        f"history: {len(history.events):,} measurement events, {len(history.assessments):,} "
        f"assessments, {len(history.results):,} criterion results, {len(history.tickets):,} "
        f"tickets ({len(history.csat_events):,} rated), {SPAN_DAYS} days, 200 agents"
    )
    report: dict[str, Any] = {
        "events": len(history.events),
        "assessments": len(history.assessments),
        "criterion_results": len(history.results),
        "tickets": len(history.tickets),
        "target_ms": TARGET_MS,
        "postgresql_connections": metrics_sql.PARALLEL,
        "databases": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        url = sqlite_url(Path(folder) / "bench.db")
        report["databases"]["sqlite"] = await run_on("SQLite", url, history, args.runs)
    configured = os.environ.get("COACHFLOW_DATABASE_URL", "").strip()
    if configured and make_url(normalize_url(configured)).get_backend_name() == "postgresql":
        url, admin = await create_database(configured, "coachflow_bench")
        try:
            report["databases"]["postgresql"] = await run_on("PostgreSQL", url, history, args.runs)
        finally:
            await drop_database(admin, url)
    else:
        print("\nPostgreSQL: skipped (set COACHFLOW_DATABASE_URL=postgresql://...)")
    for name, result in report["databases"].items():
        full = result["timings"]["compute_metrics, full window"]["median_ms"]
        verdict = "meets" if full < TARGET_MS else "misses"
        print(f"{name}: full window median {full:.0f} ms, {verdict} the {TARGET_MS} ms target")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "metrics.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
