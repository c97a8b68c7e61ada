"""The review SLA's steps, recorded once each: a reminder, an escalation, the expiry."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.coaching import ReviewStepRequest
from store.measurements import append_measurement
from store.models import AssessmentRow

FLAGS = {"reminder": "review_overdue", "escalation": "escalated"}
PRIORITY = {"reminder": 1, "escalation": 2, "expiry": 0}


async def record_review_step(session: AsyncSession, req: ReviewStepRequest) -> bool:
    """False when this step was already recorded: a retried activity changes nothing."""
    row = (
        await session.execute(select(AssessmentRow).where(AssessmentRow.id == req.assessment_id))
    ).scalar_one()
    appended = await append_measurement(
        session,
        kind=f"review_{req.step}",
        occurred_at=req.at,
        key=req.workflow_id,
        assessment=row,
        data={
            "reviewers": req.reviewers,
            "escalate_to": req.escalate_to,
            "waited_seconds": (req.at - row.created_at).total_seconds(),
        },
    )
    if not appended:
        return False
    flag = FLAGS.get(req.step)
    if flag and flag not in row.flags:
        row.flags = [*row.flags, flag]
    row.priority += PRIORITY[req.step]
    if req.step == "expiry":
        row.status = "closed_incomplete"
    row.updated_at = req.at
    return True
