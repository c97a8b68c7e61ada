"""Append-only measurement events, each carrying the ids that metrics slice by."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AssessmentRow, MeasurementEventRow
from store.upsert import insert_ignore


async def append_measurement(
    session: AsyncSession,
    kind: str,
    occurred_at: datetime,
    key: str,
    assessment: AssessmentRow | None = None,
    data: dict[str, Any] | None = None,
    **refs: str | None,
) -> bool:
    """Append once per (kind, key): a retried activity cannot count an event twice.

    An event of an assessment carries its slice ids; `refs` (kb_article, policy) name the KB
    article or policy of this event when it is not the assessment's."""
    values: dict[str, Any] = {
        "dedupe_key": f"{kind}:{key}",
        "kind": kind,
        "occurred_at": occurred_at,
        "data": data or {},
    }
    if assessment is not None:
        values.update(
            assessment_id=assessment.id,
            workflow_id=assessment.workflow_id,
            opportunity_id=assessment.opportunity_id,
            rubric_id=assessment.rubric_id,
            rubric_version=assessment.rubric_version,
            agent_id=assessment.agent_id,
            team=assessment.team,
            queue=assessment.queue,
            product_area=assessment.product_area,
            customer_segment=assessment.customer_segment,
            kb_article=assessment.kb_article,
            policy=assessment.policy,
        )
    unknown = set(refs) - {"kb_article", "policy"}
    if unknown:
        raise TypeError(f"append_measurement: unknown refs {sorted(unknown)}")
    values.update({name: ref for name, ref in refs.items() if ref is not None})
    return await insert_ignore(session, MeasurementEventRow, values, ["dedupe_key"])
