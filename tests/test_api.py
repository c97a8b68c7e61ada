"""The JSON API through HTTP against the real dev server, a running worker and the real
database: every endpoint's success path and its error codes, idempotent decisions, and what a
trainee may never see."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from domain.definitions import SurveyTemplate
from service.intake import Intake
from store.db import make_engine, session_factory
from store.models import (
    AuditRow,
    CoachingResponseRow,
    DecisionRow,
    LearningTaskRow,
    MeasurementEventRow,
    SkillRow,
    SurveyRow,
)
from tests.app_support import post_login
from tests.factories import event_dict
from tests.helpers import assessment_of, bearer, until_drafted
from web.app import create_app
from web.context import WebContext
from workflows.coaching import CoachingWorkflow

ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
OVERRIDE = {"action": "override", "scores": {"empathy": 0}, "reason": "no empathy in reply 2"}
TRAINEE_ANSWERS = {"usefulness": 5, "fairness": 4}
COACH_ANSWERS = {"competence": 4, "applied_coaching": 3}
RAW = ("maria@example.org", "7946 0958", "Maria Lopez")  # in the raw thread, never redacted text


def _event(ticket_id: str, agent: str = "a-17", team: str = "tier1"):
    from domain.events import TicketEvent

    data = event_dict(
        **{
            "event_id": f"evt-{ticket_id}",
            "ticket.id": ticket_id,
            "ticket.agent": {"id": agent, "name": "Dana Ruiz", "team": team},
        }
    )
    data["ticket"]["messages"][1]["author"]["id"] = agent
    return TicketEvent.model_validate(data)


async def drafted(intake: Intake, client: Client, sessions, agent="a-17", team="tier1") -> int:
    ticket_id = f"t{uuid.uuid4().hex[:12]}"
    (workflow_id,) = (await intake.ingest(_event(ticket_id, agent, team))).started
    await until_drafted(client, workflow_id)
    return (await assessment_of(sessions, workflow_id)).id


async def call(
    http: httpx.AsyncClient, method: str, path: str, token: str | None = None, **kwargs: Any
) -> httpx.Response:
    headers = {**(bearer(token) if token else {}), **kwargs.pop("headers", {})}
    return await http.request(method, path, headers=headers, **kwargs)


def refused(response: httpx.Response, status: int, error: str | None = None, field: str = ""):
    """The response is `status` with the problem shape; its message names `field`."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail["error"], str) and isinstance(detail["message"], str), detail
    if error:
        assert detail["error"] == error, detail
    assert field in detail["message"], detail
    return detail


async def counts(sessions) -> dict[str, int]:
    tables = (
        DecisionRow,
        LearningTaskRow,
        SkillRow,
        SurveyRow,
        CoachingResponseRow,
        MeasurementEventRow,
        AuditRow,
    )
    async with sessions() as session:
        return {
            t.__name__: (await session.execute(select(func.count()).select_from(t))).scalar_one()
            for t in tables
        }


async def count(sessions, model: Any, *where: Any) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(model).where(*where)
        return (await session.execute(query)).scalar_one()


async def workflow_of(http: httpx.AsyncClient, token: str, assessment_id: int) -> str:
    response = await call(http, "GET", f"/api/assessments/{assessment_id}", token)
    return response.json()["workflow_id"]


async def status_after(http, token: str, assessment_id: int, leaving: str) -> str:
    """The assessment's status once it has left `leaving` (the workflow closes it shortly
    after the last step of the coaching)."""
    async with asyncio.timeout(30):
        while True:
            response = await call(http, "GET", f"/api/assessments/{assessment_id}", token)
            if (status := response.json()["status"]) != leaving:
                return status
            await asyncio.sleep(0.05)


async def accepted_updates(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(1 for e in history.events if e.event_type == ACCEPTED)


@pytest.fixture
async def pending(intake, dev_client, sessions, worker) -> int:
    """An assessment of a-17 (team tier1) awaiting review."""
    return await drafted(intake, dev_client, sessions)


@pytest.fixture
async def coaching(http, tokens, pending) -> int:
    """Overridden by lee: one task (empathy-refresher) for a-17, a survey for each of them."""
    response = await call(
        http, "POST", f"/api/assessments/{pending}/decision", tokens["lee"], json=OVERRIDE
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "coaching"
    return pending


# Authentication.


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}, {"Authorization": ""}],
)
async def test_no_or_bad_token_is_401(http, tokens, headers):
    for path in ("/api/assessments", "/api/me/tasks", "/api/metrics", "/api/admin/audit"):
        response = await http.get(path, headers=headers)
        refused(response, 401, "Unauthorized", "authorization")
        assert response.headers["www-authenticate"] == "Bearer"
    response = await http.post("/api/assessments/1/decision", headers=headers, json=OVERRIDE)
    refused(response, 401, "Unauthorized")


