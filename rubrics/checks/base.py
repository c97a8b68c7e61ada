"""The outcome of one check, and verbatim excerpts cut from the case's messages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.assessment import CriterionStatus, Evidence, MessageEvidence
from domain.events import Message

EXCERPT_LIMIT = 240
_SENTENCE_END = re.compile(r"[.!?\n]")


@dataclass(frozen=True)
class Outcome:
    status: CriterionStatus
    explanation: str
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float = 1.0


def excerpt(message: Message, start: int, end: int) -> MessageEvidence:
    """The sentence around body[start:end], trimmed to a readable length, quoted verbatim."""
    body = message.body
    left = start
    while (
        left > 0 and not _SENTENCE_END.match(body[left - 1]) and start - left < EXCERPT_LIMIT // 2
    ):
        left -= 1
    right = end
    while right < len(body) and right - left < EXCERPT_LIMIT:
        right += 1
        if _SENTENCE_END.match(body[right - 1]):
            break
    while left < start and body[left].isspace():
        left += 1
    while right > end and body[right - 1].isspace():
        right -= 1
    return MessageEvidence(message_id=message.id, quote=body[left:right], start=left, end=right)


def opening(message: Message) -> MessageEvidence:
    """The start of a message, when the point is what the message lacks."""
    text = message.body
    start = len(text) - len(text.lstrip())
    return (
        excerpt(message, start, min(len(text), start + 1))
        if text.strip()
        else MessageEvidence(message_id=message.id, quote="", start=0, end=0)
    )
