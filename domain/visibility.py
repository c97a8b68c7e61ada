"""Which assessments a user may see: one rule, read as SQL on the stored assessments (the queue,
the pages, the API and the metrics' scope: `web.actions.visible`) and of an assessment about to
be made (a lead opens a manual assessment only where they could then see it:
`service.manual`).

An admin sees every assessment; a trainee their own, once a lead (or the virtual coach) has
released them; a lead those reassigned to them, those of no known team (any lead may decide
those: `domain.people.reviewer_problem`), those of the teams they lead, and those of the
opportunities their reviewer groups review or take on escalation.

The rule is data, so its two readings cannot drift apart: alternatives, one of which admits an
assessment when each of its conditions holds; a condition names a column of the assessment
and the values it may have."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from domain.definitions import Opportunity
from domain.people import Actor

Column = Literal["agent_id", "assigned_lead", "opportunity_id", "released_at", "team"]


@dataclass(frozen=True)
class Condition:
    """`column` is one of `values` (None among them: no value); `values` None: any value
    but none (set)."""

    column: Column
    values: tuple[str | None, ...] | None

    def holds(self, value: Any) -> bool:
        return value is not None if self.values is None else value in self.values


@dataclass(frozen=True)
class Visibility:
    """Any of `alternatives` admits an assessment when each of its conditions holds (an
    alternative without conditions admits every assessment)."""

    alternatives: tuple[tuple[Condition, ...], ...]

    def admits(self, assessment: Mapping[str, Any]) -> bool:
        """Of an assessment given by its columns (a column not given has no value)."""
        return any(
            all(c.holds(assessment.get(c.column)) for c in alternative)
            for alternative in self.alternatives
        )


def reviewed_by_groups(opportunities: Iterable[Opportunity], groups: list[str]) -> list[str]:
    """The ids of the opportunities reviewed by, or escalating to, one of `groups`."""
    return [
        o.id
        for o in opportunities
        if o.review.by in groups or (o.review.escalate_to and o.review.escalate_to in groups)
    ]


def visibility(actor: Actor, opportunities: Iterable[Opportunity]) -> Visibility:
    """The assessments `actor` may see; `opportunities`: the catalog's."""
    if actor.role == "admin":
        return Visibility(((),))
    if actor.role == "trainee":
        own = (Condition("agent_id", (actor.id,)), Condition("released_at", None))
        return Visibility((own,))
    alternatives = [(Condition("assigned_lead", (actor.id,)),), (Condition("team", (None,)),)]
    if actor.teams:
        alternatives.append((Condition("team", tuple(actor.teams)),))
    reviewed = reviewed_by_groups(opportunities, actor.groups)
    if reviewed:
        alternatives.append((Condition("opportunity_id", tuple(reviewed)),))
    return Visibility(tuple(alternatives))
