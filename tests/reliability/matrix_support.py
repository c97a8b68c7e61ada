"""The authorization matrix's world and plumbing: the records in the states the rows need, a
signed-in browser per person for the pages, the app's routes, and how a row is sent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from domain.events import TicketEvent
from tests.app_support import http_client, login_form_token, post_login
from tests.factories import event_dict
from tests.helpers import assessment_of, bearer, until_drafted

# The columns: nobody signed in, then the people of tests/people.py in the order the table's
# rows are sent (a success that changes state comes last in its row: the lead, then the trainee).
ROLES = ("anonymous", "ada", "olga", "quinn", "lee", "a-17")
OVERRIDE = {"action": "override", "scores": {"empathy": 0, "tone": 0}, "reason": "no empathy"}
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
MISSING = 999_999
# A path parameter naming one of these is somebody's record: the table has a row for the
# trainee's own, for another's and for a missing one.
RECORD_PARAMS = ("assessment_id", "task_id", "survey_id")


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the route's path as the app declares it
    record: str  # "own", "others'", "missing" or "-"
    expected: dict[str, int]
    args: dict[str, str] = field(default_factory=dict)  # path parameter -> world key
    json: Any = None
    form: dict[str, str] | None = None
    content: tuple[str, str] | None = None  # (world key of the text, content type)
    query: str = ""
    # A page is sent from the person's browser with the form's CSRF token: the one signed in
    # for the whole table ("session"), one signed in for this row ("fresh", for signing out),
    # or one not signed in ("plain", for signing in).
    page: bool = False
    browser: str = "session"
    # What a 200 shows each role named: a reading of the response, and its value per role.
    shows: tuple[Callable[[httpx.Response], Any], dict[str, Any]] | None = None


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; a mount as GET of its path."""
    out = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            out.add(("GET", route.path))
            continue
        for method in route.methods or ():
            if method != "HEAD":
                out.add((method, route.path))
    return out


def path_params(route: str) -> list[str]:
    return re.findall(r"{(\w+)}", route)


# --- the world ---------------------------------------------------------------------------------


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


async def _drafted(intake, client, sessions, agent: str, team: str) -> tuple[int, str]:
    ticket_id = f"t{uuid.uuid4().hex[:12]}"
    (workflow_id,) = (await intake.ingest(_event(ticket_id, agent, team))).started
    await until_drafted(client, workflow_id)
    return (await assessment_of(sessions, workflow_id)).id, ticket_id


async def _get(http: httpx.AsyncClient, path: str, token: str) -> Any:
    response = await http.get(path, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def build_world(http, tokens, intake, client, sessions, folders) -> dict[str, Any]:
    """`A`, `A2` (a-17, team tier1) and `B` (a-99, tier2) are in coaching, decided by lee and
    olga; `P`, `P2` (a-17) and `Q` (a-99) await review. Their tasks and surveys, the tickets of P
    and Q, a missing id, and a definition file to upload unchanged."""
    world: dict[str, Any] = {"missing": MISSING}
    for key, agent, team in (
        ("A", "a-17", "tier1"),
        ("A2", "a-17", "tier1"),
        ("B", "a-99", "tier2"),
        ("P", "a-17", "tier1"),
        ("P2", "a-17", "tier1"),
        ("Q", "a-99", "tier2"),
    ):
        world[key], world[f"ticket_{key}"] = await _drafted(intake, client, sessions, agent, team)
    for key, lead in (("A", "lee"), ("A2", "lee"), ("B", "olga")):
        decided = await http.post(
            f"/api/assessments/{world[key]}/decision", json=OVERRIDE, headers=bearer(tokens[lead])
        )
        assert decided.status_code == 200, decided.text
    for key, trainee, coach in (("A", "a-17", "lee"), ("B", "a-99", "olga")):
        tasks = await _get(http, "/api/me/tasks", tokens[trainee])
        ours = sorted(t["id"] for t in tasks if t["assessment_id"] == world[key])
        world[f"task_{key}"], world[f"task_{key}2"] = ours[0], ours[1]
        (survey,) = [
            s
            for s in await _get(http, "/api/me/surveys", tokens[trainee])
            if s["assessment_id"] == world[key]
        ]
        world[f"trainee_survey_{key}"] = survey["id"]
        (coach_survey,) = [
            s
            for s in await _get(http, "/api/me/surveys", tokens[coach])
            if s["assessment_id"] == world[key]
        ]
        world[f"coach_survey_{key}"] = coach_survey["id"]
    world["low_csat_yaml"] = (folders[0] / "low-csat.yaml").read_text()
    return world


# --- sending a row -----------------------------------------------------------------------------


@dataclass
class Browser:
    client: httpx.AsyncClient
    csrf: str = ""


async def sign_in(app, tokens: dict[str, str], name: str) -> Browser:
    client = http_client(app)
    if name == "anonymous":
        return Browser(client)
    signed = await post_login(client, name, tokens[name])
    assert signed.status_code == 303, signed.text
    start = await client.get(signed.headers["location"])
    match = CSRF.search(start.text)
    assert match, f"{name}'s start page carries no CSRF token"
    return Browser(client, match.group(1))


def concrete(entry: Row, world: dict[str, Any]) -> str:
    path = entry.route
    for name in path_params(entry.route):
        value = entry.args.get(name)
        assert value is not None, f"{entry.method} {entry.route}: no value for {name}"
        path = path.replace(f"{{{name}}}", str(world.get(value, value)))
    return path + entry.query


def _filled(value: Any, values: dict[str, Any]) -> Any:
    """Placeholders filled from `values`; a string that is one placeholder becomes its value."""
    if isinstance(value, str):
        whole = re.fullmatch(r"{(\w+)}", value)
        if whole and not isinstance(values[whole.group(1)], str):
            return values[whole.group(1)]
        return value.format(**values)
    if isinstance(value, dict):
        return {k: _filled(v, values) for k, v in value.items()}
    return value


async def _browser(entry: Row, role: str, app, tokens: dict, browsers: dict) -> Browser:
    if entry.browser == "fresh":
        return await sign_in(app, tokens, role)
    if entry.browser == "plain":
        client = http_client(app)
        return Browser(client, await login_form_token(client))
    return browsers[role]


async def send(
    entry: Row, role: str, world: dict, tokens: dict, app, api, browsers: dict
) -> httpx.Response:
    """The row's request as `role` would send it."""
    path = concrete(entry, world)
    values = {**world, "role": role, "token": tokens.get(role, "not-a-token")}
    if entry.page:
        browser = await _browser(entry, role, app, tokens, browsers)
        try:
            form = None
            if entry.method != "GET":
                form = _filled(entry.form or {}, values)
                if browser.csrf:
                    form["csrf"] = browser.csrf
            return await browser.client.request(entry.method, path, data=form)
        finally:
            if entry.browser != "session":
                await browser.client.aclose()
            if entry.route == "/logout" and role in browsers:
                # Signing out ends every session of the user: the shared browser signs in again.
                await browsers[role].client.aclose()
                browsers[role] = await sign_in(app, tokens, role)
    headers = bearer(tokens[role]) if role in tokens else {}
    if entry.content is not None:
        key, content_type = entry.content
        return await api.request(
            entry.method,
            path,
            content=world[key].encode(),
            headers={**headers, "Content-Type": content_type},
        )
    return await api.request(entry.method, path, headers=headers, json=_filled(entry.json, values))