# The queue.


async def test_list_is_visible_queue_order_and_paginated(
    http, tokens, intake, dev_client, sessions, worker
):
    ids = [await drafted(intake, dev_client, sessions) for _ in range(3)]
    other = await drafted(intake, dev_client, sessions, agent="a-99", team="tier2")
    response = await call(http, "GET", "/api/assessments", tokens["lee"])
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 3 and (page["limit"], page["offset"]) == (50, 0)
    assert sorted(i["id"] for i in page["items"]) == ids  # never tier2's
    first = page["items"][0]
    assert first["status"] == "awaiting_review" and first["agent_id"] == "a-17"
    assert first["review_due_at"] is not None and first["flags"] is not None
    order = [i["id"] for i in page["items"]]

    second = await call(http, "GET", "/api/assessments?limit=2&offset=1", tokens["lee"])
    assert [i["id"] for i in second.json()["items"]] == order[1:3]
    assert second.json()["total"] == 3

    everyone = await call(http, "GET", "/api/assessments?agent=a-99", tokens["ada"])
    assert [i["id"] for i in everyone.json()["items"]] == [other]
    none = await call(
        http, "GET", "/api/assessments?status=coaching&status=dismissed", tokens["ada"]
    )
    assert none.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    by_opportunity = await call(
        http, "GET", "/api/assessments?opportunity=low-csat", tokens["olga"]
    )
    assert [i["id"] for i in by_opportunity.json()["items"]] == [other]

    refused(
        await call(http, "GET", "/api/assessments?limit=201", tokens["lee"]), 422, field="limit"
    )
    refused(await call(http, "GET", "/api/assessments?limit=0", tokens["lee"]), 422, field="limit")
    refused(
        await call(http, "GET", "/api/assessments?offset=-1", tokens["lee"]), 422, field="offset"
    )
    refused(
        await call(http, "GET", "/api/assessments?status=bogus", tokens["lee"]), 422, field="status"
    )
    refused(
        await call(http, "GET", "/api/assessments?agent=%00x", tokens["lee"]), 422, field="agent"
    )
    typo = await call(http, "GET", "/api/assessments?stauts=coaching", tokens["lee"])
    refused(typo, 422, "Invalid", "query: unknown parameter 'stauts'")


# One assessment.


