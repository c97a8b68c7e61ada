"""Signing in with a name and a bearer token, signing out, and the start page by role."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from store.users import user_by_token
from web.auth import SESSION_COOKIE, SESSION_SECONDS, OptionalUser, session_cookie
from web.context import Context
from web.pages.common import PageRoute, PageUser, checked_form, field, local_path, render

router = APIRouter(route_class=PageRoute)

HOME = {"lead": "/queue", "trainee": "/me", "admin": "/dashboard"}


@router.get("/")
async def home(user: PageUser) -> Response:
    return RedirectResponse(HOME.get(user.role, "/login"), status_code=303)


@router.get("/login")
async def login_page(request: Request, user: OptionalUser) -> Response:
    target = local_path(request.query_params.get("next"), "/")
    if user is not None and user.session_id is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html.j2", None, next=target, name="")


@router.post("/login")
async def login(request: Request, context: Context) -> Response:
    form = await request.form()
    name, token = field(form, "name"), field(form, "token")
    target = local_path(field(form, "next"), "/")
    row = None
    if name and token:
        async with context.sessions() as session:
            row = await user_by_token(session, token)
    # The same answer for an unknown name and a wrong token: nothing to probe.
    if row is None or not hmac.compare_digest(row.name.encode(), name.encode()):
        return render(
            request,
            "login.html.j2",
            None,
            status_code=401,
            next=target,
            name=name,
            error="That name and token do not match a user.",
        )
    if target == "/":
        target = HOME.get(row.role, "/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie(context, row.name),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, context: Context, user: PageUser) -> Response:
    await checked_form(request, context, user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
