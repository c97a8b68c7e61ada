"""The FastAPI application: webhooks, the JSON API and the pages, on one WebContext."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from web.api import assessments, definitions, events, lifecycle, meta, metrics, ops
from web.context import WebContext
from web.errors import DATABASE_UNAVAILABLE, database_unavailable, validation_error
from web.headers import SecurityHeaders
from web.limits import BodyLimit
from web.pages import routes as pages
from web.sessions import RenewSessions

STATIC = Path(__file__).parent / "static"


def create_app(context: WebContext, interactive_docs: bool = False) -> FastAPI:
    """`interactive_docs`: serve /docs and /redoc, whose pages load their scripts from a CDN
    (for `starter.py dev`); /openapi.json is served either way."""
    app = FastAPI(
        title="coachflow",
        version="1",
        description="Support-agent QA and coaching: webhooks, assessments, decisions, "
        "learning tasks, surveys and metrics.",
        docs_url="/docs" if interactive_docs else None,
        redoc_url="/redoc" if interactive_docs else None,
    )
    app.state.context = context
    app.state.queue_depth = ops.QueueDepth()
    app.add_exception_handler(RequestValidationError, validation_error)
    for unreachable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unreachable, database_unavailable)
    for module in (events, assessments, lifecycle, meta, metrics, definitions, ops):
        app.include_router(module.router)
    app.include_router(pages.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(RenewSessions)
    app.add_middleware(BodyLimit, max_bytes=context.settings.max_body_bytes)
    app.add_middleware(ops.CountRefusedEvents)
    app.add_middleware(SecurityHeaders)
    return app
