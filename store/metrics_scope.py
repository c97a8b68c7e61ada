"""Which assessments the metrics may count: all of them, or those a condition on the assessments
admits (the caller's review visibility, built by the web app). Measurement events follow their
assessment, so an event counts only when its assessment may be seen; a ticket (a CSAT response)
counts unless it was assessed and none of its assessments may be seen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select

from store.metrics_model import Scope
from store.models import AssessmentRow


@dataclass(frozen=True)
class MetricsScope:
    """`visible`: the SQL condition on AssessmentRow; None admits every assessment."""

    covers: Scope = field(default_factory=Scope)
    visible: ColumnElement[bool] | None = None

    def assessments(self) -> list[ColumnElement[bool]]:
        return [] if self.visible is None else [self.visible]

    def events(self, table: Any) -> list[ColumnElement[bool]]:
        """The condition on a table of measurement events; never correlated with an
        assessments table of the query it goes in."""
        if self.visible is None:
            return []
        seen = select(AssessmentRow.id).where(self.visible).correlate(None)
        return [table.assessment_id.in_(seen)]

    def tickets(self, ticket_id: Any) -> list[ColumnElement[bool]]:
        """The condition on a column of ticket ids (correlated with the query it goes in): a
        ticket of one or more assessments counts when one of them may be seen; a ticket no
        assessment was made of stands for its agent alone, and counts."""
        if self.visible is None:
            return []
        assessed = select(AssessmentRow.id).where(AssessmentRow.ticket_id == ticket_id)
        assessed = assessed.correlate_except(AssessmentRow)
        return [or_(~exists(assessed), exists(assessed.where(self.visible)))]


EVERYTHING = MetricsScope()
