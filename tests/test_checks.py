"""Each check kind on its own, on small hand-made threads."""

from __future__ import annotations

import pytest

from domain.definitions import (
    KbReferenceCheck,
    PolicyExceptionCheck,
    ReplyCountCheck,
    ReplyGapCheck,
    ResolutionConfirmedCheck,
    ToneCheck,
)
from opportunities.catalog import load_catalog
from rubrics.case import Case
from rubrics.checks import run_check
from tests.drafting import case_for
from tests.factories import make_event

AGENT = {"id": "a-17", "role": "agent"}
CUSTOMER = {"id": "c-9", "role": "customer"}


def _msg(i: int, author: dict, body: str, minute: int = 0, public: bool = True) -> dict:
    return {
        "id": f"m{i}",
        "author": author,
        "public": public,
        "body": body,
        "created_at": f"2026-11-18T{8 + minute // 60:02d}:{minute % 60:02d}:00Z",
    }


def _case(messages: list[dict], **overrides) -> Case:
    return case_for(make_event(**{"ticket.messages": messages, **overrides}), load_catalog())


def test_tone_fails_on_blaming_wording_and_quotes_it():
    case = _case(
        [
            _msg(1, CUSTOMER, "It broke again."),
            _msg(2, AGENT, "Hi. You should have updated the app first. It works now."),
        ]
    )
    outcome = run_check(ToneCheck(kind="tone"), case)
    assert outcome.status == "failed"
    assert outcome.evidence[0].quote == "You should have updated the app first."


def test_tone_takes_extra_wording_from_the_rubric():
    case = _case([_msg(1, AGENT, "Per policy, that is simply impossible.")])
    assert run_check(ToneCheck(kind="tone"), case).status == "passed"
    assert run_check(ToneCheck(kind="tone", extra=["simply impossible"]), case).status == "failed"


@pytest.mark.parametrize(
    ("notes", "status"),
    [([], "failed"), (["Refund of $40 approved by Priya (team lead)."], "passed")],
)
def test_a_promised_refund_needs_a_recorded_approval(notes, status):
    messages = [
        _msg(1, CUSTOMER, "I want my money back."),
        *[
            _msg(2 + i, {"id": "lead-1", "role": "agent"}, n, public=False)
            for i, n in enumerate(notes)
        ],
        _msg(9, AGENT, "I've gone ahead and refunded the $40 to your card."),
    ]
    outcome = run_check(PolicyExceptionCheck(kind="policy_exception"), _case(messages))
    assert outcome.status == status
    assert "refunded" in outcome.evidence[0].quote


def test_no_promise_passes_the_policy_check():
    outcome = run_check(
        PolicyExceptionCheck(kind="policy_exception"),
        _case([_msg(1, AGENT, "Refunds take 5 days to reach your bank.")]),
    )
    assert outcome.status == "passed"


@pytest.mark.parametrize(
    ("updated_at", "status"),
    [("2026-10-01T00:00:00Z", "passed"), ("2024-01-10T00:00:00Z", "failed"), (None, "not_scored")],
)
def test_kb_reference_is_present_and_current(updated_at, status):
    article = {"id": "kb-12", "title": "Refund timelines", "url": "https://help.example.com/kb/12"}
    if updated_at:
        article["updated_at"] = updated_at
    case = _case(
        [_msg(1, AGENT, "See https://help.example.com/kb/12 for the timeline.")],
        **{"ticket.kb_articles": [article]},
    )
    outcome = run_check(KbReferenceCheck(kind="kb_reference", max_age_days=180), case)
    assert outcome.status == status
    if status != "not_scored":
        assert outcome.evidence[0].quote.startswith("See https://help.example.com/kb/12")


def test_kb_reference_without_any_article_fails():
    outcome = run_check(KbReferenceCheck(kind="kb_reference"), _case([_msg(1, AGENT, "Done.")]))
    assert outcome.status == "failed"


@pytest.mark.parametrize(("replies", "status"), [(2, "passed"), (5, "failed")])
def test_reply_count(replies, status):
    messages = [_msg(i, AGENT, f"Update {i}.", minute=i) for i in range(replies)]
    outcome = run_check(ReplyCountCheck(kind="reply_count", max=3), _case(messages))
    assert outcome.status == status
    assert outcome.evidence[0].value == replies


