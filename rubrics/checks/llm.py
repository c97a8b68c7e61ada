"""`llm`: the verdict the drafting activity obtained from a language model, if any."""

from __future__ import annotations

from domain.definitions import LlmCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome


def check_llm(spec: LlmCheck, case: Case, criterion_id: str = "") -> Outcome:
    verdict = case.llm.get(criterion_id)
    if verdict is None:
        return Outcome(
            "not_scored", "no language model is configured; a lead scores this", confidence=0.0
        )
    return verdict
