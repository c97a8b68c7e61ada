"""What guards the sign-in form: its CSRF token before there is a session, the throttle on
failed attempts, and the record of each attempt in the audit log and the log (the name and the
address, never the token)."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadData, URLSafeSerializer

from store.audit import audit
from store.users import NAME, get_user
from web.auth import mac
from web.context import WebContext
from web.sessions import now

log = logging.getLogger(__name__)

LOGIN_COOKIE = "coachflow_login"
LOGIN_FORM_SECONDS = 3600


def _serializer(context: WebContext) -> URLSafeSerializer:
    return URLSafeSerializer(context.secret_key, salt="coachflow-login")


def _nonce(request: Request, context: WebContext, fresh_for: float) -> str | None:
    """The sign-in cookie's nonce while it has more than `fresh_for` seconds left."""
    try:
        data = _serializer(context).loads(request.cookies.get(LOGIN_COOKIE, ""))
        nonce, issued = str(data["nonce"]), float(data["at"])
    except (BadData, KeyError, TypeError, ValueError):
        return None
    return nonce if now(request) - issued < LOGIN_FORM_SECONDS - fresh_for else None


def form_nonce(request: Request, context: WebContext) -> tuple[str, bool]:
    """The sign-in cookie's nonce while it has half its life left, else a new one (True)."""
    nonce = _nonce(request, context, fresh_for=LOGIN_FORM_SECONDS / 2)
    return (nonce, False) if nonce else (secrets.token_urlsafe(16), True)


def form_token(context: WebContext, nonce: str) -> str:
    """The sign-in form's CSRF token (a double submit): an HMAC of the nonce in a short-lived
    cookie, which a page on another site can neither read nor send along with its post."""
    return mac(context, "login", nonce)


def set_form_cookie(response: Response, request: Request, context: WebContext, nonce: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        _serializer(context).dumps({"nonce": nonce, "at": int(now(request))}),
        max_age=LOGIN_FORM_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/login",
    )


def form_problem(request: Request, context: WebContext, token: str) -> str | None:
    """Why a sign-in did not come from this site's own, recent sign-in form, if it did not."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return "csrf: a sign-in posted from another site"
    nonce = _nonce(request, context, fresh_for=0)
    expected = form_token(context, nonce or "")
    if nonce is None or not hmac.compare_digest(token.encode(), expected.encode()):
        return "csrf: the sign-in form is missing, expired or from another site"
    return None


async def record(context: WebContext, action: str, name: str, address: str, **details: Any) -> None:
    """One audit entry, in a transaction of its own, and one log line. The name only when it is
    a user's: anything else (a token or a password pasted into the name field, a typo) is
    recorded and logged as `-`, so what was typed there is never kept."""
    async with context.sessions() as session, session.begin():
        known = NAME.match(name) is not None and await get_user(session, name) is not None
        shown = name if known else "-"
        await audit(session, shown, action, f"user:{shown}", {"address": address, **details})
    level = logging.INFO if action == "user.login" else logging.WARNING
    log.log(level, "%s: %r from %s%s", action, shown, address, f" {details}" if details else "")
