"""Waiting on workflows without sleeping blindly."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from domain.coaching import CoachingState
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
