"""The outcome of one check, and verbatim excerpts cut from the case's messages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.assessment import CriterionStatus, Evidence, MessageEvidence
from domain.events import Message

EXCERPT_LIMIT = 240
MIN_OPENING = 60
SENTENCE_MARKS = ".!?\n"
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
    floor = max(0, start - EXCERPT_LIMIT // 2)
    cut = max(body.rfind(mark, floor, start) for mark in SENTENCE_MARKS)
    left = cut + 1 if cut >= 0 else floor
    limit = min(len(body), left + EXCERPT_LIMIT)
    found = _SENTENCE_END.search(body, end, limit)
    right = found.end() if found else max(end, limit)
    while left < start and body[left].isspace():
        left += 1
    while right > end and body[right - 1].isspace():
        right -= 1
    return MessageEvidence(message_id=message.id, quote=body[left:right], start=left, end=right)


def opening(message: Message) -> MessageEvidence:
    """The start of a message, when the point is what the message lacks.

    Up to EXCERPT_LIMIT characters, cut at the last sentence end past the first
    MIN_OPENING characters, so a bare greeting is never the whole quote.
    """
    body = message.body
    start = len(body) - len(body.lstrip())
    limit = min(len(body), start + EXCERPT_LIMIT)
    end = limit
    if limit < len(body):
        cuts = [m.end() for m in _SENTENCE_END.finditer(body, start + MIN_OPENING, limit)]
        end = cuts[-1] if cuts else limit
    while end > start and body[end - 1].isspace():
        end -= 1
    return MessageEvidence(message_id=message.id, quote=body[start:end], start=start, end=end)
