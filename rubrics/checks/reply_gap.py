"""`reply_gap`: the longest the customer waited for the agent's next public reply."""

from __future__ import annotations

from domain.assessment import MetricEvidence
from domain.definitions import ReplyGapCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome, opening


def _limit(spec: ReplyGapCheck, channel: str | None) -> float | None:
    if isinstance(spec.max_minutes, dict):
        return spec.max_minutes.get(channel or "", spec.max_minutes.get("default"))
    return spec.max_minutes


def check_reply_gap(spec: ReplyGapCheck, case: Case) -> Outcome:
    limit = _limit(spec, case.ticket.channel)
    if limit is None:
        return Outcome("not_applicable", f"no reply-gap target for {case.ticket.channel}")
    waiting_since, worst, worst_reply = None, 0.0, None
    for message in case.ticket.messages:
        if message.created_at is None:
            return Outcome("not_scored", "messages have no timestamps", confidence=0.0)
        if message.author.role == "customer" and message.public:
            waiting_since = waiting_since or message.created_at
        elif message.author.role == "agent" and message.public and waiting_since:
            gap = (message.created_at - waiting_since).total_seconds() / 60
            if message.author.id == case.trainee_id and gap > worst:
                worst, worst_reply = gap, message
            waiting_since = None
    if worst_reply is None:
        return Outcome("not_applicable", "the agent never answered a waiting customer")
    evidence = [
        opening(worst_reply),
        MetricEvidence(
            metric="reply_gap_minutes",
            value=round(worst, 1),
            threshold=limit,
            bound="max",
            channel=case.ticket.channel,
        ),
    ]
    if worst > limit:
        return Outcome("failed", f"the customer waited {worst:.0f} minutes for a reply", evidence)
    return Outcome("passed", f"the longest wait for a reply was {worst:.0f} minutes", evidence)
