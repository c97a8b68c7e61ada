"""`resolution_confirmed`: the customer confirmed the fix, or the ticket stayed solved."""

from __future__ import annotations

from domain.assessment import MetricEvidence
from domain.definitions import ResolutionConfirmedCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome
from rubrics.checks.lexicon import find_phrases

CONFIRMATIONS = (
    "that worked",
    "that's worked",
    "it worked",
    "it works",
    "works now",
    "working now",
    "that fixed it",
    "that's fixed it",
    "fixed it",
    "all sorted",
    "that's sorted",
    "all good",
    "problem solved",
    "issue resolved",
    "that did it",
    "that did the trick",
    "perfect, thank",
    "perfect, thanks",
    "great, thank",
    "brilliant, thank",
    "it arrived",
    "received it",
)
STILL_BROKEN = (
    "still not working",
    "still doesn't work",
    "still does not work",
    "still broken",
    "still waiting",
    "still haven't",
    "still have not",
    "not fixed",
    "didn't work",
    "did not work",
    "same problem",
    "same issue",
    "happening again",
    "still crash*",
    "still fail*",
    "still get*",
    "still see*",
    "still can't",
    "still cannot",
    "still won't",
    "still error*",
    "still isn't",
    "still having",
    "still freez*",
    "still the same",
    "keeps crashing",
    "keeps failing",
    "not resolved",
    "isn't fixed",
)
SOLVED = ("solved", "closed", "resolved")


def check_resolution_confirmed(spec: ResolutionConfirmedCheck, case: Case) -> Outcome:
    ticket = case.ticket
    last_agent = max(
        (i for i, m in enumerate(ticket.messages) if m.author.role == "agent" and m.public),
        default=None,
    )
    after = [m for m in ticket.messages[(last_agent or 0) :] if m.author.role == "customer"]
    reopens = ticket.metrics.reopens
    broken = find_phrases(STILL_BROKEN, after, limit=1)
    if reopens:
        return Outcome(
            "failed",
            f"the ticket was reopened {reopens} time(s)",
            [*broken, MetricEvidence(metric="reopens", value=reopens, threshold=0, bound="max")],
        )
    if broken:
        return Outcome("failed", "the customer's last word says it is not fixed", broken)
    confirmed = find_phrases(tuple(spec.confirmations) or CONFIRMATIONS, after, limit=1)
    if confirmed:
        return Outcome("passed", "the customer confirmed the fix", confirmed)
    if (ticket.status or "").lower() in SOLVED and reopens == 0:
        return Outcome(
            "passed",
            "solved and not reopened",
            [MetricEvidence(metric="reopens", value=0, threshold=0, bound="max")],
            confidence=0.8,
        )
    return Outcome(
        "not_scored", "the ticket is not solved yet, or its reopens are unknown", confidence=0.0
    )
