"""The web app with writable copies of the definition folders, for the reliability tests that
upload definitions or sweep the admin routes; and what a test compares before and after."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import func, select, text

from opportunities.catalog import load_catalog
from opportunities.editor import Folders as EditorFolders
from opportunities.live import LiveCatalog
from store.models import Base
from tests.definition_files import Folders, copy_definitions


def editable_folders(root: Path) -> Folders:
    root.mkdir(parents=True, exist_ok=True)
    return copy_definitions(root)


def editable_app(
    web_settings, folders: Folders, dev_client, sessions, task_queue, live: bool = False
):
    """conftest's `web_app`, with COACHFLOW_*_DIR pointing at `folders`. `live`: the app
    follows the folders as another process changes them, checking on every use."""
    from web.app import create_app
    from web.context import WebContext

    opportunities, rubrics, surveys = folders
    settings = dataclasses.replace(
        web_settings, opportunities_dir=opportunities, rubrics_dir=rubrics, surveys_dir=surveys
    )
    catalog = load_catalog(*folders)
    assert not catalog.problems, [str(p) for p in catalog.problems]
    definitions = (
        LiveCatalog.load(EditorFolders.from_settings(settings), interval=0) if live else catalog
    )
    return create_app(
        WebContext(
            settings=settings,
            client=dev_client,
            sessions=sessions,
            definitions=definitions,
            task_queue=task_queue,
            secret_key=settings.secret_key,
        )
    )


def http_client(app, address: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 123)),
        base_url="http://coachflow.test",
    )


FORM_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


async def login_form_token(client: httpx.AsyncClient) -> str:
    """What a browser gets from the sign-in page: its cookie (in the jar) and its form token."""
    page = await client.get("/login")
    assert page.status_code == 200, (page.status_code, page.text[:300])
    match = FORM_CSRF.search(page.text)
    return match.group(1) if match else ""


async def post_login(client: httpx.AsyncClient, name: str, token: str, **fields: str):
    """Sign in through the form, as a browser does: the page first, then the post."""
    data = {"csrf": await login_form_token(client), "name": name, "token": token, **fields}
    return await client.post("/login", data=data)


def files(folders: Folders) -> dict[str, bytes]:
    """Every file of the definition folders, by folder and name."""
    return {
        f"{folder.name}/{path.name}": path.read_bytes()
        for folder in folders
        for path in sorted(folder.iterdir())
    }


async def row_counts(sessions) -> dict[str, int]:
    """Rows in every table."""
    async with sessions() as session:
        return {
            table.name: (
                await session.execute(select(func.count()).select_from(text(table.name)))
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


@contextlib.asynccontextmanager
async def listening(server: uvicorn.Server) -> AsyncIterator[str]:
    """`server` serving on a free port of 127.0.0.1, as its base URL, until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(60):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60)
        sock.close()
