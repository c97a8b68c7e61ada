"""Refusals as HTTP answers: a workflow validator's type picks the status code, and request
validation errors name the field without echoing what was sent (it may be customer data). A
database or Temporal that cannot be reached is a 503 with Retry-After, never a 500."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import asyncpg.exceptions
from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from service.updates import execute_update, workflow_not_ready
from store.models import AssessmentRow
from workflows import rules

log = logging.getLogger(__name__)

STATUS_FOR = {
    rules.FORBIDDEN: 403,
    rules.NOT_FOUND: 404,
    rules.NOT_READY: 409,
    rules.WRONG_STATE: 409,
    rules.ALREADY_DECIDED: 409,
    rules.ALREADY_DONE: 409,
    rules.INVALID: 422,
    rules.INVALID_DECISION: 422,
}


def problem(status: int, error: str, message: str, **extra: Any) -> HTTPException:
    return HTTPException(status, detail={"error": error, "message": message, **extra})


# What a database that is down, restarting or out of connections raises: its driver's errors,
# bare while connecting or wrapped by SQLAlchemy (judged then by their cause), and SQLAlchemy's
# own for a connection lost mid-request or a pool with none to spare.
DRIVER_UNAVAILABLE: tuple[type[Exception], ...] = (
    ConnectionError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
)
DATABASE_UNAVAILABLE = (*DRIVER_UNAVAILABLE, PoolTimeout, DBAPIError)
TEMPORAL_UNAVAILABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
RETRY_AFTER_SECONDS = "5"


def unavailable(what: str) -> HTTPException:
    return HTTPException(
        503,
        detail={"error": "Unavailable", "message": f"{what}: unavailable, retry later"},
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 for a database that cannot be reached; any other database error stays a 500. The
    error's text may quote SQL parameters (customer data): it is neither returned nor logged."""
    if isinstance(exc, DBAPIError) and not _lost_connection(exc):
        raise exc
    log.warning(
        "database unavailable (%s) on %s %s", type(exc).__name__, request.method, request.url.path
    )
    refusal = unavailable("database")
    return JSONResponse(
        status_code=refusal.status_code,
        content={"detail": refusal.detail},
        headers=refusal.headers,
    )


def _lost_connection(exc: DBAPIError) -> bool:
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    cause: BaseException | None = exc.orig
    while cause is not None:
        if isinstance(cause, DRIVER_UNAVAILABLE):
            return True
        cause = cause.__cause__
    return False


def field_path(location: tuple | list) -> str:
    parts = [str(p) for p in location if p not in ("body",)]
    return ".".join(parts) or "body"


async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": field_path(e.get("loc", ())), "message": e.get("msg", "invalid")}
        for e in exc.errors()
    ]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:20])
    return JSONResponse(
        status_code=422,
        content={"detail": {"error": "Invalid", "message": message, "errors": errors}},
    )


async def send_update(
    client, row: AssessmentRow, update: Any, arg: Any, update_id: str | None = None
) -> Any:
    """Send a workflow update; a validator's refusal becomes 403/404/409/422, a closed
    workflow 409, a workflow recovering from a failed task 409 NotReady, Temporal out of
    reach or stopped before the outcome 503."""
    handle = client.get_workflow_handle(row.workflow_id)
    try:
        return await execute_update(handle, update, arg, update_id or uuid.uuid4().hex)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if not isinstance(cause, ApplicationError):
            raise problem(409, "WrongState", f"assessment {row.id} is {row.status}") from None
        extra = {}
        if cause.type == rules.ALREADY_DECIDED and cause.details:
            extra["existing"] = cause.details[0]
        status = STATUS_FOR.get(cause.type or "", 409)
        raise problem(status, cause.type or "Refused", cause.message, **extra) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        # The server stopped or timed out before the outcome; the same update id again is
        # deduplicated by the server, so a client's retry with its Idempotency-Key is safe.
        raise unavailable("temporal") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise problem(
                409, "WrongState", f"assessment {row.id} is {row.status}; its workflow is closed"
            ) from None
        if workflow_not_ready(exc):
            raise problem(
                409,
                rules.NOT_READY,
                f"assessment {row.id}: its workflow is recovering; try again shortly",
            ) from None
        if exc.status in TEMPORAL_UNAVAILABLE:
            raise unavailable("temporal") from None
        raise
