"""QASampleWorkflow: one run of the fair QA sample, usually started by a Temporal Schedule.

One run draws a stratified sample of the tickets resolved in the window that ends at the
run's scheduled time (the schedule's `TemporalScheduledStartTime`; outside a schedule, the
input's `scheduled_at`, else the workflow's start), starts a coaching workflow per ticket
through the sample's opportunity, and records what it did. The seed is the opportunity and
that time, so the run (and a retry of it) always draws the same sample.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from domain.config import ACTIVITY_MAX_INTERVAL
    from domain.sampling import (
        DRAW_QA_SAMPLE,
        RECORD_QA_SAMPLE,
        START_QA_SAMPLE,
        DrawRequest,
        QASampleInput,
        QASampleResult,
        RecordSampleRequest,
        RecordSampleResult,
        SampleDraw,
        StartSampleRequest,
        StartSampleResult,
    )

RETRY = RetryPolicy(maximum_interval=ACTIVITY_MAX_INTERVAL)
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


@workflow.defn
class QASampleWorkflow:
    @workflow.run
    async def run(self, input: QASampleInput) -> QASampleResult:
        info = workflow.info()
        anchor = (
            input.scheduled_at
            or info.typed_search_attributes.get(SCHEDULED_START)
            or workflow.now()
        )
        request = DrawRequest(
            run_id=info.workflow_id,
            opportunity_id=input.opportunity_id,
            per_agent=input.per_agent,
            window_start=anchor - input.window,
            window_end=anchor,
            seed=f"{input.opportunity_id}@{anchor.isoformat()}",
        )
        draw: SampleDraw = await workflow.execute_activity(
            DRAW_QA_SAMPLE,
            request,
            result_type=SampleDraw,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,
        )
        started: StartSampleResult = await workflow.execute_activity(
            START_QA_SAMPLE,
            StartSampleRequest(
                run_id=request.run_id,
                opportunity_id=input.opportunity_id,
                occurred_at=anchor,
                tickets=draw.tickets,
            ),
            result_type=StartSampleResult,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )
        await workflow.execute_activity(
            RECORD_QA_SAMPLE,
            RecordSampleRequest(
                run_id=request.run_id,
                started=started.started,
                duplicates=started.duplicates,
                missing=started.missing,
                finished_at=workflow.now(),
            ),
            result_type=RecordSampleResult,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RETRY,
        )
        return QASampleResult(
            run_id=request.run_id,
            opportunity_id=input.opportunity_id,
            window_start=request.window_start,
            window_end=request.window_end,
            per_agent=input.per_agent,
            sample=draw.sample,
            population=draw.population,
            eligible=draw.eligible,
            skipped_assessed=draw.skipped_assessed,
            backup_used=draw.backup_used,
            backups=draw.backups,
            started=started.started,
            duplicates=started.duplicates,
            missing=started.missing,
        )
