"""Drafting through Temporal and the store: repeat themes from history, sources for leads."""

from __future__ import annotations

from sqlalchemy import select

from store.models import CriterionResultRow, MessageRow
from tests.factories import make_event
from tests.helpers import assessment_of, until_drafted

CURT = "Refunds take ten days. Maria, the receipt went to maria@example.org."


def _curt_reply(ticket_id: str, event_id: str, when: str):
    return make_event(
        **{
            "ticket.id": ticket_id,
            "event_id": event_id,
            "occurred_at": when,
            "ticket.messages": [
                {
                    "id": "m1",
                    "author": {"id": "c-9", "role": "customer"},
                    "body": "Where is my refund? Maria Lopez",
                },
                {"id": "m2", "author": {"id": "a-17", "role": "agent"}, "body": CURT},
            ],
        }
    )


async def test_a_failure_repeated_within_30_days_is_a_repeat_theme(
    intake, worker, dev_client, sessions, ticket_id
):
    first = await intake.ingest(_curt_reply(f"{ticket_id}a", "e1", "2026-11-01T10:00:00Z"))
    await until_drafted(dev_client, first.started[0])
    second = await intake.ingest(_curt_reply(f"{ticket_id}b", "e2", "2026-11-11T10:00:00Z"))
    await until_drafted(dev_client, second.started[0])
    later = await intake.ingest(_curt_reply(f"{ticket_id}c", "e3", "2027-02-01T10:00:00Z"))
    await until_drafted(dev_client, later.started[0])

    assert (await assessment_of(sessions, first.started[0])).repeat_themes == []
    repeated = await assessment_of(sessions, second.started[0])
    assert "empathy" in repeated.repeat_themes and "repeat_theme" in repeated.flags
    assert (await assessment_of(sessions, later.started[0])).repeat_themes == []


async def test_stored_quotes_are_redacted_and_map_back_to_the_original(
    intake, worker, dev_client, sessions, ticket_id
):
    result = await intake.ingest(_curt_reply(ticket_id, "e1", "2026-11-01T10:00:00Z"))
    await until_drafted(dev_client, result.started[0])
    row = await assessment_of(sessions, result.started[0])
    async with sessions() as session:
        results = (
            (
                await session.execute(
                    select(CriterionResultRow).where(CriterionResultRow.assessment_id == row.id)
                )
            )
            .scalars()
            .all()
        )
        body = (
            await session.execute(
                select(MessageRow.body).where(
                    MessageRow.external_id == "m2", MessageRow.ticket_id == row.ticket_id
                )
            )
        ).scalar_one()
    quotes = [
        e for r in results for e in r.evidence if e["kind"] == "message" and e["message_id"] == "m2"
    ]
    assert quotes
    for quote in quotes:
        assert "maria" not in quote["quote"].lower()
        original = body[quote["source"]["start"] : quote["source"]["end"]]
        assert (
            original.replace("Maria", "[CUSTOMER_NAME]").replace("maria@example.org", "[EMAIL]")
            == quote["quote"]
        )
    assert "Maria" not in row.coaching_note and "maria@" not in row.qa_summary
