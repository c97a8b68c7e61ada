"""The user directory (store/users.py): who may act, resolved to an Actor before any update."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domain.people import Actor
from store.models import UserRow
from store.users import UserError, actor_of, add_user, get_user, list_users, resolve_actor


async def _count(sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(UserRow))).scalar_one()


async def test_add_get_list_and_resolve(sessions):
    async with sessions() as session, session.begin():
        lead = await add_user(session, "lee", "lead", teams=["tier1", "tier1", "tier2"])
        await add_user(session, "quinn", "lead", groups=["qa-leads"])
        await add_user(session, "a-17", "trainee", teams=["tier1"])
        assert lead.id is not None and lead.token_hash is None
    async with sessions() as session:
        assert [u.name for u in await list_users(session)] == ["a-17", "lee", "quinn"]
        row = await get_user(session, "lee")
        assert row is not None and row.teams == ["tier1", "tier2"] and row.groups == []
        assert row.created_at.tzinfo is not None
        assert await get_user(session, "nobody") is None
        assert await resolve_actor(session, "quinn") == Actor(
            id="quinn", role="lead", teams=[], groups=["qa-leads"]
        )
        assert actor_of(row) == Actor(id="lee", role="lead", teams=["tier1", "tier2"])


async def test_resolving_an_unknown_user_names_them(sessions):
    async with sessions() as session:
        with pytest.raises(UserError, match="no user 'ghost'; add one with"):
            await resolve_actor(session, "ghost")


@pytest.mark.parametrize(
    ("name", "role", "teams", "groups", "message"),
    [
        ("", "lead", [], [], "name: "),
        ("two words", "lead", [], [], "name: "),
        ("-leading-dash", "lead", [], [], "name: "),
        ("x" * 201, "lead", [], [], "name: "),
        ("lee\n", "lead", [], [], "name: "),
        ("bob", "lead", ["tier1\n"], [], "team: 'tier1\\n' must be"),
        ("bob", "boss", [], [], "role: must be one of admin, lead, trainee"),
        ("bob", "lead", ["tier 1"], [], "team: 'tier 1' must be"),
        ("bob", "lead", [], ["qa/leads"], "group: 'qa/leads' must be"),
    ],
)
async def test_bad_fields_are_refused_by_name(sessions, name, role, teams, groups, message):
    async with sessions() as session:
        with pytest.raises(UserError) as refused:
            await add_user(session, name, role, teams, groups)
        await session.rollback()
    assert str(refused.value).startswith(message)
    assert await _count(sessions) == 0


async def test_a_name_is_taken_once(sessions):
    async with sessions() as session, session.begin():
        await add_user(session, "lee", "lead", teams=["tier1"])
    async with sessions() as session:
        with pytest.raises(UserError, match="user 'lee' already exists"):
            await add_user(session, "lee", "trainee")
        await session.rollback()
    async with sessions() as session:
        assert (await get_user(session, "lee")).role == "lead"


async def test_the_database_refuses_a_duplicate_name_too(sessions):
    """Two writers that both checked first: the unique constraint keeps one."""
    async with sessions() as session, session.begin():
        await add_user(session, "lee", "lead")
    async with sessions() as session:
        session.add(
            UserRow(
                name="lee",
                role="lead",
                teams=[],
                groups=[],
                created_at=datetime.now(UTC),
                token_hash=None,
            )
        )
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()
    assert await _count(sessions) == 1


async def test_nothing_is_written_without_the_callers_commit(sessions):
    async with sessions() as session:
        await add_user(session, "lee", "lead")
        await session.rollback()
    assert await _count(sessions) == 0


async def test_a_token_is_stored_hashed_and_a_new_one_replaces_the_old(sessions):
    from sqlalchemy import select

    from store.models import UserRow
    from store.users import add_user, issue_token, user_by_token

    async with sessions() as session, session.begin():
        await add_user(session, "lee", "lead", ["tier1"])
        first = await issue_token(session, "lee")
    async with sessions() as session:
        (row,) = (await session.execute(select(UserRow))).scalars()
        assert first not in (row.token_hash or "") and len(row.token_hash) == 64
        assert (await user_by_token(session, first)).name == "lee"
        assert await user_by_token(session, "cf_wrong") is None
        assert await user_by_token(session, "") is None
    async with sessions() as session, session.begin():
        second = await issue_token(session, "lee")
    async with sessions() as session:
        assert await user_by_token(session, first) is None
        assert (await user_by_token(session, second)).name == "lee"


async def _versions(sessions) -> dict[str, int]:
    async with sessions() as session:
        return {u.name: u.session_version for u in await list_users(session)}


async def test_a_new_token_a_sign_out_and_a_role_change_each_move_the_session_version_on(
    sessions,
):
    from store.audit import audit_log
    from store.users import end_sessions, issue_token, set_role

    async with sessions() as session, session.begin():
        await add_user(session, "lee", "lead", ["tier1"])
        await add_user(session, "sam", "lead", ["tier1"])
    assert await _versions(sessions) == {"lee": 0, "sam": 0}
    async with sessions() as session, session.begin():
        token = await issue_token(session, "lee", by="cli")
    async with sessions() as session, session.begin():
        await end_sessions(session, "lee")
    async with sessions() as session, session.begin():
        assert (await set_role(session, "lee", "admin", by="ops")).role == "admin"
    assert await _versions(sessions) == {"lee": 3, "sam": 0}

    async with sessions() as session:
        with pytest.raises(UserError, match="role: must be one of"):
            await set_role(session, "lee", "boss", by="ops")
        with pytest.raises(UserError, match="no user 'ghost'"):
            await set_role(session, "ghost", "lead", by="ops")
        entries = [(e.actor, e.action, e.target, e.details) for e in await audit_log(session)]
    assert entries == [
        ("ops", "user.role_changed", "user:lee", {"from": "lead", "to": "admin"}),
        ("cli", "user.token_issued", "user:lee", {}),
    ]
    assert token not in repr(entries)


async def test_every_token_the_dev_command_shows_is_audited(sessions, catalog):
    """`starter.py dev` issues new tokens at each start; each issue is in the audit log."""
    from service.demo_users import demo_tokens
    from store.audit import audit_log
    from store.users import user_by_token

    shown = await demo_tokens(sessions, catalog)
    assert {role for _, role, _ in shown} >= {"admin", "lead"}
    async with sessions() as session:
        issued = [
            (e.actor, e.target) for e in await audit_log(session) if e.action == "user.token_issued"
        ]
        for name, _, token in shown:
            assert (await user_by_token(session, token)).name == name
    assert sorted(issued) == sorted(("dev", f"user:{name}") for name, _, _ in shown)
    assert not any(token in repr(issued) for _, _, token in shown)
