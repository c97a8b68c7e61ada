"""Workflow code changes must not break running workflows: every history recorded under
tests/histories/ (`python -m tests.histories.record`) is replayed with the current workflow code,
in the worker's sandbox and with its data converter, and a non-deterministic change fails.

`current/` covers every workflow the worker registers, and the main paths of each: the
coaching workflow approved, overridden, dismissed, reassigned, stopped, virtually coached,
disputed, opened by hand, reminded, escalated and expired, with deadlines passing; one QA sample
run. Each `before-<patch>/` folder holds the histories recorded before that `workflow.patched`
change, which workflows started then still follow.
"""

import json
from functools import cache
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
from workflows.coaching import COACHING_WITH_DECISION, CoachingWorkflow

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
GENERATIONS = sorted(p.name for p in HISTORIES.iterdir() if (p / "index.json").is_file())
RECORDED = sorted(
    f"{g}/{p.name}"
    for g in GENERATIONS
    for p in (HISTORIES / g).glob("*.json")
    if p.name != "index.json"
)


@cache
def index(generation: str) -> dict:
    return json.loads((HISTORIES / generation / "index.json").read_text(encoding="utf-8"))


def history(name: str) -> WorkflowHistory:
    generation, file = name.split("/")
    text = (HISTORIES / name).read_text(encoding="utf-8")
    return WorkflowHistory.from_json(index(generation)[file]["workflow_id"], text)


def _type_of(recorded: WorkflowHistory) -> str:
    started = recorded.events[0].workflow_execution_started_event_attributes
    return started.workflow_type.name


def _patches(recorded: WorkflowHistory) -> set[str]:
    markers = (
        e.marker_recorded_event_attributes
        for e in recorded.events
        if e.HasField("marker_recorded_event_attributes")
    )
    return {
        json.loads(m.details["patch-data"].payloads[0].data)["id"]
        for m in markers
        if m.marker_name == "core_patch"
    }


@pytest.mark.parametrize("generation", GENERATIONS)
def test_index_and_files_agree(generation):
    files = sorted(
        p.name for p in (HISTORIES / generation).glob("*.json") if p.name != "index.json"
    )
    assert sorted(index(generation)) == files


def test_the_current_histories_cover_every_workflow_the_worker_runs():
    current = [name for name in RECORDED if name.startswith("current/")]
    assert {_type_of(history(name)) for name in current} == {w.__name__ for w in WORKFLOWS}
    outcomes = {index("current")[name.split("/")[1]]["outcome"] for name in current}
    assert {"closed_complete", "closed_incomplete", "dismissed"} <= outcomes


def test_every_patch_has_histories_from_before_it_and_the_current_ones_take_it():
    """The old path of each patch still replays, and the current recordings run the new one."""
    assert f"before-{COACHING_WITH_DECISION}" in GENERATIONS
    approved = history("current/approved-then-closed-complete.json")
    assert COACHING_WITH_DECISION in _patches(approved)
    before = history(f"before-{COACHING_WITH_DECISION}/approved-then-closed-complete.json")
    assert COACHING_WITH_DECISION not in _patches(before)


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
    """The coaching workflow with a new step ahead of drafting: what a careless edit does.

    Its annotations are real types, as the inherited `__init__`'s are (this module does not
    postpone them): `workflow.defn` refuses an init and a run whose hints differ."""

    @workflow.run
    async def run(self, input: CoachingInput) -> CoachingState:
        await workflow.sleep(1)
        return await super().run(input)


@pytest.mark.parametrize("generation", GENERATIONS)
async def test_a_changed_workflow_fails_the_replay(generation):
    """The replay is not vacuous: the same history fails against changed code."""
    replayer = Replayer(
        workflows=[TimerFirst],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    result = await replayer.replay_workflow(
        history(f"{generation}/approved-then-closed-complete.json"), raise_on_replay_failure=False
    )
    assert isinstance(result.replay_failure, NondeterminismError), result.replay_failure
