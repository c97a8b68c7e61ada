"""From a validated event to coaching workflows: store, match, dedupe, start."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.coaching import CoachingInput, EventRef
from domain.events import TicketEvent
from opportunities.catalog import Catalog
from opportunities.matcher import Match, match_event
from service import ops_metrics
from store.starts import StartPlan, plan_start, record_start
from store.tickets import upsert_event
from store.uninterrupted import transaction
from workflows.coaching import CoachingWorkflow


class IngestResult(BaseModel):
    event_id: str
    matched: list[str] = Field(default_factory=list)
    started: list[str] = Field(default_factory=list)
    duplicates: list[str] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)


@dataclass
class Intake:
    client: Client
    sessions: async_sessionmaker
    catalog: Catalog
    task_queue: str
    eager_start: bool = False
    concurrency: int = 50

    async def ingest(self, event: TicketEvent) -> IngestResult:
        """Store the event and plan its starts in one transaction, start the workflows, then
        record the starts in another. A crash between the two is healed by redelivery: the
        workflow id is planned again and Temporal refuses the second start."""
        ops_metrics.EVENTS_RECEIVED.labels(event.source).inc()
        result = IngestResult(event_id=event.event_id)
        matched: list[Match] = []
        for match in match_event(event, self.catalog):
            if not match.matched:
                result.skipped[match.opportunity_id] = match.outcome + (
                    f": {match.detail}" if match.detail else ""
                )
                continue
            result.matched.append(match.opportunity_id)
            matched.append(match)

        async def store(session: AsyncSession) -> list[StartPlan]:
            await upsert_event(session, event)
            return [await self._plan(session, event, match) for match in matched]

        plans = await transaction(self.sessions, store)
        for match in matched:
            ops_metrics.EVENTS_MATCHED.labels(match.opportunity_id).inc()
        started: list[tuple[Match, StartPlan]] = []
        for match, plan in zip(matched, plans, strict=True):
            duplicate = plan.duplicate_of is not None
            if not duplicate:
                duplicate = not await self._start_workflow(event, match, plan)
                started.append((match, plan))
            (result.duplicates if duplicate else result.started).append(plan.workflow_id)
            ops_metrics.count_start(match.opportunity_id, duplicate)
        if started:

            async def record(session: AsyncSession) -> None:
                for match, plan in started:
                    await record_start(
                        session,
                        plan,
                        match.dedupe_key,
                        match.opportunity_id,
                        event.source,
                        event.event_id,
                        event.occurred_at,
                    )

            await transaction(self.sessions, record)
        return result

    async def _plan(self, session: AsyncSession, event: TicketEvent, match: Match) -> StartPlan:
        """Concurrent deliveries plan the same workflow id; Temporal lets only one start."""
        return await plan_start(
            session,
            match.dedupe_key,
            event.source,
            event.event_id,
            event.occurred_at,
            self.catalog.opportunities[match.opportunity_id].dedupe.within,
        )

    async def _start_workflow(self, event: TicketEvent, match: Match, plan: StartPlan) -> bool:
        opportunity = self.catalog.opportunities[match.opportunity_id]
        payload = CoachingInput(
            opportunity=opportunity,
            rubric=self.catalog.rubric_for(opportunity),
            event=EventRef.from_event(event),
            surveys=self.catalog.surveys_for(opportunity),
        )
        try:
            await self.client.start_workflow(
                CoachingWorkflow.run,
                payload,
                id=plan.workflow_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                request_eager_start=self.eager_start,
            )
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def ingest_many(
        self,
        events: Iterable[TicketEvent],
        progress: Callable[[int, IngestResult], None] | None = None,
    ) -> list[IngestResult]:
        """Bounded concurrency: the dev server's single SQLite connection dislikes bursts."""
        gate = asyncio.Semaphore(self.concurrency)
        done = 0

        async def one(event: TicketEvent) -> IngestResult:
            nonlocal done
            async with gate:
                result = await self.ingest(event)
            done += 1
            if progress:
                progress(done, result)
            return result

        return list(await asyncio.gather(*(one(e) for e in events)))
