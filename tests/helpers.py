"""Waiting on workflows without sleeping blindly."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from temporalio.client import Client

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
