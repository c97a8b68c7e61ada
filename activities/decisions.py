"""Persist a lead's decision, once per update."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from domain.coaching import RecordDecisionRequest, RecordedDecision
from domain.config import RECORD_DECISION
from store.assessments import record_decision


class DecisionActivities:
    def __init__(self, sessions: async_sessionmaker):
        self.sessions = sessions

    @activity.defn(name=RECORD_DECISION)
    async def record_decision(self, req: RecordDecisionRequest) -> RecordedDecision:
        async with self.sessions() as session, session.begin():
            return RecordedDecision(created=await record_decision(session, req))
