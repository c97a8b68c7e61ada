"""An admin changes definitions over HTTP: uploads checked against the whole catalog, written
atomically, audited and used for new matches at once; versions that are immutable or must
increase; the bundled folders read-only; the /admin forms with CSRF. Against the real dev
server, a running worker and the real database, on copies of the bundled folders."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.yamlsource import Problem
from opportunities.editor import Folders as EditorFolders
from tests.app_support import editable_app as app_with_folders
from tests.app_support import http_client, post_login
from tests.definition_files import ANY_CSAT, line_of
from tests.factories import event_dict
from tests.helpers import assessment_of, bearer, until_drafted

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
YAML = {"Content-Type": "text/yaml"}
OVERRIDE = {"action": "override", "scores": {"empathy": 0}, "reason": "no empathy in reply 2"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


async def put(api, kind: str, definition_id: str, text: str, token: str) -> httpx.Response:
    return await api.put(
        f"/api/admin/definitions/{kind}/{definition_id}",
        content=text.encode(),
        headers={**YAML, **bearer(token)},
    )


async def definitions(api, tokens) -> dict[str, Any]:
    response = await api.get("/api/admin/definitions", headers=bearer(tokens["ada"]))
    assert response.status_code == 200, response.text
    return response.json()


async def audit_items(api, tokens, action: str | None = None) -> list[dict[str, Any]]:
    query = f"?action={action}" if action else ""
    response = await api.get(f"/api/admin/audit{query}", headers=bearer(tokens["ada"]))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def invalid(response: httpx.Response) -> list[str]:
    """The 422's problems as `path:line: message`."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["error"] == "Invalid", detail
    return [f"{p['path']}:{p['line']}: {p['message']}" for p in detail["problems"]]


def conflict(response: httpx.Response, error: str = "Conflict") -> str:
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert detail["error"] == error, detail
    return detail["message"]


async def test_a_valid_change_is_written_reloaded_and_audited(api, tokens, folders):
    opportunities, _, surveys = folders
    path = opportunities / "low-csat.yaml"
    text = path.read_text().replace("version: 1", "version: 2")
    text = text.replace("name: Low CSAT follow-up", "name: Low CSAT, second look")

    response = await put(api, "opportunities", "low-csat", text, tokens["ada"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["old_version"], body["new_version"], body["changed"]) == (
        "low-csat",
        1,
        2,
        True,
    )
    assert body["definition"]["name"] == "Low CSAT, second look"
    assert body["file"].endswith("opportunities/low-csat.yaml")
    assert path.read_text() == text
    assert not [p for p in opportunities.iterdir() if p.name.startswith(".")], "no temp file left"
    listed = {o["id"]: o for o in (await definitions(api, tokens))["opportunities"]}
    assert listed["low-csat"]["version"] == 2 and listed["low-csat"]["name"].endswith("look")
    (entry,) = await audit_items(api, tokens)
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "ada",
        "definition.opportunities.put",
        "opportunity:low-csat",
    )
    assert entry["details"]["old_version"] == 1 and entry["details"]["new_version"] == 2

    # The same file again changes nothing and records nothing.
    again = await put(api, "opportunities", "low-csat", text, tokens["ada"])
    assert again.status_code == 200 and again.json()["changed"] is False
    assert len(await audit_items(api, tokens)) == 1
    # Other content at the same (or a lower) version: the version must increase.
    message = conflict(
        await put(api, "opportunities", "low-csat", text.replace("look", "glance"), tokens["ada"])
    )
    assert "at version 2" in message and "higher `version`" in message
    assert path.read_text() == text

    # A survey version is immutable; the next version replaces the file.
    survey = (surveys / "coach-rates-trainee.yaml").read_text()
    changed = survey.replace("Anything else the trainee should hear?", "Anything else?")
    message = conflict(await put(api, "surveys", "coach-rates-trainee", changed, tokens["ada"]))
    assert "immutable" in message and "bump `version`" in message
    bumped = changed.replace("version: 1", "version: 2")
    response = await put(api, "surveys", "coach-rates-trainee", bumped, tokens["ada"])
    assert response.status_code == 200, response.text
    listed = {s["id"]: s for s in (await definitions(api, tokens))["surveys"]}
    assert listed["coach-rates-trainee"]["version"] == 2
    assert (await audit_items(api, tokens, "definition.surveys.put"))[0]["details"][
        "new_version"
    ] == 2


