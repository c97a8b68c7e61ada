"""One assessment: scores with their evidence (in the marked thread, for leads), causes, flags,
the coaching note, process issues, decisions and the lifecycle; the lead's decision forms and
the dispute resolution. Refusals come back on the page, with the refusal's status code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError

from domain.assessment import OPEN_STATUSES
from store.assessments import decisions_of, results_of
from store.lifecycle import lifecycle_of
from store.models import CriterionResultRow
from store.tickets import load_ticket
from store.users import list_users
from web.actions import decide, resolve_dispute, visible_assessment
from web.api.schemas import AssessmentId
from web.auth import User
from web.context import Context, WebContext
from web.errors import problem
from web.pages.common import (
    PageRoute,
    PageUser,
    back,
    checked_form,
    field,
    refusal_message,
    render,
    require_role,
)
from web.pages.surveys import survey_forms
from web.pages.thread import excerpts, metric_evidence, thread

router = APIRouter(route_class=PageRoute)

REASON_MAX = 5000
NOTE_MAX = 20_000


async def assessment_response(
    request: Request,
    context: WebContext,
    user: User,
    assessment_id: int,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
) -> Response:
    lead_view = user.role in ("lead", "admin")
    async with context.sessions() as session:
        row = await visible_assessment(session, user, context.catalog, assessment_id)
        results = await results_of(session, row.id)
        decisions = await decisions_of(session, row.id) if lead_view else []
        life = await lifecycle_of(session, row.id)
        ticket = (
            await load_ticket(session, row.source, row.ticket_external_id) if lead_view else None
        )
        leads = (
            [u.name for u in await list_users(session) if u.role == "lead" and u.name != user.name]
            if user.role == "lead"
            else []
        )
    mine = [s for s in life.surveys if s.respondent_id == user.name and s.status == "open"]
    return render(
        request,
        "assessment.html.j2",
        user,
        status_code=status_code,
        error=error,
        row=row,
        opportunity=context.catalog.opportunities.get(row.opportunity_id),
        results=results,
        excerpts=excerpts(results, with_anchors=lead_view),
        metrics=metric_evidence(results),
        thread=thread(ticket, results),
        lead_view=lead_view,
        decisions=decisions,
        life=life,
        can_decide=user.role == "lead" and row.status in OPEN_STATUSES,
        can_resolve=user.role == "lead"
        and life.response is not None
        and life.response.kind == "disputed"
        and life.response.resolution is None,
        can_respond=user.role == "trainee"
        and user.name == row.agent_id
        and life.response is None
        and row.status in ("coaching", "virtual_coach"),
        leads=leads,
        survey_forms=await survey_forms(context, mine),
        form=form or {},
    )


@router.get("/assessments/{assessment_id}")
async def assessment_page(
    request: Request, context: Context, user: PageUser, assessment_id: AssessmentId
) -> Response:
    require_role(user, "lead", "admin", "trainee")
    return await assessment_response(request, context, user, assessment_id)


def _text(form, name: str, limit: int) -> str | None:
    value = field(form, name).replace("\r\n", "\n")
    if len(value) > limit:
        raise problem(422, "InvalidDecision", f"{name}: at most {limit} characters")
    return value or None


def override_changes(form, results: list[CriterionResultRow], current_note: str) -> dict[str, Any]:
    """What the override form changes: scores and causes that differ from the draft, and the
    note when it was edited. Untouched fields are not sent."""
    scores: dict[str, float] = {}
    causes: dict[str, str] = {}
    for result in results:
        raw = field(form, f"score.{result.criterion_id}")
        if raw:
            try:
                value = float(raw)
            except ValueError:
                raise problem(
                    422, "InvalidDecision", f"scores.{result.criterion_id}: must be a number"
                ) from None
            if value != result.score or result.status not in ("passed", "failed"):
                scores[result.criterion_id] = value
        cause = field(form, f"cause.{result.criterion_id}")
        if cause and cause != (result.cause or ""):
            causes[result.criterion_id] = cause
    note = _text(form, "note", NOTE_MAX)
    changed_note = note if note and note.strip() != current_note.strip() else None
    return {"scores": scores, "causes": causes, "note": changed_note}


@router.post("/assessments/{assessment_id}/decide")
async def decide_form(
    request: Request, context: Context, user: PageUser, assessment_id: AssessmentId
) -> Response:
    form = await checked_form(request, context, user)
    require_role(user, "lead")
    action = field(form, "action")
    try:
        decision: dict[str, Any] = {"action": action, "reason": _text(form, "reason", REASON_MAX)}
        if action == "override":
            async with context.sessions() as session:
                row = await visible_assessment(session, user, context.catalog, assessment_id)
                results = await results_of(session, row.id)
            decision |= override_changes(form, results, row.coaching_note or "")
        elif action == "reassign":
            decision["to"] = field(form, "to") or None
        await decide(context, user, assessment_id, decision)
    except HTTPException as exc:
        if exc.status_code == 404:
            raise
        return await assessment_response(
            request,
            context,
            user,
            assessment_id,
            error=refusal_message(exc),
            status_code=exc.status_code,
            form={k: v for k, v in form.items() if k != "csrf"},
        )
    except ValidationError as exc:
        return await assessment_response(
            request, context, user, assessment_id, error=_invalid(exc), status_code=422
        )
    return back(f"/assessments/{assessment_id}", action)


@router.post("/assessments/{assessment_id}/resolve")
async def resolve_form(
    request: Request, context: Context, user: PageUser, assessment_id: AssessmentId
) -> Response:
    form = await checked_form(request, context, user)
    require_role(user, "lead")
    try:
        await resolve_dispute(
            context,
            user,
            assessment_id,
            field(form, "resolution"),
            _text(form, "note", NOTE_MAX),
        )
    except HTTPException as exc:
        if exc.status_code == 404:
            raise
        return await assessment_response(
            request,
            context,
            user,
            assessment_id,
            error=refusal_message(exc),
            status_code=exc.status_code,
        )
    except ValidationError as exc:
        return await assessment_response(
            request, context, user, assessment_id, error=_invalid(exc), status_code=422
        )
    return back(f"/assessments/{assessment_id}", "resolve")


def _invalid(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
