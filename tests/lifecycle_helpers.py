"""Helpers for the time-skipping lifecycle tests: refusals, polling, and what the store holds."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError

from domain.coaching import CoachingState
from opportunities.catalog import Catalog
from service.intake import Intake
from store.models import MeasurementEventRow
from tests.factories import make_event
from tests.helpers import until_drafted
from workflows.coaching import CoachingWorkflow


async def start_drafted(
    client: Client, sessions, catalog: Catalog, task_queue: str, ticket_id: str, **overrides: Any
) -> WorkflowHandle[CoachingWorkflow, CoachingState]:
    """Ingest the default event (with overrides) and wait until its one workflow has drafted."""
    intake = Intake(client, sessions, catalog, task_queue)
    result = await intake.ingest(make_event(**{"ticket.id": ticket_id, **overrides}))
    (workflow_id,) = result.started
    await until_drafted(client, workflow_id)
    return client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)


async def end(handle: WorkflowHandle) -> None:
    """Terminate a workflow a test left running. The time-skipping server is shared by the whole
    session: a run left waiting on timers, with its worker gone, would stall the next test's
    skips when its timers fire."""
    description = await handle.describe()
    if description.status == WorkflowExecutionStatus.RUNNING:
        await handle.terminate(reason="test finished")


async def refused(update: Awaitable[Any], kind: str) -> str:
    """Await an update that the workflow's validator must refuse with `kind`; its message."""
    try:
        await update
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        assert isinstance(cause, ApplicationError), repr(cause)
        assert cause.type == kind, f"{cause.type}: {cause.message}"
        return cause.message
    raise AssertionError(f"the update was accepted; expected a {kind} refusal")


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 (polls the database or a query)
            await asyncio.sleep(0.05)


async def until_state(
    handle: WorkflowHandle, done: Callable[[CoachingState], bool], seconds: float = 30
) -> CoachingState:
    """Query the workflow until `done(state)` holds."""
    async with asyncio.timeout(seconds):
        while True:
            state = await handle.query(CoachingWorkflow.state)
            if done(state):
                return state
            await asyncio.sleep(0.05)


async def measurements(sessions, kind: str | None = None) -> list[MeasurementEventRow]:
    query = select(MeasurementEventRow).order_by(MeasurementEventRow.id)
    if kind is not None:
        query = query.where(MeasurementEventRow.kind == kind)
    async with sessions() as session:
        return list((await session.execute(query)).scalars().all())


async def kinds(sessions) -> Counter[str]:
    return Counter(m.kind for m in await measurements(sessions))


async def until_kinds(sessions, wanted: dict[str, int], seconds: float = 30) -> Counter[str]:
    """Poll until the measurement events include at least `wanted` of each kind."""

    async def reached() -> bool:
        seen = await kinds(sessions)
        return all(seen[k] >= n for k, n in wanted.items())

    await until(reached, seconds)
    return await kinds(sessions)


async def rows(sessions, model: Any, *where: Any) -> list[Any]:
    async with sessions() as session:
        query = select(model).where(*where).order_by(model.id)
        return list((await session.execute(query)).scalars().all())
