"""Survey forms built from the template's questions, and the answers read back from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from domain.definitions import SurveyTemplate
from store.models import SurveyRow
from web.api.lifecycle import pinned_templates
from web.context import WebContext


@dataclass(frozen=True)
class SurveyForm:
    survey: SurveyRow
    template: SurveyTemplate | None


async def survey_forms(context: WebContext, surveys: list[SurveyRow]) -> list[SurveyForm]:
    """Each survey with its template at the version it was sent with, as the workflow checks
    the answers against that one."""
    templates = await pinned_templates(context, surveys)
    return [SurveyForm(s, templates.get(s.id)) for s in surveys]


def answers_from(form: FormData, template: SurveyTemplate) -> dict[str, Any]:
    """Each answered question by id: scales as whole numbers, text and choices as text. A
    blank answer is left out; the workflow's validator says which required ones are missing."""
    answers: dict[str, Any] = {}
    for question in template.questions:
        raw = form.get(f"q.{question.id}")
        if not isinstance(raw, str) or not raw.strip():
            continue
        if question.kind == "scale":
            try:
                answers[question.id] = int(raw)
            except ValueError:
                answers[question.id] = raw.strip()
        else:
            answers[question.id] = raw.replace("\r\n", "\n").strip()
    return answers