async def test_invalid_yaml_cel_or_references_are_422_with_located_problems_and_write_nothing(
    api, tokens, folders
):
    opportunities, _, surveys = folders
    before = [snapshot(f) for f in folders]
    path = opportunities / "low-csat.yaml"
    good = path.read_text().replace("version: 1", "version: 2")

    broken = good.replace("on: [csat.received]", "on: [csat.received")
    (problem,) = invalid(await put(api, "opportunities", "low-csat", broken, tokens["ada"]))
    assert re.match(r"^(.*/)?opportunities/low-csat\.yaml:\d+: invalid YAML", problem), problem

    cel = good.replace("ticket.csat.score <= 2", 'ticket.csat.score <= "2"')
    (problem,) = invalid(await put(api, "opportunities", "low-csat", cel, tokens["ada"]))
    assert f"low-csat.yaml:{line_of(path, 'when:')}: when: CEL" in problem, problem

    unknown = good.replace("rubric: support-core", "rubric: no-such-rubric")
    (problem,) = invalid(await put(api, "opportunities", "low-csat", unknown, tokens["ada"]))
    line = line_of(path, "rubric:")
    assert f"low-csat.yaml:{line}: rubric: unknown rubric 'no-such-rubric'" in problem, problem

    criterion = good.replace("if_failed: [empathy]", "if_failed: [no_such_criterion]")
    (problem,) = invalid(await put(api, "opportunities", "low-csat", criterion, tokens["ada"]))
    assert "has no criterion 'no_such_criterion'" in problem, problem

    wrong_id = await put(api, "opportunities", "first-response", good, tokens["ada"])
    (problem,) = invalid(wrong_id)
    assert problem == "body:1: id: must be the one in the request path", problem

    # A cross-file check: the coach's survey turned into the trainee's breaks every
    # opportunity that sends it to the coach; the problems are in those files.
    survey = (surveys / "coach-rates-trainee.yaml").read_text()
    swapped = survey.replace("version: 1", "version: 2").replace(
        "audience: coach", "audience: trainee"
    )
    problems = invalid(await put(api, "surveys", "coach-rates-trainee", swapped, tokens["ada"]))
    assert problems and all(
        "surveys.coach: survey 'coach-rates-trainee' is for" in p for p in problems
    )
    assert any(f"low-csat.yaml:{line_of(path, 'surveys:')}:" in p for p in problems), problems

    assert [snapshot(f) for f in folders] == before
    listed = {o["id"]: o for o in (await definitions(api, tokens))["opportunities"]}
    assert listed["low-csat"]["version"] == 1
    assert await audit_items(api, tokens) == []


async def test_a_refused_id_names_the_field_never_the_value_or_a_server_path(api, tokens, folders):
    """The id in the path or in the file may be anything a client sent: a refusal names the
    field, and neither echoes it nor says where the folders are on the server."""
    opportunities, rubrics, _ = folders
    before = [snapshot(f) for f in folders]
    ada = bearer(tokens["ada"])
    low_csat = (opportunities / "low-csat.yaml").read_text().replace("version: 1", "version: 2")
    renamed = low_csat.replace("id: low-csat", "id: zz-sent-id")
    wrong_version = (rubrics / "support-core.yaml").read_text()
    answers = {
        "body:1: id: must be the one in the request path": await put(
            api, "opportunities", "zz-asked-id", renamed, tokens["ada"]
        ),
        "body:3: version: must be the one in the request path": await put(
            api, "rubrics", "support-core@77", wrong_version, tokens["ada"]
        ),
        "definition_id: only a rubric id has a version (id@version)": await put(
            api, "opportunities", "zz-asked-id@77", low_csat, tokens["ada"]
        ),
        "ref: no such rubric version is loaded": await api.post(
            "/api/admin/rubrics/zz-asked-id@77/approve", headers=ada
        ),
        "opportunity_id: no such opportunity is loaded": await api.post(
            "/api/admin/opportunities/zz-asked-id/enabled", json={"enabled": False}, headers=ada
        ),
    }
    for expected, response in answers.items():
        assert response.status_code in (404, 422), response.text
        detail = response.json()["detail"]
        said = [detail["message"]] + [
            f"{p['path']}:{p['line']}: {p['message']}" for p in detail.get("problems") or []
        ]
        assert any(s.startswith(expected) for s in said), said
        for echoed in ("zz-sent-id", "zz-asked-id", "77", str(opportunities.parent)):
            assert echoed not in response.text, (echoed, response.text)
    assert [snapshot(f) for f in folders] == before


