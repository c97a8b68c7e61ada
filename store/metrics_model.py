"""What compute_metrics returns, and the slice it can be narrowed to."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCORECARD_THRESHOLD = 0.85


class MetricsSlice(BaseModel):
    """Narrow every metric to the events and assessments that match all the fields given.

    An assessment's `kb_article` and `policy` are those its documentation or policy process
    issue names, else the first the ticket links; a process issue's are its own."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = None
    team: str | None = None
    queue: str | None = None
    product_area: str | None = None
    customer_segment: str | None = None
    opportunity: str | None = None
    rubric_id: str | None = None
    rubric_version: int | None = None
    kb_article: str | None = None
    policy: str | None = None


class Scope(BaseModel):
    """What the numbers cover: every assessment, or those one user may see, as their review
    queue shows them (the teams they lead, the opportunities their reviewer groups review or
    take on escalation, the assessments reassigned to them, and those whose team is unknown).
    A slice narrows the numbers within it."""

    everything: bool = True
    user: str | None = None
    teams: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    described: str = "every assessment"


class Rate(BaseModel):
    """`part` of `of`, and their ratio (None when `of` is 0)."""

    of: int
    part: int
    rate: float | None


class RepeatThemes(BaseModel):
    """Coached themes (a criterion failed through the agent's behaviour on an approved or
    overridden assessment) and how many failed again for that agent within 30 days."""

    coached: int
    repeated: int
    rate: float | None
    by_criterion: dict[str, Rate]


class Escalations(BaseModel):
    assessed: int
    unclear_policy: int
    share: float | None


class CsatRecovery(BaseModel):
    """CSAT on a five-point scale around each approved or overridden coaching (decided at t):
    the agent's responses in (t-30d, t] and in (t, t+30d], pooled over the coachings; and the
    mean change over the coachings with responses on both sides."""

    coachings: int
    before_count: int
    before_mean: float | None
    after_count: int
    after_mean: float | None
    change: float | None
    paired_coachings: int
    paired_mean_change: float | None


class TaskCompletion(BaseModel):
    assigned: int
    completed: int
    on_time: int
    incomplete: int
    completion_rate: float | None
    on_time_rate: float | None


class QuestionScore(BaseModel):
    mean: float
    count: int


class Surveys(BaseModel):
    """Surveys sent, answered and expired in the window, and per audience (coach, trainee)
    the mean of each numeric answer given in it."""

    sent: int
    answered: int
    expired: int
    scores: dict[str, dict[str, QuestionScore]]


class Responses(BaseModel):
    acknowledged: int
    disputed: int
    upheld: int
    amended: int


class Scorecard(BaseModel):
    """The pilot metric: sampled conversations with an evidence-backed QA note or a
    non-agent root-cause exception."""

    sampled: int
    with_note: int
    with_exception: int
    completed: int
    rate: float | None
    threshold: float = SCORECARD_THRESHOLD
    met: bool


class Metrics(BaseModel):
    """`process_issues` counts the issues; `process_issues_by_cause` and the gaps count the
    assessments with an issue of that cause naming that ref (by cause, summed over refs)."""

    drafted: int
    stopped: int
    awaiting_review: int
    tickets_reviewed: int
    notes_approved: int
    overrides: int
    dismissed: int
    override_rate: float | None
    mean_review_hours: float | None
    process_issues: int
    process_issues_by_cause: dict[str, int]
    p50_review_hours: float | None
    override_rate_by_criterion: dict[str, Rate]
    override_rate_by_rubric_version: dict[str, Rate]
    repeat_themes: RepeatThemes
    documentation_gaps: dict[str, int]
    policy_gaps: dict[str, int]
    escalations: Escalations
    csat_recovery: CsatRecovery
    tasks: TaskCompletion
    skills_awarded: int
    surveys: Surveys
    responses: Responses
    scorecard: Scorecard


TrendBy = Literal[
    "agent",
    "team",
    "queue",
    "product_area",
    "customer_segment",
    "criterion",
    "policy",
    "kb_article",
]


class TrendRow(BaseModel):
    week: date
    key: str | None
    count: int


def ratio(part: int | float, of: int | float, digits: int = 4) -> float | None:
    return round(part / of, digits) if of else None


def rate(part: int, of: int) -> Rate:
    return Rate(of=of, part=part, rate=ratio(part, of))
