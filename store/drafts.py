"""Write a draft once, with its criterion results and measurement events; read an agent's
recent failures for drafting.

The draft is written with cached Core statements: the assessment row with
`INSERT … ON CONFLICT (workflow_id) DO NOTHING RETURNING id`, so a retry that finds its row
changes nothing, and the criterion results in one executemany."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assessment import Draft
from domain.coaching import SavedAssessment, SaveDraftRequest
from store.measurements import append_measurements, measurement
from store.models import AssessmentRow, CriterionResultRow, TicketRow
from store.slice_refs import issue_refs, slice_refs
from store.upsert import dialect_of, insert_in

RESULT_FIELDS = {
    "criterion_id",
    "name",
    "status",
    "score",
    "max_score",
    "weight",
    "critical",
    "cause",
    "confidence",
    "explanation",
    "evidence",
}
_TICKET = TicketRow.__table__.c
_TICKET_COLUMNS = (
    _TICKET.id,
    _TICKET.agent_id,
    _TICKET.agent_name,
    _TICKET.team,
    _TICKET.queue,
    _TICKET.product_area,
    _TICKET.customer_segment,
    _TICKET.channel,
    _TICKET.snapshot,
)


@cache
def _assessment_insert(dialect: str) -> Any:
    table = AssessmentRow.__table__
    return (
        insert_in(dialect, table)
        .on_conflict_do_nothing(index_elements=["workflow_id"])
        .returning(table.c.id)
    )


@cache
def _results_insert() -> Any:
    return insert(CriterionResultRow.__table__)


@cache
def _ticket_select() -> Any:
    return select(*_TICKET_COLUMNS).where(
        _TICKET.source == bindparam("source"), _TICKET.external_id == bindparam("external_id")
    )


def _assessment_values(req: SaveDraftRequest, ticket: Any) -> dict[str, Any]:
    draft = req.draft
    trainee = draft.trainee
    return {
        "workflow_id": req.workflow_id,
        "opportunity_id": req.opportunity.id,
        "opportunity_version": req.opportunity.version,
        "rubric_id": req.rubric.id,
        "rubric_version": req.rubric.version,
        "ticket_id": ticket.id,
        "source": req.event.source,
        "ticket_external_id": req.event.ticket_id,
        "event_id": req.event.event_id,
        "event_type": req.event.type,
        "agent_id": trainee.id if trainee else ticket.agent_id,
        "agent_name": trainee.name if trainee else ticket.agent_name,
        "team": trainee.team if trainee else ticket.team,
        "queue": ticket.queue,
        "product_area": ticket.product_area,
        "customer_segment": ticket.customer_segment,
        "channel": ticket.channel,
        **slice_refs(draft, ticket.snapshot),
        "status": draft.status,
        "stop_reason": draft.stop_reason,
        "score": draft.score,
        "max_score": draft.max_score,
        "passed": draft.passed,
        "confidence": draft.confidence,
        "priority": draft.priority,
        "flags": draft.flags,
        "summary": draft.summary,
        "coaching_note": draft.coaching_note,
        "qa_summary": draft.qa_summary,
        "evidence_report": [e.model_dump(mode="json") for e in draft.evidence],
        "process_issues": [i.model_dump(mode="json") for i in draft.process_issues],
        "repeat_themes": draft.repeat_themes,
        "auto_eligible": draft.auto_eligible,
        "occurred_at": req.event.occurred_at,
        "created_at": req.drafted_at,
        "updated_at": req.drafted_at,
        "decided_at": None,
        "assigned_lead": None,
    }


def _result_rows(assessment_id: int, draft: Draft) -> list[dict[str, Any]]:
    return [
        {
            "assessment_id": assessment_id,
            "position": position,
            **result.model_dump(mode="json", include=RESULT_FIELDS),
        }
        for position, result in enumerate(draft.results)
    ]


def _measurements(req: SaveDraftRequest, row: AssessmentRow) -> list[dict[str, Any]]:
    draft = req.draft
    drafted = measurement(
        kind="assessment_drafted" if draft.status == "awaiting_review" else "assessment_stopped",
        occurred_at=req.drafted_at,
        key=req.workflow_id,
        assessment=row,
        data={
            "score": draft.score,
            "max_score": draft.max_score,
            "passed": draft.passed,
            "confidence": draft.confidence,
            "flags": draft.flags,
            "stop_reason": draft.stop_reason,
            "event_type": req.event.type,
            "virtual_coach": req.virtual_coach,
        },
    )
    issues = [
        measurement(
            kind="process_issue",
            occurred_at=req.drafted_at,
            key=f"{req.workflow_id}:{i}",
            assessment=row,
            data=issue.model_dump(mode="json"),
            **issue_refs(issue),
        )
        for i, issue in enumerate(draft.process_issues)
    ]
    return [drafted, *issues]


async def save_draft(session: AsyncSession, req: SaveDraftRequest) -> SavedAssessment:
    """Persist a draft once. A retry finds the row it already wrote and changes nothing."""
    ticket = (
        await session.execute(
            _ticket_select(), {"source": req.event.source, "external_id": req.event.ticket_id}
        )
    ).one()
    values = _assessment_values(req, ticket)
    assessment_id = (
        await session.execute(_assessment_insert(dialect_of(session)), values)
    ).scalar()
    if assessment_id is None:
        existing = (
            await session.execute(
                select(AssessmentRow.id, AssessmentRow.status).where(
                    AssessmentRow.workflow_id == req.workflow_id
                )
            )
        ).one()
        return SavedAssessment(assessment_id=existing.id, status=existing.status, created=False)
    if req.draft.results:
        await session.execute(_results_insert(), _result_rows(assessment_id, req.draft))
    row = AssessmentRow(id=assessment_id, **values)
    await append_measurements(session, _measurements(req, row))
    return SavedAssessment(assessment_id=assessment_id, status=req.draft.status, created=True)


@cache
def _failures_select() -> Any:
    result, assessment = CriterionResultRow.__table__.c, AssessmentRow.__table__.c
    return (
        select(result.criterion_id)
        .distinct()
        .join_from(CriterionResultRow.__table__, AssessmentRow.__table__)
        .where(
            assessment.agent_id == bindparam("agent_id"),
            assessment.workflow_id != bindparam("exclude"),
            assessment.status != "dismissed",
            assessment.occurred_at >= bindparam("since"),
            assessment.occurred_at < bindparam("before"),
            result.status == "failed",
            result.cause == "agent_behavior",
        )
    )


async def recent_failures(
    session: AsyncSession, agent_id: str, before: datetime, days: int = 30, exclude: str = ""
) -> list[str]:
    """Criteria this agent failed on their own account in the `days` before `before`."""
    rows = await session.execute(
        _failures_select(),
        {
            "agent_id": agent_id,
            "exclude": exclude,
            "since": before - timedelta(days=days),
            "before": before,
        },
    )
    return sorted(rows.scalars())
