"""Draft an assessment: score every criterion of an approved rubric against the case.

Pure: the same rubric and case always give the same draft.
"""

from __future__ import annotations

import cel

from domain.assessment import (
    CriterionResult,
    Draft,
    MessageEvidence,
    MessageSource,
    ProcessIssue,
    Trainee,
)
from domain.definitions import Criterion, Rubric
from domain.expressions import ExpressionError
from domain.overrides import UNEXPLAINED_LOW_CSAT, attributed, summary_line, totals
from rubrics import stops
from rubrics.attribution import attribute, cause_ref, metric_of, standing_issues
from rubrics.case import Case
from rubrics.checks import run_check
from rubrics.evidence import evidence_report
from rubrics.loader import rubric_expression
from rubrics.low_csat import explained, is_low, unexplained

LOW_CONFIDENCE = 0.7
RISK_TAGS = frozenset({"vip", "legal-hold", "escalated-complaint", "churn-risk"})
SPEED_METRICS = ("first_response_minutes", "resolution_minutes")
# Customer data an agent must never write back in a public reply. Emails, phones and
# addresses are left out: agents legitimately repeat those to confirm contact details.
EXPOSED_PII = frozenset({"[CARD]", "[IBAN]", "[ID_NUMBER]"})


class EvidenceMismatch(ValueError):
    """A quote is not verbatim in the message it cites: the draft must not be shown."""


