"""The outcome of one check, and verbatim excerpts cut from the case's messages.

An excerpt's edges never fall inside a word or a redaction placeholder such as
`[CUSTOMER_NAME]`: a cut widens to the whole run of text between spaces, or, when that run is
longer than REACH, to the whole word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.assessment import CriterionStatus, Evidence, MessageEvidence
from domain.events import Message

EXCERPT_LIMIT = 240
MIN_OPENING = 60
SENTENCE_MARKS = ".!?\n"
_SENTENCE_END = re.compile(r"[.!?\n]")
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]{0,30}\]")
REACH = 48


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
    left, right = snap(body, left, right)
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
        end = snap(body, start, cuts[-1] if cuts else limit)[1]
    while end > start and body[end - 1].isspace():
        end -= 1
    return MessageEvidence(message_id=message.id, quote=body[start:end], start=start, end=end)


def snap(body: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to whole words and placeholders, never past the message."""
    return _edge(body, start, -1), _edge(body, end, 1)


def _spaced(a: str, b: str) -> bool:
    return a.isspace() or b.isspace()


def _unworded(a: str, b: str) -> bool:
    return not (a.isalnum() or a == "_") or not (b.isalnum() or b == "_")


def _edge(body: str, at: int, step: int) -> int:
    for apart in (_spaced, _unworded):
        moved = _walk(body, at, step, apart)
        if moved is not None:
            return _outside_placeholder(body, moved, step)
    return _outside_placeholder(body, at, step)


def _walk(body: str, at: int, step: int, apart: Callable[[str, str], bool]) -> int | None:
    """The nearest offset from `at`, going `step`, that `apart` says lies between two units."""
    for _ in range(REACH + 1):
        if at <= 0 or at >= len(body) or apart(body[at - 1], body[at]):
            return at
        at += step
    return None


def _outside_placeholder(body: str, at: int, step: int) -> int:
    window = PLACEHOLDER.finditer(body, max(0, at - REACH), min(len(body), at + REACH))
    for found in window:
        if found.start() < at < found.end():
            return found.start() if step < 0 else found.end()
    return at
