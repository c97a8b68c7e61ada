"""Floor workflows: the server round trips of an event's way to the review queue, with no work.

`FloorWorkflow` runs `steps` activities that return their input at once, local (as the
coaching workflow drafts and saves in one workflow task) or remote (one remote activity per
step: the naive design), then waits on a timer as the coaching workflow waits for its lead.
Its `ping` update does nothing either: the bare update round trip.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import activity, workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.config import ACTIVITY_MAX_INTERVAL, LOCAL_ACTIVITY_TIMEOUT

RETRY = RetryPolicy(maximum_interval=ACTIVITY_MAX_INTERVAL)


class FloorInput(BaseModel):
    steps: int = Field(ge=0, le=20)
    remote: bool = False
    wait: timedelta = timedelta(days=3)


class FloorStep(BaseModel):
    number: int
    local_activities: int = Field(default=0, ge=0, le=20)


class FloorState(BaseModel):
    steps_done: int


@activity.defn(name="floor_step")
async def floor_step(step: FloorStep) -> FloorStep:
    return step


@workflow.defn
class FloorWorkflow:
    @workflow.run
    async def run(self, input: FloorInput) -> FloorState:
        for number in range(input.steps):
            if input.remote:
                await workflow.execute_activity(
                    floor_step,
                    FloorStep(number=number),
                    start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
                    retry_policy=RETRY,
                )
            else:
                await workflow.execute_local_activity(
                    floor_step,
                    FloorStep(number=number),
                    start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
                    retry_policy=RETRY,
                )
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: False, timeout=input.wait)
        return FloorState(steps_done=input.steps)

    @workflow.update
    async def ping(self, step: FloorStep) -> FloorStep:
        """An update that does nothing but its `local_activities` no-op local activities: the
        bare round trip a decision builds on, and what each local activity adds to it."""
        for number in range(step.local_activities):
            await workflow.execute_local_activity(
                floor_step,
                FloorStep(number=number),
                start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
        return step