async def test_detail_for_a_lead_has_evidence_flags_and_the_raw_thread(http, tokens, pending):
    response = await call(http, "GET", f"/api/assessments/{pending}", tokens["lee"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == pending and body["status"] == "awaiting_review"
    assert body["ticket_id"].startswith("t") and body["source"] == "generic"
    empathy = next(r for r in body["results"] if r["criterion_id"] == "empathy")
    assert {"status", "score", "max_score", "cause", "evidence"} <= set(empathy)
    quotes = [e for r in body["results"] for e in r["evidence"] if e["kind"] == "message"]
    assert quotes and all("quote" in q for q in quotes)
    assert any(q.get("source") for q in quotes)  # where each excerpt sits, for leads
    assert body["coaching_note"] and body["qa_summary"] and body["flags"] is not None
    assert isinstance(body["process_issues"], list)
    assert body["decisions"] == []
    assert body["lifecycle"] == {"tasks": [], "surveys": [], "response": None}
    thread = body["thread"]
    assert [m["id"] for m in thread["messages"]] == ["m1", "m2"]
    assert "maria@example.org" in thread["messages"][1]["body"]  # raw, for leads only
    admin = await call(http, "GET", f"/api/assessments/{pending}", tokens["ada"])
    assert admin.status_code == 200 and admin.json()["thread"] is not None

    refused(
        await call(http, "GET", "/api/assessments/999999", tokens["lee"]), 404, "NotFound", "id"
    )
    refused(await call(http, "GET", f"/api/assessments/{pending}", tokens["olga"]), 404)
    refused(
        await call(http, "GET", "/api/assessments/0", tokens["lee"]), 422, field="assessment_id"
    )
    refused(
        await call(http, "GET", "/api/assessments/abc", tokens["lee"]), 422, field="assessment_id"
    )


async def test_a_trainee_never_sees_an_undecided_draft_nor_the_raw_thread(
    http, tokens, pending, sessions
):
    listed = await call(http, "GET", "/api/assessments", tokens["a-17"])
    assert listed.status_code == 200 and listed.json()["items"] == []
    refused(await call(http, "GET", f"/api/assessments/{pending}", tokens["a-17"]), 404)
    decided = await call(
        http, "POST", f"/api/assessments/{pending}/decision", tokens["lee"], json=OVERRIDE
    )
    assert decided.status_code == 200

    response = await call(http, "GET", f"/api/assessments/{pending}", tokens["a-17"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "coaching"
    assert body["thread"] is None
    for lead_only in ("flags", "priority", "confidence", "process_issues", "qa_summary"):
        assert body[lead_only] is None, lead_only
    evidence = [e for r in body["results"] for e in r["evidence"]]
    assert evidence and all("source" not in e or e["source"] is None for e in evidence)
    assert body["coaching_note"]
    assert [d["action"] for d in body["decisions"]] == ["override"]
    assert [s["audience"] for s in body["lifecycle"]["surveys"]] == ["trainee"]
    for raw in RAW:
        assert raw not in response.text, raw
    listed = await call(http, "GET", "/api/assessments", tokens["a-17"])
    assert [i["id"] for i in listed.json()["items"]] == [pending]
    assert listed.json()["items"][0]["flags"] is None
    # Another trainee sees nothing of it.
    refused(await call(http, "GET", f"/api/assessments/{pending}", tokens["a-99"]), 404)
    assert (await call(http, "GET", "/api/assessments", tokens["a-99"])).json()["total"] == 0


# Decisions.


async def test_decision_approve_is_audited_and_a_second_is_409_with_the_existing(
    http, tokens, pending, sessions
):
    response = await call(
        http,
        "POST",
        f"/api/assessments/{pending}/decision",
        tokens["lee"],
        json={"action": "approve"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["assessment_id"] == pending
    assert (result["action"], result["lead"], result["status"]) == ("approve", "lee", "coaching")
    assert result["changes"] == [] and result["decided_at"]

    again = await call(
        http, "POST", f"/api/assessments/{pending}/decision", tokens["sam"], json=OVERRIDE
    )
    detail = refused(again, 409, "AlreadyDecided")
    assert detail["existing"]["action"] == "approve" and detail["existing"]["lead"] == "lee"

    audit = await call(http, "GET", "/api/admin/audit", tokens["ada"])
    assert audit.status_code == 200
    (entry,) = [e for e in audit.json()["items"] if e["action"].startswith("decision.")]
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "lee",
        "decision.approve",
        f"assessment:{pending}",
    )
    detail_after = await call(http, "GET", f"/api/assessments/{pending}", tokens["lee"])
    assert [d["lead"] for d in detail_after.json()["decisions"]] == ["lee"]


async def test_decision_refusals_name_the_field_and_change_nothing(
    http, tokens, pending, sessions, dev_client
):
    path = f"/api/assessments/{pending}/decision"
    workflow_id = await workflow_of(http, tokens["lee"], pending)
    before = await counts(sessions), await accepted_updates(dev_client, workflow_id)
    # Wrong role: trainees and admins never decide.
    refused(await call(http, "POST", path, tokens["a-17"], json=OVERRIDE), 403, "Forbidden", "role")
    refused(await call(http, "POST", path, tokens["ada"], json=OVERRIDE), 403, "Forbidden", "role")
    # A lead outside the team does not see it.
    refused(await call(http, "POST", path, tokens["olga"], json=OVERRIDE), 404, "NotFound")
    refused(
        await call(http, "POST", "/api/assessments/999999/decision", tokens["lee"], json=OVERRIDE),
        404,
    )
    # Bad input: by the API's schema, then by the workflow's validator.
    for body, field in [
        ({"action": "promote"}, "action"),
        ({}, "action"),
        ({"action": "approve", "extra": 1}, "extra"),
        ({"action": "override", "scores": {"empathy": "x"}}, "scores.empathy"),
        ({"action": "override", "causes": {"empathy": "weather"}}, "causes.empathy"),
        ({"action": "dismiss", "reason": "a\x00b"}, "reason"),
        ({"action": "reassign", "to": "no body"}, "to"),
        ({"action": "override", "scores": {"empathy": 0}}, "reason"),
        ({"action": "dismiss"}, "reason"),
        ({"action": "override", "reason": "r", "scores": {"nonsense": 1}}, "scores"),
        ({"action": "override", "reason": "r", "scores": {"empathy": 99}}, "scores.empathy"),
        ({"action": "approve", "note": "n"}, "note"),
        ({"action": "reassign"}, "to"),
        ({"action": "reassign", "to": "nobody"}, "to"),
        ({"action": "reassign", "to": "a-17"}, "to"),
        ({"action": "reassign", "to": "lee"}, "to"),
    ]:
        refused(await call(http, "POST", path, tokens["lee"], json=body), 422, field=field)
    json_type = {"content-type": "application/json"}
    for raw, field in [
        (b"{not json", "JSON"),
        (b'{"action": "override", "reason": "r", "scores": {"empathy": 1e400}}', "scores.empathy"),
        (b'{"action": "dismiss", "reason": "\\ud800"}', "reason"),
        (b'{"action": "\xc3\x28"}', "body"),
    ]:
        response = await call(http, "POST", path, tokens["lee"], content=raw, headers=json_type)
        refused(response, 422, field=field)
    refused(
        await call(
            http,
            "POST",
            path,
            tokens["lee"],
            json=OVERRIDE,
            headers={"Idempotency-Key": "no spaces"},
        ),
        422,
        field="Idempotency-Key",
    )
    too_big = {"action": "dismiss", "reason": "x" * 300_000}
    refused(await call(http, "POST", path, tokens["lee"], json=too_big), 413, "TooLarge", "body")
    assert (await counts(sessions), await accepted_updates(dev_client, workflow_id)) == before
    state = await dev_client.get_workflow_handle(workflow_id).query(CoachingWorkflow.state)
    assert state.status == "awaiting_review" and state.decision is None


async def test_a_decision_whose_coaching_the_store_refuses_is_409_naming_why_and_changes_nothing(
    http, tokens, pending, sessions, dev_client
):
    """The override's task is already in the store for another trainee: the decision and its
    coaching roll back together, and the lead reads the store's reason, not a bare state."""
    path = f"/api/assessments/{pending}/decision"
    workflow_id = await workflow_of(http, tokens["lee"], pending)
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        stray = LearningTaskRow(
            assessment_id=pending,
            task_key="empathy-refresher",
            title="Empathy refresher",
            trainee_id="a-99",
            status="open",
            assigned_at=now,
            due_at=now + timedelta(days=7),
            closes_at=now + timedelta(days=7),
        )
        session.add(stray)
    before = await counts(sessions)

    detail = refused(
        await call(http, "POST", path, tokens["lee"], json=OVERRIDE), 409, "LifecycleRefused"
    )
    assert detail["message"] == f"assessment {pending} tasks belong to another trainee"
    assert await counts(sessions) == before
    state = await dev_client.get_workflow_handle(workflow_id).query(CoachingWorkflow.state)
    assert state.status == "awaiting_review" and state.decision is None

    async with sessions() as session, session.begin():
        await session.delete(await session.get(LearningTaskRow, stray.id))
    response = await call(http, "POST", path, tokens["lee"], json=OVERRIDE)
    assert response.status_code == 200 and response.json()["status"] == "coaching", response.text
    assert await count(sessions, DecisionRow, DecisionRow.assessment_id == pending) == 1


async def test_the_idempotency_key_applies_a_decision_once(
    http, tokens, pending, sessions, dev_client
):
    path = f"/api/assessments/{pending}/decision"
    key = {"Idempotency-Key": f"req-{uuid.uuid4().hex}"}
    first = await call(http, "POST", path, tokens["lee"], json=OVERRIDE, headers=key)
    assert first.status_code == 200, first.text
    second = await call(http, "POST", path, tokens["lee"], json=OVERRIDE, headers=key)
    assert second.status_code == 200, second.text
    assert second.json() == first.json()
    assert await count(sessions, DecisionRow, DecisionRow.assessment_id == pending) == 1
    assert await count(sessions, AuditRow, AuditRow.action == "decision.override") == 1
    assert await count(sessions, LearningTaskRow) == 1
    workflow_id = await workflow_of(http, tokens["lee"], pending)
    assert await accepted_updates(dev_client, workflow_id) == 1
    # Without the key, the same body again is a second decision: refused.
    refused(await call(http, "POST", path, tokens["lee"], json=OVERRIDE), 409, "AlreadyDecided")


async def test_reassign_then_the_new_lead_decides(http, tokens, pending):
    path = f"/api/assessments/{pending}/decision"
    moved = await call(http, "POST", path, tokens["lee"], json={"action": "reassign", "to": "sam"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["action"], moved.json()["to"], moved.json()["status"]) == (
        "reassign",
        "sam",
        "awaiting_review",
    )
    refused(await call(http, "POST", path, tokens["lee"], json=OVERRIDE), 403, "Forbidden", "by")
    dismissed = await call(
        http,
        "POST",
        path,
        tokens["sam"],
        json={"action": "dismiss", "reason": "not a coaching case"},
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    # Decided and closed: any further decision is refused as a conflict.
    refused(await call(http, "POST", path, tokens["sam"], json={"action": "approve"}), 409)


# Manual assessments.


async def test_manual_assessment(http, tokens, pending, sessions):
    ticket = (await call(http, "GET", f"/api/assessments/{pending}", tokens["lee"])).json()
    body = {"source": "generic", "ticket_id": ticket["ticket_id"], "rubric": "support-core"}
    response = await call(http, "POST", "/api/assessments", tokens["lee"], json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["workflow_id"].startswith("coaching/manual/generic/")
    assert created["assessment_id"] and created["status"] in ("awaiting_review", "stopped")
    shown = await call(http, "GET", f"/api/assessments/{created['assessment_id']}", tokens["lee"])
    assert shown.json()["event_type"] == "coaching.manual"
    borrowed = await call(
        http, "POST", "/api/assessments", tokens["lee"], json={**body, "opportunity": "low-csat"}
    )
    assert borrowed.status_code == 201 and borrowed.json()["assessment_id"]
    audit = (
        await call(http, "GET", "/api/admin/audit?action=assessment.manual", tokens["ada"])
    ).json()
    assert [e["actor"] for e in audit["items"]] == ["lee", "lee"]

    refused(
        await call(http, "POST", "/api/assessments", tokens["a-17"], json=body), 403, "Forbidden"
    )
    refused(
        await call(http, "POST", "/api/assessments", tokens["ada"], json=body), 403, "Forbidden"
    )
    refused(
        await call(
            http, "POST", "/api/assessments", tokens["lee"], json={**body, "ticket_id": "nope"}
        ),
        404,
        "NotFound",
        "ticket_id",
    )
    refused(
        await call(
            http, "POST", "/api/assessments", tokens["lee"], json={**body, "rubric": "nope"}
        ),
        422,
        field="rubric",
    )
    refused(
        await call(
            http,
            "POST",
            "/api/assessments",
            tokens["lee"],
            json={**body, "rubric": "support-core@99"},
        ),
        422,
        field="rubric",
    )
    refused(
        await call(
            http, "POST", "/api/assessments", tokens["lee"], json={**body, "opportunity": "nope"}
        ),
        422,
        field="opportunity",
    )
    refused(
        await call(http, "POST", "/api/assessments", tokens["lee"], json={"source": "generic"}),
        422,
        field="ticket_id",
    )


# The coaching lifecycle.


async def test_tasks_and_skills(http, tokens, coaching, sessions):
    tasks = await call(http, "GET", "/api/me/tasks", tokens["a-17"])
    assert tasks.status_code == 200, tasks.text
    (task,) = tasks.json()
    assert (task["key"], task["status"], task["skill"], task["assessment_id"]) == (
        "empathy-refresher",
        "open",
        "empathy",
        coaching,
    )
    assert (await call(http, "GET", "/api/me/tasks?status=completed", tokens["a-17"])).json() == []
    assert (await call(http, "GET", "/api/me/tasks", tokens["a-99"])).json() == []
    refused(
        await call(http, "GET", "/api/me/tasks?status=late", tokens["a-17"]), 422, field="status"
    )

    done = await call(http, "POST", f"/api/tasks/{task['id']}/complete", tokens["a-17"])
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["skill_awarded"]) == ("completed", True)
    again = await call(http, "POST", f"/api/tasks/{task['id']}/complete", tokens["a-17"])
    refused(again, 409, "AlreadyDone")
    refused(await call(http, "POST", "/api/tasks/999999/complete", tokens["a-17"]), 404, "NotFound")
    refused(
        await call(http, "POST", "/api/tasks/-4/complete", tokens["a-17"]), 422, field="task_id"
    )

    skills = await call(http, "GET", "/api/me/skills", tokens["a-17"])
    assert [(s["skill"], s["assessment_id"], s["task_id"]) for s in skills.json()] == [
        ("empathy", coaching, task["id"])
    ]
    assert (await call(http, "GET", "/api/me/skills", tokens["a-99"])).json() == []


async def test_reaching_for_a_trainees_task_is_404_unseen_403_seen_and_nothing_changes(
    http, tokens, coaching, sessions, dev_client
):
    (task,) = (await call(http, "GET", "/api/me/tasks", tokens["a-17"])).json()
    workflow_id = await workflow_of(http, tokens["lee"], coaching)
    handle = dev_client.get_workflow_handle(workflow_id)
    before = (
        await counts(sessions),
        await accepted_updates(dev_client, workflow_id),
        await handle.query(CoachingWorkflow.state),
    )
    for name, status, error, field in (
        ("a-99", 404, "NotFound", "id"),
        ("lee", 403, "Forbidden", "by"),
        ("ada", 403, "Forbidden", "by"),
    ):
        response = await call(http, "POST", f"/api/tasks/{task['id']}/complete", tokens[name])
        refused(response, status, error, field)
    after = (
        await counts(sessions),
        await accepted_updates(dev_client, workflow_id),
        await handle.query(CoachingWorkflow.state),
    )
    assert after == before
    (still,) = (await call(http, "GET", "/api/me/tasks", tokens["a-17"])).json()
    assert still["status"] == "open" and still["completed_at"] is None
    assert (await call(http, "GET", "/api/me/skills", tokens["a-99"])).json() == []


async def test_surveys(http, tokens, coaching):
    mine = await call(http, "GET", "/api/me/surveys", tokens["a-17"])
    assert mine.status_code == 200, mine.text
    (survey,) = mine.json()
    assert (survey["audience"], survey["template_id"], survey["template_version"]) == (
        "trainee",
        "trainee-rates-coaching",
        1,
    )
    assert [q["id"] for q in survey["questions"]] == ["usefulness", "fairness", "comments"]
    assert survey["questions"][0]["kind"] == "scale" and survey["answers"] is None
    (coach,) = (await call(http, "GET", "/api/me/surveys", tokens["lee"])).json()
    assert coach["audience"] == "coach"

    path = f"/api/surveys/{survey['id']}/response"
    for answers, field in [
        ({"usefulness": 9, "fairness": 4}, "answers.usefulness"),
        ({"usefulness": "5", "fairness": 4}, "answers.usefulness"),
        ({"fairness": 4}, "answers.usefulness"),
        ({**TRAINEE_ANSWERS, "mood": 3}, "answers.mood"),
        ({**TRAINEE_ANSWERS, "comments": ["a"]}, "answers.comments"),
        ({**TRAINEE_ANSWERS, "Bad Key": 1}, "answers.Bad Key"),
    ]:
        refused(
            await call(http, "POST", path, tokens["a-17"], json={"answers": answers}),
            422,
            field=field,
        )
    refused(await call(http, "POST", path, tokens["a-17"], json={}), 422, field="answers")
    refused(
        await call(http, "POST", path, tokens["a-99"], json={"answers": TRAINEE_ANSWERS}),
        404,
        "NotFound",
    )
    refused(
        await call(http, "POST", path, tokens["lee"], json={"answers": TRAINEE_ANSWERS}),
        403,
        "Forbidden",
    )
    refused(
        await call(
            http, "POST", "/api/surveys/999999/response", tokens["a-17"], json={"answers": {}}
        ),
        404,
    )
    answered = await call(http, "POST", path, tokens["a-17"], json={"answers": TRAINEE_ANSWERS})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    refused(
        await call(http, "POST", path, tokens["a-17"], json={"answers": TRAINEE_ANSWERS}),
        409,
        "AlreadyDone",
    )
    (again,) = (await call(http, "GET", "/api/me/surveys?status=answered", tokens["a-17"])).json()
    assert again["answers"] == TRAINEE_ANSWERS
    coach_answer = await call(
        http,
        "POST",
        f"/api/surveys/{coach['id']}/response",
        tokens["lee"],
        json={"answers": COACH_ANSWERS},
    )
    assert coach_answer.status_code == 200, coach_answer.text


async def test_surveys_show_the_pinned_template_when_the_catalog_moved_on(
    http, tokens, coaching, web_settings, dev_client, sessions, catalog, task_queue
):
    """A newer template version in the catalog: the survey still shows the questions of the
    version its workflow pinned, read from the workflow's input."""
    old = catalog.surveys["trainee-rates-coaching"]
    newer = SurveyTemplate.model_validate(
        {
            **old.model_dump(mode="json"),
            "version": 2,
            "questions": [{"id": "new_only", "text": "A new question", "kind": "text"}],
        }
    )
    moved = type(catalog)(**{**catalog.__dict__, "surveys": {**catalog.surveys, old.id: newer}})
    app = create_app(
        WebContext(web_settings, dev_client, sessions, moved, task_queue, web_settings.secret_key)
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://coachflow.test"
    ) as client:
        (survey,) = (await call(client, "GET", "/api/me/surveys", tokens["a-17"])).json()
        # The page shows and checks the pinned version too.
        assert (await post_login(client, "a-17", tokens["a-17"])).status_code == 303
        page = await client.get("/me")
        assert 'name="q.usefulness"' in page.text and 'name="q.new_only"' not in page.text
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        answered = await client.post(
            f"/surveys/{survey['id']}/answer",
            data={"csrf": token, "next": "/me", "q.usefulness": "4", "q.fairness": "5"},
        )
        assert answered.status_code == 303, answered.text
    assert survey["template_version"] == 1
    assert [q["id"] for q in survey["questions"]] == ["usefulness", "fairness", "comments"]


async def test_acknowledge(http, tokens, coaching):
    path = f"/api/assessments/{coaching}/acknowledge"
    refused(await call(http, "POST", path, tokens["lee"]), 403, "Forbidden", "role")
    refused(await call(http, "POST", path, tokens["a-99"]), 404)
    response = await call(http, "POST", path, tokens["a-17"])
    assert response.status_code == 200, response.text
    assert (response.json()["kind"], response.json()["trainee_id"]) == ("acknowledged", "a-17")
    refused(await call(http, "POST", path, tokens["a-17"]), 409, "AlreadyDone")
    refused(
        await call(
            http,
            "POST",
            f"/api/assessments/{coaching}/dispute",
            tokens["a-17"],
            json={"reason": "x"},
        ),
        409,
        "AlreadyDone",
    )


async def test_dispute_and_its_resolution_by_another_lead_then_closure(
    http, tokens, coaching, dev_client
):
    dispute = f"/api/assessments/{coaching}/dispute"
    resolution = f"/api/assessments/{coaching}/dispute/resolution"
    refused(
        await call(http, "POST", resolution, tokens["sam"], json={"resolution": "upheld"}),
        409,
        "WrongState",
    )
    refused(
        await call(http, "POST", dispute, tokens["a-17"], json={"reason": "   "}),
        422,
        field="reason",
    )
    refused(await call(http, "POST", dispute, tokens["a-17"], json={}), 422, field="reason")
    refused(
        await call(http, "POST", dispute, tokens["sam"], json={"reason": "x"}), 403, "Forbidden"
    )
    response = await call(
        http, "POST", dispute, tokens["a-17"], json={"reason": "the customer asked for brevity"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "disputed"

    refused(
        await call(http, "POST", resolution, tokens["a-17"], json={"resolution": "upheld"}),
        403,
        "Forbidden",
        "role",
    )
    refused(
        await call(http, "POST", resolution, tokens["lee"], json={"resolution": "upheld"}),
        403,
        "Forbidden",
        "by",
    )
    refused(
        await call(http, "POST", resolution, tokens["olga"], json={"resolution": "upheld"}), 404
    )
    refused(
        await call(http, "POST", resolution, tokens["sam"], json={"resolution": "amended"}),
        422,
        field="note",
    )
    refused(
        await call(http, "POST", resolution, tokens["sam"], json={"resolution": "ignored"}),
        422,
        field="resolution",
    )
    amended = await call(
        http,
        "POST",
        resolution,
        tokens["sam"],
        json={"resolution": "amended", "note": "Be brief and kind."},
    )
    assert amended.status_code == 200, amended.text
    assert (amended.json()["resolution"], amended.json()["resolved_by"]) == ("amended", "sam")
    refused(
        await call(http, "POST", resolution, tokens["quinn"], json={"resolution": "upheld"}),
        409,
        "AlreadyDone",
    )
    detail = (await call(http, "GET", f"/api/assessments/{coaching}", tokens["a-17"])).json()
    assert detail["coaching_note"] == "Be brief and kind."
    assert detail["lifecycle"]["response"]["resolution_note"] == "Be brief and kind."

    # Finish the coaching: the workflow closes the assessment, and updates then find it closed.
    (task,) = (await call(http, "GET", "/api/me/tasks", tokens["a-17"])).json()
    assert (
        await call(http, "POST", f"/api/tasks/{task['id']}/complete", tokens["a-17"])
    ).status_code == 200
    for name, answers in (("a-17", TRAINEE_ANSWERS), ("lee", COACH_ANSWERS)):
        (survey,) = (await call(http, "GET", "/api/me/surveys", tokens[name])).json()
        done = await call(
            http,
            "POST",
            f"/api/surveys/{survey['id']}/response",
            tokens[name],
            json={"answers": answers},
        )
        assert done.status_code == 200, done.text
    status = await status_after(http, tokens["lee"], coaching, leaving="coaching")
    assert status == "closed_complete"
    refused(
        await call(
            http,
            "POST",
            f"/api/assessments/{coaching}/decision",
            tokens["lee"],
            json={"action": "approve"},
        ),
        409,
    )
    refused(
        await call(http, "POST", f"/api/assessments/{coaching}/acknowledge", tokens["a-17"]), 409
    )


# Metrics, health, administration.


async def test_metrics(http, tokens, coaching):
    response = await call(http, "GET", "/api/metrics", tokens["lee"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["drafted"] == 1 and body["overrides"] == 1 and body["override_rate"] == 1.0
    assert (await call(http, "GET", "/api/metrics", tokens["ada"])).status_code == 200
    later = await call(http, "GET", "/api/metrics?since=2999-01-01T00:00:00Z", tokens["lee"])
    assert later.json()["drafted"] == 0
    window = "since=2000-01-01T00:00:00%2B02:00&until=2999-01-01T00:00:00Z"
    assert (await call(http, "GET", f"/api/metrics?{window}", tokens["lee"])).json()["drafted"] == 1
    refused(await call(http, "GET", "/api/metrics", tokens["a-17"]), 403, "Forbidden", "role")
    refused(
        await call(http, "GET", "/api/metrics?since=yesterday", tokens["lee"]), 422, field="since"
    )
    refused(
        await call(http, "GET", "/api/metrics?since=2026-01-01T00:00:00", tokens["lee"]),
        422,
        field="since",
    )
    refused(
        await call(http, "GET", "/api/metrics?since=0001-01-01T00:00:00%2B05:00", tokens["lee"]),
        422,
        field="since",
    )
    refused(
        await call(
            http,
            "GET",
            "/api/metrics?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            tokens["lee"],
        ),
        422,
        field="until",
    )


async def test_healthz(http, web_settings, dev_client, sessions, catalog, task_queue):
    response = await http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"database": "ok", "temporal": "ok"})

    engine = make_engine("postgresql://nobody@127.0.0.1:1/nothing")  # nothing listens on port 1
    unreachable = await Client.connect("127.0.0.1:1", lazy=True)
    for db, client, expected in [
        (session_factory(engine), dev_client, {"database": "unreachable", "temporal": "ok"}),
        (sessions, unreachable, {"database": "ok", "temporal": "unreachable"}),
    ]:
        app = create_app(WebContext(web_settings, client, db, catalog, task_queue, "k"))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://coachflow.test"
        ) as other:
            down = await other.get("/healthz")
        assert (down.status_code, down.json()) == (503, expected)
    await engine.dispose()


async def test_admin_definitions(http, tokens, catalog):
    response = await call(http, "GET", "/api/admin/definitions", tokens["ada"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valid"] is True and body["problems"] == []
    opportunities = {o["id"]: o for o in body["opportunities"]}
    assert set(opportunities) == set(catalog.opportunities)
    assert opportunities["low-csat"]["file"] == "opportunities/low-csat.yaml", "no server path"
    assert opportunities["low-csat"]["escalate_to"] == "qa-leads"
    (rubric,) = [r for r in body["rubrics"] if r["id"] == "support-core"]
    assert rubric["status"] == "approved" and "empathy" in rubric["criteria"]
    assert rubric["file"] == "rubrics/support-core.yaml"
    surveys = {s["id"]: s for s in body["surveys"]}
    assert surveys["trainee-rates-coaching"]["version"] == 1
    assert surveys["trainee-rates-coaching"]["file"] == "surveys/trainee-rates-coaching.yaml"
    for name in ("lee", "a-17"):
        refused(
            await call(http, "GET", "/api/admin/definitions", tokens[name]),
            403,
            "Forbidden",
            "role",
        )


async def test_admin_audit(http, tokens, coaching):
    response = await call(http, "GET", "/api/admin/audit", tokens["ada"])
    assert response.status_code == 200, response.text
    (entry,) = response.json()["items"]
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "lee",
        "decision.override",
        f"assessment:{coaching}",
    )
    assert entry["details"]["changes"][0]["criterion_id"] == "empathy"
    assert (await call(http, "GET", "/api/admin/audit?actor=sam", tokens["ada"])).json()[
        "items"
    ] == []
    refused(
        await call(http, "GET", "/api/admin/audit?limit=9999", tokens["ada"]), 422, field="limit"
    )
    refused(await call(http, "GET", "/api/admin/audit", tokens["lee"]), 403, "Forbidden", "role")


async def test_the_openapi_schema_is_served_with_every_endpoint(http):
    schema = (await http.get("/openapi.json")).json()
    expected = {
        ("get", "/api/assessments"),
        ("post", "/api/assessments"),
        ("get", "/api/assessments/{assessment_id}"),
        ("post", "/api/assessments/{assessment_id}/decision"),
        ("post", "/api/assessments/{assessment_id}/acknowledge"),
        ("post", "/api/assessments/{assessment_id}/dispute"),
        ("post", "/api/assessments/{assessment_id}/dispute/resolution"),
        ("get", "/api/me/tasks"),
        ("post", "/api/tasks/{task_id}/complete"),
        ("get", "/api/me/surveys"),
        ("post", "/api/surveys/{survey_id}/response"),
        ("get", "/api/me/skills"),
        ("get", "/api/metrics"),
        ("get", "/healthz"),
        ("get", "/api/admin/definitions"),
        ("get", "/api/admin/audit"),
    }
    served = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    assert expected <= served
    decision = schema["paths"]["/api/assessments/{assessment_id}/decision"]["post"]
    assert set(decision["responses"]) >= {"200", "401", "403", "404", "409", "422"}
    assert decision["security"] == [{"HTTPBearer": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]
    undeclared = sorted(
        (m, p) for m, p in expected if "503" not in schema["paths"][p][m]["responses"]
    )
    assert undeclared == [], "these never say they answer 503 when a dependency is down"
    assert "Retry-After" in decision["responses"]["503"]["headers"]
