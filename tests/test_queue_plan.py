"""The review queue is counted and paged from its index alone: a drafted assessment's row
carries its evidence report, and reading thousands of them for a page of fifty made the queue
API slow at 10,000 waiting. Checked on SQLite's query plans, on a database of its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from domain.people import Actor
from store.db import make_engine, session_factory, sqlite_url
from store.migrate import upgrade
from web import actions
from web.auth import User

OPEN = ["awaiting_review", "stopped"]
READERS = {
    "lead of a team and a reviewer group": Actor(
        id="lee", role="lead", teams=["tier1", "tier2"], groups=["qa-leads"]
    ),
    "lead of a team": Actor(id="sam", role="lead", teams=["tier1"]),
    "admin": Actor(id="ada", role="admin"),
}


async def test_counting_and_paging_the_queue_read_only_the_index(tmp_path, catalog):
    url = sqlite_url(tmp_path / "plan.db")
    await upgrade(url)
    engine = make_engine(url)
    executed: list[tuple[str, Any]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many) -> None:
        executed.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", remember)
    sessions = session_factory(engine)
    try:
        for name, actor in READERS.items():
            for status in (OPEN, ["awaiting_review"], None):
                async with sessions() as session:
                    executed.clear()
                    user = User(actor)
                    await actions.count_visible(session, user, catalog, status)
                    await actions.list_visible(session, user, catalog, status)
                    connection = await session.connection()
                    plans = [
                        (
                            await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
                        ).all()
                        for sql, params in list(executed)
                    ]
                count_plan, page_plan = plans
                where = f"{name}, status {status}"
                (counted,) = _details(count_plan)
                assert "USING COVERING INDEX" in counted, where
                reads = [
                    d
                    for d in _details(page_plan)
                    if d.startswith(("SCAN assessments", "SEARCH assessments"))
                ]
                assert all(
                    "COVERING INDEX" in d or "INTEGER PRIMARY KEY (rowid=?)" in d for d in reads
                ), (where, reads)
    finally:
        await engine.dispose()


def _details(plan: list) -> list[str]:
    return [row[-1] for row in plan]
