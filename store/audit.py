"""The audit log: who did what to which record. Details carry ids and choices, never free text
that may quote a customer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AuditRow


async def audit(
    session: AsyncSession,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one entry in the caller's transaction, so it stands or falls with the change."""
    await session.execute(
        insert(AuditRow.__table__),
        {
            "at": at or datetime.now(UTC),
            "actor": actor,
            "action": action,
            "target": target,
            "details": details or {},
        },
    )


async def audit_log(session: AsyncSession, limit: int = 100) -> list[AuditRow]:
    query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
