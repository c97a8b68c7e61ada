"""Append-only measurement events, each carrying the ids that metrics slice by."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AssessmentRow, MeasurementEventRow
from store.upsert import insert_ignore, insert_ignore_many

REFS = ("kb_article", "policy")
_SLICE = (
    "workflow_id",
    "opportunity_id",
    "rubric_id",
    "rubric_version",
    "agent_id",
    "team",
    "queue",
    "product_area",
    "customer_segment",
    *REFS,
)
SLICE_COLUMNS = tuple(getattr(AssessmentRow, name) for name in _SLICE)


def measurement(
    kind: str,
    occurred_at: datetime,
    key: str,
    assessment: AssessmentRow | None = None,
    data: dict[str, Any] | None = None,
    **refs: str | None,
) -> dict[str, Any]:
    """The row of one event, deduplicated on (kind, key). An event of an assessment carries its
    slice ids; `refs` (kb_article, policy) name the KB article or policy of this event when it
    is not the assessment's. Every row has the same columns, so a batch is one statement."""
    unknown = set(refs) - set(REFS)
    if unknown:
        raise TypeError(f"measurement: unknown refs {sorted(unknown)}")
    values: dict[str, Any] = {
        "dedupe_key": f"{kind}:{key}",
        "kind": kind,
        "occurred_at": occurred_at,
        "data": data or {},
        "assessment_id": assessment.id if assessment is not None else None,
    }
    for name in _SLICE:
        values[name] = getattr(assessment, name) if assessment is not None else None
    values.update({name: ref for name, ref in refs.items() if ref is not None})
    return values


async def append_measurement(
    session: AsyncSession,
    kind: str,
    occurred_at: datetime,
    key: str,
    assessment: AssessmentRow | None = None,
    data: dict[str, Any] | None = None,
    **refs: str | None,
) -> bool:
    """Append once per (kind, key): a retried activity cannot count an event twice. True when
    this call appended it."""
    row = measurement(kind, occurred_at, key, assessment, data, **refs)
    return await insert_ignore(session, MeasurementEventRow, row, ["dedupe_key"])


async def append_measurements(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Append each of `rows` (built by `measurement`) once, in one statement."""
    await insert_ignore_many(session, MeasurementEventRow, rows, ["dedupe_key"])
