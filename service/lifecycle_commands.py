"""The coaching phase from the command line: the trainee's tasks, surveys and response, and a
second lead's resolution of a dispute. Reads come from the store; every change is a workflow
update sent as the user named with `--as`, which the workflow's validators accept or refuse."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.lifecycle import Acknowledge, AnswerSurvey, CompleteTask, Dispute, ResolveDispute
from service import render
from service.runtime import catalog_for, connect, open_store
from service.settings import Settings
from service.updates import (
    CommandError,
    acting_user,
    refuse_if_closed,
    send_update,
    state_after,
)
from store.assessments import get_assessment
from store.lifecycle import skills_of, surveys_for, tasks_for
from store.models import AssessmentRow, LearningTaskRow, SurveyRow
from workflows.coaching import CoachingWorkflow


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


async def _assessment(session: AsyncSession, key: str | int) -> AssessmentRow:
    row = await get_assessment(session, str(key))
    if row is None:
        raise CommandError(f"no assessment {key!r}")
    return row


async def _row(session: AsyncSession, model: Any, row_id: int, label: str) -> Any:
    row = (await session.execute(select(model).where(model.id == row_id))).scalar_one_or_none()
    if row is None:
        raise CommandError(f"no {label} {row_id}")
    return row


async def _send(
    settings: Settings, sessions, row: AssessmentRow, update: Any, request: BaseModel
) -> tuple[Any, str]:
    """Send the update; return its result and the assessment's status once the workflow has
    taken it in (the last step of the coaching closes the assessment)."""
    refuse_if_closed(row)
    async with connect(settings, sessions) as conn:
        result = await send_update(conn.client, row, update, request)
        state = await state_after(conn.client, row)
    return result, state.status if state else row.status


def _report(as_json: bool, view: BaseModel, row: AssessmentRow, status: str, line: str) -> int:
    if as_json:
        _print_json(
            {**view.model_dump(mode="json"), "assessment_id": row.id, "assessment_status": status}
        )
    else:
        print(line)
    return 0


async def tasks(settings: Settings, as_user: str, status: str | None, as_json: bool) -> int:
    async with open_store(settings) as sessions, sessions() as session:
        actor = await acting_user(session, as_user)
        rows = await tasks_for(session, actor.id, status)
    if as_json:
        _print_json([render.task_dict(r) for r in rows])
    else:
        print(
            render.tasks_table(rows)
            if rows
            else f"{actor.id} has no tasks" + (f" that are {status}" if status else "")
        )
    return 0


async def complete(settings: Settings, task_id: int, as_user: str, as_json: bool) -> int:
    async with open_store(settings) as sessions:
        async with sessions() as session:
            actor = await acting_user(session, as_user)
            task = await _row(session, LearningTaskRow, task_id, "task")
            row = await _assessment(session, task.assessment_id)
        request = CompleteTask(by=actor, task_id=task.id)
        view, status = await _send(settings, sessions, row, CoachingWorkflow.complete_task, request)
    skill = f"; skill {view.skill} awarded" if view.skill_awarded else ""
    line = (
        f"task {view.id} ({view.key}) {view.status} by {actor.id}{skill}; "
        f"assessment {row.id}: {status}"
    )
    return _report(as_json, view, row, status, line)


async def surveys(settings: Settings, as_user: str, status: str | None, as_json: bool) -> int:
    catalog = catalog_for(settings)
    async with open_store(settings) as sessions, sessions() as session:
        actor = await acting_user(session, as_user)
        rows = await surveys_for(session, actor.id, status)
    items = [render.survey_dict(r, catalog.surveys.get(r.template_id)) for r in rows]
    if as_json:
        _print_json(items)
    elif not items:
        print(f"{actor.id} has no surveys" + (f" that are {status}" if status else ""))
    else:
        print(render.surveys_text(items, actor.id))
    return 0


def parse_answers(items: list[str], template: Any) -> dict[str, Any]:
    """`QID=VALUE` pairs; scale questions take whole numbers. Unknown ids go through, so the
    workflow names them."""
    answers: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--answer takes QUESTION=VALUE, got {item!r}", code=2)
        question = template.question(key) if template else None
        if question is not None and question.kind == "scale":
            try:
                answers[key] = int(value)
            except ValueError:
                raise CommandError(f"--answer {key}: must be a whole number", code=2) from None
        else:
            answers[key] = value
    return answers


async def answer(
    settings: Settings, survey_id: int, as_user: str, items: list[str], as_json: bool
) -> int:
    catalog = catalog_for(settings)
    async with open_store(settings) as sessions:
        async with sessions() as session:
            actor = await acting_user(session, as_user)
            survey = await _row(session, SurveyRow, survey_id, "survey")
            row = await _assessment(session, survey.assessment_id)
        answers = parse_answers(items, catalog.surveys.get(survey.template_id))
        request = AnswerSurvey(by=actor, survey_id=survey.id, answers=answers)
        view, status = await _send(settings, sessions, row, CoachingWorkflow.answer_survey, request)
    line = (
        f"survey {view.id} ({view.template_id}) {view.status} by {actor.id}; "
        f"assessment {row.id}: {status}"
    )
    return _report(as_json, view, row, status, line)


async def respond(
    settings: Settings, key: str, as_user: str, reason: str | None, as_json: bool
) -> int:
    """Acknowledge the coaching (no reason), or dispute it (with a reason)."""
    async with open_store(settings) as sessions:
        async with sessions() as session:
            actor = await acting_user(session, as_user)
            row = await _assessment(session, key)
        if reason is None:
            update, request = CoachingWorkflow.acknowledge, Acknowledge(by=actor)
        else:
            update, request = CoachingWorkflow.dispute, Dispute(by=actor, reason=reason)
        view, status = await _send(settings, sessions, row, update, request)
    line = f"assessment {row.id}: {view.kind} by {actor.id} -> {status}"
    if view.kind == "disputed":
        line += f"; another lead resolves it with `resolve {row.id} upheld|amended --as LEAD`"
    return _report(as_json, view, row, status, line)


async def resolve(
    settings: Settings, key: str, resolution: str, as_user: str, note: str | None, as_json: bool
) -> int:
    async with open_store(settings) as sessions:
        async with sessions() as session:
            actor = await acting_user(session, as_user)
            row = await _assessment(session, key)
        request = ResolveDispute(by=actor, resolution=resolution, note=note)
        view, status = await _send(
            settings, sessions, row, CoachingWorkflow.resolve_dispute, request
        )
    line = f"assessment {row.id}: dispute {view.resolution} by {actor.id} -> {status}"
    return _report(as_json, view, row, status, line)


async def skills(settings: Settings, as_user: str, as_json: bool) -> int:
    async with open_store(settings) as sessions, sessions() as session:
        actor = await acting_user(session, as_user)
        rows = await skills_of(session, actor.id)
    if as_json:
        _print_json([render.skill_dict(r) for r in rows])
    elif rows:
        print(render.skills_table(rows))
    else:
        print(f"{actor.id} has no skills yet; completing a learning task awards its skill")
    return 0
