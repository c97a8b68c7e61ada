"""Hostile input: bodies over the size limit, nested 100,000 levels deep, not UTF-8 or in
another format than the endpoint reads, on every route that reads a body; definition files with
hostile CEL (a 100 KB expression, deep nesting, nested comprehensions that take minutes to
evaluate) or YAML nested too deeply for the parser, through the loader, `starter.py check` and
the admin upload.

Each is refused with a 4xx (or a located problem) that names what was wrong, never a 500 or a
Python error; nothing is stored or written; and the process goes on serving.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts

from domain.expressions import MAX_EXPRESSION_LENGTH, MAX_NESTING
from opportunities.catalog import load_catalog
from tests.app_support import (
    editable_app,
    editable_folders,
    files,
    http_client,
    row_counts,
)
from tests.definition_files import copy_definitions, edit, line_of
from tests.helpers import bearer
from tests.reliability.intake_support import (
    MAX_BODY,
    PLANTED,
    canonical_for,
    servicenow_for,
    servicenow_headers,
    zendesk_for,
    zendesk_headers,
)

ROOT = Path(__file__).resolve().parents[2]
LEAKS = ("Traceback", "RecursionError", "Internal Server Error", PLANTED)

# --- bodies ------------------------------------------------------------------------------------

DEEP_ARRAYS = b"[" * 100_000 + b"]" * 100_000  # exactly MAX_BODY: read, not refused for size
DEEP_OBJECTS = b'{"a":' * 30_000 + b"1" + b"}" * 30_000
NOT_UTF8 = b'{"event_id": "\xff\xfe", "ticket": {"id": "\xc0\xaf", "subject": "\xed\xa0\x80"}}'
FORM = f"ticket=1&email={PLANTED}".encode()
MULTIPART = b'--b\r\nContent-Disposition: form-data; name="ticket"\r\n\r\n1\r\n--b--\r\n'
assert len(DEEP_ARRAYS) == MAX_BODY


def _json_type(token: str) -> dict[str, str]:
    return {**bearer(token), "Content-Type": "application/json"}


# Every endpoint that reads a body, with the credentials that get the body read, the content type
# it takes, and its answer to a body it cannot read: (method, path, headers(tokens, body),
# unreadable status).
Headers = Callable[[dict[str, str], bytes], dict[str, str]]
READERS: dict[str, tuple[str, str, Headers, int]] = {
    "events": ("POST", "/events", lambda t, b: _json_type(t["ada"]), 422),
    "zendesk": ("POST", "/webhooks/zendesk", lambda t, b: zendesk_headers(b), 422),
    "servicenow": ("POST", "/webhooks/servicenow", lambda t, b: servicenow_headers(), 422),
    "manual": ("POST", "/api/assessments", lambda t, b: _json_type(t["lee"]), 422),
    "decision": ("POST", "/api/assessments/1/decision", lambda t, b: _json_type(t["lee"]), 422),
    "dispute": ("POST", "/api/assessments/1/dispute", lambda t, b: _json_type(t["a-17"]), 422),
    "resolution": (
        "POST",
        "/api/assessments/1/dispute/resolution",
        lambda t, b: _json_type(t["lee"]),
        422,
    ),
    "survey": ("POST", "/api/surveys/1/response", lambda t, b: _json_type(t["a-17"]), 422),
    "enable": (
        "POST",
        "/api/admin/opportunities/low-csat/enabled",
        lambda t, b: _json_type(t["ada"]),
        422,
    ),
    "upload": (
        "PUT",
        "/api/admin/definitions/opportunities/low-csat",
        lambda t, b: {**bearer(t["ada"]), "Content-Type": "text/yaml"},
        422,
    ),
    # A form the page cannot read holds no sign-in form token: refused as a forged sign-in.
    "login": (
        "POST",
        "/login",
        lambda t, b: {"Content-Type": "application/x-www-form-urlencoded"},
        403,
    ),
}


@pytest.fixture
def folders(tmp_path):
    return editable_folders(tmp_path / "definitions")


@pytest.fixture
async def app(web_settings, folders, dev_client, worker, sessions, task_queue):
    return editable_app(web_settings, folders, dev_client, sessions, task_queue)


@pytest.fixture
async def api(app) -> AsyncIterator:
    async with http_client(app) as client:
        yield client


def _clean(response, status: int) -> None:
    """The expected status, and nothing in the answer that should not be there."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    for leak in LEAKS:
        assert leak not in response.text, leak


