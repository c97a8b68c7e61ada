"""The server-rendered pages over HTTP: sign-in, who sees which page, CSRF on every form, a
lead's override through the form and a trainee completing a task on /me."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from store.lifecycle import lifecycle_of
from store.models import AssessmentRow, DecisionRow, LearningTaskRow
from tests.app_support import post_login
from tests.factories import make_event
from tests.helpers import assessment_of, until_drafted
from web.auth import SESSION_COOKIE

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
PAGES = ("/queue", "/dashboard", "/admin", "/me")
ALLOWED = {
    "lee": {"/queue", "/dashboard"},
    "a-17": {"/me"},
    "ada": {"/queue", "/dashboard", "/admin"},
}


@pytest.fixture
async def browser_for(web_app) -> AsyncIterator:
    """A separate cookie jar per person, all on the same app."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web_app), base_url="http://coachflow.test"
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def signed_in(browser_for, tokens, name: str) -> httpx.AsyncClient:
    client = browser_for()
    response = await post_login(client, name, tokens[name])
    assert response.status_code == 303, response.text
    return client


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


@pytest.fixture
async def drafted(intake, dev_client, sessions, ticket_id) -> AssessmentRow:
    result = await intake.ingest(make_event(**{"ticket.id": ticket_id}))
    (workflow_id,) = result.started
    await until_drafted(dev_client, workflow_id)
    return await assessment_of(sessions, workflow_id)


async def _decisions(sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(DecisionRow))).scalar_one()


async def test_sign_in_with_a_wrong_token_fails_and_the_right_one_sets_an_http_only_cookie(
    http, tokens
):
    page = await http.get("/login")
    assert page.status_code == 200 and 'name="token"' in page.text
    for name, token in (("lee", "not-the-token"), ("lee", tokens["a-17"]), ("nobody", "x")):
        refused = await post_login(http, name, token)
        assert refused.status_code == 401
        assert "do not match" in refused.text
        assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert (await http.get("/queue")).status_code == 303

    ok = await post_login(http, "lee", tokens["lee"])
    assert ok.status_code == 303 and ok.headers["location"] == "/queue"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert tokens["lee"] not in cookie
    queue = await http.get("/queue")
    assert queue.status_code == 200 and "Review queue" in queue.text
    assert queue.headers["x-frame-options"] == "DENY"

    # A sign-in sends the person back where they were going, never to another site.
    http.cookies.clear()
    went = await http.get("/dashboard?days=7")
    assert went.status_code == 303 and went.headers["location"].startswith("/login?next=")
    back = await post_login(http, "lee", tokens["lee"], next="/dashboard?days=7")
    assert back.headers["location"] == "/dashboard?days=7"
    http.cookies.clear()
    away = await post_login(http, "lee", tokens["lee"], next="//evil.example/x")
    assert away.headers["location"] == "/queue"

    # Signing out needs the form's token, then clears the cookie.
    assert (await http.post("/logout", data={})).status_code == 403
    token = csrf_of((await http.get("/queue")).text)
    out = await http.post("/logout", data={"csrf": token})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    http.cookies.clear()
    assert (await http.get("/queue")).status_code == 303


async def test_each_page_renders_for_its_roles_only(browser_for, tokens, http):
    for path in (*PAGES, "/", "/assessments/1"):
        response = await http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    for name, allowed in ALLOWED.items():
        client = await signed_in(browser_for, tokens, name)
        home = await client.get("/")
        assert home.status_code == 303
        assert home.headers["location"] in allowed
        for path in PAGES:
            response = await client.get(path)
            if path in allowed:
                assert response.status_code == 200, (name, path, response.text[:500])
                assert "<html" in response.text and f"{name} <span" in response.text
            else:
                assert response.status_code == 403, (name, path)
                assert "text/html" in response.headers["content-type"]
                assert "this page is for" in response.text
    # A bearer token reads pages too (no cookie, so no CSRF to carry).
    bearer = await http.get("/dashboard", headers={"Authorization": f"Bearer {tokens['ada']}"})
    assert bearer.status_code == 200 and "Override rate" in bearer.text


