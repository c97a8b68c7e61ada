"""Assessments: the queue, one assessment in full, the lead's decision, and manual assessments.

Reads are scoped by `web.actions.visible`; the decision goes to the workflow as an update through
`web.actions.decide`, whose validator has the last word and whose refusals become 403/404/409/422.
Trainees see their released assessments only, with redacted excerpts and the coaching note, and
never the raw thread, the lead's flags or the process issues.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Security

from domain.assessment import OPEN_STATUSES, AssessmentStatus
from domain.coaching import DecisionResult
from domain.definitions import ReviewSpec
from service.manual import ManualAssessmentError, TicketNotFound, start_manual_assessment
from store.assessments import decisions_of, get_assessment, results_of
from store.audit import audit
from store.lifecycle import lifecycle_of
from store.models import AssessmentRow
from store.redacted_text import redacted_for_ticket
from store.tickets import load_ticket
from web import actions
from web.api.lifecycle import response_out, survey_outs, task_out
from web.api.schemas import (
    IDEMPOTENCY_PATTERN,
    IDENT_PATTERN,
    NAME_PATTERN,
    AssessmentDetail,
    AssessmentId,
    AssessmentList,
    AssessmentSummary,
    CriterionOut,
    DecisionBody,
    DecisionOut,
    EvidenceItemOut,
    LifecycleOut,
    ManualAssessmentBody,
    ManualAssessmentOut,
    ProblemRoute,
    ProcessIssueOut,
    bearer,
    errors,
)
from web.auth import CurrentUser, Lead, User
from web.context import Context, WebContext
from web.errors import problem

router = APIRouter(tags=["assessments"], dependencies=[Security(bearer)], route_class=ProblemRoute)

DRAFT_WAIT_SECONDS = 10.0
# Alike for a ticket that is not stored and one of another team's agent, repeating nothing.
NO_TICKET = "ticket_id: no stored ticket with that source and id that you may assess"


def _lead_view(user: User) -> bool:
    return user.role in ("lead", "admin")


def _review_due(context: WebContext, row: AssessmentRow) -> datetime | None:
    if row.status not in OPEN_STATUSES:
        return None
    opportunity = context.catalog.opportunities.get(row.opportunity_id)
    review = opportunity.review if opportunity else ReviewSpec()
    return row.created_at + review.due


def _summary_fields(context: WebContext, user: User, row: AssessmentRow) -> dict[str, Any]:
    lead = _lead_view(user)
    return {
        "id": row.id,
        "workflow_id": row.workflow_id,
        "status": row.status,
        "opportunity_id": row.opportunity_id,
        "opportunity_version": row.opportunity_version,
        "rubric_id": row.rubric_id,
        "rubric_version": row.rubric_version,
        "source": row.source,
        "ticket_id": row.ticket_external_id,
        "event_type": row.event_type,
        "agent_id": row.agent_id,
        "agent_name": row.agent_name,
        "team": row.team,
        "queue": row.queue,
        "channel": row.channel,
        "score": row.score,
        "max_score": row.max_score,
        "passed": row.passed,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "decided_at": row.decided_at,
        "assigned_lead": row.assigned_lead,
        "review_due_at": _review_due(context, row),
        "confidence": row.confidence if lead else None,
        "priority": row.priority if lead else None,
        "flags": list(row.flags) if lead else None,
        "stop_reason": row.stop_reason if lead else None,
    }


def _evidence(items: list[dict], lead: bool) -> list[dict]:
    """A trainee gets the redacted excerpt, never where it sits in the raw message."""
    if lead:
        return items
    return [{k: v for k, v in item.items() if k != "source"} for item in items]


async def assessment_detail(
    context: WebContext, user: User, row: AssessmentRow
) -> AssessmentDetail:
    """The assessment as `user` may see it (the caller has checked that they may)."""
    lead = _lead_view(user)
    async with context.sessions() as session:
        results = await results_of(session, row.id)
        decisions = await decisions_of(session, row.id)
        lifecycle = await lifecycle_of(session, row.id)
        thread = await load_ticket(session, row.source, row.ticket_external_id) if lead else None
        reasons = {
            d.id: d.reason if lead else await redacted_for_ticket(session, row.id, d.reason)
            for d in decisions
        }
    surveys = [s for s in lifecycle.surveys if lead or s.respondent_id == user.name]
    return AssessmentDetail(
        **_summary_fields(context, user, row),
        coaching_note=row.coaching_note,
        results=[
            CriterionOut(
                criterion_id=r.criterion_id,
                name=r.name,
                status=r.status,
                score=r.score,
                max_score=r.max_score,
                weight=r.weight,
                critical=r.critical,
                cause=r.cause,
                confidence=r.confidence,
                explanation=r.explanation,
                evidence=_evidence(r.evidence, lead),
            )
            for r in results
        ],
        decisions=[
            DecisionOut(
                id=d.id,
                action=d.action,
                lead=d.lead,
                reason=reasons[d.id],
                note=d.note,
                changes=d.changes,
                decided_at=d.decided_at,
            )
            for d in decisions
        ],
        lifecycle=LifecycleOut(
            tasks=[task_out(t) for t in lifecycle.tasks],
            surveys=await survey_outs(context, user, surveys),
            response=response_out(lifecycle.response) if lifecycle.response else None,
        ),
        summary=row.summary if lead else None,
        qa_summary=row.qa_summary if lead else None,
        process_issues=[ProcessIssueOut(**i) for i in row.process_issues] if lead else None,
        evidence_report=[EvidenceItemOut(**e) for e in row.evidence_report] if lead else None,
        repeat_themes=list(row.repeat_themes) if lead else None,
        thread=thread,
    )


@router.get(
    "/api/assessments",
    response_model=AssessmentList,
    responses=errors(401, 422),
    summary="The assessments this user may see, in queue order",
)
async def list_assessments(
    context: Context,
    user: CurrentUser,
    status: Annotated[list[AssessmentStatus] | None, Query(description="Any of these")] = None,
    agent: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    opportunity: Annotated[str | None, Query(pattern=IDENT_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AssessmentList:
    """Highest priority first (customer risk, policy exceptions, low confidence), stopped
    before awaiting review, then oldest first. A trainee sees only their own assessments once
    released by a lead or the virtual coach."""
    async with context.sessions() as session:
        rows = await actions.list_visible(
            session, user, context.catalog, status, agent, opportunity, limit, offset
        )
        total = await actions.count_visible(
            session, user, context.catalog, status, agent, opportunity
        )
    return AssessmentList(
        items=[AssessmentSummary(**_summary_fields(context, user, r)) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/api/assessments/{assessment_id}",
    response_model=AssessmentDetail,
    responses=errors(401, 404, 422),
    summary="One assessment in full",
)
async def get_one(context: Context, user: CurrentUser, assessment_id: AssessmentId):
    """Scores per criterion with their evidence, causes, the coaching note, decisions and the
    coaching lifecycle. Leads and admins also get flags, process issues and the raw thread."""
    async with context.sessions() as session:
        row = await actions.visible_assessment(session, user, context.catalog, assessment_id)
    return await assessment_detail(context, user, row)


@router.post(
    "/api/assessments/{assessment_id}/decision",
    response_model=DecisionResult,
    responses=errors(401, 403, 404, 409, 413, 422),
    summary="The lead's decision: approve, override, dismiss or reassign",
)
async def decide(
    context: Context,
    user: Lead,
    assessment_id: AssessmentId,
    body: DecisionBody,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_PATTERN,
            description="The same key again returns the first result and applies nothing twice",
        ),
    ] = None,
) -> DecisionResult:
    """Override and dismiss need a reason; an override changes a score, a cause or the note;
    reassign names `to`. A second decision is refused with 409 and the `existing` one."""
    return await actions.decide(
        context, user, assessment_id, body.model_dump(exclude_none=True), idempotency_key
    )


async def _drafted(context: WebContext, workflow_id: str) -> AssessmentRow | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAFT_WAIT_SECONDS
    while True:
        async with context.sessions() as session:
            row = await get_assessment(session, workflow_id)
        if row is not None or loop.time() > deadline:
            return row
        await asyncio.sleep(0.05)


@router.post(
    "/api/assessments",
    status_code=201,
    response_model=ManualAssessmentOut,
    responses=errors(401, 403, 404, 413, 422),
    summary="A lead opens a manual assessment of a stored ticket",
)
async def create_manual(
    context: Context, user: Lead, body: ManualAssessmentBody
) -> ManualAssessmentOut:
    """Against any approved rubric, optionally borrowing an opportunity's review SLA and
    learning tasks. Waits briefly for the draft; `assessment_id` is null if it is not written
    yet. A ticket the lead could not see assessed (another team's agent) is a 404, exactly as
    a ticket that is not stored."""
    catalog = context.catalog
    try:
        catalog.approved_rubric(body.rubric)
    except LookupError as exc:
        raise problem(422, "InvalidRequest", f"rubric: {exc}") from None
    if body.opportunity is not None and body.opportunity not in catalog.opportunities:
        raise problem(422, "InvalidRequest", f"opportunity: no opportunity {body.opportunity!r}")
    try:
        workflow_id = await start_manual_assessment(
            context.client,
            context.sessions,
            catalog,
            context.task_queue,
            body.source,
            body.ticket_id,
            body.rubric,
            user.name,
            body.opportunity,
            by=user.actor,
        )
    except TicketNotFound:
        raise problem(404, "NotFound", NO_TICKET) from None
    except ManualAssessmentError as exc:
        raise problem(422, "InvalidRequest", str(exc)) from None
    async with context.sessions() as session, session.begin():
        await audit(
            session,
            user.name,
            "assessment.manual",
            f"workflow:{workflow_id}",
            {"rubric": body.rubric, "opportunity": body.opportunity},
        )
    row = await _drafted(context, workflow_id)
    return ManualAssessmentOut(
        workflow_id=workflow_id,
        assessment_id=row.id if row else None,
        status=row.status if row else "drafting",
    )
