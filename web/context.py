"""What every request handler needs: the store, Temporal, the definitions and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from opportunities.catalog import Catalog
from opportunities.live import LiveCatalog
from service.settings import Settings


@dataclass
class WebContext:
    """`definitions`: a LiveCatalog follows its folders as other processes change them; a
    plain Catalog changes only through this app's own edits."""

    settings: Settings
    client: Client
    sessions: async_sessionmaker
    definitions: LiveCatalog | Catalog
    task_queue: str
    secret_key: str

    def __post_init__(self) -> None:
        if isinstance(self.definitions, Catalog):
            self.definitions = LiveCatalog.fixed(self.definitions)

    @property
    def catalog(self) -> Catalog:
        assert isinstance(self.definitions, LiveCatalog)
        return self.definitions.current()


def web_context(request: Request) -> WebContext:
    return request.app.state.context


Context = Annotated[WebContext, Depends(web_context)]
