"""`metric`: a ticket metric against a threshold, optionally per channel."""

from __future__ import annotations

from domain.assessment import MetricEvidence
from domain.definitions import MetricCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome


def _threshold(bound: float | dict[str, float] | None, channel: str | None) -> float | None:
    if isinstance(bound, dict):
        return bound.get(channel or "", bound.get("default"))
    return bound


def check_metric(spec: MetricCheck, case: Case) -> Outcome:
    channel = case.ticket.channel
    maximum, minimum = _threshold(spec.max, channel), _threshold(spec.min, channel)
    if maximum is None and minimum is None:
        return Outcome(
            "not_applicable", f"no {spec.metric} target for channel {channel or 'unknown'}"
        )
    if spec.metric == "first_response_minutes":
        first = case.first_agent_reply()
        if first is not None and case.trainee_id and first.author.id != case.trainee_id:
            return Outcome(
                "not_applicable", f"the first reply came from another agent ({first.author.id})"
            )
    value = getattr(case.ticket.metrics, spec.metric)
    bound, threshold = ("max", maximum) if maximum is not None else ("min", minimum)
    evidence = [
        MetricEvidence(
            metric=spec.metric, value=value, threshold=threshold, bound=bound, channel=channel
        )
    ]
    if value is None:
        return Outcome("not_scored", f"{spec.metric} is missing", evidence, confidence=0.0)
    too_high = maximum is not None and value > maximum
    too_low = minimum is not None and value < minimum
    if too_high or too_low:
        limit = maximum if too_high else minimum
        word = "above the maximum" if too_high else "below the minimum"
        return Outcome("failed", f"{spec.metric} {value:g} is {word} {limit:g}", evidence)
    return Outcome("passed", f"{spec.metric} {value:g} is within target", evidence)
