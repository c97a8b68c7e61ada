"""`tone`: hostile, blaming or lecturing wording in the agent's public replies, sentence by
sentence (`rubrics.meaning.acts.BLAME`), plus the rubric's own `extra` phrases. A negation in
the same clause clears it ("this is not your fault"), and so does a neutral use ("you should
have received an email")."""

from __future__ import annotations

from domain.definitions import ToneCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome, opening
from rubrics.checks.lexicon import find_phrases
from rubrics.meaning.acts import ACTS, RARE
from rubrics.meaning.find import find_sentences


def check_tone(spec: ToneCheck, case: Case) -> Outcome:
    replies = case.messages("agent_public")
    if not replies:
        return Outcome("not_scored", "the agent sent no public reply", confidence=0.0)
    blames = ACTS["blame"]
    hits = find_sentences(replies, lambda s: blames(s.text), holds=RARE["blame"])
    if spec.extra:
        hits += find_phrases(tuple(spec.extra), replies, skip_negated=True)
    if hits:
        return Outcome("failed", "hostile or blaming wording", hits, confidence=0.9)
    return Outcome("passed", "neutral wording throughout", [opening(replies[0])], confidence=0.9)
