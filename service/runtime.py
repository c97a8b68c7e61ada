"""Open the store and reach Temporal: an external server, a running `dev`, or embedded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from opportunities.catalog import Catalog
from opportunities.editor import Folders
from opportunities.live import LiveCatalog
from service.settings import Settings
from service.temporal import connect_options, embedded_server, get_client, running_dev_server
from service.worker import build_worker, worker_options
from store.db import make_engine, session_factory
from store.migrate import upgrade


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[async_sessionmaker]:
    """Migrate to the newest schema, then hand out sessions."""
    await upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def catalog_for(settings: Settings) -> Catalog:
    return Folders.from_settings(settings).load()


def live_catalog_for(settings: Settings) -> LiveCatalog:
    """For a long-running process: follows the folders as other processes change them."""
    return LiveCatalog.load(Folders.from_settings(settings))


@dataclass
class Connection:
    client: Client
    address: str
    in_process_worker: bool


@asynccontextmanager
async def connect(
    settings: Settings, sessions: async_sessionmaker, port: int | None = None, ui: bool = False
) -> AsyncIterator[Connection]:
    """Use TEMPORAL_ADDRESS, else a running `starter.py dev`, else start the embedded stack.

    With the embedded stack, the worker runs in this process for as long as the block lasts.
    """
    address = settings.temporal_address or running_dev_server(settings)
    if address:
        client = await get_client(address, settings.namespace, **connect_options(settings))
        yield Connection(client, address, False)
        return
    async with (
        embedded_server(settings, port=port, ui=ui) as server,
        build_worker(server.client, settings.task_queue, sessions, **worker_options(settings)),
    ):
        yield Connection(server.client, server.address, True)
