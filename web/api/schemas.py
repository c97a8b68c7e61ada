"""Request and response models of the JSON API, so that the served OpenAPI schema says exactly
what goes in and what comes out.

Every string a client sends is checked for what the store cannot hold (NUL characters, lone
surrogates) and every number for what the workflow cannot carry (infinities), so that bad input
is a 422 naming the field, never a 500 from deep inside a write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import HTTPException, Path, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
)
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.assessment import AssessmentStatus, Evidence
from domain.coaching import CriterionChange, DecisionAction
from domain.definitions import Cause, QuestionSpec, SurveyAudience
from domain.events import Ticket
from domain.lifecycle import ResponseKind, SurveyStatus, TaskStatus
from store.metrics import Metrics, MetricsSlice, TrendBy, TrendRow

# Shared constraints.

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,199}$"  # user names, agent ids (store.users.NAME)
IDENT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"  # opportunity, rubric, criterion, question ids
RUBRIC_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}(@[0-9]{1,9})?$"
SOURCE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,49}$"
TICKET_PATTERN = r"^[^\x00-\x1f\x7f]{1,200}$"
IDEMPOTENCY_PATTERN = r"^[A-Za-z0-9._:-]{1,200}$"


AssessmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The assessment's id")]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The learning task's id")]
SurveyId = Annotated[int, Path(ge=1, le=MAX_ID, description="The survey's id")]


def storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _iso(value: object) -> object:
    """An instant is written as ISO 8601 (a bare number would pass as a Unix time)."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]", value):
        raise ValueError("must be an ISO 8601 date and time with its offset")
    return value


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


Text = Annotated[str, AfterValidator(storable)]
Key = Annotated[str, Field(pattern=IDENT_PATTERN)]
UserName = Annotated[str, Field(pattern=NAME_PATTERN)]
Score = Annotated[float, Field(allow_inf_nan=False)]
Instant = Annotated[AwareDatetime, BeforeValidator(_iso), AfterValidator(_utc)]

bearer = HTTPBearer(
    auto_error=False,
    description="A user's token from `starter.py users add NAME --role ...`.",
)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    pass


# Errors.


class FieldProblem(Out):
    field: str
    message: str


class Problem(Out):
    error: str = Field(description="The kind of refusal, e.g. Forbidden, WrongState")
    message: str = Field(description="What was wrong, naming the field")
    existing: dict[str, Any] | None = Field(
        default=None, description="With AlreadyDecided: the decision that was taken"
    )
    errors: list[FieldProblem] | None = Field(
        default=None, description="With request validation errors: one entry per field"
    )


class ProblemResponse(Out):
    detail: Problem


ERROR_DESCRIPTIONS = {
    401: "No valid bearer token",
    403: "The user's role or relation to the record does not allow this",
    404: "No such record, or not one this user may see",
    409: "The record is not in a state that allows this (or was already decided or done)",
    413: "The request body is too large",
    422: "Invalid input; the message names the field",
}


UNAVAILABLE = {
    "model": ProblemResponse,
    "description": "The database or Temporal cannot be reached; retry after the Retry-After "
    "header's seconds (a decision with the same Idempotency-Key is applied at most once)",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before retrying",
            "schema": {"type": "string"},
        }
    },
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {"model": ProblemResponse, "description": ERROR_DESCRIPTIONS[code]} for code in codes
    }


def _query_names(dependant: Any) -> set[str]:
    names: set[str] = set()
    for field in dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):  # a query model
            names |= {info.alias or name for name, info in model.model_fields.items()}
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


