"""The brief's workflow test, conversation by conversation: of the scope's resolved
conversations, which were scored against the rubric's criteria with evidence, got a coaching
action, a reviewer edit, a policy or knowledge-gap flag, and an evidence-backed QA note or a
non-agent root-cause exception."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.model import ConversationChecks, Scope
from store.metrics_model import SCORECARD_THRESHOLD, ratio
from store.metrics_sql import COACHED, NON_AGENT_CAUSES, M, count_if, window
from store.models import AssessmentRow, CriterionResultRow, TicketRow
from store.process_issues import withdrawn
from store.sampling import RESOLVED_STATUSES

A, R = AssessmentRow, CriterionResultRow
SCORED = ("passed", "failed")
GAP_CAUSES = ("policy", "documentation")
EVENT_KINDS = (*COACHED, "decision_dismiss", "coaching_started", "process_issue")
CHECKS = ("scored", "evidence", "coaching_action", "reviewer_edit", "gap_flag", "completed")


def _in_scope(scope: Scope, since: datetime, until: datetime) -> Any:
    """The scope's assessments: drafted in the window, of a conversation resolved now, of the
    queue or of the first conversations (by their first assessment in the window)."""
    drafted = window(A.created_at, since, until)
    resolved = A.ticket_id.in_(select(TicketRow.id).where(TicketRow.status.in_(RESOLVED_STATUSES)))
    if scope.kind == "queue":
        return select(A.id, A.ticket_id).where(*drafted, resolved, A.queue == scope.queue)
    first = (
        select(A.ticket_id)
        .where(*drafted, resolved)
        .group_by(A.ticket_id)
        .order_by(func.min(A.created_at), A.ticket_id)
        .limit(scope.conversations)
    )
    return select(A.id, A.ticket_id).where(*drafted, A.ticket_id.in_(first))


def _non_agent_reason(reason: str | None) -> bool:
    text = (reason or "").lower()
    return any(cause in text for cause in NON_AGENT_CAUSES)


async def conversation_checks(
    session: AsyncSession, scope: Scope, since: datetime, until: datetime
) -> ConversationChecks:
    """Each check holds for a conversation when it holds for one of its assessments in the
    scope, counting what happened before `until`. The QA note and the exception are those
    of the scorecard metric: an approval, an override or the virtual coach; a process issue
    or a dismissal whose reason names a non-agent cause."""
    scoped = _in_scope(scope, since, until).subquery()
    ticket_of = dict((await session.execute(select(scoped.c.id, scoped.c.ticket_id))).all())
    flags: dict[int, set[str]] = defaultdict(set)
    scored_rows = await session.execute(
        select(
            R.assessment_id,
            count_if(R.status.in_(SCORED)),
            count_if(R.status.in_(SCORED), func.json_array_length(R.evidence) > 0),
        )
        .where(R.assessment_id.in_(select(scoped.c.id)))
        .group_by(R.assessment_id)
    )
    for assessment_id, scored, evidenced in scored_rows.all():
        if scored:
            flags[assessment_id].add("scored")
        if evidenced:
            flags[assessment_id].add("evidence")
    events = await session.execute(
        select(
            M.assessment_id,
            M.kind,
            M.data["by"].as_string(),
            M.data["cause"].as_string(),
            M.data["reason"].as_string(),
        ).where(
            M.assessment_id.in_(select(scoped.c.id)),
            M.kind.in_(EVENT_KINDS),
            ~withdrawn(M, until),
            *window(M.occurred_at, None, until),
        )
    )
    for assessment_id, kind, by, cause, reason in events.all():
        found = flags[assessment_id]
        if kind in COACHED or (kind == "coaching_started" and by == "virtual_coach"):
            found.update(("coaching_action", "completed"))
        if kind == "decision_override":
            found.add("reviewer_edit")
        if kind == "process_issue":
            found.add("completed")
            if cause in GAP_CAUSES:
                found.add("gap_flag")
        if kind == "decision_dismiss" and _non_agent_reason(reason):
            found.add("completed")
    per_ticket: dict[int, set[str]] = {ticket: set() for ticket in ticket_of.values()}
    for assessment_id, found in flags.items():
        per_ticket[ticket_of[assessment_id]] |= found
    counts = {check: sum(check in f for f in per_ticket.values()) for check in CHECKS}
    share = ratio(counts["completed"], len(per_ticket))
    return ConversationChecks(
        conversations=len(per_ticket),
        **counts,
        rate=share,
        met=share is not None and share >= SCORECARD_THRESHOLD,
    )
