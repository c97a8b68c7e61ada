"""Who is asking: a bearer token (the API) or a signed, HTTP-only session cookie (the pages),
resolved against the user directory; and the CSRF token that every page form carries."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from hashlib import sha256
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from domain.people import Actor
from store.users import actor_of, get_user, user_by_token
from web.context import Context, WebContext

SESSION_COOKIE = "coachflow_session"
SESSION_SECONDS = 12 * 3600


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


def _serializer(context: WebContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(context.secret_key, salt="coachflow-session")


def session_cookie(context: WebContext, name: str) -> str:
    return _serializer(context).dumps({"user": name, "sid": secrets.token_urlsafe(16)})


def csrf_token(context: WebContext, user: User) -> str:
    """Bound to the session, so a token from another session never passes."""
    key = context.secret_key.encode()
    return hmac.new(key, f"csrf:{user.session_id}".encode(), sha256).hexdigest()


def check_csrf(context: WebContext, user: User, token: str | None) -> None:
    if user.session_id is None:
        return
    if not token or not hmac.compare_digest(token, csrf_token(context, user)):
        raise HTTPException(
            403, detail={"error": "Forbidden", "message": "csrf: token missing or wrong"}
        )


async def _from_bearer(context: WebContext, header: str) -> User | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    async with context.sessions() as session:
        row = await user_by_token(session, token.strip())
    return User(actor_of(row)) if row else None


async def _from_cookie(context: WebContext, cookie: str) -> User | None:
    try:
        data = _serializer(context).loads(cookie, max_age=SESSION_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("user"), str):
        return None
    async with context.sessions() as session:
        row = await get_user(session, data["user"])
    return User(actor_of(row), session_id=str(data.get("sid"))) if row else None


async def optional_user(request: Request, context: Context) -> User | None:
    header = request.headers.get("authorization")
    if header:
        return await _from_bearer(context, header)
    cookie = request.cookies.get(SESSION_COOKIE)
    return await _from_cookie(context, cookie) if cookie else None


async def bearer_user(request: Request, context: Context) -> User | None:
    """The API takes bearer tokens only: a cookie would need a CSRF check on every call."""
    header = request.headers.get("authorization")
    return await _from_bearer(context, header) if header else None


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
