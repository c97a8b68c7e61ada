"""An admin changes definitions: upload an opportunity, rubric version or survey as YAML, enable
or disable an opportunity, approve or retire a rubric version.

Every change is checked against the whole catalog before anything is written (opportunities/
editor.py; a refusal names each file from its definitions folder, `rubrics/x@1.yaml`, never
where the folder is on the server), written atomically to the configured folder, audited in
the same transaction, and then the app's catalog is swapped for the reloaded one: new events
match the new definitions, while running workflows keep the definitions pinned in their input.
Other processes on the same folders (workers, other web apps) reload within a second
(opportunities/live.py). The bundled folders are read-only (409): set
COACHFLOW_OPPORTUNITIES_DIR, COACHFLOW_RUBRICS_DIR, COACHFLOW_SURVEYS_DIR. A rubric version that
fails its own labelled examples (`examples:`) is refused on upload and on approval (422); the
example file is not uploaded here, it must already be in the rubrics folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Path, Request, Security
from pydantic import Field

from domain.yamlsource import MAX_DEPTH, MAX_NODES
from opportunities.catalog import Catalog
from opportunities.editor import (
    Conflict,
    EditError,
    Folders,
    Invalid,
    Kind,
    NotFound,
    Plan,
    ReadOnly,
    prepare,
    set_opportunity_enabled,
    set_rubric_status,
)
from opportunities.live import LiveCatalog
from store.audit import audit
from web.api.schemas import (
    IDENT_PATTERN,
    RUBRIC_PATTERN,
    Body,
    DefinitionProblem,
    OpportunityOut,
    Out,
    ProblemRoute,
    RubricOut,
    SurveyTemplateOut,
    bearer,
    errors,
)
from web.api.schemas import Problem as ProblemOut
from web.auth import Admin, User
from web.context import Context, WebContext
from web.errors import problem

router = APIRouter(route_class=ProblemRoute, tags=["admin"])

YAML_TYPES = ("text/yaml", "application/yaml", "application/x-yaml")
VERSION_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}@[0-9]{1,9}$"


# --- models ------------------------------------------------------------------------------------


class DefinitionChange(Out):
    kind: Kind
    id: str = Field(description="The opportunity or survey id; for a rubric, `id@version`")
    old_version: int | None = Field(
        description="The version before the change (the same rubric version when its status "
        "changed); null for a new definition"
    )
    new_version: int
    changed: bool = Field(
        description="False when the file already said the same: nothing written or audited"
    )
    file: str = Field(
        description="The file that holds the definition, named from its definitions folder "
        "(`rubrics/support-core@3.yaml`)"
    )
    definition: OpportunityOut | RubricOut | SurveyTemplateOut | None = Field(
        description="The definition as now loaded"
    )


class EnabledBody(Body):
    enabled: bool


class DefinitionRefusal(ProblemOut):
    problems: list[DefinitionProblem] | None = Field(
        default=None,
        description="With Invalid: every problem of the file or of the catalog with it, as "
        "path, line and message",
    )


class DefinitionRefusalResponse(Out):
    detail: DefinitionRefusal


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    out = errors(*(c for c in codes if c not in (415, 422)))
    if 415 in codes:
        out[415] = {"model": DefinitionRefusalResponse, "description": "The body is not YAML"}
    if 422 in codes:
        out[422] = {
            "model": DefinitionRefusalResponse,
            "description": "The file, or the catalog with it, has problems (`problems` lists "
            "them as path:line: message, each file named from its definitions folder: "
            "`rubrics/x@1.yaml`); nothing was written",
        }
    if 409 in codes:
        out[409] = {
            "model": DefinitionRefusalResponse,
            "description": "The definitions are the bundled, read-only ones; or the version "
            "conflicts (rubric and survey versions are immutable, an opportunity's version must "
            "increase with its content); or the status cannot change that way",
        }
    return out


# --- the change, shared with the /admin page -----------------------------------------------------


def _lock(app: FastAPI) -> asyncio.Lock:
    """One change at a time per app: check, write, audit and reload are one step."""
    lock = getattr(app.state, "definitions_lock", None)
    if lock is None:
        lock = app.state.definitions_lock = asyncio.Lock()
    return lock


async def save(
    request: Request,
    context: WebContext,
    user: User,
    action: str,
    make_plan: Callable[[Folders], Plan],
) -> Plan:
    """Check (`make_plan`), write, audit as `definition.<kind>.<action>`, reload. Raises
    EditError; on any failure after the write, the file is put back."""
    async with _lock(request.app):
        folders = Folders.from_settings(context.settings)
        plan = await asyncio.to_thread(make_plan, folders)
        if not plan.changed:
            return plan
        written, previous = False, None
        try:
            async with context.sessions() as session, session.begin():
                await audit(
                    session,
                    user.name,
                    f"definition.{plan.kind}.{action}",
                    plan.target,
                    {
                        "id": plan.key,
                        "old_version": plan.old_version,
                        "new_version": plan.new_version,
                        "file": plan.file,
                    },
                )
                previous = await asyncio.to_thread(plan.write)
                written = True
        except BaseException:
            if written:
                await asyncio.to_thread(plan.undo, previous)
            raise
        assert isinstance(context.definitions, LiveCatalog)
        await asyncio.to_thread(context.definitions.reload, folders)
        return plan


def refusal(exc: EditError) -> HTTPException:
    """The refusal as a problem; its problems name each file from its definitions folder, as
    `opportunities.editor.prepare` gives them, never where the folder is."""
    if isinstance(exc, Invalid):
        problems = [{"path": p.path, "line": p.line, "message": p.message} for p in exc.problems]
        return problem(422, "Invalid", exc.message, problems=problems)
    if isinstance(exc, ReadOnly):
        return problem(409, "ReadOnly", exc.message)
    if isinstance(exc, Conflict):
        return problem(409, "Conflict", exc.message)
    if isinstance(exc, NotFound):
        return problem(404, "NotFound", exc.message)
    return problem(409, "Refused", exc.message)


def summary(catalog: Catalog, plan: Plan, folders: Folders) -> DefinitionChange:
    """The change as answered: every file named from its folder (`Folders.public`)."""

    def file(shown: str | None) -> str | None:
        return None if shown is None else folders.public(shown)

    definition: OpportunityOut | RubricOut | SurveyTemplateOut | None = None
    if plan.kind == "opportunities" and (o := catalog.opportunities.get(plan.key)):
        definition = OpportunityOut(
            id=o.id,
            name=o.name,
            version=o.version,
            enabled=o.enabled,
            on=list(o.on),
            rubric=o.rubric,
            review_by=o.review.by,
            escalate_to=o.review.escalate_to,
            virtual_coach=o.virtual_coach,
            file=file(catalog.files.get(o.id)),
        )
    elif plan.kind == "rubrics" and (r := catalog.rubrics.get(plan.key)):
        definition = RubricOut(
            ref=r.ref,
            id=r.id,
            name=r.name,
            version=r.version,
            status=r.status,
            approved_by=r.approved_by,
            criteria=[c.id for c in r.criteria],
            file=file(catalog.files.get(r.ref)),
        )
    elif plan.kind == "surveys" and (s := catalog.surveys.get(plan.key)):
        definition = SurveyTemplateOut(
            id=s.id,
            name=s.name,
            version=s.version,
            audience=s.audience,
            questions=len(s.questions),
            file=file(catalog.survey_files.get(s.id)),
        )
    return DefinitionChange(
        kind=plan.kind,
        id=plan.key,
        old_version=plan.old_version,
        new_version=plan.new_version,
        changed=plan.changed,
        file=plan.file,
        definition=definition,
    )


async def _answer(
    request: Request, context: WebContext, user: User, action: str, make_plan
) -> DefinitionChange:
    try:
        plan = await save(request, context, user, action, make_plan)
    except EditError as exc:
        raise refusal(exc) from None
    return summary(context.catalog, plan, Folders.from_settings(context.settings))


# --- endpoints ---------------------------------------------------------------------------------


@router.put(
    "/api/admin/definitions/{kind}/{definition_id}",
    response_model=DefinitionChange,
    responses=_responses(401, 403, 409, 413, 415, 422),
    dependencies=[Security(bearer)],
    summary="Add or change an opportunity, a rubric version or a survey",
    description="The body is the definition file itself, as YAML (`Content-Type: text/yaml`), "
    f"without anchors or aliases (`&name`, `*name`), at most {MAX_NODES:,} values nested at most "
    f"{MAX_DEPTH} deep. The file's `id` must be the id in the path (for a rubric: `id` or "
    "`id@version`). It is "
    "checked with every other definition (rubric and survey references, learning-task "
    "criteria, CEL type probes); any problem is a 422 listing `path:line: message` and "
    "nothing is written. A rubric version with `examples` is drafted against its labelled "
    "example file, which must already be in the rubrics folder (this API writes only YAML; any "
    "version may name any `.jsonl` file there); a criterion below its `min_agreement` is a 422 "
    "with the disagreeing lines. Rubric and survey versions are immutable (the same version "
    "with other content is a 409: bump `version`); an opportunity's `version` must increase "
    "when its content changes (409). A new rubric version is uploaded as `status: draft` and "
    "approved with `POST /api/admin/rubrics/{ref}/approve`. The file is written atomically to "
    "the configured folder (a rubric version to `{id}@{version}.yaml`, beside the others), "
    "audited as `definition.<kind>.put` and used for new matches at once; running workflows "
    "keep theirs. Uploading what is already there changes nothing (`changed: false`). With the "
    "bundled folders (COACHFLOW_*_DIR unset) definitions are read-only: 409.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/yaml": {
                    "schema": {"type": "string", "description": "The definition file"},
                    "example": "id: low-csat\nname: Low CSAT follow-up\nversion: 2\n...",
                }
            },
        }
    },
)
async def put_definition(
    request: Request,
    context: Context,
    user: Admin,
    kind: Kind,
    definition_id: Annotated[str, Path(pattern=RUBRIC_PATTERN)],
) -> DefinitionChange:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in YAML_TYPES:
        raise problem(415, "UnsupportedMediaType", "content-type: send the file as text/yaml")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise problem(422, "Invalid", "body: not valid UTF-8") from None
    if "@" in definition_id and kind != "rubrics":
        raise problem(422, "Invalid", "definition_id: only a rubric id has a version (id@version)")

    def make_plan(folders: Folders) -> Plan:
        return prepare(folders, kind, text, definition_id)

    return await _answer(request, context, user, "put", make_plan)


@router.post(
    "/api/admin/opportunities/{opportunity_id}/enabled",
    response_model=DefinitionChange,
    responses=_responses(401, 403, 404, 409, 422),
    dependencies=[Security(bearer)],
    summary="Enable or disable an opportunity",
    description="Writes the opportunity's file with `enabled` set and `version` one higher, "
    "checked like an upload and audited as `definition.opportunities.enable` or `.disable`. "
    "Disabled, it matches no new events; running workflows go on.",
)
async def set_enabled(
    request: Request,
    context: Context,
    user: Admin,
    opportunity_id: Annotated[str, Path(pattern=IDENT_PATTERN)],
    body: EnabledBody,
) -> DefinitionChange:
    def make_plan(folders: Folders) -> Plan:
        return set_opportunity_enabled(folders, opportunity_id, body.enabled)

    action = "enable" if body.enabled else "disable"
    return await _answer(request, context, user, action, make_plan)


def _status_endpoint(status: Literal["approved", "retired"], action: str):
    async def endpoint(
        request: Request,
        context: Context,
        user: Admin,
        ref: Annotated[str, Path(pattern=VERSION_PATTERN, description="The rubric's id@version")],
    ) -> DefinitionChange:
        def make_plan(folders: Folders) -> Plan:
            return set_rubric_status(folders, ref, status, user.name)

        return await _answer(request, context, user, action, make_plan)

    return endpoint


router.add_api_route(
    "/api/admin/rubrics/{ref}/approve",
    _status_endpoint("approved", "approve"),
    methods=["POST"],
    name="approve_rubric",
    response_model=DefinitionChange,
    responses=_responses(401, 403, 404, 409, 422),
    dependencies=[Security(bearer)],
    summary="Approve a draft rubric version",
    description="Sets `status: approved` and `approved_by` to the signed-in admin in the "
    "version's file, checked like an upload and audited as `definition.rubrics.approve`. "
    "Opportunities that name the rubric without a version score against its newest approved "
    "version from now on. A version that fails its own labelled examples (`examples`, as the "
    "file in the folder is now) is refused (422, with the problems). A retired version cannot "
    "be approved again (409).",
)
router.add_api_route(
    "/api/admin/rubrics/{ref}/retire",
    _status_endpoint("retired", "retire"),
    methods=["POST"],
    name="retire_rubric",
    response_model=DefinitionChange,
    responses=_responses(401, 403, 404, 409, 422),
    dependencies=[Security(bearer)],
    summary="Retire a rubric version",
    description="Sets `status: retired` in the version's file, audited as "
    "`definition.rubrics.retire`. Refused (422, with the problems) when an opportunity would "
    "be left without an approved rubric.",
)
