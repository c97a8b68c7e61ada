"""Who acts, and who may decide on an assessment.

An `Actor` is resolved from the user directory by the caller (the CLI or the API) and travels
in every update, so the workflow's validators can check roles without any I/O.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from domain.definitions import ReviewSpec

Role = Literal["admin", "lead", "trainee"]
ROLES: tuple[str, ...] = get_args(Role)
TEAM_LEAD = "team-lead"


class Actor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    role: Role
    teams: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)


def reviewer_problem(
    actor: Actor,
    review: ReviewSpec,
    team: str | None,
    trainee_id: str | None,
    escalated: bool,
    assignee: str | None,
) -> str | None:
    """Why `actor` may not decide on this assessment, or None when they may.

    `review.by: team-lead` means a lead of the trainee's team (any lead when the team is
    unknown); any other value names a group. After an escalation the `escalate_to` group may
    decide too. A reassigned assessment belongs to its new lead (and the escalation group).
    """
    if actor.role != "lead":
        return f"only a lead can decide; {actor.id} is not a lead ({actor.role})"
    if trainee_id is not None and actor.id == trainee_id:
        return "a lead cannot decide on their own assessment"
    if escalated and review.escalate_to and review.escalate_to in actor.groups:
        return None
    if assignee is not None:
        if actor.id == assignee:
            return None
        return f"the assessment was reassigned to {assignee}"
    if review.by == TEAM_LEAD:
        if team is None or team in actor.teams:
            return None
        return f"{actor.id} does not lead team {team}"
    if review.by in actor.groups:
        return None
    return f"{actor.id} is not in the reviewer group {review.by}"
