"""The trainee's page: released coaching notes, learning tasks, surveys, skills, and the
acknowledge and dispute forms. Completing a task, answering a survey and responding post here."""

from __future__ import annotations

import re
from collections.abc import Awaitable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError

from store.lifecycle import lifecycle_of, skills_of, surveys_for, tasks_for
from web.actions import answer_survey, complete_task, list_visible, owned_survey, respond
from web.api.lifecycle import pinned_templates
from web.api.schemas import AssessmentId, SurveyId, TaskId
from web.auth import User
from web.context import Context, WebContext
from web.errors import problem
from web.pages.assessment import assessment_response
from web.pages.common import (
    PageRoute,
    PageUser,
    back,
    checked_form,
    error_page,
    field,
    local_path,
    refusal_message,
    render,
    require_role,
)
from web.pages.surveys import answers_from, survey_forms

router = APIRouter(route_class=PageRoute)

ASSESSMENT_PATH = re.compile(r"^/assessments/(\d+)$")
DISPUTE_MAX = 5000


async def me_response(
    request: Request,
    context: WebContext,
    user: User,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    async with context.sessions() as session:
        released = await list_visible(session, user, context.catalog, limit=100)
        released.sort(key=lambda r: r.decided_at or r.created_at, reverse=True)
        notes = []
        for row in released:
            life = await lifecycle_of(session, row.id)
            notes.append({"row": row, "response": life.response})
        tasks = await tasks_for(session, user.name)
        surveys = await surveys_for(session, user.name)
        skills = await skills_of(session, user.name)
    return render(
        request,
        "me.html.j2",
        user,
        status_code=status_code,
        error=error,
        notes=notes,
        tasks=tasks,
        open_surveys=await survey_forms(context, [s for s in surveys if s.status == "open"]),
        done_surveys=[s for s in surveys if s.status != "open"],
        skills=skills,
        opportunities=context.catalog.opportunities,
    )


@router.get("/me")
async def me_page(request: Request, context: Context, user: PageUser) -> Response:
    require_role(user, "trainee")
    return await me_response(request, context, user)


async def _attempt(
    request: Request, context: WebContext, user: User, action: Awaitable, notice: str
) -> Response:
    """Run a trainee's (or a coach's) action; back to the page it came from, or that page
    again with the refusal."""
    form = await request.form()
    target = local_path(field(form, "next"), "/me")
    try:
        await action
    except (HTTPException, ValidationError) as exc:
        if isinstance(exc, HTTPException):
            message, status = refusal_message(exc), exc.status_code
        else:
            message, status = "; ".join(e["msg"] for e in exc.errors()[:5]), 422
        match = ASSESSMENT_PATH.match(target)
        if match:
            try:
                return await assessment_response(
                    request, context, user, int(match.group(1)), message, status
                )
            except HTTPException:
                pass
        if user.role == "trainee":
            return await me_response(request, context, user, message, status)
        return error_page(request, status, message)
    return back(target, notice)


@router.post("/tasks/{task_id}/complete")
async def complete_form(request: Request, context: Context, user: PageUser, task_id: TaskId):
    await checked_form(request, context, user)
    return await _attempt(request, context, user, complete_task(context, user, task_id), "task")


async def _answer(context: WebContext, user: User, survey_id: int, form) -> None:
    async with context.sessions() as session:
        survey = await owned_survey(session, user, context.catalog, survey_id)
    template = (await pinned_templates(context, [survey]))[survey.id]
    if template is None:
        raise problem(409, "WrongState", f"survey {survey_id}: its template cannot be found")
    await answer_survey(context, user, survey_id, answers_from(form, template))


@router.post("/surveys/{survey_id}/answer")
async def answer_form(request: Request, context: Context, user: PageUser, survey_id: SurveyId):
    form = await checked_form(request, context, user)
    return await _attempt(request, context, user, _answer(context, user, survey_id, form), "survey")


@router.post("/assessments/{assessment_id}/respond")
async def respond_form(
    request: Request, context: Context, user: PageUser, assessment_id: AssessmentId
):
    form = await checked_form(request, context, user)
    require_role(user, "trainee")
    response = field(form, "response")
    if response not in ("acknowledge", "dispute"):
        return await _attempt(
            request,
            context,
            user,
            _refused(422, "response: must be acknowledge or dispute"),
            "acknowledge",
        )
    if response == "dispute":
        reason = field(form, "reason").replace("\r\n", "\n")
        if not reason:
            action = _refused(422, "reason: a dispute needs a reason")
        elif len(reason) > DISPUTE_MAX:
            action = _refused(422, f"reason: at most {DISPUTE_MAX} characters")
        else:
            action = respond(context, user, assessment_id, reason)
        return await _attempt(request, context, user, action, "dispute")
    return await _attempt(
        request, context, user, respond(context, user, assessment_id), "acknowledge"
    )


async def _refused(status: int, message: str) -> None:
    raise problem(status, "InvalidRequest", message)
