"""Survey forms built from the template's questions, and the answers read back from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from domain.definitions import SurveyTemplate
from opportunities.catalog import Catalog
from store.models import SurveyRow


@dataclass(frozen=True)
class SurveyForm:
    survey: SurveyRow
    template: SurveyTemplate | None


def survey_forms(catalog: Catalog, surveys: list[SurveyRow]) -> list[SurveyForm]:
    return [SurveyForm(s, catalog.surveys.get(s.template_id)) for s in surveys]


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
