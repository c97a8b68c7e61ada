"""The review queue: what leads decide next, in the store's priority order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.assessment import OPEN_STATUSES
from opportunities.catalog import Catalog
from store.lifecycle import surveys_for
from store.models import AssessmentRow
from web.actions import list_visible
from web.context import Context
from web.pages.common import STATUS_LABELS, PageRoute, PageUser, now, render, require_role, span

router = APIRouter(route_class=PageRoute)

PAGE_SIZE = 50
STATUS_FILTERS = {"open": list(OPEN_STATUSES), "all": None} | {
    s: [s] for s in STATUS_LABELS if s != "drafting"
}


@dataclass(frozen=True)
class Age:
    text: str
    overdue: bool


def review_age(row: AssessmentRow, catalog: Catalog) -> Age:
    """How long the assessment has waited, against the opportunity's review SLA (`review.due`),
    e.g. `2d 4h of 3d`. Only open assessments wait; a decided one shows how long it took."""
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    opportunity = catalog.opportunities.get(row.opportunity_id)
    if row.status not in OPEN_STATUSES:
        if row.decided_at is None:
            return Age("-", False)
        decided = row.decided_at if row.decided_at.tzinfo else row.decided_at.replace(tzinfo=UTC)
        return Age(f"decided after {span(decided - created)}", False)
    waited = now() - created
    if opportunity is None:
        return Age(span(waited), False)
    due: timedelta = opportunity.review.due
    return Age(f"{span(waited)} of {span(due)}", waited > due)


@router.get("/queue")
async def queue_page(request: Request, context: Context, user: PageUser) -> Response:
    require_role(user, "lead", "admin")
    params = request.query_params
    status = params.get("status") or "open"
    if status not in STATUS_FILTERS:
        status = "open"
    opportunity = params.get("opportunity") or None
    agent = (params.get("agent") or "").strip() or None
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        page = 1
    async with context.sessions() as session:
        rows = await list_visible(
            session,
            user,
            context.catalog,
            status=STATUS_FILTERS[status],
            agent=agent,
            opportunity=opportunity,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        surveys = await surveys_for(session, user.name, "open")
    items = [
        {
            "row": row,
            "age": review_age(row, context.catalog),
            "opportunity": context.catalog.opportunities.get(row.opportunity_id),
        }
        for row in rows[:PAGE_SIZE]
    ]
    filters = {"status": status, "opportunity": opportunity or "", "agent": agent or ""}

    def page_url(number: int) -> str:
        return "/queue?" + urlencode({**{k: v for k, v in filters.items() if v}, "page": number})

    return render(
        request,
        "queue.html.j2",
        user,
        items=items,
        page=page,
        prev_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if len(rows) > PAGE_SIZE else None,
        filters=filters,
        statuses=list(STATUS_FILTERS),
        opportunities=sorted(context.catalog.opportunities.values(), key=lambda o: o.id),
        surveys=surveys,
    )
