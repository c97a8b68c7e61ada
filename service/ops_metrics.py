"""Operations metrics for Prometheus, on this module's own registry (not the process-wide
default one, so nothing a library registers there leaks into coachflow's output).

What each series counts, in this process:
- `coachflow_events_received_total{source}`: every event handed to the intake (`POST /events`,
  the webhooks, `starter.py ingest`, the QA sample), by the event's `source`.
- `coachflow_events_matched_total{opportunity}`: every match of an event to an opportunity,
  counted before its workflow start is tried.
- `coachflow_workflows_started_total{opportunity}`: every coaching workflow the intake started.
- `coachflow_events_duplicated_total{opportunity}`: every match that started nothing new, as
  `IngestResult.duplicates` reports it: a redelivery or repeat within the dedupe window, or a
  start Temporal refused because the workflow already exists.
- `coachflow_events_rejected_total{source,reason}`: every refused request to an events
  endpoint; `source` is the endpoint (`events`, `zendesk`, `servicenow`).
- `coachflow_decision_latency_seconds{decision}`: a lead's decision, from sending the update to
  the workflow's answer (retries while the workflow is not ready included); refusals are not
  timed.
- `coachflow_activity_failures_total{activity}`: every activity attempt, local ones included,
  that raised.
- `coachflow_queue_depth{state}`: assessments by status, counted in the database at scrape
  time; `coachflow_database_up` is 0 (and the queue depth left out) when that count failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from domain.assessment import AssessmentStatus
from domain.coaching import LeadDecision
from store.models import AssessmentRow

# The `*_created` timestamp series would double every counter's series in the text format.
disable_created_metrics()
REGISTRY = CollectorRegistry()

EVENTS_RECEIVED = Counter(
    "coachflow_events_received",
    "Events handed to the intake, by the event's source.",
    ["source"],
    registry=REGISTRY,
)
EVENTS_MATCHED = Counter(
    "coachflow_events_matched",
    "Matches of an event to an opportunity.",
    ["opportunity"],
    registry=REGISTRY,
)
EVENTS_DUPLICATED = Counter(
    "coachflow_events_duplicated",
    "Matches that started nothing new: the coaching workflow already existed.",
    ["opportunity"],
    registry=REGISTRY,
)
WORKFLOWS_STARTED = Counter(
    "coachflow_workflows_started",
    "Coaching workflows started by the intake.",
    ["opportunity"],
    registry=REGISTRY,
)
EVENTS_REJECTED = Counter(
    "coachflow_events_rejected",
    "Refused requests to an events endpoint, by endpoint and reason.",
    ["source", "reason"],
    registry=REGISTRY,
)
DECISION_LATENCY = Histogram(
    "coachflow_decision_latency_seconds",
    "A lead's decision update, from sending it to the workflow's answer.",
    ["decision"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
ACTIVITY_FAILURES = Counter(
    "coachflow_activity_failures",
    "Activity attempts that raised, by activity type.",
    ["activity"],
    registry=REGISTRY,
)

STATES: tuple[str, ...] = get_args(AssessmentStatus)


def count_start(opportunity: str, duplicate: bool) -> None:
    (EVENTS_DUPLICATED if duplicate else WORKFLOWS_STARTED).labels(opportunity).inc()


def observe_decision(arg: Any, started: float) -> None:
    """Time a workflow update's round trip since `started` (time.monotonic) when it carried a
    lead's decision; other updates are not timed."""
    if isinstance(arg, LeadDecision):
        DECISION_LATENCY.labels(arg.action).observe(time.monotonic() - started)


class ActivityFailureCounter(Interceptor):
    """A worker interceptor counting the activity attempts that raise. Cancellation is a
    BaseException, not a failure, and is not counted."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountFailures(next)


class _CountFailures(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception:
            ACTIVITY_FAILURES.labels(activity.info().activity_type).inc()
            raise


async def queue_depth(session: AsyncSession) -> dict[str, int]:
    """Assessments by status, every known status present."""
    query = select(AssessmentRow.status, func.count()).group_by(AssessmentRow.status)
    counts = dict.fromkeys(STATES, 0)
    counts.update({status: n for status, n in await session.execute(query)})
    return counts


class _Snapshot(Collector):
    def __init__(self, depth: dict[str, int] | None):
        self.depth = depth

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "coachflow_database_up",
            "1 when the queue depth was counted in the database at this scrape, else 0.",
            value=0 if self.depth is None else 1,
        )
        if self.depth is None:
            return
        family = GaugeMetricFamily(
            "coachflow_queue_depth", "Assessments by status, at scrape time.", labels=["state"]
        )
        for state, count in sorted(self.depth.items()):
            family.add_metric([state], count)
        yield family


def exposition(depth: dict[str, int] | None) -> bytes:
    """The Prometheus text of every instrument, then the scrape-time gauges (`None`: the
    database did not answer)."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Snapshot(depth))
    return generate_latest(REGISTRY) + generate_latest(scrape)
