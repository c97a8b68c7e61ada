"""Decide which opportunities an event triggers.

Pure and deterministic: a replayed event decides the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import cel

from domain.context import event_context, ticket_fields, variables_read
from domain.events import TicketEvent
from domain.expressions import ExpressionError
from opportunities.catalog import Catalog

Outcome = Literal["matched", "condition_false", "condition_error", "not_sampled"]


@dataclass(frozen=True)
class Match:
    opportunity_id: str
    outcome: Outcome
    detail: str = ""
    dedupe_key: str = ""

    @property
    def matched(self) -> bool:
        return self.outcome == "matched"


def sample_draw(opportunity_id: str, source: str, ticket_id: str) -> float:
    """A stable number in [0, 1) per (opportunity, ticket): a ticket always draws the same."""
    digest = hashlib.sha256(f"{opportunity_id}\x1f{source}\x1f{ticket_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def dedupe_key(opportunity_id: str, per: str, event: TicketEvent) -> str:
    key = f"coaching/{opportunity_id}/{event.source}/{event.ticket.id}"
    return f"{key}/{event.event_id}" if per == "ticket+occurrence" else key


@lru_cache(maxsize=256)
def _reads(conditions: tuple[str, ...]) -> tuple[frozenset[str] | None, frozenset[str]]:
    return ticket_fields(conditions), variables_read(conditions)


def match_event(event: TicketEvent, catalog: Catalog) -> list[Match]:
    """One Match per enabled opportunity listening to this event type."""
    candidates = catalog.for_event_type(event.type)
    if not candidates:
        return []
    fields, variables = _reads(tuple(o.when for o in candidates))
    context = cel.Context(event_context(event, fields, variables))
    team = event.ticket.agent.team if event.ticket.agent else None
    out = []
    for opportunity in candidates:
        try:
            hit = catalog.conditions[opportunity.id].evaluate(context)
        except ExpressionError as exc:
            out.append(Match(opportunity.id, "condition_error", str(exc)))
            continue
        if not hit:
            out.append(Match(opportunity.id, "condition_false"))
            continue
        sample = opportunity.sample
        if team not in sample.always_for_teams and (
            sample_draw(opportunity.id, event.source, event.ticket.id) >= sample.rate
        ):
            out.append(Match(opportunity.id, "not_sampled", f"sample rate {sample.rate:g}"))
            continue
        out.append(
            Match(
                opportunity.id,
                "matched",
                dedupe_key=dedupe_key(opportunity.id, opportunity.dedupe.per, event),
            )
        )
    return out
