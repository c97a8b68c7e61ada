"""Drafts a rubric's own note templates are tried on when the rubric is checked: one with a
failed, a passed and a process-caused criterion, one stopped before anything was scored."""

from __future__ import annotations

from domain.assessment import (
    CriterionResult,
    Draft,
    EvidenceItem,
    MessageEvidence,
    MetricEvidence,
    ProcessIssue,
    Trainee,
)
from domain.definitions import Criterion, LearningTaskSpec, Opportunity, Rubric

TICKET = "sample/1"
EVENT_TYPE = "csat.received"


def _result(criterion: Criterion, status: str, cause: str | None) -> CriterionResult:
    quote = "Thanks for waiting, I have checked your order."
    return CriterionResult(
        criterion_id=criterion.id,
        name=criterion.name,
        status=status,
        score=criterion.weight if status == "passed" else 0.0,
        max_score=criterion.weight,
        weight=criterion.weight,
        critical=criterion.critical,
        cause=cause,
        explanation=f"sample: {status}",
        evidence=[
            MessageEvidence(message_id="m2", quote=quote, start=0, end=len(quote)),
            MetricEvidence(metric="first_response_minutes", value=42, threshold=30, bound="max"),
        ],
    )


def sample_drafts(rubric: Rubric) -> list[Draft]:
    first, *rest = rubric.criteria
    results = [_result(first, "failed", "agent_behavior")]
    results += [_result(c, "passed", None) for c in rest[:1]]
    results += [_result(c, "failed", "staffing") for c in rest[1:2]]
    scored = Draft(
        status="awaiting_review",
        trainee=Trainee(id="a-1", name="Sam Sample", team="tier1"),
        results=results,
        score=sum(r.score for r in results),
        max_score=sum(r.max_score for r in results),
        passed=False,
        confidence=0.9,
        flags=["critical_failed"],
        evidence=[EvidenceItem(name="thread", status="present", detail="2 messages")],
        process_issues=[ProcessIssue(cause="staffing", summary="the queue was backed up")],
        repeat_themes=[first.id],
    )
    stopped = Draft(status="stopped", stop_reason="sensitive: sample", trainee=None)
    return [scored, stopped]


def sample_opportunity(rubric: Rubric) -> Opportunity:
    return Opportunity(
        id="sample",
        name="Sample opportunity",
        version=1,
        on=[EVENT_TYPE],
        rubric=rubric.ref,
        learning_tasks=[
            LearningTaskSpec(
                id="sample-task",
                title="Sample learning task",
                if_failed=[rubric.criteria[0].id],
            )
        ],
    )
