"""The drafting activity on its own: a rejected draft still reaches a lead."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

import activities.drafting as drafting
from activities.drafting import DraftingActivities
from rubrics.scoring import EvidenceMismatch
from store.models import AssessmentRow, CriterionResultRow, MeasurementEventRow
from store.tickets import upsert_event
from tests.drafting import request_for, stored_save_request
from tests.factories import make_event

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_a_draft_with_a_quote_not_in_the_thread_is_stopped_for_a_lead(
    sessions, catalog, monkeypatch
):
    event = make_event()
    async with sessions() as session, session.begin():
        await upsert_event(session, event)

    def forged(rubric, case):
        raise EvidenceMismatch("criterion tone: quote is not verbatim in message m2")

    monkeypatch.setattr(drafting, "draft", forged)
    result = await ActivityEnvironment().run(
        DraftingActivities(sessions).draft_assessment, request_for(event, catalog, "low-csat")
    )
    assert result.status == "stopped"
    assert result.stop_reason.startswith("draft rejected: criterion tone")
    assert "evidence_mismatch" in result.flags and result.trainee.id == "a-17"


async def test_a_ticket_missing_from_the_store_is_stopped(sessions, catalog):
    event = make_event()
    result = await ActivityEnvironment().run(
        DraftingActivities(sessions).draft_assessment, request_for(event, catalog, "low-csat")
    )
    assert result.status == "stopped"
    assert result.stop_reason == "evidence missing: the ticket is not in the store"


async def test_a_retried_save_finds_its_row_and_writes_nothing_twice(sessions, catalog):
    save = await stored_save_request(sessions, catalog, make_event(), T0)
    draft = save.draft

    first = await ActivityEnvironment().run(DraftingActivities(sessions).save_draft, save)
    again = await ActivityEnvironment().run(DraftingActivities(sessions).save_draft, save)

    assert (first.created, again.created) == (True, False)
    assert first.assessment_id == again.assessment_id and again.status == "awaiting_review"
    async with sessions() as session:
        row = await session.get(AssessmentRow, first.assessment_id)
        results = (
            await session.execute(
                select(CriterionResultRow.criterion_id, CriterionResultRow.position).where(
                    CriterionResultRow.assessment_id == row.id
                )
            )
        ).all()
        kinds = Counter(
            (
                await session.execute(
                    select(MeasurementEventRow.kind).where(
                        MeasurementEventRow.assessment_id == row.id
                    )
                )
            ).scalars()
        )
    assert (row.workflow_id, row.agent_id, row.team, row.score) == (
        "w",
        "a-17",
        "tier1",
        draft.score,
    )
    assert sorted(results, key=lambda r: r.position) == [
        (r.criterion_id, i) for i, r in enumerate(draft.results)
    ]
    assert kinds == Counter(assessment_drafted=1, process_issue=len(draft.process_issues))


async def test_a_ticket_whose_stored_thread_outgrew_one_event_is_drafted(sessions, catalog):
    """2,000 messages in one event and one more in the next: the draft reads all 2,001."""

    def message(i: int) -> dict:
        role = "agent" if i % 2 else "customer"
        author = {"id": "a-17" if i % 2 else "c-9", "role": role}
        return {"id": f"m{i}", "author": author, "body": f"Message {i}, call +1 415 555 0142."}

    first = make_event(**{"ticket.messages": [message(i) for i in range(2000)]})
    later = make_event(**{"event_id": "evt-2", "ticket.messages": [message(2000)]})
    for stored in (first, later):
        async with sessions() as session, session.begin():
            await upsert_event(session, stored)
    result = await ActivityEnvironment().run(
        DraftingActivities(sessions).draft_assessment, request_for(later, catalog, "low-csat")
    )
    assert result.status == "awaiting_review", result.stop_reason
    assert result.trainee.id == "a-17"
