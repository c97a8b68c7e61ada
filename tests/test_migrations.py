"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import make_url

from store.db import fresh_database, make_engine
from store.migrate import alembic_config, upgrade
from store.models import AssessmentRow, Base, MeasurementEventRow, TicketRow, UserRow

HEAD = "0010"
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
    assert await _schema(database_url) == ([], HEAD)


def _fresh_database(database_url: str, folder: Path):
    """An empty database of the same kind as the session's, dropped after."""
    postgres = make_url(database_url).get_backend_name() == "postgresql"
    return fresh_database(database_url if postgres else None, folder, "coachflow_migrate")


async def test_a_queue_index_built_beforehand_is_kept_and_the_upgrade_finishes(
    database_url, tmp_path: Path
):
    """A large PostgreSQL site builds 0008's index without blocking writes before it upgrades;
    the upgrade keeps it, and a downgrade and a second upgrade still work."""
    async with _fresh_database(database_url, tmp_path) as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0007")
        assert "ix_assessments_queue_visible" not in await _assessment_indexes(url)
        await _build_queue_index_by_hand(url)

        await upgrade(url)
        assert await _schema(url) == ([], HEAD)

        await asyncio.to_thread(command.downgrade, alembic_config(url), "0007")
        indexes = await _assessment_indexes(url)
        assert "ix_assessments_queue" in indexes
        assert "ix_assessments_queue_visible" not in indexes
        await upgrade(url)
        assert await _schema(url) == ([], HEAD)


async def test_released_at_is_filled_from_each_assessment_s_coaching_start(
    database_url, tmp_path: Path
):
    """0009: an assessment whose coaching started is released then; one whose review window
    closed undecided never was."""
    started = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    async with _fresh_database(database_url, tmp_path) as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0008")
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                ticket_id = (
                    await conn.execute(
                        insert(TicketRow.__table__).returning(TicketRow.__table__.c.id),
                        {
                            "source": "zendesk",
                            "external_id": "881",
                            "snapshot": {},
                            "last_event_at": started,
                            "updated_at": started,
                        },
                    )
                ).scalar_one()
                ids = {}
                for status in ("closed_incomplete", "coaching"):
                    ids[status] = (
                        await conn.execute(
                            insert(AssessmentRow.__table__).returning(AssessmentRow.__table__.c.id),
                            _assessment_at_0008(ticket_id, status, started),
                        )
                    ).scalar_one()
                await conn.execute(
                    insert(MeasurementEventRow.__table__),
                    {
                        "dedupe_key": "coaching_started:w-coaching",
                        "kind": "coaching_started",
                        "occurred_at": started,
                        "assessment_id": ids["coaching"],
                        "data": {},
                    },
                )
        finally:
            await engine.dispose()

        await upgrade(url)
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                released = dict(
                    (
                        await conn.execute(select(AssessmentRow.status, AssessmentRow.released_at))
                    ).all()
                )
        finally:
            await engine.dispose()
    assert released == {"closed_incomplete": None, "coaching": started}


async def test_existing_users_start_at_session_version_zero(database_url, tmp_path: Path):
    """0010: users added before it keep working; their first sign-in carries version 0."""
    at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    async with _fresh_database(database_url, tmp_path) as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0009")
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO users (name, role, teams, groups, created_at) "
                        "VALUES ('lee', 'lead', '[]', '[]', :at)"
                    ),
                    {"at": at},
                )
            await upgrade(url)
            async with engine.connect() as conn:
                versions = (await conn.execute(select(UserRow.name, UserRow.session_version))).all()
            await asyncio.to_thread(command.downgrade, alembic_config(url), "0009")
            async with engine.connect() as conn:
                columns = await conn.run_sync(lambda sync: inspect(sync).get_columns("users"))
        finally:
            await engine.dispose()
    assert versions == [("lee", 0)]
    assert "session_version" not in {c["name"] for c in columns}


def _assessment_at_0008(ticket_id: int, status: str, at: datetime) -> dict:
    return {
        "workflow_id": f"w-{status}",
        "opportunity_id": "low-csat",
        "opportunity_version": 1,
        "rubric_id": "support-core",
        "rubric_version": 1,
        "ticket_id": ticket_id,
        "source": "zendesk",
        "ticket_external_id": "881",
        "event_id": f"e-{status}",
        "event_type": "csat.received",
        "status": status,
        "confidence": 0.9,
        "priority": 0,
        "flags": [],
        "summary": "",
        "created_at": at,
        "updated_at": at,
    }