async def test_the_queue_lists_the_draft_with_its_age_against_the_review_sla(
    browser_for, tokens, drafted
):
    lead = await signed_in(browser_for, tokens, "lee")
    page = await lead.get("/queue")
    assert page.status_code == 200
    assert f'href="/assessments/{drafted.id}"' in page.text
    assert re.search(r"\d+m of 3d", page.text), "the age against `review.due: 3d`"
    filtered = await lead.get("/queue", params={"agent": "someone-else"})
    assert f'href="/assessments/{drafted.id}"' not in filtered.text
    by_opportunity = await lead.get("/queue", params={"opportunity": "low-csat"})
    assert f'href="/assessments/{drafted.id}"' in by_opportunity.text
    # A lead of another team does not see it, and gets a 404 for its page.
    olga = await signed_in(browser_for, tokens, "olga")
    assert f'href="/assessments/{drafted.id}"' not in (await olga.get("/queue")).text
    assert (await olga.get(f"/assessments/{drafted.id}")).status_code == 404


async def test_a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    browser_for, tokens, drafted, sessions
):
    lead = await signed_in(browser_for, tokens, "lee")
    page = await lead.get(f"/assessments/{drafted.id}")
    good = csrf_of(page.text)
    other = await signed_in(browser_for, tokens, "lee")
    foreign = csrf_of((await other.get("/queue")).text)
    assert foreign != good, "tokens are bound to the session"
    path = f"/assessments/{drafted.id}/decide"
    for token in (None, "", "0" * 64, foreign):
        data = {"action": "dismiss", "reason": "not needed"}
        if token is not None:
            data["csrf"] = token
        refused = await lead.post(path, data=data)
        assert refused.status_code == 403
        assert "csrf" in refused.text
    # Without a session at all, a form post goes to the sign-in page.
    anonymous = browser_for()
    redirected = await anonymous.post(path, data={"csrf": good, "action": "approve"})
    assert redirected.status_code == 303 and redirected.headers["location"] == "/login"
    assert (await assessment_of(sessions, drafted.workflow_id)).status == "awaiting_review"
    assert await _decisions(sessions) == 0


