"""All definitions, loaded and cross-checked: what `starter.py check` reports on. A rubric
version with `examples` is drafted against them (rubrics/examples.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from domain.context import EVENT_VARIABLES, SAMPLE_CONTEXT
from domain.definitions import Opportunity, Rubric, SurveyTemplate
from domain.errors import field_errors
from domain.events import EVENT_TYPES
from domain.expressions import Expression, ExpressionError, compile_expression
from domain.yamlsource import Problem, YamlDocument, YamlError, load_yaml
from opportunities import BUNDLED_DIR as OPPORTUNITIES_DIR
from rubrics import BUNDLED_DIR as RUBRICS_DIR
from rubrics.examples import rubric_file_problems
from rubrics.loader import load_rubric
from surveys import BUNDLED_DIR as SURVEYS_DIR
from surveys.loader import load_surveys


@dataclass
class Catalog:
    opportunities: dict[str, Opportunity] = field(default_factory=dict)
    rubrics: dict[str, Rubric] = field(default_factory=dict)
    conditions: dict[str, Expression] = field(default_factory=dict)
    surveys: dict[str, SurveyTemplate] = field(default_factory=dict)
    survey_files: dict[str, str] = field(default_factory=dict)
    example_problems: list[Problem] = field(default_factory=list)
    """Of `problems`, a rubric's own examples disagreeing with its drafts."""
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def rubric_for(self, opportunity: Opportunity) -> Rubric:
        """The approved rubric an opportunity scores against (pinned version or newest)."""
        rubric, _ = _resolve(self.rubrics, opportunity.rubric)
        if rubric is None:
            raise LookupError(f"no approved rubric {opportunity.rubric!r}")
        return rubric

    def approved_rubric(self, ref: str) -> Rubric:
        """The approved rubric `id` (newest) or `id@version`; LookupError says why not."""
        rubric, error = _resolve(self.rubrics, ref)
        if rubric is None:
            raise LookupError(error)
        return rubric

    def surveys_for(self, opportunity: Opportunity) -> list[SurveyTemplate]:
        """The survey templates an opportunity sends, pinned into its workflows."""
        ids = [opportunity.surveys.coach, opportunity.surveys.trainee]
        return [self.surveys[i] for i in ids if i is not None and i in self.surveys]

    def for_event_type(self, event_type: str) -> list[Opportunity]:
        return [o for o in self.opportunities.values() if o.enabled and event_type in o.on]


def _resolve(rubrics: dict[str, Rubric], ref: str) -> tuple[Rubric | None, str | None]:
    rid, _, version = ref.partition("@")
    versions = sorted((r for r in rubrics.values() if r.id == rid), key=lambda r: r.version)
    if not versions:
        return None, f"unknown rubric {rid!r}"
    if version:
        pinned = next((r for r in versions if r.version == int(version)), None)
        if pinned is None:
            return None, f"rubric {rid!r} has no version {version}"
        if pinned.status != "approved":
            return (
                None,
                f"rubric {ref!r} is {pinned.status}, not approved; only approved rubrics score",
            )
        return pinned, None
    approved = [r for r in versions if r.status == "approved"]
    if not approved:
        return None, (
            f"rubric {rid!r} has no approved version (newest is {versions[-1].status}); "
            "only approved rubrics score"
        )
    return approved[-1], None


def _survey_problems(
    doc: YamlDocument, opportunity: Opportunity, surveys: dict[str, SurveyTemplate]
) -> list[Problem]:
    problems = []
    for audience in ("coach", "trainee"):
        survey_id = getattr(opportunity.surveys, audience)
        if survey_id is None:
            continue
        survey = surveys.get(survey_id)
        if survey is None:
            message = f"unknown survey {survey_id!r}"
        elif survey.audience != audience:
            message = f"survey {survey_id!r} is for the {survey.audience}, not the {audience}"
        else:
            continue
        problems.append(doc.problem(("surveys", audience), f"surveys.{audience}: {message}"))
    return problems


