"""CoachingWorkflow: draft an assessment, wait for the lead, record the decision."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.assessment import AssessmentStatus, Draft
    from domain.coaching import (
        CoachingInput,
        CoachingState,
        CriterionChange,
        DecisionAction,
        DecisionResult,
        DraftRequest,
        LeadDecision,
        RecordDecisionRequest,
        RecordedDecision,
        ReviewStepKind,
        ReviewStepRecorded,
        ReviewStepRequest,
        SavedAssessment,
        SaveDraftRequest,
    )
    from domain.config import (
        ACTIVITY_MAX_INTERVAL,
        DRAFT_ASSESSMENT,
        LOCAL_ACTIVITY_TIMEOUT,
        RECORD_DECISION,
        RECORD_REVIEW_STEP,
        SAVE_DRAFT,
    )
    from domain.definitions import ReviewSpec

RETRY = RetryPolicy(maximum_interval=ACTIVITY_MAX_INTERVAL)


@workflow.defn
class CoachingWorkflow:
    def __init__(self) -> None:
        self._status: AssessmentStatus = "drafting"
        self._assessment_id: int | None = None
        self._draft: Draft | None = None
        self._decision: DecisionResult | None = None
        self._deciding = False

    @workflow.run
    async def run(self, input: CoachingInput) -> CoachingState:
        workflow_id = workflow.info().workflow_id
        draft = await workflow.execute_local_activity(
            DRAFT_ASSESSMENT,
            DraftRequest(
                workflow_id=workflow_id,
                opportunity=input.opportunity,
                rubric=input.rubric,
                event=input.event,
            ),
            result_type=Draft,
            start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        saved = await workflow.execute_local_activity(
            SAVE_DRAFT,
            SaveDraftRequest(
                workflow_id=workflow_id,
                opportunity=input.opportunity,
                rubric=input.rubric,
                event=input.event,
                draft=draft,
                drafted_at=workflow.now(),
            ),
            result_type=SavedAssessment,
            start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        self._draft, self._assessment_id, self._status = draft, saved.assessment_id, saved.status
        await self._review_window(input.opportunity.review, workflow_id)
        if self._status != "closed_incomplete":
            await workflow.wait_condition(lambda: self._decision is not None)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    async def _review_window(self, review: ReviewSpec, workflow_id: str) -> None:
        """Wait for the lead on durable timers: remind at `due`, escalate, and at `expires`
        close the assessment as `closed_incomplete`."""
        opened = workflow.now()
        steps: list[tuple[ReviewStepKind, timedelta]] = [
            ("reminder", review.due),
            ("escalation", review.due + review.escalate_after),
            ("expiry", review.expires),
        ]
        for step, offset in steps:
            remaining = opened + offset - workflow.now()
            try:
                await workflow.wait_condition(
                    lambda: self._decision is not None or self._deciding,
                    timeout=max(remaining, timedelta(0)),
                )
                return
            except TimeoutError:
                pass
            if step == "expiry":
                self._status = "closed_incomplete"
            assert self._assessment_id is not None
            await workflow.execute_local_activity(
                RECORD_REVIEW_STEP,
                ReviewStepRequest(
                    workflow_id=workflow_id,
                    assessment_id=self._assessment_id,
                    step=step,
                    at=workflow.now(),
                    reviewers=review.by,
                    escalate_to=review.escalate_to,
                ),
                result_type=ReviewStepRecorded,
                start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )

    @workflow.query
    def state(self) -> CoachingState:
        return CoachingState(
            status=self._status,
            assessment_id=self._assessment_id,
            draft=self._draft,
            decision=self._decision,
        )

    @workflow.update
    async def decide(self, decision: LeadDecision) -> DecisionResult:
        self._deciding = True
        assert self._assessment_id is not None
        changes = self._changes(decision)
        action = cast(DecisionAction, decision.action)
        status: AssessmentStatus = "dismissed" if action == "dismiss" else "coaching"
        decided_at = workflow.now()
        update = workflow.current_update_info()
        await workflow.execute_local_activity(
            RECORD_DECISION,
            RecordDecisionRequest(
                workflow_id=workflow.info().workflow_id,
                request_id=update.id if update else workflow.uuid4().hex,
                assessment_id=self._assessment_id,
                decision=decision,
                changes=changes,
                decided_at=decided_at,
                new_status=status,
            ),
            result_type=RecordedDecision,
            start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        self._status = status
        self._decision = DecisionResult(
            assessment_id=self._assessment_id,
            action=action,
            lead=decision.lead,
            status=status,
            decided_at=decided_at,
            changes=changes,
        )
        return self._decision

    @decide.validator
    def _validate_decision(self, decision: LeadDecision) -> None:
        if self._draft is None or self._assessment_id is None:
            raise ApplicationError(
                "the assessment is still being drafted; try again shortly", type="NotReady"
            )
        if self._status == "closed_incomplete":
            raise ApplicationError(
                "the review window has closed; the assessment expired undecided", type="Expired"
            )
        if self._decision is not None or self._deciding:
            done = self._decision
            detail = f" ({done.action} by {done.lead})" if done else ""
            raise ApplicationError(
                f"the assessment is already decided{detail}", type="AlreadyDecided"
            )
        problems = decision.problems()
        if problems:
            raise ApplicationError("; ".join(problems), type="InvalidDecision")
        self._changes(decision)

    def _changes(self, decision: LeadDecision) -> list[CriterionChange]:
        """The per-criterion diff of an override; raises on unknown criteria or bad scores."""
        assert self._draft is not None
        results = {r.criterion_id: r for r in self._draft.results}
        changes = []
        for criterion_id, score in sorted(decision.scores.items()):
            result = results.get(criterion_id)
            if result is None:
                raise ApplicationError(
                    f"scores: unknown criterion {criterion_id!r}", type="InvalidDecision"
                )
            if result.status == "not_applicable":
                raise ApplicationError(
                    f"scores.{criterion_id}: the criterion does not apply", type="InvalidDecision"
                )
            if not 0 <= score <= result.weight:
                raise ApplicationError(
                    f"scores.{criterion_id}: must be between 0 and {result.weight:g}",
                    type="InvalidDecision",
                )
            if score != result.score:
                changes.append(
                    CriterionChange(
                        criterion_id=criterion_id, field="score", before=result.score, after=score
                    )
                )
        for criterion_id, cause in sorted(decision.causes.items()):
            result = results.get(criterion_id)
            if result is None:
                raise ApplicationError(
                    f"causes: unknown criterion {criterion_id!r}", type="InvalidDecision"
                )
            if cause != result.cause:
                changes.append(
                    CriterionChange(
                        criterion_id=criterion_id, field="cause", before=result.cause, after=cause
                    )
                )
        return changes
