"""The minimal scorer: metric and phrase checks with verbatim evidence; stop rules; redaction."""

from __future__ import annotations

import pytest

from domain.assessment import MessageEvidence
from domain.definitions import InternalNoteCheck, MetricCheck, PhrasesCheck
from opportunities.catalog import load_catalog
from redaction import redact
from rubrics.case import Case
from rubrics.checks import run_check
from rubrics.scoring import EvidenceMismatch, draft, verify_evidence
from tests.drafting import case_for
from tests.factories import make_event


def _case(**overrides) -> Case:
    return case_for(make_event(**overrides), load_catalog())


def _assert_verbatim(case: Case, evidence) -> None:
    bodies = {m.id: m.body for m in case.ticket.messages}
    for item in evidence:
        if isinstance(item, MessageEvidence):
            assert bodies[item.message_id][item.start : item.end] == item.quote


@pytest.mark.parametrize(
    ("channel", "minutes", "status"),
    [
        ("email", 312, "failed"),
        ("email", 200, "passed"),
        ("chat", 4, "passed"),
        ("chat", 6, "failed"),
        ("sms", 5, "not_applicable"),
    ],
)
def test_metric_thresholds_per_channel(channel, minutes, status):
    check = MetricCheck(
        kind="metric", metric="first_response_minutes", max={"email": 240, "chat": 5}
    )
    outcome = run_check(
        check,
        _case(**{"ticket.channel": channel, "ticket.metrics.first_response_minutes": minutes}),
    )
    assert outcome.status == status
    if status != "not_applicable":
        assert outcome.evidence[0].value == minutes


def test_a_missing_metric_is_not_scored_never_guessed():
    check = MetricCheck(kind="metric", metric="first_response_minutes", max=240)
    case = _case(**{"ticket.metrics.first_response_minutes": None})
    outcome = run_check(check, case)
    assert outcome.status == "not_scored" and outcome.confidence == 0


def test_phrases_match_case_insensitively_on_word_boundaries_with_verbatim_quotes():
    check = PhrasesCheck(kind="phrases", any=["SORRY TO HEAR", "apologi*"])
    case = _case()
    outcome = run_check(check, case)
    assert outcome.status == "passed"
    assert "sorry to hear" in outcome.evidence[0].quote
    _assert_verbatim(case, outcome.evidence)
    boundary = PhrasesCheck(kind="phrases", any=["hear th"])
    assert run_check(boundary, case).status == "failed"


def test_forbidden_wording_fails_with_the_sentence_that_used_it():
    body = "Thanks for waiting. As I already said, you should have read the FAQ. Bye."
    case = _case(
        **{
            "ticket.messages": [
                {"id": "m1", "author": {"id": "a-17", "role": "agent"}, "body": body}
            ]
        }
    )
    outcome = run_check(PhrasesCheck(kind="phrases", none=["as I already said"]), case)
    assert outcome.status == "failed"
    assert outcome.evidence[0].quote == "As I already said, you should have read the FAQ."
    _assert_verbatim(case, outcome.evidence)


def test_a_missing_phrase_cites_a_readable_opening_of_the_reply():
    body = (
        "Hello,\nThe export limit is 10,000 rows per file. Split the report by month and "
        "it will go through. Regards"
    )
    case = _case(
        **{
            "ticket.messages": [
                {"id": "m1", "author": {"id": "a-17", "role": "agent"}, "body": body}
            ]
        }
    )
    outcome = run_check(PhrasesCheck(kind="phrases", any=["sorry"]), case)
    assert outcome.status == "failed"
    assert outcome.evidence[0].quote.startswith("Hello,\nThe export limit")
    _assert_verbatim(case, outcome.evidence)


def test_internal_note_needs_enough_words():
    short = {
        "id": "n1",
        "author": {"id": "a-17", "role": "agent"},
        "public": False,
        "body": "passing this on",
    }
    long = {**short, "id": "n2", "body": " ".join(["context"] * 20)}
    check = InternalNoteCheck(kind="internal_note", min_words=15)
    assert run_check(check, _case(**{"ticket.messages": [short]})).status == "failed"
    assert run_check(check, _case(**{"ticket.messages": [short, long]})).status == "passed"
    assert run_check(check, _case(**{"ticket.messages": []})).status == "failed"


def test_draft_scores_weights_and_separates_causes(catalog):
    rubric = catalog.rubrics["support-core@2"]
    case = _case(**{"ticket.queue_backlog_per_agent": 40})
    result = draft(rubric, case)
    by_id = {r.criterion_id: r for r in result.results}
    assert by_id["first_response_sla"].status == "failed"
    assert by_id["first_response_sla"].cause == "staffing"
    assert by_id["empathy"].status == "passed"
    assert by_id["handoff_note"].status == "not_applicable"
    assert result.max_score == sum(r.max_score for r in result.results)
    assert "process_issue" in result.flags
    for r in result.results:
        _assert_verbatim(case, r.evidence)


def test_a_ticket_without_a_thread_is_stopped_with_the_reason(catalog):
    result = draft(catalog.rubrics["support-core@2"], _case(**{"ticket.messages": []}))
    assert result.status == "stopped"
    assert result.stop_reason == "evidence missing: the ticket has no conversation thread"


def test_a_quote_that_is_not_verbatim_is_rejected(catalog):
    case = _case()
    result = draft(catalog.rubrics["support-core@2"], case)
    forged = [
        r.model_copy(
            update={
                "evidence": [
                    MessageEvidence(message_id="m2", quote="you are fired", start=0, end=13)
                ]
            }
        )
        for r in result.results[:1]
    ]
    with pytest.raises(EvidenceMismatch):
        verify_evidence(forged, case)


def test_customer_pii_never_reaches_the_drafted_quotes(catalog):
    case = _case()
    result = draft(catalog.rubrics["support-core@2"], case)
    quotes = " ".join(
        e.quote for r in result.results for e in r.evidence if isinstance(e, MessageEvidence)
    )
    assert "Maria" not in quotes and "maria@example.org" not in quotes
    assert "[CUSTOMER_NAME]" in quotes and "[EMAIL]" in quotes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to maria.lopez+x@example.co.uk today", "write to [EMAIL] today"),
        ("call +44 20 7946 0958 or (415) 555-0199", "call [PHONE] or [PHONE]"),
        ("card 4111 1111 1111 1111 expires", "card [CARD] expires"),
        ("order 4111 1111 1111 1112 is not a card", "order 4111 1111 1111 1112 is not a card"),
        ("Hi Maria, thanks Maria Lopez", "Hi [CUSTOMER_NAME], thanks [CUSTOMER_NAME]"),
        ("Dana from support", "Dana from support"),
    ],
)
def test_basic_redaction(text, expected):
    assert redact(text, names=["Maria Lopez"]) == expected
