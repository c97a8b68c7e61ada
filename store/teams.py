"""The team an assessment is reviewed by when the event names none: the user directory's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import UserRow


async def directory_team(session: AsyncSession, name: str) -> str | None:
    """The first team the user directory lists for `name`, or None."""
    teams = await session.scalar(select(UserRow.teams).where(UserRow.name == name))
    return teams[0] if teams else None
