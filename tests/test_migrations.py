"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from store.db import create_database, drop_database, make_engine, sqlite_url
from store.migrate import alembic_config, upgrade
from store.models import Base

QUEUE_INDEX = (
    "ix_assessments_queue_visible ON assessments "
    "(status, priority, created_at, team, assigned_lead, opportunity_id)"
)


async def _schema(url: str) -> tuple[list, str]:
    """The differences between the database and the models, and its revision."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    return diff, version


async def _assessment_indexes(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda sync: inspect(sync).get_indexes("assessments"))
    finally:
        await engine.dispose()
    return {index["name"] for index in found}


async def _build_queue_index_by_hand(url: str) -> None:
    """As README, Database migrations, says: concurrently on PostgreSQL, outside any
    transaction."""
    if make_url(url).get_backend_name() == "postgresql":
        conn = await asyncpg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        try:
            await conn.execute(f"CREATE INDEX CONCURRENTLY {QUEUE_INDEX}")
        finally:
            await conn.close()
        return
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE INDEX {QUEUE_INDEX}"))
    finally:
        await engine.dispose()


async def test_the_migrated_schema_matches_the_models(database_url):
    assert await _schema(database_url) == ([], "0008")


async def test_a_queue_index_built_beforehand_is_kept_and_the_upgrade_finishes(
    database_url, tmp_path: Path
):
    """A large PostgreSQL site builds 0008's index without blocking writes before it upgrades;
    the upgrade keeps it, and a downgrade and a second upgrade still work."""
    postgres = make_url(database_url).get_backend_name() == "postgresql"
    if postgres:
        url, admin = await create_database(database_url, "coachflow_migrate")
    else:
        url = sqlite_url(tmp_path / "migrate.db")
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0007")
        assert "ix_assessments_queue_visible" not in await _assessment_indexes(url)
        await _build_queue_index_by_hand(url)

        await upgrade(url)
        assert await _schema(url) == ([], "0008")

        await asyncio.to_thread(command.downgrade, alembic_config(url), "0007")
        indexes = await _assessment_indexes(url)
        assert "ix_assessments_queue" in indexes
        assert "ix_assessments_queue_visible" not in indexes
        await upgrade(url)
        assert await _schema(url) == ([], "0008")
    finally:
        if postgres:
            await drop_database(admin, url)
