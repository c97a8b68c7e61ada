"""Signing in with a name and a bearer token, signing out, and the start page by role.

A sign-in needs the form's CSRF token (web/signin.py); failures are throttled per name and
address and per address (web/throttle.py), and every attempt is audited with the name (`-` for
one that is no user's) and the address."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from store.users import end_sessions, user_by_token
from web import sessions
from web.auth import OptionalUser
from web.context import Context
from web.pages.common import PageRoute, PageUser, checked_form, field, local_path, render
from web.signin import (
    LOGIN_COOKIE,
    form_nonce,
    form_problem,
    form_token,
    record,
    set_form_cookie,
)
from web.throttle import address_key, address_of, name_key, throttle_of

router = APIRouter(route_class=PageRoute)

HOME = {"lead": "/queue", "trainee": "/me", "admin": "/dashboard"}


@router.get("/")
async def home(user: PageUser) -> Response:
    return RedirectResponse(HOME.get(user.role, "/login"), status_code=303)


def _form(
    request: Request, context: Context, status: int, target: str, name: str, error: str | None
) -> Response:
    nonce, new = form_nonce(request, context)
    page = render(
        request,
        "login.html.j2",
        None,
        status_code=status,
        next=target,
        name=name,
        error=error,
        login_csrf=form_token(context, nonce),
    )
    if new:
        set_form_cookie(page, request, context, nonce)
    return page


@router.get("/login")
async def login_page(request: Request, context: Context, user: OptionalUser) -> Response:
    target = local_path(request.query_params.get("next"), "/")
    if user is not None and user.session_id is not None:
        return RedirectResponse(target, status_code=303)
    return _form(request, context, 200, target, "", None)


@router.post("/login")
async def login(request: Request, context: Context) -> Response:
    form = await request.form()
    name, token = field(form, "name"), field(form, "token")
    target = local_path(field(form, "next"), "/")
    problem = form_problem(request, context, field(form, "csrf"))
    if problem:
        return _form(request, context, 403, target, name, problem)
    address, throttle = address_of(request), throttle_of(request.app)
    keys = [name_key(name, address), address_key(address)]
    row, failed, locked = None, True, 0
    # One sign-in from the address at a time, from the lock check to the count: a burst cannot
    # all pass the lock before any is counted. Other addresses do not wait on it.
    async with throttle.one_at_a_time(address):
        at = sessions.now(request)
        wait = throttle.retry_after(keys, at)
        if not wait:
            if name and token:
                async with context.sessions() as session:
                    row = await user_by_token(session, token)
            # The same answer for an unknown name and a wrong token: nothing to probe.
            failed = row is None or not hmac.compare_digest(row.name.encode(), name.encode())
            locked = throttle.failed(keys, at) if failed else 0
    if wait:
        error = f"Too many failed sign-ins; try again in {wait} s."
        page = _form(request, context, 429, target, name, error)
        page.headers["Retry-After"] = str(wait)
        return page
    if failed:
        await record(context, "user.login_failed", name, address, locked_for=locked)
        error = "That name and token do not match a user."
        return _form(request, context, 401, target, name, error)
    throttle.succeeded(name_key(name, address))
    await record(context, "user.login", row.name, address)
    if target == "/":
        target = HOME.get(row.role, "/")
    response = RedirectResponse(target, status_code=303)
    sessions.set_cookie(response, request, context.secret_key, sessions.begin(row, at))
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, context: Context, user: PageUser) -> Response:
    """Ends every page session of the user, not only this browser's."""
    await checked_form(request, context, user)
    async with context.sessions() as session, session.begin():
        await end_sessions(session, user.name)
    await record(context, "user.logout", user.name, address_of(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
