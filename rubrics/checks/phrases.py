"""`phrases`: expected (`any`) or forbidden (`none`) wording in a set of messages.

Matching is case-insensitive on word boundaries; a trailing `*` matches a prefix
(`apologi*` finds "apologise" and "apologize"), and straight and curly apostrophes match
each other.
"""

from __future__ import annotations

import re
from functools import lru_cache

from domain.definitions import PhrasesCheck
from domain.events import Message
from rubrics.case import Case
from rubrics.checks.base import Outcome, excerpt, opening

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


def _find(pattern: re.Pattern[str], messages: list[Message]) -> list:
    found = []
    for message in messages:
        for m in pattern.finditer(message.body):
            found.append(excerpt(message, m.start(), m.end()))
            if len(found) >= MAX_EXCERPTS:
                return found
    return found


def check_phrases(spec: PhrasesCheck, case: Case) -> Outcome:
    messages = case.messages(spec.in_)
    if not messages:
        return Outcome("not_scored", f"no messages of kind {spec.in_} to check", confidence=0.0)
    if spec.none:
        hits = _find(phrase_pattern(tuple(spec.none)), messages)
        if hits:
            return Outcome("failed", "uses wording the rubric rules out", hits)
    if spec.any:
        hits = _find(phrase_pattern(tuple(spec.any)), messages)
        if not hits:
            return Outcome("failed", "none of the expected wording appears", [opening(messages[0])])
        return Outcome("passed", "uses the expected wording", hits)
    return Outcome("passed", "none of the ruled-out wording appears", [opening(messages[0])])
