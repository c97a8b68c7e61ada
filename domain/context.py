"""The variables CEL expressions see: `event`, `ticket`, `change` (and `evidence` in rubrics)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from domain.events import Ticket, TicketEvent

EVENT_VARIABLES = ("event", "ticket", "change")


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_FIELD = re.compile(r"(?<![\w.])ticket\s*\.\s*([A-Za-z_]\w*)")
_WHOLE = re.compile(r"(?<![\w.])ticket\b(?!\s*\.)")
_VARIABLE = {name: re.compile(rf"(?<![\w.]){name}\b") for name in EVENT_VARIABLES}


def ticket_fields(sources: Iterable[str]) -> frozenset[str] | None:
    """The top-level ticket fields these CEL expressions read, or None when one of them uses
    `ticket` as a whole. Converting values into CEL is most of the cost of a match, so a
    context holds only what its expressions can read."""
    fields: set[str] = set()
    for source in sources:
        code = _STRING.sub('""', source)
        if _WHOLE.search(code):
            return None
        fields.update(_FIELD.findall(code))
    return frozenset(fields)


def variables_read(sources: Iterable[str]) -> frozenset[str]:
    """Which of `event`, `ticket` and `change` these CEL expressions name: each is a nested
    map to convert, so a context leaves out the ones no expression reads."""
    codes = [_STRING.sub('""', source) for source in sources]
    return frozenset(
        name for name in EVENT_VARIABLES if any(_VARIABLE[name].search(code) for code in codes)
    )


def ticket_view(ticket: Ticket, fields: frozenset[str] | None = None) -> dict[str, Any]:
    """The ticket as CEL sees it: every field but the thread, which the rubric checks judge
    (`message_count` instead), or only `fields` when given.
    """
    if fields is None:
        view = ticket.model_dump(mode="json", exclude={"messages"})
    else:
        view = ticket.model_dump(mode="json", include=set(fields) - {"messages"})
    if fields is None or "message_count" in fields:
        view["message_count"] = len(ticket.messages)
    return view


def event_context(
    event: TicketEvent,
    fields: frozenset[str] | None = None,
    variables: frozenset[str] = frozenset(EVENT_VARIABLES),
) -> dict[str, Any]:
    """The variables of an opportunity's condition; `fields` as from `ticket_fields`, and only
    the `variables` given (as from `variables_read`)."""
    context: dict[str, Any] = {}
    if "event" in variables:
        context["event"] = {
            "event_id": event.event_id,
            "source": event.source,
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
        }
    if "ticket" in variables:
        context["ticket"] = ticket_view(event.ticket, fields)
    if "change" in variables:
        context["change"] = (
            event.change.model_dump(mode="json", by_alias=True) if event.change else None
        )
    return context


SAMPLE_EVENT = TicketEvent.model_validate(
    {
        "event_id": "sample-1",
        "source": "generic",
        "type": "csat.received",
        "occurred_at": "2026-11-20T10:15:00Z",
        "ticket": {
            "id": "1",
            "subject": "Refund not received",
            "status": "solved",
            "channel": "email",
            "priority": "normal",
            "queue": "billing",
            "product_area": "invoices",
            "customer_segment": "smb",
            "tags": ["refund"],
            "created_at": "2026-11-18T08:00:00Z",
            "solved_at": "2026-11-19T16:02:00Z",
            "agent": {"id": "a-1", "name": "Agent", "team": "tier1"},
            "requester": {"id": "c-1", "name": "Customer", "email": "c@example.org"},
            "participants": [{"id": "c-2", "name": "Other"}],
            "metrics": {
                "first_response_minutes": 30,
                "resolution_minutes": 600,
                "reassignment_count": 1,
                "reopens": 0,
            },
            "queue_backlog_per_agent": 6,
            "csat": {
                "score": 1,
                "scale": 5,
                "comment": "slow",
                "received_at": "2026-11-20T10:15:00Z",
            },
            "messages": [
                {
                    "id": "m1",
                    "author": {"id": "c-1", "role": "customer"},
                    "public": True,
                    "created_at": "2026-11-18T08:00:00Z",
                    "body": "Hello",
                }
            ],
            "kb_articles": [
                {"id": "kb-1", "title": "T", "url": "u", "updated_at": "2026-01-01T00:00:00Z"}
            ],
            "policies": [{"id": "p", "version": "1", "ambiguous": False}],
            "escalations": [{"at": "2026-11-19T00:00:00Z", "to": "tier2", "reason": "r"}],
        },
        "change": {"field": "assignee", "from": "a-1", "to": "a-2"},
    }
)

SAMPLE_CONTEXT = event_context(SAMPLE_EVENT)