async def _still_serving(api, tokens, ticket_id: str) -> None:
    health = await api.get("/healthz")
    assert health.status_code == 200, health.text
    event = json.dumps(canonical_for(ticket_id)).encode()
    accepted = await api.post("/events", content=event, headers=_json_type(tokens["ada"]))
    assert accepted.status_code == 202, accepted.text


def _routes_with_bodies(app) -> list[tuple[str, str]]:
    out = []
    for route in iter_route_contexts(app.routes):
        for method in sorted((route.methods or set()) & {"POST", "PUT", "PATCH"}):
            out.append((method, route.path.replace("{", "").replace("}", "")))
    return out


async def test_every_route_refuses_a_declared_oversized_body_before_anything_else(
    app, api, sessions, folders
):
    before, written = await row_counts(sessions), files(folders)
    routes = _routes_with_bodies(app)
    assert len(routes) >= len(READERS)
    for method, path in routes:
        response = await api.request(
            method, path, content=b"{" + b" " * MAX_BODY + b"}", headers={"X-Probe": "1"}
        )
        _clean(response, 413)
        assert response.json()["detail"]["error"] == "TooLarge", (method, path)
    assert await row_counts(sessions) == before and files(folders) == written


async def test_a_streamed_oversized_body_is_413_wherever_it_is_read(
    api, tokens, sessions, folders, ticket_id
):
    """No Content-Length: the limit applies while the body streams in, whoever reads it."""
    body = json.dumps({"ticket": {"id": ticket_id, "subject": PLANTED * 8_000}}).encode()
    assert len(body) > MAX_BODY
    before, written = await row_counts(sessions), files(folders)
    wrong = []
    for name, (method, path, headers, _) in READERS.items():

        async def chunks(body: bytes = body) -> AsyncIterator[bytes]:
            for start in range(0, len(body), 16_384):
                yield body[start : start + 16_384]

        response = await api.request(method, path, content=chunks(), headers=headers(tokens, body))
        assert "content-length" not in response.request.headers
        if response.status_code != 413:
            wrong.append(f"{name}: {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert await row_counts(sessions) == before and files(folders) == written
    await _still_serving(api, tokens, ticket_id)


@pytest.mark.parametrize(
    "body",
    [DEEP_ARRAYS, DEEP_OBJECTS, NOT_UTF8, FORM, MULTIPART],
    ids=["100k nested arrays", "30k nested objects", "not UTF-8", "a form", "multipart"],
)
async def test_a_body_no_endpoint_can_read_is_refused_and_stores_nothing(
    api, tokens, sessions, folders, ticket_id, body
):
    before, written = await row_counts(sessions), files(folders)
    for name, (method, path, headers, unreadable) in READERS.items():
        response = await api.request(method, path, content=body, headers=headers(tokens, body))
        _clean(response, unreadable)
        if response.headers["content-type"].startswith("application/json"):
            assert response.json()["detail"]["message"], name
    assert await row_counts(sessions) == before and files(folders) == written
    await _still_serving(api, tokens, ticket_id)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"],
)
async def test_a_json_body_under_another_content_type(
    api, tokens, sessions, folders, ticket_id, content_type
):
    """The help-desk endpoints read the body as JSON whatever it is labelled (senders label it
    loosely); the JSON API takes only application/json; an upload only YAML."""
    before, written = await row_counts(sessions), files(folders)
    manual = json.dumps({"source": "generic", "ticket_id": ticket_id, "rubric": "support-core"})
    response = await api.post(
        "/api/assessments",
        content=manual.encode(),
        headers={**bearer(tokens["lee"]), "Content-Type": content_type},
    )
    _clean(response, 422)
    upload = await api.put(
        "/api/admin/definitions/opportunities/low-csat",
        content=(folders[0] / "low-csat.yaml").read_bytes(),
        headers={**bearer(tokens["ada"]), "Content-Type": content_type},
    )
    _clean(upload, 415)
    assert upload.json()["detail"]["error"] == "UnsupportedMediaType"
    assert await row_counts(sessions) == before and files(folders) == written
    event = json.dumps(canonical_for(ticket_id)).encode()
    sent = await api.post(
        "/events", content=event, headers={**bearer(tokens["ada"]), "Content-Type": content_type}
    )
    _clean(sent, 202)


