"""The coaching lifecycle's messages: what the trainee and lead send after the decision, what
the workflow asks its activities to do, and what the `state` query shows of it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.assessment import AssessmentStatus
from domain.definitions import SurveyAudience
from domain.people import Actor

TaskStatus = Literal["open", "completed", "incomplete"]
SurveyStatus = Literal["open", "answered", "expired"]
ResponseKind = Literal["acknowledged", "disputed"]
Resolution = Literal["upheld", "amended"]
RESOLUTIONS: tuple[str, ...] = ("upheld", "amended")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskPlan(BaseModel):
    """One learning task from the opportunity definition, with its dates fixed."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1)
    skill: str | None = Field(default=None, min_length=1, max_length=200)
    due_at: AwareDatetime
    closes_at: AwareDatetime | None = None


class SurveyPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    template_id: str = Field(min_length=1, max_length=100)
    template_version: int = Field(ge=1)
    audience: SurveyAudience
    respondent_id: str = Field(min_length=1, max_length=200)
    expires_at: AwareDatetime


class TaskView(Model):
    id: int
    key: str
    title: str
    skill: str | None = None
    trainee_id: str
    status: TaskStatus
    due_at: AwareDatetime
    closes_at: AwareDatetime
    reminded: bool = False
    skill_awarded: bool = False


class SurveyView(Model):
    id: int
    audience: SurveyAudience
    template_id: str
    respondent_id: str
    status: SurveyStatus
    expires_at: AwareDatetime


class ResponseView(Model):
    kind: ResponseKind
    trainee_id: str
    at: AwareDatetime
    resolution: Resolution | None = None
    resolved_by: str | None = None


# Updates: one request model each. Fields that people type are plain strings checked by the
# validators, so a bad value is rejected with its field name instead of failing to decode.


class CompleteTask(Model):
    by: Actor
    task_id: int


class AnswerSurvey(Model):
    by: Actor
    survey_id: int
    answers: dict[str, Any]


class Acknowledge(Model):
    by: Actor


class Dispute(Model):
    by: Actor
    reason: str = Field(default="", max_length=5000)


class ResolveDispute(Model):
    by: Actor
    resolution: str = Field(max_length=50)
    note: str | None = Field(default=None, max_length=20_000)


# Activities.


class StartCoachingRequest(Model):
    workflow_id: str
    assessment_id: int
    status: AssessmentStatus
    trainee_id: str | None
    tasks: list[TaskPlan]
    surveys: list[SurveyPlan]
    at: AwareDatetime


class CoachingStarted(Model):
    tasks: list[TaskView]
    surveys: list[SurveyView]


class TaskStepRequest(Model):
    task_id: int
    step: Literal["complete", "remind", "close"]
    trainee_id: str | None = None
    at: AwareDatetime


class TaskStepDone(Model):
    task: TaskView


class AnswerSurveyRequest(Model):
    survey_id: int
    respondent_id: str
    answers: dict[str, Any]
    at: AwareDatetime


class ExpireSurveysRequest(Model):
    assessment_id: int
    at: AwareDatetime


class SurveysChanged(Model):
    surveys: list[SurveyView]


class ResponseRequest(Model):
    assessment_id: int
    trainee_id: str
    kind: ResponseKind
    reason: str | None = None
    at: AwareDatetime


class ResponseRecorded(Model):
    response: ResponseView


class ResolveRequest(Model):
    assessment_id: int
    lead_id: str
    resolution: Resolution
    note: str | None = None
    at: AwareDatetime


class CloseRequest(Model):
    workflow_id: str
    assessment_id: int
    status: AssessmentStatus
    reason: str
    at: AwareDatetime


class Closed(Model):
    created: bool
