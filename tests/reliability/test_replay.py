"""Workflow code changes must not break running workflows: every history recorded under
tests/histories/ (`python -m tests.histories.record`) is replayed with the current workflow code,
in the worker's sandbox and with its data converter, and a non-deterministic change fails.

The histories cover every workflow the worker registers, and the main paths of each: the
coaching workflow approved, overridden, dismissed, reassigned, stopped, virtually coached,
disputed, opened by hand, reminded, escalated and expired, with deadlines passing; one QA sample
run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from domain.coaching import CoachingInput, CoachingState
from service.sandbox import new_sandbox_runner
from service.worker import WORKFLOWS
from workflows.coaching import CoachingWorkflow

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
INDEX = json.loads((HISTORIES / "index.json").read_text(encoding="utf-8"))
RECORDED = sorted(p.name for p in HISTORIES.glob("*.json") if p.name != "index.json")


def history(name: str) -> WorkflowHistory:
    text = (HISTORIES / name).read_text(encoding="utf-8")
    return WorkflowHistory.from_json(INDEX[name]["workflow_id"], text)


def _type_of(recorded: WorkflowHistory) -> str:
    started = recorded.events[0].workflow_execution_started_event_attributes
    return started.workflow_type.name


def test_the_histories_cover_every_workflow_the_worker_runs():
    assert sorted(INDEX) == RECORDED, "index.json and the history files disagree"
    recorded = {_type_of(history(name)) for name in RECORDED}
    assert recorded == {w.__name__ for w in WORKFLOWS}
    outcomes = {INDEX[name]["outcome"] for name in RECORDED}
    assert {"closed_complete", "closed_incomplete", "dismissed"} <= outcomes


@pytest.mark.parametrize("name", RECORDED)
async def test_a_recorded_history_replays_on_the_current_code(name):
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=new_sandbox_runner(),
    )
    result = await replayer.replay_workflow(history(name), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"


@workflow.defn(name="CoachingWorkflow")
class TimerFirst(CoachingWorkflow):
    """The coaching workflow with a new step ahead of drafting: what a careless edit does."""

    @workflow.run
    async def run(self, input: CoachingInput) -> CoachingState:
        await workflow.sleep(1)
        return await super().run(input)


async def test_a_changed_workflow_fails_the_replay():
    """The replay is not vacuous: the same history fails against changed code."""
    replayer = Replayer(
        workflows=[TimerFirst],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    result = await replayer.replay_workflow(
        history("approved-then-closed-complete.json"), raise_on_replay_failure=False
    )
    assert isinstance(result.replay_failure, NondeterminismError), result.replay_failure
