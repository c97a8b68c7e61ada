"""The web app with writable copies of the definition folders, for the reliability tests that
upload definitions or sweep the admin routes; and what a test compares before and after."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
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


def http_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://coachflow.test"
    )


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
