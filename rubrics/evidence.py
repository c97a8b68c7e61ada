"""The evidence report: each input the brief requires, present, missing or stale."""

from __future__ import annotations

from domain.assessment import EvidenceItem
from domain.definitions import Rubric
from rubrics.case import Case

SOLVED = ("solved", "closed", "resolved")


def _item(name: str, value: object, detail: str = "") -> EvidenceItem:
    if value is None:
        return EvidenceItem(name=name, status="missing", detail=detail or "not in the event")
    if not detail:
        detail = f"{value:g}" if isinstance(value, float) else str(value)
    return EvidenceItem(name=name, status="present", detail=detail)


def evidence_report(case: Case, rubric: Rubric) -> list[EvidenceItem]:
    ticket, facts = case.ticket, case.facts
    public = sum(1 for m in ticket.messages if m.public)
    items = [
        _item(
            "thread",
            len(ticket.messages) or None,
            f"{len(ticket.messages)} messages: {public} public, "
            f"{len(ticket.messages) - public} internal"
            if ticket.messages
            else "",
        ),
        _item("first_response_minutes", ticket.metrics.first_response_minutes),
    ]
    if (ticket.status or "").lower() in SOLVED:
        items.append(_item("resolution_minutes", ticket.metrics.resolution_minutes))
    items += [
        _item("reassignments", ticket.metrics.reassignment_count),
        EvidenceItem(
            name="escalations",
            status="present",
            detail=", ".join(e.to or "?" for e in ticket.escalations) or "none",
        ),
        _item(
            "csat",
            ticket.csat.score if ticket.csat else None,
            f"{ticket.csat.score:g}/{ticket.csat.scale}"
            + (" with a comment" if ticket.csat.comment else "")
            if ticket.csat
            else "",
        ),
        _item(
            "queue_load",
            ticket.queue_backlog_per_agent,
            f"{ticket.queue_backlog_per_agent:g} open tickets per agent"
            if ticket.queue_backlog_per_agent is not None
            else "",
        ),
    ]
    stale = set(facts.get("stale_kb_articles", []))
    for article in ticket.kb_articles:
        status = (
            "stale" if article.id in stale else ("present" if article.updated_at else "missing")
        )
        when = f"updated {article.updated_at:%Y-%m-%d}" if article.updated_at else "no update date"
        items.append(EvidenceItem(name=f"kb:{article.id}", status=status, detail=when))
    for policy in ticket.policies:
        items.append(
            EvidenceItem(
                name=f"policy:{policy.id}",
                status="present",
                detail=f"v{policy.version or '?'}"
                + (", flagged ambiguous" if policy.ambiguous else ""),
            )
        )
    themes = facts.get("repeat_themes", [])
    items.append(
        EvidenceItem(
            name="agent_history",
            status="present",
            detail=("failed in the last 30 days: " + ", ".join(themes))
            if themes
            else "no repeat themes in the last 30 days",
        )
    )
    newest = max((m.created_at for m in ticket.messages if m.created_at), default=None)
    if newest and case.occurred_at:
        age = (case.occurred_at - newest).total_seconds() / 86400
        if age > rubric.stale_evidence_days:
            items[0] = items[0].model_copy(update={"status": "stale"})
    return items
