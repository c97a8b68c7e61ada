"""Build a worker with every workflow and activity."""

from __future__ import annotations

from datetime import timedelta

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
from service.ops_metrics import ActivityFailureCounter
from service.sandbox import new_sandbox_runner
from service.settings import Settings, SettingsError
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
    """`catalog`: fixed definitions for the QA sample to start through. Default: the
    settings' folders, loaded when the first sample runs and reloaded when they change."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(sessions, client=client, task_queue=task_queue, catalog=catalog),
        workflow_runner=new_sandbox_runner(),
        interceptors=[ActivityFailureCounter()],
        **options,
    )


def worker_options(settings: Settings) -> dict:
    """`build_worker`'s options from the COACHFLOW_WORKER_* tuning settings that are set."""
    options = {
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "max_concurrent_activities": settings.worker_max_concurrent_activities,
        "max_concurrent_local_activities": settings.worker_max_concurrent_local_activities,
        "max_cached_workflows": settings.worker_max_cached_workflows,
    }
    if settings.worker_sticky_schedule_to_start_seconds:
        options["sticky_queue_schedule_to_start_timeout"] = timedelta(
            seconds=settings.worker_sticky_schedule_to_start_seconds
        )
    if settings.worker_graceful_shutdown_seconds:
        options["graceful_shutdown_timeout"] = timedelta(
            seconds=settings.worker_graceful_shutdown_seconds
        )
    if options["max_concurrent_workflow_tasks"] == 1:
        raise SettingsError(
            "COACHFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS must be at least 2: "
            "the worker caches workflows"
        )
    return {name: value for name, value in options.items() if value is not None}
