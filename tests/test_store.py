"""Ticket snapshots and threads in the real database: upserts, order, idempotence; and a new
SQLite database file readable by its owner only."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import func, select, text

from store.db import make_engine, sqlite_url
from store.models import EventRow, MessageRow, TicketRow
from store.tickets import StoredTicketInvalid, load_ticket, upsert_event
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


def _message(i: int, body: str = "Still waiting on the refund.") -> dict:
    return {"id": f"m{i}", "author": {"id": "c-9", "role": "customer"}, "body": body}


async def test_a_thread_longer_than_one_event_may_carry_is_loaded_whole(sessions):
    """One event carries at most 2,000 messages; the stored thread is every message its
    events brought, so a long ticket fed one comment at a time still loads and drafts."""
    first = make_event(**{"ticket.messages": [_message(i) for i in range(2000)]})
    later = make_event(
        **{
            "event_id": "evt-2",
            "occurred_at": "2026-11-21T09:00:00Z",
            "ticket.messages": [_message(2000, "Call me on +1 415 555 0142.")],
        }
    )
    for event in (first, later):
        async with sessions() as session, session.begin():
            await upsert_event(session, event)
    async with sessions() as session:
        ticket = await load_ticket(session, "generic", "35436")
    assert ticket is not None and len(ticket.messages) == 2001
    assert ticket.messages[-1].id == "m2000"


async def test_a_stored_ticket_that_no_longer_validates_names_the_field_not_its_value(
    sessions,
):
    async with sessions() as session, session.begin():
        await upsert_event(session, make_event())
        row = (await session.execute(select(TicketRow))).scalar_one()
        row.snapshot = {**row.snapshot, "subject": "Write to jane.doe@example.com " * 40}
    async with sessions() as session:
        with pytest.raises(StoredTicketInvalid) as raised:
            await load_ticket(session, "generic", "35436")
    message = str(raised.value)
    assert message.startswith("stored ticket generic/35436: subject: String should have at most")
    assert "jane.doe" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def test_a_fresh_sqlite_database_and_its_wal_and_shm_are_readable_by_their_owner_only(
    tmp_path,
):
    """The raw threads live there: 0600 like the secret key, whatever the umask allows."""
    path = tmp_path / "data" / "coachflow.db"
    previous = os.umask(0o022)
    try:
        engine = make_engine(sqlite_url(path))
        try:
            async with engine.begin() as connection:
                await connection.execute(text("CREATE TABLE t (x INTEGER)"))
                await connection.execute(text("INSERT INTO t VALUES (1)"))
            files = [path, path.with_name("coachflow.db-wal"), path.with_name("coachflow.db-shm")]
            assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {
                f.name: 0o600 for f in files
            }
        finally:
            await engine.dispose()
    finally:
        os.umask(previous)
