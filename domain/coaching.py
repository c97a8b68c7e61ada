"""Inputs and outputs of the CoachingWorkflow, its updates, queries and activities."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.assessment import AssessmentStatus, Draft
from domain.definitions import Cause, Opportunity, Rubric, SurveyTemplate
from domain.events import Change, TicketEvent
from domain.lifecycle import (
    CoachingStarted,
    ResponseView,
    StartCoachingRequest,
    SurveyView,
    TaskView,
)
from domain.people import Actor

DecisionAction = Literal["approve", "override", "dismiss", "reassign"]
MANUAL_EVENT = "coaching.manual"
DECISION_ACTIONS: tuple[str, ...] = get_args(DecisionAction)
CAUSES: tuple[str, ...] = get_args(Cause)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventRef(Model):
    source: str
    event_id: str
    type: str
    occurred_at: datetime
    ticket_id: str
    change: Change | None = None

    @classmethod
    def from_event(cls, event: TicketEvent) -> EventRef:
        return cls(
            source=event.source,
            event_id=event.event_id,
            type=event.type,
            occurred_at=event.occurred_at,
            ticket_id=event.ticket.id,
            change=event.change,
        )


class CoachingInput(Model):
    """Everything the workflow needs, resolved outside it: definitions are pinned here."""

    opportunity: Opportunity
    rubric: Rubric
    event: EventRef
    surveys: list[SurveyTemplate] = Field(default_factory=list)

    @property
    def manual(self) -> bool:
        return self.event.type == MANUAL_EVENT


class DraftRequest(Model):
    workflow_id: str
    opportunity: Opportunity
    rubric: Rubric
    event: EventRef


class SaveDraftRequest(Model):
    workflow_id: str
    opportunity: Opportunity
    rubric: Rubric
    event: EventRef
    draft: Draft
    drafted_at: datetime
    virtual_coach: str | None = None


class SavedAssessment(Model):
    assessment_id: int
    status: AssessmentStatus
    created: bool


ReviewStepKind = Literal["reminder", "escalation", "expiry"]


class ReviewStepRequest(Model):
    """One step of the review SLA, taken because no lead decided in time."""

    workflow_id: str
    assessment_id: int
    step: ReviewStepKind
    at: AwareDatetime
    reviewers: str
    escalate_to: str | None = None


class ReviewStepRecorded(Model):
    created: bool


class LeadDecision(Model):
    """What a lead sends. Shape only: the rules are in `problems()`, which the workflow's
    validator applies so that a rejection names the field instead of failing to decode.
    `by` (and `to`, for a reassignment) come from the user directory, never from the lead."""

    action: str = Field(max_length=50)
    by: Actor
    reason: str | None = Field(default=None, max_length=5000)
    scores: dict[str, float] = Field(default_factory=dict)
    causes: dict[str, str] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=20_000)
    to: Actor | None = None

    @property
    def lead(self) -> str:
        return self.by.id

    def problems(self) -> list[str]:
        out = []
        if self.action not in DECISION_ACTIONS:
            out.append(f"action: must be one of {', '.join(DECISION_ACTIONS)}")
        if self.action in ("override", "dismiss") and not (self.reason or "").strip():
            out.append(f"reason: a reason is required to {self.action}")
        if self.action != "override" and (self.scores or self.causes or self.note):
            out.append("scores, causes and note can only change with action 'override'")
        if self.action == "override" and not (self.scores or self.causes or self.note):
            out.append("scores: an override changes at least one score, cause or the note")
        if self.action == "reassign":
            if self.to is None:
                out.append("to: a reassignment names the lead who takes it over")
            elif self.to.role != "lead":
                out.append(f"to: {self.to.id} is not a lead")
            elif self.to.id == self.by.id:
                out.append("to: reassign to another lead, not to yourself")
        elif self.to is not None:
            out.append("to: only a reassignment names another lead")
        for criterion_id, cause in sorted(self.causes.items()):
            if cause not in CAUSES:
                out.append(f"causes.{criterion_id}: must be one of {', '.join(CAUSES)}")
        return out


class CriterionChange(Model):
    criterion_id: str
    field: Literal["score", "cause"]
    before: float | str | None
    after: float | str | None


class DecidedDraft(Model):
    """The draft as the lead's decision leaves it (`domain.overrides.overridden`), with what
    its notes are rendered from again: the definitions the workflow pinned, and its event."""

    draft: Draft
    rubric: Rubric
    opportunity: Opportunity
    event: EventRef


class RecordDecisionRequest(Model):
    workflow_id: str
    request_id: str
    assessment_id: int
    decision: LeadDecision
    changes: list[CriterionChange]
    decided_at: AwareDatetime
    new_status: AssessmentStatus
    # Set when the decision starts the coaching: its tasks and surveys are written in the
    # decision's transaction, so the lead's reply already finds them.
    coaching: StartCoachingRequest | None = None
    # Set when an override changes a score or a cause, or a stopped draft is released: the
    # assessment's totals, issues and notes are rewritten from it, the coaching note unless
    # the lead wrote one.
    decided: DecidedDraft | None = None


class RecordedDecision(Model):
    created: bool
    coaching: CoachingStarted | None = None


class DecisionResult(Model):
    assessment_id: int
    action: DecisionAction
    lead: str
    status: AssessmentStatus
    decided_at: AwareDatetime
    changes: list[CriterionChange] = Field(default_factory=list)
    to: str | None = None


class CoachingState(Model):
    status: AssessmentStatus
    assessment_id: int | None = None
    draft: Draft | None = None
    decision: DecisionResult | None = None
    assignee: str | None = None
    escalated: bool = False
    virtual_coach: str | None = None
    tasks: list[TaskView] = Field(default_factory=list)
    surveys: list[SurveyView] = Field(default_factory=list)
    response: ResponseView | None = None
    closed_reason: str | None = None