def _with_nul(endpoint: str, ticket_id: str) -> tuple[str, bytes, Headers]:
    if endpoint == "events":
        data = canonical_for(ticket_id)
        data["ticket"]["subject"] = "Refund\x00 not received"
        return "/events", json.dumps(data).encode(), lambda t, b: _json_type(t["ada"])
    if endpoint == "zendesk":
        data = zendesk_for("trigger_csat_bad.json", ticket_id)
        data["ticket"]["subject"] = "Charged\x00 twice"
        return "/webhooks/zendesk", json.dumps(data).encode(), lambda t, b: zendesk_headers(b)
    data = servicenow_for("incident_new_empty_references.json", ticket_id)
    data["short_description"] = "Cannot\x00 print"
    return "/webhooks/servicenow", json.dumps(data).encode(), lambda t, b: servicenow_headers()


@pytest.mark.parametrize("endpoint", ["events", "zendesk", "servicenow"])
async def test_a_nul_character_in_a_text_field_is_refused_naming_the_field(
    api, tokens, sessions, ticket_id, endpoint
):
    """PostgreSQL cannot store it; SQLite can: either way the event is refused, not stored."""
    path, body, headers = _with_nul(endpoint, ticket_id)
    before = await row_counts(sessions)
    response = await api.post(path, content=body, headers=headers(tokens, body))
    _clean(response, 422)
    fields = [e["field"] for e in response.json()["detail"]["errors"]]
    assert any(f.endswith("subject") for f in fields), fields
    assert await row_counts(sessions) == before
    await _still_serving(api, tokens, ticket_id)


@pytest.mark.parametrize(
    ("placeholder", "number", "field"),
    [
        ('"SCORE"', b"1e999", "ticket.csat.score"),
        ('"SCORE"', b"Infinity", "ticket.csat.score"),
        ('"BACKLOG"', b"NaN", "ticket.queue_backlog_per_agent"),
    ],
    ids=["1e999", "Infinity", "NaN"],
)
async def test_a_number_that_is_not_finite_is_refused_naming_the_field(
    api, tokens, sessions, ticket_id, placeholder, number, field
):
    """JSON has no infinity; a float that overflows to one, or the JavaScript literals, would
    reach the store (PostgreSQL's JSON refuses them) and the workflow's input as null."""
    data = canonical_for(ticket_id)
    data["ticket"]["csat"]["score"] = "SCORE"
    data["ticket"]["queue_backlog_per_agent"] = "BACKLOG"
    body = json.dumps(data).encode().replace(placeholder.encode(), number)
    body = body.replace(b'"SCORE"', b"1").replace(b'"BACKLOG"', b"3")
    before = await row_counts(sessions)
    response = await api.post("/events", content=body, headers=_json_type(tokens["ada"]))
    _clean(response, 422)
    assert field in [e["field"] for e in response.json()["detail"]["errors"]]
    assert await row_counts(sessions) == before


# --- definition files --------------------------------------------------------------------------

WHEN = "when: ticket.agent != null"
HUGE = "ticket.csat.score <= 2 || " * 4_000 + "true"  # about 100 KB: under the file cap


def _nested_comprehensions(depth: int, items: int) -> str:
    expression = "true"
    for variable in "abcdefgh"[:depth]:
        expression = f"[{','.join('0' * items)}].all({variable}, {expression})"
    return expression


# 424 characters: six comprehensions, each inside the last, over 30 items: 729 million steps,
# about two minutes to evaluate on the development machine without the limit.
COSTLY = _nested_comprehensions(6, 30)

HOSTILE_CEL = {
    "a 100 KB expression": (HUGE, f"longer than {MAX_EXPRESSION_LENGTH} characters"),
    "100k nested parentheses": (
        "(" * 100_000 + "true" + ")" * 100_000,
        f"longer than {MAX_EXPRESSION_LENGTH} characters",
    ),
    "400 nested parentheses": ("(" * 400 + "true" + ")" * 400, f"deeper than {MAX_NESTING}"),
    "nested comprehensions": (COSTLY, "inside another one is too costly"),
}
DEEP_WHEN = "when: " + "[" * 5_000 + "]" * 5_000
NESTED_TOO_DEEPLY = "invalid YAML: nested too deeply"


def _hostile(text: str, expression: str) -> str:
    return text.replace(WHEN, f"when: '{expression}'")


@pytest.mark.parametrize("case", HOSTILE_CEL, ids=list(HOSTILE_CEL))
def test_hostile_cel_in_an_opportunity_is_a_located_problem(tmp_path, case):
    expression, message = HOSTILE_CEL[case]
    defs = copy_definitions(tmp_path)
    path = defs[0] / "first-response.yaml"
    path.write_text(_hostile(path.read_text(), expression))
    catalog = load_catalog(*defs)
    line = line_of(path, "when:")
    (problem,) = [str(p) for p in catalog.problems]
    assert problem.startswith(f"{path}:{line}: when: ") and message in problem, problem
    assert "first-response" not in catalog.opportunities
    assert {"low-csat", "reassignment", "escalation"} <= set(catalog.opportunities)


