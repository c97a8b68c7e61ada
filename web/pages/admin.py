"""The admin page: definitions with their validation status, the user directory, the audit log."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.durations import format_duration
from opportunities.catalog import Catalog
from store.audit import audit_log
from store.users import list_users
from web.context import Context
from web.pages.common import PageRoute, PageUser, render, require_role

router = APIRouter(route_class=PageRoute)


def _used_by(catalog: Catalog, ref: str) -> list[str]:
    """The opportunities that score against this rubric version now."""
    out = []
    for opportunity in catalog.opportunities.values():
        try:
            if catalog.rubric_for(opportunity).ref == ref:
                out.append(opportunity.id)
        except LookupError:
            continue
    return sorted(out)


@router.get("/admin")
async def admin_page(request: Request, context: Context, user: PageUser) -> Response:
    require_role(user, "admin")
    catalog = context.catalog
    problems_by_file: dict[str, list] = defaultdict(list)
    for found in catalog.problems:
        problems_by_file[found.path].append(found)
    loaded_files = set(catalog.files.values()) | set(catalog.survey_files.values())
    opportunities = [
        {
            "item": o,
            "file": catalog.files.get(o.id, "-"),
            "problems": problems_by_file.get(catalog.files.get(o.id, ""), []),
            "review": f"due {format_duration(o.review.due)}, escalate to "
            f"{o.review.escalate_to or '-'} after {format_duration(o.review.escalate_after)}, "
            f"expires {format_duration(o.review.expires)}",
        }
        for o in sorted(catalog.opportunities.values(), key=lambda o: o.id)
    ]
    rubrics = [
        {
            "item": r,
            "file": catalog.files.get(ref, "-"),
            "problems": problems_by_file.get(catalog.files.get(ref, ""), []),
            "used_by": _used_by(catalog, ref),
        }
        for ref, r in sorted(catalog.rubrics.items())
    ]
    surveys = [
        {"item": s, "file": catalog.survey_files.get(s.id, "-")}
        for s in sorted(catalog.surveys.values(), key=lambda s: s.id)
    ]
    # Files that failed to load: they have no entry above, only their problems.
    rejected = {path: found for path, found in problems_by_file.items() if path not in loaded_files}
    async with context.sessions() as session:
        entries = await audit_log(session, limit=200)
        users = await list_users(session)
    return render(
        request,
        "admin.html.j2",
        user,
        opportunities=opportunities,
        rubrics=rubrics,
        surveys=surveys,
        rejected=rejected,
        problem_count=len(catalog.problems),
        entries=entries,
        users=users,
    )
