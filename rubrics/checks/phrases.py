"""`phrases`: expected (`any`) or forbidden (`none`) wording in a set of messages.

Matching is case-insensitive on word boundaries; a trailing `*` matches a prefix
(`apologi*` finds "apologise" and "apologize"), and straight and curly apostrophes match
each other.
"""

from __future__ import annotations

from domain.definitions import PhrasesCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome, opening
from rubrics.checks.lexicon import find_phrases

ABSENCE_CONFIDENCE = 0.8


def check_phrases(spec: PhrasesCheck, case: Case) -> Outcome:
    messages = case.messages(spec.in_)
    if not messages:
        return Outcome("not_scored", f"no messages of kind {spec.in_} to check", confidence=0.0)
    if spec.none:
        hits = find_phrases(tuple(spec.none), messages)
        if hits:
            return Outcome("failed", "uses wording the rubric rules out", hits)
    if spec.any:
        hits = find_phrases(tuple(spec.any), messages)
        if not hits:
            return Outcome(
                "failed",
                "none of the expected wording appears",
                [opening(messages[0])],
                confidence=ABSENCE_CONFIDENCE,
            )
        return Outcome("passed", "uses the expected wording", hits)
    return Outcome("passed", "none of the ruled-out wording appears", [opening(messages[0])])
