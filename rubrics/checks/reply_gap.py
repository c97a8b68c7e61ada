"""`reply_gap`: the longest the customer waited for the agent's next public reply.

Waits after the first reply only (the first one is the first-response SLA's), a short
"thanks!" opens no wait, and a question still unanswered when the ticket was solved counts
up to the moment it was solved.
"""

from __future__ import annotations

import re
from datetime import datetime

from domain.assessment import MetricEvidence
from domain.definitions import ReplyGapCheck
from domain.events import Message
from rubrics.case import Case
from rubrics.checks.base import Outcome, opening

CLOSING_CHARS = 80
CLOSING_WORDS = frozenset(
    {
        "thanks",
        "thank",
        "you",
        "cheers",
        "ok",
        "okay",
        "great",
        "perfect",
        "brilliant",
        "got",
        "it",
        "all",
        "good",
        "sorted",
        "so",
        "much",
        "very",
        "a",
        "lot",
        "lots",
        "again",
        "that's",
        "thats",
        "fine",
        "fab",
        "lovely",
        "awesome",
        "cool",
        "many",
        "ta",
        "bye",
        "have",
        "nice",
        "day",
        "will",
        "do",
        "appreciated",
        "appreciate",
        "really",
    }
)


def _limit(spec: ReplyGapCheck, channel: str | None) -> float | None:
    if isinstance(spec.max_minutes, dict):
        return spec.max_minutes.get(channel or "", spec.max_minutes.get("default"))
    return spec.max_minutes


def _opens_wait(message: Message) -> bool:
    """A customer's public message, unless it is nothing but a closing ("ok, thanks!")."""
    if message.author.role != "customer" or not message.public:
        return False
    if len(message.body) > CLOSING_CHARS:
        return True
    words = re.findall(r"[\w']+", message.body.lower().replace("\u2019", "'"))
    return not words or not set(words) <= CLOSING_WORDS or "?" in message.body


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def check_reply_gap(spec: ReplyGapCheck, case: Case) -> Outcome:
    limit = _limit(spec, case.ticket.channel)
    if limit is None:
        return Outcome("not_applicable", f"no reply-gap target for {case.ticket.channel}")
    if any(m.created_at is None for m in case.ticket.messages):
        return Outcome("not_scored", "messages have no timestamps", confidence=0.0)
    waiting: Message | None = None
    replied = False
    worst, cited = 0.0, None
    for message in case.ticket.messages:
        if waiting is None and _opens_wait(message):
            waiting = message
        elif message.author.role == "agent" and message.public:
            if waiting is not None and replied and message.author.id == case.trainee_id:
                gap = _minutes(waiting.created_at, message.created_at)
                if gap > worst:
                    worst, cited = gap, message
            replied, waiting = True, None
    ticket = case.ticket
    owner = ticket.agent is not None and ticket.agent.id == case.trainee_id
    if waiting is not None and replied and owner and ticket.solved_at:
        gap = _minutes(waiting.created_at, ticket.solved_at)
        if gap > worst:
            worst, cited = gap, waiting
    if cited is None:
        return Outcome(
            "not_applicable", "the customer was never left waiting after the first reply"
        )
    unanswered = cited.author.role == "customer"
    evidence = [
        opening(cited),
        MetricEvidence(
            metric="reply_gap_minutes",
            value=round(worst, 1),
            threshold=limit,
            bound="max",
            channel=ticket.channel,
        ),
    ]
    what = (
        "a message that was never answered before the ticket was solved"
        if unanswered
        else "a reply"
    )
    if worst > limit:
        return Outcome("failed", f"the customer waited {worst:.0f} minutes for {what}", evidence)
    return Outcome("passed", f"the longest wait for a reply was {worst:.0f} minutes", evidence)
