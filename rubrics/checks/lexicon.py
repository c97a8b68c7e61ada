"""Phrase matching shared by the checks: whole words, case-insensitive, `*` for a prefix."""

from __future__ import annotations

import re
from functools import lru_cache

from domain.assessment import MessageEvidence
from domain.events import Message
from rubrics.checks.base import excerpt

MAX_EXCERPTS = 3


@lru_cache(maxsize=512)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    parts = []
    for phrase in phrases:
        prefix = phrase.endswith("*")
        body = re.escape(phrase.rstrip("*").strip())
        body = body.replace("'", "['\u2019]").replace(r"\ ", r"\s+")
        parts.append(r"(?<!\w)" + body + ("" if prefix else r"(?!\w)"))
    return re.compile("|".join(parts), re.IGNORECASE)


def find_phrases(
    phrases: tuple[str, ...], messages: list[Message], limit: int = MAX_EXCERPTS
) -> list[MessageEvidence]:
    """Excerpts of the sentences where any phrase occurs, in thread order."""
    pattern = phrase_pattern(phrases)
    found = []
    for message in messages:
        for m in pattern.finditer(message.body):
            found.append(excerpt(message, m.start(), m.end()))
            if len(found) >= limit:
                return found
    return found