def score_criterion(
    criterion: Criterion, case: Case, rubric: Rubric, context: dict
) -> CriterionResult:
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
    outcome = run_check(criterion.check, case, criterion.id)
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
        cause, why = attribute(criterion, case, rubric, context)
        explanation = attributed(outcome.explanation, cause, why)
        return result.model_copy(
            update={"max_score": criterion.weight, "cause": cause, "explanation": explanation}
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


def _with_sources(results: list[CriterionResult], case: Case) -> list[CriterionResult]:
    """Attach where each redacted quote sits in the original message (leads only).

    The evidence objects were made for this draft alone, so they are completed in place.
    """
    for result in results:
        for item in result.evidence:
            if (
                isinstance(item, MessageEvidence)
                and (redacted := case.sources.get(item.message_id)) is not None
            ):
                start, end = redacted.to_source(item.start, item.end)
                item.source = MessageSource(start=start, end=end)
    return results


def _customer_risk(case: Case) -> bool:
    ticket, facts = case.ticket, case.facts
    if RISK_TAGS & set(facts.get("tags", [])):
        return True
    if (ticket.metrics.reopens or 0) >= 2:
        return True
    return is_low(facts) and (ticket.customer_segment or "").lower() == "enterprise"


def _pii_exposed(case: Case) -> bool:
    """The agent under review wrote a card, IBAN or national id number in a public reply.

    Read from the redaction maps (`case.sources`), so the raw number is never needed here.
    """
    for message in case.messages("agent_public"):
        redacted = case.sources.get(message.id)
        if redacted is not None and any(s.label in EXPOSED_PII for s in redacted.spans):
            return True
    return False


def _process_issues(
    results: list[CriterionResult], case: Case, rubric: Rubric
) -> list[ProcessIssue]:
    """Failures with a non-agent cause and the standing gaps they do not already name, with
    what explains a low CSAT the agent did not cause."""
    issues = [
        ProcessIssue(
            cause=r.cause,
            criterion_id=r.criterion_id,
            summary=f"{r.name}: {r.explanation}",
            ref=cause_ref(r.cause, case),
        )
        for r in results
        if r.status == "failed" and r.cause not in (None, "agent_behavior")
    ]
    seen = {(i.cause, i.ref) for i in issues if i.ref}
    for issue in standing_issues(case):
        if (issue.cause, issue.ref) not in seen:
            issues.append(issue)
    return explained(results, case, rubric, issues)


def _priority(flags: list[str], stopped: bool) -> int:
    weights = {
        "customer_risk": 4,
        "sensitive": 2,
        "policy_exception": 3,
        "pii_exposed": 3,
        "critical_failed": 2,
        "low_confidence": 2,
        "repeat_theme": 1,
        UNEXPLAINED_LOW_CSAT: 2,
    }
    return sum(weights.get(f, 0) for f in flags) + (2 if stopped else 0)


def trainee(case: Case) -> Trainee | None:
    if case.trainee_id is None:
        return None
    agent = case.ticket.agent
    if agent and agent.id == case.trainee_id:
        return Trainee(id=agent.id, name=agent.name, team=agent.team)
    named = next(
        (
            m.author.name
            for m in case.ticket.messages
            if m.author.id == case.trainee_id and m.author.name
        ),
        None,
    )
    return Trainee(id=case.trainee_id, name=named)


def _variables(rubric: Rubric) -> set[str]:
    """The CEL variables the rubric's expressions read."""
    sources = [c.applies_when for c in rubric.criteria if c.applies_when]
    sources += [rule.when for c in rubric.criteria for rule in c.reattribute]
    return {name for source in sources for name in rubric_expression(source).program.variables()}


def draft(rubric: Rubric, case: Case) -> Draft:
    evidence = evidence_report(case, rubric)
    blocked = stops.missing(case) or stops.out_of_scope(case, rubric)
    if blocked:
        flags = blocked.flags + (["customer_risk"] if _customer_risk(case) else [])
        return Draft(
            status="stopped",
            stop_reason=blocked.reason,
            trainee=trainee(case),
            confidence=0.0,
            flags=flags,
            priority=_priority(flags, True),
            summary=f"Stopped: {blocked.reason}.",
            evidence=evidence,
            process_issues=standing_issues(case),
        )
    context = cel.Context(case.context(_variables(rubric)))
    results = [score_criterion(c, case, rubric, context) for c in rubric.criteria]
    verify_evidence(results, case)
    results = _with_sources(results, case)
    scored = [r for r in results if r.status in ("passed", "failed")]
    applicable = [r for r in results if r.status != "not_applicable"]
    score, max_score, passed = totals(results, rubric.pass_score)
    coverage = len(scored) / len(applicable) if applicable else 0.0
    mean = sum(r.confidence for r in scored) / len(scored) if scored else 0.0
    confidence = round(coverage * mean, 3)
    failed = [r for r in results if r.status == "failed"]
    critical_failed = any(r.critical for r in failed)
    by_id = {c.id: c for c in rubric.criteria}
    repeats = sorted(
        {r.criterion_id for r in failed if r.cause == "agent_behavior"} & set(case.history)
    )
    failed_speed = any(metric_of(by_id[r.criterion_id]) in SPEED_METRICS for r in failed)
    stop = (
        stops.sensitive(case)
        or stops.stale(case, rubric)
        or stops.contradictory(case, failed_speed)
    )
    flags = list(stop.flags) if stop else []
    if confidence < LOW_CONFIDENCE:
        flags.append("low_confidence")
    if critical_failed:
        flags.append("critical_failed")
    if any(by_id[r.criterion_id].check.kind == "policy_exception" for r in failed):
        flags.append("policy_exception")
    if _pii_exposed(case):
        flags.append("pii_exposed")
    if _customer_risk(case) and "customer_risk" not in flags:
        flags.append("customer_risk")
    issues = _process_issues(results, case, rubric)
    if issues:
        flags.append("process_issue")
    if repeats:
        flags.append("repeat_theme")
    summary = summary_line(rubric, results, score, max_score, stop.reason if stop else None)
    unexplained_line = None if stop else unexplained(results, case, issues)
    if unexplained_line:
        flags.append(UNEXPLAINED_LOW_CSAT)
        summary = f"{summary} {unexplained_line}"
    blocking = {
        "low_confidence",
        "critical_failed",
        "policy_exception",
        "pii_exposed",
        "customer_risk",
        "sensitive",
        UNEXPLAINED_LOW_CSAT,
    }
    return Draft(
        status="stopped" if stop else "awaiting_review",
        stop_reason=stop.reason if stop else None,
        trainee=trainee(case),
        results=results,
        score=score,
        max_score=max_score,
        passed=passed,
        confidence=confidence,
        flags=flags,
        priority=_priority(flags, stop is not None),
        auto_eligible=stop is None and not blocking & set(flags),
        summary=summary,
        evidence=evidence,
        process_issues=issues,
        repeat_themes=repeats,
    )
