"""Load and validate survey templates (`surveys/*.yaml`). Pure: files in, models out."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from domain.definitions import SurveyTemplate
from domain.errors import FieldError, field_errors
from domain.yamlsource import Problem, YamlDocument, YamlError, load_yaml

_KINDS = ("scale", "text", "choice")


def _without_kind_tag(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Pydantic puts the chosen question kind in the path (`questions.0.scale.min`); drop it."""
    if len(loc) > 2 and loc[0] == "questions" and isinstance(loc[1], int) and loc[2] in _KINDS:
        return (*loc[:2], *loc[3:])
    return loc


def _located(error: FieldError) -> FieldError:
    loc = _without_kind_tag(error.loc)
    if len(loc) == 2 and loc[0] == "questions" and "'kind'" in error.message:
        loc = (*loc, "kind")  # a missing or unknown kind: point at the question's `kind`
    return FieldError(loc, error.message)


def _duplicate_ids(doc: YamlDocument) -> list[Problem]:
    """Located at the repeated `id`, which the model's own check cannot do."""
    questions = doc.data.get("questions")
    if not isinstance(questions, list):
        return []
    problems, seen = [], set()
    for i, question in enumerate(questions):
        qid = question.get("id") if isinstance(question, dict) else None
        if not isinstance(qid, str):
            continue
        if qid in seen:
            loc = ("questions", i, "id")
            message = f"questions[{i}].id: question id {qid!r} appears twice"
            problems.append(doc.problem(loc, message))
        seen.add(qid)
    return problems


def parse_survey(doc: YamlDocument) -> tuple[SurveyTemplate | None, list[Problem]]:
    if not isinstance(doc.data, dict):
        return None, [doc.problem((), "a survey file is a mapping of keys to values")]
    duplicates = _duplicate_ids(doc)
    try:
        survey = SurveyTemplate.model_validate(doc.data)
    except ValidationError as exc:
        errors = [_located(e) for e in field_errors(exc)]
        if duplicates:  # the only check on the whole file is the one reported above
            errors = [e for e in errors if e.loc]
        return None, duplicates + [doc.problem(e.loc, f"{e.path}: {e.message}") for e in errors]
    if Path(doc.path).stem != survey.id:
        return None, [doc.problem(("id",), f"file name must be the survey id {survey.id!r}")]
    return survey, []


def load_survey(
    path: Path, display: str | None = None
) -> tuple[SurveyTemplate | None, list[Problem]]:
    try:
        doc = load_yaml(path, display)
    except YamlError as exc:
        return None, exc.problems
    return parse_survey(doc)


def load_surveys(
    files: Iterable[tuple[Path, str]],
) -> tuple[dict[str, SurveyTemplate], dict[str, str], list[Problem]]:
    """Every survey file, given as (path, shown path): templates by id, their files, problems."""
    surveys: dict[str, SurveyTemplate] = {}
    shown_files: dict[str, str] = {}
    problems: list[Problem] = []
    for path, shown in files:
        survey, found = load_survey(path, shown)
        problems.extend(found)
        if survey is None:
            continue
        if survey.id in surveys:
            problems.append(
                Problem(
                    shown,
                    1,
                    f"survey {survey.id!r} is defined twice (also in {shown_files[survey.id]})",
                )
            )
            continue
        surveys[survey.id] = survey
        shown_files[survey.id] = shown
    return surveys, shown_files, problems
