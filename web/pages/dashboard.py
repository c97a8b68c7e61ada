"""The measurement dashboard for leads and admins: compute_metrics, with bar charts."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from store.assessments import queue_counts
from store.metrics import compute_metrics
from web.context import Context
from reporting.charts import Bar, bar_chart
from web.pages.common import CAUSE_LABELS, STATUS_LABELS, PageRoute, PageUser, now, render
from web.pages.common import require_role as require

router = APIRouter(route_class=PageRoute)

WINDOWS = {"7": 7, "30": 30, "90": 90, "all": None}
STATUS_TONE = {
    "awaiting_review": "warn",
    "stopped": "bad",
    "coaching": "primary",
    "virtual_coach": "primary",
    "closed_complete": "good",
    "closed_incomplete": "muted",
    "dismissed": "muted",
}


@router.get("/dashboard")
async def dashboard_page(request: Request, context: Context, user: PageUser) -> Response:
    require(user, "lead", "admin")
    window = request.query_params.get("days") or "30"
    if window not in WINDOWS:
        window = "30"
    days = WINDOWS[window]
    since = now() - timedelta(days=days) if days else None
    async with context.sessions() as session:
        metrics = await compute_metrics(session, since=since)
        counts = await queue_counts(session)
    flow = bar_chart(
        "Assessments in the window",
        [
            Bar("Drafted", metrics.drafted),
            Bar("Stopped", metrics.stopped, "bad"),
            Bar("Reviewed", metrics.tickets_reviewed),
            Bar("Notes approved", metrics.notes_approved, "good"),
            Bar("Overrides", metrics.overrides, "warn"),
            Bar("Dismissed", metrics.dismissed, "muted"),
        ],
    )
    rate = metrics.override_rate
    override = bar_chart(
        "Override rate",
        [Bar("Override rate", rate or 0, "warn", "-" if rate is None else f"{rate * 100:.0f}%")],
        maximum=1,
    )
    causes = bar_chart(
        "Process issues by cause",
        [
            Bar(CAUSE_LABELS.get(cause, cause), n, "warn")
            for cause, n in sorted(metrics.process_issues_by_cause.items(), key=lambda i: -i[1])
        ],
    )
    by_status: dict[str, int] = {}
    by_opportunity: dict[str, int] = {}
    for opportunity, status, n in counts:
        by_status[status] = by_status.get(status, 0) + n
        if status in ("awaiting_review", "stopped"):
            by_opportunity[opportunity] = by_opportunity.get(opportunity, 0) + n
    statuses = bar_chart(
        "All assessments by status",
        [
            Bar(STATUS_LABELS.get(s, s), by_status[s], STATUS_TONE.get(s, "primary"))
            for s in STATUS_LABELS
            if s in by_status
        ],
    )
    waiting = bar_chart(
        "Waiting for review, by opportunity",
        [Bar(o, n, "warn") for o, n in sorted(by_opportunity.items(), key=lambda i: -i[1])],
    )
    return render(
        request,
        "dashboard.html.j2",
        user,
        metrics=metrics,
        window=window,
        windows=list(WINDOWS),
        charts={
            "flow": flow,
            "override": override,
            "causes": causes,
            "statuses": statuses,
            "waiting": waiting,
        },
    )
