"""The leads' final decisions as labels for the drafts: an approval confirms the draft, an
override's scores and causes are the label (the criterion results as the decision left them),
and its diff gives back what the draft said. Dismissals label nothing; they are counted.
Decisions are taken in the window by when they were made, in the slice and the scope the
metrics use (`store.metrics_scope`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rubrics.agreement import Figures, Labelled, Report, decided, evaluate
from store.metrics_model import MetricsSlice
from store.metrics_scope import EVERYTHING, MetricsScope
from store.metrics_sql import DECISIONS, M, sliced, window
from store.models import CriterionResultRow


@dataclass
class DecisionLabels:
    cases: list[Labelled] = field(default_factory=list)
    approved: int = 0
    overridden: int = 0
    dismissed: int = 0


async def decision_labels(
    session: AsyncSession,
    since: datetime | None = None,
    until: datetime | None = None,
    slice: MetricsSlice | None = None,
    scope: MetricsScope = EVERYTHING,
) -> DecisionLabels:
    """Each approved or overridden assessment decided in [since, until), in decision order, as
    the lead's labels against the draft's verdicts."""
    where = [
        M.kind.in_(DECISIONS),
        M.assessment_id.is_not(None),
        *window(M.occurred_at, since, until),
        *sliced(M, slice),
        *scope.events(M),
    ]
    decisions = (
        await session.execute(
            select(M.assessment_id, M.kind, M.rubric_id, M.rubric_version, M.data)
            .where(*where)
            .order_by(M.occurred_at, M.id)
        )
    ).all()
    taken = select(M.assessment_id).where(*where, M.kind != "decision_dismiss")
    results: dict[int, list[CriterionResultRow]] = {}
    for row in (
        await session.execute(
            select(CriterionResultRow)
            .where(CriterionResultRow.assessment_id.in_(taken))
            .order_by(CriterionResultRow.assessment_id, CriterionResultRow.position)
        )
    ).scalars():
        results.setdefault(row.assessment_id, []).append(row)
    out = DecisionLabels()
    for assessment_id, kind, rubric_id, version, data in decisions:
        if kind == "decision_dismiss":
            out.dismissed += 1
            continue
        if kind == "decision_override":
            out.overridden += 1
        else:
            out.approved += 1
        lead, draft = decided(results.get(assessment_id, []), (data or {}).get("changes") or [])
        ref = f"{rubric_id}@{version}"
        out.cases.append(Labelled(f"assessment {assessment_id}", ref, lead, draft))
    return out


class Agreement(BaseModel):
    n: int = Field(description="Decided assessments where the lead passed or failed it")
    agreement: float | None = Field(description="The share where the draft said the same")
    kappa: float | None = Field(description="Cohen's kappa (none when undefined)")


class DraftAgreement(BaseModel):
    """How often the draft said what the lead decided, per criterion and for any coaching
    point at all (`coach`), over the approved and overridden decisions of the window."""

    decisions: int
    dismissed: int = Field(description="Dismissed in the window: not counted as labels")
    by_criterion: dict[str, Agreement]
    coach: Agreement | None


def _agreement(figures: Figures) -> Agreement:
    shown = figures.as_dict()
    return Agreement(n=figures.n, agreement=shown["agreement"], kappa=shown["kappa"])


def summarised(labels: DecisionLabels, report: Report) -> DraftAgreement:
    return DraftAgreement(
        decisions=labels.approved + labels.overridden,
        dismissed=labels.dismissed,
        by_criterion={cid: _agreement(f) for cid, f in report.criteria.items()},
        coach=_agreement(report.coach) if report.coach else None,
    )


async def draft_agreement(
    session: AsyncSession,
    since: datetime | None = None,
    until: datetime | None = None,
    slice: MetricsSlice | None = None,
    scope: MetricsScope = EVERYTHING,
) -> DraftAgreement:
    labels = await decision_labels(session, since, until, slice, scope)
    return summarised(labels, evaluate(labels.cases))
