"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


def normalize_url(url: str) -> str:
    """Accept the usual spellings and pick the async driver."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif driver == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif driver not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        raise ValueError(
            f"unsupported database URL scheme {driver!r}: use postgresql:// or sqlite://"
        )
    return parsed.render_as_string(hide_password=False)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_private(path: Path) -> None:
    """Create `path` empty, readable and writable by its owner only (0600), unless it exists.

    For the SQLite file only, where an empty file is a valid, empty database that SQLite then
    fills itself. Never for a file whose content must be whole before anyone reads it (a key):
    write that through the handle that created it (web/serve.py, `secret_key`)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> AsyncEngine:
    """A SQLite file is created 0600 (it holds raw threads); SQLite gives its -wal and -shm
    files the database file's mode."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            create_private(Path(database))
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_database(url: str, prefix: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database on the server of `url`, named `prefix` plus a random
    suffix. Returns its URL and the admin URL that drops it (`drop_database`)."""
    parsed = make_url(normalize_url(url))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return parsed.set(database=name).render_as_string(hide_password=False), admin


async def drop_database(admin: str, url: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_database(postgres_url: str | None, folder: Path, prefix: str) -> AsyncIterator[str]:
    """A new, empty database: on the PostgreSQL server of `postgres_url`, named `prefix` and
    dropped after; without one, SQLite in `folder`."""
    if postgres_url is None:
        yield sqlite_url(folder / "coachflow.db")
        return
    url, admin = await create_database(postgres_url, prefix)
    try:
        yield url
    finally:
        await drop_database(admin, url)
