"""Refusals as HTTP answers: a workflow validator's type picks the status code, and request
validation errors name the field without echoing what was sent (it may be customer data)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from service.updates import execute_update
from store.models import AssessmentRow
from workflows import rules

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
    workflow 409."""
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
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise problem(
                409, "WrongState", f"assessment {row.id} is {row.status}; its workflow is closed"
            ) from None
        raise
