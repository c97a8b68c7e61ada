"""Waiting on workflows without sleeping blindly, and clients whose workflow tasks time out
sooner."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import TaskQueueType, UpdateWorkflowExecutionLifecycleStage
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.update.v1 import UpdateRef, WaitPolicy
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    PollWorkflowExecutionUpdateRequest,
)
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.coaching import CoachingState
from store.models import AssessmentRow
from workflows.coaching import CoachingWorkflow


async def until_drafted(client: Client, workflow_id: str, seconds: float = 30) -> CoachingState:
    """Query the workflow until it has left `drafting`."""
    handle = client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(seconds):
        while True:
            state = await handle.query(CoachingWorkflow.state)
            if state.status != "drafting":
                return state
            await asyncio.sleep(0.05)


async def assessment_of(sessions, workflow_id: str) -> AssessmentRow:
    async with sessions() as session:
        query = select(AssessmentRow).where(AssessmentRow.workflow_id == workflow_id)
        return (await session.execute(query)).scalar_one()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def until_update_admitted(
    client: Client, workflow_id: str, update_id: str, seconds: float = 30
) -> None:
    """Until the server has admitted the update (it may not have reached a worker yet)."""
    request = PollWorkflowExecutionUpdateRequest(
        namespace=client.namespace,
        update_ref=UpdateRef(
            workflow_execution=WorkflowExecution(workflow_id=workflow_id), update_id=update_id
        ),
        identity=client.identity,
        wait_policy=WaitPolicy(
            lifecycle_stage=UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
        ),
    )
    async with asyncio.timeout(seconds):
        while True:
            try:
                await client.workflow_service.poll_workflow_execution_update(request)
                return
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
            await asyncio.sleep(0.01)


_TRANSIENT = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE)


async def until_polling(
    client: Client,
    task_queue: str,
    pid: int,
    alive: Callable[[], bool],
    log_tail: Callable[[], str],
    seconds: float = 30,
) -> None:
    """Until the worker process `pid` polls the workflow task queue (a worker's identity starts
    with its pid). A describe call the dev server fails now and then with "operation was
    canceled" is asked again; the deadline is kept by the loop, never by cancelling a call, and
    a worker that dies or never polls fails with its log."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = time.monotonic() + seconds
    failure = ""
    while time.monotonic() < deadline:
        assert alive(), f"worker {pid} exited:\n{log_tail()}"
        try:
            described = await client.workflow_service.describe_task_queue(
                request, timeout=timedelta(seconds=5)
            )
        except RPCError as err:
            if err.status not in _TRANSIENT:
                raise
            failure = f" (last describe: {err.status.name} {err.message})"
        else:
            if any(p.identity.startswith(f"{pid}@") for p in described.pollers):
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"worker {pid} not polling after {seconds} s{failure}:\n{log_tail()}")


class _ShortWorkflowTasks(Interceptor):
    def __init__(self, timeout: timedelta) -> None:
        self.timeout = timeout

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _ShortWorkflowTasksOutbound(next, self.timeout)


class _ShortWorkflowTasksOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, timeout: timedelta) -> None:
        super().__init__(next)
        self.timeout = timeout

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.task_timeout = self.timeout
        return await super().start_workflow(input)


def with_short_workflow_tasks(client: Client, timeout: timedelta) -> Client:
    """The same connection, starting workflows whose tasks time out after `timeout` (10 s by
    default): the server hands a dead worker's task to another sooner, and a worker retrying a
    local activity learns of a termination sooner."""
    config = client.config()
    interceptors = [*config["interceptors"], _ShortWorkflowTasks(timeout)]
    return Client(**{**config, "interceptors": interceptors})
