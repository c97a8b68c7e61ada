"""Who is asking: a bearer token (the API) or a signed, HTTP-only session cookie (the pages,
web/sessions.py), resolved against the user directory; and the CSRF token that every page form
carries. Failed bearer tokens count against the client's address (web/throttle.py); a valid
one is taken whatever that count."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from hashlib import sha256
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from domain.people import Actor
from store.users import actor_of, get_user, user_by_token
from web import sessions
from web.context import Context, WebContext
from web.sessions import SESSION_COOKIE, now
from web.throttle import address_key, address_of, throttle_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    actor: Actor
    session_id: str | None = None

    @property
    def name(self) -> str:
        return self.actor.id

    @property
    def role(self) -> str:
        return self.actor.role


def forbidden(message: str) -> HTTPException:
    return HTTPException(403, detail={"error": "Forbidden", "message": message})


def too_many(wait: int, what: str) -> HTTPException:
    return HTTPException(
        429,
        detail={
            "error": "TooManyAttempts",
            "message": f"{what}: too many failed attempts; retry after {wait} s",
        },
        headers={"Retry-After": str(wait)},
    )


def mac(context: WebContext, purpose: str, value: str) -> str:
    key = context.secret_key.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), sha256).hexdigest()


def csrf_token(context: WebContext, user: User) -> str:
    """Bound to the session, so a token from another session never passes."""
    return mac(context, "csrf", str(user.session_id))


def check_csrf(context: WebContext, user: User, token: str | None) -> None:
    if user.session_id is None:
        return
    if not token or not hmac.compare_digest(token.encode(), csrf_token(context, user).encode()):
        raise forbidden("csrf: token missing or wrong")


async def _from_bearer(request: Request, context: WebContext, header: str) -> User | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    throttle, address, at = throttle_of(request.app), address_of(request), now(request)
    # The token is looked up first: a valid one is always taken, even from a locked address
    # (a NAT, a proxy), so a stranger's wrong tokens never lock out a working client. Only a
    # failed lookup meets the lock; it is checked and counted with no await in between, so
    # concurrent failures are each counted and at most the allowance are answered 401.
    async with context.sessions() as session:
        row = await user_by_token(session, token.strip())
    if row is None:
        wait = throttle.retry_after([address_key(address)], at)
        if wait:
            raise too_many(wait, "authorization")
        locked = throttle.failed([address_key(address)], at)
        log.warning("bearer token refused from %s (address locked for %s s)", address, locked)
        return None
    return User(actor_of(row))


async def _from_cookie(request: Request, context: WebContext, cookie: str) -> User | None:
    session = sessions.read(context.secret_key, cookie)
    if session is None:
        return None
    async with context.sessions() as db:
        row = await get_user(db, session.user)
    at = now(request)
    if row is None or not sessions.live(session, row, at):
        return None
    sessions.renew_if_due(request, context.secret_key, session, at)
    return User(actor_of(row), session_id=session.sid)


async def optional_user(request: Request, context: Context) -> User | None:
    header = request.headers.get("authorization")
    if header:
        return await _from_bearer(request, context, header)
    cookie = request.cookies.get(SESSION_COOKIE)
    return await _from_cookie(request, context, cookie) if cookie else None


async def bearer_user(request: Request, context: Context) -> User | None:
    """The API takes bearer tokens only: a cookie would need a CSRF check on every call."""
    header = request.headers.get("authorization")
    return await _from_bearer(request, context, header) if header else None


async def current_user(user: Annotated[User | None, Depends(bearer_user)]) -> User:
    if user is None:
        raise HTTPException(
            401,
            detail={
                "error": "Unauthorized",
                "message": "authorization: a valid bearer token is required",
            },
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def require_role(*roles: str):
    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise HTTPException(
                403,
                detail={"error": "Forbidden", "message": f"role: needs {' or '.join(roles)}"},
            )
        return user

    return dependency


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
Lead = Annotated[User, Depends(require_role("lead"))]
Admin = Annotated[User, Depends(require_role("admin"))]
