"""What the intake reliability tests share: the sample payloads with a test's own ticket id,
signed webhook requests, and a count of the rows the intake writes."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from intake.servicenow import SECRET_HEADER
from intake.zendesk import SIGNATURE_HEADER, SIGNATURE_TIMESTAMP_HEADER
from store.models import EventRow, MessageRow, TicketRow, WorkflowStartRow
from tests.factories import event_dict

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
ZENDESK_SECRET = "zendesk-test-secret"
SERVICENOW_SECRET = "servicenow-test-secret"
# conftest's `web_settings.max_body_bytes`.
MAX_BODY = 200_000
# A customer's address planted in rejected input: it must never come back in an answer.
PLANTED = "maria.planted+7731@example.org"
# Written by the request itself, never in the background by a workflow's activity.
INTAKE_TABLES = (TicketRow, MessageRow, EventRow, WorkflowStartRow)


def payload(kind: str, name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / kind / name).read_text(encoding="utf-8"))


ZENDESK_BASES = {
    name: payload("zendesk", name)
    for name in ("trigger_csat_bad.json", "ticket_audits_reassignment.json")
}
SERVICENOW_BASES = {
    name: payload("servicenow", name)
    for name in (
        "incident_new_empty_references.json",
        "incident_reassigned_with_journal.json",
        "incident_resolved_display_values.json",
    )
}


def canonical_for(ticket_id: str) -> dict[str, Any]:
    return event_dict(**{"ticket.id": ticket_id, "event_id": f"{ticket_id}-e1"})


def zendesk_for(name: str, ticket_id: str) -> dict[str, Any]:
    data = copy.deepcopy(ZENDESK_BASES[name])
    data["ticket"]["id"] = ticket_id
    return data


def servicenow_for(name: str, ticket_id: str) -> dict[str, Any]:
    data = copy.deepcopy(SERVICENOW_BASES[name])
    record = data.get("result", data)
    record["number"] = f"INC{ticket_id}"
    return data


def zendesk_headers(body: bytes, secret: str = ZENDESK_SECRET) -> dict[str, str]:
    timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {
        SIGNATURE_HEADER: base64.b64encode(digest).decode(),
        SIGNATURE_TIMESTAMP_HEADER: timestamp,
        "Content-Type": "application/json",
    }


def servicenow_headers() -> dict[str, str]:
    return {SECRET_HEADER: SERVICENOW_SECRET, "Content-Type": "application/json"}


async def stored(sessions) -> dict[str, int]:
    """Rows in each table the intake writes."""
    async with sessions() as session:
        return {
            model.__tablename__: (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
            for model in INTAKE_TABLES
        }
