"""The lifecycle's side effects: tasks, skills, surveys, the trainee's response, closure.

Each activity is one transaction over an idempotent store call, so a retry after a crash
changes nothing that the first attempt already wrote.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.refusals import refused_transitions
from domain.config import (
    ANSWER_SURVEY,
    CLOSE_ASSESSMENT,
    EXPIRE_SURVEYS,
    RECORD_RESPONSE,
    RESOLVE_DISPUTE,
    START_COACHING,
    TASK_STEP,
)
from domain.lifecycle import (
    AnswerSurveyRequest,
    Closed,
    CloseRequest,
    CoachingStarted,
    ExpireSurveysRequest,
    ResolveRequest,
    ResponseRecorded,
    ResponseRequest,
    StartCoachingRequest,
    SurveysChanged,
    TaskStepDone,
    TaskStepRequest,
)
from store import lifecycle
from store.lifecycle.coaching import close_assessment, start_coaching
from store.lifecycle.views import response_view, survey_view, task_view
from store.uninterrupted import transaction


class LifecycleActivities:
    def __init__(self, sessions: async_sessionmaker):
        self.sessions = sessions

    @activity.defn(name=START_COACHING)
    async def start_coaching(self, req: StartCoachingRequest) -> CoachingStarted:
        async def write(session: AsyncSession) -> CoachingStarted:
            with refused_transitions():
                tasks, surveys = await start_coaching(session, req)
            return CoachingStarted(
                tasks=[task_view(t) for t in tasks], surveys=[survey_view(s) for s in surveys]
            )

        return await transaction(self.sessions, write)

    @activity.defn(name=TASK_STEP)
    async def task_step(self, req: TaskStepRequest) -> TaskStepDone:
        async def write(session: AsyncSession) -> TaskStepDone:
            with refused_transitions():
                if req.step == "complete":
                    assert req.trainee_id is not None
                    task, skill = await lifecycle.complete_task(
                        session, req.task_id, req.trainee_id, req.at
                    )
                    return TaskStepDone(task=task_view(task, skill is not None))
                if req.step == "remind":
                    task = await lifecycle.remind_task(session, req.task_id, req.at)
                else:
                    task = await lifecycle.close_task(session, req.task_id, req.at)
            return TaskStepDone(task=task_view(task))

        return await transaction(self.sessions, write)

    @activity.defn(name=ANSWER_SURVEY)
    async def answer_survey(self, req: AnswerSurveyRequest) -> SurveysChanged:
        async def write(session: AsyncSession) -> SurveysChanged:
            with refused_transitions():
                survey = await lifecycle.answer_survey(
                    session, req.survey_id, req.respondent_id, req.answers, req.at
                )
            return SurveysChanged(surveys=[survey_view(survey)])

        return await transaction(self.sessions, write)

    @activity.defn(name=EXPIRE_SURVEYS)
    async def expire_surveys(self, req: ExpireSurveysRequest) -> SurveysChanged:
        async def write(session: AsyncSession) -> SurveysChanged:
            with refused_transitions():
                rows = await lifecycle.expire_surveys(session, req.assessment_id, req.at)
            return SurveysChanged(surveys=[survey_view(s) for s in rows])

        return await transaction(self.sessions, write)

    @activity.defn(name=RECORD_RESPONSE)
    async def record_response(self, req: ResponseRequest) -> ResponseRecorded:
        async def write(session: AsyncSession) -> ResponseRecorded:
            with refused_transitions():
                if req.kind == "acknowledged":
                    row = await lifecycle.acknowledge(
                        session, req.assessment_id, req.trainee_id, req.at
                    )
                else:
                    row = await lifecycle.dispute(
                        session, req.assessment_id, req.trainee_id, req.reason or "", req.at
                    )
            return ResponseRecorded(response=response_view(row))

        return await transaction(self.sessions, write)

    @activity.defn(name=RESOLVE_DISPUTE)
    async def resolve_dispute(self, req: ResolveRequest) -> ResponseRecorded:
        async def write(session: AsyncSession) -> ResponseRecorded:
            with refused_transitions():
                row = await lifecycle.resolve_dispute(
                    session, req.assessment_id, req.lead_id, req.resolution, req.note, req.at
                )
            return ResponseRecorded(response=response_view(row))

        return await transaction(self.sessions, write)

    @activity.defn(name=CLOSE_ASSESSMENT)
    async def close_assessment(self, req: CloseRequest) -> Closed:
        async def write(session: AsyncSession) -> Closed:
            return Closed(created=await close_assessment(session, req))

        return await transaction(self.sessions, write)

    def all(self) -> list:
        return [
            self.start_coaching,
            self.task_step,
            self.answer_survey,
            self.expire_surveys,
            self.record_response,
            self.resolve_dispute,
            self.close_assessment,
        ]
