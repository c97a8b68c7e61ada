"""The FastAPI application: webhooks, the JSON API and the pages, on one WebContext."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from web.api import assessments, definitions, events, lifecycle, meta
from web.context import WebContext
from web.errors import validation_error
from web.limits import BodyLimit
from web.pages import routes as pages

STATIC = Path(__file__).parent / "static"


def create_app(context: WebContext) -> FastAPI:
    app = FastAPI(
        title="coachflow",
        version="1",
        description="Support-agent QA and coaching: webhooks, assessments, decisions, "
        "learning tasks, surveys and metrics.",
    )
    app.state.context = context
    app.add_exception_handler(RequestValidationError, validation_error)
    for module in (events, assessments, lifecycle, meta, definitions):
        app.include_router(module.router)
    app.include_router(pages.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, max_bytes=context.settings.max_body_bytes)
    return app
