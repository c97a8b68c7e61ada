"""The case under review: the ticket as drafting sees it, plus the facts CEL rules can read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.context import SAMPLE_EVENT
from domain.events import Change, Message, Ticket


@dataclass(frozen=True)
class Case:
    ticket: Ticket
    event_type: str
    event_id: str = ""
    change: Change | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def messages(self, which: str) -> list[Message]:
        def wanted(m: Message) -> bool:
            role, public = m.author.role, m.public
            return {
                "agent_public": role == "agent" and public,
                "agent_internal": role == "agent" and not public,
                "agent_all": role == "agent",
                "customer": role == "customer",
                "all_public": public,
            }[which]

        return [m for m in self.ticket.messages if wanted(m)]

    def context(self) -> dict[str, Any]:
        return {
            "event": {"event_id": self.event_id, "type": self.event_type},
            "ticket": self.ticket.model_dump(mode="json"),
            "change": self.change.model_dump(mode="json", by_alias=True) if self.change else None,
            "evidence": self.facts,
        }


def facts_for(ticket: Ticket) -> dict[str, Any]:
    """Plain facts about a ticket that reattribution rules may test."""
    agent_messages = [m for m in ticket.messages if m.author.role == "agent"]
    metrics = ticket.metrics
    return {
        "channel": ticket.channel,
        "queue_backlog_per_agent": ticket.queue_backlog_per_agent,
        "first_response_minutes": metrics.first_response_minutes,
        "resolution_minutes": metrics.resolution_minutes,
        "reassignment_count": metrics.reassignment_count,
        "reopens": metrics.reopens,
        "csat_score": ticket.csat.score if ticket.csat else None,
        "policy_ambiguous": any(p.ambiguous for p in ticket.policies),
        "tags": list(ticket.tags),
        "agent_public_replies": sum(1 for m in agent_messages if m.public),
        "internal_notes": sum(1 for m in agent_messages if not m.public),
        "escalations": len(ticket.escalations),
    }


SAMPLE_CASE = Case(
    ticket=SAMPLE_EVENT.ticket,
    event_type=SAMPLE_EVENT.type,
    event_id=SAMPLE_EVENT.event_id,
    change=SAMPLE_EVENT.change,
    facts=facts_for(SAMPLE_EVENT.ticket),
)
