"""What a user's metrics cover: an admin's, every assessment; anyone else's, the assessments
their review queue shows (`web.actions.visible`), so no figure counts a record they could not
open. A slice narrows the numbers within that scope: a team or agent the user may not see gives
the same empty figures as one that does not exist."""

from __future__ import annotations

from opportunities.catalog import Catalog
from store.metrics_model import Scope
from store.metrics_scope import EVERYTHING, MetricsScope
from web.actions import visible
from web.auth import User


def _listed(parts: list[str]) -> str:
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]


def scope_of(user: User, catalog: Catalog) -> MetricsScope:
    actor = user.actor
    if actor.role == "admin":
        return EVERYTHING
    parts = [f"of team {team}" for team in actor.teams]
    parts += [
        f"of the opportunities reviewer group {group} reviews or takes on escalation"
        for group in actor.groups
    ]
    parts += [f"reassigned to {actor.id}", "of no known team"]
    covers = Scope(
        everything=False,
        user=actor.id,
        teams=list(actor.teams),
        groups=list(actor.groups),
        described=f"the assessments {actor.id} may see: those {_listed(parts)}",
    )
    return MetricsScope(covers, visible(user, catalog))
