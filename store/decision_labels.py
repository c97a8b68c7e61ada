"""The leads' final decisions as labels for the drafts: an approval confirms the draft, an
override's scores and causes are the label (the criterion results as the decision left them),
and its diff gives back what the draft said. Dismissals label nothing; they are counted.
Decisions are taken in the window by when they were made, in the slice and the scope the
metrics use (`store.metrics_scope`).

Two readings of the same rule (`rubrics.agreement.decided`): `decision_labels` reads every
decided assessment's results into Python, as `starter.py eval --from-decisions` needs them
(each disagreement with its quote); `draft_agreement`, behind `/dashboard` and `/api/metrics`,
counts the (lead's verdict, draft's verdict) pairs per criterion in SQL and reads back one row
per criterion and pair, whatever the number of decisions.

What the draft said of a criterion. The stored results are the decision's; an override's event
keeps its diff (`data.changes`, `domain.coaching.CriterionChange`): for each criterion whose
score the lead changed, the drafted score (`before`), and for each cause the lead changed, the
drafted cause. The drafted verdict of a rescored criterion follows from its drafted score: the
weight passes; 0 with no confidence was not scored; any other score failed. Any other
criterion's verdict is the lead's, as the draft's was (`domain.overrides.changed_results`
changes only what the diff names)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from rubrics.agreement import AGENT, Figures, Labelled, Report, decided
from store.metrics_model import MetricsSlice
from store.metrics_scope import EVERYTHING, MetricsScope
from store.metrics_sql import COACHED, DECISIONS, M, json_elements, sliced, window
from store.models import CriterionResultRow


def _decisions(
    since: datetime | None,
    until: datetime | None,
    slice: MetricsSlice | None,
    scope: MetricsScope,
) -> list[Any]:
    """The final decisions of assessments in [since, until), the slice and the scope."""
    return [
        M.kind.in_(DECISIONS),
        M.assessment_id.is_not(None),
        *window(M.occurred_at, since, until),
        *sliced(M, slice),
        *scope.events(M),
    ]


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
    the lead's labels against the draft's verdicts. Reads every criterion result of those
    assessments: for the eval command, not for a page."""
    where = _decisions(since, until, slice, scope)
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
    """The figures `draft_agreement` counts in SQL, from labels read into Python."""
    return DraftAgreement(
        decisions=labels.approved + labels.overridden,
        dismissed=labels.dismissed,
        by_criterion={cid: _agreement(f) for cid, f in report.criteria.items()},
        coach=_agreement(report.coach) if report.coach else None,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def counted(pairs: Counter[tuple[str, str]]) -> Agreement:
    """n, agreement and Cohen's kappa of (expected, got) pairs given by their counts: the
    arithmetic of `rubrics.agreement` (`Figures`, `cohen_kappa`), in the same order, so the
    figures are the same to the last bit."""
    n = sum(pairs.values())
    matches = sum(count for (expected, got), count in pairs.items() if expected == got)
    left: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for (expected, got), count in pairs.items():
        left[expected] += count
        right[got] += count
    chance = sum(left[k] * right[k] for k in left) / (n * n)
    kappa = None if chance >= 1 else (matches / n - chance) / (1 - chance)
    return Agreement(n=n, agreement=_round(matches / n), kappa=_round(kappa))


def _verdict(status: Any) -> Any:
    """`rubrics.agreement.verdict_of` in SQL."""
    return case((status == "passed", "pass"), (status == "failed", "fail"), else_="na")


# The criteria come in the order they first appear: by decision, then by their place in the
# rubric, as one number. A rubric has far fewer criteria than this (its file holds at most
# 25,000 values: domain.yamlsource).
PLACES = 1_000_000


def _pairs(session: AsyncSession, where: list[Any]) -> Any:
    """One row per approved or overridden decision and criterion of its assessment (one with
    no criterion for an assessment without results): the lead's verdict and the draft's, each
    with its cause, and `place`, the row's place in decision order (time, then event) and
    criterion order. Materialized: read twice, computed once."""
    decisions = (
        select(
            M.id.label("event"),
            M.assessment_id,
            M.data,
            func.row_number().over(order_by=(M.occurred_at, M.id)).label("nth"),
        )
        .where(*where, M.kind.in_(COACHED))
        .cte("decisions")
    )
    d = decisions.c
    changes = json_elements(session, d.data, "changes")
    value = changes.c.value
    diff = (
        select(
            d.event.label("event"),
            value["criterion_id"].as_string().label("criterion"),
            value["field"].as_string().label("field"),
            value["before"].as_string().label("before"),
        )
        .select_from(decisions)
        .join(changes, true())
        .subquery("diff")
    )
    x = diff.c
    drafted = (
        select(
            x.event,
            x.criterion,
            func.max(case((x.field == "score", 1), else_=0)).label("rescored"),
            func.max(case((x.field == "score", cast(x.before, Float)))).label("score"),
            func.max(case((x.field == "cause", x.before))).label("cause"),
        )
        .group_by(x.event, x.criterion)
        .subquery("drafted")
    )
    b, R = drafted.c, CriterionResultRow
    lead = _verdict(R.status)
    score = func.coalesce(b.score, 0.0)
    draft = case(
        (
            b.rescored == 1,
            case(
                (score >= R.weight, "pass"),
                (and_(score == 0, func.coalesce(R.confidence, 0) == 0), "na"),
                else_="fail",
            ),
        ),
        else_=lead,
    )
    return (
        select(
            d.event.label("event"),
            R.criterion_id.label("criterion"),
            lead.label("lead"),
            draft.label("draft"),
            func.coalesce(func.nullif(R.cause, ""), AGENT).label("lead_cause"),
            func.coalesce(func.nullif(b.cause, ""), func.nullif(R.cause, ""), AGENT).label(
                "draft_cause"
            ),
            (d.nth * PLACES + R.position).label("place"),
        )
        .select_from(decisions)
        .outerjoin(R, R.assessment_id == d.assessment_id)
        .outerjoin(drafted, and_(b.event == d.event, b.criterion == R.criterion_id))
        .cte("pairs")
        .prefix_with("MATERIALIZED")
    )


def _coach(lead: Any, cause: Any) -> Any:
    """A coaching point: a failure put down to the agent's own behaviour."""
    return func.max(case((and_(lead == "fail", cause == AGENT), 1), else_=0))


async def draft_agreement(
    session: AsyncSession,
    since: datetime | None = None,
    until: datetime | None = None,
    slice: MetricsSlice | None = None,
    scope: MetricsScope = EVERYTHING,
) -> DraftAgreement:
    """`summarised(decision_labels(...))`, counted in SQL, in one statement: the decisions by
    kind; per criterion, the (lead's verdict, draft's verdict) pairs where the lead passed or
    failed it, with where the criterion first appears; and the pairs of coaching-point
    verdicts, one per decision. A few rows per criterion, whatever the number of decisions."""
    where = _decisions(since, until, slice, scope)
    pairs = _pairs(session, where)
    p = pairs.c
    per_decision = (
        select(
            _coach(p.lead, p.lead_cause).label("lead"),
            _coach(p.draft, p.draft_cause).label("draft"),
        )
        .group_by(p.event)
        .subquery()
    )
    e = per_decision.c
    # Which part of the answer a row is: the decisions by kind, a criterion's pairs, the
    # coaching points' pairs.
    kind, criterion, coach = (literal_column(str(i)) for i in range(3))
    kinds = select(kind, M.kind, null(), null(), func.count(), null())
    kinds = kinds.where(*where).group_by(M.kind)
    criteria = select(criterion, p.criterion, p.lead, p.draft, func.count(), func.min(p.place))
    criteria = criteria.where(p.lead.in_(("pass", "fail"))).group_by(p.criterion, p.lead, p.draft)
    lead, draft = (case((v == 1, "fail"), else_="pass") for v in (e.lead, e.draft))
    points = select(coach, null(), lead, draft, func.count(), null()).group_by(lead, draft)
    counts: dict[str, int] = {}
    found: dict[str, Counter[tuple[str, str]]] = {}
    first: dict[str, int] = {}
    coached: Counter[tuple[str, str]] = Counter()
    rows = (await session.execute(union_all(kinds, criteria, points))).all()
    for part, key, said, drafted, n, place in rows:
        if part == 0:
            counts[key] = int(n)
        elif part == 1:
            found.setdefault(key, Counter())[said, drafted] = int(n)
            first[key] = min(first.get(key, place), place)
        else:
            coached[said, drafted] = int(n)
    return DraftAgreement(
        decisions=counts.get("decision_approve", 0) + counts.get("decision_override", 0),
        dismissed=counts.get("decision_dismiss", 0),
        by_criterion={cid: counted(found[cid]) for cid in sorted(found, key=first.__getitem__)},
        coach=counted(coached) if coached else None,
    )
