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
from activities.sampling import SamplingActivities
from opportunities.catalog import Catalog
from service.sandbox import new_sandbox_runner
from workflows.coaching import CoachingWorkflow
from workflows.qa_sample import QASampleWorkflow

WORKFLOWS = [CoachingWorkflow, QASampleWorkflow]


def activities_for(
    sessions: async_sessionmaker,
    llm: LlmClient | None = None,
    *,
    client: Client | None = None,
    task_queue: str | None = None,
    catalog: Catalog | None = None,
) -> list:
    """The QA sample's activities start coaching workflows, so they come with a client."""
    drafting = DraftingActivities(sessions, llm or LlmClient.from_env())
    decisions = DecisionActivities(sessions)
    review = ReviewActivities(sessions)
    return [
        drafting.draft_assessment,
        drafting.save_draft,
        decisions.record_decision,
        review.record_review_step,
        *LifecycleActivities(sessions).all(),
        *(
            SamplingActivities(sessions, client, task_queue, catalog).all()
            if client is not None and task_queue is not None
            else []
        ),
    ]


def build_worker(
    client: Client,
    task_queue: str,
    sessions: async_sessionmaker,
    catalog: Catalog | None = None,
    **options,
) -> Worker:
    """`catalog`: the definitions the QA sample starts through (default: loaded from the
    settings when the first sample runs)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(sessions, client=client, task_queue=task_queue, catalog=catalog),
        workflow_runner=new_sandbox_runner(),
        **options,
    )
