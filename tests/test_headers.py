"""The headers of every response, as the pages have carried them: the JSON API's answers and
refusals (401, 404, 413, 422, an unhandled 500) say `nosniff`, refuse framing, keep the
referrer on this site and keep out of caches; static files may be cached; and the server that
`serve` and `dev` run names no software in a `server` header."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.app_support import http_client, listening
from web.serve import web_server

SAFE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def assert_safe(response: httpx.Response, cache: str | None = "no-store") -> None:
    for name, value in SAFE.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert response.headers.get("cache-control") == cache, response.request.url
    assert "server" not in response.headers, response.request.url


async def test_every_api_answer_and_refusal_carries_the_safe_headers(web_app, tokens):
    lead = {"Authorization": f"Bearer {tokens['lee']}"}
    async with http_client(web_app) as http:
        answers = {
            200: await http.get("/api/assessments", headers=lead),
            401: await http.get("/api/assessments"),
            404: await http.get("/api/assessments/999999", headers=lead),
            413: await http.post("/events", content=b"x" * 300_000),
            422: await http.get("/api/assessments?limit=0", headers=lead),
        }
        unknown = await http.get("/api/no-such-thing")
        health = await http.get("/healthz")
        login = await http.get("/login")
        static = await http.get("/static/app.css")
    for status, response in answers.items():
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert_safe(response)
    assert unknown.status_code == 404
    assert_safe(unknown)
    assert health.status_code == 200
    assert_safe(health)
    assert (
        login.status_code == 200
        and "frame-ancestors 'none'" in login.headers["content-security-policy"]
    )
    assert_safe(login)
    assert static.status_code == 200
    assert_safe(static, cache=None)


async def test_an_unhandled_error_is_a_500_with_the_safe_headers(web_app):
    async def broken() -> None:
        raise RuntimeError("a bug")

    web_app.add_api_route("/api/broken", broken)
    transport = httpx.ASGITransport(app=web_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://coachflow.test") as http:
        response = await http.get("/api/broken")
    assert response.status_code == 500 and response.text == "Internal Server Error"
    assert_safe(response)


@pytest.fixture
async def served(web_settings, dev_client, sessions, catalog) -> AsyncIterator[str]:
    """The app as `serve` and `dev` run it: web/serve.py's uvicorn server, on a free port."""
    server = web_server(web_settings, dev_client, sessions, catalog)
    assert server.config.server_header is False
    async with listening(server) as url:
        yield url


async def test_the_served_app_sends_no_server_header(served):
    async with httpx.AsyncClient(base_url=served) as http:
        health = await http.get("/healthz")
        refused = await http.get("/api/assessments")
    assert health.status_code == 200 and refused.status_code == 401
    for response in (health, refused):
        assert_safe(response)
        assert "date" in response.headers
