"""Serve the web app with uvicorn inside the running process (`starter.py dev`)."""

from __future__ import annotations

import secrets

import uvicorn
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from opportunities.catalog import Catalog
from service.settings import Settings
from web.app import create_app
from web.context import WebContext


def secret_key(settings: Settings) -> str:
    """COACHFLOW_SECRET_KEY, or one kept in the data folder so sessions survive restarts."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.secret_key_file
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def web_server(
    settings: Settings,
    client: Client,
    sessions: async_sessionmaker,
    catalog: Catalog,
    host: str = "127.0.0.1",
) -> uvicorn.Server:
    context = WebContext(
        settings=settings,
        client=client,
        sessions=sessions,
        catalog=catalog,
        task_queue=settings.task_queue,
        secret_key=secret_key(settings),
    )
    config = uvicorn.Config(
        create_app(context), host=host, port=settings.web_port, log_level="warning", lifespan="off"
    )
    return uvicorn.Server(config)
