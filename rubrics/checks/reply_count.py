"""`reply_count`: how many public replies the agent needed."""

from __future__ import annotations

from domain.assessment import MetricEvidence
from domain.definitions import ReplyCountCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome


def check_reply_count(spec: ReplyCountCheck, case: Case) -> Outcome:
    count = len(case.messages("agent_public"))
    bound, threshold = ("max", spec.max) if spec.max is not None else ("min", spec.min)
    evidence = [
        MetricEvidence(metric="agent_public_replies", value=count, threshold=threshold, bound=bound)
    ]
    if spec.max is not None and count > spec.max:
        return Outcome("failed", f"{count} public replies; at most {spec.max} expected", evidence)
    if spec.min is not None and count < spec.min:
        return Outcome("failed", f"{count} public replies; at least {spec.min} expected", evidence)
    return Outcome("passed", f"{count} public replies", evidence)
