"""The interactive API docs load their scripts from a CDN, so the app serves them only when
asked to (`starter.py dev`); the schema is always served."""

from __future__ import annotations

import pytest

from tests.app_support import http_client
from web.app import create_app

DOCS = ("/docs", "/redoc", "/docs/oauth2-redirect")


@pytest.mark.parametrize("interactive", [False, True])
async def test_the_interactive_docs_are_served_only_when_asked_for(web_context, interactive):
    async with http_client(create_app(web_context, interactive_docs=interactive)) as client:
        schema = await client.get("/openapi.json")
        assert schema.status_code == 200 and schema.json()["info"]["title"] == "coachflow"
        for path in DOCS:
            page = await client.get(path)
            assert page.status_code == (200 if interactive else 404), path
            if path != "/docs/oauth2-redirect":
                assert ("cdn.jsdelivr.net" in page.text) is interactive, path
