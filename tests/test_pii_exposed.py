"""`pii_exposed`: the agent under review wrote a card, IBAN or id number in a public reply."""

from __future__ import annotations

from typing import Any

import pytest

from opportunities.catalog import Catalog
from tests.drafting import draft_event
from tests.factories import BASE, make_event

CARD = "4111 1111 1111 1111"
CUSTOMER, REPLY = BASE["ticket"]["messages"]


def _message(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def _draft(catalog: Catalog, *messages: dict[str, Any]):
    event = make_event(**{"ticket.messages": list(messages)})
    return draft_event(event, catalog, "low-csat")


def _reply_with(text: str) -> dict[str, Any]:
    return _message(REPLY, body=f"{REPLY['body']} {text}")


def test_the_clean_base_ticket_is_auto_eligible(catalog):
    drafted = _draft(catalog, CUSTOMER, REPLY)
    assert "pii_exposed" not in drafted.flags
    assert drafted.auto_eligible


@pytest.mark.parametrize(
    "text",
    [
        f"The refund went back to your card {CARD}.",
        "The refund went back to GB82 WEST 1234 5698 7654 32.",
        "I have verified you with your SSN 123-45-6789.",
    ],
    ids=["card", "iban", "id_number"],
)
def test_a_number_in_the_agents_public_reply_raises_the_flag(catalog, text):
    clean = _draft(catalog, CUSTOMER, REPLY)
    drafted = _draft(catalog, CUSTOMER, _reply_with(text))
    assert drafted.status == "awaiting_review", drafted.stop_reason
    assert "pii_exposed" in drafted.flags
    assert not drafted.auto_eligible
    assert drafted.priority > clean.priority


def test_the_raw_number_never_reaches_the_note_summary_or_quotes(catalog):
    drafted = _draft(catalog, CUSTOMER, _reply_with(f"The refund went back to your card {CARD}."))
    assert "pii_exposed" in drafted.qa_summary
    quotes = [e.quote for r in drafted.results for e in r.evidence if hasattr(e, "quote")]
    for text in (drafted.coaching_note, drafted.qa_summary, drafted.summary, *quotes):
        assert CARD not in text and "4111" not in text


def test_the_same_number_from_the_customer_raises_no_flag(catalog):
    customer = _message(CUSTOMER, body=f"{CUSTOMER['body']} My card is {CARD}.")
    drafted = _draft(catalog, customer, REPLY)
    assert "pii_exposed" not in drafted.flags
    assert drafted.auto_eligible


def test_the_same_number_in_the_agents_internal_note_raises_no_flag(catalog):
    note = _message(
        REPLY,
        id="m3",
        public=False,
        created_at="2026-11-18T13:20:00Z",
        body=f"Refund is going back to card {CARD}, billing has the details.",
    )
    drafted = _draft(catalog, CUSTOMER, REPLY, note)
    assert "pii_exposed" not in drafted.flags


def test_another_agents_public_reply_is_not_held_against_the_trainee(catalog):
    colleague = _message(
        REPLY,
        id="m3",
        author={"id": "a-99", "role": "agent"},
        created_at="2026-11-18T13:20:00Z",
        body=f"Adding to Dana's reply: the refund went to card {CARD}.",
    )
    drafted = _draft(catalog, CUSTOMER, REPLY, colleague)
    assert "pii_exposed" not in drafted.flags


def test_contact_details_the_agent_repeats_raise_no_flag(catalog):
    reply = _reply_with("I can also call you on +44 20 7946 0958 at 14 Harcourt Road.")
    drafted = _draft(catalog, CUSTOMER, reply)
    assert "pii_exposed" not in drafted.flags
