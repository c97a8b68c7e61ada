"""Phrase matching shared by the checks: whole words, case-insensitive, `*` for a prefix.

Speed matters here (every check runs over every message), so matching runs on a cached
lower-case copy of each message with a plain case-sensitive pattern, and the left word
boundary is checked in Python: a lookbehind in front of every alternative makes Python's
regex engine try each alternative at each position, about fourteen times slower. Before
that, a substring test skips messages where no phrase can occur.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from domain.assessment import MessageEvidence
from domain.events import Message
from rubrics.checks.base import excerpt
from rubrics.meaning.sentences import clause_before

MAX_EXCERPTS = 3
APOSTROPHES = str.maketrans({"\u2019": "'"})
NEGATION = re.compile(
    r"(?<!\w)(not|never|no|unable|cannot|can't|won't|isn't|wasn't|don't|didn't|doesn't|"
    r"couldn't|wouldn't|without|neither|nor)(?!\w)"
)
NEGATION_WINDOW = 60


def negated(body: str, start: int) -> bool:
    """A negation earlier in the same clause, close before `start`: in "No problem, as an
    exception I will refund" the "No" governs only its own clause."""
    window = _lowered(body)[max(0, start - NEGATION_WINDOW) : start]
    for mark in ".!?\n":
        window = window.rpartition(mark)[2]
    return bool(NEGATION.search(clause_before(window, len(window))))


@dataclass(frozen=True)
class Lexicon:
    lowered: re.Pattern[str]
    any_case: re.Pattern[str]
    needles: tuple[str, ...]

    def spans(self, body: str) -> Iterator[tuple[int, int]]:
        lowered = _lowered(body)
        if not any(n in lowered for n in self.needles):
            return
        if len(lowered) != len(body):
            for m in self.any_case.finditer(body):
                yield m.start(), m.end()
            return
        pos = 0
        while match := self.lowered.search(lowered, pos):
            start = match.start()
            before = lowered[start - 1] if start else " "
            if before.isalnum() or before == "_":
                pos = start + 1
                continue
            yield start, match.end()
            pos = match.end()


def _alternative(core: str, prefix: bool) -> str:
    body = re.escape(core).replace(r"\ ", r"\s+")
    return body + ("" if prefix else r"(?!\w)")


@lru_cache(maxsize=512)
def lexicon(phrases: tuple[str, ...]) -> Lexicon:
    lowered, any_case, needles = [], [], []
    for phrase in phrases:
        prefix = phrase.endswith("*")
        core = phrase.rstrip("*").strip().translate(APOSTROPHES)
        lowered.append(_alternative(core.lower(), prefix))
        any_case.append(_alternative(core, prefix).replace("'", "['\u2019]"))
        needles.append(max(core.lower().split(), key=len))
    return Lexicon(
        lowered=re.compile("(?:" + "|".join(lowered) + ")"),
        any_case=re.compile(r"(?<!\w)(?:" + "|".join(any_case) + ")", re.IGNORECASE),
        needles=tuple(sorted(set(needles))),
    )


@lru_cache(maxsize=4096)
def _lowered(body: str) -> str:
    return body.lower().replace("\u2019", "'")


def find_phrases(
    phrases: tuple[str, ...],
    messages: list[Message],
    limit: int = MAX_EXCERPTS,
    skip_negated: bool = False,
) -> list[MessageEvidence]:
    """Excerpts of the sentences where any phrase occurs, in thread order. With
    `skip_negated`, "I can't offer a refund" does not count as offering one."""
    compiled = lexicon(phrases)
    found = []
    for message in messages:
        for start, end in compiled.spans(message.body):
            if skip_negated and negated(message.body, start):
                continue
            found.append(excerpt(message, start, end))
            if len(found) >= limit:
                return found
    return found