@pytest.mark.parametrize(
    ("last_customer", "reopens", "status"),
    [
        ("Perfect, thanks, that fixed it!", 0, "passed"),
        ("It is still not working for me.", 0, "failed"),
        ("Thanks.", 2, "failed"),
        ("Thanks.", 0, "passed"),
    ],
)
def test_resolution_confirmed(last_customer, reopens, status):
    messages = [
        _msg(1, CUSTOMER, "Login fails."),
        _msg(2, AGENT, "I reset it.", 5),
        _msg(3, CUSTOMER, last_customer, 10),
    ]
    case = _case(messages, **{"ticket.metrics.reopens": reopens, "ticket.status": "solved"})
    assert run_check(ResolutionConfirmedCheck(kind="resolution_confirmed"), case).status == status


def test_resolution_is_not_scored_on_an_open_ticket():
    case = _case(
        [_msg(1, AGENT, "Looking.")], **{"ticket.status": "open", "ticket.metrics.reopens": None}
    )
    assert (
        run_check(ResolutionConfirmedCheck(kind="resolution_confirmed"), case).status
        == "not_scored"
    )


@pytest.mark.parametrize(("channel", "status"), [("email", "passed"), ("chat", "failed")])
def test_reply_gap_per_channel(channel, status):
    messages = [
        _msg(1, CUSTOMER, "Hello?"),
        _msg(2, AGENT, "I'm here, checking now.", 1),
        _msg(3, CUSTOMER, "It's order 7781.", 2),
        _msg(4, AGENT, "Found it.", 32),
    ]
    check = ReplyGapCheck(kind="reply_gap", max_minutes={"email": 1440, "chat": 10})
    outcome = run_check(check, _case(messages, **{"ticket.channel": channel}))
    assert outcome.status == status
    assert outcome.evidence[-1].value == 30


def test_reply_gap_leaves_the_first_reply_to_the_first_response_sla():
    messages = [_msg(1, CUSTOMER, "Hello?"), _msg(2, AGENT, "Sorry for the wait!", 300)]
    check = ReplyGapCheck(kind="reply_gap", max_minutes=10)
    assert (
        run_check(check, _case(messages, **{"ticket.channel": "chat"})).status == "not_applicable"
    )


def test_reply_gap_only_counts_the_agent_under_review():
    other = {"id": "a-99", "role": "agent"}
    messages = [
        _msg(1, CUSTOMER, "Hello?"),
        _msg(2, AGENT, "Looking now.", 1),
        _msg(3, CUSTOMER, "Any news?", 2),
        _msg(4, other, "Someone will help.", 300),
        _msg(5, CUSTOMER, "Still there?", 301),
        _msg(6, AGENT, "I've fixed it.", 305),
    ]
    check = ReplyGapCheck(kind="reply_gap", max_minutes=10)
    assert run_check(check, _case(messages, **{"ticket.channel": "chat"})).status == "passed"


@pytest.mark.parametrize(
    ("last", "opens"),
    [("ok, thanks!", False), ("thanks, it's order 77", True), ("Thanks - but why?", True)],
)
def test_a_closing_opens_no_wait_but_a_real_message_does(last, opens):
    messages = [
        _msg(1, CUSTOMER, "Hello?"),
        _msg(2, AGENT, "Looking now.", 1),
        _msg(3, CUSTOMER, last, 2),
    ]
    check = ReplyGapCheck(kind="reply_gap", max_minutes=10)
    case = _case(messages, **{"ticket.channel": "chat", "ticket.solved_at": "2026-11-18T10:00:00Z"})
    assert (run_check(check, case).status == "failed") is opens


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("I\u2019ll check", [(0, 4)]),
        ("We apologise", [(3, 10)]),
        ("sorry   to hear", [(0, 15)]),
        ("skill", []),
        ("Ill", []),
        ("\u0130stanbul is far", [(0, 8)]),
        ("x\u0130stanbul", []),
    ],
)
def test_phrase_matching_is_whole_word_case_and_apostrophe_insensitive(text, spans):
    from rubrics.checks.lexicon import lexicon

    found = lexicon(("I'll", "apologi*", "sorry to hear", "\u0130stanbul")).spans(text)
    assert list(found) == spans
