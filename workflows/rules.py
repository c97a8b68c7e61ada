"""The checks behind the CoachingWorkflow's update validators.

Pure functions of the workflow's state: they raise an `ApplicationError` whose `type` says what
kind of refusal it is (the API maps it to a status code) and whose message names the field,
never the value sent. A refused update writes nothing, not even to the workflow's history.
"""

from __future__ import annotations

from datetime import datetime

from temporalio.exceptions import ApplicationError

from domain.assessment import AssessmentStatus, Draft
from domain.coaching import CriterionChange, DecisionAction, DecisionResult, LeadDecision
from domain.definitions import ReviewSpec, SurveyTemplate
from domain.lifecycle import (
    RESOLUTIONS,
    AnswerSurvey,
    CompleteTask,
    ResolveDispute,
    ResponseView,
    SurveyView,
    TaskView,
)
from domain.people import Actor, reviewer_problem

COACHING: tuple[AssessmentStatus, ...] = ("coaching", "virtual_coach")
CLOSED: tuple[AssessmentStatus, ...] = ("closed_complete", "closed_incomplete", "dismissed")

# Refusal types, for callers that map them to answers (the API: 403, 404, 409, 422).
NOT_READY = "NotReady"
FORBIDDEN = "Forbidden"
NOT_FOUND = "NotFound"
WRONG_STATE = "WrongState"
ALREADY_DECIDED = "AlreadyDecided"
ALREADY_DONE = "AlreadyDone"
INVALID = "InvalidRequest"
INVALID_DECISION = "InvalidDecision"


def _refuse(message: str, kind: str, *details: object) -> ApplicationError:
    return ApplicationError(message, *details, type=kind, non_retryable=True)


def decided_status(action: DecisionAction) -> AssessmentStatus:
    return "dismissed" if action == "dismiss" else "coaching"


def open_dispute(response: ResponseView | None) -> bool:
    return bool(response and response.kind == "disputed" and not response.resolution)


def check_decision(
    decision: LeadDecision,
    draft: Draft | None,
    status: AssessmentStatus,
    decided: DecisionResult | None,
    review: ReviewSpec,
    escalated: bool,
    assignee: str | None,
) -> None:
    if draft is None:
        raise _refuse("the assessment is still being drafted; try again shortly", NOT_READY)
    if decided is not None:
        raise _refuse(
            f"the assessment is already decided ({decided.action} by {decided.lead})",
            ALREADY_DECIDED,
            decided.model_dump(mode="json"),
        )
    if status == "closed_incomplete":
        raise _refuse("the review window has closed; the assessment expired undecided", WRONG_STATE)
    if status not in ("awaiting_review", "stopped"):
        raise _refuse(f"the assessment is {status}; there is nothing to decide", WRONG_STATE)
    trainee_id = draft.trainee.id if draft.trainee else None
    team = draft.trainee.team if draft.trainee else None
    problem = reviewer_problem(decision.by, review, team, trainee_id, escalated, assignee)
    if problem:
        raise _refuse(f"by: {problem}", FORBIDDEN)
    problems = decision.problems()
    if problems:
        raise _refuse("; ".join(problems), INVALID_DECISION)
    if decision.to is not None and decision.to.id == trainee_id:
        raise _refuse("to: the trainee cannot review their own assessment", INVALID_DECISION)
    changes = criterion_changes(draft, decision)
    if decision.action == "override" and not changes and not (decision.note or "").strip():
        raise _refuse(
            "scores: the override changes no score or cause of the draft, and adds no note",
            INVALID_DECISION,
        )


