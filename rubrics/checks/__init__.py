"""One small unit per check kind. Each takes its spec and the case and returns an Outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rubrics.case import Case
from rubrics.checks.base import Outcome
from rubrics.checks.internal_note import check_internal_note
from rubrics.checks.metric import check_metric
from rubrics.checks.phrases import check_phrases

CHECKS: dict[str, Callable[[Any, Case], Outcome]] = {
    "metric": check_metric,
    "phrases": check_phrases,
    "internal_note": check_internal_note,
}


def run_check(spec: Any, case: Case) -> Outcome:
    return CHECKS[spec.kind](spec, case)


__all__ = ["CHECKS", "Outcome", "run_check"]
