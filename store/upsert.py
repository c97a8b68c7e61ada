"""INSERT … ON CONFLICT DO NOTHING for both dialects.

Statements are built on the Core table with the values as parameters, so their compiled form
is cached across calls instead of keyed on every value."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"


def insert_in(dialect: str, table: Any) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def insert_for(session: AsyncSession, table: Any) -> Any:
    return insert_in(dialect_of(session), table)


@cache
def _ignoring_in(dialect: str, table: Any, keys: tuple[str, ...]) -> Any:
    return insert_in(dialect, table).on_conflict_do_nothing(index_elements=list(keys))


def _ignoring(session: AsyncSession, model: Any, keys: list[str]) -> Any:
    return _ignoring_in(dialect_of(session), model.__table__, tuple(keys))


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


async def insert_ignore_returning(
    session: AsyncSession, model: Any, rows: list[dict[str, Any]], keys: list[str]
) -> list[Any]:
    """`insert_ignore_many`, returning the rows this call inserted (not those already there)
    as loaded instances, in one round trip."""
    if not rows:
        return []
    statement = (
        insert_for(session, model)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(model)
        .execution_options(populate_existing=True, render_nulls=True)
    )
    return list(await session.scalars(statement, rows))
