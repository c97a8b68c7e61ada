"""Events in: the canonical event from the integration user, and the help-desk webhooks.

Every endpoint reads the raw body (the adapters and the Zendesk signature need the bytes),
checks who sent it before parsing anything, validates the whole payload before storing
anything, and only then hands the events to the intake. A refused request stores nothing.
Errors name field paths and never echo a value (it may be customer data).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field
from temporalio.service import RPCError

from domain.errors import FieldError
from domain.events import TicketEvent
from intake.errors import IntakeError
from intake.generic import parse_event_body
from intake.servicenow import SECRET_HEADER, parse_servicenow, verify_servicenow_secret
from intake.zendesk import (
    SIGNATURE_HEADER,
    SIGNATURE_TIMESTAMP_HEADER,
    parse_zendesk,
    verify_zendesk_signature,
)
from service.intake import IngestResult, Intake
from web.auth import Admin
from web.context import Context, WebContext
from web.errors import problem

log = logging.getLogger(__name__)

router = APIRouter(tags=["events"])

MAX_FIELD_ERRORS = 20


# --- response models ---------------------------------------------------------------------------


class Accepted(BaseModel):
    """What the intake did with one canonical event."""

    event_id: str = Field(description="The canonical event's id.")
    matched: list[str] = Field(description="Ids of the opportunities the event matched.")
    started: list[str] = Field(description="Ids of the coaching workflows it started.")
    duplicates: list[str] = Field(
        description="Ids of earlier coaching workflows the event duplicates (nothing new "
        "was started for those matches)."
    )


class ZendeskAccepted(Accepted):
    """A Zendesk payload may hold several events (a ticket with its audits yields one per
    trigger, oldest first). The top-level keys aggregate them: `event_id` is the newest
    event's id; `matched`, `started` and `duplicates` are the distinct ids over all events,
    in order. `events` has each event's own result, oldest first."""

    events: list[Accepted] = Field(description="One result per event, oldest first.")


class Problem(BaseModel):
    error: str = Field(description="A short, stable name for the refusal.")
    message: str = Field(description="What was wrong; never repeats a submitted value.")


class ProblemBody(BaseModel):
    detail: Problem


class FieldProblem(BaseModel):
    field: str = Field(description="The field path, e.g. `ticket.messages[0].author.role`.")
    message: str


class InvalidProblem(Problem):
    errors: list[FieldProblem]


class InvalidBody(BaseModel):
    detail: InvalidProblem


def _refusal(description: str, model: type[BaseModel] = ProblemBody) -> dict[str, Any]:
    return {"model": model, "description": description}


TOO_LARGE = _refusal("The body is larger than the configured limit; nothing was read.")
INVALID = _refusal(
    "The body is not valid JSON, not UTF-8, nested too deeply, or a field is missing, "
    "unknown or malformed. Each error names the field path, never the value.",
    InvalidBody,
)
UNAVAILABLE = _refusal("Temporal could not be reached; retry later (see Retry-After).")


