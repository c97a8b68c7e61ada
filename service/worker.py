"""Build a worker with every workflow and activity."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.decisions import DecisionActivities
from activities.drafting import DraftingActivities
from activities.lifecycle import LifecycleActivities
from activities.llm_client import LlmClient
from activities.review import ReviewActivities
from service.sandbox import new_sandbox_runner
from workflows.coaching import CoachingWorkflow

WORKFLOWS = [CoachingWorkflow]


def activities_for(sessions: async_sessionmaker, llm: LlmClient | None = None) -> list:
    drafting = DraftingActivities(sessions, llm or LlmClient.from_env())
    decisions = DecisionActivities(sessions)
    review = ReviewActivities(sessions)
    return [
        drafting.draft_assessment,
        drafting.save_draft,
        decisions.record_decision,
        review.record_review_step,
        *LifecycleActivities(sessions).all(),
    ]


def build_worker(
    client: Client, task_queue: str, sessions: async_sessionmaker, **options
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(sessions),
        workflow_runner=new_sandbox_runner(),
        **options,
    )
