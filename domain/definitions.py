"""File formats of opportunities (DESIGN §4), rubrics (DESIGN §5) and coaching surveys.

Structure only: CEL compilation and cross-file checks live in `opportunities/`, `rubrics/` and
`surveys/`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.durations import Duration

Cause = Literal["agent_behavior", "policy", "product", "documentation", "staffing", "process"]
CAUSE_LABELS: dict[str, str] = {
    "agent_behavior": "agent behaviour",
    "policy": "policy",
    "product": "product",
    "documentation": "documentation",
    "staffing": "staffing",
    "process": "process",
}
IDENT = r"^[a-z0-9][a-z0-9_-]*$"
RUBRIC_REF = r"^[a-z0-9][a-z0-9_-]*(@[0-9]+)?$"


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SampleSpec(Spec):
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    always_for_teams: list[str] = Field(default_factory=list)


class DedupeSpec(Spec):
    per: Literal["ticket", "ticket+occurrence"] = "ticket"
    within: Duration = timedelta(days=30)


class ReviewSpec(Spec):
    """The review SLA: a reminder at `due`, an escalation `escalate_after` later, and at
    `expires` (counted from the draft) the assessment closes as `closed_incomplete`."""

    by: str = "team-lead"
    due: Duration = timedelta(days=3)
    escalate_to: str | None = None
    escalate_after: Duration = timedelta(days=2)
    expires: Duration = timedelta(days=14)

    @model_validator(mode="after")
    def _expires_after_due(self) -> ReviewSpec:
        if self.expires <= self.due:
            raise ValueError("`expires` (when an undecided assessment lapses) must be after `due`")
        if self.due + self.escalate_after >= self.expires:
            raise ValueError("`due` + `escalate_after` must come before `expires`")
        return self


class LearningTaskSpec(Spec):
    id: str = Field(pattern=IDENT)
    title: str = Field(min_length=1)
    skill: str | None = None
    due: Duration = timedelta(days=14)
    closes_after: Duration = timedelta(days=7)
    if_failed: list[str] = Field(default_factory=list)


class SurveySpec(Spec):
    coach: str | None = None
    trainee: str | None = None


class Opportunity(Spec):
    id: str = Field(pattern=IDENT, max_length=100)
    name: str = Field(min_length=1)
    description: str | None = None
    version: int = Field(ge=1)
    enabled: bool = True
    on: list[str] = Field(min_length=1)
    when: str = "true"
    rubric: str = Field(pattern=RUBRIC_REF)
    sample: SampleSpec = Field(default_factory=SampleSpec)
    dedupe: DedupeSpec = Field(default_factory=DedupeSpec)
    review: ReviewSpec = Field(default_factory=ReviewSpec)
    learning_tasks: list[LearningTaskSpec] = Field(default_factory=list)
    surveys: SurveySpec = Field(default_factory=SurveySpec)
    virtual_coach: bool = False
    respond_within: Duration = timedelta(days=7)

    @property
    def rubric_id(self) -> str:
        return self.rubric.split("@", 1)[0]

    @property
    def rubric_version(self) -> int | None:
        _, _, version = self.rubric.partition("@")
        return int(version) if version else None


MessageSet = Literal[
    "agent_public",
    "agent_internal",
    "agent_all",
    "customer",
    "all_public",
    "any_agent_public",
    "any_agent_internal",
    "internal",
]


class MetricCheck(Spec):
    kind: Literal["metric"]
    metric: Literal["first_response_minutes", "resolution_minutes", "reassignment_count", "reopens"]
    max: float | dict[str, float] | None = None
    min: float | dict[str, float] | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> MetricCheck:
        if self.max is None and self.min is None:
            raise ValueError("a metric check needs `max` or `min`")
        return self


class PhrasesCheck(Spec):
    kind: Literal["phrases"]
    in_: MessageSet = Field(default="agent_public", alias="in")
    any: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _some_phrases(self) -> PhrasesCheck:
        if not self.any and not self.none:
            raise ValueError("a phrases check needs `any` (expected) or `none` (forbidden) phrases")
        if any(not p.strip() for p in [*self.any, *self.none]):
            raise ValueError("a phrase cannot be empty")
        return self


class InternalNoteCheck(Spec):
    """A handoff note: an internal agent note of enough words near the reassignment."""

    kind: Literal["internal_note"]
    min_words: int = Field(default=15, ge=1, le=1000)


class KbReferenceCheck(Spec):
    """The agent pointed the customer to a help-centre article, and it is current."""

    kind: Literal["kb_reference"]
    max_age_days: int = Field(default=180, ge=1)


class PolicyExceptionCheck(Spec):
    """The agent promised a refund, credit or exception without a recorded approval."""

    kind: Literal["policy_exception"]
    promises: list[str] = Field(default_factory=list)
    approvals: list[str] = Field(default_factory=list)


class ReplyCountCheck(Spec):
    kind: Literal["reply_count"]
    max: int | None = Field(default=None, ge=0)
    min: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> ReplyCountCheck:
        if self.max is None and self.min is None:
            raise ValueError("a reply_count check needs `max` or `min`")
        return self


class ResolutionConfirmedCheck(Spec):
    """The customer confirmed the fix, or the ticket stayed solved."""

    kind: Literal["resolution_confirmed"]
    confirmations: list[str] = Field(default_factory=list)


class ToneCheck(Spec):
    """No hostile or blaming wording in the agent's public replies."""

    kind: Literal["tone"]
    extra: list[str] = Field(default_factory=list)