# --- request body schemas for OpenAPI ----------------------------------------------------------


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """The schema with every `#/$defs/...` reference replaced by its definition, so it can sit
    inside an OpenAPI operation (TicketEvent's models are not recursive)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = _inline(defs[ref.removeprefix("#/$defs/")], defs)
            rest = {k: _inline(v, defs) for k, v in schema.items() if k != "$ref"}
            return {**target, **rest}
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _event_schema() -> dict[str, Any]:
    schema = TicketEvent.model_json_schema()
    return _inline(schema, schema.get("$defs", {}))


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


ZENDESK_BODY = {
    "type": "object",
    "description": "A Zendesk trigger/webhook body, or a ticket with its audits (Ticket Audits "
    "API), with optional `comments`, `ticket_metric`, sideloaded `users` and `groups`. See "
    "intake/zendesk.py for the fields read.",
    "required": ["ticket"],
    "properties": {
        "event_type": {"type": "string", "description": "Optional canonical event type."},
        "ticket": {"type": "object"},
        "audits": {"type": "array", "items": {"type": "object"}},
        "comments": {"type": "array", "items": {"type": "object"}},
        "ticket_metric": {"type": "object"},
        "users": {"type": "array", "items": {"type": "object"}},
        "groups": {"type": "array", "items": {"type": "object"}},
    },
}

SERVICENOW_BODY = {
    "type": "object",
    "description": "A ServiceNow Table API `incident` record, bare or wrapped as "
    '`{"result": {...}}`, with optional `sys_journal_field` and `sys_audit` rows. See '
    "intake/servicenow.py for the fields read.",
    "properties": {
        "result": {"type": "object"},
        "event_type": {"type": "string", "description": "Optional canonical event type."},
        "sys_journal_field": {"type": ["array", "object"]},
        "sys_audit": {"type": ["array", "object"]},
    },
}


# --- helpers -----------------------------------------------------------------------------------


def _invalid(errors: list[FieldError]) -> Exception:
    shown = errors[:MAX_FIELD_ERRORS]
    return problem(
        422,
        "Invalid",
        "; ".join(str(e) for e in shown),
        errors=[{"field": e.path, "message": e.message} for e in shown],
    )


def _intake(context: WebContext) -> Intake:
    return Intake(context.client, context.sessions, context.catalog, context.task_queue)


async def _ingest(context: WebContext, events: list[TicketEvent]) -> list[IngestResult]:
    """Oldest first, one at a time: a later event of a ticket must see the earlier ones."""
    intake = _intake(context)
    results = []
    try:
        for event in events:
            results.append(await intake.ingest(event))
    except RPCError as exc:
        log.warning("intake: Temporal refused or unreachable (%s)", exc.status)
        raise problem(503, "Unavailable", "temporal: unavailable, retry later") from None
    return results


def _accepted(result: IngestResult) -> Accepted:
    return Accepted(
        event_id=result.event_id,
        matched=result.matched,
        started=result.started,
        duplicates=result.duplicates,
    )


def _distinct(lists: list[list[str]]) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))


def _not_configured(name: str, variable: str) -> Exception:
    return problem(
        503,
        "NotConfigured",
        f"{name}: the webhook secret is not configured ({variable}); requests are refused",
    )


# --- endpoints ---------------------------------------------------------------------------------


@router.post(
    "/events",
    status_code=202,
    response_model=Accepted,
    summary="Ingest one canonical ticket event",
    description="The body is one canonical `TicketEvent` (unknown keys are refused). Needs an "
    "admin's bearer token (the integration user). The event is stored, matched against the "
    "opportunities and coaching workflows are started; a redelivered event reports the "
    "existing workflows under `duplicates`.",
    openapi_extra=_json_body(_event_schema()),
    responses={
        401: _refusal("No bearer token, or not a valid one."),
        403: _refusal("The token's user is not an admin."),
        413: TOO_LARGE,
        422: INVALID,
        503: UNAVAILABLE,
    },
)
async def post_event(request: Request, context: Context, _user: Admin) -> Accepted:
    body = await request.body()
    try:
        event = parse_event_body(body)
    except IntakeError as exc:
        raise _invalid(exc.errors) from None
    [result] = await _ingest(context, [event])
    return _accepted(result)


@router.post(
    "/webhooks/zendesk",
    status_code=202,
    response_model=ZendeskAccepted,
    summary="Zendesk webhook: a trigger body or a ticket with its audits",
    description="Signed by Zendesk: `X-Zendesk-Webhook-Signature` is base64(HMAC-SHA256(secret, "
    "timestamp + raw body)) with the timestamp from `X-Zendesk-Webhook-Signature-Timestamp`, "
    "which must be within five minutes of now. A payload yields one or more events "
    "(a ticket with audits: one per trigger, oldest first). The 202 body has the keys of "
    "`/events` aggregated over all events (`event_id` is the newest event's; `matched`, "
    "`started` and `duplicates` are the distinct ids over all events) plus `events`, one "
    "result per event, oldest first. A replay within the five minutes is harmless: event ids "
    "derive from the payload, so it only reports `duplicates`.",
    openapi_extra=_json_body(ZENDESK_BODY),
    responses={
        401: _refusal("The signature or its timestamp header is missing, wrong or too old."),
        413: TOO_LARGE,
        422: INVALID,
        503: _refusal("The webhook secret is not configured, or Temporal is unavailable."),
    },
)
async def zendesk_webhook(
    request: Request,
    context: Context,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
    timestamp: Annotated[str | None, Header(alias=SIGNATURE_TIMESTAMP_HEADER)] = None,
) -> ZendeskAccepted:
    secret = context.settings.zendesk_secret
    if not secret:
        raise _not_configured("zendesk", "COACHFLOW_ZENDESK_SECRET")
    if not signature or not timestamp:
        raise problem(
            401,
            "Unauthorized",
            f"signature: the {SIGNATURE_HEADER} and {SIGNATURE_TIMESTAMP_HEADER} headers "
            "are required",
        )
    body = await request.body()
    if not verify_zendesk_signature(secret, body, timestamp, signature, datetime.now(UTC)):
        log.info("zendesk webhook: signature refused")
        raise problem(
            401,
            "Unauthorized",
            "signature: does not match the body, or the timestamp is more than five minutes "
            "from now",
        )
    try:
        events = parse_zendesk(body)
    except IntakeError as exc:
        raise _invalid(exc.errors) from None
    if not events:
        raise _invalid([FieldError((), "the payload holds no ticket event")])
    results = [_accepted(r) for r in await _ingest(context, events)]
    return ZendeskAccepted(
        event_id=results[-1].event_id,
        matched=_distinct([r.matched for r in results]),
        started=_distinct([r.started for r in results]),
        duplicates=_distinct([r.duplicates for r in results]),
        events=results,
    )


@router.post(
    "/webhooks/servicenow",
    status_code=202,
    response_model=Accepted,
    summary="ServiceNow webhook: a Table API incident record",
    description=f"Authenticated by a shared secret in the `{SECRET_HEADER}` header (compared "
    "in constant time). The record becomes one canonical event; the 202 body is as for "
    "`/events`.",
    openapi_extra=_json_body(SERVICENOW_BODY),
    responses={
        401: _refusal(f"The {SECRET_HEADER} header is missing or wrong."),
        413: TOO_LARGE,
        422: INVALID,
        503: _refusal("The shared secret is not configured, or Temporal is unavailable."),
    },
)
async def servicenow_webhook(
    request: Request,
    context: Context,
    secret_header: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
) -> Accepted:
    secret = context.settings.servicenow_secret
    if not secret:
        raise _not_configured("servicenow", "COACHFLOW_SERVICENOW_SECRET")
    if not verify_servicenow_secret(secret, secret_header):
        log.info("servicenow webhook: shared secret refused")
        raise problem(
            401, "Unauthorized", f"secret: the {SECRET_HEADER} header is missing or wrong"
        )
    body = await request.body()
    try:
        event = parse_servicenow(body)
    except IntakeError as exc:
        raise _invalid(exc.errors) from None
    [result] = await _ingest(context, [event])
    return _accepted(result)
