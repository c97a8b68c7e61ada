"""The case under review: the redacted ticket, the agent being coached, and plain facts.

`agent_*` message sets are the trainee's own messages: after a reassignment, the agent who
handed the ticket over is coached on what they wrote, not on their successor's replies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, get_args

from domain.context import SAMPLE_EVENT, ticket_view
from domain.definitions import MessageSet
from domain.events import Change, Message, Ticket

GUIDANCE = re.compile(
    r"(?<!\w)(not sure if (the )?policy|does (the )?policy (allow|cover)|can (we|i) (offer|refund|"
    r"give)|need(s)? (a )?(lead|manager|supervisor)('s)? (approval|sign[- ]off|guidance)|"
    r"checking with (my|the) (lead|manager|team lead)|policy is (unclear|ambiguous))",
    re.IGNORECASE,
)
GUIDANCE_NEEDLES = (
    "policy",
    "can we",
    "can i",
    "approval",
    "sign-off",
    "sign off",
    "guidance",
    "checking with",
)


def _asks_for_guidance(body: str) -> bool:
    lowered = body.lower()
    return any(n in lowered for n in GUIDANCE_NEEDLES) and bool(GUIDANCE.search(body))


INCIDENT_TAG = re.compile(r"^(incident|inc|bug|problem)[-_]?\d+$", re.IGNORECASE)
CONTEXT_VARIABLES = ("event", "ticket", "change", "evidence")
MESSAGE_SETS: tuple[str, ...] = get_args(MessageSet)
PRODUCT_TAGS = frozenset({"product-bug", "bug", "known-issue", "outage", "defect"})


@dataclass(frozen=True)
class Case:
    ticket: Ticket
    event_type: str
    event_id: str = ""
    change: Change | None = None
    trainee_id: str | None = None
    occurred_at: datetime | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    sources: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def _message_sets(self) -> dict[str, list[Message]]:
        sets: dict[str, list[Message]] = {name: [] for name in MESSAGE_SETS}
        for m in self.ticket.messages:
            agent = m.author.role == "agent"
            mine = agent and m.author.id == self.trainee_id
            for name, wanted in (
                ("agent_public", mine and m.public),
                ("agent_internal", mine and not m.public),
                ("agent_all", mine),
                ("customer", m.author.role == "customer"),
                ("all_public", m.public),
                ("any_agent_public", agent and m.public),
                ("any_agent_internal", agent and not m.public),
                ("internal", not m.public and m.author.role != "customer"),
            ):
                if wanted:
                    sets[name].append(m)
        return sets

    def messages(self, which: str) -> list[Message]:
        return self._message_sets[which]

    def first_agent_reply(self) -> Message | None:
        return next(
            (m for m in self.ticket.messages if m.author.role == "agent" and m.public), None
        )

    def context(self, variables: Iterable[str] = CONTEXT_VARIABLES) -> dict[str, Any]:
        """The CEL variables, only those asked for: converting each one costs."""
        build = {
            "event": lambda: {"event_id": self.event_id, "type": self.event_type},
            "ticket": lambda: ticket_view(self.ticket),
            "change": lambda: (
                self.change.model_dump(mode="json", by_alias=True) if self.change else None
            ),
            "evidence": lambda: self.facts,
        }
        return {name: build[name]() for name in variables if name in build}


def trainee_of(ticket: Ticket, event_type: str, change: Change | None) -> str | None:
    """The agent being coached: who handed over on a reassignment, else the assignee."""
    if event_type == "ticket.reassigned" and change and change.field == "assignee" and change.from_:
        return change.from_
    return ticket.agent.id if ticket.agent else None


def _age_days(then: datetime | None, now: datetime | None) -> float | None:
    if then is None or now is None:
        return None
    return round((now - then).total_seconds() / 86400, 1)


def facts_for(
    ticket: Ticket,
    trainee_id: str | None = None,
    occurred_at: datetime | None = None,
    history: tuple[str, ...] = (),
    kb_max_age_days: int = 180,
) -> dict[str, Any]:
    """Plain facts about a ticket that reattribution rules and built-in signals test."""
    agent_messages = [m for m in ticket.messages if m.author.role == "agent"]
    mine = [m for m in agent_messages if m.author.id == trainee_id]
    metrics = ticket.metrics
    now = occurred_at or ticket.solved_at
    kb_ages = {a.id: _age_days(a.updated_at, now) for a in ticket.kb_articles}
    stale_kb = sorted(k for k, age in kb_ages.items() if age is not None and age > kb_max_age_days)
    tags = [t.lower() for t in ticket.tags]
    return {
        "channel": ticket.channel,
        "queue_backlog_per_agent": ticket.queue_backlog_per_agent,
        "first_response_minutes": metrics.first_response_minutes,
        "resolution_minutes": metrics.resolution_minutes,
        "reassignment_count": metrics.reassignment_count,
        "reopens": metrics.reopens,
        "csat_score": ticket.csat.score if ticket.csat else None,
        "csat_scale": ticket.csat.scale if ticket.csat else None,
        "policy_ambiguous": any(p.ambiguous for p in ticket.policies),
        "ambiguous_policies": sorted(p.id for p in ticket.policies if p.ambiguous),
        "asked_for_guidance": any(
            _asks_for_guidance(m.body) for m in agent_messages if not m.public
        ),
        "kb_articles": sorted(kb_ages),
        "kb_stale": bool(stale_kb),
        "stale_kb_articles": stale_kb,
        "product_issue": bool(PRODUCT_TAGS & set(tags)) or any(INCIDENT_TAG.match(t) for t in tags),
        "tags": tags,
        "agent_public_replies": sum(1 for m in mine if m.public),
        "internal_notes": sum(1 for m in mine if not m.public),
        "escalations": len(ticket.escalations),
        "repeat_themes": list(history),
    }


def _sample_case() -> Case:
    ticket = SAMPLE_EVENT.ticket
    trainee = trainee_of(ticket, SAMPLE_EVENT.type, SAMPLE_EVENT.change)
    return Case(
        ticket=ticket,
        event_type=SAMPLE_EVENT.type,
        event_id=SAMPLE_EVENT.event_id,
        change=SAMPLE_EVENT.change,
        trainee_id=trainee,
        occurred_at=SAMPLE_EVENT.occurred_at,
        facts=facts_for(ticket, trainee, SAMPLE_EVENT.occurred_at),
    )


SAMPLE_CASE = _sample_case()
