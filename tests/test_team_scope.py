"""A lead acts within their team. When the event names no team for the trainee, the user
directory's team decides who may see and review the assessment (the workflow's validator and
the queue alike); a lead opens a manual assessment only of a ticket they could then see, and a
ticket of another team's agent answers exactly as a ticket that is not stored.

Real Temporal (the dev server, a running worker) and the real database, through HTTP."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.coaching import LeadDecision
from store.tickets import upsert_event
from tests.factories import make_event
from tests.helpers import assessment_of, bearer, until_drafted
from tests.people import LEAD, OUTSIDE_LEAD
from workflows.coaching import CoachingWorkflow

NO_TEAM = {"id": "a-17", "name": "Dana Ruiz"}
TIER2_AGENT = {"id": "a-99", "name": "Sam Lee", "team": "tier2"}
HANDED_OVER = {
    "type": "ticket.reassigned",
    "ticket.agent": TIER2_AGENT,
    "change": {"field": "assignee", "from": "a-17", "to": "a-99"},
}
LEADS = {"tier1": LEAD, "tier2": OUTSIDE_LEAD}


@pytest.mark.parametrize(
    ("overrides", "team"),
    [
        ({"ticket.agent": NO_TEAM}, "tier1"),
        # The trainee handed over; the event's agent (and team) is the next holder's.
        (HANDED_OVER, "tier1"),
        # The directory fills a gap only: the event's own team stands.
        ({"ticket.agent": {**NO_TEAM, "team": "tier2"}}, "tier2"),
    ],
    ids=["no-team", "handed-over", "event-names-team"],
)
async def test_the_directory_s_team_decides_who_reviews_when_the_event_names_none(
    http, tokens, intake, dev_client, sessions, ticket_id, overrides, team
):
    event = make_event(**{"ticket.id": ticket_id, "event_id": f"{ticket_id}-e1", **overrides})
    (workflow_id,) = (await intake.ingest(event)).started
    await until_drafted(dev_client, workflow_id)
    row = await assessment_of(sessions, workflow_id)
    assert (row.agent_id, row.team) == ("a-17", team)
    insider = LEADS[team]
    outsider = LEADS["tier2" if team == "tier1" else "tier1"]

    path = f"/api/assessments/{row.id}"
    assert (await http.get(path, headers=bearer(tokens[outsider.id]))).status_code == 404
    assert (await http.get(path, headers=bearer(tokens[insider.id]))).status_code == 200
    handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, workflow_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            CoachingWorkflow.decide, LeadDecision(action="approve", by=outsider)
        )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "Forbidden"
    decided = await http.post(
        f"{path}/decision", json={"action": "approve"}, headers=bearer(tokens[insider.id])
    )
    assert decided.status_code == 200, decided.text


async def _stored(sessions, ticket_id: str, agent: dict) -> str:
    async with sessions() as session, session.begin():
        await upsert_event(session, make_event(**{"ticket.id": ticket_id, "ticket.agent": agent}))
    return ticket_id


async def _assess(http, tokens, name: str, ticket_id: str, **extra: str):
    body = {"source": "generic", "ticket_id": ticket_id, "rubric": "support-core", **extra}
    return await http.post("/api/assessments", json=body, headers=bearer(tokens[name]))


async def test_a_lead_opens_no_manual_assessment_of_another_team_s_agent(
    http, tokens, sessions, ticket_id
):
    tier2 = await _stored(sessions, f"{ticket_id}-2", TIER2_AGENT)
    unnamed = await _stored(sessions, f"{ticket_id}-0", NO_TEAM)
    missing = await _assess(http, tokens, "lee", f"{ticket_id}-missing")
    assert missing.status_code == 404
    assert missing.json()["detail"] == {
        "error": "NotFound",
        "message": "ticket_id: no stored ticket with that source and id that you may assess",
    }
    # Another team's ticket, and one whose agent the directory puts in another team: the same
    # answer as a missing ticket, byte for byte, naming no id.
    for name, ticket in (("lee", tier2), ("olga", unnamed), ("quinn", tier2)):
        refused = await _assess(http, tokens, name, ticket)
        assert (refused.status_code, refused.content) == (404, missing.content), name
    # Each team's lead may; so may the escalation group's, through an opportunity it reviews.
    for name, ticket, extra in (
        ("olga", tier2, {}),
        ("lee", unnamed, {}),
        ("quinn", tier2, {"opportunity": "low-csat"}),
    ):
        created = await _assess(http, tokens, name, ticket, **extra)
        assert created.status_code == 201, (name, created.text)
        shown = await http.get(
            f"/api/assessments/{created.json()['assessment_id']}", headers=bearer(tokens[name])
        )
        assert shown.status_code == 200, name
