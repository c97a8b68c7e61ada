"""The review side: counts of events, time to review, and how often leads override."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from store.metrics_model import Rate, rate
from store.metrics_sql import (
    DECISIONS,
    DRAFTED,
    M,
    count_if,
    json_elements,
    number,
    unindexed,
)
from store.models import CriterionResultRow
from store.process_issues import standing

COUNTED = (
    *DRAFTED,
    *DECISIONS,
    "task_assigned",
    "task_completed",
    "task_incomplete",
    "skill_awarded",
    "acknowledged",
    "disputed",
    "dispute_upheld",
    "dispute_amended",
    "survey_sent",
    "survey_answered",
    "survey_expired",
)


async def event_counts(
    session: AsyncSession, where: list[Any], sliced: bool = False
) -> dict[str, int]:
    """The window's events counted by kind (every kind of COUNTED is there, 0 or more), and
    the task completions on time.

    Sliced, most of the table's rows are read: SQLite then scans the table rather than look
    each row up from the (kind, time) index, five times slower."""
    kind = unindexed(M.kind) if sliced else M.kind
    rows = await session.execute(
        select(kind, func.count()).where(kind.in_(COUNTED), *where).group_by(kind)
    )
    counts = dict.fromkeys(COUNTED, 0) | {k: int(n) for k, n in rows.all()}
    counts["on_time"] = (
        await session.execute(
            select(func.count()).where(
                M.kind == "task_completed", M.data["on_time"].as_boolean().is_(True), *where
            )
        )
    ).scalar_one()
    return counts


@dataclass
class DecisionStats:
    reviewed: int
    mean_review_hours: float | None
    p50_review_hours: float | None
    by_rubric_version: dict[str, Rate]


def _hours(seconds: float | None, n: int) -> float | None:
    return round(float(seconds) / n / 3600, 2) if n and seconds is not None else None


async def decision_stats(session: AsyncSession, where: list[Any]) -> DecisionStats:
    """One pass over the window's final decisions: the assessments decided, the mean and
    median hours from drafting to the decision, and the override rate per rubric version.

    The median is portable SQL: ROW_NUMBER and COUNT window functions number the decisions by
    time to review, and the middle one (or two) are summed per group, then over the groups."""
    # OFFSET 0 keeps PostgreSQL from inlining the subquery, so each row's JSON is read once.
    decided = (
        select(
            M.kind,
            M.assessment_id,
            M.rubric_id,
            M.rubric_version,
            number(M.data["review_seconds"].as_float()).label("v"),
        )
        .where(M.kind.in_(DECISIONS), *where)
        .offset(0)
        .subquery()
    )
    d = decided.c
    ranked = select(
        d.kind,
        d.assessment_id,
        d.rubric_id,
        d.rubric_version,
        d.v,
        # NULLs last on both dialects, and not counted in n.
        func.row_number().over(order_by=(d.v.is_(None), d.v)).label("rn"),
        func.count(d.v).over().label("n"),
    ).subquery()
    r = ranked.c
    middle = r.rn.in_([(r.n + 1) // 2, (r.n + 2) // 2])
    groups = (
        await session.execute(
            select(
                r.rubric_id,
                r.rubric_version,
                func.count(),
                count_if(r.kind == "decision_override"),
                func.count(func.distinct(r.assessment_id)),
                func.sum(r.v),
                func.count(r.v),
                func.sum(case((middle, r.v))),
                count_if(middle),
            )
            .group_by(r.rubric_id, r.rubric_version)
            .order_by(r.rubric_id, r.rubric_version)
        )
    ).all()
    # A handful of rows, one per rubric version: the totals are sums of theirs (an assessment
    # has one rubric version and one final decision).
    totals = [sum(g[i] or 0 for g in groups) for i in range(4, 9)]
    reviewed, total, timed, middle_total, middles = totals
    return DecisionStats(
        reviewed=int(reviewed),
        mean_review_hours=_hours(total, int(timed)),
        p50_review_hours=_hours(middle_total, int(middles)),
        by_rubric_version={f"{g[0]}@{g[1]}": rate(int(g[3]), int(g[2])) for g in groups},
    )


async def overrides_by_criterion(session: AsyncSession, where: list[Any]) -> dict[str, Rate]:
    """Per criterion: of the assessments decided where it applied, those whose override changed
    it."""
    R = CriterionResultRow
    decided = (
        await session.execute(
            select(R.criterion_id, func.count())
            .where(
                R.assessment_id.in_(select(M.assessment_id).where(M.kind.in_(DECISIONS), *where)),
                R.status != "not_applicable",
            )
            .group_by(R.criterion_id)
        )
    ).all()
    changes = json_elements(session, M.data, "changes")
    changed = (
        select(M.id.label("decision"), changes.c.value["criterion_id"].as_string().label("c"))
        .select_from(M)
        .join(changes, true())
        .where(M.kind == "decision_override", *where)
        .subquery()
    )
    overridden = dict(
        (
            await session.execute(
                select(changed.c.c, func.count(func.distinct(changed.c.decision))).group_by(
                    changed.c.c
                )
            )
        ).all()
    )
    return {c: rate(int(overridden.get(c, 0)), int(n)) for c, n in sorted(decided)}


async def process_issue_refs(
    session: AsyncSession, where: list[Any], until: datetime | None
) -> list[tuple]:
    """(cause, ref, assessments, issues) of the window's standing process issues (those no
    decision before `until` withdrew): the number of assessments with an issue of that cause
    naming that ref (several criteria failing for one stale article are one gap), and of
    issues."""
    issues = (
        select(
            M.data["cause"].as_string().label("cause"),
            M.data["ref"].as_string().label("ref"),
            M.assessment_id,
        )
        .where(standing(M, until), *where)
        .subquery()
    )
    assessments = func.count(issues.c.assessment_id.distinct())
    rows = await session.execute(
        select(issues.c.cause, issues.c.ref, assessments, func.count())
        .group_by(issues.c.cause, issues.c.ref)
        .order_by(assessments.desc(), issues.c.cause, issues.c.ref)
    )
    return [tuple(r) for r in rows.all()]
