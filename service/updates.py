"""What every acting command shares: who acts (from the user directory), and sending one
workflow update with its refusals turned into a clear message and exit code 1."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.coaching import CoachingState
from domain.people import Actor
from service import ops_metrics
from store.models import AssessmentRow
from store.users import UserError, resolve_actor
from workflows.coaching import CoachingWorkflow
from workflows.rules import ALREADY_DECIDED, NOT_READY

UPDATE_TIMEOUT_SECONDS = 60
CLOSED = ("closed_complete", "closed_incomplete", "dismissed")


class CommandError(Exception):
    """A refusal the CLI prints on stderr before exiting with `code`."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


async def acting_user(session: AsyncSession, name: str, role: str | None = None) -> Actor:
    """The named user from the directory; with `role`, only a user of that role."""
    try:
        actor = await resolve_actor(session, name)
    except UserError as exc:
        raise CommandError(str(exc)) from None
    if role is not None and actor.role != role:
        raise CommandError(f"--as: {actor.id} is a {actor.role}; this needs a {role}")
    return actor


def refusal_message(exc: WorkflowUpdateFailedError, prefix: str) -> str:
    cause = exc.cause
    if not isinstance(cause, ApplicationError):
        return f"{prefix}: {cause}"
    message = f"{prefix}: {cause.message}"
    if cause.type == ALREADY_DECIDED and cause.details:
        message += "\nexisting decision: " + json.dumps(cause.details[0], default=str)
    return message


def _not_ready(exc: WorkflowUpdateFailedError) -> bool:
    cause = exc.cause
    return isinstance(cause, ApplicationError) and cause.type == NOT_READY


def workflow_not_ready(exc: RPCError) -> bool:
    """The server refuses updates while a workflow task is being retried (after a worker
    died holding it, say); it takes them again once a worker completes one."""
    return exc.status == RPCStatusCode.FAILED_PRECONDITION and any(
        detail.Is(WorkflowNotReadyFailure.DESCRIPTOR) for detail in exc.grpc_status.details
    )


async def execute_update(
    handle: WorkflowHandle, update: Any, arg: Any, update_id: str, ready_within: float = 15
) -> Any:
    """Execute an update, retrying while the workflow answers NotReady (a workflow whose worker
    restarted drafts again before it can take a decision) or the server refuses it because a
    workflow task is being retried. A refused update is not recorded, so the retry may reuse
    its id."""
    deadline = asyncio.get_running_loop().time() + ready_within
    delay = 0.05
    started = time.monotonic()
    while True:
        try:
            result = await handle.execute_update(update, arg, id=update_id)
            ops_metrics.observe_decision(arg, started)
            return result
        except (WorkflowUpdateFailedError, RPCError) as exc:
            retry = (
                _not_ready(exc)
                if isinstance(exc, WorkflowUpdateFailedError)
                else (workflow_not_ready(exc))
            )
            if not retry or asyncio.get_running_loop().time() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def send_update(
    client: Client,
    row: AssessmentRow,
    update: Any,
    arg: Any,
    request_id: str | None = None,
    prefix: str = "refused",
) -> Any:
    """Send `update` to the assessment's workflow; CommandError when it is refused, when the
    workflow is gone, or when no worker answers in time."""
    handle = client.get_workflow_handle(row.workflow_id)
    try:
        return await asyncio.wait_for(
            execute_update(handle, update, arg, request_id or uuid.uuid4().hex),
            UPDATE_TIMEOUT_SECONDS,
        )
    except WorkflowUpdateFailedError as exc:
        raise CommandError(refusal_message(exc, prefix)) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise CommandError(
            f"Temporal stopped answering before the outcome; see `starter.py show {row.id}` "
            "before sending it again"
        ) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CommandError(
                f"assessment {row.id} is {row.status}: its workflow is closed or gone"
            ) from None
        if workflow_not_ready(exc):
            raise CommandError(
                f"assessment {row.id}: its workflow is recovering; try again shortly"
            ) from None
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise CommandError("Temporal is unreachable; try again shortly") from None
        raise
    except TimeoutError:
        raise CommandError(
            "no worker answered within a minute; is `python worker.py` running?"
        ) from None


async def state_after(client: Client, row: AssessmentRow) -> CoachingState | None:
    """The workflow's state once it has taken the update in, or None when it cannot answer."""
    try:
        return await asyncio.wait_for(
            client.get_workflow_handle(row.workflow_id).query(CoachingWorkflow.state), 10
        )
    except Exception:  # the state is a courtesy on top of a result already printed
        return None


def refuse_if_closed(row: AssessmentRow) -> None:
    if row.status in CLOSED:
        raise CommandError(f"assessment {row.id} is {row.status}; nothing can change any more")
