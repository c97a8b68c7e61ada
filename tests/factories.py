"""Canonical events for tests, built from small overrides of a realistic base."""

from __future__ import annotations

import copy
from typing import Any

from domain.events import TicketEvent

BASE: dict[str, Any] = {
    "event_id": "evt-1",
    "source": "generic",
    "type": "csat.received",
    "occurred_at": "2026-11-20T10:15:00Z",
    "ticket": {
        "id": "35436",
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
        "agent": {"id": "a-17", "name": "Dana Ruiz", "team": "tier1"},
        "requester": {"id": "c-9", "name": "Maria Lopez", "email": "maria@example.org"},
        "metrics": {
            "first_response_minutes": 312,
            "resolution_minutes": 1922,
            "reassignment_count": 0,
            "reopens": 0,
        },
        "queue_backlog_per_agent": 6,
        "csat": {"score": 1, "scale": 5, "comment": "Took forever"},
        "messages": [
            {
                "id": "m1",
                "author": {"id": "c-9", "role": "customer"},
                "public": True,
                "created_at": "2026-11-18T08:00:00Z",
                "body": "Hello, my refund never arrived. Call me on +44 20 7946 0958. Maria Lopez",
            },
            {
                "id": "m2",
                "author": {"id": "a-17", "role": "agent"},
                "public": True,
                "created_at": "2026-11-18T13:12:00Z",
                "body": "Hi Maria, I'm sorry to hear that. I'll check with billing and update you "
                "by Friday. The receipt went to maria@example.org.",
            },
        ],
    },
}


def event_dict(**overrides: Any) -> dict[str, Any]:
    """BASE with dotted-path overrides, e.g. event_dict(**{"ticket.csat.score": 5})."""
    data = copy.deepcopy(BASE)
    for path, value in overrides.items():
        target = data
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        if value is None and last in target:
            del target[last]
        else:
            target[last] = value
    return data


def make_event(**overrides: Any) -> TicketEvent:
    return TicketEvent.model_validate(event_dict(**overrides))
