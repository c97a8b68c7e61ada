"""`starter.py users add|list|token|role`: the user directory every acting command resolves
`--as` in."""

from __future__ import annotations

import json
import sys

from sqlalchemy.exc import IntegrityError

from service import render
from service.runtime import open_store
from service.settings import Settings
from store.users import UserError, add_user, get_user, issue_token, list_users, set_role

CLI = "cli"


async def users_add(
    settings: Settings,
    name: str,
    role: str,
    teams: list[str],
    groups: list[str],
    as_json: bool,
) -> int:
    async with open_store(settings) as sessions, sessions() as session:
        try:
            async with session.begin():
                if await get_user(session, name) is not None:
                    print(f"name: user {name!r} already exists", file=sys.stderr)
                    return 1
                data = render.user_dict(await add_user(session, name, role, teams, groups))
                data["token"] = await issue_token(session, name, by=CLI)
        except UserError as exc:
            print(f"cannot add user: {exc}", file=sys.stderr)
            return 2
        except IntegrityError:  # added by someone else in the meantime
            print(f"name: user {name!r} already exists", file=sys.stderr)
            return 1
    if as_json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(
            f"added {data['name']} ({data['role']}; teams {', '.join(data['teams']) or '-'}; "
            f"groups {', '.join(data['groups']) or '-'})"
        )
        print(f"token (shown once; `users token {name}` issues a new one): {data['token']}")
    return 0


async def users_token(settings: Settings, name: str, as_json: bool) -> int:
    """Issue a new bearer token, which replaces the user's old one and ends their page
    sessions."""
    async with open_store(settings) as sessions, sessions() as session:
        try:
            async with session.begin():
                token = await issue_token(session, name, by=CLI)
        except UserError as exc:
            print(f"name: {exc}", file=sys.stderr)
            return 1
    if as_json:
        print(json.dumps({"name": name, "token": token}))
    else:
        print(token)
    return 0


async def users_role(settings: Settings, name: str, role: str, as_json: bool) -> int:
    """Change the user's role; their page sessions end, and the change is audited."""
    async with open_store(settings) as sessions, sessions() as session:
        try:
            async with session.begin():
                row = await set_role(session, name, role, by=CLI)
        except UserError as exc:
            print(str(exc), file=sys.stderr)
            return 1 if str(exc).startswith("no user") else 2
    if as_json:
        print(json.dumps({"name": row.name, "role": row.role}))
    else:
        print(f"{row.name} is now {row.role}; their page sessions have ended")
    return 0


async def users_list(settings: Settings, as_json: bool) -> int:
    async with open_store(settings) as sessions, sessions() as session:
        rows = await list_users(session)
    if as_json:
        print(json.dumps([render.user_dict(r) for r in rows], indent=2, default=str))
    else:
        print(render.users_table(rows))
    return 0
