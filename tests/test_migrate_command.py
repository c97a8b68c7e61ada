"""`python starter.py migrate`: the compose stack's one-shot migration, on an empty database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from store.db import make_engine, normalize_url, sqlite_url
from store.migrate import alembic_config
from store.models import Base

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def empty_database(tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables: PostgreSQL when the tests run on it, else SQLite."""
    configured = os.environ.get("COACHFLOW_DATABASE_URL", "").strip()
    if not configured or make_url(normalize_url(configured)).get_backend_name() != "postgresql":
        yield sqlite_url(tmp_path / "empty.db")
        return
    parsed = make_url(normalize_url(configured))
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"coachflow_migrate_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield parsed.set(database=name).render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _migrate(url: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACHFLOW_")}
    env["COACHFLOW_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "migrate"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _schema(url: str) -> tuple[set[str], str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    return tables, version


async def test_migrate_builds_the_schema_then_changes_nothing(empty_database, tmp_path):
    head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
    first = _migrate(empty_database, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"database schema at revision {head}"
    tables, version = await _schema(empty_database)
    assert set(Base.metadata.tables) <= tables and version == head

    again = _migrate(empty_database, tmp_path)
    assert again.returncode == 0, again.stderr
    assert await _schema(empty_database) == (tables, head)
    assert not (tmp_path / ".coachflow").exists(), "migrate needs no data folder"
