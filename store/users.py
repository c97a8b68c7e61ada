"""The user directory. Callers resolve a name to an `Actor` here before sending an update."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.people import ROLES, Actor
from store.audit import audit
from store.models import UserRow

TOKEN_PREFIX = "cf_"
# \Z, not $: `$` also matches before a final newline, which would let "lee\n" in.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,199}\Z")


class UserError(ValueError):
    pass


def _labels(values: list[str], what: str) -> list[str]:
    out = []
    for value in values:
        if not NAME.match(value):
            raise UserError(f"{what}: {value!r} must be letters, digits, '.', '_', '@' or '-'")
        if value not in out:
            out.append(value)
    return out


async def add_user(
    session: AsyncSession,
    name: str,
    role: str,
    teams: list[str] = (),
    groups: list[str] = (),
    token_hash: str | None = None,
) -> UserRow:
    """Add a user, or refuse when the name is taken. No commit: the caller owns it."""
    if not NAME.match(name or ""):
        raise UserError("name: letters, digits, '.', '_', '@' or '-', at most 200")
    if role not in ROLES:
        raise UserError(f"role: must be one of {', '.join(ROLES)}")
    if await get_user(session, name) is not None:
        raise UserError(f"user {name!r} already exists")
    row = UserRow(
        name=name,
        role=role,
        teams=_labels(list(teams), "team"),
        groups=_labels(list(groups), "group"),
        token_hash=token_hash,
        created_at=datetime.now(UTC),
        session_version=0,
    )
    session.add(row)
    await session.flush()
    return row


async def get_user(session: AsyncSession, name: str) -> UserRow | None:
    return (await session.execute(select(UserRow).where(UserRow.name == name))).scalar_one_or_none()


async def list_users(session: AsyncSession) -> list[UserRow]:
    return list((await session.execute(select(UserRow).order_by(UserRow.name))).scalars())


def actor_of(row: UserRow) -> Actor:
    return Actor(id=row.name, role=row.role, teams=list(row.teams), groups=list(row.groups))


async def resolve_actor(session: AsyncSession, name: str) -> Actor:
    """The named user as an Actor, or UserError naming the unknown user."""
    row = await get_user(session, name)
    if row is None:
        raise UserError(f"no user {name!r}; add one with `starter.py users add`")
    return actor_of(row)


def hash_token(token: str) -> str:
    """Tokens are random and long, so one fast hash is enough; only the hash is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(session: AsyncSession, name: str, by: str | None = None) -> str:
    """A new bearer token for the user, replacing any earlier one and ending the user's page
    sessions; returned once, never stored. Audited as `user.token_issued` when `by` is given."""
    row = await get_user(session, name)
    if row is None:
        raise UserError(f"no user {name!r}; add one with `starter.py users add`")
    token = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
    row.token_hash = hash_token(token)
    row.session_version = UserRow.session_version + 1
    await session.flush()
    if by is not None:
        await audit(session, by, "user.token_issued", f"user:{name}")
    return token


async def end_sessions(session: AsyncSession, name: str) -> None:
    """End every page session of the user (their bearer token stays valid)."""
    await session.execute(
        update(UserRow)
        .where(UserRow.name == name)
        .values(session_version=UserRow.session_version + 1)
        .execution_options(synchronize_session=False)
    )


async def set_role(session: AsyncSession, name: str, role: str, by: str) -> UserRow:
    """Change the user's role, ending their page sessions; audited as `user.role_changed`."""
    if role not in ROLES:
        raise UserError(f"role: must be one of {', '.join(ROLES)}")
    row = await get_user(session, name)
    if row is None:
        raise UserError(f"no user {name!r}; add one with `starter.py users add`")
    before, row.role = row.role, role
    row.session_version = UserRow.session_version + 1
    await session.flush()
    await audit(session, by, "user.role_changed", f"user:{name}", {"from": before, "to": role})
    return row


async def user_by_token(session: AsyncSession, token: str) -> UserRow | None:
    if not token or len(token) > 200:
        return None
    query = select(UserRow).where(UserRow.token_hash == hash_token(token))
    return (await session.execute(query)).scalar_one_or_none()
