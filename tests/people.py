"""The people of the test world, as the user directory would resolve them. The default test
event's agent is `a-17` on team `tier1`; its opportunity is reviewed by the team's lead and
escalates to `qa-leads`."""

from __future__ import annotations

from domain.people import Actor

TRAINEE = Actor(id="a-17", role="trainee", teams=["tier1"])
OTHER_TRAINEE = Actor(id="a-99", role="trainee", teams=["tier1"])
LEAD = Actor(id="lee", role="lead", teams=["tier1"])
SECOND_LEAD = Actor(id="sam", role="lead", teams=["tier1"])
QA_LEAD = Actor(id="quinn", role="lead", groups=["qa-leads"])
OUTSIDE_LEAD = Actor(id="olga", role="lead", teams=["tier2"])
ADMIN = Actor(id="ada", role="admin")


def lead(name: str = "lee") -> Actor:
    """A lead of the trainee's team."""
    return Actor(id=name, role="lead", teams=["tier1"])