async def test_who_may_change_and_the_body_it_takes(api, http, tokens, folders):
    opportunities = folders[0]
    before = snapshot(opportunities)
    text = (opportunities / "low-csat.yaml").read_text().replace("version: 1", "version: 2")
    anonymous = await api.put(
        "/api/admin/definitions/opportunities/low-csat", content=text, headers=YAML
    )
    assert anonymous.status_code == 401
    for name in ("lee", "a-17"):
        refused = await put(api, "opportunities", "low-csat", text, tokens[name])
        assert refused.status_code == 403 and refused.json()["detail"]["error"] == "Forbidden"
        refused = await api.post(
            "/api/admin/rubrics/support-core@2/retire", headers=bearer(tokens[name])
        )
        assert refused.status_code == 403
    as_json = await api.put(
        "/api/admin/definitions/opportunities/low-csat",
        json={"yaml": text},
        headers=bearer(tokens["ada"]),
    )
    assert as_json.status_code == 415, as_json.text
    assert (await put(api, "widgets", "low-csat", text, tokens["ada"])).status_code == 422
    assert snapshot(opportunities) == before

    # The bundled folders (COACHFLOW_*_DIR unset) are read-only.
    message = conflict(
        await put(http, "opportunities", "low-csat", text, tokens["ada"]), "ReadOnly"
    )
    assert "read-only" in message and "COACHFLOW_OPPORTUNITIES_DIR" in message
    approve = await http.post(
        "/api/admin/rubrics/support-core@2/retire", headers=bearer(tokens["ada"])
    )
    assert "COACHFLOW_RUBRICS_DIR" in conflict(approve, "ReadOnly")

    schema = (await api.get("/openapi.json")).json()
    operation = schema["paths"]["/api/admin/definitions/{kind}/{definition_id}"]["put"]
    assert set(operation["requestBody"]["content"]) == {"text/yaml"}
    assert {"200", "401", "403", "409", "415", "422"} <= set(operation["responses"])


