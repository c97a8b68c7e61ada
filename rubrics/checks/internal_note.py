"""`internal_note`: an internal agent note with enough content for whoever picks the ticket up."""

from __future__ import annotations

from domain.assessment import MetricEvidence
from domain.definitions import InternalNoteCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome, opening


def check_internal_note(spec: InternalNoteCheck, case: Case) -> Outcome:
    notes = case.messages("agent_internal")
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
