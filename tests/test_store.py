"""Ticket snapshots and threads in the real database: upserts, order, idempotence."""

from __future__ import annotations

from sqlalchemy import func, select

from store.models import EventRow, MessageRow, TicketRow
from store.tickets import load_ticket, upsert_event
from tests.factories import make_event


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_same_message_id_twice_is_stored_once(sessions):
    event = make_event()
    for _ in range(2):
        async with sessions() as session, session.begin():
            await upsert_event(session, event)
    assert await _count(sessions, TicketRow) == 1
    assert await _count(sessions, MessageRow) == 2
    assert await _count(sessions, EventRow) == 1


async def test_a_later_event_updates_the_snapshot_and_adds_messages(sessions):
    first = make_event()
    later = make_event(
        **{
            "event_id": "evt-2",
            "occurred_at": "2026-11-21T09:00:00Z",
            "ticket.status": "closed",
            "ticket.messages": [
                *first.model_dump(mode="json")["ticket"]["messages"],
                {
                    "id": "m3",
                    "author": {"id": "c-9", "role": "customer"},
                    "public": True,
                    "created_at": "2026-11-21T08:59:00Z",
                    "body": "Thanks, it arrived.",
                },
            ],
        }
    )
    for event in (first, later):
        async with sessions() as session, session.begin():
            await upsert_event(session, event)
    async with sessions() as session:
        ticket = await load_ticket(session, "generic", "35436")
    assert ticket is not None
    assert ticket.status == "closed"
    assert [m.id for m in ticket.messages] == ["m1", "m2", "m3"]
    assert ticket.requester and ticket.requester.email == "maria@example.org"


async def test_an_older_event_arriving_late_does_not_roll_the_snapshot_back(sessions):
    newer = make_event(
        **{"event_id": "evt-2", "occurred_at": "2026-11-21T09:00:00Z", "ticket.status": "closed"}
    )
    older = make_event(**{"ticket.status": "open"})
    for event in (newer, older):
        async with sessions() as session, session.begin():
            await upsert_event(session, event)
    async with sessions() as session:
        ticket = await load_ticket(session, "generic", "35436")
    assert ticket is not None and ticket.status == "closed"
    assert await _count(sessions, EventRow) == 2


async def test_the_same_ticket_id_from_two_sources_is_two_tickets(sessions):
    for source in ("generic", "zendesk"):
        async with sessions() as session, session.begin():
            await upsert_event(session, make_event(source=source))
    assert await _count(sessions, TicketRow) == 2