class ReplyGapCheck(Spec):
    """The customer never waited longer than this for the agent's next public reply."""

    kind: Literal["reply_gap"]
    max_minutes: float | dict[str, float]


class MeaningCheck(Spec):
    """What the replies do, sentence by sentence; examples extend (`passing`) or veto
    (`failing`) the built-in reading."""

    kind: Literal["meaning"]
    judge: Literal["acknowledgement", "next_step", "greeting_closing"]
    in_: MessageSet = Field(default="agent_public", alias="in")
    passing: list[str] = Field(default_factory=list, max_length=200)
    failing: list[str] = Field(default_factory=list, max_length=200)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _sentences(self) -> MeaningCheck:
        if any(not e.strip() or len(e) > 500 for e in [*self.passing, *self.failing]):
            raise ValueError("an example sentence must hold text, at most 500 characters")
        return self


class LlmCheck(Spec):
    """Judged by a language model over the redacted thread; not scored without an endpoint."""

    kind: Literal["llm"]
    question: str = Field(min_length=10, max_length=4000)


CHECK_TYPES = (
    MetricCheck
    | PhrasesCheck
    | InternalNoteCheck
    | KbReferenceCheck
    | PolicyExceptionCheck
    | ReplyCountCheck
    | ResolutionConfirmedCheck
    | ToneCheck
    | ReplyGapCheck
    | MeaningCheck
    | LlmCheck
)
CheckSpec = Annotated[CHECK_TYPES, Field(discriminator="kind")]


class Reattribution(Spec):
    when: str = Field(min_length=1)
    cause: Cause


class Criterion(Spec):
    id: str = Field(pattern=IDENT, max_length=100)
    name: str = Field(min_length=1)
    description: str | None = None
    weight: float = Field(default=1.0, gt=0)
    critical: bool = False
    applies_when: str | None = None
    check: CheckSpec
    cause: Cause = "agent_behavior"
    reattribute: list[Reattribution] = Field(default_factory=list)
    coaching: str | None = None


class RubricScope(Spec):
    """What the rubric was approved for; anything else is stopped as out of scope."""

    channels: list[str] = Field(default_factory=list)
    event_types: list[str] = Field(default_factory=list)


class RubricTemplates(Spec):
    """Jinja2 files beside the rubric that replace the default coaching note and QA summary."""

    coaching_note: str | None = None
    qa_summary: str | None = None


class RubricExamples(Spec):
    """A labelled set beside the rubric (`starter.py eval`'s format), drafted when the catalog
    loads: each criterion must agree with its labels on at least its share of the cases."""

    file: str = Field(min_length=1, max_length=300)
    min_agreement: float = Field(default=1.0, ge=0, le=1)
    criteria: dict[
        Annotated[str, Field(pattern=IDENT, max_length=100)], Annotated[float, Field(ge=0, le=1)]
    ] = Field(default_factory=dict)


