"""The pages' session: a signed, HTTP-only cookie holding the user's name, the session version
and role the user had at sign-in, when the session began and when it was last renewed.

A session ends when the user's version or role in the directory has moved on (signing out, a
new token, a role change: store/users.py), IDLE_SECONDS after its last renewal, or
ABSOLUTE_SECONDS after sign-in, whichever comes first. A request on a session older than
RENEW_AFTER renews it (`RenewSessions` sends the cookie again).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, replace

from fastapi import Request, Response
from itsdangerous import BadData, URLSafeSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store.models import UserRow

SESSION_COOKIE = "coachflow_session"
ABSOLUTE_SECONDS = 12 * 3600
IDLE_SECONDS = 8 * 3600
RENEW_AFTER = 5 * 60
_RENEWED = "renewed_session_cookie"


@dataclass(frozen=True)
class Session:
    user: str
    sid: str
    version: int
    role: str
    began: int
    seen: int


def now(request: Request) -> float:
    """The wall clock, or the one a test set as `app.state.clock`."""
    return getattr(request.app.state, "clock", time.time)()


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="coachflow-session-v2")


def begin(row: UserRow, at: float) -> Session:
    sid = secrets.token_urlsafe(16)
    return Session(row.name, sid, row.session_version, row.role, int(at), int(at))


def read(secret_key: str, cookie: str) -> Session | None:
    try:
        data = _serializer(secret_key).loads(cookie)
        return Session(**data) if isinstance(data, dict) else None
    except (BadData, TypeError):
        return None


def live(session: Session, row: UserRow | None, at: float) -> bool:
    return (
        row is not None
        and row.session_version == session.version
        and row.role == session.role
        and at - session.began < ABSOLUTE_SECONDS
        and at - session.seen < IDLE_SECONDS
    )


def set_cookie(response: Response, request: Request, secret_key: str, session: Session) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        _serializer(secret_key).dumps(asdict(session)),
        max_age=max(0, session.began + ABSOLUTE_SECONDS - session.seen),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def renew_if_due(request: Request, secret_key: str, session: Session, at: float) -> None:
    """Have `RenewSessions` send the session again, renewed, when it is older than RENEW_AFTER."""
    if at - session.seen < RENEW_AFTER:
        return
    carrier = Response()
    set_cookie(carrier, request, secret_key, replace(session, seen=int(at)))
    setattr(request.state, _RENEWED, carrier.headers["set-cookie"].encode("latin-1"))


class RenewSessions:
    """Adds a renewed session cookie to the answer, unless the answer sets the cookie itself."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def renewing(message: Message) -> None:
            cookie = state.get(_RENEWED)
            if message["type"] == "http.response.start" and cookie:
                headers = list(message.get("headers", []))
                prefix = f"{SESSION_COOKIE}=".encode()
                if not any(k == b"set-cookie" and v.startswith(prefix) for k, v in headers):
                    message = {**message, "headers": [*headers, (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, renewing)
