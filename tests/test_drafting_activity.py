"""The drafting activity on its own: a rejected draft still reaches a lead."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

import activities.drafting as drafting
from activities.drafting import DraftingActivities
from rubrics.scoring import EvidenceMismatch
from store.tickets import upsert_event
from tests.drafting import request_for
from tests.factories import make_event


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