def _parse_opportunity(
    doc: YamlDocument, rubrics: dict[str, Rubric], surveys: dict[str, SurveyTemplate]
) -> tuple[Opportunity | None, Expression | None, list[Problem]]:
    if not isinstance(doc.data, dict):
        return None, None, [doc.problem((), "an opportunity file is a mapping of keys to values")]
    try:
        opportunity = Opportunity.model_validate(doc.data)
    except ValidationError as exc:
        return None, None, [doc.problem(e.loc, f"{e.path}: {e.message}") for e in field_errors(exc)]
    problems = []
    if Path(doc.path).stem != opportunity.id:
        problems.append(
            doc.problem(("id",), f"file name must be the opportunity id {opportunity.id!r}")
        )
    for i, event_type in enumerate(opportunity.on):
        if event_type not in EVENT_TYPES:
            problems.append(
                doc.problem(
                    ("on", i),
                    f"on: unknown event type {event_type!r}; "
                    f"known types are {', '.join(EVENT_TYPES)}",
                )
            )
    condition = None
    try:
        condition = compile_expression(opportunity.when, EVENT_VARIABLES, SAMPLE_CONTEXT)
    except ExpressionError as exc:
        problems.append(doc.problem(("when",), f"when: {exc}"))
    rubric, error = _resolve(rubrics, opportunity.rubric)
    if error:
        problems.append(doc.problem(("rubric",), f"rubric: {error}"))
    elif rubric is not None:
        for i, task in enumerate(opportunity.learning_tasks):
            for j, criterion_id in enumerate(task.if_failed):
                if rubric.criterion(criterion_id) is None:
                    problems.append(
                        doc.problem(
                            ("learning_tasks", i, "if_failed", j),
                            f"learning_tasks[{i}].if_failed: rubric {rubric.ref} has no criterion "
                            f"{criterion_id!r}",
                        )
                    )
    problems += _survey_problems(doc, opportunity, surveys)
    if problems:
        return None, None, problems
    return opportunity, condition, []


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_catalog(
    opportunities_dir: Path = OPPORTUNITIES_DIR,
    rubrics_dir: Path = RUBRICS_DIR,
    surveys_dir: Path = SURVEYS_DIR,
) -> Catalog:
    catalog = Catalog()
    folders = (
        (rubrics_dir, "rubrics"),
        (surveys_dir, "surveys"),
        (opportunities_dir, "opportunities"),
    )
    for directory, kind in folders:
        if not directory.is_dir():
            catalog.problems.append(Problem(str(directory), 1, f"the {kind} folder does not exist"))
    for path in _yaml_files(rubrics_dir) if rubrics_dir.is_dir() else []:
        shown = _display(path)
        rubric, problems = load_rubric(path, shown)
        catalog.problems.extend(problems)
        if rubric is None:
            continue
        if rubric.ref in catalog.rubrics:
            catalog.problems.append(
                Problem(
                    shown,
                    1,
                    f"rubric {rubric.ref} is defined twice (also in {catalog.files[rubric.ref]})",
                )
            )
            continue
        catalog.rubrics[rubric.ref] = rubric
        catalog.files[rubric.ref] = shown
        found = rubric_file_problems(path, shown, rubric)
        catalog.problems.extend(found)
        catalog.example_problems.extend(found)
    survey_paths = _yaml_files(surveys_dir) if surveys_dir.is_dir() else []
    catalog.surveys, catalog.survey_files, problems = load_surveys(
        (path, _display(path)) for path in survey_paths
    )
    catalog.problems.extend(problems)
    for path in _yaml_files(opportunities_dir) if opportunities_dir.is_dir() else []:
        shown = _display(path)
        try:
            doc = load_yaml(path, shown)
        except YamlError as exc:
            catalog.problems.extend(exc.problems)
            continue
        opportunity, condition, problems = _parse_opportunity(doc, catalog.rubrics, catalog.surveys)
        catalog.problems.extend(problems)
        if opportunity is None or condition is None:
            continue
        if opportunity.id in catalog.opportunities:
            catalog.problems.append(
                Problem(shown, 1, f"opportunity {opportunity.id!r} is defined twice")
            )
            continue
        catalog.opportunities[opportunity.id] = opportunity
        catalog.conditions[opportunity.id] = condition
        catalog.files[opportunity.id] = shown
    return catalog
