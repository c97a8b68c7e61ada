"""Record the review SLA's reminder, escalation and expiry."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from domain.coaching import ReviewStepRecorded, ReviewStepRequest
from domain.config import RECORD_REVIEW_STEP
from store.review import record_review_step
from store.uninterrupted import transaction


class ReviewActivities:
    def __init__(self, sessions: async_sessionmaker):
        self.sessions = sessions

    @activity.defn(name=RECORD_REVIEW_STEP)
    async def record_review_step(self, req: ReviewStepRequest) -> ReviewStepRecorded:
        created = await transaction(self.sessions, lambda session: record_review_step(session, req))
        return ReviewStepRecorded(created=created)
