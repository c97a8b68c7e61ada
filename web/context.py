"""What every request handler needs: the store, Temporal, the definitions and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from opportunities.catalog import Catalog
from service.settings import Settings


@dataclass
class WebContext:
    settings: Settings
    client: Client
    sessions: async_sessionmaker
    catalog: Catalog
    task_queue: str
    secret_key: str


def web_context(request: Request) -> WebContext:
    return request.app.state.context


Context = Annotated[WebContext, Depends(web_context)]
