"""Which assessments the metrics may count: all of them, or those a condition on the assessments
admits (the caller's review visibility, built by the web app). Measurement events follow their
assessment, so an event counts only when its assessment may be seen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

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


EVERYTHING = MetricsScope()


async def state_counts(
    session: AsyncSession, scope: MetricsScope = EVERYTHING
) -> list[tuple[str, str, int]]:
    """(opportunity, status, count) of the assessments in scope, as they stand now."""
    rows = await session.execute(
        select(AssessmentRow.opportunity_id, AssessmentRow.status, func.count())
        .where(*scope.assessments())
        .group_by(AssessmentRow.opportunity_id, AssessmentRow.status)
        .order_by(AssessmentRow.opportunity_id, AssessmentRow.status)
    )
    return [(o, s, n) for o, s, n in rows.all()]
