"""CSAT recovery: the agent's CSAT in the 30 days after each approved coaching against the
30 days before, in one statement whose cost grows with the rows, not with their pairs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from store.metrics_model import CsatRecovery, ratio
from store.metrics_scope import EVERYTHING, MetricsScope
from store.metrics_sql import (
    COACHED,
    CSAT_DAYS,
    M,
    bytewise,
    count_if,
    days,
    framed,
    number,
)
from store.models import EventRow, TicketRow


def _csat_responses(coachings: Any, scope: MetricsScope) -> Any:
    """The CSAT responses of the coached agents: a ticket with a `csat.received` event, its
    score on five points (the ticket's latest, from its snapshot) at the time of its latest
    `csat.received` event, in days. Responses more than 30 days before the first coaching are
    left out before a snapshot is read, and each snapshot is read once. A ticket assessed only
    outside `scope` (another team's assessment of it) is left out."""
    c = coachings.c
    received = (
        select(EventRow.ticket_id, days(func.max(EventRow.occurred_at)).label("at"))
        .where(EventRow.type == "csat.received")
        .group_by(EventRow.ticket_id)
        .subquery()
    )
    rated = (
        select(
            TicketRow.agent_id.label("agent"),
            received.c.at,
            TicketRow.snapshot["csat"].label("csat"),
        )
        .select_from(received)
        .join(TicketRow, TicketRow.id == received.c.ticket_id)
        .where(
            TicketRow.agent_id.in_(select(c.agent)),
            received.c.at >= select(func.min(c.at)).scalar_subquery() - CSAT_DAYS,
            *scope.tickets(TicketRow.id),
        )
        .cte("rated")
        .prefix_with("MATERIALIZED")
    )
    csat = rated.c.csat
    scale = func.coalesce(number(csat["scale"].as_float()), 5.0)
    scored = (
        select(
            rated.c.agent,
            rated.c.at,
            (number(csat["score"].as_float()) * 5.0 / scale).label("score"),
        )
        .cte("scored")
        .prefix_with("MATERIALIZED")
    )
    r = scored.c
    return select(bytewise(r.agent), r.at, r.score, null()).where(r.score.is_not(None))


# Running sums up to a point, so each frame only grows (linear, whatever the window).
UP_TO = {
    "start": f"RANGE BETWEEN UNBOUNDED PRECEDING AND {CSAT_DAYS} PRECEDING",
    "decision": "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
    "end": f"RANGE BETWEEN UNBOUNDED PRECEDING AND {CSAT_DAYS} FOLLOWING",
}


async def csat_recovery(
    session: AsyncSession, where: list[Any], scope: MetricsScope = EVERYTHING
) -> CsatRecovery:
    """Around each approved or overridden coaching in the window (decided at t): the agent's
    CSAT responses in the 30 days up to the decision (t-30d, t] and in the 30 days after it
    (t, t+30d]. `where` picks the coachings (its scope condition among them); `scope` the
    responses: a ticket assessed only outside it does not count.

    Coachings and responses go in one time-ordered list per agent; running sums (window
    functions with RANGE frames) up to t-30d, t and t+30d give each window by difference."""
    coachings = (
        select(M.id.label("coaching"), M.agent_id.label("agent"), days(M.occurred_at).label("at"))
        .where(M.kind.in_(COACHED), M.agent_id.is_not(None), *where)
        .cte("coachings")
    )
    c = coachings.c
    rows = union_all(
        select(
            bytewise(c.agent).label("agent"),
            c.at.label("at"),
            null().label("score"),
            c.coaching.label("coaching"),
        ),
        _csat_responses(coachings, scope),
    ).subquery()
    agent, at, score, coaching = rows.c
    sums = {
        f"{fn.lower()}_{point}": framed(fn, score, agent, at, frame)
        for point, frame in UP_TO.items()
        for fn in ("SUM", "COUNT")
    }
    running = select(coaching.label("coaching"), *(v.label(k) for k, v in sums.items()))
    r = running.subquery().c

    def between(fn: str, start: str, end: str) -> Any:
        return func.coalesce(r[f"{fn}_{end}"], 0) - func.coalesce(r[f"{fn}_{start}"], 0)

    per_coaching = (
        select(
            between("sum", "start", "decision").label("before_sum"),
            between("count", "start", "decision").label("before_n"),
            between("sum", "decision", "end").label("after_sum"),
            between("count", "decision", "end").label("after_n"),
            r.coaching.label("coaching"),
        )
        .where(r.coaching.is_not(None))
        .subquery()
    )
    p = per_coaching.c
    paired = and_(p.before_n > 0, p.after_n > 0)
    mean_after = p.after_sum / func.nullif(p.after_n, 0)
    change = case((paired, mean_after - p.before_sum / func.nullif(p.before_n, 0)))
    row = (
        await session.execute(
            select(
                func.count(),
                func.sum(p.before_sum),
                func.sum(p.before_n),
                func.sum(p.after_sum),
                func.sum(p.after_n),
                count_if(paired),
                func.avg(change),
            )
        )
    ).one()
    coachings_n, before_sum, before_n, after_sum, after_n, pairs, mean_change = row
    before_n, after_n = int(before_n or 0), int(after_n or 0)
    before_mean = ratio(float(before_sum or 0), before_n, 3)
    after_mean = ratio(float(after_sum or 0), after_n, 3)
    return CsatRecovery(
        coachings=coachings_n,
        before_count=before_n,
        before_mean=before_mean,
        after_count=after_n,
        after_mean=after_mean,
        change=(
            round(after_mean - before_mean, 3)
            if before_mean is not None and after_mean is not None
            else None
        ),
        paired_coachings=int(pairs),
        paired_mean_change=round(float(mean_change), 3) if mean_change is not None else None,
    )