async def test_rubric_versions_are_immutable_drafts_are_approved_and_retired(api, tokens, folders):
    opportunities, rubrics, _ = folders
    v1 = (rubrics / "support-core.yaml").read_text()
    message = conflict(
        await put(
            api,
            "rubrics",
            "support-core",
            v1.replace("pass_score: 0.7", "pass_score: 0.8"),
            tokens["ada"],
        )
    )
    assert "support-core@2 exists with different content" in message and "immutable" in message
    v2 = v1.replace("version: 2", "version: 3").replace("pass_score: 0.7", "pass_score: 0.8")
    (problem,) = invalid(await put(api, "rubrics", "support-core", v2, tokens["ada"]))
    assert "support-core@3.yaml:4: status: a new rubric version is uploaded as a draft" in problem
    draft = v2.replace("status: approved\napproved_by: qa-lead\n", "status: draft\n")

    response = await put(api, "rubrics", "support-core@3", draft, tokens["ada"])
    assert response.status_code == 200, response.text
    assert response.json()["definition"]["status"] == "draft"
    assert (rubrics / "support-core@3.yaml").read_text() == draft
    assert (rubrics / "support-core.yaml").read_text() == v1, "version 2 stays beside it"
    listed = {r["ref"]: r for r in (await definitions(api, tokens))["rubrics"]}
    assert (listed["support-core@2"]["status"], listed["support-core@3"]["status"]) == (
        "approved",
        "draft",
    )
    # A draft is not scored against: an opportunity cannot pin it yet.
    pinned = (opportunities / "low-csat.yaml").read_text().replace("version: 1", "version: 2")
    pinned = pinned.replace("rubric: support-core", "rubric: support-core@3")
    (problem,) = invalid(await put(api, "opportunities", "low-csat", pinned, tokens["ada"]))
    assert "rubric 'support-core@3' is draft, not approved" in problem

    approved = await api.post(
        "/api/admin/rubrics/support-core@3/approve", headers=bearer(tokens["ada"])
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["definition"]["status"] == "approved" and body["definition"]["approved_by"] == "ada"
    assert "approved_by: ada" in (rubrics / "support-core@3.yaml").read_text()
    assert (await put(api, "opportunities", "low-csat", pinned, tokens["ada"])).status_code == 200
    again = await api.post(
        "/api/admin/rubrics/support-core@3/approve", headers=bearer(tokens["ada"])
    )
    assert again.status_code == 200 and again.json()["changed"] is False

    retired = await api.post(
        "/api/admin/rubrics/support-core@2/retire", headers=bearer(tokens["ada"])
    )
    assert retired.status_code == 200, retired.text
    assert "status: retired" in (rubrics / "support-core.yaml").read_text()
    message = conflict(
        await api.post("/api/admin/rubrics/support-core@2/approve", headers=bearer(tokens["ada"]))
    )
    assert "retired" in message
    # Retiring the last approved version would leave the opportunities without a rubric.
    problems = invalid(
        await api.post("/api/admin/rubrics/support-core@3/retire", headers=bearer(tokens["ada"]))
    )
    assert any("escalation.yaml" in p and "no approved version" in p for p in problems), problems
    missing = await api.post(
        "/api/admin/rubrics/support-core@9/approve", headers=bearer(tokens["ada"])
    )
    assert missing.status_code == 404

    actions = [(e["action"], e["target"]) for e in await audit_items(api, tokens)]
    assert actions == [
        ("definition.rubrics.retire", "rubric:support-core@2"),
        ("definition.opportunities.put", "opportunity:low-csat"),
        ("definition.rubrics.approve", "rubric:support-core@3"),
        ("definition.rubrics.put", "rubric:support-core@3"),
    ]


async def _post_event(api, tokens, ticket_id: str) -> dict[str, Any]:
    event = event_dict(**{"event_id": f"evt-{ticket_id}", "ticket.id": ticket_id})
    response = await api.post("/events", json=event, headers=bearer(tokens["ada"]))
    assert response.status_code == 202, response.text
    return response.json()


async def test_a_new_opportunity_matches_new_events_while_running_workflows_keep_theirs(
    api, tokens, folders, dev_client, sessions
):
    opportunities = folders[0]
    async with asyncio.timeout(180):  # a stuck workflow fails the test, with where it was
        first = await _post_event(api, tokens, f"t{uuid.uuid4().hex[:12]}")
        assert first["matched"] == ["low-csat"]
        (running,) = first["started"]
        await until_drafted(dev_client, running)

        # low-csat v2 sends no learning tasks; a new opportunity takes every CSAT.
        text = (opportunities / "low-csat.yaml").read_text().replace("version: 1", "version: 2")
        text = re.sub(r"learning_tasks:\n(  - .*\n)+", "learning_tasks: []\n", text)
        assert (await put(api, "opportunities", "low-csat", text, tokens["ada"])).status_code == 200
        added = await put(api, "opportunities", "any-csat", ANY_CSAT, tokens["ada"])
        assert added.status_code == 200 and added.json()["old_version"] is None, added.text
        assert (opportunities / "any-csat.yaml").read_text() == ANY_CSAT

        second = await _post_event(api, tokens, f"t{uuid.uuid4().hex[:12]}")
        assert sorted(second["matched"]) == ["any-csat", "low-csat"]
        versions = {}
        for workflow_id in second["started"]:
            await until_drafted(dev_client, workflow_id)
            row = await assessment_of(sessions, workflow_id)
            versions[row.opportunity_id] = row.opportunity_version
        assert versions == {"any-csat": 1, "low-csat": 2}

        # The workflow started before the change still has low-csat v1 and its learning tasks.
        row = await assessment_of(sessions, running)
        assert row.opportunity_version == 1
        decided = await api.post(
            f"/api/assessments/{row.id}/decision", json=OVERRIDE, headers=bearer(tokens["lee"])
        )
        assert decided.status_code == 200, decided.text
        while True:
            tasks = await api.get("/api/me/tasks", headers=bearer(tokens["a-17"]))
            keys = {t["key"] for t in tasks.json() if t["assessment_id"] == row.id}
            if keys:
                break
            await asyncio.sleep(0.1)
        assert keys == {"empathy-refresher"}

        # Disabled, the new opportunity matches nothing more.
        disabled = await api.post(
            "/api/admin/opportunities/any-csat/enabled",
            json={"enabled": False},
            headers=bearer(tokens["ada"]),
        )
        assert disabled.status_code == 200, disabled.text
        assert (
            disabled.json()["new_version"] == 2
            and disabled.json()["definition"]["enabled"] is False
        )
        third = await _post_event(api, tokens, f"t{uuid.uuid4().hex[:12]}")
        assert third["matched"] == ["low-csat"]
        await until_drafted(dev_client, third["started"][0])
        assert [
            e["action"] for e in await audit_items(api, tokens, "definition.opportunities.disable")
        ]


async def test_a_change_reaches_another_app_on_the_same_folders(
    api, tokens, folders, web_settings, dev_client, sessions, task_queue
):
    """Two processes on shared folders (the compose file's web app and workers): an upload
    through one is matched by the other without a restart."""
    other = app_with_folders(web_settings, folders, dev_client, sessions, task_queue, live=True)
    async with http_client(other) as elsewhere, asyncio.timeout(120):
        before = await _post_event(elsewhere, tokens, f"t{uuid.uuid4().hex[:12]}")
        assert before["matched"] == ["low-csat"]
        added = await put(api, "opportunities", "any-csat", ANY_CSAT, tokens["ada"])
        assert added.status_code == 200, added.text

        await _until_listed(elsewhere, tokens, lambda ids: "any-csat" in ids)
        after = await _post_event(elsewhere, tokens, f"t{uuid.uuid4().hex[:12]}")
        assert sorted(after["matched"]) == ["any-csat", "low-csat"]
        for workflow_id in after["started"]:
            await until_drafted(dev_client, workflow_id)

        (folders[0] / "any-csat.yaml").unlink()
        await _until_listed(elsewhere, tokens, lambda ids: "any-csat" not in ids)
        gone = await _post_event(elsewhere, tokens, f"t{uuid.uuid4().hex[:12]}")
        assert gone["matched"] == ["low-csat"]


async def _until_listed(client, tokens, seen) -> None:
    """Until the app's opportunities satisfy `seen`: a change elsewhere is loaded once the
    folders have held still for one more look."""
    for _ in range(100):
        listed = await client.get("/api/admin/definitions", headers=bearer(tokens["ada"]))
        if seen({o["id"] for o in listed.json()["opportunities"]}):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the other app still lists {listed.json()['opportunities']}")


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


@pytest.fixture
async def sign_in(tokens) -> AsyncIterator:
    """A signed-in browser (its own cookie jar) on an app."""
    clients: list[httpx.AsyncClient] = []

    async def signed_in(app, name: str) -> httpx.AsyncClient:
        client = http_client(app)
        clients.append(client)
        response = await post_login(client, name, tokens[name])
        assert response.status_code == 303, response.text
        return client

    yield signed_in
    for client in clients:
        await client.aclose()


async def test_the_admin_page_forms_round_trip_with_csrf(editable_app, web_app, sign_in, folders):
    opportunities, rubrics, _ = folders
    path = opportunities / "low-csat.yaml"
    before = snapshot(opportunities)
    good = path.read_text().replace("version: 1", "version: 2").replace("Low CSAT", "Poor CSAT")
    ada = await sign_in(editable_app, "ada")
    page = await ada.get("/admin")
    assert page.status_code == 200
    assert 'action="/admin/definitions"' in page.text and 'name="yaml"' in page.text
    assert 'action="/admin/opportunities/low-csat/enabled"' in page.text
    assert 'action="/admin/rubrics/support-core@2/retire"' in page.text
    token = _csrf(page.text)

    for wrong in ({}, {"csrf": "0" * 64}):
        refused = await ada.post(
            "/admin/definitions", data={**wrong, "kind": "opportunities", "yaml": good}
        )
        assert refused.status_code == 403 and "csrf" in refused.text
    assert snapshot(opportunities) == before

    # A problem is shown with its file and line, and the text stays in the form.
    broken = good.replace("rubric: support-core", "rubric: nope")
    shown = await ada.post(
        "/admin/definitions",
        data={"csrf": token, "kind": "opportunities", "yaml": broken.replace("\n", "\r\n")},
    )
    assert shown.status_code == 422
    assert f"low-csat.yaml:{line_of(path, 'rubric:')}</code>: rubric: unknown rubric" in (
        shown.text.replace("&#39;", "'")
    )
    assert "rubric: nope" in shown.text
    assert snapshot(opportunities) == before

    saved = await ada.post(
        "/admin/definitions", data={"csrf": token, "kind": "opportunities", "yaml": good}
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/admin?done=saved"
    assert path.read_text() == good
    page = await ada.get(saved.headers["location"])
    assert "Saved: new events match" in page.text and "Poor CSAT follow-up" in page.text
    assert "definition.opportunities.put" in page.text

    for unclear in ({"enabled": "True"}, {}):
        refused = await ada.post(
            "/admin/opportunities/low-csat/enabled", data={"csrf": token, **unclear}
        )
        assert refused.status_code == 422 and "enabled: must be true or false" in refused.text
    assert path.read_text() == good
    disabled = await ada.post(
        "/admin/opportunities/low-csat/enabled", data={"csrf": token, "enabled": "false"}
    )
    assert disabled.status_code == 303
    assert "enabled: false" in path.read_text() and "version: 3" in path.read_text()

    draft = (rubrics / "support-core.yaml").read_text().replace("version: 2", "version: 3")
    draft = draft.replace("status: approved\napproved_by: qa-lead\n", "status: draft\n")
    uploaded = await ada.post(
        "/admin/definitions", data={"csrf": token, "kind": "rubrics", "yaml": draft}
    )
    assert uploaded.status_code == 303
    page = await ada.get("/admin")
    assert 'action="/admin/rubrics/support-core@3/approve"' in page.text
    approved = await ada.post("/admin/rubrics/support-core@3/approve", data={"csrf": token})
    assert approved.status_code == 303
    assert "approved_by: ada" in (rubrics / "support-core@3.yaml").read_text()
    # Retiring the last approved versions is refused on the page, with the problems.
    assert (
        await ada.post("/admin/rubrics/support-core@2/retire", data={"csrf": token})
    ).status_code == 303
    refused = await ada.post("/admin/rubrics/support-core@3/retire", data={"csrf": token})
    assert refused.status_code == 422 and "no approved version" in refused.text

    lee = await sign_in(editable_app, "lee")
    token = _csrf((await lee.get("/queue")).text)
    refused = await lee.post(
        "/admin/definitions", data={"csrf": token, "kind": "opportunities", "yaml": good}
    )
    assert refused.status_code == 403

    # With the bundled folders the page says how to make them writable.
    bundled = await sign_in(web_app, "ada")
    page = await bundled.get("/admin")
    assert "COACHFLOW_OPPORTUNITIES_DIR" in page.text and 'name="yaml"' not in page.text


async def test_no_refusal_says_where_the_definition_folders_are(
    api, editable_app, sign_in, tokens, folders
):
    """The folders sit outside the working directory, as in Docker (/var/lib/coachflow/
    definitions/...): every problem of a refusal, from the API and on /admin, names its file
    from its definitions folder (`rubrics/support-core@3.yaml:4: ...`), never where the folder
    is; so do the change's `file`, the audit log and the page's file columns."""
    opportunities, rubrics, surveys = folders
    root = opportunities.parent
    assert not root.resolve().is_relative_to(Path.cwd().resolve())
    hidden = {str(root), str(root.resolve())}
    path = opportunities / "low-csat.yaml"
    good = path.read_text().replace("version: 1", "version: 2")
    draft = (rubrics / "support-core.yaml").read_text().replace("version: 2", "version: 3")
    (rubrics / "notes").mkdir()
    (rubrics / "notes" / "broken.md.j2").write_text("{% if %}\n")
    templated = draft.replace("status: approved\napproved_by: qa-lead\n", "status: draft\n")
    templated = templated.replace(
        "criteria:\n", "templates: {coaching_note: notes/broken.md.j2}\ncriteria:\n", 1
    )
    survey = (surveys / "coach-rates-trainee.yaml").read_text()
    swapped = survey.replace("version: 1", "version: 2").replace(
        "audience: coach", "audience: trainee"
    )
    cel = good.replace("ticket.csat.score <= 2", 'ticket.csat.score <= "2"')
    ada = tokens["ada"]
    refusals = {
        f"opportunities/low-csat.yaml:{line_of(path, 'when:')}: when: CEL": await put(
            api, "opportunities", "low-csat", cel, ada
        ),
        "opportunities/low-csat.yaml:": await put(
            api, "opportunities", "low-csat", good.replace("on: [", "on: [["), ada
        ),
        "rubrics/support-core@3.yaml:4: status: a new rubric version is uploaded as a draft": (
            await put(api, "rubrics", "support-core@3", draft, ada)
        ),
        "rubrics/notes/broken.md.j2:1: template error: ": await put(
            api, "rubrics", "support-core@3", templated, ada
        ),
        f"opportunities/low-csat.yaml:{line_of(path, 'surveys:')}: surveys.coach: ": await put(
            api, "surveys", "coach-rates-trainee", swapped, ada
        ),
    }
    for expected, response in refusals.items():
        problems = invalid(response)
        assert any(p.startswith(expected) for p in problems), (expected, problems)
        assert all(p.startswith(("opportunities/", "rubrics/", "surveys/")) for p in problems)
        for spelt in hidden:
            assert spelt not in response.text, (spelt, response.text)

    saved = await put(api, "opportunities", "low-csat", good, ada)
    assert saved.status_code == 200 and saved.json()["file"] == "opportunities/low-csat.yaml"
    assert saved.json()["definition"]["file"] == "opportunities/low-csat.yaml"
    (entry,) = await audit_items(api, tokens)
    assert entry["details"]["file"] == "opportunities/low-csat.yaml"

    browser = await sign_in(editable_app, "ada")
    page = await browser.get("/admin")
    assert "<code>opportunities/low-csat.yaml</code>" in page.text
    token = _csrf(page.text)
    cel = cel.replace("version: 2", "version: 3")
    shown = await browser.post(
        "/admin/definitions", data={"csrf": token, "kind": "opportunities", "yaml": cel}
    )
    assert shown.status_code == 422
    assert f"<code>opportunities/low-csat.yaml:{line_of(path, 'when:')}</code>: when: CEL" in (
        shown.text
    )
    for text in (page.text, shown.text):
        assert not [spelt for spelt in hidden if spelt in text]


def test_a_problem_names_folders_in_its_message_as_in_its_path(tmp_path):
    """A message may name a file too (`defined twice (also in ...)`): named the same way; a
    folder's neighbour with a longer name is not the folder, a path in no folder is its name."""
    defs = tmp_path / "defs"
    folders = EditorFolders(defs / "opportunities", defs / "rubrics", defs / "surveys")
    for folder in (*folders_of(folders), defs / "rubrics2"):
        folder.mkdir(parents=True)
    (tmp_path / "link").symlink_to(defs / "rubrics")
    rubrics = defs / "rubrics"
    found = Problem(
        str(tmp_path / "link" / "b.yaml"),
        2,
        f"rubric x@1 is defined twice (also in {rubrics}/a.yaml; not {rubrics}2/a.yaml); see "
        f"{rubrics.resolve()}",
    )
    assert str(folders.public_problem(found)) == (
        f"rubrics/b.yaml:2: rubric x@1 is defined twice (also in rubrics/a.yaml; not "
        f"{rubrics}2/a.yaml); see rubrics"
    )
    assert folders.public(str(tmp_path / "elsewhere" / "c.yaml")) == "c.yaml"
    assert folders.public(str(defs / "surveys")) == "surveys"
    assert folders.public("body") == "body"


def folders_of(folders: EditorFolders) -> list[Path]:
    return [folders.opportunities, folders.rubrics, folders.surveys]
