"""Health, and what an admin looks after: the definitions and the audit log."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Security
from fastapi.responses import JSONResponse
from sqlalchemy import select, text

from opportunities.editor import Folders
from store.models import AuditRow
from web.api.schemas import (
    NAME_PATTERN,
    AuditEntry,
    AuditLog,
    DefinitionProblem,
    Definitions,
    Health,
    OpportunityOut,
    ProblemRoute,
    RubricOut,
    SurveyTemplateOut,
    bearer,
    errors,
)
from web.auth import Admin
from web.context import Context

router = APIRouter(route_class=ProblemRoute)

HEALTH_TIMEOUT_SECONDS = 3.0


async def _reachable(check) -> bool:
    try:
        await asyncio.wait_for(check(), HEALTH_TIMEOUT_SECONDS)
    except Exception:  # any failure to answer is "unreachable"
        return False
    return True


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database or Temporal is unreachable"}},
    tags=["health"],
    summary="Whether the database and Temporal answer",
)
async def healthz(context: Context):
    async def database() -> None:
        async with context.sessions() as session:
            await session.execute(text("SELECT 1"))

    async def temporal() -> None:
        if not await context.client.service_client.check_health():
            raise RuntimeError("not serving")

    db_ok, temporal_ok = await asyncio.gather(_reachable(database), _reachable(temporal))
    health = Health(
        database="ok" if db_ok else "unreachable",
        temporal="ok" if temporal_ok else "unreachable",
    )
    if db_ok and temporal_ok:
        return health
    return JSONResponse(status_code=503, content=health.model_dump())


@router.get(
    "/api/admin/definitions",
    response_model=Definitions,
    responses=errors(401, 403),
    dependencies=[Security(bearer)],
    tags=["admin"],
    summary="Opportunities, rubrics and surveys with their versions, files and problems",
)
async def definitions(context: Context, user: Admin) -> Definitions:
    catalog = context.catalog
    folders = Folders.from_settings(context.settings)

    def shown(path: str | None) -> str | None:
        return folders.public(path) if path else None

    return Definitions(
        valid=not catalog.problems,
        opportunities=[
            OpportunityOut(
                id=o.id,
                name=o.name,
                version=o.version,
                enabled=o.enabled,
                on=list(o.on),
                rubric=o.rubric,
                review_by=o.review.by,
                escalate_to=o.review.escalate_to,
                virtual_coach=o.virtual_coach,
                file=shown(catalog.files.get(o.id)),
            )
            for o in sorted(catalog.opportunities.values(), key=lambda o: o.id)
        ],
        rubrics=[
            RubricOut(
                ref=ref,
                id=r.id,
                name=r.name,
                version=r.version,
                status=r.status,
                approved_by=r.approved_by,
                criteria=[c.id for c in r.criteria],
                file=shown(catalog.files.get(ref)),
            )
            for ref, r in sorted(catalog.rubrics.items())
        ],
        surveys=[
            SurveyTemplateOut(
                id=s.id,
                name=s.name,
                version=s.version,
                audience=s.audience,
                questions=len(s.questions),
                file=shown(catalog.survey_files.get(s.id)),
            )
            for s in sorted(catalog.surveys.values(), key=lambda s: s.id)
        ],
        problems=[
            DefinitionProblem(path=q.path, line=q.line, message=q.message)
            for q in map(folders.public_problem, catalog.problems)
        ],
    )


@router.get(
    "/api/admin/audit",
    response_model=AuditLog,
    responses=errors(401, 403, 422),
    dependencies=[Security(bearer)],
    tags=["admin"],
    summary="The audit log, newest first",
)
async def audit_log(
    context: Context,
    user: Admin,
    actor: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z_.]{1,100}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditLog:
    query = select(AuditRow)
    if actor:
        query = query.where(AuditRow.actor == actor)
    if action:
        query = query.where(AuditRow.action == action)
    query = query.order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit).offset(offset)
    async with context.sessions() as session:
        rows = list((await session.execute(query)).scalars())
    return AuditLog(
        items=[
            AuditEntry(
                id=r.id, at=r.at, actor=r.actor, action=r.action, target=r.target, details=r.details
            )
            for r in rows
        ],
        limit=limit,
        offset=offset,
    )