class Rubric(Spec):
    id: str = Field(pattern=IDENT, max_length=100)
    name: str | None = None
    version: int = Field(ge=1)
    status: Literal["draft", "approved", "retired"]
    approved_by: str | None = None
    pass_score: float = Field(default=0.8, ge=0, le=1)
    scope: RubricScope = Field(default_factory=RubricScope)
    staffing_backlog_per_agent: float = Field(default=25, ge=0)
    stale_evidence_days: int = Field(default=90, ge=1)
    templates: RubricTemplates = Field(default_factory=RubricTemplates)
    examples: RubricExamples | None = None
    criteria: list[Criterion] = Field(min_length=1)
    template_sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        seen: set[str] = set()
        for criterion in self.criteria:
            if criterion.id in seen:
                raise ValueError(f"criterion id {criterion.id!r} appears twice")
            seen.add(criterion.id)
        if self.status == "approved" and not self.approved_by:
            raise ValueError("an approved rubric names who approved it in `approved_by`")
        return self

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)


SurveyAudience = Literal["coach", "trainee"]


class ScaleLabels(Spec):
    low: str | None = Field(default=None, min_length=1)
    high: str | None = Field(default=None, min_length=1)


class _Question(Spec):
    id: str = Field(pattern=IDENT, max_length=100)
    text: str = Field(min_length=1, max_length=1000)
    required: bool = True


class ScaleQuestion(_Question):
    """A whole number from `min` to `max`, e.g. 1-5."""

    kind: Literal["scale"]
    min: int = 1
    max: int = 5
    labels: ScaleLabels | None = None

    @model_validator(mode="after")
    def _range(self) -> ScaleQuestion:
        if self.min >= self.max:
            raise ValueError("a scale needs `min` smaller than `max`")
        return self

    def answer_problem(self, value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number from {self.min} to {self.max}"
        if not self.min <= value <= self.max:
            return f"must be from {self.min} to {self.max}"
        return None


class TextQuestion(_Question):
    """Free text of at most `max_length` characters."""

    kind: Literal["text"]
    max_length: int = Field(default=2000, ge=1, le=10000)

    def answer_problem(self, value: object) -> str | None:
        if not isinstance(value, str):
            return "must be text"
        if len(value) > self.max_length:
            return f"is longer than {self.max_length} characters"
        return None


class ChoiceQuestion(_Question):
    """One of a fixed list of `options`."""

    kind: Literal["choice"]
    options: list[str] = Field(min_length=1)

    @field_validator("options")
    @classmethod
    def _distinct_options(cls, options: list[str]) -> list[str]:
        if any(not option.strip() for option in options):
            raise ValueError("an option cannot be empty")
        if len(set(options)) != len(options):
            raise ValueError("an option appears twice")
        return options

    def answer_problem(self, value: object) -> str | None:
        if not isinstance(value, str) or value not in self.options:
            return f"must be one of: {', '.join(self.options)}"
        return None


QuestionSpec = Annotated[ScaleQuestion | TextQuestion | ChoiceQuestion, Field(discriminator="kind")]
_ANSWER_KEY = re.compile(IDENT)


class SurveyTemplate(Spec):
    """A coaching survey: the coach rates the trainee, or the trainee rates the coaching."""

    id: str = Field(pattern=IDENT, max_length=100)
    name: str = Field(min_length=1)
    description: str | None = None
    version: int = Field(ge=1)
    audience: SurveyAudience
    expires: Duration = timedelta(days=7)
    questions: list[QuestionSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_questions(self) -> SurveyTemplate:
        seen: set[str] = set()
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"question id {question.id!r} appears twice")
            seen.add(question.id)
        return self

    def question(self, question_id: str) -> ScaleQuestion | TextQuestion | ChoiceQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def answer_problems(self, answers: dict[str, object]) -> list[str]:
        """`answers.<question_id>: message` for each problem; never repeats an answer's value."""
        if not isinstance(answers, dict):
            return ["answers: must map question ids to answers"]
        problems = []
        for question in self.questions:
            value = answers.get(question.id)
            if value is None or (isinstance(value, str) and not value.strip()):
                if question.required:
                    problems.append(f"answers.{question.id}: an answer is required")
                continue
            problem = question.answer_problem(value)
            if problem:
                problems.append(f"answers.{question.id}: {problem}")
        for key in answers:
            if isinstance(key, str) and self.question(key) is not None:
                continue
            if isinstance(key, str) and len(key) <= 100 and _ANSWER_KEY.match(key):
                problems.append(f"answers.{key}: unknown question")
            else:
                problems.append("answers: an answer names something that is not a question id")
        return problems
