"""`internal_note`: an internal agent note with enough content for whoever picks the ticket up."""

from __future__ import annotations

from datetime import timedelta

from domain.assessment import MetricEvidence
from domain.definitions import InternalNoteCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome, opening

NEAR_MINUTES = 60


def _near_the_handoff(case: Case) -> list:
    """The agent's internal notes written before the event (a little after still counts)."""
    notes = case.messages("agent_internal")
    if case.occurred_at is None:
        return notes
    cutoff = case.occurred_at + timedelta(minutes=NEAR_MINUTES)
    return [m for m in notes if m.created_at is None or m.created_at <= cutoff]


def check_internal_note(spec: InternalNoteCheck, case: Case) -> Outcome:
    notes = _near_the_handoff(case)
    if not notes:
        return Outcome(
            "failed",
            "no internal note was left",
            [
                MetricEvidence(
                    metric="internal_note_words", value=0, threshold=spec.min_words, bound="min"
                )
            ],
        )
    longest = max(notes, key=lambda m: len(m.body.split()))
    words = len(longest.body.split())
    evidence = [
        opening(longest),
        MetricEvidence(
            metric="internal_note_words", value=words, threshold=spec.min_words, bound="min"
        ),
    ]
    if words < spec.min_words:
        return Outcome(
            "failed",
            f"the longest internal note has {words} words; {spec.min_words} are expected",
            evidence,
        )
    return Outcome("passed", f"an internal note of {words} words", evidence)
