"""Upsert ticket snapshots and threads from events; load them back as domain tickets."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import field_errors
from domain.events import Message, StoredTicket, Ticket, TicketEvent
from store.csat_events import record_csat_after_coaching
from store.models import EventRow, MessageRow, TicketRow
from store.upsert import dialect_of, insert_ignore, insert_in

SNAPSHOT_EXCLUDE = {"id", "messages"}
TICKET_KEY = ("id", "source", "external_id")
MESSAGE_FIELDS = ("author_id", "author_role", "author_name", "public", "created_at", "body")


def _ticket_columns(ticket: Ticket) -> dict:
    return {
        "subject": ticket.subject,
        "status": ticket.status,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "queue": ticket.queue,
        "product_area": ticket.product_area,
        "customer_segment": ticket.customer_segment,
        "agent_id": ticket.agent.id if ticket.agent else None,
        "agent_name": ticket.agent.name if ticket.agent else None,
        "team": ticket.agent.team if ticket.agent else None,
        "created_at": ticket.created_at,
        "solved_at": ticket.solved_at,
        "snapshot": ticket.model_dump(mode="json", exclude=SNAPSHOT_EXCLUDE),
    }


@cache
def _ticket_upsert(dialect: str) -> Any:
    """The snapshot's upsert, built once: a newer event replaces it; returns the row id unless
    the stored snapshot is newer."""
    table = TicketRow.__table__
    stmt = insert_in(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=["source", "external_id"],
        set_={c.name: stmt.excluded[c.name] for c in table.c if c.name not in TICKET_KEY},
        where=table.c.last_event_at <= stmt.excluded.last_event_at,
    ).returning(table.c.id)


@cache
def _message_upsert(dialect: str) -> Any:
    stmt = insert_in(dialect, MessageRow.__table__)
    return stmt.on_conflict_do_update(
        index_elements=["ticket_id", "external_id"],
        set_={name: stmt.excluded[name] for name in MESSAGE_FIELDS},
    )


async def upsert_event(session: AsyncSession, event: TicketEvent) -> tuple[int, bool]:
    """Store the event, the ticket snapshot and its messages. Returns (ticket row id, new event).

    A newer event replaces the snapshot; an older one arriving late only adds messages.
    The same message id is stored once, whatever the number of deliveries.
    """
    now = datetime.now(UTC)
    ticket = event.ticket
    replaced = {**_ticket_columns(ticket), "last_event_at": event.occurred_at, "updated_at": now}
    ticket_pk = (
        await session.execute(
            _ticket_upsert(dialect_of(session)),
            {"source": event.source, "external_id": ticket.id, **replaced},
        )
    ).scalar_one_or_none()
    if ticket_pk is None:
        ticket_pk = (
            await session.execute(
                select(TicketRow.id).where(
                    TicketRow.source == event.source, TicketRow.external_id == ticket.id
                )
            )
        ).scalar_one()
    await _upsert_messages(session, ticket_pk, ticket.messages)
    new_event = await insert_ignore(
        session,
        EventRow,
        {
            "source": event.source,
            "event_id": event.event_id,
            "type": event.type,
            "occurred_at": event.occurred_at,
            "ticket_id": ticket_pk,
            "change": event.change.model_dump(mode="json", by_alias=True) if event.change else None,
            "received_at": now,
        },
        ["source", "event_id"],
    )
    if new_event:
        await record_csat_after_coaching(session, event)
    return ticket_pk, new_event


async def _upsert_messages(session: AsyncSession, ticket_pk: int, messages: list[Message]) -> None:
    if not messages:
        return
    existing = dict(
        (
            await session.execute(
                select(MessageRow.external_id, MessageRow.position).where(
                    MessageRow.ticket_id == ticket_pk
                )
            )
        ).all()
    )
    next_position = max(existing.values(), default=-1) + 1
    rows = []
    for message in messages:
        position = existing.get(message.id)
        if position is None:
            position = next_position
            next_position += 1
        rows.append(
            {
                "ticket_id": ticket_pk,
                "external_id": message.id,
                "position": position,
                "author_id": message.author.id,
                "author_role": message.author.role,
                "author_name": message.author.name,
                "public": message.public,
                "created_at": message.created_at,
                "body": message.body,
            }
        )
    await session.execute(_message_upsert(dialect_of(session)), rows)


@cache
def _ticket_load() -> Any:
    ticket = TicketRow.__table__.c
    return select(ticket.id, ticket.external_id, ticket.snapshot).where(
        ticket.source == bindparam("source"), ticket.external_id == bindparam("external_id")
    )


@cache
def _thread_load() -> Any:
    message = MessageRow.__table__.c
    return (
        select(
            message.external_id,
            message.author_id,
            message.author_role,
            message.author_name,
            message.public,
            message.created_at,
            message.body,
        )
        .where(message.ticket_id == bindparam("ticket_id"))
        .order_by(message.created_at.is_(None), message.created_at, message.position)
    )


class StoredTicketInvalid(Exception):
    """A stored ticket that no longer validates; names the fields, never their values."""


async def load_ticket(session: AsyncSession, source: str, external_id: str) -> StoredTicket | None:
    row = (
        await session.execute(_ticket_load(), {"source": source, "external_id": external_id})
    ).one_or_none()
    if row is None:
        return None
    messages = await session.execute(_thread_load(), {"ticket_id": row.id})
    try:
        return _stored_ticket(row, messages)
    except ValidationError as exc:
        problems = "; ".join(str(e) for e in field_errors(exc))
        raise StoredTicketInvalid(f"stored ticket {source}/{external_id}: {problems}") from None


def _stored_ticket(row: Any, messages: Any) -> StoredTicket:
    return StoredTicket.model_validate(
        {
            **row.snapshot,
            "id": row.external_id,
            "messages": [
                {
                    "id": m.external_id,
                    "author": {"id": m.author_id, "role": m.author_role, "name": m.author_name},
                    "public": m.public,
                    "created_at": m.created_at,
                    "body": m.body,
                }
                for m in messages
            ],
        }
    )
