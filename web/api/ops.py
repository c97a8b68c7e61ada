"""`GET /metrics` for Prometheus, and the count of refused requests to the events endpoints."""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import ops_metrics
from web.api.schemas import ProblemRoute, errors
from web.context import Context, WebContext

log = logging.getLogger(__name__)

router = APIRouter(route_class=ProblemRoute)

QUEUE_DEPTH_TIMEOUT_SECONDS = 3.0
EVENT_ENDPOINTS = {
    "/events": "events",
    "/webhooks/zendesk": "zendesk",
    "/webhooks/servicenow": "servicenow",
}
REFUSAL_REASONS = {
    401: "unauthorized",
    403: "forbidden",
    413: "too_large",
    422: "invalid",
    503: "unavailable",
}


def _allowed(expected: str | None, authorization: str | None) -> bool:
    """No token configured: open, as Prometheus scrapes by default. The token is not a user's,
    so the schema declares no security scheme and the description tells of it."""
    if not expected:
        return True
    scheme, _, sent = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        sent.strip().encode(), expected.encode()
    )


async def _queue_depth(context: WebContext) -> dict[str, int] | None:
    try:
        async with asyncio.timeout(QUEUE_DEPTH_TIMEOUT_SECONDS), context.sessions() as session:
            return await ops_metrics.queue_depth(session)
    except Exception as exc:  # the counters are still worth serving without the database
        log.warning("metrics: queue depth not counted (%s)", type(exc).__name__)
        return None


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
            "description": "The operations metrics in Prometheus text format",
        },
        **errors(401, 422),
    },
    tags=["health"],
    summary="Operations metrics for Prometheus",
    description="Unauthenticated unless COACHFLOW_METRICS_TOKEN is set; then it needs "
    "`Authorization: Bearer <that token>`. When the database does not answer, the counters "
    "are still served, `coachflow_database_up` is 0 and `coachflow_queue_depth` is left out.",
)
async def metrics(request: Request, context: Context) -> Response:
    if not _allowed(context.settings.metrics_token, request.headers.get("authorization")):
        raise HTTPException(
            401,
            detail={
                "error": "Unauthorized",
                "message": "authorization: the metrics token (COACHFLOW_METRICS_TOKEN) is "
                "required as a bearer token",
            },
            headers={"WWW-Authenticate": "Bearer"},
        )
    body = ops_metrics.exposition(await _queue_depth(context))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class CountRefusedEvents:
    """ASGI middleware counting the events endpoints' refusals (4xx and 5xx answers) in
    `coachflow_events_rejected_total`. Added outside the body limit, it sees its 413 too."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        source = (
            EVENT_ENDPOINTS.get(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        if source is None:
            await self.app(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                reason = REFUSAL_REASONS.get(message["status"], "other")
                ops_metrics.EVENTS_REJECTED.labels(source, reason).inc()
            await send(message)

        await self.app(scope, receive, counting)
