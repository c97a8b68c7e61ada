"""A lead acts within their team. When the event names no team for the trainee, the user
directory's team decides who may see and review the assessment (the workflow's validator and
the queue alike); a lead opens a manual assessment only of a ticket they could then see, and a
ticket of another team's agent answers exactly as a ticket that is not stored.

Real Temporal (the dev server, a running worker) and the real database, through HTTP."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.coaching import LeadDecision
from domain.definitions import Opportunity
from domain.people import Actor
from domain.visibility import visibility
from service.manual import _may_see, _opportunity
from store.models import AssessmentRow
from store.tickets import upsert_event
from tests.factories import make_event
from tests.helpers import assessment_of, bearer, until_drafted
from tests.people import ADMIN, LEAD, OTHER_TRAINEE, OUTSIDE_LEAD, QA_LEAD, TRAINEE
from tests.test_metrics import add_ticket
from web.actions import visible
from web.auth import User
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


AUDIT = Opportunity(
    id="audit",
    name="Audit",
    version=1,
    on=["ticket.solved"],
    rubric="support-core",
    review={"by": "auditors", "due": "3d"},
)
ACTORS = [
    ADMIN,
    LEAD,
    OUTSIDE_LEAD,
    QA_LEAD,
    Actor(id="ann", role="lead", groups=["auditors"]),
    Actor(id="nell", role="lead"),
    TRAINEE,
    OTHER_TRAINEE,
]
GRID = {
    "team": ("tier1", "tier2", None),
    "opportunity_id": ("low-csat", "audit", "manual"),
    "assigned_lead": (None, "lee", "ann"),
    "agent_id": ("a-17", "a-99"),
    "released_at": (None, datetime(2026, 3, 2, tzinfo=UTC)),
}


def _before(by: Actor, team: str | None, opportunity: Opportunity | None) -> bool:
    """The manual-assessment check as it was written before the rule was shared."""
    if by.role == "admin" or team is None or team in by.teams:
        return True
    review = opportunity.review if opportunity else None
    return review is not None and (review.by in by.groups or review.escalate_to in by.groups)


async def test_the_queue_and_manual_assessments_follow_one_visibility_rule(sessions, catalog):
    """`web.actions.visible` (the queue, the pages, the metrics' scope) and a manual
    assessment's check (`service.manual`) are two readings of `domain.visibility`: over every
    combination of team, opportunity, reassignment, agent and release, the SQL selects exactly
    the assessments the rule admits; and a lead may open a manual assessment exactly where the
    SQL would show it to them, unreassigned and unreleased, as the check did before."""
    catalog = dataclasses.replace(catalog, opportunities={**catalog.opportunities, "audit": AUDIT})
    ids: dict[int, dict] = {}
    async with sessions() as session, session.begin():
        ticket = await add_ticket(session, "grid", "a-17")
        for n, values in enumerate(itertools.product(*GRID.values())):
            columns = dict(zip(GRID, values, strict=True))
            row = AssessmentRow(
                **columns,
                workflow_id=f"grid/{n}",
                opportunity_version=1,
                rubric_id="support-core",
                rubric_version=2,
                ticket_id=ticket.id,
                source="generic",
                ticket_external_id="grid",
                event_id=f"grid-{n}",
                event_type="ticket.solved",
                status="awaiting_review",
                confidence=1.0,
                priority=0,
                flags=[],
                summary="",
                created_at=ticket.last_event_at,
                updated_at=ticket.last_event_at,
            )
            session.add(row)
            await session.flush()
            ids[row.id] = columns
    rubric = catalog.approved_rubric("support-core").ref
    for actor in ACTORS:
        rule = visibility(actor, catalog.opportunities.values())
        async with sessions() as session:
            query = select(AssessmentRow.id).where(visible(User(actor), catalog))
            shown = set((await session.execute(query)).scalars())
        assert shown == {i for i, columns in ids.items() if rule.admits(columns)}, actor.id
        if actor.role == "trainee":
            continue  # only a lead opens a manual assessment (POST /api/assessments)
        for team, named in itertools.product(GRID["team"], ("low-csat", "audit", None)):
            opportunity = _opportunity(catalog, rubric, named)
            fresh = next(
                i
                for i, c in ids.items()
                if (c["team"], c["opportunity_id"]) == (team, opportunity.id)
                and c["assigned_lead"] is None
                and c["released_at"] is None
                and c["agent_id"] == "a-17"
            )
            allowed = _may_see(actor, catalog, team, opportunity)
            assert allowed == (fresh in shown), (actor.id, team, named)
            assert allowed == _before(actor, team, opportunity if named else None)
