"""Examples of reviewer edits: the latest lead overrides, each criterion the lead changed with
the draft's value and the final one, and the lead's reason without customer data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.model import EditChange, EditExample
from store.metrics_model import MetricsSlice
from store.metrics_sql import M, sliced, window
from store.models import CriterionResultRow
from store.redacted_text import redacted_for_ticket

EXAMPLES = 5


def _final(result: CriterionResultRow | None, field: str, after: Any) -> Any:
    """The criterion's value now (the override's `after` when the result is gone)."""
    if result is None:
        return after
    return result.score if field == "score" else result.cause


async def edit_examples(
    session: AsyncSession,
    since: datetime,
    until: datetime,
    slice: MetricsSlice | None = None,
    limit: int = EXAMPLES,
) -> list[EditExample]:
    """The latest `limit` overrides of the window and slice. Reasons are stored redacted; they
    are redacted again here (with the ticket's customer names), so a reason stored before
    that, or by another writer, cannot reach a report as it was typed."""
    overrides = (
        await session.execute(
            select(M.assessment_id, M.agent_id, M.occurred_at, M.data)
            .where(
                M.kind == "decision_override",
                M.assessment_id.is_not(None),
                *window(M.occurred_at, since, until),
                *sliced(M, slice),
            )
            .order_by(M.occurred_at.desc(), M.id.desc())
            .limit(limit)
        )
    ).all()
    examples = []
    for assessment_id, agent_id, at, data in overrides:
        results = {
            r.criterion_id: r
            for r in (
                await session.execute(
                    select(CriterionResultRow).where(
                        CriterionResultRow.assessment_id == assessment_id
                    )
                )
            ).scalars()
        }
        changes = []
        for change in data.get("changes") or []:
            criterion, field = change.get("criterion_id"), change.get("field")
            result = results.get(criterion)
            changes.append(
                EditChange(
                    criterion_id=criterion,
                    field=field,
                    drafted=change.get("before"),
                    final=_final(result, field, change.get("after")),
                    max_score=result.max_score if result and field == "score" else None,
                )
            )
        examples.append(
            EditExample(
                assessment_id=assessment_id,
                agent_id=agent_id,
                decided_at=at,
                reason=await redacted_for_ticket(session, assessment_id, data.get("reason")),
                changes=changes,
            )
        )
    return examples
