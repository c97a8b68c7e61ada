"""Apply Alembic migrations; called on every start-up."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

from store.db import normalize_url

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic keeps its running context in a module global: one migration per process at a time.
_ONE_AT_A_TIME = threading.Lock()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade_sync(url: str) -> None:
    with _ONE_AT_A_TIME:
        command.upgrade(alembic_config(url), "head")


async def upgrade(url: str) -> None:
    """Alembic's env.py runs its own event loop, so it gets a thread of its own."""
    await asyncio.to_thread(upgrade_sync, url)
