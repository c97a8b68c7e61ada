"""`GET /metrics` for Prometheus, and the count of refused requests to the events endpoints."""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import ops_metrics
from web.api.schemas import ProblemRoute, errors
from web.context import Context

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


class QueueDepth:
    """The queue depth for a scrape, counted once at a time. A count that outlasts the scrape's
    wait is left to finish, not cancelled: cut off mid-statement, a SQLite connection keeps its
    read snapshot until the garbage collector frees its cursor, and the WAL cannot be
    checkpointed meanwhile. Scrapes that come while a count still runs wait on that count, so
    a database that does not answer holds one connection, however often Prometheus asks."""

    def __init__(self, wait_seconds: float = QUEUE_DEPTH_TIMEOUT_SECONDS):
        self.wait_seconds = wait_seconds
        self._count: asyncio.Task[dict[str, int]] | None = None

    async def read(self, sessions: async_sessionmaker) -> dict[str, int] | None:
        if self._count is None or self._count.done():
            self._count = asyncio.create_task(self._counted(sessions))
            self._count.add_done_callback(_log_failure)
        try:
            return await asyncio.wait_for(asyncio.shield(self._count), self.wait_seconds)
        except TimeoutError:
            log.warning("metrics: queue depth not counted within %gs", self.wait_seconds)
            return None
        except Exception:  # logged by _log_failure; the counters are served without the depth
            return None

    @staticmethod
    async def _counted(sessions: async_sessionmaker) -> dict[str, int]:
        async with sessions() as session:
            return await ops_metrics.queue_depth(session)


def _log_failure(count: asyncio.Task) -> None:
    if not count.cancelled() and (exc := count.exception()) is not None:
        log.warning("metrics: queue depth not counted (%s)", type(exc).__name__)


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
    body = ops_metrics.exposition(await request.app.state.queue_depth.read(context.sessions))
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
