"""Write decisions; read the queue and single assessments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from domain.assessment import Draft
from domain.coaching import RecordDecisionRequest
from store.audit import audit
from store.measurements import SLICE_COLUMNS, measurement
from store.models import AssessmentRow, CriterionResultRow, DecisionRow
from store.process_issues import reconciled
from store.redacted_text import redacted_for_ticket
from store.upsert import insert_ignore

# What the decision's measurement and the coaching it starts read of the updated row; the
# summary, note and evidence report, most of its size, stay unread.
_DECIDED_COLUMNS = load_only(
    AssessmentRow.id, AssessmentRow.status, AssessmentRow.created_at, *SLICE_COLUMNS
)


@dataclass
class DecisionWritten:
    """What `record_decision` wrote: the assessment row as updated, and the decision's
    measurement events (the decision, and the process issues it withdraws or files), left for
    the caller to append with its own in one statement."""

    assessment: AssessmentRow
    events: list[dict[str, Any]]


async def record_decision(
    session: AsyncSession, req: RecordDecisionRequest, decided: Draft | None = None
) -> DecisionWritten | None:
    """Apply a lead's decision once. None when the request was already recorded. `decided` is
    the draft as the decision leaves it, its notes rendered again: the changed criteria, and
    the assessment's totals, flags, summary, process issues, QA summary and, unless the lead
    wrote one, its coaching note are written from it."""
    decision, request_id = req.decision, req.request_id
    if req.changes and decided is None:
        raise ValueError("an override that changes the draft needs the draft it leaves")
    note = await redacted_for_ticket(session, req.assessment_id, decision.note)
    inserted = await insert_ignore(
        session,
        DecisionRow,
        {
            "request_id": request_id,
            "assessment_id": req.assessment_id,
            "action": decision.action,
            "lead": decision.lead,
            "reason": decision.reason,
            "note": note,
            "changes": [c.model_dump(mode="json") for c in req.changes],
            "decided_at": req.decided_at,
        },
        ["request_id"],
    )
    if not inserted:
        return None
    changed = {c.criterion_id for c in req.changes}
    for result in decided.results if decided else []:
        if result.criterion_id in changed:
            await session.execute(
                update(CriterionResultRow)
                .where(
                    CriterionResultRow.assessment_id == req.assessment_id,
                    CriterionResultRow.criterion_id == result.criterion_id,
                )
                .values(
                    result.model_dump(
                        mode="json",
                        include={
                            "status",
                            "score",
                            "max_score",
                            "cause",
                            "explanation",
                            "evidence",
                        },
                    )
                )
            )
    values: dict = {"updated_at": req.decided_at}
    if decision.action == "reassign":
        assert decision.to is not None
        values["assigned_lead"] = decision.to.id
    else:
        values.update(status=req.new_status, decided_at=req.decided_at)
    if req.new_status == "coaching":
        values["released_at"] = req.decided_at
    if decided is not None:
        values.update(
            score=decided.score,
            max_score=decided.max_score,
            passed=decided.passed,
            flags=decided.flags,
            summary=decided.summary,
            process_issues=[i.model_dump(mode="json") for i in decided.process_issues],
            qa_summary=decided.qa_summary,
            coaching_note=decided.coaching_note,
        )
    if note is not None:
        values["coaching_note"] = note
    row = (
        await session.execute(
            update(AssessmentRow)
            .where(AssessmentRow.id == req.assessment_id)
            .values(**values)
            .returning(AssessmentRow)
            .options(_DECIDED_COLUMNS)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    await audit(
        session,
        decision.lead,
        f"decision.{decision.action}",
        f"assessment:{req.assessment_id}",
        {
            "workflow_id": req.workflow_id,
            "request_id": request_id,
            "changes": [c.model_dump(mode="json") for c in req.changes],
            "to": decision.to.id if decision.to else None,
        },
        at=req.decided_at,
    )
    event = measurement(
        kind=f"decision_{decision.action}",
        occurred_at=req.decided_at,
        key=request_id,
        assessment=row,
        data={
            "lead": decision.lead,
            "to": decision.to.id if decision.to else None,
            "reason": await redacted_for_ticket(session, req.assessment_id, decision.reason),
            "changes": [c.model_dump(mode="json") for c in req.changes],
            "review_seconds": (req.decided_at - row.created_at).total_seconds(),
        },
    )
    issues = []
    if decided is not None:
        issues = await reconciled(session, row, decided.process_issues, request_id, req.decided_at)
    return DecisionWritten(assessment=row, events=[event, *issues])


def queue_order():
    return (
        AssessmentRow.priority.desc(),
        case((AssessmentRow.status == "stopped", 0), else_=1),
        AssessmentRow.created_at,
        AssessmentRow.id,
    )


async def queue_page(
    session: AsyncSession, where: list[ColumnElement[bool]], limit: int, offset: int
) -> list[AssessmentRow]:
    """The rows matching `where`, in queue order. Only the ids are sorted and skipped, and
    only the page's rows are read in full, so a deep page costs about what the first does."""
    page = (
        select(AssessmentRow.id)
        .where(*where)
        .order_by(*queue_order())
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    query = select(AssessmentRow).join(page, AssessmentRow.id == page.c.id)
    return list((await session.execute(query.order_by(*queue_order()))).scalars().all())


def queue_filters(
    status: list[str] | None = None, opportunity: str | None = None, agent: str | None = None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if status:
        where.append(AssessmentRow.status.in_(status))
    if opportunity:
        where.append(AssessmentRow.opportunity_id == opportunity)
    if agent:
        where.append(AssessmentRow.agent_id == agent)
    return where


async def list_assessments(
    session: AsyncSession,
    status: list[str] | None = None,
    opportunity: str | None = None,
    agent: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[AssessmentRow]:
    return await queue_page(session, queue_filters(status, opportunity, agent), limit, offset)


async def queue_counts(session: AsyncSession) -> list[tuple[str, str, int]]:
    rows = await session.execute(
        select(AssessmentRow.opportunity_id, AssessmentRow.status, func.count())
        .group_by(AssessmentRow.opportunity_id, AssessmentRow.status)
        .order_by(AssessmentRow.opportunity_id, AssessmentRow.status)
    )
    return [(o, s, n) for o, s, n in rows.all()]


async def get_assessment(session: AsyncSession, key: str) -> AssessmentRow | None:
    """By numeric id or by workflow id."""
    where = AssessmentRow.id == int(key) if key.isdigit() else AssessmentRow.workflow_id == key
    return (await session.execute(select(AssessmentRow).where(where))).scalar_one_or_none()


async def results_of(session: AsyncSession, assessment_id: int) -> list[CriterionResultRow]:
    return list(
        (
            await session.execute(
                select(CriterionResultRow)
                .where(CriterionResultRow.assessment_id == assessment_id)
                .order_by(CriterionResultRow.position)
            )
        )
        .scalars()
        .all()
    )


async def decisions_of(session: AsyncSession, assessment_id: int) -> list[DecisionRow]:
    return list(
        (
            await session.execute(
                select(DecisionRow)
                .where(DecisionRow.assessment_id == assessment_id)
                .order_by(DecisionRow.decided_at)
            )
        )
        .scalars()
        .all()
    )
