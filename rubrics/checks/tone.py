"""`tone`: hostile or blaming wording in the agent's public replies."""

from __future__ import annotations

from domain.definitions import ToneCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome, opening
from rubrics.checks.lexicon import find_phrases

HOSTILE = (
    "you should have",
    "you should've",
    "calm down",
    "as I already said",
    "as I said before",
    "I already told you",
    "I already explained",
    "not our problem",
    "not my problem",
    "not our fault",
    "your fault",
    "you failed to",
    "you didn't read",
    "you did not read",
    "you need to read",
    "read the manual",
    "obviously",
    "clearly you",
    "you people",
    "stop complaining",
    "whatever you",
    "per my last",
    "that's on you",
    "user error",
    "nothing we can do",
    "deal with it",
)


def check_tone(spec: ToneCheck, case: Case) -> Outcome:
    replies = case.messages("agent_public")
    if not replies:
        return Outcome("not_scored", "the agent sent no public reply", confidence=0.0)
    hits = find_phrases(HOSTILE + tuple(spec.extra), replies)
    if hits:
        return Outcome("failed", "hostile or blaming wording", hits, confidence=0.9)
    return Outcome("passed", "neutral wording throughout", [opening(replies[0])], confidence=0.9)
