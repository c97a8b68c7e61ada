"""Transactions that a cancellation of their caller does not cut short.

Temporal cancels an activity's task when it gives up on it: a local activity whose workflow
task timed out, a worker shutting down, a cancelled workflow. A cancellation that lands inside
a transaction interrupts the driver between a statement and the fetch of its rows. SQLAlchemy
then throws the connection away, and on SQLite a connection closed while a statement is
unfinished lingers until the garbage collector frees its cursor, holding the database's
write lock all that time: every other writer in the process waits, then fails.

Here the transaction runs in a task of its own. A cancellation of the caller waits for it to
end, with its commit or its rollback, and is raised to the caller after that. The stores'
writes are idempotent, so a transaction that commits for an attempt Temporal has already given
up on is harmless: the retry finds its rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")

log = logging.getLogger(__name__)


async def to_the_end(work: Awaitable[T]) -> T:
    """`work`'s result; a cancellation that arrives first is raised once `work` has ended."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if task.done():
            raise
    while not task.done():
        try:
            await asyncio.wait([task])
        except asyncio.CancelledError:
            continue
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("a transaction whose caller was cancelled failed: %s", type(exc).__name__)
    raise asyncio.CancelledError()


async def transaction(
    sessions: async_sessionmaker, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """`work(session)` in one transaction, committed unless it raises."""

    async def run() -> T:
        async with sessions() as session, session.begin():
            return await work(session)

    return await to_the_end(run())
