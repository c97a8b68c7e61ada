"""What coaching led to: repeat themes, escalations over unclear policy, and the pilot's
scorecard completion (CSAT recovery is in `metrics_csat`). Each is one set-based statement:
semi-joins and one pass per assessment, never a subquery per row over the whole table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store.metrics_model import (
    SCORECARD_THRESHOLD,
    Escalations,
    RepeatThemes,
    Scorecard,
    rate,
    ratio,
)
from store.metrics_sql import (
    COACHED,
    NON_AGENT_CAUSES,
    REPEAT_DAYS,
    M,
    count_if,
    plus_days,
    window,
)
from store.models import AssessmentRow, CriterionResultRow
from store.process_issues import standing

QA_SAMPLE_OPPORTUNITY = "weekly-qa-sample"
A, R = AssessmentRow, CriterionResultRow


def _agent_failed(results: Any) -> Any:
    return and_(results.status == "failed", results.cause == "agent_behavior")


def _int(value: str) -> Any:
    return literal_column(value)


async def repeat_themes(
    session: AsyncSession, where: list[Any], sliced: bool = False, visible: list[Any] = ()
) -> RepeatThemes:
    """Each criterion failed through the agent's behaviour (after the lead's changes) on an
    approved or overridden assessment is a coached theme; it repeats when that agent fails the
    same criterion the same way on an undismissed assessment of a conversation that happened
    in the 30 days after the decision (a semi-join: each theme is counted once). A slice picks
    the coachings; the later failures are the agent's, in or out of it, among the assessments
    `visible` admits."""
    agents = (
        (A.agent_id.in_(select(M.agent_id).where(M.kind.in_(COACHED), *where)),)
        if sliced
        else (A.agent_id.is_not(None),)
    )
    failing = (
        select(R.assessment_id, R.criterion_id, A.agent_id, A.occurred_at, A.status)
        .select_from(R)
        .join(A, A.id == R.assessment_id)
        .where(_agent_failed(R), *agents, *visible)
        .cte("failing")
        .prefix_with("MATERIALIZED")
    )
    f = failing.c
    themes = (
        select(
            f.agent_id.label("agent"), f.criterion_id.label("criterion"), M.occurred_at.label("at")
        )
        .select_from(M)
        .join(failing, f.assessment_id == M.assessment_id)
        .where(M.kind.in_(COACHED), *where)
        .cte("themes")
    )
    t = themes.c
    later = aliased(failing)
    again = exists(
        select(_int("1")).where(
            later.c.agent_id == t.agent,
            later.c.criterion_id == t.criterion,
            later.c.occurred_at > t.at,
            later.c.occurred_at <= plus_days(t.at, REPEAT_DAYS),
            later.c.status != "dismissed",
        )
    )
    rows = union_all(
        select(t.criterion, _int("0").label("repeated")),
        select(t.criterion, _int("1")).where(again),
    ).subquery()
    found = (
        await session.execute(
            select(rows.c.criterion, func.count(), count_if(rows.c.repeated == 1))
            .group_by(rows.c.criterion)
            .order_by(rows.c.criterion)
        )
    ).all()
    by_criterion = {c: rate(int(r), int(n) - int(r)) for c, n, r in found}
    total = sum(r.of for r in by_criterion.values())
    repeated = sum(r.part for r in by_criterion.values())
    return RepeatThemes(
        coached=total, repeated=repeated, rate=ratio(repeated, total), by_criterion=by_criterion
    )


async def sampled_and_escalated(
    session: AsyncSession, drafted: list[Any], until: datetime | None
) -> tuple[Scorecard, Escalations]:
    """One pass over the events of the assessments drafted in the window (`drafted`, on
    AssessmentRow) that were sampled for QA or drafted for an escalation, up to `until`.

    Scorecard: of the sampled conversations (the weekly QA sample opportunity, or a
    `qa.sampled` event), those with an evidence-backed QA note (an approval or override, or the
    virtual coach) or a non-agent root-cause exception (a process issue, or a dismissal whose
    reason names a non-agent cause).

    Escalations: of the assessments of a `ticket.escalated` event, those with unclear policy (a
    process issue caused by policy, or a criterion failed for policy after the lead's
    changes)."""
    sampled = or_(A.opportunity_id == QA_SAMPLE_OPPORTUNITY, A.event_type == "qa.sampled")
    escalated = A.event_type == "ticket.escalated"
    E = aliased(M)
    reason = func.lower(E.data["reason"].as_string())

    def flag(*conditions: Any) -> Any:
        return func.max(case((or_(*conditions), 1), else_=0))

    per_assessment = (
        select(
            A.id.label("id"),
            func.max(case((sampled, 1), else_=0)).label("sampled"),
            func.max(case((escalated, 1), else_=0)).label("escalated"),
            flag(
                E.kind.in_(COACHED),
                and_(E.kind == "coaching_started", E.data["by"].as_string() == "virtual_coach"),
            ).label("note"),
            flag(
                standing(E, until),
                and_(
                    E.kind == "decision_dismiss",
                    or_(*(reason.like(f"%{cause}%") for cause in NON_AGENT_CAUSES)),
                ),
            ).label("exception"),
            flag(and_(standing(E, until), E.data["cause"].as_string() == "policy")).label(
                "policy_issue"
            ),
        )
        .select_from(A)
        .outerjoin(
            E,
            and_(
                E.assessment_id == A.id,
                E.kind.in_((*COACHED, "coaching_started", "process_issue", "decision_dismiss")),
                *window(E.occurred_at, None, until),
            ),
        )
        .where(or_(sampled, escalated), *drafted)
        .group_by(A.id)
        .subquery()
    )
    p = per_assessment.c
    policy_failure = exists(
        select(_int("1")).where(R.assessment_id == p.id, R.status == "failed", R.cause == "policy")
    )
    row = (
        await session.execute(
            select(
                count_if(p.sampled == 1),
                count_if(p.sampled == 1, p.note == 1),
                count_if(p.sampled == 1, p.exception == 1),
                count_if(p.sampled == 1, or_(p.note == 1, p.exception == 1)),
                count_if(p.escalated == 1),
                count_if(p.escalated == 1, or_(p.policy_issue == 1, policy_failure)),
            )
        )
    ).one()
    sampled_n, with_note, with_exception, completed, assessed, unclear = map(int, row)
    share = ratio(completed, sampled_n)
    return (
        Scorecard(
            sampled=sampled_n,
            with_note=with_note,
            with_exception=with_exception,
            completed=completed,
            rate=share,
            met=share is not None and share >= SCORECARD_THRESHOLD,
        ),
        Escalations(assessed=assessed, unclear_policy=unclear, share=ratio(unclear, assessed)),
    )
