"""What drafting produces and the lead reviews."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.definitions import Cause

CriterionStatus = Literal["passed", "failed", "not_applicable", "not_scored"]
AssessmentStatus = Literal[
    "drafting",
    "awaiting_review",
    "stopped",
    "virtual_coach",
    "coaching",
    "closed_complete",
    "closed_incomplete",
    "dismissed",
]
OPEN_STATUSES: tuple[AssessmentStatus, ...] = ("awaiting_review", "stopped")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageSource(Model):
    """Where a redacted quote sits in the original message; for leads, never for notes."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)


class MessageEvidence(Model):
    kind: Literal["message"] = "message"
    message_id: str
    quote: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    source: MessageSource | None = None


class MetricEvidence(Model):
    kind: Literal["metric"] = "metric"
    metric: str
    value: float | None
    threshold: float | None = None
    bound: Literal["max", "min"] | None = None
    channel: str | None = None
    ref: str | None = None


Evidence = Annotated[MessageEvidence | MetricEvidence, Field(discriminator="kind")]


class CriterionResult(Model):
    criterion_id: str
    name: str
    status: CriterionStatus
    score: float = 0.0
    max_score: float = 0.0
    weight: float = 1.0
    critical: bool = False
    cause: Cause | None = None
    confidence: float = Field(default=1.0, ge=0, le=1)
    explanation: str = ""
    evidence: list[Evidence] = Field(default_factory=list)


EvidenceStatus = Literal["present", "missing", "stale"]


class EvidenceItem(Model):
    """One input the brief requires, and whether the draft could use it."""

    name: str
    status: EvidenceStatus
    detail: str = ""


class ProcessIssue(Model):
    """Something that went wrong that was not the agent's doing: for the lead, never coached."""

    cause: Cause
    summary: str
    criterion_id: str | None = None
    ref: str | None = None


class Trainee(Model):
    id: str
    name: str | None = None
    team: str | None = None


class Draft(Model):
    status: Literal["awaiting_review", "stopped"]
    stop_reason: str | None = None
    trainee: Trainee | None = None
    results: list[CriterionResult] = Field(default_factory=list)
    score: float | None = None
    max_score: float | None = None
    passed: bool | None = None
    confidence: float = Field(default=0.0, ge=0, le=1)
    flags: list[str] = Field(default_factory=list)
    priority: int = 0
    auto_eligible: bool = False
    summary: str = ""
    evidence: list[EvidenceItem] = Field(default_factory=list)
    process_issues: list[ProcessIssue] = Field(default_factory=list)
    repeat_themes: list[str] = Field(default_factory=list)
    coaching_note: str = ""
    qa_summary: str = ""
