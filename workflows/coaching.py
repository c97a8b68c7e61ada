"""CoachingWorkflow: draft an assessment, wait for the lead, then coach the trainee to closure.

Every state change goes through `self._lock`, so a timer step and an update never interleave:
a handler re-checks its validator's conditions once it holds the lock, because the state may
have moved on between validation and execution. The run is bounded (each task, survey and
response can change state only a fixed number of times), so one run's history stays small.

The annotations here are not postponed (no `from __future__ import annotations`): the sandbox
runs this module again for every workflow it starts, and `workflow.defn` resolves the hints of
every handler each time. Strings are compiled and evaluated on each of those runs: about 0.5 of
the 3.6 ms it takes to set up each workflow.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, cast

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain import overrides, virtual_coach
    from domain.assessment import AssessmentStatus, Draft
    from domain.coaching import (
        CoachingInput,
        CoachingState,
        CriterionChange,
        DecidedDraft,
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
        ANSWER_SURVEY,
        CLOSE_ASSESSMENT,
        DRAFT_ASSESSMENT,
        EXPIRE_SURVEYS,
        LOCAL_ACTIVITY_TIMEOUT,
        RECORD_DECISION,
        RECORD_RESPONSE,
        RECORD_REVIEW_STEP,
        RESOLVE_DISPUTE,
        SAVE_DRAFT,
        START_COACHING,
        TASK_STEP,
    )
    from domain.definitions import ReviewSpec
    from domain.lifecycle import (
        Acknowledge,
        AnswerSurvey,
        AnswerSurveyRequest,
        Closed,
        CloseRequest,
        CoachingStarted,
        CompleteTask,
        Dispute,
        ExpireSurveysRequest,
        ResolveDispute,
        ResolveRequest,
        ResponseRecorded,
        ResponseRequest,
        ResponseView,
        StartCoachingRequest,
        SurveysChanged,
        SurveyView,
        TaskStepDone,
        TaskStepRequest,
        TaskView,
    )
    from domain.plans import coachable_failures, survey_plans, task_plans
    from workflows import rules

RETRY = RetryPolicy(maximum_interval=ACTIVITY_MAX_INTERVAL)
# Since this patch, an approval or override assigns the tasks and sends the surveys in the
# decision's own local activity, so the lead's reply waits for one transaction, not two.
COACHING_WITH_DECISION = "coaching-starts-with-the-decision"


@workflow.defn
class CoachingWorkflow:
    @workflow.init
    def __init__(self, input: CoachingInput) -> None:
        # Set here, not in `run`: an update can arrive in the first activation, before `run`
        # starts, and its validator must then refuse it as NotReady rather than crash.
        self._input: CoachingInput | None = input
        self._status: AssessmentStatus = "drafting"
        self._assessment_id: int | None = None
        self._draft: Draft | None = None
        self._decision: DecisionResult | None = None
        self._assignee: str | None = None
        self._escalated = False
        self._virtual_coach: str | None = None
        self._tasks: dict[int, TaskView] = {}
        self._surveys: dict[int, SurveyView] = {}
        self._response: ResponseView | None = None
        self._coaching_since: datetime | None = None
        self._closed_reason: str | None = None
        self._respond_window_over = False
        self._dispute_over = False
        self._changes = 0
        self._lock = asyncio.Lock()

    async def _local(self, name: str, arg: Any, result_type: type) -> Any:
        return await workflow.execute_local_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    @workflow.run
    async def run(self, input: CoachingInput) -> CoachingState:
        self._input = input
        workflow_id = workflow.info().workflow_id
        draft = await self._local(
            DRAFT_ASSESSMENT,
            DraftRequest(
                workflow_id=workflow_id,
                opportunity=input.opportunity,
                rubric=input.rubric,
                event=input.event,
            ),
            Draft,
        )
        refusal = virtual_coach.refusal(draft, input.opportunity.virtual_coach, input.manual)
        if input.opportunity.virtual_coach:
            self._virtual_coach = "taken" if refusal is None else f"left to a lead: {refusal}"
        saved = await self._local(
            SAVE_DRAFT,
            SaveDraftRequest(
                workflow_id=workflow_id,
                opportunity=input.opportunity,
                rubric=input.rubric,
                event=input.event,
                draft=draft,
                drafted_at=workflow.now(),
                virtual_coach=self._virtual_coach,
            ),
            SavedAssessment,
        )
        self._draft, self._assessment_id, self._status = draft, saved.assessment_id, saved.status
        if input.opportunity.virtual_coach and refusal is None:
            await self._coach(coach_id=None, status="virtual_coach")
        else:
            await self._review_window(input.opportunity.review, workflow_id)
            if self._decision is not None and self._decision.status == "coaching":
                await self._coach(coach_id=self._decision.lead, status="coaching")
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
            if await self._changed_before(opened + offset, lambda: self._decision is not None):
                return
            async with self._lock:
                if self._decision is not None:
                    return
                if step == "expiry":
                    self._status = "closed_incomplete"
                    self._closed_reason = "no lead decided before the review window closed"
                if step == "escalation":
                    self._escalated = True
                assert self._assessment_id is not None
                await self._local(
                    RECORD_REVIEW_STEP,
                    ReviewStepRequest(
                        workflow_id=workflow_id,
                        assessment_id=self._assessment_id,
                        step=step,
                        at=workflow.now(),
                        reviewers=review.by,
                        escalate_to=review.escalate_to,
                    ),
                    ReviewStepRecorded,
                )

    async def _changed_before(self, deadline: datetime, done: Callable[[], bool]) -> bool:
        """True when `done()` holds before `deadline`; False when the deadline passes first."""
        try:
            await workflow.wait_condition(
                done, timeout=max(deadline - workflow.now(), timedelta(0))
            )
        except TimeoutError:
            return False
        return True

    def _coaching_request(
        self,
        coach_id: str | None,
        status: AssessmentStatus,
        changes: list[CriterionChange],
        now: datetime,
    ) -> StartCoachingRequest:
        assert self._input is not None and self._draft is not None
        assert self._assessment_id is not None
        trainee_id = self._draft.trainee.id if self._draft.trainee else None
        failed = coachable_failures(self._draft, changes)
        return StartCoachingRequest(
            workflow_id=workflow.info().workflow_id,
            assessment_id=self._assessment_id,
            status=status,
            trainee_id=trainee_id,
            tasks=task_plans(self._input.opportunity, failed, now) if trainee_id else [],
            surveys=survey_plans(
                self._input.opportunity, self._input.surveys, coach_id, trainee_id, now
            ),
            at=now,
        )

    def _coaching_started(
        self, started: CoachingStarted, status: AssessmentStatus, at: datetime
    ) -> None:
        self._status, self._coaching_since = status, at
        self._tasks = {t.id: t for t in started.tasks}
        self._surveys = {s.id: s for s in started.surveys}

    async def _coach(self, coach_id: str | None, status: AssessmentStatus) -> None:
        """Assign tasks and send surveys, unless the decision already did, then wait on their
        deadlines and the trainee until everything is closed; then close the assessment."""
        if self._coaching_since is None:
            changes = self._decision.changes if self._decision else []
            now = workflow.now()
            async with self._lock:
                request = self._coaching_request(coach_id, status, changes, now)
                started = await self._local(START_COACHING, request, CoachingStarted)
                self._coaching_started(started, status, now)
        while (step := self._next_step()) is not None:
            at, take = step
            seen = self._changes
            if not await self._changed_before(at, lambda seen=seen: self._changes != seen):
                async with self._lock:
                    if self._changes == seen:
                        await take()
        await self._close()

    def _next_step(self) -> tuple[datetime, Callable[[], Awaitable[None]]] | None:
        """The earliest pending deadline and what to do when it passes; None when nothing is
        left open."""
        assert self._input is not None and self._coaching_since is not None
        pending: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []
        for task in self._tasks.values():
            if task.status != "open":
                continue
            if not task.reminded:
                pending.append((task.due_at, task.id, lambda t=task: self._task_step(t, "remind")))
            else:
                pending.append(
                    (task.closes_at, task.id, lambda t=task: self._task_step(t, "close"))
                )
        for survey in self._surveys.values():
            if survey.status == "open":
                pending.append((survey.expires_at, survey.id, self._expire_surveys))
        trainee_known = bool(self._draft and self._draft.trainee)
        if self._response is None and trainee_known and not self._respond_window_over:
            window = self._coaching_since + self._input.opportunity.respond_within
            pending.append((window, 0, self._respond_window_closed))
        elif rules.open_dispute(self._response) and not self._dispute_over:
            assert self._response is not None
            lapse = self._response.at + self._input.opportunity.review.expires
            pending.append((lapse, 0, self._dispute_lapsed))
        if not pending:
            return None
        at, _, take = min(pending, key=lambda p: (p[0], p[1]))
        return at, take

    async def _task_step(self, task: TaskView, step: str) -> None:
        done: TaskStepDone = await self._local(
            TASK_STEP, TaskStepRequest(task_id=task.id, step=step, at=workflow.now()), TaskStepDone
        )
        self._tasks[task.id] = done.task
        self._changes += 1

    async def _expire_surveys(self) -> None:
        assert self._assessment_id is not None
        changed: SurveysChanged = await self._local(
            EXPIRE_SURVEYS,
            ExpireSurveysRequest(assessment_id=self._assessment_id, at=workflow.now()),
            SurveysChanged,
        )
        for survey in changed.surveys:
            self._surveys[survey.id] = survey
        self._changes += 1

    async def _respond_window_closed(self) -> None:
        self._respond_window_over = True
        self._changes += 1

    async def _dispute_lapsed(self) -> None:
        self._dispute_over = True
        self._changes += 1

    async def _close(self) -> None:
        assert self._assessment_id is not None
        open_dispute = rules.open_dispute(self._response)
        undone = [t.key for t in self._tasks.values() if t.status != "completed"]
        if open_dispute:
            status, reason = "closed_incomplete", "the dispute was not resolved in time"
        elif undone:
            status, reason = "closed_incomplete", f"tasks not completed: {', '.join(undone)}"
        else:
            status, reason = "closed_complete", "every task done; surveys answered or expired"
        async with self._lock:
            await self._local(
                CLOSE_ASSESSMENT,
                CloseRequest(
                    workflow_id=workflow.info().workflow_id,
                    assessment_id=self._assessment_id,
                    status=status,
                    reason=reason,
                    at=workflow.now(),
                ),
                Closed,
            )
            self._status, self._closed_reason = cast(AssessmentStatus, status), reason

    @workflow.query
    def state(self) -> CoachingState:
        return CoachingState(
            status=self._status,
            assessment_id=self._assessment_id,
            draft=self._draft,
            decision=self._decision,
            assignee=self._assignee,
            escalated=self._escalated,
            virtual_coach=self._virtual_coach,
            tasks=list(self._tasks.values()),
            surveys=list(self._surveys.values()),
            response=self._response,
            closed_reason=self._closed_reason,
        )

    # The lead's decision.

    @workflow.update
    async def decide(self, decision: LeadDecision) -> DecisionResult:
        async with self._lock:
            self._validate_decision(decision)
            assert self._assessment_id is not None
            changes = rules.criterion_changes(self._draft, decision)
            action = cast(DecisionAction, decision.action)
            status = self._status if action == "reassign" else rules.decided_status(action)
            decided_at = workflow.now()
            update = workflow.current_update_info()
            # Scoped to the assessment: clients choose update ids, and may reuse one elsewhere.
            request_id = f"{self._assessment_id}:{update.id if update else workflow.uuid4().hex}"
            coaching = None
            if action in ("approve", "override") and workflow.patched(COACHING_WITH_DECISION):
                coaching = self._coaching_request(decision.lead, status, changes, decided_at)
            assert self._input is not None and self._draft is not None
            decided = None
            if action in ("approve", "override") and (changes or self._draft.status == "stopped"):
                decided = DecidedDraft(
                    draft=overrides.overridden(self._draft, changes, self._input.rubric),
                    rubric=self._input.rubric,
                    opportunity=self._input.opportunity,
                    event=self._input.event,
                )
            recorded: RecordedDecision = await self._local(
                RECORD_DECISION,
                RecordDecisionRequest(
                    workflow_id=workflow.info().workflow_id,
                    request_id=request_id,
                    assessment_id=self._assessment_id,
                    decision=decision,
                    changes=changes,
                    decided_at=decided_at,
                    new_status=status,
                    coaching=coaching,
                    decided=decided,
                ),
                RecordedDecision,
            )
            if recorded.coaching is not None:
                self._coaching_started(recorded.coaching, status, decided_at)
            result = DecisionResult(
                assessment_id=self._assessment_id,
                action=action,
                lead=decision.lead,
                status=status,
                decided_at=decided_at,
                changes=changes,
                to=decision.to.id if decision.to else None,
            )
            if action == "reassign":
                self._assignee = result.to
            else:
                self._status, self._decision = status, result
            return result

    @decide.validator
    def _validate_decision(self, decision: LeadDecision) -> None:
        assert self._input is not None
        rules.check_decision(
            decision,
            draft=self._draft,
            status=self._status,
            decided=self._decision,
            review=self._input.opportunity.review,
            escalated=self._escalated,
            assignee=self._assignee,
        )

    # The trainee's work.

    @workflow.update
    async def complete_task(self, request: CompleteTask) -> TaskView:
        async with self._lock:
            self._validate_complete_task(request)
            done: TaskStepDone = await self._local(
                TASK_STEP,
                TaskStepRequest(
                    task_id=request.task_id,
                    step="complete",
                    trainee_id=request.by.id,
                    at=workflow.now(),
                ),
                TaskStepDone,
            )
            self._tasks[request.task_id] = done.task
            self._changes += 1
            return done.task

    @complete_task.validator
    def _validate_complete_task(self, request: CompleteTask) -> None:
        rules.check_task(request, self._status, self._tasks.get(request.task_id))

    @workflow.update
    async def answer_survey(self, request: AnswerSurvey) -> SurveyView:
        async with self._lock:
            self._validate_answer_survey(request)
            changed: SurveysChanged = await self._local(
                ANSWER_SURVEY,
                AnswerSurveyRequest(
                    survey_id=request.survey_id,
                    respondent_id=request.by.id,
                    answers=request.answers,
                    at=workflow.now(),
                ),
                SurveysChanged,
            )
            (survey,) = changed.surveys
            self._surveys[survey.id] = survey
            self._changes += 1
            return survey

    @answer_survey.validator
    def _validate_answer_survey(self, request: AnswerSurvey) -> None:
        assert self._input is not None
        rules.check_survey_answer(
            request,
            self._status,
            self._surveys.get(request.survey_id),
            self._input.surveys,
            workflow.now(),
        )

    @workflow.update
    async def acknowledge(self, request: Acknowledge) -> ResponseView:
        async with self._lock:
            self._validate_acknowledge(request)
            return await self._respond(request.by.id, "acknowledged", None)

    @acknowledge.validator
    def _validate_acknowledge(self, request: Acknowledge) -> None:
        rules.check_response(request.by, self._status, self._draft, self._response)

    @workflow.update
    async def dispute(self, request: Dispute) -> ResponseView:
        async with self._lock:
            self._validate_dispute(request)
            return await self._respond(request.by.id, "disputed", request.reason.strip())

    @dispute.validator
    def _validate_dispute(self, request: Dispute) -> None:
        rules.check_response(request.by, self._status, self._draft, self._response)
        rules.check_dispute(request.reason)

    async def _respond(self, trainee_id: str, kind: str, reason: str | None) -> ResponseView:
        assert self._assessment_id is not None
        recorded: ResponseRecorded = await self._local(
            RECORD_RESPONSE,
            ResponseRequest(
                assessment_id=self._assessment_id,
                trainee_id=trainee_id,
                kind=kind,
                reason=reason,
                at=workflow.now(),
            ),
            ResponseRecorded,
        )
        self._response = recorded.response
        self._changes += 1
        return recorded.response

    @workflow.update
    async def resolve_dispute(self, request: ResolveDispute) -> ResponseView:
        async with self._lock:
            self._validate_resolve_dispute(request)
            assert self._assessment_id is not None
            recorded: ResponseRecorded = await self._local(
                RESOLVE_DISPUTE,
                ResolveRequest(
                    assessment_id=self._assessment_id,
                    lead_id=request.by.id,
                    resolution=request.resolution,
                    note=(request.note or "").strip() or None,
                    at=workflow.now(),
                ),
                ResponseRecorded,
            )
            self._response = recorded.response
            self._changes += 1
            return recorded.response

    @resolve_dispute.validator
    def _validate_resolve_dispute(self, request: ResolveDispute) -> None:
        assert self._input is not None
        rules.check_resolution(
            request,
            self._status,
            self._response,
            self._decision,
            self._input.opportunity.review,
            self._draft,
        )
