"""The admin page: definitions with their validation status, the forms that change them (upload
a file, enable/disable an opportunity, approve/retire a rubric version), the user directory and
the audit log. The forms go through the same checked, audited change as the JSON API
(web/api/definitions.py); a refused change shows the page again with its problems. Files are
named from their definitions folder (`rubrics/x@1.yaml`), never where it is on the server."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from domain.durations import format_duration
from opportunities.catalog import Catalog
from opportunities.editor import (
    ENVIRONMENT,
    KINDS,
    EditError,
    Folders,
    Invalid,
    NotFound,
    Plan,
    prepare,
    set_opportunity_enabled,
    set_rubric_status,
)
from store.audit import audit_log
from store.users import list_users
from web.api.definitions import VERSION_PATTERN, save
from web.api.schemas import IDENT_PATTERN
from web.auth import User
from web.context import Context
from web.errors import problem
from web.pages.common import (
    NOTICES,
    PageRoute,
    PageUser,
    back,
    checked_form,
    field,
    render,
    require_role,
)

router = APIRouter(route_class=PageRoute)

MAX_YAML_CHARS = 100_000
ADMIN_NOTICES = {
    "saved": "Saved: new events match the changed definitions; running workflows keep theirs.",
    "unchanged": "Nothing changed: the file already says that.",
}


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
    return await _page(request, context, user)


async def _page(
    request: Request,
    context: Context,
    user: User,
    status_code: int = 200,
    refused: dict[str, Any] | None = None,
) -> Response:
    """The page; `refused`: a change that was refused (`message`, `problems`, and for an upload
    its `kind` and `text`, shown again in its form)."""
    catalog = context.catalog
    done = request.query_params.get("done", "")
    folders = Folders.from_settings(context.settings)
    # Every file named from its definitions folder, as refusals name them: never a server path.
    files = {key: folders.public(shown) for key, shown in catalog.files.items()}
    survey_files = {key: folders.public(shown) for key, shown in catalog.survey_files.items()}
    problems_by_file: dict[str, list] = defaultdict(list)
    for found in map(folders.public_problem, catalog.problems):
        problems_by_file[found.path].append(found)
    loaded_files = set(files.values()) | set(survey_files.values())
    opportunities = [
        {
            "item": o,
            "file": files.get(o.id, "-"),
            "problems": problems_by_file.get(files.get(o.id, ""), []),
            "review": f"due {format_duration(o.review.due)}, escalate to "
            f"{o.review.escalate_to or '-'} after {format_duration(o.review.escalate_after)}, "
            f"expires {format_duration(o.review.expires)}",
        }
        for o in sorted(catalog.opportunities.values(), key=lambda o: o.id)
    ]
    rubrics = [
        {
            "item": r,
            "file": files.get(ref, "-"),
            "problems": problems_by_file.get(files.get(ref, ""), []),
            "used_by": _used_by(catalog, ref),
        }
        for ref, r in sorted(catalog.rubrics.items())
    ]
    surveys = [
        {"item": s, "file": survey_files.get(s.id, "-")}
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
        status_code=status_code,
        notice=None if refused else ADMIN_NOTICES.get(done) or NOTICES.get(done),
        kinds=KINDS,
        writable={kind: kind in folders.writable for kind in KINDS},
        environment=ENVIRONMENT,
        refused=refused or {},
        opportunities=opportunities,
        rubrics=rubrics,
        surveys=surveys,
        rejected=rejected,
        problem_count=len(catalog.problems),
        entries=entries,
        users=users,
    )


async def _change(
    request: Request,
    context: Context,
    user: User,
    action: str,
    make_plan: Callable[[Folders], Plan],
    upload: dict[str, Any] | None = None,
) -> Response:
    """Make the change; on success see /admin again, else the page with why not."""
    try:
        plan = await save(request, context, user, action, make_plan)
    except EditError as exc:
        status = 422 if isinstance(exc, Invalid) else 404 if isinstance(exc, NotFound) else 409
        problems = exc.problems if isinstance(exc, Invalid) else []
        refused = {**(upload or {}), "message": exc.message, "problems": problems}
        return await _page(request, context, user, status, refused)
    return back("/admin", "saved" if plan.changed else "unchanged")


@router.post("/admin/definitions")
async def upload_definition(request: Request, context: Context, user: PageUser) -> Response:
    require_role(user, "admin")
    form = await checked_form(request, context, user)
    kind = field(form, "kind")
    raw = form.get("yaml")
    text = raw if isinstance(raw, str) else ""
    if kind not in KINDS:
        refused = {"message": "kind: choose opportunities, rubrics or surveys", "problems": []}
        return await _page(request, context, user, 422, refused)
    upload = {"kind": kind, "text": text}
    if not text.strip() or len(text) > MAX_YAML_CHARS:
        message = f"yaml: paste the file's YAML (at most {MAX_YAML_CHARS} characters)"
        return await _page(request, context, user, 422, {**upload, "message": message})

    def make_plan(folders: Folders) -> Plan:
        return prepare(folders, kind, text)

    return await _change(request, context, user, "put", make_plan, upload)


@router.post("/admin/opportunities/{opportunity_id}/enabled")
async def enable_opportunity(
    request: Request,
    context: Context,
    user: PageUser,
    opportunity_id: Annotated[str, Path(pattern=IDENT_PATTERN)],
) -> Response:
    require_role(user, "admin")
    form = await checked_form(request, context, user)
    if field(form, "enabled") not in ("true", "false"):
        raise problem(422, "InvalidRequest", "enabled: must be true or false")
    enabled = field(form, "enabled") == "true"

    def make_plan(folders: Folders) -> Plan:
        return set_opportunity_enabled(folders, opportunity_id, enabled)

    return await _change(request, context, user, "enable" if enabled else "disable", make_plan)


@router.post("/admin/rubrics/{ref}/{action}")
async def rubric_status(
    request: Request,
    context: Context,
    user: PageUser,
    ref: Annotated[str, Path(pattern=VERSION_PATTERN)],
    action: Annotated[str, Path(pattern=r"^(approve|retire)$")],
) -> Response:
    require_role(user, "admin")
    await checked_form(request, context, user)
    status = "approved" if action == "approve" else "retired"

    def make_plan(folders: Folders) -> Plan:
        return set_rubric_status(folders, ref, status, user.name)

    return await _change(request, context, user, action, make_plan)
