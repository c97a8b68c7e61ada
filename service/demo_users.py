"""The people `starter.py dev` prints tokens for: an admin, and the leads and trainees of the
assessments already in the store (the demo's SIMULATED directory), or a small default team."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from opportunities.catalog import Catalog
from service.demo_lifecycle import seed_users
from store.users import add_user, get_user, issue_token, list_users

DEFAULT_PEOPLE = [
    ("admin", "admin", [], []),
    ("lee", "lead", ["tier1"], []),
    ("quinn", "lead", [], ["qa-leads"]),
    ("a-17", "trainee", ["tier1"], []),
]
SHOWN_PER_ROLE = 3
DEV = "dev"  # the audit actor of the tokens `starter.py dev` issues


async def demo_tokens(sessions: async_sessionmaker, catalog: Catalog) -> list[tuple[str, str, str]]:
    """(name, role, fresh token) for a few users per role; each start issues new tokens, each
    audited as `user.token_issued` by `dev`."""
    async with sessions() as session, session.begin():
        for name, role, teams, groups in DEFAULT_PEOPLE:
            if await get_user(session, name) is None:
                await add_user(session, name, role, teams, groups)
    await seed_users(sessions, catalog)
    out = []
    async with sessions() as session, session.begin():
        users = await list_users(session)
        for role in ("admin", "lead", "trainee"):
            for row in [u for u in users if u.role == role][:SHOWN_PER_ROLE]:
                out.append((row.name, role, await issue_token(session, row.name, by=DEV)))
    return out
