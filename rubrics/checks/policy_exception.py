"""`policy_exception`: a refund, credit or exception promised without a recorded approval.

Promises are read sentence by sentence (`rubrics.meaning.acts.PROMISES`, negation scoped to
its clause), or from the rubric's own `promises` phrases when it lists them.

A failure raises the `policy_exception` flag: it always goes to a lead, never anywhere
automatic.
"""

from __future__ import annotations

from domain.assessment import MessageEvidence
from domain.definitions import PolicyExceptionCheck
from domain.events import Message
from rubrics.case import Case
from rubrics.checks.base import Outcome, opening
from rubrics.checks.lexicon import find_phrases
from rubrics.meaning.acts import ACTS, RARE
from rubrics.meaning.find import find_sentences

APPROVALS = (
    "approved by",
    "lead approved",
    "manager approved",
    "approval from",
    "exception approved",
    "signed off by",
    "approved the exception",
    "approved the refund",
    "approved the credit",
)


def _approved_in_time(
    notes: list[Message], promised: Message, approvals: tuple[str, ...]
) -> list[MessageEvidence]:
    """Approvals recorded before the promise (or undated), by anyone writing internally."""
    timely = [
        n
        for n in notes
        if n.created_at is None
        or promised.created_at is None
        or n.created_at <= promised.created_at
    ]
    return find_phrases(approvals, timely, limit=1, skip_negated=True)


def check_policy_exception(spec: PolicyExceptionCheck, case: Case) -> Outcome:
    replies = case.messages("agent_public")
    if not replies:
        return Outcome("not_scored", "the agent sent no public reply", confidence=0.0)
    if spec.promises:
        promises = find_phrases(tuple(spec.promises), replies, skip_negated=True)
    else:
        promising = ACTS["exception_promise"]
        promises = find_sentences(
            replies, lambda s: promising(s.text), holds=RARE["exception_promise"]
        )
    if not promises:
        return Outcome(
            "passed",
            "no refund, credit or exception was promised",
            [opening(replies[0])],
            confidence=0.9,
        )
    by_id = {m.id: m for m in replies}
    first = by_id[promises[0].message_id]
    approvals = _approved_in_time(
        case.messages("internal"), first, tuple(spec.approvals) or APPROVALS
    )
    if approvals:
        return Outcome(
            "passed",
            "promised an exception that a recorded approval covers",
            promises + approvals,
            confidence=0.8,
        )
    return Outcome(
        "failed",
        "promised a refund, credit or exception without an approval recorded before it",
        promises,
        confidence=0.9,
    )
