"""The server-rendered pages: one router that includes each page's module."""

from __future__ import annotations

from fastapi import APIRouter

from web.pages import admin, assessment, dashboard, login, me, queue

router = APIRouter()
for module in (login, queue, assessment, me, dashboard, admin):
    router.include_router(module.router)
