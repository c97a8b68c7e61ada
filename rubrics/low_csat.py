"""A low CSAT with no agent failure behind it: each non-agent cause its evidence supports is
named, with that evidence, in a process issue for the lead; or, when the evidence supports
none, a line says so and flags the draft for the lead.

A cause a failed criterion already filed leads that criterion's issue, so a lead's override
that gives the failure back to the agent withdraws it; any other describes the ticket, as a
standing gap does, and an override keeps it.

Pure: reads only the case, the rubric and the scored results.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from domain.assessment import CriterionResult, MetricEvidence, ProcessIssue
from domain.definitions import Cause, Rubric
from rubrics.case import INCIDENT_TAG, PRODUCT_TAGS, Case

LOW_SHARE = 0.4
ENGINEERING = re.compile(r"(?<![a-z])(?:eng|engineering|engineers?|devs?|development|r&d)(?![a-z])")
INCIDENT_ID = re.compile(r"\b(?:INC|incident)[\s#:_-]*\d+\b", re.IGNORECASE)
INCIDENT_WORDS = re.compile(r"\b(?:known (?:issue|bug|problem)|incident)\b", re.IGNORECASE)
DECLINED = re.compile(
    r"\b(?:not able to|unable to|can ?not|can't|can\u2019t|won't be able to|not possible|"
    r"not eligible|isn't eligible|outside (?:the|our)|doesn't cover|does not cover)\b",
    re.IGNORECASE,
)
RULE = re.compile(
    r"\b(?:polic(?:y|ies)|window|terms|rules?|eligib\w*|exceptions?)\b", re.IGNORECASE
)
SENTENCES = re.compile(r"[^.!?\n]+")

Found = tuple[list[str], str | None]


def is_low(facts: dict) -> bool:
    score, scale = facts.get("csat_score"), facts.get("csat_scale")
    return score is not None and bool(scale) and score <= LOW_SHARE * scale


def rating(facts: dict) -> str:
    return f"{facts['csat_score']:g}/{facts['csat_scale']}"


def _agent_failed(results: list[CriterionResult]) -> bool:
    return any(r.status == "failed" and r.cause in (None, "agent_behavior") for r in results)


def _incident_named(case: Case) -> list[str]:
    """An incident id anywhere in the thread, or an agent calling it an incident or known issue."""
    named: dict[str, str] = {}
    for message in case.ticket.messages:
        agent = message.author.role in ("agent", "lead")
        found = INCIDENT_ID.search(message.body) or (agent and INCIDENT_WORDS.search(message.body))
        if found:
            named.setdefault(found.group(0), message.id)
    return [f'message {where} names "{name}"' for name, where in list(named.items())[:2]]


def _product(case: Case, _rubric: Rubric, _results: list[CriterionResult]) -> Found:
    tags = [t for t in case.facts.get("tags", []) if t in PRODUCT_TAGS or INCIDENT_TAG.match(t)]
    found = [f"the ticket is tagged {', '.join(tags)}"] if tags else []
    teams = [e.to for e in case.ticket.escalations if e.to and ENGINEERING.search(e.to.lower())]
    if teams:
        found.append(f"it was escalated to {', '.join(dict.fromkeys(teams))}")
    return found + _incident_named(case), None


def _declined(case: Case) -> str | None:
    for message in case.messages("any_agent_public"):
        for sentence in SENTENCES.findall(message.body):
            if DECLINED.search(sentence) and RULE.search(sentence):
                return message.id
    return None


def _policy(case: Case, _rubric: Rubric, _results: list[CriterionResult]) -> Found:
    facts = case.facts
    ambiguous = facts.get("ambiguous_policies", [])
    found = [f"policy {p} is flagged ambiguous" for p in ambiguous]
    if facts.get("asked_for_guidance"):
        found.append("the agent asked for policy guidance in an internal note")
    declined = _declined(case)
    applied = [f"{p.id} v{p.version}" if p.version else p.id for p in case.ticket.policies]
    if declined:
        under = f" under policy {', '.join(applied)}" if applied else ""
        found.append(f"the agent declined the request{under} (message {declined})")
    ref = next(iter(ambiguous), case.ticket.policies[0].id if case.ticket.policies else None)
    return found, ref if found else None


def _documentation(case: Case, _rubric: Rubric, _results: list[CriterionResult]) -> Found:
    stale = case.facts.get("stale_kb_articles", [])
    dates = {a.id: a.updated_at for a in case.ticket.kb_articles}
    found = [
        f"the linked help-centre article {kb} is out of date (updated {dates[kb]:%Y-%m-%d})"
        for kb in stale
        if dates.get(kb)
    ]
    return found, next(iter(stale), None)


def _first_reply(results: list[CriterionResult]) -> str | None:
    timed = [
        item
        for result in results
        for item in result.evidence
        if isinstance(item, MetricEvidence)
        and item.metric == "first_response_minutes"
        and item.value is not None
        and item.threshold is not None
    ]
    if not timed:
        return None
    return f"the first reply took {timed[0].value:g} minutes (target {timed[0].threshold:g})"


def _staffing(case: Case, rubric: Rubric, results: list[CriterionResult]) -> Found:
    backlog = case.facts.get("queue_backlog_per_agent")
    if backlog is None or backlog <= rubric.staffing_backlog_per_agent:
        return [], None
    found = [
        f"the queue had {backlog:g} open tickets per agent, over the rubric's "
        f"{rubric.staffing_backlog_per_agent:g}"
    ]
    first = _first_reply(results)
    return ([*found, first] if first else found), None


CAUSES: tuple[tuple[Cause, Callable[[Case, Rubric, list[CriterionResult]], Found]], ...] = (
    ("product", _product),
    ("policy", _policy),
    ("documentation", _documentation),
    ("staffing", _staffing),
)


def csat_issues(results: list[CriterionResult], case: Case, rubric: Rubric) -> list[ProcessIssue]:
    """One issue per non-agent cause the evidence supports, when a low CSAT has no agent
    failure behind it."""
    if not is_low(case.facts) or _agent_failed(results):
        return []
    issues = []
    for cause, find in CAUSES:
        found, ref = find(case, rubric, results)
        if found:
            summary = f"Low CSAT ({rating(case.facts)}) with a {cause} cause: "
            issues.append(ProcessIssue(cause=cause, ref=ref, summary=summary + "; ".join(found)))
    return issues


def explained(
    results: list[CriterionResult], case: Case, rubric: Rubric, issues: list[ProcessIssue]
) -> list[ProcessIssue]:
    """`issues` with the low CSAT's causes named: each leads the first issue of its cause (a
    standing gap it replaces, as it says more), or is an issue of its own."""
    out = list(issues)
    for found in csat_issues(results, case, rubric):
        at = next((k for k, issue in enumerate(out) if issue.cause == found.cause), None)
        if at is None:
            out.append(found)
        elif out[at].criterion_id is None:
            out[at] = found.model_copy(update={"ref": found.ref or out[at].ref})
        else:
            out[at] = out[at].model_copy(update={"summary": f"{found.summary}. {out[at].summary}"})
    return out


def unexplained(
    results: list[CriterionResult], case: Case, issues: list[ProcessIssue]
) -> str | None:
    """What the lead is told when a low CSAT has neither an agent failure nor a cause."""
    if not is_low(case.facts) or issues or any(r.status == "failed" for r in results):
        return None
    return (
        f"Low CSAT ({rating(case.facts)}) with no agent failure and no cause in the evidence: "
        "ask the customer or check the ticket."
    )
