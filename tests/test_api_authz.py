"""Who may do what: every endpoint, every role, their own team's record and another's,
through HTTP against the real dev server, a running worker and the real database.

The records: `A` (trainee a-17, team tier1, decided by sam, in coaching), `P` (a-17, tier1,
awaiting review); `B` (a-99, tier2, decided by olga, in coaching) and `Q` (a-99, tier2,
awaiting review). "own" rows use A/P, "others'" rows B/Q. The roles: anonymous, the admin,
olga (lead of tier2: outside A's team), a-99 (another trainee than A's), lee (lead of tier1,
A's team; not the lead who decided A) and a-17 (A's trainee).

The table runs top to bottom in one workflow world, each row in column order, so a row that
succeeds changes what later rows see: that is part of the table (a dispute after an
acknowledgement is 409, for instance).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from domain.events import TicketEvent
from tests.factories import event_dict
from tests.helpers import assessment_of, bearer, until_drafted

ROLES = ("anonymous", "ada", "olga", "a-99", "lee", "a-17")
OVERRIDE = {"action": "override", "scores": {"empathy": 0}, "reason": "no empathy in reply 2"}
TRAINEE_ANSWERS = {"answers": {"usefulness": 5, "fairness": 4}}
COACH_ANSWERS = {"answers": {"competence": 4, "applied_coaching": 3}}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    record: str  # "own" (A's team and trainee), "others'" or "-"
    expected: tuple[int, ...]  # one status per role, in ROLES order
    body: Any = None


def row(method: str, path: str, record: str, *expected: int, body: Any = None) -> Row:
    assert len(expected) == len(ROLES)
    return Row(method, path, record, expected, body)


#            method  path                                        record    anon adm olga a99 lee a17
TABLE = [
    row("GET", "/healthz", "-", 200, 200, 200, 200, 200, 200),
    row("GET", "/api/assessments", "-", 401, 200, 200, 200, 200, 200),
    row("GET", "/api/assessments/{A}", "own", 401, 200, 404, 404, 200, 200),
    row("GET", "/api/assessments/{B}", "others'", 401, 200, 200, 200, 404, 404),
    row("GET", "/api/assessments/{P}", "own draft", 401, 200, 404, 404, 200, 404),
    row("GET", "/api/assessments/{Q}", "others' draft", 401, 200, 200, 404, 404, 404),
    row("POST", "/api/assessments/{A}/decision", "own, decided", 401, 403, 404, 403, 409, 403,
        body={"action": "approve"}),
    row("POST", "/api/assessments/{P}/decision", "own", 401, 403, 404, 403, 200, 403,
        body={"action": "approve"}),
    row("POST", "/api/assessments/{Q}/decision", "others'", 401, 403, 200, 403, 404, 403,
        body={"action": "approve"}),
    row("POST", "/api/assessments", "own", 401, 403, 201, 403, 201, 403,
        body={"source": "generic", "ticket_id": "{ticket_P}", "rubric": "support-core"}),
    row("POST", "/api/assessments", "others'", 401, 403, 201, 403, 201, 403,
        body={"source": "generic", "ticket_id": "{ticket_Q}", "rubric": "support-core"}),
    row("POST", "/api/assessments/{A}/dispute", "own", 401, 403, 403, 404, 403, 200,
        body={"reason": "the customer asked for a short answer"}),
    row("POST", "/api/assessments/{A}/acknowledge", "own", 401, 403, 403, 404, 403, 409),
    row("POST", "/api/assessments/{B}/acknowledge", "others'", 401, 403, 403, 200, 403, 404),
    row("POST", "/api/assessments/{B}/dispute", "others'", 401, 403, 403, 409, 403, 404,
        body={"reason": "too late, acknowledged"}),
    row("POST", "/api/assessments/{A}/dispute/resolution", "own", 401, 403, 404, 403, 200, 403,
        body={"resolution": "upheld"}),
    row("POST", "/api/assessments/{B}/dispute/resolution", "others'", 401, 403, 409, 403, 404,
        403, body={"resolution": "upheld"}),
    row("GET", "/api/me/tasks", "-", 401, 200, 200, 200, 200, 200),
    row("POST", "/api/tasks/{task_A}/complete", "own", 401, 403, 403, 403, 403, 200),
    row("POST", "/api/tasks/{task_B}/complete", "others'", 401, 403, 403, 200, 403, 403),
    row("GET", "/api/me/skills", "-", 401, 200, 200, 200, 200, 200),
    row("GET", "/api/me/surveys", "-", 401, 200, 200, 200, 200, 200),
    row("POST", "/api/surveys/{trainee_survey_A}/response", "own", 401, 403, 403, 403, 403, 200,
        body=TRAINEE_ANSWERS),
    row("POST", "/api/surveys/{trainee_survey_B}/response", "others'", 401, 403, 403, 200, 403,
        403, body=TRAINEE_ANSWERS),
    row("POST", "/api/surveys/{coach_survey_A}/response", "own (sam's)", 401, 403, 403, 403, 403,
        403, body=COACH_ANSWERS),
    row("POST", "/api/surveys/{coach_survey_B}/response", "others'", 401, 403, 200, 403, 403, 403,
        body=COACH_ANSWERS),
    row("GET", "/api/metrics", "-", 401, 200, 200, 403, 200, 403),
    row("GET", "/api/admin/definitions", "-", 401, 200, 403, 403, 403, 403),
    row("GET", "/api/admin/audit", "-", 401, 200, 403, 403, 403, 403),
]  # fmt: skip


def _event(ticket_id: str, agent: str, team: str) -> TicketEvent:
    data = event_dict(
        **{
            "event_id": f"evt-{ticket_id}",
            "ticket.id": ticket_id,
            "ticket.agent": {"id": agent, "name": "Dana Ruiz", "team": team},
        }
    )
    data["ticket"]["messages"][1]["author"]["id"] = agent
    return TicketEvent.model_validate(data)


async def _assessment(intake, client, sessions, agent: str, team: str) -> tuple[int, str]:
    ticket_id = f"t{uuid.uuid4().hex[:12]}"
    (workflow_id,) = (await intake.ingest(_event(ticket_id, agent, team))).started
    await until_drafted(client, workflow_id)
    return (await assessment_of(sessions, workflow_id)).id, ticket_id


async def _get(http: httpx.AsyncClient, path: str, token: str) -> Any:
    response = await http.get(path, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def world(http, tokens, intake, dev_client, sessions, worker) -> dict[str, Any]:
    a, _ = await _assessment(intake, dev_client, sessions, "a-17", "tier1")
    b, _ = await _assessment(intake, dev_client, sessions, "a-99", "tier2")
    p, ticket_p = await _assessment(intake, dev_client, sessions, "a-17", "tier1")
    q, ticket_q = await _assessment(intake, dev_client, sessions, "a-99", "tier2")
    for assessment, lead in ((a, "sam"), (b, "olga")):
        decided = await http.post(
            f"/api/assessments/{assessment}/decision", json=OVERRIDE, headers=bearer(tokens[lead])
        )
        assert decided.status_code == 200, decided.text
    world: dict[str, Any] = {"A": a, "B": b, "P": p, "Q": q, "ticket_P": ticket_p}
    world["ticket_Q"] = ticket_q
    for record, trainee, coach in (("A", "a-17", "sam"), ("B", "a-99", "olga")):
        (task,) = await _get(http, "/api/me/tasks", tokens[trainee])
        (trainee_survey,) = await _get(http, "/api/me/surveys", tokens[trainee])
        (coach_survey,) = await _get(http, "/api/me/surveys", tokens[coach])
        world[f"task_{record}"] = task["id"]
        world[f"trainee_survey_{record}"] = trainee_survey["id"]
        world[f"coach_survey_{record}"] = coach_survey["id"]
    return world


def _filled(value: Any, world: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, dict):
        return {k: _filled(v, world) for k, v in value.items()}
    return value


async def test_the_authorization_matrix(http, tokens, world):
    mismatches = []
    for entry in TABLE:
        path = _filled(entry.path, world)
        body = _filled(entry.body, world)
        for role, expected in zip(ROLES, entry.expected, strict=True):
            headers = bearer(tokens[role]) if role in tokens else {}
            response = await http.request(entry.method, path, headers=headers, json=body)
            if response.status_code != expected:
                mismatches.append(
                    f"{entry.method} {entry.path} ({entry.record}) as {role}: "
                    f"{response.status_code}, expected {expected}: {response.text[:200]}"
                )
            elif expected >= 400:
                detail = response.json()["detail"]
                assert {"error", "message"} <= set(detail), (entry, role, detail)
    assert not mismatches, "\n".join(mismatches)


async def test_what_each_role_sees_in_the_lists(http, tokens, world):
    """Visible assessments and the caller's own tasks, surveys and skills."""
    a, b, p, q = world["A"], world["B"], world["P"], world["Q"]
    expected = {
        "ada": {a, b, p, q},
        "lee": {a, p},
        "sam": {a, p},
        "olga": {b, q},
        "quinn": {a, b, p, q},  # qa-leads: low-csat escalates to that group
        "a-17": {a},
        "a-99": {b},
    }
    for name, ids in expected.items():
        page = await _get(http, "/api/assessments", tokens[name])
        assert {i["id"] for i in page["items"]} == ids, name
    tasks = {n: [t["id"] for t in await _get(http, "/api/me/tasks", tokens[n])] for n in expected}
    assert tasks == {
        **{n: [] for n in expected},
        "a-17": [world["task_A"]],
        "a-99": [world["task_B"]],
    }
    surveys = {
        n: [s["id"] for s in await _get(http, "/api/me/surveys", tokens[n])] for n in expected
    }
    assert surveys == {
        **{n: [] for n in expected},
        "a-17": [world["trainee_survey_A"]],
        "a-99": [world["trainee_survey_B"]],
        "sam": [world["coach_survey_A"]],
        "olga": [world["coach_survey_B"]],
    }
    for name in expected:
        assert await _get(http, "/api/me/skills", tokens[name]) == []
