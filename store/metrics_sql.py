"""SQL building blocks for the metrics: what differs between SQLite and PostgreSQL (time
arithmetic, week buckets, collation, unnesting JSON, window frames), the window and slice
every query applies, and running independent statements side by side on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, FunctionElement, String, and_, case, cast, func, literal_column
from sqlalchemy import column as sql_column
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement

from store.metrics_model import MetricsSlice
from store.models import MeasurementEventRow

M = MeasurementEventRow
DECISIONS = ("decision_approve", "decision_override", "decision_dismiss")
COACHED = ("decision_approve", "decision_override")
DRAFTED = ("assessment_drafted", "assessment_stopped")
NON_AGENT_CAUSES = ("policy", "product", "documentation", "staffing", "process")
REPEAT_DAYS = 30
CSAT_DAYS = 30
NONE_KEY = "(none)"

SLICE_COLUMNS = {
    "agent": "agent_id",
    "team": "team",
    "queue": "queue",
    "product_area": "product_area",
    "customer_segment": "customer_segment",
    "opportunity": "opportunity_id",
    "rubric_id": "rubric_id",
    "rubric_version": "rubric_version",
    "kb_article": "kb_article",
    "policy": "policy",
}


class days(FunctionElement):
    """A timestamp as a number of days (fractional), for differences and ±N-day windows."""

    type = Float()
    name = "days"
    inherit_cache = True


@compiles(days, "sqlite")
def _days_sqlite(element: days, compiler: Any, **kw: Any) -> str:
    return f"julianday({compiler.process(element.clauses, **kw)})"


@compiles(days, "postgresql")
def _days_postgresql(element: days, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"(CAST(EXTRACT(EPOCH FROM {column}) AS DOUBLE PRECISION) / 86400.0)"


class plus_days(FunctionElement):
    """A timestamp column moved by a whole number of days, comparable with the column (and so
    able to use its index): `plus_days(col, 30)`. The number is part of the SQL text (and so
    of SQLAlchemy's statement cache key)."""

    type = String()
    name = "plus_days"
    inherit_cache = True

    def __init__(self, column: Any, n: int) -> None:
        super().__init__(column, literal_column(str(int(n))))


def _plus_days_parts(element: plus_days, compiler: Any, **kw: Any) -> tuple[str, int]:
    column, amount = list(element.clauses)
    return compiler.process(column, **kw), int(amount.name)


@compiles(plus_days, "sqlite")
def _plus_days_sqlite(element: plus_days, compiler: Any, **kw: Any) -> str:
    # SQLAlchemy stores SQLite timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff': strftime gives three
    # decimals, and three zeros keep the strings comparable.
    column, n = _plus_days_parts(element, compiler, **kw)
    return f"(strftime('%Y-%m-%d %H:%M:%f', {column}, '{n:+d} days') || '000')"


@compiles(plus_days, "postgresql")
def _plus_days_postgresql(element: plus_days, compiler: Any, **kw: Any) -> str:
    column, n = _plus_days_parts(element, compiler, **kw)
    return f"({column} + INTERVAL '{n} days')"


class bytewise(FunctionElement):
    """A text column compared byte by byte: cheap to sort and partition on (PostgreSQL's
    default collation goes through the locale; SQLite compares bytes already)."""

    type = String()
    name = "bytewise"
    inherit_cache = True


@compiles(bytewise, "sqlite")
def _bytewise_sqlite(element: bytewise, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(bytewise, "postgresql")
def _bytewise_postgresql(element: bytewise, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)} COLLATE "C")'


class framed(FunctionElement):
    """`fn(value) OVER (PARTITION BY p ORDER BY o <frame>)`, for the frames SQLAlchemy's
    `over()` does not spell (RANGE with numeric offsets): PostgreSQL 11+ and SQLite 3.28+."""

    type = Float()
    name = "framed"
    inherit_cache = True

    def __init__(self, fn: str, value: Any, partition: Any, order: Any, frame: str) -> None:
        super().__init__(literal_column(fn), value, partition, order, literal_column(frame))


@compiles(framed)
def _framed(element: framed, compiler: Any, **kw: Any) -> str:
    fn, value, partition, order, frame = (compiler.process(c, **kw) for c in element.clauses)
    return f"{fn}({value}) OVER (PARTITION BY {partition} ORDER BY {order} {frame})"


class unindexed(FunctionElement):
    """A column SQLite's planner will not use an index for (unary +): a table scan is faster
    than an index lookup per row when most rows are read. PostgreSQL chooses well itself."""

    type = String()
    name = "unindexed"
    inherit_cache = True


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(unindexed, "postgresql")
def _unindexed_postgresql(element: unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


class week_start(FunctionElement):
    """The Monday (UTC) of a timestamp's ISO week, as 'YYYY-MM-DD'."""

    type = String()
    name = "week_start"
    inherit_cache = True


@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_start_postgresql(element: week_start, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('week', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


# Connections compute_metrics uses at once on PostgreSQL. Measured on the 2-core development
# machine: 2 is fastest there (bench/metrics.py); more cores can take more.
PARALLEL = 2


async def scalar(session: AsyncSession, statement: Any) -> Any:
    return (await session.execute(statement)).scalar_one()


async def run_all(
    session: AsyncSession, jobs: dict[str, Callable[[AsyncSession], Awaitable[Any]]]
) -> dict[str, Any]:
    """Run independent read-only jobs, in the given order. On PostgreSQL, PARALLEL workers take
    them in turn: `session` and sessions of their own on its engine (the work is CPU-bound in
    the server, one core per connection). Elsewhere, one after the other in `session`."""
    engine = session.bind
    if dialect(session) != "postgresql" or not isinstance(engine, AsyncEngine):
        return {name: await job(session) for name, job in jobs.items()}
    waiting = list(jobs.items())
    results: dict[str, Any] = {}

    async def work(own: AsyncSession) -> None:
        while waiting:
            name, job = waiting.pop(0)
            results[name] = await job(own)

    async def helper() -> None:
        async with AsyncSession(engine) as own:
            await work(own)

    async with asyncio.TaskGroup() as group:  # a failure cancels the other workers
        group.create_task(work(session))
        for _ in range(PARALLEL - 1):
            group.create_task(helper())
    return {name: results[name] for name in jobs}


def dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"


def json_elements(session: AsyncSession, column: Any, key: str) -> Any:
    """The elements of the JSON array `column[key]`, as a table with a JSON `value` column
    (joined with ON true, it is lateral on both dialects)."""
    value = sql_column("value", JSON)
    if dialect(session) == "postgresql":
        return func.json_array_elements(column[key]).table_valued(value).render_derived()
    return func.json_each(column, f"$.{key}").table_valued(value)


def json_pairs(session: AsyncSession, column: Any) -> Any:
    """The members of the JSON object in `column`, as a table of (`key`, `value`)."""
    if dialect(session) == "postgresql":
        return func.json_each_text(column).table_valued("key", "value")
    return func.json_each(column).table_valued("key", "value")


def number(value: Any) -> ColumnElement:
    return cast(value, Float)


def window(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    out = []
    if since is not None:
        out.append(column >= since)
    if until is not None:
        out.append(column < until)
    return out


def sliced(table: Any, where: MetricsSlice | None) -> list[Any]:
    """The slice's conditions on any table with the slice columns (measurement events,
    assessments)."""
    if where is None:
        return []
    return [
        getattr(table, SLICE_COLUMNS[field]) == value
        for field, value in where.model_dump(exclude_none=True).items()
    ]


def count_if(*conditions: Any) -> ColumnElement:
    return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)
