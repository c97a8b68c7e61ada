"""INSERT … ON CONFLICT DO NOTHING for both dialects.

Statements are built on the Core table with the values as parameters, so their compiled form
is cached across calls instead of keyed on every value."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _ignoring(session: AsyncSession, model: Any, keys: list[str]) -> Any:
    return insert_for(session, model.__table__).on_conflict_do_nothing(index_elements=keys)


async def insert_ignore(session: AsyncSession, model: Any, values: dict, keys: list[str]) -> bool:
    """Insert unless a row with the same keys exists. True when a row was inserted."""
    result = await session.execute(_ignoring(session, model, keys), values)
    return bool(result.rowcount)


async def insert_ignore_many(
    session: AsyncSession, model: Any, rows: list[dict[str, Any]], keys: list[str]
) -> None:
    """`insert_ignore` of each of `rows` (all with the same columns), in one round trip."""
    if rows:
        await session.execute(_ignoring(session, model, keys), rows)
