"""Headers on every response, the JSON API's and every error's as on the pages: no MIME
sniffing, no framing, no referrer to other sites, nothing kept by caches (static files aside),
and no `server` header naming the software. A response the app already gave one of these keeps
its own; an exception nothing handled is answered 500 here, with the headers, then re-raised
for the server to log."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
NO_STORE = {"Cache-Control": "no-store"}
STATIC = "/static/"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = HEADERS if scope["path"].startswith(STATIC) else HEADERS | NO_STORE
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                del headers["server"]
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            if not started:
                error = PlainTextResponse("Internal Server Error", status_code=500)
                await error(scope, receive, with_headers)
            raise
