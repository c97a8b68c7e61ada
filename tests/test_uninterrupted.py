"""A cancelled activity lets its transaction end before it stops: a cancellation that cut a
transaction short left SQLite's write lock held by a discarded connection, and every write of
the worker waited behind it until its local activities were cancelled in turn."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import ActivityEnvironment

from activities.drafting import DraftingActivities
from store.models import AssessmentRow, AuditRow, CriterionResultRow, MeasurementEventRow
from store.uninterrupted import transaction
from tests.drafting import stored_save_request
from tests.factories import make_event

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _audit_row(target: str) -> AuditRow:
    return AuditRow(at=T0, actor="lead", action="test", target=target, details={})


class Gate:
    """A transaction's work that writes a row, waits for `release`, then does `then`."""

    def __init__(self, then: Callable[[AsyncSession], None]):
        self.inside, self.release, self.then = asyncio.Event(), asyncio.Event(), then

    async def write(self, session: AsyncSession) -> None:
        session.add(_audit_row("t"))
        await session.flush()
        self.inside.set()
        await self.release.wait()
        self.then(session)


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_an_activity_cancelled_mid_transaction_commits_it_before_it_stops(sessions, catalog):
    save = await stored_save_request(sessions, catalog, make_event(), T0)
    assert save.draft.results, "the draft must write criterion results after the assessment"

    env = ActivityEnvironment()
    engine = sessions.kw["bind"].sync_engine

    def cancel_after_the_assessment_row(conn, cursor, statement, *_):
        if statement.startswith("INSERT INTO assessments"):
            env.cancel()

    event.listen(engine, "after_cursor_execute", cancel_after_the_assessment_row)
    try:
        with pytest.raises(asyncio.CancelledError):
            await env.run(DraftingActivities(sessions).save_draft, save)
    finally:
        event.remove(engine, "after_cursor_execute", cancel_after_the_assessment_row)

    assert await _count(sessions, AssessmentRow) == 1
    assert await _count(sessions, CriterionResultRow) == len(save.draft.results)
    assert await _count(sessions, MeasurementEventRow) >= 1
    retried = await ActivityEnvironment().run(DraftingActivities(sessions).save_draft, save)
    assert retried.created is False


async def test_a_caller_cancelled_twice_still_waits_for_the_transaction(sessions):
    gate = Gate(then=lambda session: session.add(_audit_row("u")))
    caller = asyncio.create_task(transaction(sessions, gate.write))
    await gate.inside.wait()
    caller.cancel()
    await asyncio.sleep(0.05)
    caller.cancel()
    await asyncio.sleep(0.05)
    assert not caller.done(), "the caller must wait for its transaction"
    gate.release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert await _count(sessions, AuditRow) == 2


async def test_a_transaction_that_fails_after_its_caller_was_cancelled_is_logged(sessions, caplog):
    def fail(_session) -> None:
        raise LookupError("gone")

    gate = Gate(then=fail)
    caller = asyncio.create_task(transaction(sessions, gate.write))
    await gate.inside.wait()
    caller.cancel()
    gate.release.set()
    with (
        caplog.at_level(logging.WARNING, logger="store.uninterrupted"),
        pytest.raises(asyncio.CancelledError),
    ):
        await caller
    assert "failed: LookupError" in caplog.text
    assert await _count(sessions, AuditRow) == 0