async def test_a_lead_overrides_through_the_form_and_the_trainee_completes_the_task(
    browser_for, tokens, drafted, sessions
):
    lead = await signed_in(browser_for, tokens, "lee")
    page = await lead.get(f"/assessments/{drafted.id}")
    assert page.status_code == 200
    # The lead sees the raw thread, with quoted evidence marked where the source offsets say.
    assert 'id="msg-m2"' in page.text and "+44 20 7946 0958" in page.text
    assert "<mark" in page.text
    assert 'name="score.empathy"' in page.text
    token = csrf_of(page.text)
    path = f"/assessments/{drafted.id}/decide"

    # A refusal comes back on the page, not as a 500: an override needs a reason.
    refused = await lead.post(
        path, data={"csrf": token, "action": "override", "score.empathy": "0"}
    )
    assert refused.status_code == 422
    assert "reason" in refused.text and "Refused" in refused.text
    out_of_range = await lead.post(
        path,
        data={"csrf": token, "action": "override", "score.empathy": "7", "reason": "x"},
    )
    assert out_of_range.status_code == 422 and "scores.empathy" in out_of_range.text
    assert await _decisions(sessions) == 0

    done = await lead.post(
        path,
        data={
            "csrf": token,
            "action": "override",
            "score.empathy": "0",
            "score.tone": "2",
            "reason": "no empathy in reply 2",
        },
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/assessments/{drafted.id}?done=override"
    async with sessions() as session:
        decision = (await session.execute(select(DecisionRow))).scalar_one()
    assert (decision.action, decision.lead, decision.reason) == (
        "override",
        "lee",
        "no empathy in reply 2",
    )
    assert [(c["criterion_id"], c["field"], c["after"]) for c in decision.changes] == [
        ("empathy", "score", 0.0)
    ], "unchanged fields of the form are not sent"
    shown = await lead.get(done.headers["location"])
    assert "Override recorded" in shown.text and "Empathy in written replies" in shown.text
    again = await lead.post(
        path, data={"csrf": token, "action": "dismiss", "reason": "changed my mind"}
    )
    assert again.status_code == 409 and "already decided" in again.text

    trainee = await signed_in(browser_for, tokens, "a-17")
    me = await trainee.get("/me")
    assert me.status_code == 200
    assert "Empathy in written replies" in me.text
    async with sessions() as session:
        task = (await session.execute(select(LearningTaskRow))).scalar_one()
    assert task.status == "open"
    assert f'action="/tasks/{task.id}/complete"' in me.text
    # The trainee's view of the assessment never shows the thread.
    mine = await trainee.get(f"/assessments/{drafted.id}")
    assert mine.status_code == 200
    assert "msg-m2" not in mine.text and "+44 20 7946 0958" not in mine.text
    assert "<mark" not in mine.text

    # Another trainee cannot complete it, nor learn that it exists; the owner can, once.
    other = await signed_in(browser_for, tokens, "a-99")
    other_token = csrf_of((await other.get("/me")).text)
    stolen = await other.post(
        f"/tasks/{task.id}/complete", data={"csrf": other_token, "next": "/me"}
    )
    assert stolen.status_code == 404 and f"no task {task.id}" in stolen.text
    me_token = csrf_of(me.text)
    completed = await trainee.post(
        f"/tasks/{task.id}/complete", data={"csrf": me_token, "next": "/me"}
    )
    assert completed.status_code == 303 and completed.headers["location"] == "/me?done=task"
    async with sessions() as session:
        row = await session.get(LearningTaskRow, task.id)
    assert row.status == "completed"
    after = await trainee.get("/me?done=task")
    assert "Task completed." in after.text and 'class="skill">empathy' in after.text
    twice = await trainee.post(f"/tasks/{task.id}/complete", data={"csrf": me_token, "next": "/me"})
    assert twice.status_code == 409 and "already completed" in twice.text

    # The trainee's survey form is built from the template; answering it works.
    assert 'name="q.usefulness"' in after.text and 'type="radio"' in after.text
    survey_id = int(re.search(r'action="/surveys/(\d+)/answer"', after.text).group(1))
    answered = await trainee.post(
        f"/surveys/{survey_id}/answer",
        data={"csrf": me_token, "next": "/me", "q.usefulness": "5", "q.fairness": "4"},
    )
    assert answered.status_code == 303, answered.text
    ack = await trainee.post(
        f"/assessments/{drafted.id}/respond",
        data={"csrf": me_token, "next": "/me", "response": "acknowledge"},
    )
    assert ack.status_code == 303
    assert "You acknowledged" in (await trainee.get(ack.headers["location"])).text


@pytest.mark.parametrize("score", ["nan", "inf", "-Infinity", "1e309"])
async def test_an_override_score_that_is_not_finite_is_a_422_naming_the_field(
    browser_for, tokens, drafted, sessions, score
):
    lead = await signed_in(browser_for, tokens, "lee")
    page = await lead.get(f"/assessments/{drafted.id}")
    refused = await lead.post(
        f"/assessments/{drafted.id}/decide",
        data={
            "csrf": csrf_of(page.text),
            "action": "override",
            "score.empathy": score,
            "reason": "no empathy in reply 2",
        },
    )
    assert refused.status_code == 422, refused.text
    assert "scores.empathy: must be a finite number" in refused.text
    assert await _decisions(sessions) == 0


async def test_the_dashboard_draws_the_metrics_and_admin_lists_definitions_and_audit(
    browser_for, tokens, drafted
):
    lead = await signed_in(browser_for, tokens, "lee")
    token = csrf_of((await lead.get(f"/assessments/{drafted.id}")).text)
    approved = await lead.post(
        f"/assessments/{drafted.id}/decide", data={"csrf": token, "action": "approve"}
    )
    assert approved.status_code == 303
    dashboard = await lead.get("/dashboard")
    assert dashboard.status_code == 200
    assert dashboard.text.count("<svg") >= 4 and "<rect" in dashboard.text
    assert "Notes approved: 1" in dashboard.text
    admin = await signed_in(browser_for, tokens, "ada")
    page = await admin.get("/admin")
    assert page.status_code == 200
    assert "low-csat" in page.text and "support-core@" in page.text
    assert "All definitions are valid." in page.text
    assert "decision.approve" in page.text and f"assessment:{drafted.id}" in page.text


async def test_reassign_dispute_and_resolution_through_the_forms(
    browser_for, tokens, drafted, sessions
):
    lee = await signed_in(browser_for, tokens, "lee")
    page = await lee.get(f"/assessments/{drafted.id}")
    assert "<option>sam</option>" in page.text, "the other leads to reassign to"
    path = f"/assessments/{drafted.id}/decide"
    moved = await lee.post(
        path, data={"csrf": csrf_of(page.text), "action": "reassign", "to": "sam"}
    )
    assert moved.status_code == 303
    assert (await assessment_of(sessions, drafted.workflow_id)).assigned_lead == "sam"
    taken = await lee.post(path, data={"csrf": csrf_of(page.text), "action": "approve"})
    assert taken.status_code == 403 and "reassigned to sam" in taken.text

    sam = await signed_in(browser_for, tokens, "sam")
    sam_token = csrf_of((await sam.get(f"/assessments/{drafted.id}")).text)
    assert (await sam.post(path, data={"csrf": sam_token, "action": "approve"})).status_code == 303
    # The coach's survey waits for sam on the assessment page, and the queue points to it.
    assert f"/assessments/{drafted.id}#surveys" in (await sam.get("/queue")).text
    page = await sam.get(f"/assessments/{drafted.id}")
    assert 'name="q.competence"' in page.text
    survey_id = int(re.search(r'action="/surveys/(\d+)/answer"', page.text).group(1))
    incomplete = await sam.post(
        f"/surveys/{survey_id}/answer",
        data={"csrf": sam_token, "next": f"/assessments/{drafted.id}", "q.competence": "4"},
    )
    assert incomplete.status_code == 422 and "applied_coaching" in incomplete.text
    answered = await sam.post(
        f"/surveys/{survey_id}/answer",
        data={
            "csrf": sam_token,
            "next": f"/assessments/{drafted.id}",
            "q.competence": "4",
            "q.applied_coaching": "3",
        },
    )
    assert answered.status_code == 303
    assert answered.headers["location"] == f"/assessments/{drafted.id}?done=survey"

    trainee = await signed_in(browser_for, tokens, "a-17")
    me = await trainee.get("/me")
    respond = f"/assessments/{drafted.id}/respond"
    # Neither an unknown response nor a NUL in the reason is taken as an acknowledgement or
    # sent on (a NUL would fail the PostgreSQL write behind the update, over and over).
    for data, expected in (
        ({"response": "Dispute", "reason": "late"}, "response: must be acknowledge or dispute"),
        ({"reason": "late"}, "response: must be acknowledge or dispute"),
        ({"response": "dispute", "reason": "la\x00te"}, "reason: must not contain NUL"),
    ):
        wrong = await trainee.post(respond, data={"csrf": csrf_of(me.text), **data})
        assert wrong.status_code == 422 and expected in wrong.text, wrong.text
    async with sessions() as session:
        assert (await lifecycle_of(session, drafted.id)).response is None
    beyond = await trainee.post("/tasks/99999999999999999999/complete", data={"csrf": "0"})
    assert beyond.status_code == 422 and "task_id: Input should be less than" in beyond.text
    empty = await trainee.post(
        f"/assessments/{drafted.id}/respond",
        data={"csrf": csrf_of(me.text), "next": "/me", "response": "dispute", "reason": " "},
    )
    assert empty.status_code == 422 and "a dispute needs a reason" in empty.text
    disputed = await trainee.post(
        f"/assessments/{drafted.id}/respond",
        data={
            "csrf": csrf_of(me.text),
            "next": "/me",
            "response": "dispute",
            "reason": "the reply was on time",
        },
    )
    assert disputed.status_code == 303

    # sam decided, so sam may not resolve; lee only reassigned, so lee may.
    refused = await sam.post(
        f"/assessments/{drafted.id}/resolve", data={"csrf": sam_token, "resolution": "upheld"}
    )
    assert refused.status_code == 403 and "Refused" in refused.text
    page = await lee.get(f"/assessments/{drafted.id}")
    assert f'action="/assessments/{drafted.id}/resolve"' in page.text
    assert "the reply was on time" in page.text
    resolved = await lee.post(
        f"/assessments/{drafted.id}/resolve",
        data={"csrf": csrf_of(page.text), "resolution": "upheld"},
    )
    assert resolved.status_code == 303
    shown = await trainee.get("/me")
    assert "the dispute was upheld by lee" in shown.text
