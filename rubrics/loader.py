"""Load and validate rubric files (`rubrics/*.yaml`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from domain.definitions import Rubric
from domain.errors import FieldError, field_errors
from domain.expressions import Expression, ExpressionError, compile_expression
from domain.yamlsource import Problem, YamlDocument, YamlError, load_yaml
from rubrics.case import SAMPLE_CASE
from rubrics.folder_files import TEMPLATE, FileRefused
from rubrics.notes import template_error

RUBRIC_VARIABLES = ("event", "ticket", "change", "evidence")


@lru_cache(maxsize=1024)
def rubric_expression(source: str) -> Expression:
    return compile_expression(source, RUBRIC_VARIABLES, SAMPLE_CASE.context())


def _expression_problems(doc: YamlDocument, rubric: Rubric) -> list[Problem]:
    problems = []
    for i, criterion in enumerate(rubric.criteria):
        sources = []
        if criterion.applies_when is not None:
            sources.append((("criteria", i, "applies_when"), criterion.applies_when))
        for j, rule in enumerate(criterion.reattribute):
            sources.append((("criteria", i, "reattribute", j, "when"), rule.when))
        for loc, source in sources:
            try:
                rubric_expression(source)
            except ExpressionError as exc:
                problems.append(doc.problem(loc, f"{FieldError(loc, '').path}: {exc}"))
    return problems


def _templates(doc: YamlDocument, rubric: Rubric) -> tuple[dict[str, str], list[Problem]]:
    """Read the rubric's own note templates, so they are pinned with the rubric. A template
    is a file inside the rubric's folder (after symlinks); a problem names the field and the
    path as written, never where the folder is."""
    sources, problems = {}, []
    shown_folder = Path(doc.path).parent
    root = shown_folder.resolve()
    for name in ("coaching_note", "qa_summary"):
        relative = getattr(rubric.templates, name)
        if relative is None:
            continue
        try:
            path, source = TEMPLATE.read(root, relative)
        except FileRefused as exc:
            message = str(exc).format(repr(relative[:100]))
            problems.append(doc.problem(("templates", name), f"templates.{name}: {message}"))
            continue
        error = template_error(source, rubric)
        if error:
            line, message = error
            shown = shown_folder / path.relative_to(root)
            problems.append(Problem(str(shown), line, f"template error: {message}"))
        sources[name] = source
    return sources, problems


def parse_rubric(doc: YamlDocument) -> tuple[Rubric | None, list[Problem]]:
    if not isinstance(doc.data, dict):
        return None, [doc.problem((), "a rubric file is a mapping of keys to values")]
    if "template_sources" in doc.data:
        return None, [doc.problem(("template_sources",), "template_sources: unknown key")]
    try:
        rubric = Rubric.model_validate(doc.data)
    except ValidationError as exc:
        return None, [
            doc.problem(e.loc, f"{e.path}: {e.message}") for e in field_errors(exc, ("check",))
        ]
    problems = _expression_problems(doc, rubric)
    sources, template_problems = _templates(doc, rubric)
    problems += template_problems
    if sources:
        rubric = rubric.model_copy(update={"template_sources": sources})
    stem = Path(doc.path).stem
    if stem not in (rubric.id, rubric.ref):
        problems.append(
            doc.problem(
                ("id",), f"file name {stem!r} must be the rubric id {rubric.id!r} or {rubric.ref!r}"
            )
        )
    return (None if problems else rubric), problems


def load_rubric(path: Path, display: str | None = None) -> tuple[Rubric | None, list[Problem]]:
    try:
        doc = load_yaml(path, display)
    except YamlError as exc:
        return None, exc.problems
    return parse_rubric(doc)
