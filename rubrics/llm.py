"""The pure half of the optional language-model scorer: prompt, and checking its answer.

The model sees only the redacted thread. Its answer must be JSON of a fixed shape, and
every quote it gives must be verbatim in the message it names; otherwise the criterion is
not scored.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.assessment import MessageEvidence
from domain.definitions import Criterion, LlmCheck
from rubrics.case import Case
from rubrics.checks.base import Outcome, snap

SYSTEM = (
    "You are a support quality reviewer. You judge one criterion of an approved rubric "
    "against a support conversation. Personal data has been replaced by placeholders such "
    "as [EMAIL]; keep them as they are. Answer with JSON only: "
    '{"status": "passed" | "failed" | "not_applicable", "explanation": "one sentence", '
    '"quotes": [{"message_id": "...", "quote": "exact text copied from that message"}]}. '
    "Every passed or failed verdict needs at least one quote copied character for character."
)


class LlmQuote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: str
    quote: str = Field(min_length=1, max_length=1000)


class LlmVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["passed", "failed", "not_applicable"]
    explanation: str = Field(min_length=1, max_length=2000)
    quotes: list[LlmQuote] = Field(default_factory=list, max_length=10)


def build_messages(criterion: Criterion, case: Case) -> list[dict[str, str]]:
    assert isinstance(criterion.check, LlmCheck)
    lines = []
    for m in case.ticket.messages:
        who = "agent under review" if m.author.id == case.trainee_id else m.author.role
        visibility = "public" if m.public else "internal note"
        lines.append(f"--- message {m.id} ({who}, {visibility})\n{m.body}")
    user = (
        f"Criterion: {criterion.name}\nQuestion: {criterion.check.question}\n\n"
        f"Conversation:\n" + "\n".join(lines)
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def verdict_outcome(raw: str, case: Case) -> Outcome:
    """Validate the model's answer; anything unverifiable is not scored."""
    try:
        verdict = LlmVerdict.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        return Outcome("not_scored", "the model's answer was not the required JSON", confidence=0.0)
    if verdict.status == "not_applicable":
        return Outcome("not_applicable", verdict.explanation)
    bodies = {m.id: m.body for m in case.ticket.messages}
    evidence = []
    for quote in verdict.quotes:
        body = bodies.get(quote.message_id, "")
        found = body.find(quote.quote)
        if found < 0:
            return Outcome(
                "not_scored",
                f"the model quoted text that is not in message {quote.message_id}",
                confidence=0.0,
            )
        start, end = snap(body, found, found + len(quote.quote))
        evidence.append(
            MessageEvidence(
                message_id=quote.message_id, quote=body[start:end], start=start, end=end
            )
        )
    if not evidence:
        return Outcome("not_scored", "the model gave no quote to back its verdict", confidence=0.0)
    return Outcome(verdict.status, verdict.explanation, evidence, confidence=0.7)
