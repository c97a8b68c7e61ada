"""Quotes a lead reads: verbatim, and never starting or ending inside a word or a redaction
placeholder, wherever the excerpt window falls."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.assessment import MessageEvidence
from domain.definitions import PhrasesCheck
from domain.events import Author, Message
from redaction.spans import PRIORITY
from rubrics.case import Case
from rubrics.checks import run_check
from rubrics.checks.base import EXCERPT_LIMIT, excerpt, opening
from rubrics.llm import verdict_outcome
from tests.factories import make_event

PLACEHOLDERS = re.compile("|".join(re.escape(label) for label in PRIORITY))
HALF = EXCERPT_LIMIT // 2


def _message(body: str) -> Message:
    return Message(id="m2", author=Author(id="a-1", role="agent"), body=body)


def _case(body: str) -> Case:
    ticket = make_event().ticket.model_copy(update={"messages": [_message(body)]})
    return Case(ticket=ticket, event_type="csat.received", trainee_id="a-1")


def _filler(n: int) -> str:
    """`n` characters of words with no sentence mark, so only the window bounds a quote."""
    words = ("please", "check", "the", "account", "settings", "again", "today")
    out = ""
    i = 0
    while len(out) < n:
        out += words[i % len(words)] + " "
        i += 1
    return out[:n]


def _inside_word(body: str, at: int) -> bool:
    def word(c: str) -> bool:
        return c.isalnum() or c == "_"

    return 0 < at < len(body) and word(body[at - 1]) and word(body[at])


def _inside_placeholder(body: str, at: int) -> bool:
    return any(m.start() < at < m.end() for m in PLACEHOLDERS.finditer(body))


def _assert_clean(body: str, item: MessageEvidence) -> None:
    assert body[item.start : item.end] == item.quote
    for at in (item.start, item.end):
        assert not _inside_word(body, at), (at, item.quote)
        assert not _inside_placeholder(body, at), (at, item.quote)


def _straddled_left() -> tuple[str, int]:
    """A reply whose excerpt window opens five characters into `[CUSTOMER_NAME]`, and where
    the quoted phrase starts."""
    head = _filler(40) + " Hi "
    start = len(head) + 5 + HALF
    body = head + "[CUSTOMER_NAME] " + _filler(start - len(head) - 16)
    return body + "submit a request with your account.", start


def test_a_placeholder_straddling_the_left_edge_of_the_window_is_quoted_whole():
    body, start = _straddled_left()
    assert body[start - HALF : start - HALF + 10] == "OMER_NAME]"
    item = excerpt(_message(body), start, start + len("submit a request"))
    assert item.quote.startswith("[CUSTOMER_NAME] ")
    _assert_clean(body, item)


def test_a_placeholder_straddling_the_right_edge_of_the_window_is_quoted_whole():
    # No sentence mark in the window: it closes EXCERPT_LIMIT characters in, inside [EMAIL].
    body = _filler(EXCERPT_LIMIT - 4) + "[EMAIL] today. Thanks."
    item = excerpt(_message(body), 7, 12)
    assert item.start == 0 and item.quote.endswith("[EMAIL]")
    _assert_clean(body, item)


def test_a_word_straddling_either_edge_of_the_window_is_quoted_whole():
    body = _filler(300) + "refund " + _filler(300)
    start = body.index("refund")
    for at in (start - HALF, start - HALF + EXCERPT_LIMIT):
        assert body[at - 1].isalpha() and body[at].isalpha(), "the window cuts a word"
    item = excerpt(_message(body), start, start + len("refund"))
    assert "refund" in item.quote and len(item.quote) >= EXCERPT_LIMIT
    _assert_clean(body, item)


def test_the_opening_of_a_long_message_ends_after_a_whole_placeholder():
    body = "Hello, " + _filler(EXCERPT_LIMIT - 10) + "[CUSTOMER_NAME] will call back soon."
    cut = EXCERPT_LIMIT
    assert body.index("[CUSTOMER_NAME]") < cut < body.index("[CUSTOMER_NAME]") + 15
    item = opening(_message(body))
    assert item.quote.endswith("[CUSTOMER_NAME]")
    _assert_clean(body, item)


def test_a_phrase_check_on_a_redacted_reply_quotes_from_the_placeholder():
    body, _ = _straddled_left()
    outcome = run_check(
        PhrasesCheck(kind="phrases", in_="agent_public", any=["submit a request"]), _case(body)
    )
    (item,) = outcome.evidence
    assert item.quote.startswith("[CUSTOMER_NAME] please check")
    _assert_clean(body, item)


def test_a_model_quote_cut_inside_a_placeholder_is_widened_to_it():
    body = "Hi [CUSTOMER_NAME] Please submit a request with your account id."
    case = _case(body)
    cut = "OMER_NAME] Please submit a request with your accou"
    raw = json.dumps(
        {"status": "passed", "explanation": "x", "quotes": [{"message_id": "m2", "quote": cut}]}
    )
    (item,) = verdict_outcome(raw, case).evidence
    assert item.quote == "[CUSTOMER_NAME] Please submit a request with your account"
    _assert_clean(body, item)


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", min_size=1, max_size=12)
TOKENS = st.one_of(
    WORDS,
    WORDS,
    st.sampled_from(PRIORITY),
    st.sampled_from(("don't", "3.8.1", "e-mail", "(see", "it.", "https://help.example.com/kb/12")),
    st.lists(st.one_of(WORDS, st.sampled_from(PRIORITY)), min_size=4, max_size=12).map("/".join),
)
GLUE = st.sampled_from((" ", " ", " ", "\n", ", ", ". ", "! ", "  ", "", "-"))


@st.composite
def bodies(draw) -> str:
    parts = draw(st.lists(st.tuples(TOKENS, GLUE), min_size=1, max_size=120))
    return "".join(token + glue for token, glue in parts)


@settings(max_examples=400, deadline=None)
@given(body=bodies(), data=st.data())
def test_no_quote_starts_or_ends_inside_a_word_or_placeholder(body, data):
    message = _message(body)
    body = message.body
    start = data.draw(st.integers(0, len(body) - 1))
    end = data.draw(st.integers(start + 1, min(len(body), start + 40)))
    item = excerpt(message, start, end)
    _assert_clean(body, item)
    assert item.start <= start and item.end >= end
    _assert_clean(body, opening(message))
