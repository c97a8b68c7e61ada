"""The QA sample's population (resolved tickets of a window) and the record of each run."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.sampling import (
    Backup,
    Candidate,
    Composition,
    DrawRequest,
    QASampleResult,
    RecordSampleRequest,
    SampleDraw,
    SampledTicket,
)
from store.models import AssessmentRow, EventRow, QaSampleRow, TicketRow, WorkflowStartRow
from store.upsert import insert_ignore

RESOLVED_STATUSES = ("solved", "closed")


def _assessed():
    """True for a ticket any opportunity (or a lead, by hand) has already assessed or started
    a coaching workflow for."""
    drafted = exists().where(AssessmentRow.ticket_id == TicketRow.id)
    started = exists().where(
        and_(
            EventRow.ticket_id == TicketRow.id,
            WorkflowStartRow.source == EventRow.source,
            WorkflowStartRow.event_id == EventRow.event_id,
        )
    )
    return or_(drafted, started)


def _csat(snapshot: dict) -> tuple[float | None, int | None]:
    csat = snapshot.get("csat") or {}
    score = csat.get("score")
    return (float(score) if score is not None else None), csat.get("scale") or 5


async def load_population(
    session: AsyncSession, window_start: datetime, window_end: datetime
) -> list[Candidate]:
    """Every ticket resolved in [window_start, window_end), with whether it was assessed."""
    rows = await session.execute(
        select(TicketRow, _assessed().label("assessed"))
        .where(
            TicketRow.status.in_(RESOLVED_STATUSES),
            TicketRow.solved_at >= window_start,
            TicketRow.solved_at < window_end,
        )
        .order_by(TicketRow.id)
    )
    out = []
    for ticket, assessed in rows.all():
        score, scale = _csat(ticket.snapshot or {})
        out.append(
            Candidate(
                source=ticket.source,
                ticket_id=ticket.external_id,
                agent_id=ticket.agent_id,
                team=ticket.team,
                channel=ticket.channel,
                csat_score=score,
                csat_scale=scale,
                solved_at=ticket.solved_at,
                assessed=bool(assessed),
            )
        )
    return out


async def get_run(session: AsyncSession, run_id: str) -> QaSampleRow | None:
    query = select(QaSampleRow).where(QaSampleRow.run_id == run_id)
    return (await session.execute(query)).scalar_one_or_none()


async def save_draw(session: AsyncSession, req: DrawRequest, draw: SampleDraw) -> QaSampleRow:
    """Record the draw once per run: a retried or concurrent run gets the first one back."""
    await insert_ignore(
        session,
        QaSampleRow,
        {
            "run_id": req.run_id,
            "opportunity_id": req.opportunity_id,
            "window_start": req.window_start,
            "window_end": req.window_end,
            "per_agent": req.per_agent,
            "seed": draw.seed,
            "status": "drawn",
            "population_total": draw.population.total,
            "eligible": draw.eligible,
            "skipped_assessed": draw.skipped_assessed,
            "sample_total": draw.sample.total,
            "per_agent_counts": draw.sample.agents,
            "sample_composition": draw.sample.model_dump(mode="json"),
            "population_composition": draw.population.model_dump(mode="json"),
            "backup_used": draw.backup_used,
            "backups": [b.model_dump(mode="json") for b in draw.backups],
            "tickets": [t.model_dump(mode="json") for t in draw.tickets],
            "started": [],
            "duplicates": [],
            "missing": [],
            "created_at": datetime.now(UTC),
            "finished_at": None,
        },
        ["run_id"],
    )
    row = await get_run(session, req.run_id)
    assert row is not None
    return row


def draw_of(row: QaSampleRow) -> SampleDraw:
    return SampleDraw(
        seed=row.seed,
        per_agent=row.per_agent,
        tickets=[SampledTicket.model_validate(t) for t in row.tickets],
        sample=Composition.model_validate(row.sample_composition),
        population=Composition.model_validate(row.population_composition),
        eligible=row.eligible,
        skipped_assessed=row.skipped_assessed,
        unassigned=max(row.population_total - row.eligible - row.skipped_assessed, 0),
        backups=[Backup.model_validate(b) for b in row.backups],
    )


async def record_finished(session: AsyncSession, req: RecordSampleRequest) -> bool:
    """The workflows the run started (or found already started). False for an unknown run."""
    row = await get_run(session, req.run_id)
    if row is None:
        return False
    row.status = "started"
    row.started = sorted(req.started)
    row.duplicates = sorted(req.duplicates)
    row.missing = sorted(req.missing)
    row.finished_at = row.finished_at or req.finished_at
    return True


async def list_runs(
    session: AsyncSession, opportunity_id: str | None = None, limit: int = 10
) -> list[QaSampleRow]:
    query = select(QaSampleRow).order_by(QaSampleRow.window_end.desc(), QaSampleRow.id.desc())
    if opportunity_id:
        query = query.where(QaSampleRow.opportunity_id == opportunity_id)
    return list((await session.execute(query.limit(limit))).scalars().all())


def result_of(row: QaSampleRow) -> QASampleResult:
    draw = draw_of(row)
    return QASampleResult(
        run_id=row.run_id,
        opportunity_id=row.opportunity_id,
        window_start=row.window_start,
        window_end=row.window_end,
        per_agent=row.per_agent,
        sample=draw.sample,
        population=draw.population,
        eligible=row.eligible,
        skipped_assessed=row.skipped_assessed,
        backup_used=row.backup_used,
        backups=draw.backups,
        started=list(row.started),
        duplicates=list(row.duplicates),
        missing=list(row.missing),
    )
