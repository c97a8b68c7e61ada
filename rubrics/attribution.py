"""Root cause of a failed criterion: the rubric's own rules first, then built-in signals.

A non-agent cause turns the failure into a process issue for the lead; the agent is never
coached on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.assessment import ProcessIssue
from domain.definitions import Cause, Criterion, Rubric
from domain.expressions import ExpressionError
from rubrics.case import Case
from rubrics.loader import rubric_expression

RESOLUTION_METRICS = ("resolution_minutes", "reopens", "reassignment_count")


@dataclass(frozen=True)
class Signal:
    cause: Cause
    applies: Callable[[Criterion], bool]
    present: Callable[[Case, Rubric], bool]
    why: Callable[[Case], str]


def _kind(criterion: Criterion) -> str:
    return criterion.check.kind


def metric_of(criterion: Criterion) -> str | None:
    """Tested by kind: a missing attribute takes pydantic's slow path."""
    return criterion.check.metric if criterion.check.kind == "metric" else None


def _is_outcome(criterion: Criterion) -> bool:
    return _kind(criterion) in ("resolution_confirmed", "reply_count") or (
        metric_of(criterion) in RESOLUTION_METRICS
    )


def _late_under_backlog(case: Case, rubric: Rubric) -> bool:
    backlog = case.facts.get("queue_backlog_per_agent")
    return backlog is not None and backlog > rubric.staffing_backlog_per_agent


SIGNALS = (
    Signal(
        "staffing",
        lambda c: metric_of(c) == "first_response_minutes" or _kind(c) == "reply_gap",
        _late_under_backlog,
        lambda case: (
            f"the queue had {case.facts['queue_backlog_per_agent']:g} open tickets "
            "per agent when the ticket arrived"
        ),
    ),
    Signal(
        "documentation",
        lambda c: _kind(c) == "kb_reference" or _is_outcome(c),
        lambda case, _r: bool(case.facts.get("kb_stale")),
        lambda case: (
            f"the help-centre article {', '.join(case.facts['stale_kb_articles'])} is out of date"
        ),
    ),
    Signal(
        "policy",
        lambda c: _kind(c) == "policy_exception" or _is_outcome(c),
        lambda case, _r: bool(
            case.facts.get("policy_ambiguous") or case.facts.get("asked_for_guidance")
        ),
        lambda case: (
            (f"policy {', '.join(case.facts['ambiguous_policies'])} is flagged ambiguous")
            if case.facts.get("ambiguous_policies")
            else "the agent asked for policy guidance"
        ),
    ),
    Signal(
        "product",
        _is_outcome,
        lambda case, _r: bool(case.facts.get("product_issue")),
        lambda case: "the ticket is tagged as a product bug or linked to an incident",
    ),
)


def attribute(criterion: Criterion, case: Case, rubric: Rubric, context: dict) -> tuple[Cause, str]:
    """The cause of a failure and, when it is not the agent's, why."""
    for rule in criterion.reattribute:
        try:
            if rubric_expression(rule.when).evaluate(context):
                return rule.cause, f"rule: {rule.when}"
        except ExpressionError:
            continue
    for signal in SIGNALS:
        if signal.applies(criterion) and signal.present(case, rubric):
            return signal.cause, signal.why(case)
    return criterion.cause, ""


def cause_ref(cause: Cause | None, case: Case) -> str | None:
    """The record a non-agent cause points at: the stale article, the ambiguous policy."""
    refs = {
        "documentation": case.facts.get("stale_kb_articles"),
        "policy": case.facts.get("ambiguous_policies"),
    }.get(cause or "")
    return refs[0] if refs else None


def standing_issues(case: Case) -> list[ProcessIssue]:
    """Gaps worth a lead's attention whatever the scores: stale articles, unclear policy."""
    issues = [
        ProcessIssue(
            cause="documentation", ref=kb, summary=f"Help-centre article {kb} is out of date"
        )
        for kb in case.facts.get("stale_kb_articles", [])
    ]
    issues += [
        ProcessIssue(cause="policy", ref=policy, summary=f"Policy {policy} is flagged ambiguous")
        for policy in case.facts.get("ambiguous_policies", [])
    ]
    if case.facts.get("asked_for_guidance") and not case.facts.get("ambiguous_policies"):
        issues.append(
            ProcessIssue(cause="policy", summary="The agent had to ask for policy guidance")
        )
    return issues