def test_hostile_cel_in_a_rubric_is_a_located_problem(tmp_path):
    defs = copy_definitions(tmp_path)
    path = defs[1] / "support-core.yaml"
    edit(path, "applies_when: size(ticket.kb_articles) > 0", f"applies_when: '{COSTLY}'")
    problems = [str(p) for p in load_catalog(*defs).problems]
    line = line_of(path, "applies_when: '[")
    assert any(
        p.startswith(f"{path}:{line}:") and "inside another one is too costly" in p
        for p in problems
    ), problems


def test_yaml_nested_too_deeply_is_a_located_problem(tmp_path):
    defs = copy_definitions(tmp_path)
    path = defs[0] / "first-response.yaml"
    edit(path, WHEN, DEEP_WHEN)
    problems = [str(p) for p in load_catalog(*defs).problems]
    assert f"{path}:{line_of(path, 'when:')}: {NESTED_TOO_DEEPLY}" in problems, problems


def _check(defs, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        "COACHFLOW_OPPORTUNITIES_DIR": str(defs[0]),
        "COACHFLOW_RUBRICS_DIR": str(defs[1]),
        "COACHFLOW_SURVEYS_DIR": str(defs[2]),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "check"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_reports_every_hostile_expression_and_exits_1(tmp_path):
    defs = editable_folders(tmp_path / "definitions")
    template = (defs[0] / "first-response.yaml").read_text()
    expected = []
    for i, (expression, message) in enumerate(HOSTILE_CEL.values()):
        path = defs[0] / f"hostile-{i}.yaml"
        text = _hostile(template, expression).replace("id: first-response", f"id: hostile-{i}")
        path.write_text(text)
        shown = path.relative_to(tmp_path)
        expected.append((f"{shown}:{line_of(path, 'when:')}: when: ", message))
    run = _check(defs, tmp_path)
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    reported = run.stdout.splitlines()
    for start, message in expected:
        assert any(r.startswith(start) and message in r for r in reported), (start, reported)


def test_check_reports_yaml_nested_too_deeply_and_exits_1(tmp_path):
    defs = editable_folders(tmp_path / "definitions")
    path = defs[0] / "first-response.yaml"
    edit(path, WHEN, DEEP_WHEN)
    run = _check(defs, tmp_path)
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.returncode == 1
    shown = path.relative_to(tmp_path)
    assert f"{shown}:{line_of(path, 'when:')}: {NESTED_TOO_DEEPLY}" in run.stdout


async def _upload(api, tokens, text: str):
    return await api.put(
        "/api/admin/definitions/opportunities/first-response",
        content=text.encode(),
        headers={**bearer(tokens["ada"]), "Content-Type": "text/yaml"},
    )


@pytest.mark.parametrize(
    "case", [*HOSTILE_CEL, "deep YAML"], ids=[*HOSTILE_CEL, "YAML nested 5,000 deep"]
)
async def test_an_upload_with_hostile_definitions_is_refused_and_writes_nothing(
    api, tokens, sessions, folders, ticket_id, case
):
    path = folders[0] / "first-response.yaml"
    text = path.read_text().replace("version: 1", "version: 2")
    if case == "deep YAML":
        text, field, message = text.replace(WHEN, DEEP_WHEN), "", NESTED_TOO_DEEPLY
    else:
        expression, message = HOSTILE_CEL[case]
        text, field = _hostile(text, expression), "when: "
    before, written = await row_counts(sessions), files(folders)
    response = await _upload(api, tokens, text)
    if len(text.encode()) > MAX_BODY:
        _clean(response, 413)
    else:
        _clean(response, 422)
        # Named from its definitions folder, as every refusal names a file: never where the
        # folder is on the server (the loader and `check` above keep their own paths).
        located = f"opportunities/{path.name}:{line_of(path, 'when:')}: {field}"
        problems = response.json()["detail"]["problems"]
        shown = [f"{p['path']}:{p['line']}: {p['message']}" for p in problems]
        assert any(p.startswith(located) and message in p for p in shown), shown
        assert str(path.parent) not in response.text
    assert await row_counts(sessions) == before and files(folders) == written
    listed = await api.get("/api/admin/definitions", headers=bearer(tokens["ada"]))
    versions = {o["id"]: o["version"] for o in listed.json()["opportunities"]}
    assert versions["first-response"] == 1
    await _still_serving(api, tokens, ticket_id)
