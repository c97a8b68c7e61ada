"""Text criteria that judge meaning: what each sentence of a reply does, with negation scoped to
its clause, and the rubric's own example sentences. Each case is a failure class a phrase list
got wrong on real conversations."""

from __future__ import annotations

import pytest

from domain.definitions import MeaningCheck, PolicyExceptionCheck, ToneCheck
from opportunities.catalog import load_catalog
from rubrics.case import Case
from rubrics.checks import run_check
from rubrics.meaning.sentences import negated, sentences
from tests.drafting import case_for, draft_event
from tests.factories import make_event

AGENT = {"id": "a-17", "role": "agent"}
CUSTOMER = {"id": "c-9", "role": "customer"}
PROBLEM = "My export keeps failing with an error since this morning."


def _case(reply: str, customer: str = PROBLEM) -> Case:
    messages = [
        {"id": "m1", "author": CUSTOMER, "body": customer},
        {"id": "m2", "author": AGENT, "body": reply},
    ]
    return case_for(make_event(**{"ticket.messages": messages}), load_catalog())


def _judge(judge: str, reply: str, customer: str = PROBLEM, **examples) -> str:
    spec = MeaningCheck(kind="meaning", judge=judge, **examples)
    return run_check(spec, _case(reply, customer)).status


@pytest.mark.parametrize(
    "reply",
    [
        "Please contact our phone support from the link below: https://example.com/help/phone",
        "DM us the serial number and we can take it from there.",
        "Step 3 of https://example.com/help/export-csv covers exactly this.",
        "Could you tell us which browser you are using?",
        "Our billing team will email you the corrected invoice by Friday.",
        "I've passed this to engineering, who will update the ticket tomorrow.",
        "Try clearing the cache, then sign in again.",
    ],
)
def test_a_next_step_needs_no_first_person_promise(reply):
    assert _judge("next_step", reply) == "passed"


@pytest.mark.parametrize(
    "reply",
    [
        "Let us know if you need anything else!",
        "Please contact us again if the numbers still look wrong after the next invoice.",
        "Seats are billed on the highest number of active users in the month.",
        "For technical help, please visit our help site https://example.com",
        "We don't have any more information to share: https://example.com/status",
    ],
)
def test_a_closing_or_an_explanation_is_no_next_step(reply):
    assert _judge("next_step", reply) == "failed"


@pytest.mark.parametrize(
    "reply",
    [
        "Sorry to hear the export keeps failing. Try the steps here.",
        "Thanks for flagging this, it helps us fix it.",
        "That sounds really frustrating. Here is what to do.",
        "Oh no! Let's get that export working again.",
        "We get where you're coming from. Here is the policy.",
    ],
)
def test_acknowledgement_can_be_thanks_or_naming_the_problem(reply):
    assert _judge("acknowledgement", reply) == "passed"


def test_no_acknowledgement_fails_when_there_was_a_problem():
    assert _judge("acknowledgement", "Use the export button on the report page.") == "failed"


def test_acknowledgement_is_not_applicable_to_a_plain_question():
    plain = "How do I add a colleague to my workspace?"
    assert _judge("acknowledgement", "Use Settings, then Members.", plain) == "not_applicable"
    assert _judge("acknowledgement", "Thanks for asking! Use Settings.", plain) == "passed"


def test_greeting_or_closing():
    assert _judge("greeting_closing", "Hi Sam, the export is fixed.") == "passed"
    assert _judge("greeting_closing", "The export is fixed. Hope this helps!") == "passed"
    assert _judge("greeting_closing", "Please let us know which browser you use.") == "failed"
    assert _judge("greeting_closing", "The export is fixed.") == "failed"


def test_example_sentences_extend_and_veto_the_built_in_reading():
    reply = "Our status page shows the fix rolling out tonight."
    assert _judge("next_step", reply) == "failed"
    passing = ["The status page shows the fix rolling out tonight."]
    assert _judge("next_step", reply, passing=passing) == "passed"
    reply = "Please let us know if you have other questions about this."
    vetoed = ["Please let us know if you have other questions about it."]
    assert _judge("greeting_closing", reply) == "passed"
    assert _judge("greeting_closing", reply, failing=vetoed) == "failed"


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        ("No problem, as an exception I will refund the annual fee.", "failed"),
        ("No worries, I'll credit your account with one month.", "failed"),
        ("I'm not able to make an exception, but here is the refund policy.", "passed"),
        ("I can't refund this order; the refund form is here.", "passed"),
        ("I cannot do that, but I will refund the shipping.", "failed"),
    ],
)
def test_negation_governs_only_its_clause_for_exceptions(reply, status):
    spec = PolicyExceptionCheck(kind="policy_exception")
    assert run_check(spec, _case(reply)).status == status


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        ("You should have received an email with the appeal steps.", "passed"),
        ("This is not your fault, the export has a bug.", "passed"),
        ("You should have updated the app first.", "failed"),
        ("As I already explained, the export runs nightly.", "failed"),
    ],
)
def test_tone_reads_the_sentence_not_the_phrase(reply, status):
    assert run_check(ToneCheck(kind="tone"), _case(reply)).status == status


def test_sentences_keep_verbatim_offsets_and_links_do_not_split_them():
    body = "@sam Hi, see https://example.com/a.b/c Then restart. Done!"
    found = sentences(body)
    assert [body[s.start : s.end] for s in found] == [
        "@sam Hi, see https://example.com/a.b/c",
        "Then restart.",
        "Done!",
    ]
    assert found[0].text == "hi, see <link>"


def test_negation_is_scoped_to_its_clause():
    text = "no problem, as an exception i will refund"
    assert not negated(text, text.index("refund"))
    text = "i can't refund you"
    assert negated(text, text.index("refund"))


HOSTILE_BODIES = {
    "repeated lead-ins": "If so " * 2000 + "zzz",
    "dotted run": "a." * 20000,
    "links run": "www." * 10000,
    "one long link": "https://" + "a" * 90000,
    "many short sentences": "x. " * 30000,
    "repeated closings": "let us know if you need anything else " * 2000,
    "repeated negations": "not working, " * 5000,
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=list(HOSTILE_BODIES))
def test_a_hostile_message_drafts_in_bounded_time(body):
    """Every pattern runs in linear time: before, 110 characters of "If so " took seconds
    and a 40 KB dotted run took minutes, in the worker's event loop."""
    catalog = load_catalog()
    for messages in (
        [
            {"id": "m1", "author": CUSTOMER, "body": body},
            {"id": "m2", "author": AGENT, "body": "Ok."},
        ],
        [
            {"id": "m1", "author": CUSTOMER, "body": PROBLEM},
            {"id": "m2", "author": AGENT, "body": body},
        ],
    ):
        drafted = draft_event(make_event(**{"ticket.messages": messages}), catalog)
        assert drafted.results


def test_a_letter_whose_lower_case_is_longer_keeps_the_offsets():
    body = "İstanbul office is closed. Sorry about that!"
    found = sentences(body)
    assert [body[s.start : s.end] for s in found] == [
        "İstanbul office is closed.",
        "Sorry about that!",
    ]
    assert found[1].text == "sorry about that!"
