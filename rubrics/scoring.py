"""Draft an assessment: score every criterion of an approved rubric against the case."""

from __future__ import annotations

from domain.assessment import CriterionResult, Draft, MessageEvidence
from domain.definitions import Criterion, Rubric
from domain.expressions import ExpressionError
from rubrics.case import Case
from rubrics.checks import run_check
from rubrics.loader import rubric_expression

LOW_CONFIDENCE = 0.7


class EvidenceMismatch(ValueError):
    """A quote is not verbatim in the message it cites: the draft must not be shown."""


def _cause(criterion: Criterion, case: Case, context: dict) -> tuple[str, str]:
    for rule in criterion.reattribute:
        try:
            if rubric_expression(rule.when).evaluate(context):
                return rule.cause, f" (attributed to {rule.cause}: {rule.when})"
        except ExpressionError:
            continue
    return criterion.cause, ""


def score_criterion(criterion: Criterion, case: Case, context: dict) -> CriterionResult:
    base = {
        "criterion_id": criterion.id,
        "name": criterion.name,
        "weight": criterion.weight,
        "critical": criterion.critical,
    }
    if criterion.applies_when is not None:
        try:
            applies = rubric_expression(criterion.applies_when).evaluate(context)
        except ExpressionError as exc:
            return CriterionResult(
                **base,
                status="not_scored",
                confidence=0.0,
                explanation=f"cannot tell whether it applies: {exc}",
            )
        if not applies:
            return CriterionResult(
                **base, status="not_applicable", explanation="does not apply to this event"
            )
    outcome = run_check(criterion.check, case)
    if outcome.status in ("passed", "failed") and not outcome.evidence:
        return CriterionResult(
            **base,
            status="not_scored",
            confidence=0.0,
            explanation=f"no evidence to cite: {outcome.explanation}",
        )
    result = CriterionResult(
        **base,
        status=outcome.status,
        confidence=outcome.confidence,
        explanation=outcome.explanation,
        evidence=outcome.evidence,
    )
    if outcome.status == "passed":
        return result.model_copy(update={"score": criterion.weight, "max_score": criterion.weight})
    if outcome.status == "failed":
        cause, why = _cause(criterion, case, context)
        return result.model_copy(
            update={
                "max_score": criterion.weight,
                "cause": cause,
                "explanation": outcome.explanation + why,
            }
        )
    return result


def verify_evidence(results: list[CriterionResult], case: Case) -> None:
    bodies = {m.id: m.body for m in case.ticket.messages}
    for result in results:
        for item in result.evidence:
            if isinstance(item, MessageEvidence):
                body = bodies.get(item.message_id)
                if body is None or body[item.start : item.end] != item.quote:
                    raise EvidenceMismatch(
                        f"criterion {result.criterion_id}: quote is not verbatim in message "
                        f"{item.message_id}"
                    )


def stop_reason(case: Case) -> str | None:
    ticket = case.ticket
    if not ticket.messages:
        return "evidence missing: the ticket has no conversation thread"
    if ticket.agent is None:
        return "evidence missing: no agent is assigned to the ticket"
    if not case.messages("agent_all"):
        return "evidence missing: the thread has no agent message"
    return None


def _summary(rubric: Rubric, results: list[CriterionResult], score: float, max_score: float) -> str:
    failed = [r for r in results if r.status == "failed"]
    head = f"Scored {score:g} of {max_score:g} against {rubric.ref}."
    if not failed:
        return head + " Every scored criterion passed."
    listed = ", ".join(
        f"{r.criterion_id} ({(r.cause or 'agent_behavior').replace('_', ' ')})" for r in failed
    )
    return f"{head} Failed: {listed}."


def draft(rubric: Rubric, case: Case) -> Draft:
    """Score the case. Pure: the same rubric and case always give the same draft."""
    reason = stop_reason(case)
    if reason:
        return Draft(
            status="stopped",
            stop_reason=reason,
            confidence=0.0,
            flags=["evidence_missing"],
            priority=2,
            summary=f"Stopped: {reason}.",
        )
    context = case.context()
    results = [score_criterion(c, case, context) for c in rubric.criteria]
    verify_evidence(results, case)
    scored = [r for r in results if r.status in ("passed", "failed")]
    applicable = [r for r in results if r.status != "not_applicable"]
    score = sum(r.score for r in scored)
    max_score = sum(r.max_score for r in scored)
    coverage = len(scored) / len(applicable) if applicable else 0.0
    confidence = round(
        coverage * (sum(r.confidence for r in scored) / len(scored) if scored else 0), 3
    )
    critical_failed = any(r.critical and r.status == "failed" for r in results)
    passed = bool(max_score) and not critical_failed and score / max_score >= rubric.pass_score
    flags = []
    if confidence < LOW_CONFIDENCE:
        flags.append("low_confidence")
    if critical_failed:
        flags.append("critical_failed")
    if any(r.status == "failed" and r.cause not in (None, "agent_behavior") for r in results):
        flags.append("process_issue")
    priority = (2 if "low_confidence" in flags else 0) + (1 if critical_failed else 0)
    return Draft(
        status="awaiting_review",
        results=results,
        score=score,
        max_score=max_score,
        passed=passed,
        confidence=confidence,
        flags=flags,
        priority=priority,
        summary=_summary(rubric, results, score, max_score),
    )
