"""One small unit per check kind. Each takes its spec and the case and returns an Outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rubrics.case import Case
from rubrics.checks.base import Outcome
from rubrics.checks.internal_note import check_internal_note
from rubrics.checks.kb_reference import check_kb_reference
from rubrics.checks.llm import check_llm
from rubrics.checks.meaning import check_meaning
from rubrics.checks.metric import check_metric
from rubrics.checks.phrases import check_phrases
from rubrics.checks.policy_exception import check_policy_exception
from rubrics.checks.reply_count import check_reply_count
from rubrics.checks.reply_gap import check_reply_gap
from rubrics.checks.resolution_confirmed import check_resolution_confirmed
from rubrics.checks.tone import check_tone

CHECKS: dict[str, Callable[[Any, Case], Outcome]] = {
    "metric": check_metric,
    "phrases": check_phrases,
    "internal_note": check_internal_note,
    "kb_reference": check_kb_reference,
    "policy_exception": check_policy_exception,
    "reply_count": check_reply_count,
    "resolution_confirmed": check_resolution_confirmed,
    "tone": check_tone,
    "reply_gap": check_reply_gap,
    "meaning": check_meaning,
}


def run_check(spec: Any, case: Case, criterion_id: str = "") -> Outcome:
    if spec.kind == "llm":
        return check_llm(spec, case, criterion_id)
    return CHECKS[spec.kind](spec, case)


__all__ = ["CHECKS", "Outcome", "run_check"]
