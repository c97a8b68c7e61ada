"""Serve the web app with uvicorn inside the running process (`starter.py dev`)."""

from __future__ import annotations

import contextlib
import secrets
import signal
import threading
from collections.abc import Iterator

import uvicorn
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from opportunities.catalog import Catalog
from opportunities.live import LiveCatalog
from service.settings import Settings
from store.db import create_private
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
    create_private(path)
    path.write_text(key)
    return key


class _Server(uvicorn.Server):
    """Stops on SIGINT or SIGTERM as uvicorn's server does, but then returns instead of raising
    the signal again, which would end the process before the caller stops the worker and the
    embedded Temporal dev server it started (that server was left running)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def web_server(
    settings: Settings,
    client: Client,
    sessions: async_sessionmaker,
    definitions: LiveCatalog | Catalog,
    host: str = "127.0.0.1",
    interactive_docs: bool = False,
) -> uvicorn.Server:
    context = WebContext(
        settings=settings,
        client=client,
        sessions=sessions,
        definitions=definitions,
        task_queue=settings.task_queue,
        secret_key=secret_key(settings),
    )
    config = uvicorn.Config(
        create_app(context, interactive_docs=interactive_docs),
        host=host,
        port=settings.web_port,
        log_level="warning",
        lifespan="off",
        server_header=False,
    )
    return _Server(config)