class ProblemRoute(APIRoute):
    """A route whose every refusal has the problem shape. An unknown query parameter (a typo
    such as `?stauts=`) is a 422 rather than silently ignored, and a body that is not UTF-8,
    which FastAPI answers with a 400 and a bare string, is a 422 naming the body. Every route
    declares the 503 it answers when the database or Temporal cannot be reached, unless it
    declares its own."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        responses = dict(kwargs.pop("responses", None) or {})
        responses.setdefault(503, UNAVAILABLE)
        super().__init__(path, endpoint, responses=responses, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = _query_names(self.dependant)

        async def route(request: Request) -> Response:
            unknown = sorted(k for k in request.query_params if k not in known)
            if unknown:
                raise HTTPException(
                    422,
                    detail={
                        "error": "Invalid",
                        "message": f"query: unknown parameter {unknown[0][:50]!r}"
                        + (f"; known: {', '.join(sorted(known))}" if known else ""),
                    },
                )
            try:
                return await handler(request)
            except StarletteHTTPException as exc:
                if exc.status_code == 400 and isinstance(exc.detail, str):
                    raise HTTPException(
                        422,
                        detail={"error": "Invalid", "message": "body: not valid UTF-8 JSON"},
                    ) from None
                raise

        return route


# Assessments.


class CriterionOut(Out):
    criterion_id: str
    name: str
    status: str
    score: float
    max_score: float
    weight: float
    critical: bool
    cause: str | None
    confidence: float
    explanation: str
    evidence: list[Evidence] = Field(
        description="Redacted excerpts and metrics; `source` offsets into the raw thread are "
        "given to leads and admins only"
    )


class EvidenceItemOut(Out):
    name: str
    status: str
    detail: str = ""


class ProcessIssueOut(Out):
    cause: str
    summary: str
    criterion_id: str | None = None
    ref: str | None = None


class DecisionOut(Out):
    id: int
    action: str
    lead: str
    reason: str | None = Field(description="Redacted for trainees")
    note: str | None
    changes: list[CriterionChange]
    decided_at: datetime


class TaskOut(Out):
    id: int
    assessment_id: int
    key: str
    title: str
    skill: str | None
    trainee_id: str
    status: TaskStatus
    assigned_at: datetime
    due_at: datetime
    closes_at: datetime
    reminded: bool
    completed_at: datetime | None


class SurveyOut(Out):
    id: int
    assessment_id: int
    audience: SurveyAudience
    template_id: str
    template_version: int
    name: str | None = Field(description="The pinned template's name; null when it is gone")
    respondent_id: str
    status: SurveyStatus
    sent_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    questions: list[QuestionSpec] = Field(
        description="The questions of the template version pinned in the workflow"
    )
    answers: dict[str, Any] | None = Field(
        default=None, description="Given to the respondent only, once answered"
    )


class ResponseOut(Out):
    kind: ResponseKind
    trainee_id: str
    reason: str | None
    at: datetime
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolution_note: str | None


class LifecycleOut(Out):
    tasks: list[TaskOut]
    surveys: list[SurveyOut] = Field(description="For a trainee, only the surveys sent to them")
    response: ResponseOut | None


class AssessmentSummary(Out):
    id: int
    workflow_id: str
    status: AssessmentStatus
    opportunity_id: str
    opportunity_version: int
    rubric_id: str
    rubric_version: int
    source: str
    ticket_id: str = Field(description="The help desk's ticket id")
    event_type: str
    agent_id: str | None
    agent_name: str | None
    team: str | None
    queue: str | None
    channel: str | None
    score: float | None
    max_score: float | None
    passed: bool | None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    assigned_lead: str | None
    review_due_at: datetime | None = Field(
        description="When the lead's review is due (open assessments only)"
    )
    confidence: float | None = Field(description="Leads and admins only")
    priority: int | None = Field(description="Leads and admins only")
    flags: list[str] | None = Field(description="Leads and admins only")
    stop_reason: str | None = Field(description="Leads and admins only")


class AssessmentList(Out):
    items: list[AssessmentSummary]
    total: int
    limit: int
    offset: int


class AssessmentDetail(AssessmentSummary):
    coaching_note: str = Field(description="Redacted; what the agent sees once released")
    results: list[CriterionOut]
    decisions: list[DecisionOut]
    lifecycle: LifecycleOut
    summary: str | None = Field(description="Leads and admins only")
    qa_summary: str | None = Field(description="Leads and admins only")
    process_issues: list[ProcessIssueOut] | None = Field(
        description="Not the agent's doing, never coached: leads and admins only"
    )
    evidence_report: list[EvidenceItemOut] | None = Field(description="Leads and admins only")
    repeat_themes: list[str] | None = Field(description="Leads and admins only")
    thread: Ticket | None = Field(
        description="The raw, unredacted ticket and thread: leads and admins only, never trainees"
    )


class DecisionBody(Body):
    action: DecisionAction
    reason: Annotated[Text, Field(max_length=5000)] | None = None
    scores: dict[Key, Score] = Field(default_factory=dict, max_length=200)
    causes: dict[Key, Cause] = Field(default_factory=dict, max_length=200)
    note: Annotated[Text, Field(max_length=20_000)] | None = Field(
        default=None,
        description="With override: the coaching note the agent gets; without it, the note is "
        "rendered again from the changed scores and causes",
    )
    to: UserName | None = Field(default=None, description="With reassign: the lead who takes over")


class ManualAssessmentBody(Body):
    source: Annotated[str, Field(pattern=SOURCE_PATTERN)]
    ticket_id: Annotated[Text, Field(pattern=TICKET_PATTERN)]
    rubric: Annotated[str, Field(pattern=RUBRIC_PATTERN)] = Field(
        description="An approved rubric: `id` (its newest approved version) or `id@version`"
    )
    opportunity: Annotated[str, Field(pattern=IDENT_PATTERN)] | None = Field(
        default=None, description="Borrow this opportunity's review SLA and learning tasks"
    )


class ManualAssessmentOut(Out):
    workflow_id: str
    assessment_id: int | None = Field(description="Null while the draft is still being written")
    status: AssessmentStatus


# The coaching lifecycle.


class DisputeBody(Body):
    reason: Annotated[Text, Field(min_length=1, max_length=5000)]


class ResolutionBody(Body):
    resolution: Literal["upheld", "amended"]
    note: Annotated[Text, Field(max_length=20_000)] | None = Field(
        default=None, description="The amended coaching note; required with `amended`"
    )


StrictWhole = Annotated[int, Field(strict=True)]
Answer = StrictWhole | Score | bool | Annotated[Text, Field(max_length=10_000)]


class SurveyAnswersBody(Body):
    answers: dict[Key, Answer | None] = Field(max_length=200)


class SkillOut(Out):
    skill: str
    awarded_at: datetime
    assessment_id: int
    task_id: int | None


# Metrics, health and administration.


MetricsOut = Metrics
SLICE_VALUE_PATTERN = r"^[^\x00-\x1f\x7f]{1,200}$"
MAX_TREND_WEEKS = 520


class MetricsWindow(BaseModel):
    """The query of the metrics: a window, and the slice fields `slice_fields` adds."""

    since: Instant | None = Field(
        default=None, description="From this instant (inclusive), ISO 8601 with an offset"
    )
    until: Instant | None = Field(default=None, description="Up to this instant (exclusive)")

    def metrics_slice(self) -> MetricsSlice:
        return MetricsSlice.model_validate(self.model_dump(include=set(MetricsSlice.model_fields)))


class TrendsWindow(MetricsWindow):
    by: TrendBy = Field(
        description="What to trend: coaching themes (failed criteria put down to the agent) "
        "by agent, team, queue, product_area, customer_segment or criterion; process issues "
        "by policy or kb_article"
    )
    weeks: int | None = Field(
        default=None,
        ge=1,
        le=MAX_TREND_WEEKS,
        description="The last N weeks (Monday to Sunday, UTC) up to `until` or now, instead "
        "of `since`",
    )


def slice_fields() -> dict[str, Any]:
    """Every MetricsSlice field as a query parameter: a whole number, or 1 to 200 characters
    without control characters."""
    fields: dict[str, Any] = {}
    for name, info in MetricsSlice.model_fields.items():
        described = {"default": None, "description": f"Only this {name.replace('_', ' ')}"}
        if int in get_args(info.annotation):
            fields[name] = (int | None, Field(ge=1, le=MAX_ID, **described))
        else:
            fields[name] = (str | None, Field(pattern=SLICE_VALUE_PATTERN, **described))
    return fields


MetricsQuery = create_model("MetricsQuery", __base__=MetricsWindow, **slice_fields())
TrendsQuery = create_model("TrendsQuery", __base__=TrendsWindow, **slice_fields())


class TrendsOut(Out):
    by: TrendBy
    since: datetime | None = Field(
        description="The window's start as applied: with `weeks`, the Monday it starts on"
    )
    until: datetime | None
    slice: MetricsSlice = Field(description="The slice applied; a null field is not filtered")
    weeks: list[date] = Field(
        description="Every week of the window by its Monday (UTC), with rows or not: from the "
        "window's start (else the first row) to its end (else now)"
    )
    rows: list[TrendRow] = Field(
        description="A count per week and key, weeks without one left out; a null key: the "
        "records name none"
    )


class Health(Out):
    database: Literal["ok", "unreachable"]
    temporal: Literal["ok", "unreachable"]


class OpportunityOut(Out):
    id: str
    name: str
    version: int
    enabled: bool
    on: list[str]
    rubric: str
    review_by: str
    escalate_to: str | None
    virtual_coach: bool
    file: str | None


class RubricOut(Out):
    ref: str
    id: str
    name: str | None
    version: int
    status: str
    approved_by: str | None
    criteria: list[str]
    file: str | None


class SurveyTemplateOut(Out):
    id: str
    name: str
    version: int
    audience: SurveyAudience
    questions: int
    file: str | None


class DefinitionProblem(Out):
    path: str
    line: int
    message: str


class Definitions(Out):
    valid: bool = Field(description="True when no definition file has a problem")
    opportunities: list[OpportunityOut]
    rubrics: list[RubricOut]
    surveys: list[SurveyTemplateOut]
    problems: list[DefinitionProblem]


class AuditEntry(Out):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


class AuditLog(Out):
    items: list[AuditEntry]
    limit: int
    offset: int
