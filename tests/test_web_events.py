"""Events over HTTP: the canonical event (admin token), the Zendesk webhook (signed) and the
ServiceNow webhook (shared secret); refusals store nothing and never echo a value."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.service import RPCError, RPCStatusCode

from intake.servicenow import SECRET_HEADER
from intake.zendesk import SIGNATURE_HEADER, SIGNATURE_TIMESTAMP_HEADER
from service.intake import Intake
from store.models import AssessmentRow, EventRow, TicketRow, WorkflowStartRow
from tests.factories import event_dict
from tests.helpers import bearer

PAYLOADS = Path(__file__).parent / "payloads"
ZENDESK_SECRET = "zendesk-test-secret"
SERVICENOW_SECRET = "servicenow-test-secret"
PLANTED = "maria.planted+7731@example.org"
MAX_BODY = 200_000


# --- helpers -----------------------------------------------------------------------------------


async def _counts(sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__tablename__: (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
            for model in (TicketRow, EventRow, AssessmentRow, WorkflowStartRow)
        }


async def _nothing_stored(sessions) -> None:
    assert set((await _counts(sessions)).values()) == {0}


async def _assessment(sessions, workflow_id: str, seconds: float = 30) -> AssessmentRow:
    """Poll the store until the workflow has drafted its assessment."""
    async with asyncio.timeout(seconds):
        while True:
            async with sessions() as session:
                query = select(AssessmentRow).where(AssessmentRow.workflow_id == workflow_id)
                row = (await session.execute(query)).scalar_one_or_none()
            if row is not None:
                return row
            await asyncio.sleep(0.1)


def _event(ticket_id: str, **overrides: Any) -> dict[str, Any]:
    return event_dict(**{"ticket.id": ticket_id, "event_id": f"{ticket_id}-e1", **overrides})


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def _zendesk(name: str, ticket_id: str) -> bytes:
    data = json.loads((PAYLOADS / "zendesk" / name).read_text(encoding="utf-8"))
    data["ticket"]["id"] = ticket_id
    return _json(data)


def _servicenow(name: str, ticket_id: str) -> bytes:
    data = json.loads((PAYLOADS / "servicenow" / name).read_text(encoding="utf-8"))
    data["result"]["number"] = f"INC{ticket_id}"
    return _json(data)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _signed(
    body: bytes, secret: str = ZENDESK_SECRET, at: datetime | None = None
) -> dict[str, str]:
    timestamp = _stamp(at or datetime.now(UTC))
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {
        SIGNATURE_HEADER: base64.b64encode(digest).decode(),
        SIGNATURE_TIMESTAMP_HEADER: timestamp,
        "Content-Type": "application/json",
    }


def _refused(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert PLANTED not in response.text
    return response.json()["detail"]


def _fields(detail: dict[str, Any]) -> list[str]:
    assert detail["error"] == "Invalid"
    return [e["field"] for e in detail["errors"]]


# --- POST /events ------------------------------------------------------------------------------


async def test_a_canonical_event_starts_coaching_and_a_redelivery_is_a_duplicate(
    http, tokens, sessions, ticket_id
):
    admin = bearer(tokens["ada"])
    body = _json(_event(ticket_id))

    first = await http.post("/events", content=body, headers=admin)
    assert first.status_code == 202, first.text
    result = first.json()
    assert result["event_id"] == f"{ticket_id}-e1"
    assert result["matched"] == ["low-csat"]
    assert len(result["started"]) == 1 and result["duplicates"] == []
    row = await _assessment(sessions, result["started"][0])
    assert row.opportunity_id == "low-csat"

    again = await http.post("/events", content=body, headers=admin)
    assert again.status_code == 202, again.text
    assert again.json() == {
        "event_id": f"{ticket_id}-e1",
        "matched": ["low-csat"],
        "started": [],
        "duplicates": result["started"],
    }
    counts = await _counts(sessions)
    assert counts["events"] == 1 and counts["assessments"] == 1


async def test_an_event_no_opportunity_wants_is_accepted_and_starts_nothing(
    http, tokens, sessions, ticket_id
):
    body = _json(_event(ticket_id, **{"ticket.csat.score": 5}))
    response = await http.post("/events", content=body, headers=bearer(tokens["ada"]))
    assert response.status_code == 202, response.text
    assert response.json()["matched"] == [] and response.json()["started"] == []
    assert (await _counts(sessions))["events"] == 1


def _nested(body: bytes, depth: int = 5000) -> bytes:
    """The tags nested `depth` arrays deep (json.dumps itself would not go that deep)."""
    deep = b"[" * depth + json.dumps(PLANTED).encode() + b"]" * depth
    return body.replace(b'["NESTED"]', deep)


MALFORMED = {
    "missing ticket.id": (
        lambda t: _json(_event(t, **{"ticket.id": None, "ticket.subject": PLANTED})),
        "ticket.id",
    ),
    "unknown key": (lambda t: _json(_event(t, **{"ticket.planted": PLANTED})), "ticket.planted"),
    "bad date": (lambda t: _json(_event(t, occurred_at=f"20261120 {PLANTED}")), "occurred_at"),
    "naive date": (lambda t: _json(_event(t, occurred_at="2026-11-20T10:15:00")), "occurred_at"),
    "bad role": (
        lambda t: _json(
            _event(
                t,
                **{
                    "ticket.messages": [
                        {"id": "m1", "author": {"id": "c-9", "role": PLANTED}, "body": "hi"}
                    ]
                },
            )
        ),
        "ticket.messages[0].author.role",
    ),
    "invalid JSON": (lambda t: b'{"event_id": "' + PLANTED.encode() + b'", ', "(root)"),
    "invalid UTF-8": (
        lambda t: _json(_event(t, **{"ticket.subject": PLANTED})).replace(b"Took", b"\xff\xfe"),
        "(root)",
    ),
    "deeply nested": (lambda t: _nested(_json(_event(t, **{"ticket.tags": ["NESTED"]}))), "(root)"),
    "not an object": (lambda t: _json([PLANTED]), "(root)"),
    "empty body": (lambda t: b"", "(root)"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
async def test_a_malformed_event_is_422_naming_the_field_without_the_value(
    http, tokens, sessions, ticket_id, case
):
    build, field = MALFORMED[case]
    response = await http.post("/events", content=build(ticket_id), headers=bearer(tokens["ada"]))
    detail = _refused(response, 422)
    assert field in _fields(detail)
    assert field in detail["message"]
    await _nothing_stored(sessions)


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("bad-token", 401), ("lee", 403), ("a-17", 403), ("quinn", 403)],
)
async def test_only_an_admin_token_may_post_events(http, tokens, sessions, ticket_id, who, status):
    headers = {} if who is None else bearer(tokens.get(who, who))
    response = await http.post("/events", content=_json(_event(ticket_id)), headers=headers)
    detail = _refused(response, status)
    assert detail["error"] == ("Unauthorized" if status == 401 else "Forbidden")
    await _nothing_stored(sessions)


async def test_a_non_bearer_authorization_is_401(http, tokens, sessions, ticket_id):
    response = await http.post(
        "/events",
        content=_json(_event(ticket_id)),
        headers={"Authorization": f"Basic {tokens['ada']}"},
    )
    _refused(response, 401)
    await _nothing_stored(sessions)


async def test_an_oversized_event_is_413_and_nothing_is_stored(http, tokens, sessions, ticket_id):
    big = _event(ticket_id, **{"ticket.subject": None})
    big["ticket"]["messages"][0]["body"] = PLANTED + "x" * MAX_BODY
    response = await http.post("/events", content=_json(big), headers=bearer(tokens["ada"]))
    detail = _refused(response, 413)
    assert detail["error"] == "TooLarge"
    await _nothing_stored(sessions)


async def test_an_oversized_streamed_event_without_length_is_413(http, tokens, sessions, ticket_id):
    body = _json(_event(ticket_id, **{"ticket.subject": "x" * (MAX_BODY + 10)}))

    async def chunks():
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    response = await http.post("/events", content=chunks(), headers=bearer(tokens["ada"]))
    assert "content-length" not in response.request.headers
    _refused(response, 413)
    await _nothing_stored(sessions)


async def test_temporal_unavailable_is_503(http, tokens, sessions, ticket_id, monkeypatch):
    async def unavailable(self, event, match, plan):
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    monkeypatch.setattr(Intake, "_start_workflow", unavailable)
    response = await http.post(
        "/events", content=_json(_event(ticket_id)), headers=bearer(tokens["ada"])
    )
    assert _refused(response, 503)["error"] == "Unavailable"


# --- POST /webhooks/zendesk --------------------------------------------------------------------


async def test_a_signed_zendesk_trigger_starts_coaching(http, sessions, ticket_id):
    body = _zendesk("trigger_csat_bad.json", ticket_id)
    response = await http.post("/webhooks/zendesk", content=body, headers=_signed(body))
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["event_id"] == f"{ticket_id}:csat:20261119T174500Z"
    assert result["matched"] == ["low-csat"]
    assert len(result["started"]) == 1 and result["duplicates"] == []
    assert result["events"] == [{k: v for k, v in result.items() if k != "events"}]
    row = await _assessment(sessions, result["started"][0])
    assert row.opportunity_id == "low-csat"


async def test_a_ticket_with_audits_reports_each_event_and_the_aggregate(http, sessions, ticket_id):
    body = _zendesk("ticket_audits_reassignment.json", ticket_id)
    response = await http.post("/webhooks/zendesk", content=body, headers=_signed(body))
    assert response.status_code == 202, response.text
    result = response.json()
    events = result["events"]
    assert [e["event_id"].split(":")[-1] for e in events] == [
        "created",
        "reassigned",
        "first_response",
        "solved",
        "csat",
    ]
    assert result["event_id"] == events[-1]["event_id"]
    assert {"reassignment", "first-response"} <= set(result["matched"])
    assert result["started"] == [w for e in events for w in e["started"]]
    assert len(result["started"]) >= 2 and result["duplicates"] == []
    assert (await _counts(sessions))["events"] == len(events)

    # A replay within the five minutes is harmless: the same events, nothing new started.
    replay = await http.post("/webhooks/zendesk", content=body, headers=_signed(body))
    assert replay.status_code == 202, replay.text
    assert replay.json()["started"] == []
    assert replay.json()["duplicates"] == result["started"]


def _bad_signatures(body: bytes) -> dict[str, dict[str, str]]:
    now = datetime.now(UTC)
    good = _signed(body)
    return {
        "wrong secret": _signed(body, secret="not-the-secret"),
        "signed another body": _signed(body + b" "),
        "not base64": {**good, SIGNATURE_HEADER: "%%%not-base64%%%"},
        "missing signature": {k: v for k, v in good.items() if k != SIGNATURE_HEADER},
        "missing timestamp": {k: v for k, v in good.items() if k != SIGNATURE_TIMESTAMP_HEADER},
        "no headers": {"Content-Type": "application/json"},
        "timestamp swapped": {**good, SIGNATURE_TIMESTAMP_HEADER: _stamp(now - timedelta(1))},
        "old timestamp": _signed(body, at=now - timedelta(minutes=6)),
        "replayed a day later": _signed(body, at=now - timedelta(days=1)),
        "future timestamp": _signed(body, at=now + timedelta(minutes=6)),
        "garbled timestamp": {**good, SIGNATURE_TIMESTAMP_HEADER: PLANTED},
    }


BAD_SIGNATURES = list(_bad_signatures(b"{}"))


@pytest.mark.parametrize("case", BAD_SIGNATURES)
async def test_a_zendesk_payload_without_a_valid_signature_is_401(http, sessions, ticket_id, case):
    body = _zendesk("trigger_csat_bad.json", ticket_id)
    response = await http.post(
        "/webhooks/zendesk", content=body, headers=_bad_signatures(body)[case]
    )
    detail = _refused(response, 401)
    assert detail["error"] == "Unauthorized"
    assert "Dana Ruiz" not in response.text
    await _nothing_stored(sessions)


async def test_a_signed_but_malformed_zendesk_payload_is_422_without_the_value(
    http, sessions, ticket_id
):
    data = json.loads(_zendesk("trigger_csat_bad.json", ticket_id))
    data["ticket"]["assignee"] = PLANTED
    body = _json(data)
    detail = _refused(
        await http.post("/webhooks/zendesk", content=body, headers=_signed(body)), 422
    )
    assert any(f.startswith("ticket.assignee") for f in _fields(detail))
    await _nothing_stored(sessions)

    body = b'{"ticket": ' + b"[" * 5000 + PLANTED.encode()
    detail = _refused(
        await http.post("/webhooks/zendesk", content=body, headers=_signed(body)), 422
    )
    assert _fields(detail) == ["(root)"]
    await _nothing_stored(sessions)


async def test_an_oversized_zendesk_payload_is_413(http, sessions, ticket_id):
    data = json.loads(_zendesk("trigger_csat_bad.json", ticket_id))
    data["ticket"]["subject"] = PLANTED + "x" * MAX_BODY
    body = _json(data)
    _refused(await http.post("/webhooks/zendesk", content=body, headers=_signed(body)), 413)
    await _nothing_stored(sessions)


async def test_zendesk_without_a_configured_secret_is_503(http, web_app, sessions, ticket_id):
    context = web_app.state.context
    context.settings = dataclasses.replace(context.settings, zendesk_secret=None)
    body = _zendesk("trigger_csat_bad.json", ticket_id)
    response = await http.post("/webhooks/zendesk", content=body, headers=_signed(body))
    detail = _refused(response, 503)
    assert detail["error"] == "NotConfigured"
    assert "COACHFLOW_ZENDESK_SECRET" in detail["message"]
    await _nothing_stored(sessions)


# --- POST /webhooks/servicenow -----------------------------------------------------------------


async def test_a_servicenow_incident_with_the_secret_starts_coaching(http, sessions, ticket_id):
    body = _servicenow("incident_reassigned_with_journal.json", ticket_id)
    response = await http.post(
        "/webhooks/servicenow", content=body, headers={SECRET_HEADER: SERVICENOW_SECRET}
    )
    assert response.status_code == 202, response.text
    result = response.json()
    assert set(result) == {"event_id", "matched", "started", "duplicates"}
    assert result["matched"] == ["reassignment"]
    assert len(result["started"]) == 1
    row = await _assessment(sessions, result["started"][0])
    assert row.opportunity_id == "reassignment"


@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: ""}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SERVICENOW_SECRET + "x"}],
    ids=["missing", "empty", "wrong", "longer"],
)
async def test_a_servicenow_incident_without_the_secret_is_401(http, sessions, ticket_id, headers):
    body = _servicenow("incident_reassigned_with_journal.json", ticket_id)
    detail = _refused(await http.post("/webhooks/servicenow", content=body, headers=headers), 401)
    assert detail["error"] == "Unauthorized"
    await _nothing_stored(sessions)


async def test_a_malformed_servicenow_incident_is_422_without_the_value(http, sessions, ticket_id):
    data = json.loads(_servicenow("incident_reassigned_with_journal.json", ticket_id))
    data["result"]["opened_at"] = PLANTED
    response = await http.post(
        "/webhooks/servicenow", content=_json(data), headers={SECRET_HEADER: SERVICENOW_SECRET}
    )
    assert "result.opened_at" in _fields(_refused(response, 422))
    await _nothing_stored(sessions)

    response = await http.post(
        "/webhooks/servicenow",
        content=b"\xff" + PLANTED.encode(),
        headers={SECRET_HEADER: SERVICENOW_SECRET},
    )
    assert _fields(_refused(response, 422)) == ["(root)"]
    await _nothing_stored(sessions)


async def test_servicenow_without_a_configured_secret_is_503(http, web_app, sessions, ticket_id):
    context = web_app.state.context
    context.settings = dataclasses.replace(context.settings, servicenow_secret=None)
    body = _servicenow("incident_reassigned_with_journal.json", ticket_id)
    for headers in ({}, {SECRET_HEADER: ""}, {SECRET_HEADER: SERVICENOW_SECRET}):
        response = await http.post("/webhooks/servicenow", content=body, headers=headers)
        assert _refused(response, 503)["error"] == "NotConfigured"
    await _nothing_stored(sessions)


async def test_an_oversized_servicenow_payload_is_413(http, sessions, ticket_id):
    data = json.loads(_servicenow("incident_reassigned_with_journal.json", ticket_id))
    data["result"]["short_description"] = PLANTED + "x" * MAX_BODY
    response = await http.post(
        "/webhooks/servicenow", content=_json(data), headers={SECRET_HEADER: SERVICENOW_SECRET}
    )
    _refused(response, 413)
    await _nothing_stored(sessions)


# --- OpenAPI -----------------------------------------------------------------------------------


async def test_the_schema_documents_bodies_answers_and_refusals(http):
    schema = (await http.get("/openapi.json")).json()
    components = schema["components"]["schemas"]

    def resolve(ref_or_schema: dict[str, Any]) -> dict[str, Any]:
        ref = ref_or_schema.get("$ref")
        return components[ref.rsplit("/", 1)[-1]] if ref else ref_or_schema

    events = schema["paths"]["/events"]["post"]
    body = events["requestBody"]["content"]["application/json"]["schema"]
    assert {"event_id", "source", "type", "occurred_at", "ticket"} <= set(body["required"])
    assert body["additionalProperties"] is False
    assert "$ref" not in json.dumps(body)
    ticket = body["properties"]["ticket"]
    assert "id" in ticket["required"] and "messages" in ticket["properties"]

    accepted = resolve(events["responses"]["202"]["content"]["application/json"]["schema"])
    assert set(accepted["required"]) == {"event_id", "matched", "started", "duplicates"}
    for status in ("401", "403", "413", "422", "503"):
        assert status in events["responses"]
    invalid = resolve(events["responses"]["422"]["content"]["application/json"]["schema"])
    assert resolve(invalid["properties"]["detail"])["required"] == ["error", "message", "errors"]

    zendesk = schema["paths"]["/webhooks/zendesk"]["post"]
    zendesk_ok = resolve(zendesk["responses"]["202"]["content"]["application/json"]["schema"])
    assert "events" in zendesk_ok["required"]
    assert "aggregate" in zendesk["description"]
    headers = {p["name"] for p in zendesk["parameters"] if p["in"] == "header"}
    assert headers == {SIGNATURE_HEADER, SIGNATURE_TIMESTAMP_HEADER}
    assert "ticket" in zendesk["requestBody"]["content"]["application/json"]["schema"]["required"]

    servicenow = schema["paths"]["/webhooks/servicenow"]["post"]
    assert {p["name"] for p in servicenow["parameters"]} == {SECRET_HEADER}
    assert "application/json" in servicenow["requestBody"]["content"]
    for status in ("202", "401", "413", "422", "503"):
        assert status in zendesk["responses"] and status in servicenow["responses"]
