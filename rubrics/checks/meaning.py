"""`meaning`: what the agent's replies do, judged sentence by sentence (see rubrics/meaning).

`judge` names the act the criterion asks for: `acknowledgement` (the customer's situation is
recognised; not applicable when it is missing and the customer reported no problem, difficulty or
feeling),
`next_step` (a commitment, an instruction, a link to the step, a request for the
details needed, or a handover that says what happens next) or `greeting_closing`. The rubric's
`passing` and `failing` example sentences extend and veto the built-in reading.
"""

from __future__ import annotations

from domain.assessment import MessageEvidence
from domain.definitions import MeaningCheck
from domain.events import Message
from rubrics.case import Case
from rubrics.checks.base import Outcome, opening
from rubrics.meaning.acts import ACTS, THANKS
from rubrics.meaning.examples import close_to
from rubrics.meaning.find import find_sentences
from rubrics.meaning.sentences import Sentence, sentences

ABSENCE_CONFIDENCE = 0.8
PRESENCE_CONFIDENCE = 0.9
FOUND = {
    "acknowledgement": "acknowledges the customer's situation",
    "next_step": "sets a next step",
    "greeting_closing": "greets or closes the conversation",
}
MISSING = {
    "acknowledgement": "never acknowledges the customer's situation",
    "next_step": "leaves the customer without a next step",
    "greeting_closing": "neither greets nor closes the conversation",
}


def acting_sentences(spec: MeaningCheck, messages: list[Message]) -> list[MessageEvidence]:
    act = ACTS[spec.judge]
    passing, failing = tuple(spec.passing), tuple(spec.failing)

    def wanted(s: Sentence) -> bool:
        if failing and close_to(s.text, failing):
            return False
        if spec.judge == "greeting_closing" and s.closing and THANKS.search(s.text):
            return True
        return act(s.text) or bool(passing and close_to(s.text, passing))

    return find_sentences(messages, wanted, limit=1)


def _nothing_to_acknowledge(case: Case) -> bool:
    """The customer only asked: a question, with no sign of a problem anywhere."""
    reports = ACTS["reports_problem"]
    said = [s.text for m in case.messages("customer") for s in sentences(m.body)]
    return any("?" in text for text in said) and not any(reports(text) for text in said)


def check_meaning(spec: MeaningCheck, case: Case) -> Outcome:
    messages = case.messages(spec.in_)
    if not messages:
        return Outcome("not_scored", f"no messages of kind {spec.in_} to check", confidence=0.0)
    found = acting_sentences(spec, messages)
    if found:
        return Outcome("passed", FOUND[spec.judge], found, confidence=PRESENCE_CONFIDENCE)
    if spec.judge == "acknowledgement" and _nothing_to_acknowledge(case):
        return Outcome(
            "not_applicable", "the customer reported no problem or feeling to acknowledge"
        )
    return Outcome(
        "failed", MISSING[spec.judge], [opening(messages[-1])], confidence=ABSENCE_CONFIDENCE
    )