def criterion_changes(draft: Draft | None, decision: LeadDecision) -> list[CriterionChange]:
    """The per-criterion diff of an override; raises on unknown criteria or bad scores."""
    assert draft is not None
    results = {r.criterion_id: r for r in draft.results}
    changes = []
    for criterion_id, score in sorted(decision.scores.items()):
        result = results.get(criterion_id)
        if result is None:
            raise _refuse(f"scores: unknown criterion {criterion_id!r}", INVALID_DECISION)
        if result.status == "not_applicable":
            raise _refuse(f"scores.{criterion_id}: the criterion does not apply", INVALID_DECISION)
        if not 0 <= score <= result.weight:
            raise _refuse(
                f"scores.{criterion_id}: must be between 0 and {result.weight:g}", INVALID_DECISION
            )
        if score != result.score:
            changes.append(
                CriterionChange(
                    criterion_id=criterion_id, field="score", before=result.score, after=score
                )
            )
    for criterion_id, cause in sorted(decision.causes.items()):
        result = results.get(criterion_id)
        if result is None:
            raise _refuse(f"causes: unknown criterion {criterion_id!r}", INVALID_DECISION)
        if cause != result.cause:
            changes.append(
                CriterionChange(
                    criterion_id=criterion_id, field="cause", before=result.cause, after=cause
                )
            )
    return changes


def _check_coaching(status: AssessmentStatus) -> None:
    if status not in COACHING:
        raise _refuse(f"the assessment is {status}, not in coaching", WRONG_STATE)


def check_task(request: CompleteTask, status: AssessmentStatus, task: TaskView | None) -> None:
    _check_coaching(status)
    if task is None:
        raise _refuse(f"task_id: no task {request.task_id} in this assessment", NOT_FOUND)
    if request.by.id != task.trainee_id:
        raise _refuse(f"by: task {task.id} belongs to another trainee", FORBIDDEN)
    if task.status != "open":
        raise _refuse(
            f"task {task.id} is already {task.status}", ALREADY_DONE, task.model_dump(mode="json")
        )


def check_survey_answer(
    request: AnswerSurvey,
    status: AssessmentStatus,
    survey: SurveyView | None,
    templates: list[SurveyTemplate],
    now: datetime,
) -> None:
    _check_coaching(status)
    if survey is None:
        raise _refuse(f"survey_id: no survey {request.survey_id} in this assessment", NOT_FOUND)
    if request.by.id != survey.respondent_id:
        raise _refuse(f"by: survey {survey.id} is for someone else", FORBIDDEN)
    if survey.status != "open" or now > survey.expires_at:
        state = survey.status if survey.status != "open" else "expired"
        raise _refuse(f"survey {survey.id} is already {state}", ALREADY_DONE)
    template = next((t for t in templates if t.id == survey.template_id), None)
    if template is None:
        raise _refuse(f"survey {survey.id}: its template is not pinned", WRONG_STATE)
    problems = template.answer_problems(request.answers)
    if problems:
        raise _refuse("; ".join(problems), INVALID)


def check_response(
    by: Actor, status: AssessmentStatus, draft: Draft | None, response: ResponseView | None
) -> None:
    _check_coaching(status)
    trainee = draft.trainee if draft else None
    if trainee is None or by.id != trainee.id:
        raise _refuse("by: only the trainee can acknowledge or dispute their coaching", FORBIDDEN)
    if response is not None:
        raise _refuse(f"the coaching was already {response.kind}", ALREADY_DONE)


def check_dispute(reason: str) -> None:
    if not reason.strip():
        raise _refuse("reason: a dispute needs a reason", INVALID)


def check_resolution(
    request: ResolveDispute,
    status: AssessmentStatus,
    response: ResponseView | None,
    decided: DecisionResult | None,
    review: ReviewSpec,
    draft: Draft | None,
) -> None:
    _check_coaching(status)
    if response is None or response.kind != "disputed":
        raise _refuse("there is no dispute to resolve", WRONG_STATE)
    if response.resolution is not None:
        raise _refuse(f"the dispute was already {response.resolution}", ALREADY_DONE)
    if request.resolution not in RESOLUTIONS:
        raise _refuse(f"resolution: must be one of {', '.join(RESOLUTIONS)}", INVALID)
    if request.resolution == "amended" and not (request.note or "").strip():
        raise _refuse("note: an amendment needs the amended note", INVALID)
    if decided is not None and request.by.id == decided.lead:
        raise _refuse("by: a dispute goes to a lead other than the one who decided", FORBIDDEN)
    trainee = draft.trainee if draft else None
    problem = reviewer_problem(
        request.by,
        review,
        trainee.team if trainee else None,
        trainee.id if trainee else None,
        escalated=True,
        assignee=None,
    )
    if problem:
        raise _refuse(f"by: {problem}", FORBIDDEN)
