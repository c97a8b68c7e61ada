"""The QA sample's side effects: draw from the store, start coaching workflows, record the run.

Each is safe to retry. The draw is recorded once per run and a retry gets that same draw
back, even if tickets were assessed in between; the starts go through Intake with an event
id derived from the run and the ticket, so a retried start is a duplicate, never a second
workflow.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from domain.definitions import SampleSpec
from domain.events import TicketEvent
from domain.sampling import (
    DRAW_QA_SAMPLE,
    QA_SAMPLED,
    RECORD_QA_SAMPLE,
    START_QA_SAMPLE,
    DrawRequest,
    RecordSampleRequest,
    RecordSampleResult,
    SampleDraw,
    StartSampleRequest,
    StartSampleResult,
    draw_sample,
    sampled_event_id,
)
from opportunities.catalog import Catalog
from opportunities.live import LiveCatalog
from service.intake import Intake
from store.sampling import draw_of, get_run, load_population, record_finished, save_draw
from store.tickets import load_ticket
from store.uninterrupted import transaction


def _default_catalog() -> LiveCatalog:
    # Imported here: service.runtime imports the worker, which imports this module.
    from service.runtime import live_catalog_for
    from service.settings import Settings

    return live_catalog_for(Settings())


class SamplingActivities:
    def __init__(
        self,
        sessions: async_sessionmaker,
        client: Client,
        task_queue: str,
        catalog: Catalog | LiveCatalog | None = None,
        load_catalog: Callable[[], LiveCatalog] = _default_catalog,
    ):
        """`catalog`: fixed definitions (tests); by default the settings' folders, loaded at
        the first sample and followed as the web app's admins change them."""
        self.sessions = sessions
        self.client = client
        self.task_queue = task_queue
        self._definitions = LiveCatalog.fixed(catalog) if isinstance(catalog, Catalog) else catalog
        self._load_catalog = load_catalog

    def all(self) -> list:
        return [self.draw_qa_sample, self.start_qa_sample, self.record_qa_sample]

    @property
    def catalog(self) -> Catalog:
        if self._definitions is None:
            self._definitions = self._load_catalog()
        return self._definitions.current()

    def sampler_catalog(self, opportunity_id: str) -> Catalog:
        """Only the sample's opportunity, taking every ticket drawn: the fair draw replaces
        the opportunity's own `sample` rate, which would otherwise thin it out again."""
        opportunity = self.catalog.opportunities.get(opportunity_id)
        if opportunity is None or opportunity_id not in self.catalog.conditions:
            raise ApplicationError(
                f"opportunity: no valid opportunity {opportunity_id!r}; see `starter.py check`",
                type="UnknownOpportunity",
                non_retryable=True,
            )
        if QA_SAMPLED not in opportunity.on:
            raise ApplicationError(
                f"opportunity: {opportunity_id!r} does not listen to {QA_SAMPLED}",
                type="NotASampleOpportunity",
                non_retryable=True,
            )
        drawn = opportunity.model_copy(update={"sample": SampleSpec(rate=1.0)})
        return Catalog(
            opportunities={opportunity_id: drawn},
            rubrics=self.catalog.rubrics,
            conditions={opportunity_id: self.catalog.conditions[opportunity_id]},
            surveys=self.catalog.surveys,
        )

    @activity.defn(name=DRAW_QA_SAMPLE)
    async def draw_qa_sample(self, req: DrawRequest) -> SampleDraw:
        self.sampler_catalog(req.opportunity_id)  # refuse an unusable opportunity up front

        async def draw(session: AsyncSession) -> SampleDraw:
            row = await get_run(session, req.run_id)
            if row is None:
                population = await load_population(session, req.window_start, req.window_end)
                row = await save_draw(
                    session, req, draw_sample(population, req.per_agent, req.seed)
                )
            return draw_of(row)

        return await transaction(self.sessions, draw)

    @activity.defn(name=START_QA_SAMPLE)
    async def start_qa_sample(self, req: StartSampleRequest) -> StartSampleResult:
        intake = Intake(
            self.client, self.sessions, self.sampler_catalog(req.opportunity_id), self.task_queue
        )
        result = StartSampleResult()
        events = []

        async def read(session: AsyncSession) -> None:
            for sampled in req.tickets:
                ticket = await load_ticket(session, sampled.source, sampled.ticket_id)
                if ticket is None:
                    result.missing.append(f"{sampled.source}/{sampled.ticket_id}: not stored")
                    continue
                events.append(
                    TicketEvent(
                        event_id=sampled_event_id(req.run_id, sampled.source, sampled.ticket_id),
                        source=sampled.source,
                        type=QA_SAMPLED,
                        occurred_at=req.occurred_at,
                        ticket=ticket,
                    )
                )

        await transaction(self.sessions, read)
        ingested = await intake.ingest_many(
            events, progress=lambda done, _result: activity.heartbeat(done)
        )
        for event, outcome in zip(events, ingested, strict=True):
            result.started.extend(outcome.started)
            result.duplicates.extend(outcome.duplicates)
            for reason in outcome.skipped.values():
                result.missing.append(f"{event.source}/{event.ticket.id}: {reason}")
        return result

    @activity.defn(name=RECORD_QA_SAMPLE)
    async def record_qa_sample(self, req: RecordSampleRequest) -> RecordSampleResult:
        recorded = await transaction(self.sessions, lambda session: record_finished(session, req))
        return RecordSampleResult(recorded=recorded)
