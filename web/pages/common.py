"""What every page shares: the templates, the signed-in user, CSRF on forms, and refusals
rendered as HTML.

Pages answer in HTML, never JSON: `PageRoute` turns a missing session into a redirect to
/login, and any refusal (HTTPException, a request that does not validate) into an error page
with the refusal's status code and message.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import FormData

from domain.definitions import CAUSE_LABELS
from web.api.schemas import storable
from web.auth import User, check_csrf, csrf_token, optional_user
from web.context import Context
from web.errors import problem

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CSRF_FIELD = "csrf"

STATUS_LABELS = {
    "drafting": "drafting",
    "awaiting_review": "awaiting review",
    "stopped": "stopped",
    "virtual_coach": "virtual coach",
    "coaching": "coaching",
    "closed_complete": "closed, complete",
    "closed_incomplete": "closed, incomplete",
    "dismissed": "dismissed",
}
# Flags that put an assessment at the top of the queue; shown in red.
RISK_FLAGS = frozenset(
    {
        "customer_risk",
        "sensitive",
        "policy_exception",
        "pii_exposed",
        "critical_failed",
        "unexplained_low_csat",
    }
)
# What a successful POST did, shown on the page it redirects to; keys only travel in the URL.
NOTICES = {
    "approve": "Approved: the coaching note is released to the trainee.",
    "override": "Override recorded: the changed scores and note are released to the trainee.",
    "dismiss": "Dismissed: nothing reaches the trainee.",
    "reassign": "Reassigned to another lead.",
    "resolve": "The dispute is resolved.",
    "task": "Task completed.",
    "survey": "Thank you: your answers are recorded.",
    "acknowledge": "You acknowledged the coaching.",
    "dispute": "Your dispute goes to a lead who did not decide the assessment.",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def span(delta: timedelta) -> str:
    """A duration as people read it: `2d 4h`, `5h 12m`, `12m`."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def when(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def num(value: float | int | None) -> str:
    return "-" if value is None else f"{value:g}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        num=num,
        percent=percent,
        span=span,
        status=lambda s: STATUS_LABELS.get(s, s),
        cause=lambda c: CAUSE_LABELS.get(c or "", c or "-"),
    )
    env.globals.update(RISK_FLAGS=RISK_FLAGS, CAUSES=tuple(CAUSE_LABELS))
    return env


templates = Jinja2Templates(env=_environment())


class LoginRequired(Exception):
    """No valid session: the page redirects to /login."""


def _login_redirect(request: Request) -> RedirectResponse:
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return RedirectResponse("/login", status_code=303)


def refusal_message(exc: HTTPException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("error") or "refused")
    return str(detail)


def error_page(request: Request, status: int, message: str) -> Response:
    user = getattr(request.state, "user", None)
    return render(request, "error.html.j2", user, status_code=status, status=status, error=message)


class PageRoute(APIRoute):
    """Renders refusals as HTML pages and adds the security headers every page carries."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                response = _login_redirect(request)
            except HTTPException as exc:
                response = error_page(request, exc.status_code, refusal_message(exc))
            except RequestValidationError as exc:
                problems = sorted(
                    {f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()}
                )
                response = error_page(request, 422, "; ".join(problems))
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return page_handler


async def page_user(request: Request, user: Annotated[User | None, Depends(optional_user)]):
    """The signed-in user, or a redirect to /login."""
    if user is None:
        raise LoginRequired()
    request.state.user = user
    return user


PageUser = Annotated[User, Depends(page_user)]


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise HTTPException(
            403,
            detail={
                "error": "Forbidden",
                "message": f"this page is for {' or '.join(r + 's' for r in roles)}; "
                f"you are signed in as {user.name} ({user.role})",
            },
        )


async def checked_form(request: Request, context: Context, user: User) -> FormData:
    """The posted form, once its CSRF token matches the session (403 otherwise)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    check_csrf(context, user, token if isinstance(token, str) else None)
    for name, value in form.multi_items():
        if isinstance(value, str):
            try:
                storable(value)
            except ValueError as exc:
                raise problem(422, "InvalidRequest", f"{name}: {exc}") from None
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def render(
    request: Request,
    template: str,
    user: User | None,
    /,
    status_code: int = 200,
    **values: Any,
) -> Response:
    context: Context = request.app.state.context
    values.setdefault("notice", NOTICES.get(request.query_params.get("done", "")))
    values.setdefault("error", None)
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "csrf": csrf_token(context, user) if user and user.session_id else "",
            "path": request.url.path,
            **values,
        },
        status_code=status_code,
    )


def back(path: str, notice: str) -> RedirectResponse:
    """After a successful POST: see the page again, with what happened (post/redirect/get)."""
    separator = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{separator}done={quote(notice)}", status_code=303)


def local_path(value: str | None, default: str) -> str:
    """Only a path on this site: never `//host` or `https://…`, which would be an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def now() -> datetime:
    return datetime.now(UTC)
