"""Persist a lead's decision, once per update."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.refusals import refused_transitions
from domain.assessment import Draft
from domain.coaching import DecidedDraft, RecordDecisionRequest, RecordedDecision
from domain.config import RECORD_DECISION
from domain.lifecycle import CoachingStarted
from rubrics.notes import render_notes
from store.assessments import record_decision
from store.lifecycle.coaching import start_coaching
from store.lifecycle.views import survey_view, task_view
from store.measurements import append_measurements
from store.uninterrupted import transaction


def _rendered(decided: DecidedDraft | None) -> Draft | None:
    """The decided draft with its coaching note and QA summary rendered again, so neither
    still coaches or scores what the lead changed, nor holds back what the lead released."""
    if decided is None:
        return None
    event = decided.event
    return render_notes(
        decided.draft,
        decided.rubric,
        decided.opportunity,
        f"{event.source}/{event.ticket_id}",
        event.type,
    )


class DecisionActivities:
    def __init__(self, sessions: async_sessionmaker):
        self.sessions = sessions

    @activity.defn(name=RECORD_DECISION)
    async def record_decision(self, req: RecordDecisionRequest) -> RecordedDecision:
        """The decision and, when it starts the coaching, the tasks and surveys: one
        transaction. A retry finds every row already written and returns them."""

        decided = _rendered(req.decided)

        async def write(session: AsyncSession) -> RecordedDecision:
            written = await record_decision(session, req, decided)
            events = written.events if written else []
            if req.coaching is None:
                await append_measurements(session, events)
                return RecordedDecision(created=written is not None)
            with refused_transitions():
                tasks, surveys = await start_coaching(
                    session, req.coaching, written.assessment if written else None, events
                )
            return RecordedDecision(
                created=written is not None,
                coaching=CoachingStarted(
                    tasks=[task_view(t) for t in tasks], surveys=[survey_view(s) for s in surveys]
                ),
            )

        return await transaction(self.sessions, write)
