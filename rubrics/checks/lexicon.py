"""Phrase matching shared by the checks: whole words, case-insensitive, `*` for a prefix.

Most phrases appear in no message, so a plain lower-case substring test runs first and the
word-boundary regex only where a phrase can match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from domain.assessment import MessageEvidence
from domain.events import Message
from rubrics.checks.base import excerpt

MAX_EXCERPTS = 3
APOSTROPHES = str.maketrans({"\u2019": "'"})


@dataclass(frozen=True)
class Lexicon:
    pattern: re.Pattern[str]
    needles: tuple[str, ...]

    def may_match(self, lowered: str) -> bool:
        return any(n in lowered for n in self.needles)


@lru_cache(maxsize=512)
def lexicon(phrases: tuple[str, ...]) -> Lexicon:
    parts, needles = [], []
    for phrase in phrases:
        prefix = phrase.endswith("*")
        core = phrase.rstrip("*").strip()
        body = re.escape(core).replace("'", "['\u2019]").replace(r"\ ", r"\s+")
        parts.append(r"(?<!\w)" + body + ("" if prefix else r"(?!\w)"))
        needles.append(max(core.lower().split(), key=len))
    return Lexicon(re.compile("|".join(parts), re.IGNORECASE), tuple(sorted(set(needles))))


def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return lexicon(phrases).pattern


@lru_cache(maxsize=4096)
def _lowered(body: str) -> str:
    return body.lower().translate(APOSTROPHES)


def find_phrases(
    phrases: tuple[str, ...], messages: list[Message], limit: int = MAX_EXCERPTS
) -> list[MessageEvidence]:
    """Excerpts of the sentences where any phrase occurs, in thread order."""
    compiled = lexicon(phrases)
    found = []
    for message in messages:
        if not compiled.may_match(_lowered(message.body)):
            continue
        for m in compiled.pattern.finditer(message.body):
            found.append(excerpt(message, m.start(), m.end()))
            if len(found) >= limit:
                return found
    return found
